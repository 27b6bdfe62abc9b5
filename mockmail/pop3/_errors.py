"""Exceptions of the POP3 core.

`LocalProtocolError` means *we* tried to break the protocol (an illegal reply for the state, a reply line
that is too long, a float where an octet count belongs): a bug in the adapter, so let it crash the test.

A peer that breaks the protocol does not raise: the parser turns its line into a `BadCommand` event and the
adapter answers `-ERR`, so the session stays usable.  `RemoteProtocolError` is kept for the rare cases the
adapter must end a session (a buffer limit), and carries an RFC 2449/3206 response code for the `-ERR` line.
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "Pop3Error", "RemoteProtocolError"]


class Pop3Error(Exception):
    """Base of the POP3 core's exceptions."""


class LocalProtocolError(Pop3Error):
    """This side tried to send something the protocol does not allow."""


class RemoteProtocolError(Pop3Error):
    """The peer broke the protocol beyond what a single `-ERR` can repair."""

    def __init__(self, msg: str, response_code: str | None = None) -> None:
        super().__init__(msg)
        self.response_code = response_code
