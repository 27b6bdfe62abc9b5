"""Reading client lines: the receive buffer and the command-line parser.

Rules kept here:
- RFC 2449 section 4: a command line is at most 255 octets including CRLF (`MAX_COMMAND_LINE`).  A longer
  line is dropped up to its end without being stored, and reported once as too long; reading goes on.
- RFC 5034 section 4: a SASL response line is not a command and may be longer; `MAX_SASL_LINE` bounds it.
- Lines end with CRLF; a bare LF is accepted too (be liberal in what you accept), and never sent.
- Keywords are case-insensitive (RFC 1939 section 3).  Arguments are separated by spaces; PASS takes the
  rest of the line so that a password may contain spaces (RFC 1939 section 7).
"""

from __future__ import annotations

from collections.abc import Callable

from ..linebuffer import TOO_LONG, LineBuffer
from ._events import (
    Apop,
    Auth,
    BadCommand,
    Capa,
    Command,
    Dele,
    List,
    Noop,
    Pass,
    Quit,
    Retr,
    Rset,
    Stat,
    Stls,
    Top,
    Uidl,
    User,
)
from ._quirks import COMPLIANT, Pop3Quirks

__all__ = ["MAX_COMMAND_LINE", "MAX_SASL_LINE", "TOO_LONG", "LineBuffer", "parse_command"]

MAX_COMMAND_LINE = 255
"""RFC 2449 section 4: commands, CRLF included, are at most 255 octets."""

MAX_SASL_LINE = 12_288
"""Bound on an AUTH continuation line.  RFC 5034 leaves it open; 12 KiB fits Kerberos/XOAUTH2 tokens."""

_MAX_MSG_DIGITS = 10  # a message number beyond 10 digits names no message any mailbox here can hold


def _printable(text: str, limit: int = 40) -> str:
    """A safe excerpt of client text for an `-ERR` line: printable ASCII only, bounded."""
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in text[:limit])
    return cleaned + ("..." if len(text) > limit else "")


def _msg_number(verb: str, arg: str) -> int | BadCommand:
    if not arg.isascii() or not arg.isdigit() or len(arg) > _MAX_MSG_DIGITS:
        return BadCommand(f"{verb}: invalid message number '{_printable(arg)}'", verb)
    return int(arg)


def _no_args(cls: type[Command]) -> Callable[[list[str], str], Command | BadCommand]:
    def parse(args: list[str], rest: str) -> Command | BadCommand:
        if args:
            return BadCommand(f"{cls.verb} takes no arguments", cls.verb)
        return cls()

    return parse


def _user(args: list[str], rest: str) -> Command | BadCommand:
    if len(args) != 1:
        return BadCommand("USER needs exactly one argument: USER name", "USER")
    return User(args[0])


def _pass(args: list[str], rest: str) -> Command | BadCommand:
    if not rest:
        return BadCommand("PASS needs an argument: PASS password", "PASS")
    return Pass(rest)


def _apop(args: list[str], rest: str) -> Command | BadCommand:
    if len(args) != 2:
        return BadCommand("APOP needs two arguments: APOP name digest", "APOP")
    digest = args[1].lower()
    if len(digest) != 32 or any(ch not in "0123456789abcdef" for ch in digest):
        return BadCommand("APOP digest must be 32 hexadecimal digits", "APOP")
    return Apop(args[0], digest)


def _auth(args: list[str], rest: str) -> Command | BadCommand:
    if not args:
        return Auth(None)
    if len(args) > 2:
        return BadCommand("AUTH takes a mechanism and an optional initial response", "AUTH")
    return Auth(args[0].upper(), args[1] if len(args) == 2 else None)


def _optional_msg(cls: type[List] | type[Uidl]) -> Callable[[list[str], str], Command | BadCommand]:
    def parse(args: list[str], rest: str) -> Command | BadCommand:
        if not args:
            return cls()
        if len(args) > 1:
            return BadCommand(f"{cls.verb} takes at most one argument", cls.verb)
        msg = _msg_number(cls.verb, args[0])
        return msg if isinstance(msg, BadCommand) else cls(msg)

    return parse


def _one_msg(cls: type[Retr] | type[Dele]) -> Callable[[list[str], str], Command | BadCommand]:
    def parse(args: list[str], rest: str) -> Command | BadCommand:
        if len(args) != 1:
            return BadCommand(f"{cls.verb} needs exactly one argument: {cls.verb} msg", cls.verb)
        msg = _msg_number(cls.verb, args[0])
        return msg if isinstance(msg, BadCommand) else cls(msg)

    return parse


def _top(args: list[str], rest: str) -> Command | BadCommand:
    if len(args) != 2:
        return BadCommand("TOP needs two arguments: TOP msg lines", "TOP")
    msg = _msg_number("TOP", args[0])
    if isinstance(msg, BadCommand):
        return msg
    if not args[1].isascii() or not args[1].isdigit() or len(args[1]) > _MAX_MSG_DIGITS:
        return BadCommand(f"TOP: invalid line count '{_printable(args[1])}'", "TOP")
    return Top(msg, int(args[1]))


PARSERS: dict[str, Callable[[list[str], str], Command | BadCommand]] = {
    "USER": _user,
    "PASS": _pass,
    "APOP": _apop,
    "AUTH": _auth,
    "CAPA": _no_args(Capa),
    "STLS": _no_args(Stls),
    "QUIT": _no_args(Quit),
    "STAT": _no_args(Stat),
    "NOOP": _no_args(Noop),
    "RSET": _no_args(Rset),
    "LIST": _optional_msg(List),
    "UIDL": _optional_msg(Uidl),
    "RETR": _one_msg(Retr),
    "DELE": _one_msg(Dele),
    "TOP": _top,
}


def parse_command(line: bytes, quirks: Pop3Quirks = COMPLIANT) -> Command | BadCommand:
    """Parse one command line (terminator already removed)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return BadCommand("command line is not valid UTF-8")
    verb, _sep, rest = text.partition(" ")
    if not verb.strip():
        return BadCommand("empty command line")
    key = verb if quirks.case_sensitive else verb.upper()
    parser = PARSERS.get(key)
    if parser is None or key in quirks.disabled:
        if quirks.lax_states:
            return BadCommand(f"{_printable(verb, 20)} not implemented", verb)
        return BadCommand(f"unknown command '{_printable(verb, 20)}'")
    return parser(rest.split(), rest)
