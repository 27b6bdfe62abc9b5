"""`SelectedFolder`: one IMAP session's view of the folder it selected (RFC 9051 sections 2.3.1.2, 7.5.1).

The view is the session's own map between message sequence numbers and messages, taken from the store's
snapshot at SELECT and then moved only by the updates the session tells its client about:

- The store tells every change (`mockmail.store.changes`) synchronously, whoever made it: SMTP delivery,
  REST seeding, deletion and flag changes, a POP3 QUIT's deletions, another IMAP session, this one.  The
  view records what concerns its folder as *pending*: messages gone (by UID), messages new, messages
  whose flags changed.  Recording is cheap and never writes.
- `updates(expunges=...)` turns what is pending into responses, in the order a client can follow:
  EXPUNGEs first (each numbered as the view is when it is sent, so several messages going are numbered
  right: the view drops each one as its EXPUNGE is made), then FETCH FLAGS of messages still there, then
  one EXISTS for the new ones.  The session calls it before each tagged completion, or at once during
  IDLE.  RFC 9051 section 7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH (or SORT) by sequence
  number, so the session asks for `expunges=False` then; until it is sent, an expunged message keeps its
  number, and is still readable when its object holds its content.
- Until the client has heard of a change, the view answers with what the client believes: sequence
  numbers do not move under a command.
"""

from __future__ import annotations

import bisect
import weakref
from collections import deque
from collections.abc import Iterable
from typing import cast

from ..imap import ExistsResponse, ExpungeResponse, FetchResponse, Flags, Response
from ..store import Arrived, Change, Expunged, FlagsChanged, FolderDeleted, FolderRenamed, Mailbox, Message

__all__ = ["SelectedFolder"]

class _Maps:
    """The sequence maps of one store snapshot, shared by the views that select it until each changes."""

    __slots__ = ("__weakref__", "first_unseen", "keywords", "messages", "renderings", "snapshot", "uids")

    def __init__(self, snapshot: tuple[Message, ...]) -> None:
        self.snapshot = snapshot  # held, so that its id is not reused while the maps live
        self.uids = [m.imap_uid for m in snapshot]
        self.messages = {m.imap_uid: m for m in snapshot}
        self.keywords: tuple[str, ...] | None = None
        self.first_unseen: int | None = -1
        """Computed on first need (-1 until then), as `keywords`: the same for every view of the snapshot."""
        self.renderings: dict[object, bytes] | None = None
        """Answers about every message of the snapshot, as sent (`SelectedFolder.shared_rendering`)."""


def _keywords(messages: Iterable[Message]) -> tuple[str, ...]:
    return tuple(sorted({flag for m in messages for flag in m.flags if not flag.startswith("\\")}))


def _first_unseen(messages: Iterable[Message]) -> int | None:
    return next((n for n, m in enumerate(messages, 1) if "\\Seen" not in m.flags), None)


_NO_SET = cast(set[int], frozenset())
_NO_LIST = cast(list[int], ())

_shared: weakref.WeakValueDictionary[int, _Maps] = weakref.WeakValueDictionary()
"""Maps by the id of their snapshot, for as long as a view shares them: sessions that select an unchanged
folder share one pair instead of a copy each (bench/: ten thousand sessions in IDLE)."""


_RECENT_MAPS = 8
_RENDERINGS_KEPT = 8
_recent: deque[_Maps] = deque(maxlen=_RECENT_MAPS)
"""The last maps made, held even while no view shares them: sessions that come one after another (a
client that logs in, reads and logs out) select an unchanged folder without building its maps, keywords
and first unseen message again.  What this keeps alive is bounded: at most this many snapshots."""


def _shared_maps(snapshot: tuple[Message, ...]) -> _Maps:
    maps = _shared.get(id(snapshot))
    if maps is None or maps.snapshot is not snapshot:
        maps = _shared[id(snapshot)] = _Maps(snapshot)
        _recent.append(maps)
    return maps


class SelectedFolder:
    """The selected folder as one session sees it.

    Args:
        mailbox: the logged-in user's mailbox.
        folder: the folder's name as the store keeps it.
        read_only: EXAMINE (or a SELECT that could not get write access).
    """

    __slots__ = (
        "_arrived",
        "_flagged",
        "_gone",
        "_maps",
        "folder",
        "gone",
        "mailbox",
        "messages",
        "read_only",
        "saved",
        "uids",
        "uidvalidity",
    )

    def __init__(self, mailbox: Mailbox, folder: str, *, read_only: bool) -> None:
        self.mailbox = mailbox
        self.folder = folder
        self.read_only = read_only
        self.uidvalidity = mailbox.folder(folder).uidvalidity
        maps = _shared_maps(mailbox.folder_snapshot(folder))
        self._maps: _Maps | None = maps
        self.uids: list[int] = maps.uids
        self.messages: dict[int, Message] = maps.messages
        """`uids`: UIDs in sequence order, message `n` is `uids[n - 1]` (UIDs rise, so the list is sorted).
        `messages`: the latest object of every message the client knows of (or will hear of), by UID.
        Both are shared with every view of the same store snapshot until this view changes (`_own`)."""
        self.saved: tuple[int, ...] = ()
        """The UIDs of the last SEARCH RETURN (SAVE) (RFC 5182 `$`)."""
        self.gone = False
        """The folder was deleted or the mailbox removed under the session."""
        # Nothing is pending before the view first changes (`_own`): until then these are shared, empty and
        # immutable (a set costs 216 octets, ten thousand times in IDLE); `_own` makes them the view's.
        self._gone: set[int] = _NO_SET
        self._flagged: set[int] = _NO_SET
        self._arrived: list[int] = _NO_LIST

    def keywords(self) -> tuple[str, ...]:
        """The keywords (flags without a backslash) the view's messages carry, sorted."""
        maps = self._maps
        if maps is None:
            return _keywords(self.messages.values())
        if maps.keywords is None:
            maps.keywords = _keywords(maps.snapshot)
        return maps.keywords

    def first_unseen(self) -> int | None:
        """The sequence number of the first message without \\Seen, or None."""
        maps = self._maps
        if maps is None:
            return _first_unseen(self.messages[uid] for uid in self.uids)
        if maps.first_unseen == -1:
            maps.first_unseen = _first_unseen(maps.snapshot)
        return maps.first_unseen

    def shared_rendering(self, key: object) -> bytes | None:
        """What `share_rendering` kept under `key` for this snapshot, while the view is the snapshot's."""
        maps = self._maps
        if maps is None or maps.renderings is None:
            return None
        return maps.renderings.get(key)

    def share_rendering(self, key: object, data: bytes) -> None:
        """Keep `data`, an answer made from the snapshot's messages alone (a FETCH of every message's
        flags and sizes), for the views of this snapshot: the same request gets the same bytes until the
        folder changes, when each view stops sharing the snapshot (`_own`)."""
        maps = self._maps
        if maps is None:
            return
        if maps.renderings is None:
            maps.renderings = {}
        elif len(maps.renderings) >= _RENDERINGS_KEPT:
            maps.renderings.clear()
        maps.renderings[key] = data

    def _own(self) -> None:
        """Copy the shared maps before this view changes them."""
        if self._maps is not None:
            self.uids = list(self.uids)
            self.messages = dict(self.messages)
            self._maps = None
            self._gone, self._flagged, self._arrived = set(), set(), []

    # --- what the store says ---------------------------------------------------------------------

    def changed(self, change: Change) -> bool:
        """Record a change of the store; True when it concerns this folder (something may be pending)."""
        if isinstance(change, FolderRenamed):
            for old, new in change.renames:
                if old == self.folder:
                    self.folder = new
            return False
        folder = getattr(change, "folder", None)
        if folder != self.folder:
            return False
        self._own()
        if isinstance(change, Arrived):
            for message in change.messages:
                if message.imap_uid not in self.messages:
                    self.messages[message.imap_uid] = message
                    self._arrived.append(message.imap_uid)
        elif isinstance(change, Expunged):
            for uid in change.uids:
                if uid in self._arrived:  # never announced: forget it quietly
                    self._arrived.remove(uid)
                    del self.messages[uid]
                elif uid in self.messages:
                    self._gone.add(uid)
        elif isinstance(change, FlagsChanged):
            for message in change.messages:
                uid = message.imap_uid
                if uid in self.messages:
                    self.messages[uid] = message
                    self._flagged.add(uid)
        elif isinstance(change, FolderDeleted):
            self.gone = True
            self._gone.update(self.uids)
            self._arrived.clear()
        return True

    @property
    def pending(self) -> bool:
        return bool(self._gone or self._flagged or self._arrived)

    def heard(self, uids: Iterable[int]) -> None:
        """The client was just sent these messages' flags (a FETCH or STORE answer): no update for them."""
        if self._flagged:
            self._flagged.difference_update(uids)

    # --- what the client hears -------------------------------------------------------------------

    def updates(self, *, expunges: bool = True, uid: bool = False) -> list[Response]:
        """The pending changes as responses, applied to the view as they are made."""
        out: list[Response] = []
        if not self.pending:
            return out
        self._own()
        if expunges and self._gone:
            uids = self.uids
            for gone in sorted(self._gone):
                index = bisect.bisect_left(uids, gone)
                if index < len(uids) and uids[index] == gone:
                    out.append(ExpungeResponse(index + 1))
                    del uids[index]
                self.messages.pop(gone, None)
                self._flagged.discard(gone)
            self._gone.clear()
        if self._flagged:
            for flagged in sorted(self._flagged):
                index = bisect.bisect_left(self.uids, flagged)
                if index < len(self.uids) and self.uids[index] == flagged:
                    flags = Flags(tuple(sorted(self.messages[flagged].flags)))
                    items = (("UID", flagged), ("FLAGS", flags)) if uid else (("FLAGS", flags),)
                    out.append(FetchResponse(index + 1, items))
            self._flagged.clear()
        if self._arrived:
            self.uids.extend(sorted(self._arrived))
            self._arrived.clear()
            out.append(ExistsResponse(len(self.uids)))
        return out

    # --- numbers ---------------------------------------------------------------------------------

    def message(self, seq: int) -> Message:
        return self.messages[self.uids[seq - 1]]

    def seq_of(self, uid: int) -> int | None:
        index = bisect.bisect_left(self.uids, uid)
        if index < len(self.uids) and self.uids[index] == uid:
            return index + 1
        return None
