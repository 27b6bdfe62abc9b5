"""`FolderCommands`: the IMAP session's answers about folders (RFC 9051 sections 6.3.3 to 6.3.12).

CREATE, DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE, LIST (with RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS
and RFC 6154 SPECIAL-USE), LSUB, NAMESPACE, STATUS and APPEND.  A mixin of `ImapSession`
(`server/imap_session.py`), which builds the dispatch table; every change to the store is one synchronous
store call made before the tagged OK is queued.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import FolderExists, FolderNotFound, InvalidInput, MessageTooLarge, StorageLimit, UidTaken
from ..imap import (
    ALREADYEXISTS,
    CANNOT,
    LIMIT,
    NONEXISTENT,
    TOOBIG,
    TRYCREATE,
    Append,
    Code,
    Create,
    Delete,
    List,
    ListResponse,
    Lsub,
    LsubResponse,
    Namespace,
    NamespaceResponse,
    No,
    Ok,
    Rename,
    Response,
    Status,
    StatusResponse,
    Subscribe,
    Unsubscribe,
    append_uid,
)
from ..message.ingest import Incoming, deliver
from ..store import INBOX, Mailbox, check_flags

if TYPE_CHECKING:
    from ..store.quota import Quota

__all__ = ["DELIMITER", "SPECIAL_USES", "FolderCommands"]

DELIMITER = "/"
SPECIAL_USES = frozenset({"\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged"})


class FolderCommands:
    """The folder commands of an IMAP session (a mixin: the session supplies the members below)."""

    __slots__ = ()

    if TYPE_CHECKING:
        max_message_size: int
        quota: Quota | None

        def _emit(self, reply: Any) -> None: ...
        def _box(self) -> Mailbox: ...

    def _on_create(self, event: Create) -> Response:
        name = event.mailbox.removesuffix(DELIMITER)  # a trailing delimiter only says "a parent to be"
        if len(event.special_use) > 1 or not SPECIAL_USES.issuperset(event.special_use):
            return No("one special use of " + " ".join(sorted(SPECIAL_USES)), Code("USEATTR"))
        use: Any = event.special_use[0] if event.special_use else None
        try:
            self._box().create_folder(name, special_use=use)
        except FolderExists:
            return No(f"{name} already exists", ALREADYEXISTS)
        except InvalidInput as exc:
            return No(str(exc), CANNOT)
        return Ok("CREATE completed")

    def _on_delete(self, event: Delete) -> Response:
        try:
            self._box().delete_folder(event.mailbox)
        except FolderNotFound:
            return No(f"no folder {event.mailbox}", NONEXISTENT)
        except InvalidInput as exc:
            return No(str(exc), CANNOT)
        return Ok("DELETE completed")

    def _on_rename(self, event: Rename) -> Response:
        try:
            self._box().rename_folder(event.mailbox, event.new_name)
        except FolderNotFound:
            return No(f"no folder {event.mailbox}", NONEXISTENT)
        except FolderExists:
            return No(f"{event.new_name} already exists", ALREADYEXISTS)
        except InvalidInput as exc:
            return No(str(exc), CANNOT)
        return Ok("RENAME completed")

    def _on_subscribe(self, event: Subscribe | Unsubscribe) -> Response:
        try:
            self._box().subscribe(event.mailbox, isinstance(event, Subscribe))
        except FolderNotFound:
            return No(f"no folder {event.mailbox}", NONEXISTENT)
        return Ok(f"{event.verb} completed")

    def _on_namespace(self, event: Namespace) -> Response:
        self._emit(NamespaceResponse((("", DELIMITER),)))
        return Ok("NAMESPACE completed")

    @staticmethod
    def _attributes(
        name: str, mailbox: Mailbox, special_use: str | None, subscribed: bool, names: Sequence[str] = ()
    ) -> tuple[str, ...]:
        if not names:
            names = [f.name for f in mailbox.folders()]
        prefix = name + DELIMITER
        attrs = ["\\HasChildren" if any(n.startswith(prefix) for n in names) else "\\HasNoChildren"]
        if special_use is not None:
            attrs.append(special_use)
        if subscribed:
            attrs.append("\\Subscribed")
        return tuple(attrs)

    def _on_list(self, event: List) -> Response:
        mailbox = self._box()
        if event.patterns == ("",) and not event.extended:
            self._emit(ListResponse(("\\Noselect",), DELIMITER, ""))
            return Ok("LIST completed")
        folders = mailbox.folders()
        names = [f.name for f in folders]
        matchers = [_pattern(event.reference + p) for p in event.patterns]
        only_subscribed = "SUBSCRIBED" in event.selection
        only_special = "SPECIAL-USE" in event.selection
        show_subscribed = only_subscribed or "SUBSCRIBED" in event.return_options
        for info in folders:
            if not any(m(info.name) for m in matchers):
                continue
            if (only_subscribed and not info.subscribed) or (only_special and info.special_use is None):
                continue
            attrs = self._attributes(
                info.name, mailbox, info.special_use, show_subscribed and info.subscribed, names
            )
            self._emit(ListResponse(attrs, DELIMITER, info.name))
            if event.status_items:
                self._emit(StatusResponse(info.name, self._status_items(info.name, event.status_items)))
        return Ok("LIST completed")

    def _on_lsub(self, event: Lsub) -> Response:
        mailbox = self._box()
        match = _pattern(event.reference + event.pattern)
        folders = mailbox.folders()
        names = [f.name for f in folders]
        for info in folders:
            if info.subscribed and match(info.name):
                attrs = self._attributes(info.name, mailbox, None, False, names)
                self._emit(LsubResponse(attrs, DELIMITER, info.name))
        return Ok("LSUB completed")

    def _status_items(self, name: str, items: Sequence[str]) -> tuple[tuple[str, int], ...]:
        mailbox = self._box()
        info = mailbox.folder(name)
        out: list[tuple[str, int]] = []
        snapshot = None
        for item in items:
            if item == "MESSAGES":
                out.append((item, info.messages))
            elif item == "UIDNEXT":
                out.append((item, info.uidnext))
            elif item == "UIDVALIDITY":
                out.append((item, info.uidvalidity))
            elif item == "SIZE":
                out.append((item, info.octets))
            elif item == "RECENT":
                out.append((item, 0))
            elif item in ("UNSEEN", "DELETED"):
                if snapshot is None:
                    snapshot = mailbox.folder_snapshot(name)
                if item == "UNSEEN":
                    out.append((item, sum(1 for m in snapshot if "\\Seen" not in m.flags)))
                else:
                    out.append((item, sum(1 for m in snapshot if "\\Deleted" in m.flags)))
        return tuple(out)

    def _on_status(self, event: Status) -> Response:
        try:
            items = self._status_items(event.mailbox, event.items)
        except FolderNotFound:
            return No(f"no folder {event.mailbox}", NONEXISTENT)
        self._emit(StatusResponse(self._box().folder(event.mailbox).name, items))
        return Ok("STATUS completed")

    def _on_append(self, event: Append) -> Response:
        mailbox = self._box()
        when = None if event.internal_date is None else event.internal_date.timestamp()
        try:
            folder = mailbox.folder(event.mailbox)
            stored = deliver(
                mailbox,
                [Incoming(event.message, field="message")],
                limit=self.max_message_size,
                via="imap",
                quota=self.quota,
                folder=folder.name,
                flags=check_flags(event.flags),
                internaldate=when,
            )
        except FolderNotFound:
            return No(f"no folder {event.mailbox}", TRYCREATE)
        except MessageTooLarge as exc:
            return No(str(exc), TOOBIG)
        except StorageLimit as exc:
            return No(str(exc), Code("OVERQUOTA"))
        except (InvalidInput, UidTaken) as exc:
            return No(str(exc), LIMIT if isinstance(exc, UidTaken) else None)
        return Ok("APPEND completed", append_uid(folder.uidvalidity, stored[0].imap_uid))


def _pattern(pattern: str) -> Callable[[str], bool]:
    """A LIST pattern as a test of folder names: `*` matches anything, `%` anything but the delimiter;
    `INBOX` in any case is INBOX."""
    parts = [".*" if c == "*" else "[^/]*" if c == "%" else re.escape(c) for c in pattern]
    compiled = re.compile("".join(parts) + r"\Z", re.DOTALL)
    inbox = re.compile("".join(parts) + r"\Z", re.DOTALL | re.IGNORECASE)

    def test(name: str) -> bool:
        if name == INBOX:
            return inbox.match(name) is not None
        return compiled.match(name) is not None

    return test
