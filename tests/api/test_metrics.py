"""`GET /metrics`: real POP3 and SMTP sessions and REST calls show up in the Prometheus figures."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from mockmail.api import create_app
from mockmail.config.settings import Settings
from mockmail.tenancy.registry import Registry
from mockmail.tenancy.service import Service
from tests.wire import SmtpWire, WireClient, send_mail

from .conftest import Api, problem


def samples(body: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(figures: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return figures.get((name, frozenset(labels.items())), 0.0)


async def traffic(api: Api) -> dict[str, Any]:
    """A tenant with a mailbox, one REST-seeded message, one POP3 session with a failed and a good
    command, and one SMTP message."""
    view = (await api.post("/api/v1/tenants", {"name": "acme"})).json()
    await api.put("/api/v1/tenants/acme/mailboxes/bob", {"password": "pw"})
    await api.post("/api/v1/tenants/acme/mailboxes/bob/messages", {"subject": "seeded", "text": "hi"})
    stream = await trio.open_tcp_stream("127.0.0.1", view["pop3"]["port"])
    pop = WireClient(stream)
    await pop.line()
    assert (await pop.cmd("NOOP")).startswith(b"-ERR")  # before login: refused
    await pop.cmd("USER bob")
    assert (await pop.cmd("PASS pw")).startswith(b"+OK")
    assert (await pop.cmd("QUIT")).startswith(b"+OK")
    await stream.aclose()
    stream = await trio.open_tcp_stream("127.0.0.1", view["smtp"]["port"])
    smtp = SmtpWire(stream)
    await smtp.reply()
    await smtp.cmd("EHLO c")
    assert (await smtp.cmd("RCPT TO:<bob@x.test>")).startswith(b"503")  # out of sequence
    assert (await send_mail(smtp, "a@x.test", ["bob@x.test"], b"Subject: s\r\n\r\nb\r\n")).startswith(b"250")
    await smtp.cmd("QUIT")
    await stream.aclose()
    return view


async def test_sessions_commands_deliveries_and_the_store_are_counted(api: Api, registry: Registry) -> None:
    await traffic(api)
    with trio.fail_after(10):  # the sessions end on their own once the client has gone
        while any(registry.metrics.active.values()):
            await trio.sleep(0.01)
    response = await api.get("/metrics")
    assert response.status == 200 and response.content_type == "text/plain"
    figures = samples(response.body)
    assert value(figures, "mockmail_sessions_total", protocol="pop3", tenant="acme") == 1
    assert value(figures, "mockmail_sessions_total", protocol="smtp", tenant="acme") == 1
    assert value(figures, "mockmail_sessions_active", protocol="pop3", tenant="acme") == 0
    assert value(figures, "mockmail_commands_total", protocol="pop3", verb="NOOP", outcome="error") == 1
    assert value(figures, "mockmail_commands_total", protocol="pop3", verb="PASS", outcome="ok") == 1
    assert value(figures, "mockmail_commands_total", protocol="smtp", verb="RCPT", outcome="permanent") == 1
    assert value(figures, "mockmail_commands_total", protocol="smtp", verb="DATA-END", outcome="ok") == 1
    assert value(figures, "mockmail_messages_delivered_total", via="api", tenant="acme") == 1
    assert value(figures, "mockmail_messages_delivered_total", via="smtp", tenant="acme") == 1
    assert value(figures, "mockmail_stored_messages", tenant="acme") == 2
    stored = registry.get("acme").store.get("bob")
    assert value(figures, "mockmail_stored_bytes", tenant="acme") == stored.octets
    assert value(figures, "mockmail_received_bytes_total", protocol="smtp", tenant="acme") > 40
    assert value(figures, "mockmail_sent_bytes_total", protocol="pop3", tenant="acme") > 20
    route = "/api/v1/tenants/<tenant>/mailboxes/<user>/messages"
    assert value(figures, "mockmail_api_requests_total", route=route, status="201") == 1
    assert value(figures, "mockmail_api_request_seconds_count", route=route) == 1


async def test_faults_are_counted_by_knob(api: Api, registry: Registry) -> None:
    view = (await api.post("/api/v1/tenants", {"name": "acme"})).json()
    assert (await api.put("/api/v1/tenants/acme/faults", {"smtp": {"greeting": {"code": 554}}})).status == 200
    stream = await trio.open_tcp_stream("127.0.0.1", view["smtp"]["port"])
    await stream.receive_some(1000)
    await stream.aclose()
    with trio.fail_after(10):
        while not registry.metrics.faults:
            await trio.sleep(0.01)
    figures = samples((await api.get("/metrics")).body)
    fired = {
        dict(labels)["knob"]: v
        for (name, labels), v in figures.items()
        if name == "mockmail_faults_fired_total"
    }
    assert fired == {"smtp.greeting": 1.0}, fired


class TestWithoutTenantLabels:
    @pytest.fixture(name="settings")
    def _settings(self) -> Settings:
        return Settings(api_port=0, no_metrics_tenant_labels=True)

    async def test_figures_are_summed_over_tenants(self, api: Api) -> None:
        await traffic(api)
        await api.post("/api/v1/tenants", {"name": "other"})
        body = (await api.get("/metrics")).body
        figures = samples(body)
        assert b"tenant=" not in body
        assert value(figures, "mockmail_stored_messages") == 2
        assert value(figures, "mockmail_messages_delivered_total", via="smtp") == 1


ADMIN = "metrics-admin-token-0123456789"


@pytest.mark.parametrize("public", [False, True])
async def test_metrics_need_the_admin_token_unless_public(registry_factory: Any, public: bool) -> None:
    api = await registry_factory(Settings(api_port=0, admin_token=ADMIN, metrics_public=public))
    created = await api.post(
        "/api/v1/tenants", {"name": "acme"}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    tenant = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await api.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"})).status == 200
    if public:
        assert (await api.get("/metrics")).status == 200
        assert (await api.get("/metrics", headers=tenant)).status == 200
    else:
        problem(await api.get("/metrics"), 401)
        problem(await api.get("/metrics", headers=tenant), 403)


@pytest.fixture(name="registry_factory")
async def _registry_factory(nursery: trio.Nursery) -> Any:
    registries: list[Registry] = []

    async def make(settings: Settings) -> Api:
        registry: Registry = await nursery.start(Registry(settings).run)
        registries.append(registry)
        return Api(create_app(Service(registry)).test_client())

    yield make
    for registry in registries:
        registry.shutdown()
