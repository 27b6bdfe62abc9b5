"""Server settings: one frozen struct, filled from command-line options and `MOCKMAIL_*` variables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import Meta

from ..pop3 import MAX_COMMAND_LINE
from ..protocols import PROTOCOLS, with_protocol_fields
from ..tenancy.specs import Count, MessageSize, Octets, Port, RequestRate, SessionCount

__all__ = ["Settings", "SettingsBase"]

MiB = 1024 * 1024


class SettingsBase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the server runs; every field has an embedded default."""

    host: str = "127.0.0.1"
    """Address the REST API and every tenant listener bind to."""
    api_port: Port = 8025
    public_host: str | None = None
    """Host name reported to clients in tenant addresses; by default `host` (127.0.0.1 for a wildcard)."""
    config: str | None = None
    """TOML file declaring tenants, mailboxes and messages to create at start."""
    config_root: str | None = None
    """Folder that the config's message files must lie in; by default the config file's own folder."""
    tls: Literal["off", "auto"] = "off"
    """`auto` makes a self-signed certificate at start (unless tls_cert/tls_key are given)."""
    tls_cert: str | None = None
    tls_key: str | None = None
    idle_timeout: Annotated[float, Meta(gt=0)] = 600.0
    """RFC 1939 section 3 autologout: at least 10 minutes in production; smaller for tests."""
    line_timeout: Annotated[float, Meta(gt=0)] = 60.0
    """Seconds a client may take to finish a line it has begun (never more than idle_timeout)."""
    handshake_timeout: Annotated[float, Meta(gt=0)] = 10.0
    max_command_line: Annotated[int, Meta(ge=16, le=65536)] = MAX_COMMAND_LINE
    max_sessions: Annotated[int, Meta(ge=1, le=1_000_000)] = 10_000
    """Concurrent POP3 sessions per tenant, unless the tenant sets its own."""
    transcript_limit: Annotated[int, Meta(ge=1, le=1_000_000)] = 1000
    """Finished POP3 session transcripts kept per tenant (the oldest go first)."""
    max_message_size: Annotated[int, Meta(ge=1024)] = 32 * MiB
    max_request_size: Annotated[int, Meta(ge=1024)] = 64 * MiB
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    """`json`: one JSON object per line, and a line per session end and per API request."""
    admin_token: Annotated[str, Meta(min_length=16)] | None = None
    """Every API call (but health, ready, the contract and the CA) then needs a bearer token."""
    insecure: bool = False
    """Serve an open API (no admin token) on an address other than loopback."""
    max_tenants: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    """Tenants the server holds at most; None: as many as file descriptors allow."""
    port_range: Annotated[str, Meta(pattern=r"^[0-9]{1,5}-[0-9]{1,5}$")] | None = None
    """`LOW-HIGH`: where the ports the system picks (a port of 0 or none) come from."""
    metrics_public: bool = False
    """`GET /metrics` without the admin token (for a scraper on a trusted network)."""
    no_metrics_tenant_labels: bool = False
    """Sum metrics over tenants instead of one series per tenant (services with many tenants)."""
    data_dir: str | None = None
    """Folder of the SQLite store that keeps tenants, mailboxes, messages and fault state across restarts;
    None keeps everything in memory."""
    store: Annotated[str, Meta(pattern=r"^postgres(?:ql)?://")] | None = None
    """`postgresql://` URL of a PostgreSQL database that keeps what `data_dir` keeps (instead of it):
    needs the `postgresql` extra; None: `data_dir`, or memory."""
    replica_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")] | None = None
    """With `store`: this process's name among the replicas on that database; None: `HOST-PID`."""
    lease_seconds: Annotated[float, Meta(ge=0.5, le=3600)] = 10.0
    """With `store`: how long a replica's hold on a tenant lasts unless renewed (renewed every third)."""
    advertise_url: Annotated[str, Meta(pattern=r"^https?://[^/]+$")] | None = None
    """With `store`: how the other replicas reach this one's REST API; None: `http://host:api_port`."""
    fsync: bool = False
    """Sync the store's log at every commit (power-loss safe); otherwise a commit survives a process crash."""
    tenant_limit_mailboxes: Count | None = None
    """Default `limits.mailboxes` of a tenant that sets none (None: no limit); the others alike, each with
    the range of its `TenantLimits` field."""
    tenant_limit_messages: Count | None = None
    tenant_limit_bytes: Octets | None = None
    tenant_limit_message_size: MessageSize | None = None
    tenant_limit_api_rps: RequestRate | None = None
    auth_failure_delay: Annotated[float, Meta(ge=0, le=60)] = 0.5
    """Seconds a failed POP3 or SMTP login waits before its reply (that connection only)."""
    workers: Annotated[int, Meta(ge=1, le=256)] = 1
    """Worker processes that own the tenants (1: this one process serves everything; see
    `mockmail.workers`)."""
    worker_id: Annotated[int, Meta(ge=0)] = 0
    """Which worker this process is (set by the supervisor for its workers, never an option; 0 alone)."""

    @property
    def ports(self) -> range | None:
        """`port_range` as a range of ports, or None."""
        if self.port_range is None:
            return None
        low, _, high = self.port_range.partition("-")
        return range(int(low), int(high) + 1)

    def __post_init__(self) -> None:
        ports = self.ports
        if ports is not None and not (1 <= ports.start <= ports.stop - 1 <= 65535):
            raise ValueError(
                f"port_range {self.port_range!r} must be LOW-HIGH with 1 <= LOW <= HIGH <= 65535"
            )

    @property
    def advertised_host(self) -> str:
        if self.public_host:
            return self.public_host
        return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)

    @property
    def tls_enabled(self) -> bool:
        return self.tls == "auto" or bool(self.tls_cert)


_SESSION_LIMITS: list[tuple[str, Any, Any]] = [
    (f"tenant_limit_{entry.limit}", SessionCount | None, None) for entry in PROTOCOLS
]

if TYPE_CHECKING:
    Settings = SettingsBase
else:
    Settings = with_protocol_fields(
        "Settings", SettingsBase, _SESSION_LIMITS, after="tenant_limit_message_size"
    )
"""The settings, with a `tenant_limit_<protocol>_sessions` default for every registered protocol."""
