"""Sans-IO SMTP server core (RFC 5321 with PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8,
CHUNKING, STARTTLS and AUTH): events, states, parser, writer and `SmtpConnection`.  It imports neither trio
nor socket; `mockmail/server/smtp_session.py` drives it over a stream.
"""

from ._connection import DEFAULT_MAX_MESSAGE, SmtpConnection, lines_fit
from ._errors import LocalProtocolError, SmtpError
from ._events import (
    NEED_DATA,
    Auth,
    AuthResponse,
    BadCommand,
    Bdat,
    Command,
    ConnectionClosed,
    Data,
    Ehlo,
    Event,
    Helo,
    Help,
    Mail,
    MessageData,
    NeedData,
    Noop,
    Quit,
    Rcpt,
    Reply,
    Rset,
    StartTls,
    TlsReady,
    Vrfy,
)
from ._parser import MAX_COMMAND_LINE, MAX_SASL_LINE, MAX_TEXT_LINE, parse_command, parse_path
from ._state import ALLOWED, State
from ._transcript import CARRIES_CONTENT
from ._transcript import describe as describe_event
from ._writer import MAX_REPLY_LINE, write

__all__ = [
    "ALLOWED",
    "CARRIES_CONTENT",
    "DEFAULT_MAX_MESSAGE",
    "MAX_COMMAND_LINE",
    "MAX_REPLY_LINE",
    "MAX_SASL_LINE",
    "MAX_TEXT_LINE",
    "NEED_DATA",
    "Auth",
    "AuthResponse",
    "BadCommand",
    "Bdat",
    "Command",
    "ConnectionClosed",
    "Data",
    "Ehlo",
    "Event",
    "Helo",
    "Help",
    "LocalProtocolError",
    "Mail",
    "MessageData",
    "NeedData",
    "Noop",
    "Quit",
    "Rcpt",
    "Reply",
    "Rset",
    "SmtpConnection",
    "SmtpError",
    "StartTls",
    "State",
    "TlsReady",
    "Vrfy",
    "describe_event",
    "lines_fit",
    "parse_command",
    "parse_path",
    "write",
]
