"""RFC 5322 address lists (section 3.4) read into IMAP's four-part addresses (RFC 9051 section 7.5.2).

An address is (name, adl, mailbox, host).  A group is bracketed by a start marker (NIL NIL "name" NIL) and
an end marker (NIL NIL NIL NIL).  The reading is lenient, as a server's must be, and never raises:

- the display name is the phrase, its quoted strings unquoted and its words joined by one space; RFC 2047
  encoded words stay as they are; with no phrase, a comment after the address becomes the name (Dovecot);
- an obsolete source route `<@a,@b:user@host>` goes to adl as `@a,@b`;
- a missing local part or domain is filled in as `MISSING_MAILBOX` / `MISSING_DOMAIN` (Dovecot's
  `MESSAGE_ADDRESS_PARSE_FLAG_FILL_MISSING`), so a host is never NIL outside a group marker.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MISSING_DOMAIN", "MISSING_MAILBOX", "Address", "parse_addresses"]

MISSING_MAILBOX = b"MISSING_MAILBOX"
MISSING_DOMAIN = b"MISSING_DOMAIN"
_SPECIALS = b"<>@,;:"
_ATOM_STOP = frozenset(b'<>@,;:"()[] \t\r\n\\')


@dataclass(frozen=True, slots=True)
class Address:
    """One `(name adl mailbox host)` of an ENVELOPE address list; a group marker has host None."""

    name: bytes | None
    adl: bytes | None
    mailbox: bytes | None
    host: bytes | None

    @property
    def is_group_marker(self) -> bool:
        return self.host is None


# Token kinds: "a" atom (dots included), "q" quoted string, "d" domain literal, "c" comment, or a special.
_Token = tuple[str, bytes]


def _tokens(value: bytes) -> list[_Token]:
    out: list[_Token] = []
    pos, size = 0, len(value)
    while pos < size:
        char = value[pos]
        if char in b" \t\r\n":
            pos += 1
        elif char in _SPECIALS:
            out.append((chr(char), b""))
            pos += 1
        elif char == 0x22:  # quoted string
            text = bytearray()
            pos += 1
            while pos < size and value[pos] != 0x22:
                if value[pos] == 0x5C and pos + 1 < size:
                    pos += 1
                text.append(value[pos])
                pos += 1
            out.append(("q", bytes(text)))
            pos += 1
        elif char == 0x28:  # comment, nested
            depth, start = 0, pos
            while pos < size:
                if value[pos] == 0x5C:
                    pos += 2
                    continue
                if value[pos] == 0x28:
                    depth += 1
                elif value[pos] == 0x29:
                    depth -= 1
                    if depth == 0:
                        break
                pos += 1
            out.append(("c", value[start + 1 : pos].strip()))
            pos += 1
        elif char == 0x5B:  # domain literal
            end = value.find(b"]", pos)
            end = size - 1 if end < 0 else end
            out.append(("d", value[pos : end + 1]))
            pos = end + 1
        else:
            start = pos
            while pos < size and value[pos] not in _ATOM_STOP:
                pos += 1
            if pos == start:  # a lone ")", "]" or backslash: take it as an atom of one octet
                pos += 1
            out.append(("a", value[start:pos]))
    return out


class _Reader:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def words(self, stop: str) -> tuple[list[_Token], list[bytes]]:
        """Words and comments up to a special in `stop` (or the end)."""
        words: list[_Token] = []
        comments: list[bytes] = []
        while (kind := self.peek()) is not None and kind not in stop:
            token = self.tokens[self.pos]
            if kind == "c":
                comments.append(token[1])
            elif kind in "aqd":
                words.append(token)
            self.pos += 1  # a special outside `stop` (a stray ">") is dropped
        return words, comments


def _phrase(words: list[_Token]) -> bytes | None:
    text = b" ".join(word for _, word in words).strip()
    return text or None


def _joined(words: list[_Token]) -> bytes:
    return b"".join(word for _, word in words)


def _spec(reader: _Reader, stop: str) -> tuple[bytes, bytes, list[bytes]]:
    """`local@domain` up to a special in `stop`: (mailbox, host, comments)."""
    local, comments = reader.words("@" + stop)
    host: list[_Token] = []
    if reader.peek() == "@":
        reader.pos += 1
        host, more = reader.words("@" + stop)
        comments += more
        while reader.peek() == "@":  # "a@b@c": the host is everything after the first "@"
            reader.pos += 1
            extra, more = reader.words("@" + stop)
            host += [("a", b"@"), *extra]
            comments += more
    return _joined(local) or MISSING_MAILBOX, _joined(host) or MISSING_DOMAIN, comments


def _angle(reader: _Reader, name: bytes | None) -> Address:
    """After `<`: an optional route, the addr-spec, up to `>`."""
    reader.pos += 1
    adl: bytes | None = None
    if reader.peek() == "@":  # obsolete route "@a,@b:"
        route: list[bytes] = []
        start = reader.pos
        while reader.peek() in ("@", ","):
            reader.pos += 1
            words, _ = reader.words("@,:>")
            if words:
                route.append(b"@" + _joined(words))
        if reader.peek() == ":":
            reader.pos += 1
            adl = b",".join(route) or None
        else:
            reader.pos = start  # no ":" ending a route: read it as "<@host>"
    mailbox, host, _ = _spec(reader, ">,;")
    if reader.peek() == ">":
        reader.pos += 1
    return Address(name=name, adl=adl, mailbox=mailbox, host=host)


def _mailbox(reader: _Reader, stop: str) -> Address | None:
    """One mailbox (or nothing, for an empty list member), consuming up to a special in `stop`."""
    start = reader.pos
    words, comments = reader.words("<@:" + stop)
    kind = reader.peek()
    if kind == "<":
        address = _angle(reader, _phrase(words))
        reader.words(stop)  # anything after ">" up to the separator is dropped
        return address
    if kind == "@":
        reader.pos = start
        mailbox, host, comments = _spec(reader, stop)
        return Address(name=_phrase([("c", c) for c in comments if c]), adl=None, mailbox=mailbox, host=host)
    if not words:
        return None
    # No "@" and no "<": a bare local part (Dovecot fills in the domain).
    return Address(
        name=_phrase([("c", c) for c in comments if c]), adl=None, mailbox=_joined(words), host=MISSING_DOMAIN
    )


def parse_addresses(value: bytes) -> tuple[Address, ...]:
    """The addresses (and group markers) of an unfolded address-list field value."""
    reader = _Reader(_tokens(value))
    out: list[Address] = []
    while reader.peek() is not None:
        if reader.peek() in (",", ";", ">"):
            reader.pos += 1
            continue
        start = reader.pos
        words, _ = reader.words("<@:,;")
        if reader.peek() == ":" and words:  # a group: display-name ":" [mailbox-list] ";"
            reader.pos += 1
            out.append(Address(name=None, adl=None, mailbox=_phrase(words), host=None))
            while reader.peek() not in (None, ";"):
                if reader.peek() == ",":
                    reader.pos += 1
                    continue
                address = _mailbox(reader, ",;")
                if address is not None:
                    out.append(address)
                elif reader.peek() == ":":
                    reader.pos += 1  # a stray ":" inside a group
            if reader.peek() == ";":
                reader.pos += 1
            out.append(Address(name=None, adl=None, mailbox=None, host=None))
            continue
        reader.pos = start
        address = _mailbox(reader, ",;")
        if address is not None:
            out.append(address)
        elif reader.peek() == ":":
            reader.pos += 1  # ":" with no group name
    return tuple(out)
