"""The octets a `BODY[section]<partial>` or `BINARY[section]` fetch names (RFC 9051 section 6.4.5, RFC 3516).

Part numbers (RFC 9051 section 6.4.5):
- the parts of a multipart are numbered from 1; a message that is not multipart has only a part 1, its
  body (whose MIME header is the message header);
- the parts of a message/rfc822 (or message/global) part X are those of the message it encapsulates
  (X.1...), and X.HEADER, X.TEXT, X.HEADER.FIELDS name that message's header and text;
- BODY[X] is the body of part X (for message/rfc822, the whole encapsulated message); X.MIME its MIME
  header, blank line included.
A part that does not exist, and HEADER/TEXT of a part that is no message, give empty octets, as RFC 3501
section 6.4.5 asks of a server ("nonexistent ... returns an empty string"); nothing here raises but the
BINARY decoding of an unknown Content-Transfer-Encoding, `UnknownCteError` (the `UNKNOWN-CTE` response code).

HEADER.FIELDS gives the whole matching fields (folded lines included) in message order and then the blank
line, which ends it even when no field matched (as Dovecot does).  RFC822.HEADER is BODY.PEEK[HEADER],
RFC822.TEXT is BODY[TEXT] and RFC822 is BODY[]: the same sections.
"""

from __future__ import annotations

import binascii
import re

from ._mime_tree import MessageView, MimePart
from ._section import Section, SectionText

__all__ = ["UnknownCteError", "binary_section", "binary_size", "decode_body", "resolve_part", "section_bytes"]


class UnknownCteError(Exception):
    """BINARY of a part whose Content-Transfer-Encoding is unknown (RFC 3516 section 4.3: `NO [UNKNOWN-CTE]`)."""

    def __init__(self, encoding: bytes) -> None:
        super().__init__(f"unknown Content-Transfer-Encoding {encoding.decode('ascii', 'replace')!r}")
        self.encoding = encoding


def resolve_part(tree: MimePart, numbers: tuple[int, ...]) -> MimePart | None:
    """The part `numbers` names (the root for no numbers), or None when there is no such part."""
    part, is_message = tree, True
    for number in numbers:
        if not is_message and not part.children and part.message is not None:
            part, is_message = part.message, True  # X.n: the parts of the message X encapsulates
        if part.children:
            if not 1 <= number <= len(part.children):
                return None
            part, is_message = part.children[number - 1], False
        elif is_message and number == 1:
            is_message = False  # a message that is not multipart: part 1 is its body
        else:
            return None
    return part


def _header_fields(view: MessageView, message: MimePart, names: tuple[str, ...], keep: bool) -> bytes:
    wanted = {name.lower().encode("ascii", "replace") for name in names}
    content = view.content
    chosen = [content[f.start : f.end] for f in message.fields if (f.name in wanted) == keep]
    return b"".join(chosen) + b"\r\n"


def _unpartial(data: bytes, section: Section) -> bytes:
    if section.partial is None:
        return data
    start, length = section.partial
    return data[start : start + length]


def _whole(view: MessageView, section: Section) -> bytes:
    content = view.content
    if section.text is None and not section.parts:
        return content
    part = resolve_part(view.tree, section.parts)
    if part is None:
        return b""
    if section.text is None:
        return content[part.body_start : part.end]
    if section.text is SectionText.MIME:
        return content[part.start : part.body_start] if section.parts else b""
    message = part if not section.parts else part.message
    if message is None:
        return b""  # HEADER or TEXT of a part that is not a message
    if section.text is SectionText.HEADER:
        return content[message.start : message.body_start]
    if section.text is SectionText.TEXT:
        return content[message.body_start : message.end]
    return _header_fields(view, message, section.fields, section.text is SectionText.HEADER_FIELDS)


def section_bytes(view: MessageView, section: Section) -> bytes:
    """The octets of `BODY[section]<partial>`: empty for a part that does not exist."""
    return _unpartial(_whole(view, section), section)


_NOT_BASE64 = bytes(
    sorted(set(range(256)) - set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"))
)
_IDENTITY = frozenset({b"7bit", b"8bit", b"binary"})
_QP_SPACE = re.compile(rb"[ \t]+(?=\r\n)")


def _base64(data: bytes) -> bytes:
    """Lenient base64: whatever is not of the alphabet is skipped, a short tail is padded or dropped."""
    clean = data.translate(None, _NOT_BASE64)
    tail = len(clean) % 4
    if tail == 1:
        clean = clean[:-1]
    elif tail:
        clean += b"=" * (4 - tail)
    return binascii.a2b_base64(clean)


def decode_body(data: bytes, encoding: bytes | None) -> bytes:
    """`data` decoded from its Content-Transfer-Encoding.

    Raises:
        UnknownCteError: the encoding is none of 7bit, 8bit, binary, base64, quoted-printable.
    """
    name = (encoding or b"7bit").lower()
    if name in _IDENTITY:
        return data
    if name == b"base64":
        return _base64(data)
    if name == b"quoted-printable":
        # RFC 2045 section 6.7 rule 3: trailing white space on a line is padding, not text.
        return binascii.a2b_qp(_QP_SPACE.sub(b"", data))
    raise UnknownCteError(encoding or b"")


def _decoded(view: MessageView, section: Section) -> bytes:
    if not section.parts:
        return view.content  # BINARY[]: the message, which has no transfer encoding of its own
    part = resolve_part(view.tree, section.parts)
    if part is None:
        return b""
    return decode_body(view.content[part.body_start : part.end], part.encoding)


def binary_section(view: MessageView, section: Section) -> bytes:
    """The octets of `BINARY[section]<partial>`: the part's body decoded.

    Raises:
        UnknownCteError: the part's Content-Transfer-Encoding is unknown.
    """
    return _unpartial(_decoded(view, section), section)


def binary_size(view: MessageView, section: Section) -> int:
    """`BINARY.SIZE[section]`: octets of the decoded part.

    Raises:
        UnknownCteError: the part's Content-Transfer-Encoding is unknown.
    """
    return len(_decoded(view, section))
