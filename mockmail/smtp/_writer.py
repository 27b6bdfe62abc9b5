"""Rendering replies to bytes: the only place SMTP reply lines are made (RFC 5321 section 4.2).

Rules kept here:
- A multi-line reply repeats the code on every line, `-` after it on all but the last (`250-`, `250 `).
- The RFC 3463 enhanced code follows the code on every line of a reply that has one (RFC 2034 section 3).
- A reply line is at most 512 octets with its CRLF (section 4.5.3.1.5) and holds no CR or LF: breaking
  either is a bug here (`LocalProtocolError`), never bytes on the wire.
- Codes are three digits, 2xx to 5xx, checked as ints (`f"{code:d}"` raises on anything else).
"""

from __future__ import annotations

from ._errors import LocalProtocolError
from ._events import Reply

__all__ = ["MAX_REPLY_LINE", "write"]

MAX_REPLY_LINE = 512
"""RFC 5321 section 4.5.3.1.5: a reply line is at most 512 octets, CRLF included."""


def write(reply: Reply) -> bytes:
    """The reply's bytes.

    Raises:
        LocalProtocolError: a malformed code, a line break in the text, or a line over 512 octets.
    """
    code = reply.code
    if not isinstance(code, int) or isinstance(code, bool) or not 200 <= code <= 599:
        raise LocalProtocolError(f"an SMTP reply code must be an int from 200 to 599, not {code!r}")
    lines = reply.lines
    if not lines:
        raise LocalProtocolError("an SMTP reply has at least one line")
    enhanced = reply.enhanced or ""
    out = []
    last = len(lines) - 1
    for index, text in enumerate(lines):
        if "\r" in text or "\n" in text:
            raise LocalProtocolError(f"reply text contains a line break: {text!r}")
        body = f"{enhanced} {text}" if enhanced and text else enhanced or text
        # RFC 4954 section 4: a challenge is "334" SP [base64], the space even when the challenge is empty.
        sep = "-" if index < last else (" " if body or code == 334 else "")
        data = f"{code:d}{sep}{body}\r\n".encode()
        if len(data) > MAX_REPLY_LINE:
            raise LocalProtocolError(f"reply line is {len(data)} octets, over the {MAX_REPLY_LINE} limit")
        out.append(data)
    return b"".join(out)
