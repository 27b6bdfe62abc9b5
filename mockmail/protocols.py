"""The protocols a tenant serves, as data: one `Protocol` entry each, in `PROTOCOLS`.

Every layer above the protocol cores iterates over this registry instead of naming protocols: the tenant
opens one listener per `Listener` of every entry, the REST schemas get a `<listener>_port` field, an
endpoint and a `<protocol>_sessions` limit per entry, the metrics count under `Protocol.name`, transcripts
describe client events with `Protocol.describe`, and the CLI and the web page list the listeners.  Adding a
protocol adds an entry here and its packages (core, session, hooks); no other layer changes.

The session factory is named, not imported (`session = "module:function"`), so that the schemas can read
this registry without importing the servers that depend on them.
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from . import imap, pop3, smtp

__all__ = [
    "LISTENERS",
    "PROTOCOLS",
    "Listener",
    "Protocol",
    "ProtocolName",
    "Session",
    "SessionFactory",
    "SmtpAuth",
    "SpecField",
    "describe_event",
    "protocol",
    "with_protocol_fields",
]


class Session(typing.Protocol):
    """What the tenant needs of a session of any protocol."""

    @property
    def user(self) -> str | None: ...
    @property
    def faults_fired(self) -> Any: ...
    @property
    def recorder(self) -> Any: ...

    async def run(self) -> str:
        """Serve the connection until it ends; return why it ended."""
        ...


class SessionFactory(typing.Protocol):
    """`open_session(stream, context, implicit_tls)` of a protocol's session module; `context` is the
    tenant's `mockmail.server.context.TenantContext`."""

    def __call__(self, stream: Any, context: Any, implicit_tls: bool) -> Session: ...


SmtpAuth = Literal["none", "optional", "required"]
"""A tenant's `smtp_auth` option: who must authenticate before MAIL (see the SMTP entry's field)."""


@dataclass(frozen=True, slots=True)
class Listener:
    """One listening port of a protocol: `pop3` (plain, upgradable with STLS) or `pop3s` (implicit TLS)."""

    name: str
    """The endpoint's key in a tenant's JSON, and `<name>_port` in its spec."""
    implicit_tls: bool
    """TLS from the first octet (RFC 8314); such a listener exists only when the server runs with TLS."""
    description: str
    """What the spec's port field and the view's endpoint say about it."""


@dataclass(frozen=True, slots=True)
class SpecField:
    """A tenant option that belongs to one protocol (SMTP's `smtp_auth`), shown in the tenant's JSON too."""

    name: str
    type: Any
    default: Any
    description: str


@dataclass(frozen=True)
class Protocol:
    """A protocol mockmail serves per tenant."""

    name: str
    """`pop3`: the transcript's protocol, the metrics label and the `<name>_sessions` limit."""
    title: str
    """`POP3`: how logs and help texts name it."""
    listeners: tuple[Listener, ...]
    session: str
    """`module:function` of the session factory, `(stream, TenantContext, implicit_tls) -> session`."""
    busy: bytes
    """The greeting-time refusal written when the tenant holds its most sessions, then the connection closes."""
    describe: Callable[[object], str | None]
    """How a transcript shows one of its client events, secrets redacted (None: not an event of this protocol)."""
    carries_content: frozenset[type] = frozenset()
    """Client events that hold message content: transcripts describe them at once instead of keeping them."""
    fields: tuple[SpecField, ...] = ()
    """Tenant options of this protocol's own."""
    limit_description: str = ""

    @property
    def limit(self) -> str:
        """The `TenantLimits` field that caps this protocol's concurrent sessions."""
        return f"{self.name}_sessions"

    @cached_property
    def factory(self) -> SessionFactory:
        """The session factory, imported on first use."""
        module, _, name = self.session.partition(":")
        made: SessionFactory = getattr(importlib.import_module(module), name)
        return made


PROTOCOLS: tuple[Protocol, ...] = (
    Protocol(
        name="pop3",
        title="POP3",
        listeners=(
            Listener("pop3", False, "POP3 (RFC 1939), with STLS when the server runs with TLS."),
            Listener("pop3s", True, "POP3S: POP3 over implicit TLS; only when the server runs with TLS."),
        ),
        session="mockmail.server.pop3_session:open_session",
        busy=b"-ERR [SYS/TEMP] too many sessions on this tenant, try later\r\n",
        describe=pop3.describe_event,
        limit_description="Concurrent POP3 and POP3S sessions; one more is greeted `-ERR [SYS/TEMP]` and closed.",
    ),
    Protocol(
        name="smtp",
        title="SMTP",
        listeners=(
            Listener("smtp", False, "SMTP (RFC 5321), with STARTTLS when the server runs with TLS."),
            Listener(
                "smtps",
                True,
                'SMTPS ("submissions", RFC 8314): SMTP over implicit TLS; only when the server runs with TLS.',
            ),
        ),
        session="mockmail.server.smtp_session:open_session",
        busy=b"421 4.7.0 too many sessions on this tenant, try later\r\n",
        describe=smtp.describe_event,
        carries_content=smtp.CARRIES_CONTENT,
        fields=(
            SpecField(
                "smtp_auth",
                SmtpAuth,
                "none",
                "`none`: AUTH is offered and accepts any credentials, and no one needs it; `optional`: AUTH "
                "checks the mailbox passwords, and mail without it is accepted; `required`: MAIL before a "
                "successful AUTH gets `530 5.7.0`.",
            ),
            SpecField(
                "smtp_plaintext_auth",
                bool,
                False,
                "Allow AUTH outside TLS in `optional` and `required` mode.  Otherwise, when the server runs "
                "with TLS, AUTH is neither offered nor accepted (`538 5.7.11`) until STARTTLS or on the SMTPS "
                "port; a server without TLS has nothing to ask for and takes AUTH in plaintext.",
            ),
        ),
        limit_description="Concurrent SMTP and SMTPS sessions; one more is greeted `421 4.7.0` and closed.",
    ),
    Protocol(
        name="imap",
        title="IMAP",
        listeners=(
            Listener(
                "imap",
                False,
                "IMAP (RFC 9051 IMAP4rev2, and IMAP4rev1), with STARTTLS when the server runs with TLS.",
            ),
            Listener(
                "imaps", True, "IMAPS: IMAP over implicit TLS (RFC 8314); only when the server runs with TLS."
            ),
        ),
        session="mockmail.server.imap_session:open_session",
        busy=b"* BYE [UNAVAILABLE] too many sessions on this tenant, try later\r\n",
        describe=imap.describe_event,
        carries_content=imap.CARRIES_CONTENT,
        fields=(
            SpecField(
                "imap_login_requires_tls",
                bool,
                False,
                "LOGIN and AUTHENTICATE need TLS first: the plain port advertises LOGINDISABLED until STARTTLS.",
            ),
        ),
        limit_description="Concurrent IMAP and IMAPS sessions; one more is greeted `* BYE [UNAVAILABLE]` and closed.",
    ),
)

LISTENERS: tuple[Listener, ...] = tuple(listener for entry in PROTOCOLS for listener in entry.listeners)
"""Every listener of every protocol, in registry order."""

_BY_NAME = {entry.name: entry for entry in PROTOCOLS}

if TYPE_CHECKING:
    ProtocolName = str
else:
    ProtocolName = Literal[tuple(entry.name for entry in PROTOCOLS)]
"""`pop3`, `smtp`, ...: the name of a registered protocol (an enum in the JSON schemas)."""


def protocol(name: str) -> Protocol:
    """The entry of that name.

    Raises:
        KeyError: no such protocol.
    """
    return _BY_NAME[name]


def describe_event(protocol_name: str, event: object) -> str:
    """A client event as a transcript shows it, by the protocol that parsed it."""
    entry = _BY_NAME.get(protocol_name)
    text = entry.describe(event) if entry is not None else None
    return text if text is not None else repr(event)


def _behaviour(base: type) -> dict[str, Any]:
    """The methods and properties `base` defines, for the struct made from it."""
    return {
        key: value
        for key, value in vars(base).items()
        if key == "__post_init__"
        or ((not key.startswith("__") and callable(value)) or isinstance(value, property))
    }


def with_protocol_fields(
    name: str,
    base: type[msgspec.Struct],
    fields: Sequence[tuple[str, Any, Any]],
    *,
    after: str | None = None,
    **options: Any,
) -> Any:
    """The struct `name`: `base`'s fields with the fields each protocol brings inserted after the field
    `after` (at the end by default), and `base`'s docstring, methods and properties.

    The static `base` holds what every protocol shares; the type checker sees only those fields, and code
    reads a protocol's own (`smtp_auth`, `pop3_port`) with `getattr` by the names in this registry.  Every
    struct made here is frozen, keyword-only and forbids unknown fields, as the style requires.
    """
    own = [
        (
            info.name,
            info.type,
            info.default
            if info.default_factory is msgspec.NODEFAULT
            else msgspec.field(default_factory=info.default_factory),
        )
        for info in msgspec.structs.fields(base)
    ]
    refined = {entry[0]: entry for entry in fields}  # a field of `base` given again takes the new type
    own = [refined.pop(entry[0], entry) for entry in own]
    cut = len(own) if after is None else [entry[0] for entry in own].index(after) + 1
    made = msgspec.defstruct(
        name,
        own[:cut] + list(refined.values()) + own[cut:],
        module=base.__module__,
        namespace={"__doc__": base.__doc__, **_behaviour(base)},
        frozen=True,
        kw_only=True,
        forbid_unknown_fields=True,
        **options,
    )
    return made
