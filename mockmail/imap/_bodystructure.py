"""BODYSTRUCTURE and BODY (RFC 9051 section 7.5.2, RFC 3501 section 7.4.2) of a MIME tree, as exact octets.

Shape, as Dovecot writes it (`imap-bodystructure.c`), which Jakarta Mail, Thunderbird and MailKit parse:
- a leaf: `(type subtype (params) id description encoding size [lines | envelope body lines]` and, in
  BODYSTRUCTURE, ` md5 disposition language location)`; lines only for text/*; message/rfc822 (and
  message/global) carry the ENVELOPE, the body structure and the line count of the encapsulated message;
- a multipart: `(part part... subtype` and, in BODYSTRUCTURE, ` (params) disposition language location)`;
- text/* without a charset gets `("charset" "us-ascii")` (RFC 2045 section 5.2); no encoding is `"7bit"`;
  no parameters is NIL; a disposition is `("inline" NIL)` without parameters (body-fld-dsp: greenmail
  issue 113 and Jakarta Mail); a language is always a list;
- every extension field is written (four NILs at worst), never a missing line count, which broke
  go-imap (alps pull request 45) and K-9 (davmail pull request 239).
"""

from __future__ import annotations

from ._envelope import write_envelope
from ._mime_tree import MimePart, Params
from ._nstring import nstring, string

__all__ = ["body_structure"]


def _params(params: Params, default_charset: bool) -> bytes:
    items = [string(name) + b" " + string(value) for name, value in params]
    if default_charset and not any(name == b"charset" for name, _ in params):
        items.append(b'"charset" "us-ascii"')
    return b"(" + b" ".join(items) + b")" if items else b"NIL"


def _extension(part: MimePart) -> list[bytes]:
    """disposition, language and location: the tail every extensible body shares."""
    if part.disposition is None:
        disposition = b"NIL"
    else:
        disposition = b"(" + string(part.disposition[0]) + b" " + _params(part.disposition[1], False) + b")"
    if part.language is None:
        language = b"NIL"
    else:
        language = b"(" + b" ".join(string(tag) for tag in part.language) + b")"
    return [disposition, language, nstring(part.location)]


def _write(part: MimePart, extended: bool, out: list[bytes]) -> None:
    out.append(b"(")
    if part.children:
        for child in part.children:
            _write(child, extended, out)
        out.append(b" " + string(part.subtype))
        if extended:
            out.append(b" " + b" ".join([_params(part.params, False), *_extension(part)]))
        out.append(b")")
        return
    fields = [
        string(part.media_type),
        string(part.subtype),
        _params(part.params, part.is_text),
        nstring(part.content_id),
        nstring(part.description),
        string(part.encoding) if part.encoding is not None else b'"7bit"',
        b"%d" % part.size,
    ]
    out.append(b" ".join(fields))
    if part.message is not None:
        assert part.message.envelope is not None
        out.append(b" " + write_envelope(part.message.envelope) + b" ")
        _write(part.message, extended, out)
        out.append(b" %d" % part.lines)
    elif part.is_text:
        out.append(b" %d" % part.lines)
    if extended:
        out.append(b" " + b" ".join([nstring(part.md5), *_extension(part)]))
    out.append(b")")


def body_structure(tree: MimePart, extended: bool = True) -> bytes:
    """BODYSTRUCTURE (`extended`) or BODY of the message (or part) `tree`, parentheses included."""
    out: list[bytes] = []
    _write(tree, extended, out)
    return b"".join(out)
