"""Passing REST requests on to the process that owns what they are about (a worker, later a replica)."""

from .forward import HOP_BY_HOP, Unreachable, forward, request_headers

__all__ = ["HOP_BY_HOP", "Unreachable", "forward", "request_headers"]
