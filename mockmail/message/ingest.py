"""`deliver()`: the one way a message gets into a mailbox, whichever way it came in (REST JSON, raw and
mbox uploads, the TOML config, SMTP), with the same checks, size limit and UID rules for all.

- `Incoming` is a message on its way in: bytes as received, or already in CRLF form (composed by
  `compose`, or checked by `prepare` earlier), with the UID asked for and where it came from.
- `prepare` checks one: a raw message must be RFC 5322 (its first line a header field); every message is
  CRLF-normalized and must fit the size limit.
- `deliver` prepares a whole batch before storing any of it, then stores it all or nothing
  (the store's `add_many` checks the UIDs the same way), in one synchronous block.
Errors are `DomainError`s naming the offending input (`field`), so the REST layer answers them as problem
documents and the config loader turns them into start-up errors naming the entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..errors import InvalidInput, MessageTooLarge
from ..store import INBOX, Envelope, Mailbox, Message, Via, normalize_crlf
from ..store.quota import Quota
from .headers import looks_like_message

__all__ = ["Incoming", "check_raw", "check_size", "deliver", "prepare"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message on its way into a mailbox."""

    data: bytes
    uid: str | None = None
    field: str = "$"
    """Where it came from, named in errors: `body`, `body[2]`, `$[1]`, `messages[0]`."""
    normalized: bool = False
    """The data is a message in CRLF form already (composed, or prepared before): only its size is checked."""


def check_size(content: bytes, limit: int, field: str) -> bytes:
    """`content` itself, if it is at most `limit` octets.

    Raises:
        MessageTooLarge: it is larger.
    """
    if len(content) > limit:
        raise MessageTooLarge(
            f"the message is {len(content)} octets, over the limit of {limit}",
            field=field,
            limit="message_size",
        )
    return content


def check_raw(raw: bytes, limit: int, field: str) -> bytes:
    """The message CRLF-normalized (the mailbox then stores it without copying it again), if it is one.

    Raises:
        InvalidInput: `raw` is not an RFC 5322 message.
        MessageTooLarge: its CRLF form is over `limit` octets.
    """
    problem = looks_like_message(raw)
    if problem:
        raise InvalidInput(f"not an RFC 5322 message: {problem}", field=field)
    return check_size(normalize_crlf(raw), limit, field)


def prepare(item: Incoming, limit: int) -> Incoming:
    """`item` checked and in CRLF form.

    Raises:
        InvalidInput: raw data that is not an RFC 5322 message.
        MessageTooLarge: over `limit` octets.
    """
    if item.normalized:
        check_size(item.data, limit, item.field)
        return item
    return replace(item, data=check_raw(item.data, limit, item.field), normalized=True)


def deliver(
    mailbox: Mailbox,
    batch: Sequence[Incoming],
    *,
    limit: int,
    uid_field: str = "uid",
    via: Via = "api",
    envelope: Envelope | None = None,
    quota: Quota | None = None,
    folder: str = INBOX,
    flags: Iterable[str] = (),
    internaldate: float | None = None,
) -> list[Message]:
    """Store every message of `batch` in `mailbox`, or none of them; return what was stored.

    Every check runs before the first message is stored, and storing is one synchronous block, so a
    client that goes away mid-request never leaves half a batch behind.

    Args:
        uid_field: how a single message's UID is named in errors (`uid` for a query parameter, `$.uid`
            in a JSON body); a batch names `$[i].uid`.
        via: how the batch arrived, kept with each message.
        envelope: the SMTP envelope it came with, if it came over SMTP.
        quota: the tenant's storage limits, checked for the whole batch.
        folder, flags, internaldate: where every message of the batch goes, with which IMAP flags and
            INTERNALDATE (the arrival when None).

    Raises:
        InvalidInput, MessageTooLarge: from `prepare`; UidTaken, InvalidInput: from the UID and flag rules;
        FolderNotFound: there is no such folder;
        StorageLimit: the batch would cross the tenant's `messages` or `bytes`.
    """
    prepared = [prepare(item, limit) for item in batch]
    if quota is not None:
        quota.check(len(prepared), sum(len(item.data) for item in prepared))
    items = [(item.data, item.uid) for item in prepared]
    return mailbox.add_many(
        items,
        field=uid_field,
        via=via,
        envelope=envelope,
        folder=folder,
        flags=flags,
        internaldate=internaldate,
    )
