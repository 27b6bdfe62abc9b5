"""Exceptions of the IMAP core.

`LocalProtocolError` means *we* tried to break the protocol (a tagged reply with no command waiting, a
quoted string with a CR in it, a float where a number belongs): a bug in the adapter, so let it crash the
test.  A peer that breaks the protocol does not raise: the parser turns its command into a `BadCommand`
event, the adapter answers `tag BAD ...`, and the session stays usable.
"""

from __future__ import annotations

__all__ = ["ImapError", "LocalProtocolError"]


class ImapError(Exception):
    """Base of the IMAP core's exceptions."""


class LocalProtocolError(ImapError):
    """This side tried to send something the protocol does not allow."""
