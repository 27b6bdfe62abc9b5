"""Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3), the encoding IMAP4rev1 clients speak.

IMAP4rev2 (RFC 9051 section 5.1) and clients that ENABLE UTF8=ACCEPT (RFC 6855) use UTF-8 instead; the
connection picks one.  Rules kept here:
- Printable US-ASCII (0x20-0x7E) except `&` stands for itself; `&` is `&-`.
- Anything else is UTF-16BE in modified BASE64 (`,` for `/`, no `=` padding) between `&` and `-`.
- Decoding is strict (section 5.1.3 says a name must be in its one canonical form): it rejects octets
  outside 0x20-0x7E, a shift that is never closed, BASE64 padding bits that are not zero, a dangling
  octet, an unpaired surrogate, a shift that encodes printable ASCII, and two shifts back to back.
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["MUtf7Error", "decode_mutf7", "encode_mutf7"]

_B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,")


class MUtf7Error(ValueError):
    """A mailbox name that is not canonical modified UTF-7."""


def _direct(ch: str) -> bool:
    return " " <= ch <= "~"


def encode_mutf7(name: str) -> str:
    """Encode a Unicode mailbox name as modified UTF-7."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            raw = "".join(run).encode("utf-16-be", "surrogatepass")
            out.append("&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if _direct(ch):
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def decode_mutf7(text: str | bytes) -> str:
    """Decode a modified UTF-7 mailbox name.

    Raises:
        MUtf7Error: the name is not canonical modified UTF-7 (the message names the rule).
    """
    data = text.encode("latin-1", "replace") if isinstance(text, str) else text
    out: list[str] = []
    i = 0
    previous_shift_end = -1
    while i < len(data):
        octet = data[i]
        if not 0x20 <= octet <= 0x7E:
            raise MUtf7Error(f"octet 0x{octet:02x} outside printable US-ASCII at {i:d}")
        if octet != 0x26:  # '&'
            out.append(chr(octet))
            i += 1
            continue
        end = data.find(b"-", i + 1)
        if end < 0:
            raise MUtf7Error(f"'&' at {i:d} is never closed by '-'")
        if end == i + 1:
            out.append("&")
            i = end + 1
            continue
        if previous_shift_end == i:
            raise MUtf7Error(f"two encoded runs back to back at {i:d}")
        chunk = data[i + 1 : end]
        if any(c not in _B64_CHARS for c in chunk):
            raise MUtf7Error(f"invalid modified BASE64 between {i:d} and {end:d}")
        if len(chunk) % 4 == 1:
            raise MUtf7Error(f"truncated modified BASE64 between {i:d} and {end:d}")
        padded = chunk.replace(b",", b"/") + b"=" * (-len(chunk) % 4)
        try:
            raw = base64.b64decode(padded, validate=True)
        except binascii.Error as exc:  # pragma: no cover - the checks above leave no other failure
            raise MUtf7Error(str(exc)) from None
        if base64.b64encode(raw).rstrip(b"=") != padded.rstrip(b"="):
            raise MUtf7Error(f"non-zero padding bits between {i:d} and {end:d}")
        if len(raw) % 2:
            raise MUtf7Error(f"odd number of UTF-16 octets between {i:d} and {end:d}")
        try:
            decoded = raw.decode("utf-16-be")
        except UnicodeDecodeError:
            raise MUtf7Error(f"unpaired UTF-16 surrogate between {i:d} and {end:d}") from None
        if any(_direct(ch) for ch in decoded):
            raise MUtf7Error(f"printable US-ASCII encoded between {i:d} and {end:d}")
        out.append(decoded)
        i = end + 1
        previous_shift_end = i
    return "".join(out)
