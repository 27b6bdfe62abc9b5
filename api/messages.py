"""`/api/v1/tenants/{tenant}/mailboxes/{user}/messages`: seed, list, fetch and delete messages.

A POST takes one of three bodies, by Content-Type:
- `message/rfc822`: one raw RFC 5322 message (optional `?uid=` query parameter: checked whatever the body,
  used only here, since JSON messages carry their own `uid` and mbox messages get fresh ones);
- `application/mbox`: many raw messages in one mbox file;
- `application/json` (the default): a `MessageSpec` object, or an array of them, composed with `email`.
A bulk POST is all or nothing: every message is checked before the first one is stored.

A GET with `?wait=SECONDS` is a long-poll: it answers as soon as the mailbox holds at least `count`
messages (1 by default), or when the time is up with whatever is there, so a test can wait for the mail
its application sent over SMTP without sleeping.  It wakes on every arrival in the tenant, not on a timer.
The filters (`?subject=`, `?sender=`, `?to=`, `?text=`, `?q=`: see `filters.py`) narrow both the listing
and what the long-poll counts, so waiting for one mail among many fetches nothing else.

Messages live in folders (IMAP's view); `?folder=` lists, waits on or seeds one (INBOX, what POP3 sees, by
default).  A message's id finds it in any folder; `PUT .../{id}/flags` sets its IMAP flags.
"""

from __future__ import annotations

import datetime
import email.parser
import email.policy
import math
from collections.abc import AsyncIterator

import msgspec
from quart import Blueprint, Response, request

from mockmail.errors import InvalidInput
from mockmail.message.compose import compose, split_mbox
from mockmail.message.headers import header_block, raw_fields
from mockmail.message.ingest import Incoming
from mockmail.message.links import links
from mockmail.message.mime import bodies
from mockmail.store import INBOX, Mailbox, Message, check_flags, check_folder_name, check_uid
from mockmail.tenancy.service import Service
from mockmail.tenancy.specs import FlagsSpec, MessageSpec

from .filters import FILTER_NAMES, check_params, message_filter
from .http import (
    check_tenant_name,
    check_user_name,
    decode_json,
    json_response,
    no_content,
    require_json,
    whole_number,
)
from .schemas import MessageCreated, MessageDetail, MessageSummary

__all__ = ["blueprint"]

_SPECS = msgspec.json.Decoder(MessageSpec | list[MessageSpec])
_FLAGS = msgspec.json.Decoder(FlagsSpec)
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.default)
MAX_WAIT = 300.0
"""Longest long-poll, in seconds."""
MAX_COUNT = 100_000
RAW_TYPE = "message/rfc822"
MBOX_TYPE = "application/mbox"
LIST_PARAMS = ("wait", "count", "folder", *FILTER_NAMES)


def _created(message: Message) -> MessageCreated:
    return MessageCreated(id=message.id, uid=message.uid, size=message.size)


def _summary(message: Message) -> MessageSummary:
    s = message.summary
    return MessageSummary(
        id=message.id,
        uid=message.uid,
        size=message.size,
        subject=s.subject,
        sender=s.sender,
        date=s.date,
        message_id=s.message_id,
        via=message.via,
        envelope=message.envelope,
        folder=message.folder,
        flags=sorted(message.flags),
        imap_uid=message.imap_uid,
        internaldate=datetime.datetime.fromtimestamp(message.internaldate, datetime.UTC),
    )


def _detail(message: Message) -> MessageDetail:
    content = message.content  # read once: a persistent store reads it from disk on each use
    block = header_block(content)
    try:
        parsed = _HEADERS.parsebytes(block)
        headers = [[name, str(value)] for name, value in parsed.items()]
    except Exception:  # the email package fails on some malformed fields (see compose._set): show them raw
        headers = [[name, value] for name, value in raw_fields(block)]
    return MessageDetail(
        **msgspec.structs.asdict(_summary(message)), headers=headers, links=links(*bodies(content))
    )


def _wait_args() -> tuple[float, int]:
    """`?wait=` seconds (0: answer at once) and `?count=` messages to wait for."""
    raw_wait, raw_count = request.args.get("wait"), request.args.get("count")
    wait = 0.0
    if raw_wait is not None:
        try:
            wait = float(raw_wait)
        except ValueError:
            wait = math.nan
        if not 0 <= wait <= MAX_WAIT:  # NaN fails both comparisons
            raise InvalidInput(f"wait is a number of seconds from 0 to {MAX_WAIT:g}", field="wait")
    count = 1 if raw_count is None else whole_number(raw_count, "count", 1, MAX_COUNT)
    return wait, count


def _folder_arg(box: Mailbox) -> str:
    """The folder `?folder=` names (INBOX when absent), once it is known to exist.

    Raises:
        InvalidInput: the name cannot name a folder.
        FolderNotFound: the mailbox has no such folder (404 naming `folder`).
    """
    raw = request.args.get("folder")
    if raw is None:
        return INBOX
    return box.folder(check_folder_name(raw)).name


def blueprint(service: Service) -> Blueprint:
    bp = Blueprint("messages", __name__)

    def mailbox(tenant: str, user: str) -> Mailbox:
        return service.mailbox(check_tenant_name(tenant), check_user_name(user))

    @bp.post("/tenants/<tenant>/mailboxes/<user>/messages")
    async def add_messages(tenant: str, user: str) -> Response:
        box = mailbox(tenant, user)  # 404 before the body is read
        mimetype = request.mimetype
        query_uid = request.args.get("uid")
        if query_uid is not None:
            check_uid(query_uid, "uid")
        folder = _folder_arg(box)
        flags = check_flags([f for f in request.args.get("flags", "").split(" ") if f], "flags")
        if mimetype == RAW_TYPE:
            raw = await request.get_data(cache=False, as_text=False)
            assert isinstance(raw, bytes)
            stored = service.deliver(
                tenant, user, [Incoming(raw, query_uid, "body")], folder=folder, flags=flags
            )
            return json_response(_created(stored[0]), 201)
        if mimetype == MBOX_TYPE:
            data = await request.get_data(cache=False, as_text=False)
            assert isinstance(data, bytes)
            try:
                raws = split_mbox(data)
            except ValueError as exc:
                raise InvalidInput(str(exc), field="body") from None
            if not raws:
                raise InvalidInput("the mbox file holds no message", field="body")
            items = [Incoming(raw, None, f"body[{i}]") for i, raw in enumerate(raws)]
            stored = service.deliver(tenant, user, items, folder=folder, flags=flags)
            return json_response([_created(m) for m in stored], 201)
        require_json(RAW_TYPE, MBOX_TYPE)
        specs = await decode_json(_SPECS)
        single = isinstance(specs, MessageSpec)
        batch = [specs] if isinstance(specs, MessageSpec) else specs
        if not batch:
            raise InvalidInput("the array holds no message", field="$")
        items = []
        for index, spec in enumerate(batch):
            where = "$" if single else f"$[{index}]"
            items.append(Incoming(compose(spec, user, where), spec.uid, where, normalized=True))
        stored = service.deliver(tenant, user, items, uid_field="$.uid", folder=folder, flags=flags)
        if single:
            return json_response(_created(stored[0]), 201)
        return json_response([_created(m) for m in stored], 201)

    @bp.get("/tenants/<tenant>/mailboxes/<user>/messages")
    async def list_messages(tenant: str, user: str) -> Response:
        box = mailbox(tenant, user)
        check_params(*LIST_PARAMS)
        folder = _folder_arg(box)
        wait, count = _wait_args()
        wanted = message_filter()
        judged: dict[str, bool] = {}  # each message looked at once, however often the poll wakes

        def ready(box: Mailbox) -> bool:
            return wanted.count(box, folder, judged) >= count

        if wait and not ready(box):  # 404 if the tenant, the mailbox or the folder goes meanwhile
            box = await service.wait_until(tenant, user, ready, wait)
        return json_response([_summary(m) for m in wanted.select(box.listing(folder), judged)])

    @bp.delete("/tenants/<tenant>/mailboxes/<user>/messages")
    async def purge_messages(tenant: str, user: str) -> Response:
        mailbox(tenant, user).purge()
        return no_content()

    @bp.get("/tenants/<tenant>/mailboxes/<user>/messages/<message_id>")
    async def get_message(tenant: str, user: str, message_id: str) -> Response:
        box = mailbox(tenant, user)
        message = box.get(message_id)
        wanted = request.accept_mimetypes.best_match(["application/json", RAW_TYPE])
        if wanted == RAW_TYPE:
            if message.resident:
                return Response(message.content, status=200, content_type=RAW_TYPE)
            pieces = box.stream(message)  # read from the store a piece at a time, as the client takes it

            async def body() -> AsyncIterator[bytes]:
                for piece in pieces:
                    yield piece

            response = Response(body(), status=200, content_type=RAW_TYPE)
            response.content_length = message.size
            return response
        return json_response(_detail(message))

    @bp.delete("/tenants/<tenant>/mailboxes/<user>/messages/<message_id>")
    async def delete_message(tenant: str, user: str, message_id: str) -> Response:
        box = mailbox(tenant, user)
        message = box.get(message_id)
        box.expunge(message.folder, [message.imap_uid])
        return no_content()

    @bp.put("/tenants/<tenant>/mailboxes/<user>/messages/<message_id>/flags")
    async def set_message_flags(tenant: str, user: str, message_id: str) -> Response:
        box = mailbox(tenant, user)
        message = box.get(message_id)
        spec = await decode_json(_FLAGS)
        box.set_flags(message.folder, [message.imap_uid], check_flags(spec.flags, "$.flags"))
        return json_response(_detail(box.get(message_id)))

    return bp
