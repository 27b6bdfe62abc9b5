"""FETCH for the IMAP session: one stored message's untagged FETCH response, item by item (RFC 9051 section
6.4.5 and 7.5.2, RFC 3516 BINARY).

- The macros ALL, FAST and FULL are expanded by the parser (`mockmail.imap._fetch.MACROS`): only plain
  items reach `fetch_response`.
- FLAGS, UID, RFC822.SIZE and INTERNALDATE come from the store's `Message` and need neither its content nor
  its MIME tree; RFC822, BODY[] and BINARY[] read the content but parse nothing; every other item parses
  the message once, through `MessageCache`.
- Items are answered in the order asked, each once (a repeated item is answered once); `UID` comes first
  when `uid` is set and the client did not ask for it (RFC 9051 section 6.4.9: UID FETCH always includes
  it).  When `flags` is given and differs from the message's flags (\\Seen was just set by this fetch),
  FLAGS is included even if not asked (RFC 9051 section 6.4.5: "they SHOULD be included").
- BODY[...], RFC822, RFC822.HEADER and RFC822.TEXT are always literals, with the exact octet count of the
  stored octets.  A literal cannot carry NUL (only BINARY's literal8 can), so a NUL in them is sent as
  0x80, as Dovecot does; the octet count is unchanged.  BINARY[...] is a literal8 `~{n}` when the decoded
  octets hold NUL, a literal otherwise.  A partial `<start.length>` past the end gives an empty literal,
  and the item is named back with its origin only (`BODY[]<0>`).
- INTERNALDATE is written in UTC, the server's zone (`+0000`).
- BINARY[...], BINARY.PEEK[...] and BINARY.SIZE[...] of a part whose Content-Transfer-Encoding is unknown
  raise `UnknownCteError` out of `fetch_response`: the caller answers `NO [UNKNOWN-CTE]` (RFC 3516 section
  4.3) and sends nothing for that message.
- MODSEQ is RFC 7162 CONDSTORE, which the store does not keep: `fetch_response` raises `ValueError`, and
  the session must not accept the item (it does not announce CONDSTORE).

`MessageCache` keeps MIME trees (octet offsets and header values, never the content) weakly keyed by the
message object, so a persistent store's message holds no octets in the cache, and an expunged message's
tree goes when the session lets the message go.  A message the store hands out anew after a flag change or
a move (`Message.replaced`, the same `key`) reuses its predecessor's tree while that one is still held.
"""

from __future__ import annotations

import datetime
import functools
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence

from ..imap import (
    Binary,
    FetchAttribute,
    FetchKind,
    FetchResponse,
    FetchRows,
    Flags,
    MessageView,
    MimePart,
    Rendered,
    Section,
    SectionText,
    Value,
    binary_section,
    binary_size,
    body_structure,
    parse_message,
    section_bytes,
    write_envelope,
)
from ..store import Message

__all__ = ["DEFAULT_TREES", "MessageCache", "fetch_response", "fetch_rows", "flag_order", "sets_seen"]

DEFAULT_TREES = 4096
"""Trees a `MessageCache` keeps at most; the least recently used go first.  A tree costs a few hundred
octets per part, so a full cache of ordinary messages stays in the low megabytes."""

_Trees = OrderedDict[weakref.ref[Message], MimePart]
_NO_TREES: _Trees = OrderedDict()
"""The empty map every cache starts with (never written: `_keep` makes a cache its own first)."""
_HEADER = Section(text=SectionText.HEADER)
_TEXT = Section(text=SectionText.TEXT)


class MessageCache:
    """The parsed MIME trees of a session's messages: each message parsed once, at most `limit` kept.

    Keep one cache per session (or per store): a `replaced` message finds its predecessor's tree by
    `Message.key`, which is unique within one store only.
    """

    __slots__ = ("__weakref__", "_by_key", "_limit", "_trees", "parses")

    def __init__(self, limit: int = DEFAULT_TREES) -> None:
        if limit < 1:
            raise ValueError(f"a message cache keeps at least one tree, not {limit:d}")
        self._limit = limit
        self._trees: _Trees = _NO_TREES
        """Made with the first tree kept: a session that never parses a message (most) holds none."""
        self._by_key: weakref.WeakValueDictionary[int, Message] | None = None
        self.parses = 0
        """How many messages this cache has parsed (a cheap FETCH or SEARCH parses none)."""

    def __len__(self) -> int:
        return len(self._trees)

    def view(self, message: Message, *, content: bytes | None = None) -> MessageView:
        """The message's content with its MIME tree, parsing it only when no tree is kept for it.

        `content` is the message's content when the caller has read it already (a persistent store's
        message reads it afresh on each `Message.content`).
        """
        if content is None:
            content = message.content
        ref = weakref.ref(message)
        tree = self._trees.get(ref)
        if tree is not None:
            self._trees.move_to_end(ref)
            return MessageView(content, tree)
        tree = self._sibling_tree(message)
        if tree is None:
            tree = parse_message(content)
            self.parses += 1
        self._keep(message, tree)
        return MessageView(content, tree)

    def _sibling_tree(self, message: Message) -> MimePart | None:
        """The tree of an earlier object for the same stored message (same key and size), if still kept."""
        if self._by_key is None:
            return None
        sibling = self._by_key.get(message.key)
        if sibling is None or sibling is message or sibling.size != message.size:
            return None
        return self._trees.get(weakref.ref(sibling))

    def _keep(self, message: Message, tree: MimePart) -> None:
        if self._by_key is None:
            self._trees = OrderedDict()
            self._by_key = weakref.WeakValueDictionary()
        trees = self._trees
        trees[weakref.ref(message, _forgetter(trees))] = tree
        self._by_key[message.key] = message
        while len(trees) > self._limit:
            trees.popitem(last=False)


def _forgetter(trees: _Trees) -> Callable[[weakref.ref[Message]], None]:
    """The callback that drops a dead message's tree; it holds the cache's dictionary only weakly."""
    holder = weakref.ref(trees)

    def forget(ref: weakref.ref[Message]) -> None:
        kept = holder()
        if kept is not None:
            kept.pop(ref, None)

    return forget


def sets_seen(attributes: Sequence[FetchAttribute]) -> bool:
    """Whether fetching `attributes` sets \\Seen: BODY[...] and BINARY[...] without PEEK, RFC822, RFC822.TEXT."""
    return any(attribute.sets_seen for attribute in attributes)


def _flag_key(flag: str) -> tuple[bool, str]:
    return (not flag.startswith("\\"), flag)


@functools.lru_cache(maxsize=1024)
def flag_order(flags: frozenset[str]) -> tuple[str, ...]:
    """Flags as FETCH and FLAGS list them: system flags first, then keywords, each sorted (the few flag
    sets of a mailbox are each sorted once)."""
    return tuple(sorted(flags, key=_flag_key))


@functools.lru_cache(maxsize=1024)
def _flags_value(flags: frozenset[str]) -> Flags:
    return Flags(flag_order(flags))


def _literal(data: bytes) -> Binary:
    """A body as a literal (never quoted), NUL sent as 0x80 so that it never becomes a literal8."""
    return Binary(data.replace(b"\x00", b"\x80") if b"\x00" in data else data)


class _Reading:
    """One message's content and tree, each read on first need and then reused by every item."""

    __slots__ = ("_cache", "_content", "_message", "_view")

    def __init__(self, message: Message, cache: MessageCache) -> None:
        self._message = message
        self._cache = cache
        self._content: bytes | None = None
        self._view: MessageView | None = None

    def content(self) -> bytes:
        if self._view is not None:
            return self._view.content
        if self._content is None:
            self._content = self._message.content
        return self._content

    def view(self) -> MessageView:
        if self._view is None:
            self._view = self._cache.view(self._message, content=self._content)
        return self._view


def _whole(section: Section) -> bool:
    return not section.parts and section.text is None


def _cut(data: bytes, section: Section) -> bytes:
    if section.partial is None:
        return data
    start, length = section.partial
    return data[start : start + length]


def _item(attribute: FetchAttribute, message: Message, flags: frozenset[str], reading: _Reading) -> Value:
    kind = attribute.kind
    section = attribute.section
    if kind is FetchKind.FLAGS:
        return _flags_value(flags)
    if kind is FetchKind.UID:
        return message.imap_uid
    if kind is FetchKind.RFC822_SIZE:
        return message.size
    if kind is FetchKind.INTERNALDATE:
        return datetime.datetime.fromtimestamp(int(message.internaldate), datetime.UTC)
    if kind is FetchKind.RFC822:
        return _literal(reading.content())
    if kind is FetchKind.RFC822_HEADER:
        return _literal(section_bytes(reading.view(), _HEADER))
    if kind is FetchKind.RFC822_TEXT:
        return _literal(section_bytes(reading.view(), _TEXT))
    if kind is FetchKind.ENVELOPE:
        envelope = reading.view().tree.envelope
        assert envelope is not None  # the root of every tree is a message
        return Rendered(write_envelope(envelope))
    if kind is FetchKind.BODY:
        return Rendered(body_structure(reading.view().tree, extended=False))
    if kind is FetchKind.BODYSTRUCTURE:
        return Rendered(body_structure(reading.view().tree, extended=True))
    if kind is FetchKind.MODSEQ:
        raise ValueError("FETCH MODSEQ is not served (the store keeps no CONDSTORE mod-sequences)")
    assert section is not None, f"{kind.value} comes with a section"
    if kind is FetchKind.BODY_SECTION:
        if _whole(section):
            return _literal(_cut(reading.content(), section))
        return _literal(section_bytes(reading.view(), section))
    if kind is FetchKind.BINARY:
        if not section.parts:  # the whole message has no transfer encoding of its own
            return Binary(_cut(reading.content(), section))
        return Binary(binary_section(reading.view(), section))
    if kind is FetchKind.BINARY_SIZE:
        if not section.parts:
            return message.size
        return binary_size(reading.view(), section)
    raise AssertionError(f"no FETCH item {kind.value}")


def fetch_response(
    message: Message,
    seq: int,
    attributes: Sequence[FetchAttribute],
    cache: MessageCache,
    *,
    uid: bool,
    flags: frozenset[str] | None = None,
) -> FetchResponse:
    """The untagged `* seq FETCH (...)` of `message` for `attributes`, in the order asked.

    Args:
        seq: the message's sequence number in the session.
        uid: a UID FETCH: UID is answered (first) even when not asked for.
        flags: the flags to report instead of `message.flags` (the session just set \\Seen); when they
            differ from `message.flags`, FLAGS is reported even if not asked for.

    Raises:
        UnknownCteError: a BINARY item names a part with an unknown Content-Transfer-Encoding (answer
            `NO [UNKNOWN-CTE]`).
        ValueError: MODSEQ was asked for (no CONDSTORE).
    """
    current = message.flags if flags is None else flags
    wanted: list[FetchAttribute] = list(attributes)
    if uid and not any(a.kind is FetchKind.UID for a in wanted):
        wanted.insert(0, FetchAttribute(FetchKind.UID))
    if flags is not None and flags != message.flags and not any(a.kind is FetchKind.FLAGS for a in wanted):
        wanted.append(FetchAttribute(FetchKind.FLAGS))
    reading = _Reading(message, cache)
    items: list[tuple[str, Value]] = []
    named: set[str] = set()
    for attribute in wanted:
        name = attribute.response_name
        if name in named:
            continue
        named.add(name)
        items.append((name, _item(attribute, message, current, reading)))
    return FetchResponse(seq, tuple(items))


_ROW_KINDS = frozenset({FetchKind.FLAGS, FetchKind.UID, FetchKind.RFC822_SIZE, FetchKind.INTERNALDATE})
"""Items answered from the store's `Message` alone, never a literal: what `fetch_rows` serves."""


def fetch_rows(
    targets: Sequence[tuple[int, Message]], attributes: Sequence[FetchAttribute], *, uid: bool
) -> FetchRows | None:
    """The `* n FETCH` lines of `targets` ((sequence number, message) pairs) as rows, when every item is
    FLAGS, UID, RFC822.SIZE or INTERNALDATE: the same lines `fetch_response` gives each message (no flags
    to report instead of the message's: nothing here sets \\Seen).  None when an item needs more, or
    there is no target."""
    if not targets or any(a.kind not in _ROW_KINDS for a in attributes):
        return None
    kinds: list[FetchKind] = []
    if uid and not any(a.kind is FetchKind.UID for a in attributes):
        kinds.append(FetchKind.UID)
    for attribute in attributes:
        if attribute.kind not in kinds:  # a repeated item is answered once
            kinds.append(attribute.kind)
    names = tuple(kind.value for kind in kinds)
    if kinds == [FetchKind.FLAGS, FetchKind.RFC822_SIZE]:  # the usual client's first FETCH 1:*
        return FetchRows(names, [(seq, (_flags_value(m.flags), m.size)) for seq, m in targets])
    return FetchRows(names, [(seq, tuple(_row(kind, m) for kind in kinds)) for seq, m in targets])


def _row(kind: FetchKind, message: Message) -> Value:
    if kind is FetchKind.FLAGS:
        return _flags_value(message.flags)
    if kind is FetchKind.UID:
        return message.imap_uid
    if kind is FetchKind.RFC822_SIZE:
        return message.size
    return datetime.datetime.fromtimestamp(int(message.internaldate), datetime.UTC)
