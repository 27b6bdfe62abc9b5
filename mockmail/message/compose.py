"""Turning what the control API receives into stored message bytes.

- `compose`: a `MessageSpec` (JSON) becomes an RFC 5322 message built by Python's `email` package.
- `split_mbox`: an mbox upload (mboxrd or mboxo; `From ` separator lines) becomes one raw message each.
"""

from __future__ import annotations

import base64
import email.policy
import email.utils
import re
from email.message import EmailMessage

from ..errors import InvalidInput
from ..tenancy.specs import MessageSpec

__all__ = ["compose", "default_recipient", "split_mbox"]

_DOMAIN = "mockmail.test"


def default_recipient(user: str) -> str:
    return user if "@" in user else f"{user}@{_DOMAIN}"


def compose(spec: MessageSpec, user: str, field: str = "$") -> bytes:
    """Build the message `spec` describes, addressed to `user` unless it names recipients.

    Raises:
        InvalidInput: the `email` package cannot make a header of a value (e.g. the address `"a" <`);
            `field` is the JSON path of the spec, to which the header's field name is added.
    """
    return _compose_plain(spec, user) or _compose_mime(spec, user, field)


_MAX_LINE = 78  # email.policy.SMTP.max_line_length: longer lines would be folded or re-encoded


def _compose_plain(spec: MessageSpec, user: str) -> bytes | None:
    """The common case without the `email` package: ASCII headers, short ASCII text lines, no HTML or
    attachments.  The result is what `_compose_mime` makes for the same spec (tests hold them equal);
    None means "not this case"."""
    if spec.html is not None or spec.attachments:
        return None
    text = spec.text or ""
    headers = [
        ("From", spec.sender),
        ("To", ", ".join(spec.to) if spec.to else default_recipient(user)),
        *((("Cc", ", ".join(spec.cc)),) if spec.cc else ()),
        ("Subject", spec.subject),
        (
            "Date",
            email.utils.format_datetime(spec.date) if spec.date else email.utils.formatdate(usegmt=True),
        ),
        ("Message-ID", email.utils.make_msgid(domain=_DOMAIN)),
        *spec.headers.items(),
        ("Content-Type", 'text/plain; charset="utf-8"'),
        ("Content-Transfer-Encoding", "7bit"),
        ("MIME-Version", "1.0"),
    ]
    lines = [f"{name}: {value}" if value else f"{name}:" for name, value in headers]
    if not text.isascii() or any(not line.isascii() or len(line) > _MAX_LINE for line in lines):
        return None  # needs encoded words or folding
    body = text.encode("ascii").splitlines() or [b""]
    if any(len(line) > _MAX_LINE for line in body):
        return None  # the email package would choose quoted-printable
    head = "\r\n".join(lines).encode("ascii")
    return head + b"\r\n\r\n" + b"\r\n".join(body) + b"\r\n"


def _encoded_words(text: str) -> str:
    """`text` as RFC 2047 encoded words (UTF-8, base64), each under the 75-character limit."""
    words: list[bytes] = []
    chunk = b""
    for char in text:
        octets = char.encode("utf-8", "surrogatepass")
        if len(chunk) + len(octets) > 45:  # 45 octets are 60 base64 characters: 72 with the delimiters
            words.append(chunk)
            chunk = b""
        chunk += octets
    words.append(chunk)
    return " ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def _set(msg: EmailMessage, name: str, value: str, field: str) -> None:
    """Add a header field; a value the email package cannot parse or fold is stored as encoded words.

    The package fails on some malformed address lists with IndexError, TypeError or ValueError (CPython's
    _header_value_parser), not with a documented error.  A mock server should hold odd mail faithfully,
    so such a value is kept, as RFC 2047 encoded words; only if even that fails is it the client's 422.
    """
    encoded = _encoded_words(value)
    for candidate in (value, encoded):
        try:
            msg[name] = candidate
            str(msg[name])
            lines = msg.policy.fold_binary(name, msg[name]).split(b"\r\n")[1:-1]
            if any(line[:1] not in (b" ", b"\t") for line in lines):
                # The package can fold encoded words onto a line of their own without the leading
                # space (seen with lists of NBSP-only names): the next line would be a new field.
                raise ValueError("bad fold")
            return
        except Exception:
            del msg[name]
    # The address parser fails even on encoded words for some lists (IndexError, seen from schemathesis):
    # store them unparsed, one encoded word per folded line, which the generator writes as it is.
    folded = "".join(f"\r\n {word}" for word in encoded.split(" "))
    if len(name) + 1 > _MAX_LINE or not folded.isascii():
        raise InvalidInput(f"cannot make a {name} header of {value!r}", field=field)
    msg.set_raw(name, folded)


def _compose_mime(spec: MessageSpec, user: str, field: str = "$") -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    _set(msg, "From", spec.sender, f"{field}.from")
    _set(msg, "To", ", ".join(spec.to) if spec.to else default_recipient(user), f"{field}.to")
    if spec.cc:
        _set(msg, "Cc", ", ".join(spec.cc), f"{field}.cc")
    _set(msg, "Subject", spec.subject, f"{field}.subject")
    msg["Date"] = email.utils.format_datetime(spec.date) if spec.date else email.utils.formatdate(usegmt=True)
    msg["Message-ID"] = email.utils.make_msgid(domain=_DOMAIN)
    for name, value in spec.headers.items():
        _set(msg, name, value, f"{field}.headers")
    if spec.text is not None or spec.html is None:
        msg.set_content(spec.text or "")
        if spec.html is not None:
            msg.add_alternative(spec.html, subtype="html")
    else:
        msg.set_content(spec.html, subtype="html")
    for attachment in spec.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    try:
        return msg.as_bytes()
    except Exception as exc:  # folding a header the package accepted can still fail (see _set)
        raise InvalidInput(f"cannot compose the message: {type(exc).__name__}: {exc}", field=field) from None


_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


def _separators(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every `From ` line: found with `bytes.find`, which skips through the text at memchr
    speed (a multi-line regex tries every position, and was half of a bulk upload's time, measured)."""
    found = []
    if data.startswith(b"From "):
        start = 0
    else:
        at = data.find(b"\nFrom ")
        start = at + 1 if at >= 0 else -1
    while start >= 0:
        newline = data.find(b"\n", start)
        end = len(data) if newline < 0 else newline + 1
        found.append((start, end))
        at = data.find(b"\nFrom ", end - 1)
        start = at + 1 if at >= 0 else -1
    return found


def _without_trailing_blank(chunk: bytes) -> bytes:
    """The blank line before the next separator belongs to the mbox format, not to the message."""
    for ending in (b"\r\n\r\n", b"\n\r\n", b"\r\n\n", b"\n\n"):
        if chunk.endswith(ending):
            return chunk[: len(chunk) - len(ending)] + b"\n"
    return chunk


def split_mbox(data: bytes) -> list[bytes]:
    """Split an mbox file into raw messages, dropping the `From ` lines and un-quoting `>From ` (mboxrd).

    Works on large slices of the upload (never one object per line), so seeding megabytes of mail does not
    leave the allocator holding hundreds of thousands of small freed blocks.
    """
    separators = _separators(data)
    if not separators or separators[0][0] != 0:
        raise ValueError("an mbox file must start with a 'From ' separator line")
    messages = []
    for (_, end), after in zip(separators, [*separators[1:], None], strict=True):
        chunk = _without_trailing_blank(data[end : after[0] if after else len(data)])
        if chunk.startswith(b">") or b"\n>" in chunk:
            chunk = _QUOTED_FROM.sub(rb"\1", chunk)
        messages.append(chunk)
    return messages
