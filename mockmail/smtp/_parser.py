"""Parsing one SMTP command line (RFC 5321 section 4.1) into a command, or the reason it is refused.

Rules kept here:
- Verbs are case-insensitive ASCII.  An unknown verb is `500 5.5.1`; a verb RFC 5321 names but mockmail does
  not implement (EXPN, TURN, ...) is `502 5.5.1`; bad arguments are `501 5.5.4` (`501 5.1.3` for a bad
  address, `501 5.5.2` for text that is not UTF-8).
- Paths are in angle brackets (RFC 5321 section 4.1.2); a source route `<@a,@b:user@d>` is accepted and
  ignored (section 4.1.1.3 lets servers do so); `<>` is the null reverse-path, allowed in MAIL only.
  A space after the colon is tolerated, as most servers do.
- Lengths: local part 64 octets, domain 255, path 256 (section 4.5.3.1).
- Non-ASCII is parsed here (RFC 6531 allows UTF-8 addresses); whether a transaction may use it (the
  SMTPUTF8 parameter) is the handler's decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._events import (
    Auth,
    BadCommand,
    Bdat,
    Command,
    Data,
    Ehlo,
    Helo,
    Help,
    Mail,
    Noop,
    Quit,
    Rcpt,
    Rset,
    StartTls,
    Vrfy,
)

__all__ = ["MAX_COMMAND_LINE", "MAX_SASL_LINE", "MAX_TEXT_LINE", "parse_command", "parse_path"]

MAX_COMMAND_LINE = 512
"""RFC 5321 section 4.5.3.1.4: a command line is at most 512 octets, CRLF included."""
MAX_TEXT_LINE = 1000
"""RFC 5321 section 4.5.3.1.6: a line of message text is at most 1,000 octets, CRLF included."""
MAX_SASL_LINE = 12_288
"""RFC 4954 section 4: an AUTH exchange line may be up to 12,288 octets."""
MAX_LOCAL_PART = 64
MAX_DOMAIN = 255
MAX_PATH = 256
_MAX_BDAT_DIGITS = 18

_NOT_IMPLEMENTED = frozenset({"EXPN", "TURN", "ETRN", "ATRN", "SEND", "SOML", "SAML", "VERB", "ONEX"})
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\U0010ffff-]+"
_LOCAL = rf'(?:{_ATOM}(?:\.{_ATOM})*|"(?:[\x20\x21\x23-\x5b\x5d-\x7e\x80-\U0010ffff]|\\[\x20-\x7e])*")'
_LABEL = r"[A-Za-z0-9\x80-\U0010ffff](?:[A-Za-z0-9\x80-\U0010ffff-]*[A-Za-z0-9\x80-\U0010ffff])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[\x21-\x5a\x5e-\x7e]+\])"
_MAILBOX = re.compile(rf"({_LOCAL})@({_DOMAIN})")
_ROUTE = re.compile(rf"@{_DOMAIN}(?:,@{_DOMAIN})*:")
_KEYWORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_VALUE = re.compile(r"[\x21-\x3c\x3e-\x7e\x80-\U0010ffff]+")
_HELO_NAME = re.compile(r"[\x21-\x7e\x80-\U0010ffff]+")


def _bad(reason: str, verb: str, code: int = 501, enhanced: str = "5.5.4") -> BadCommand:
    return BadCommand(reason, code, enhanced, verb)


def _excerpt(text: str, limit: int = 40) -> str:
    """A safe excerpt of client text for a reply line: printable ASCII only, bounded."""
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in text[:limit])
    return cleaned + ("..." if len(text) > limit else "")


def parse_path(text: str, *, null_ok: bool) -> str:
    """The address inside `<...>` (route dropped), or raise `ValueError` with the reason.

    `<Postmaster>` without a domain is a valid forward-path (RFC 5321 section 4.1.1.3).
    """
    if not (text.startswith("<") and text.endswith(">")):
        raise ValueError("the address must be in angle brackets, e.g. <user@example.com>")
    inner = text[1:-1]
    if len(text) > MAX_PATH:
        raise ValueError(f"the path is over {MAX_PATH} octets")
    if inner == "":
        if null_ok:
            return ""
        raise ValueError("the null path <> is not a valid recipient")
    route = _ROUTE.match(inner)
    if route:
        inner = inner[route.end() :]
    if not null_ok and inner.lower() == "postmaster":
        return inner
    found = _MAILBOX.fullmatch(inner)
    if not found:
        raise ValueError(f"'{_excerpt(inner)}' is not an address")
    local, domain = found.groups()
    if len(local.encode()) > MAX_LOCAL_PART:
        raise ValueError(f"the local part is over {MAX_LOCAL_PART} octets")
    if len(domain.encode()) > MAX_DOMAIN:
        raise ValueError(f"the domain is over {MAX_DOMAIN} octets")
    return inner


def _split_path(text: str) -> tuple[str, str]:
    """The `<...>` path at the start of `text` (a quoted local part may hold spaces and `>`), and the rest."""
    if not text.startswith("<"):
        path, _, rest = text.partition(" ")
        return path, rest
    quoted = escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ">" and not quoted:
            return text[: index + 1], text[index + 1 :]
    return text, ""


def _params(words: list[str], verb: str) -> dict[str, str | None] | BadCommand:
    params: dict[str, str | None] = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not _KEYWORD.fullmatch(key) or (eq and not _VALUE.fullmatch(value)):
            return _bad(f"malformed {verb} parameter '{_excerpt(word)}'", verb, 501, "5.5.4")
        params[key.upper()] = value if eq else None
    return params


def _path_command(cls: type[Mail] | type[Rcpt], prefix: str) -> Callable[[str], Command | BadCommand]:
    verb = cls.verb
    null_ok = cls is Mail

    def parse(rest: str) -> Command | BadCommand:
        if rest[: len(prefix)].upper() != prefix:
            return _bad(f"syntax: {verb} {prefix}<address> [parameters]", verb)
        path, params_text = _split_path(rest[len(prefix) :].lstrip(" "))
        try:
            address = parse_path(path, null_ok=null_ok)
        except ValueError as exc:
            return _bad(f"{verb}: {exc}", verb, 501, "5.1.7" if null_ok else "5.1.3")
        params = _params([w for w in params_text.split(" ") if w], verb)
        if isinstance(params, BadCommand):
            return params
        return cls(address, params)

    return parse


def _domain_command(cls: type[Ehlo] | type[Helo]) -> Callable[[str], Command | BadCommand]:
    def parse(rest: str) -> Command | BadCommand:
        name = rest.strip(" ")
        if not name:
            return _bad(f"{cls.verb} needs your domain name", cls.verb)
        if not _HELO_NAME.fullmatch(name):
            return _bad(f"{cls.verb} takes one domain name or address literal", cls.verb)
        return cls(name)

    return parse


def _no_args(cls: type[Command]) -> Callable[[str], Command | BadCommand]:
    def parse(rest: str) -> Command | BadCommand:
        if rest.strip(" "):
            return _bad(f"{cls.verb} takes no arguments", cls.verb)
        return cls()

    return parse


def _vrfy(rest: str) -> Command | BadCommand:
    if not rest.strip(" "):
        return _bad("VRFY needs a user name or address", "VRFY")
    return Vrfy(rest.strip(" "))


def _auth(rest: str) -> Command | BadCommand:
    words = rest.split()
    if not words or len(words) > 2:
        return _bad("syntax: AUTH mechanism [initial-response]", "AUTH")
    return Auth(words[0].upper(), words[1] if len(words) == 2 else None)


def _bdat(rest: str) -> Command | BadCommand:
    words = rest.split()
    if not words or len(words) > 2 or not words[0].isascii() or not words[0].isdigit():
        return _bad("syntax: BDAT size [LAST]", "BDAT")
    if len(words[0]) > _MAX_BDAT_DIGITS:
        return _bad("BDAT chunk size is out of range", "BDAT")
    if len(words) == 2 and words[1].upper() != "LAST":
        return _bad("syntax: BDAT size [LAST]", "BDAT")
    return Bdat(int(words[0]), len(words) == 2, b"")


_PARSERS: dict[str, Callable[[str], Command | BadCommand]] = {
    "EHLO": _domain_command(Ehlo),
    "HELO": _domain_command(Helo),
    "MAIL": _path_command(Mail, "FROM:"),
    "RCPT": _path_command(Rcpt, "TO:"),
    "DATA": _no_args(Data),
    "BDAT": _bdat,
    "RSET": _no_args(Rset),
    "NOOP": lambda rest: Noop(),  # RFC 5321 section 4.1.1.9: a parameter is allowed and ignored
    "QUIT": _no_args(Quit),
    "VRFY": _vrfy,
    "HELP": lambda rest: Help(rest.strip(" ")),
    "STARTTLS": _no_args(StartTls),
    "AUTH": _auth,
}


def parse_command(line: bytes) -> Command | BadCommand:
    """Parse one command line (without its CRLF)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return BadCommand("the command line is not valid UTF-8", 500, "5.5.2")
    verb, _, rest = text.partition(" ")
    upper = verb.upper() if verb.isascii() else ""
    parser = _PARSERS.get(upper)
    if parser is None:
        if upper in _NOT_IMPLEMENTED:
            return BadCommand(f"{upper} is not implemented", 502, "5.5.1", upper)
        if not text.strip():
            return BadCommand("empty command line", 500, "5.5.2")
        return BadCommand(f"command '{_excerpt(verb, 16)}' not recognized", 500, "5.5.1")
    return parser(rest)
