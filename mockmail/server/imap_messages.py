"""`MessageCommands`: the IMAP session's answers about the messages of the selected folder.

EXPUNGE (and UID EXPUNGE), SEARCH (with RFC 4731 ESEARCH and RFC 5182 SAVE), SORT (RFC 5256), FETCH, STORE,
COPY and MOVE (RFC 6851), by sequence number or UID.  A mixin of `ImapSession` (`server/imap_session.py`),
which builds the dispatch table and queues the pending untagged updates after each answer; the items and
the search keys are `server/imap_fetch.py`'s and `server/imap_search.py`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import FolderNotFound, InvalidInput
from ..imap import (
    NONEXISTENT,
    READ_ONLY,
    TRYCREATE,
    Bad,
    Copy,
    EsearchResponse,
    Expunge,
    Fetch,
    FetchAttribute,
    FetchKind,
    FetchRows,
    Move,
    No,
    Ok,
    Response,
    Search,
    SearchResponse,
    SequenceError,
    SequenceSet,
    Sort,
    SortResponse,
    Store,
    StoreMode,
    Untagged,
    copy_uid,
)
from ..store import Mailbox, check_flags
from .imap_fetch import MessageCache, fetch_response, fetch_rows, sets_seen
from .imap_search import Candidate, search, sort
from .imap_selected import SelectedFolder

__all__ = ["MessageCommands"]


class MessageCommands:
    """The selected-state message commands of an IMAP session (a mixin: the session supplies the members
    below)."""

    __slots__ = ()

    if TYPE_CHECKING:
        selected: SelectedFolder | None
        hooks: Any
        _cache: MessageCache

        def _emit(self, reply: Any) -> None: ...
        def _emit_lines(self, replies: Sequence[Any]) -> None: ...
        def _emit_rows(self, rows: FetchRows) -> bytes: ...
        def _emit_rendered_rows(self, block: bytes) -> None: ...
        def _box(self) -> Mailbox: ...

    def _view(self) -> SelectedFolder:
        view = self.selected
        assert view is not None  # the core allows these commands only in SELECTED state
        return view

    def _targets(self, numbers: SequenceSet, uid: bool) -> list[tuple[int, int]] | None:
        """(sequence number, UID) of every message `numbers` names, in order; None when it is invalid."""
        view = self._view()
        if numbers.saved:
            saved = set(view.saved)
            return [(n, u) for n, u in enumerate(view.uids, 1) if u in saved]
        if uid:
            picked = numbers.resolve_uids(view.uids)
            return [(n, u) for u in picked if (n := view.seq_of(u)) is not None]
        try:
            return [(n, view.uids[n - 1]) for n in numbers.resolve_sequence(len(view.uids))]
        except SequenceError:
            return None

    def _on_expunge(self, event: Expunge) -> Response:
        view = self._view()
        if view.read_only:
            return No("the folder is read-only (EXAMINE)", READ_ONLY)
        uids = [u for u in view.uids if "\\Deleted" in view.messages[u].flags]
        if event.uids is not None:
            wanted = set(event.uids.resolve_uids(view.uids)) if not event.uids.saved else set(view.saved)
            uids = [u for u in uids if u in wanted]
        if uids and not view.gone:
            self._box().expunge(view.folder, uids)
        return Ok("EXPUNGE completed")

    def _on_search(self, event: Search) -> Response:
        view = self._view()
        candidates = [Candidate(n, view.messages[u]) for n, u in enumerate(view.uids, 1)]
        found = search(
            event.criteria,
            candidates,
            self._cache,
            largest_uid=view.uids[-1] if view.uids else 0,
            largest_seq=len(view.uids),
            saved=view.saved,
        )
        numbers = [c.message.imap_uid if event.uid else c.seq for c in found]
        options = event.return_options
        if options is None:
            self._emit(SearchResponse(tuple(numbers)))
            return Ok("SEARCH completed")
        if "SAVE" in options:
            view.saved = tuple(c.message.imap_uid for c in found)
        wanted = set(options) - {"SAVE"} if options != ("SAVE",) else set()
        if not options:
            wanted = {"ALL"}
        if wanted or not options:
            self._emit(
                EsearchResponse(
                    uid=event.uid,
                    min=min(numbers) if numbers and "MIN" in wanted else None,
                    max=max(numbers) if numbers and "MAX" in wanted else None,
                    all=SequenceSet.from_numbers(numbers) if numbers and "ALL" in wanted else None,
                    count=len(numbers) if "COUNT" in wanted else None,
                )
            )
        return Ok("SEARCH completed")

    def _on_sort(self, event: Sort) -> Response:
        view = self._view()
        candidates = [Candidate(n, view.messages[u]) for n, u in enumerate(view.uids, 1)]
        found = search(
            event.search,
            candidates,
            self._cache,
            largest_uid=view.uids[-1] if view.uids else 0,
            largest_seq=len(view.uids),
            saved=view.saved,
        )
        ordered = sort(event.criteria, found, self._cache)
        self._emit(SortResponse(tuple(c.message.imap_uid if event.uid else c.seq for c in ordered)))
        return Ok("SORT completed")

    def _on_fetch(self, event: Fetch) -> Response:
        view = self._view()
        targets = self._targets(event.sequence_set, event.uid)
        if targets is None:
            return Bad("invalid message sequence number")
        attributes: Sequence[FetchAttribute] = event.items
        if targets and not view.read_only and not view.gone and sets_seen(attributes):
            unseen = [u for _, u in targets if "\\Seen" not in view.messages[u].flags]
            if unseen:
                self._box().set_flags(view.folder, unseen, ("\\Seen",), "add")
                if not any(a.kind is FetchKind.FLAGS for a in attributes):
                    attributes = (*attributes, FetchAttribute(FetchKind.FLAGS))
        cache = self._cache
        messages = view.messages
        if self.hooks is not None:  # the quirk hooks bend FetchResponses one by one
            self._emit_lines(
                [fetch_response(messages[uid], seq, attributes, cache, uid=event.uid) for seq, uid in targets]
            )
        else:
            # Every message (targets ascend, so as many as the view has is all of them, in order): an
            # answer of rows is the snapshot's, the same bytes for each view that still shares it.
            whole = len(targets) == len(view.uids)
            key = (attributes, event.uid)
            shared = view.shared_rendering(key) if whole else None
            if shared is not None:
                self._emit_rendered_rows(shared)
            else:
                rows = fetch_rows([(seq, messages[uid]) for seq, uid in targets], attributes, uid=event.uid)
                if rows is None:
                    self._emit_lines(
                        [fetch_response(messages[uid], seq, attributes, cache, uid=event.uid) for seq, uid in targets]
                    )
                elif whole:
                    view.share_rendering(key, self._emit_rows(rows))
                else:
                    self._emit_rows(rows)
        if attributes is not event.items or any(a.kind is FetchKind.FLAGS for a in attributes):
            view.heard(u for _, u in targets)
        return Ok("FETCH completed")

    def _on_store(self, event: Store) -> Response:
        view = self._view()
        if view.read_only:
            return No("the folder is read-only (EXAMINE)", READ_ONLY)
        targets = self._targets(event.sequence_set, event.uid)
        if targets is None:
            return Bad("invalid message sequence number")
        try:
            flags = check_flags(event.flags)
        except InvalidInput as exc:
            return Bad(str(exc))
        mode: Any = {StoreMode.REPLACE: "replace", StoreMode.ADD: "add", StoreMode.REMOVE: "remove"}[
            event.mode
        ]
        if targets and not view.gone:
            self._box().set_flags(view.folder, [u for _, u in targets], flags, mode)
        if not event.silent:
            attrs = (FetchAttribute(FetchKind.FLAGS),)
            self._emit_lines(
                [fetch_response(view.messages[u], seq, attrs, self._cache, uid=event.uid) for seq, u in targets]
            )
        view.heard(u for _, u in targets)
        return Ok("STORE completed")

    def _transfer(self, event: Copy | Move) -> Response:
        view = self._view()
        targets = self._targets(event.sequence_set, event.uid)
        if targets is None:
            return Bad("invalid message sequence number")
        mailbox = self._box()
        move = isinstance(event, Move)
        if move and view.read_only:
            return No("the folder is read-only (EXAMINE)", READ_ONLY)
        try:
            target = mailbox.folder(event.mailbox)
            uids = [u for _, u in targets]
            pairs = (mailbox.move if move else mailbox.copy)(view.folder, uids, target.name) if uids else []
        except FolderNotFound as exc:
            if getattr(exc, "field", None) == "folder":
                return No("the selected folder is gone", NONEXISTENT)
            return No(f"no folder {event.mailbox}", TRYCREATE)
        code = None
        if pairs:
            code = copy_uid(
                target.uidvalidity,
                SequenceSet.from_numbers(old for old, _ in pairs),
                SequenceSet.from_numbers(new for _, new in pairs),
            )
        if move:
            if code is not None:
                self._emit(Untagged("OK", "moved", code))
            return Ok("MOVE completed")
        return Ok("COPY completed", code)

    def _on_copy(self, event: Copy) -> Response:
        return self._transfer(event)

    def _on_move(self, event: Move) -> Response:
        return self._transfer(event)
