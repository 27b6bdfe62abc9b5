"""`/api/v1/health`, `/api/v1/ready`, `/api/v1/openapi.yaml` and `/api/v1/tls/ca.pem`."""

from __future__ import annotations

import os

from quart import Blueprint, Response

from mockmail import __version__
from mockmail.errors import DomainError
from mockmail.observe.resources import MONITOR, descriptor_limit, open_descriptors, running_tasks
from mockmail.tenancy.service import Service

from .http import json_response
from .openapi import load_document
from .problems import problem_response
from .schemas import Health, Ready, WorkerHealth

__all__ = ["blueprint"]


class NoCertificateAuthority(DomainError):
    status = 404
    title = "No CA certificate"
    slug = "no-ca-certificate"


def blueprint(service: Service) -> Blueprint:
    bp = Blueprint("service", __name__)
    document = load_document()

    @bp.get("/health")
    async def health() -> Response:
        tenants, sessions = service.counts()
        problem = MONITOR.current()
        return json_response(
            Health(
                status="ok" if problem is None else "degraded",
                version=__version__,
                tenants=tenants,
                sessions=sessions,
                tls=service.tls is not None,
                open_files=open_descriptors(),
                max_open_files=descriptor_limit(),
                tasks=running_tasks(),
                problem=problem,
                workers=[
                    WorkerHealth(
                        id=service.settings.worker_id,
                        pid=os.getpid(),
                        tenants=tenants,
                        state="up",
                        restarts=0,
                    )
                ],
            )
        )

    @bp.get("/ready")
    async def ready() -> Response:
        failed = service.failed_tenants()
        if failed:
            return problem_response(
                503,
                "Not ready",
                "not-ready",
                f"{len(failed)} tenant(s) have a failed listener: {', '.join(failed)}",
                tenants=failed,
            )
        return json_response(Ready(status="ready", tenants=service.counts()[0]))

    @bp.get("/openapi.yaml")
    async def openapi() -> Response:
        return Response(document, status=200, content_type="application/yaml")

    @bp.get("/tls/ca.pem")
    async def ca_certificate() -> Response:
        tls = service.tls
        if tls is None or tls.ca_pem is None:
            raise NoCertificateAuthority(
                "the server has no CA of its own: TLS is off or runs on an operator's certificate"
            )
        return Response(tls.ca_pem, status=200, content_type="application/x-pem-file")

    return bp
