"""The MIME tree of a stored message: built once from its octets, immutable, kept by the caller per message.

`parse_message(content)` reads the CRLF content once and gives the root `MimePart`: byte offsets of every
part's header and body, its Content-* fields, its line count, its children (multipart) or encapsulated
message (message/rfc822, message/global), and, for the root and each encapsulated message, its ENVELOPE.
The tree holds offsets, not octets: `MessageView(content, tree)` pairs it with the content, which a
persistent store reads afresh on each use, so a cache of trees (e.g. a `weakref.WeakKeyDictionary` keyed
by the stored message) costs little memory.

Rules kept (RFC 2045, RFC 2046 section 5.1.1), never raising on hostile input:
- A part is a header (`_headers.header_end`) and a body.  A body part of a multipart runs from after its
  delimiter line to the CRLF before the next delimiter, which belongs to the delimiter.
- A delimiter line is `--boundary`, then optionally `--` (the close delimiter), then only spaces or tabs,
  as Python's `email` feed parser reads it.  The lines of an outer multipart are found first, so a line
  of an outer boundary ends every part inside it.  The preamble and epilogue are no parts.
- A multipart without a boundary, or whose body has no delimiter line, is read as text/plain (RFC 2045
  section 5.2: an invalid Content-Type means text/plain; charset=us-ascii).  An unterminated one ends at
  the end of its body.
- Nesting beyond `MAX_DEPTH` levels, or parts beyond `MAX_PARTS`, are kept as opaque
  application/octet-stream leaves.
- No Content-Type means text/plain, or message/rfc822 inside multipart/digest (RFC 2046 section 5.1.5).
  Content-* fields are honoured with or without MIME-Version (as Python's `email` package and clients do).
- Work is linear in the message size for each nesting level (`bytes.find`, no per-line loop over bodies).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._envelope import Envelope, build_envelope
from ._headers import Field, header_end, mime_token, parse_parameterized, scan_fields, unfold

__all__ = ["MAX_DEPTH", "MAX_PARTS", "MAX_VALUE", "MessageView", "MimePart", "Params", "parse_message"]

MAX_DEPTH = 32
"""Containers (multipart or message) nested deeper than this are opaque leaves."""
MAX_VALUE = 16 * 1024
"""Octets of a Content-* field value read (its parameters included): the rest of a longer one is ignored."""
MAX_PARTS = 10_000
"""At most this many parts in one message; Dovecot's `mail_max_mime_parts` default is the same figure."""

Params = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True, eq=False)
class MimePart:
    """One part of a message (the root is the message itself); offsets index the message's content."""

    start: int
    """The first octet of the part's header (its MIME header; for the root, the message header)."""
    body_start: int
    """The first octet of the body: the header ends here, its blank line included."""
    end: int
    """One past the last octet of the body."""
    fields: tuple[Field, ...]
    media_type: bytes
    """As written (`text` when there is no valid Content-Type)."""
    subtype: bytes
    params: Params
    """Content-Type parameters, names lower-cased, in order."""
    content_id: bytes | None
    description: bytes | None
    encoding: bytes | None
    """The Content-Transfer-Encoding token as written; None when absent (7bit)."""
    md5: bytes | None
    disposition: tuple[bytes, Params] | None
    language: tuple[bytes, ...] | None
    location: bytes | None
    lines: int
    """Lines of the body (its LF count), as Dovecot and Cyrus count them."""
    children: tuple[MimePart, ...] = ()
    """The body parts of a multipart; empty for every other part."""
    message: MimePart | None = None
    """The encapsulated message of a message/rfc822 (or message/global) part."""
    envelope: Envelope | None = None
    """For the root and each encapsulated message: its ENVELOPE."""

    @property
    def size(self) -> int:
        """Octets of the body, as BODYSTRUCTURE reports them."""
        return self.end - self.body_start

    @property
    def is_multipart(self) -> bool:
        return bool(self.children)

    @property
    def is_text(self) -> bool:
        return self.media_type.lower() == b"text"

    def param(self, name: bytes) -> bytes | None:
        """A Content-Type parameter by its lower-case name."""
        for key, value in self.params:
            if key == name:
                return value
        return None

    def walk(self) -> list[MimePart]:
        """This part and every part under it, depth first (encapsulated messages included)."""
        out: list[MimePart] = []
        stack = [self]
        while stack:
            part = stack.pop()
            out.append(part)
            below = (part.message,) if part.message is not None else part.children
            stack.extend(reversed(below))
        return out


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message's content together with its tree: what every function of the message side reads."""

    content: bytes
    tree: MimePart

    @classmethod
    def parse(cls, content: bytes) -> MessageView:
        return cls(content, parse_message(content))


_TEXT_PLAIN = (b"text", b"plain")
_MESSAGE_RFC822 = (b"message", b"rfc822")
_OCTET_STREAM = (b"application", b"octet-stream")
_ENCAPSULATING = (b"rfc822", b"global")


class _Budget:
    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts = MAX_PARTS


def parse_message(content: bytes) -> MimePart:
    """The MIME tree of CRLF-normalized `content`; never raises."""
    return _parse_part(content, 0, len(content), 0, True, _TEXT_PLAIN, _Budget())


def _delimiters(content: bytes, start: int, end: int, boundary: bytes) -> list[tuple[int, int, bool]]:
    """Delimiter lines of `boundary` in `content[start:end]`: (first octet, first octet after, close)."""
    dash = b"--" + boundary
    found: list[tuple[int, int, bool]] = []
    if content.startswith(dash, start, end):  # no preamble: the first line is a delimiter
        at, line = start, start
    else:
        at = content.find(b"\r\n" + dash, start, end)
        line = at + 2
    while at >= 0:
        after = line + len(dash)
        eol = content.find(b"\r\n", after, end)
        eol = end if eol < 0 else eol
        rest = content[after:eol]
        close = rest.startswith(b"--")
        if not (rest[2:] if close else rest).strip(b" \t"):
            found.append((at, min(eol + 2, end), close))
            if close:
                break
            pos = eol  # the CRLF ending this line may begin the next delimiter
        else:
            pos = line  # `--boundaryX`: not this boundary's line
        at = content.find(b"\r\n" + dash, pos, end)
        line = at + 2
    return found


def _split(content: bytes, start: int, end: int, boundary: bytes) -> list[tuple[int, int]]:
    delimiters = _delimiters(content, start, end, boundary)
    ranges: list[tuple[int, int]] = []
    for index, (_, after, close) in enumerate(delimiters):
        if close:
            break
        stop = delimiters[index + 1][0] if index + 1 < len(delimiters) else end
        ranges.append((min(after, stop), stop))
    return ranges


def _first(content: bytes, fields: tuple[Field, ...], name: bytes) -> bytes | None:
    for field in fields:
        if field.name == name:
            return unfold(content[field.value_start : min(field.end, field.value_start + MAX_VALUE)])
    return None


def _language(value: bytes | None) -> tuple[bytes, ...] | None:
    if value is None:
        return None
    tags = tuple(tag.strip() for tag in value.split(b",") if tag.strip() and b"(" not in tag)
    return tags or None


def _parse_part(
    content: bytes,
    start: int,
    end: int,
    depth: int,
    is_message: bool,
    default: tuple[bytes, bytes],
    budget: _Budget,
) -> MimePart:
    budget.parts -= 1
    body_start = header_end(content, start, end)
    fields = scan_fields(content, start, body_start)
    raw_type = _first(content, fields, b"content-type")
    parsed = parse_parameterized(raw_type, True) if raw_type is not None else None
    params: Params = ()
    if parsed is None:
        media_type, subtype = default
    else:
        media_type, subtype, params = parsed
    raw_disposition = _first(content, fields, b"content-disposition")
    disposition_parsed = parse_parameterized(raw_disposition, False) if raw_disposition is not None else None
    raw_encoding = _first(content, fields, b"content-transfer-encoding")

    children: tuple[MimePart, ...] = ()
    message: MimePart | None = None
    kind, sub = media_type.lower(), subtype.lower()
    container = kind == b"multipart" or (kind == b"message" and sub in _ENCAPSULATING)
    if container and (depth >= MAX_DEPTH or budget.parts <= 0):
        (media_type, subtype), params = _OCTET_STREAM, ()
    elif kind == b"multipart":
        boundary = next((value for name, value in params if name == b"boundary"), None)
        ranges = _split(content, body_start, end, boundary) if boundary else []
        inner = _MESSAGE_RFC822 if sub == b"digest" else _TEXT_PLAIN
        built: list[MimePart] = []
        for part_start, part_end in ranges:
            if budget.parts <= 0:
                break
            built.append(_parse_part(content, part_start, part_end, depth + 1, False, inner, budget))
        children = tuple(built)
        if not children:
            (media_type, subtype), params = _TEXT_PLAIN, ()
    elif container:
        message = _parse_part(content, body_start, end, depth + 1, True, _TEXT_PLAIN, budget)

    return MimePart(
        start=start,
        body_start=body_start,
        end=end,
        fields=fields,
        media_type=media_type,
        subtype=subtype,
        params=params,
        content_id=_first(content, fields, b"content-id"),
        description=_first(content, fields, b"content-description"),
        encoding=mime_token(raw_encoding) if raw_encoding is not None else None,
        md5=_first(content, fields, b"content-md5"),
        disposition=(disposition_parsed[0], disposition_parsed[2]) if disposition_parsed else None,
        language=_language(_first(content, fields, b"content-language")),
        location=_first(content, fields, b"content-location"),
        lines=content.count(b"\n", body_start, end),
        children=children,
        message=message,
        envelope=build_envelope(content, fields) if is_message else None,
    )
