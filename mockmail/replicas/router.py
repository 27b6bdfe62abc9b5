"""`ReplicaRouter`: the raw ASGI layer in front of a replica's API, so that every replica answers every call.

- `/api/v1/tenants/{name}/...` of a tenant this replica serves goes to its own app, as before.  One that
  another replica owns (`route_of`: the `leases` and `replicas` rows) is forwarded to the owner's advertise
  URL (`mockmail.routing.forward`: bodies, downloads and the live `text/event-stream` of sessions streamed
  both ways), marked `Mockmail-Forwarded-By: <this replica>`; the owner's answer comes back unchanged.
- Tokens: checked here first with the app's rules (`api/bearer.py`: 401, then 403 for a path out of
  reach) against the database's digests, so nothing is said of a tenant to a caller without a token; the
  request goes on with its `Authorization`, and the owner checks it again.  A token rotated through any
  replica stops working on all of them at once: no replica keeps another's digests.
- 503 `tenant-unavailable` with `Retry-After`, naming the tenant, when the tenant's lease has run out (it
  is being taken over), when this replica has just claimed it and not yet restored it, when the owner
  cannot be reached, or when the request was forwarded already (no proxy loops: a forwarded call for a
  tenant the receiver does not serve is never forwarded again).
- A long-poll (`GET .../mailboxes/{user}/messages?wait=S`) of another replica's tenant is held here: the
  owner is asked with `wait=0`, and asked again at each notification of new mail in that mailbox
  (`Wakeups`, PostgreSQL `NOTIFY`) until the count is met or the time is up, when its last answer is
  relayed.  The owner is looked up again at each ask, so the poll outlives a change of owner: while the
  tenant is between owners it asks every third of a lease, and if the time runs out then it answers 503;
  once this replica serves the tenant itself, its own app holds the rest of the wait.
- `GET /api/v1/tenants` lists every tenant of the service: this replica's own (from its app) and, asked
  with the caller's `Authorization`, those of every replica that holds a running lease; merged in creation
  order.  A tenant between owners is missing until it is claimed; a replica that cannot be reached is
  left out.  Each view is its owner's (state, sessions and endpoints only the owner knows).
- Everything else (create, health, ready, `/metrics`, the contract, the page) is this replica's own.  A
  tenant is created on the replica that received the POST.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import msgspec
import psycopg
import trio

from mockmail.api.bearer import Unauthorized, bearer_token, check_reach, tenant_in_path
from mockmail.api.messages import MAX_WAIT

from ..errors import DomainError, TenantUnavailable
from ..routing import Unreachable, forward, request_headers
from ..routing.asgi import Message, Receive, Send, header, problem, relay, replay, respond
from ..tenancy.registry import Registry
from ..tenancy.tokens import ADMIN, Principal
from .claimer import Claimer
from .leases import Route, route_of, serving_replicas
from .wakeups import Wakeups, announce

__all__ = ["FORWARDED_BY", "ReplicaRouter"]

App = Callable[[Any, Any, Any], Awaitable[None]]
"""An ASGI app (Quart types its arguments more narrowly than `Message`)."""

FORWARDED_BY = b"mockmail-forwarded-by"
"""The header a replica puts on every call it passes to another: its replica id."""
TENANTS = "/api/v1/tenants"
ASK_TIMEOUT = 10.0
"""Seconds one ask of another replica may take (a listing, a long-poll's look); forwards have no limit."""
CONNECT_TIMEOUT = 5.0
_MESSAGES = re.compile(r"^/api/v1/tenants/([^/]+)/mailboxes/([^/]+)/messages$")
_ENCODER = msgspec.json.Encoder()
_LIST = msgspec.json.Decoder(list[Any])


class ReplicaRouter:
    """The ASGI app a replica serves: its own app, and every other replica's tenants behind it.

    Args:
        app: this replica's API (the Quart app).
        registry: the tenants this replica serves (and the token keyring).
        claimer: this replica's leases (its id, the store's connection).
        wakeups: the notifications of new mail (made here from the `--store` URL when not given).
    """

    def __init__(
        self, app: App, registry: Registry, claimer: Claimer, wakeups: Wakeups | None = None
    ) -> None:
        self.app = app
        self.registry = registry
        self.claimer = claimer
        self.wakeups = wakeups if wakeups is not None else Wakeups(claimer.table.conninfo)
        self.replica = claimer.replica
        self.retry = max(claimer.table.seconds / 3, 0.1)
        """Seconds between asks while a long-polled tenant is between owners."""
        self._client: httpx.AsyncClient | None = None
        self._scope = trio.CancelScope()
        claimer.db.announce = announce  # every delivery here tells the others (wakeups.py)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Open the client that reaches the other replicas and listen for new mail, until `shutdown`.

        Raises:
            psycopg.Error: the listening connection could not be opened.
        """
        timeout = httpx.Timeout(CONNECT_TIMEOUT, read=None)  # long-polls and event streams pass
        async with httpx.AsyncClient(timeout=timeout) as client:
            self._client = client
            try:
                with self._scope:
                    await self.wakeups.run(task_status=task_status)
            finally:
                self._client = None

    def shutdown(self) -> None:
        self._scope.cancel()

    # --- ASGI -----------------------------------------------------------------------------------------

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        name = tenant_in_path(path)
        try:
            if name and name not in self.registry:
                await self._elsewhere(name, scope, receive, send)
            elif path == TENANTS and scope["method"] == "GET" and header(scope, FORWARDED_BY) is None:
                await self._all_tenants(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        except DomainError as exc:
            await problem(send, scope, exc)

    def _check_token(self, scope: Message) -> Principal:
        """Who the call acts as, by the app's rules (api/bearer.py).

        Raises:
            Unauthorized, Forbidden: as the app would.
        """
        keys = self.registry.keys
        if not keys.enforced:
            return ADMIN
        who = keys.principal(bearer_token(header(scope, b"authorization")))
        if who is None:
            raise Unauthorized("the bearer token is not valid here (a rotated or deleted tenant's?)")
        check_reach(who, scope["path"], scope["method"])
        return who

    def _route(self, name: str) -> Route | None:
        try:
            return route_of(self.claimer.db.conn, name)
        except psycopg.Error as exc:
            raise TenantUnavailable(
                f"tenant {name!r}: the store cannot be reached to find its replica ({exc}); try again shortly",
                field="tenant",
            ) from None

    def _unavailable(self, name: str, route: Route, scope: Message) -> TenantUnavailable | None:
        """Why `route` cannot take a call for `name` now; None when it can."""
        if route.owner == self.replica:
            why = f"replica {self.replica!r} has just claimed it and is starting to serve it"
        elif not route.live:
            why = f"the lease of replica {route.owner!r} ran out and another replica is taking it over"
        elif route.url is None:
            why = f"replica {route.owner!r} serves it but has not said where its API is"
        elif (by := header(scope, FORWARDED_BY)) is not None:
            why = f"replica {by!r} sent the call here, but replica {route.owner!r} serves it"
        else:
            return None
        return TenantUnavailable(
            f"tenant {name!r} is not served right now: {why}; try again shortly", field="tenant"
        )

    async def _elsewhere(self, name: str, scope: Message, receive: Receive, send: Send) -> None:
        route = self._route(name)
        if route is None:  # no such tenant: the app answers (401, 403 or 404) as for one process
            await self.app(scope, receive, send)
            return
        self._check_token(scope)
        refused = self._unavailable(name, route, scope)
        if refused is not None:
            raise refused
        assert route.url is not None
        poll = _long_poll(scope)
        if poll is not None:
            await self._hold(name, poll, scope, receive, send)
            return
        client, headers = self._reach(), self._headers(scope)
        started = lost = False
        failure: str | None = None

        async def relay(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def watch(cancel: trio.CancelScope) -> None:
            nonlocal lost
            lost = not await self._keeps(name, route.owner)
            cancel.cancel()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch, nursery.cancel_scope)
            try:
                await forward(scope, receive, relay, client, route.url, headers=headers)
            except Unreachable as exc:
                failure = str(exc)
            nursery.cancel_scope.cancel()
        if failure is not None:
            raise _unreachable(name, route, failure)
        if lost and not started:
            raise _unreachable(name, route, "it lost the tenant before it answered")
        # lost once the answer began: it ends here, cut short, and the client sees the connection close

    async def _keeps(self, name: str, owner: str) -> bool:
        """Return False once `owner` no longer holds a running lease of `name` (checked every third of a
        lease): a call forwarded to an owner that froze or died must not wait for it forever."""
        while True:
            await trio.sleep(self.retry)
            try:
                route = route_of(self.claimer.db.conn, name)
            except psycopg.Error:
                continue
            if route is None or route.owner != owner or not route.live:
                return False

    def _reach(self) -> httpx.AsyncClient:
        client = self._client
        if client is None or client.is_closed:
            raise TenantUnavailable("this replica is shutting down; try another", field="tenant")
        return client

    def _headers(self, scope: Message) -> list[tuple[bytes, bytes]]:
        headers = [(k, v) for k, v in request_headers(scope) if k.lower() != FORWARDED_BY]
        return [*headers, (FORWARDED_BY, self.replica.encode())]

    # --- long-polls -----------------------------------------------------------------------------------

    async def _hold(self, name: str, poll: _Poll, scope: Message, receive: Receive, send: Send) -> None:
        """Hold a long-poll of another replica's tenant here (see the module's docstring)."""
        first = await receive()  # the (empty) body; later messages can only say the client went away
        outcome: _Outcome | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch_disconnect, receive, nursery.cancel_scope)
            outcome = await self._poll(name, poll, scope)
            nursery.cancel_scope.cancel()
        if outcome is None:  # the client went away
            return
        if isinstance(outcome, httpx.Response):
            await relay(send, outcome)
        elif isinstance(outcome, DomainError):
            raise outcome
        else:  # this replica serves the tenant now: its app holds what is left of the wait
            await self.app(_with_wait(scope, poll, outcome), replay([first], receive), send)

    async def _poll(self, name: str, poll: _Poll, scope: Message) -> _Outcome:
        deadline = trio.current_time() + poll.wait
        while True:
            changed = self.wakeups.event(name, poll.mailbox)  # taken before the look: no wakeup is missed
            left = max(deadline - trio.current_time(), 0.0)
            if name in self.registry:
                return left
            route = self._route(name)
            if route is None:  # deleted meanwhile: the app's 404
                return 0.0
            answer: httpx.Response | None = None
            refused = self._unavailable(name, route, scope)
            if refused is None:
                assert route.url is not None
                try:
                    answer = await self._ask(route.url, scope, _with_wait(scope, poll, 0.0))
                except httpx.HTTPError as exc:
                    refused = _unreachable(name, route, str(exc) or type(exc).__name__)
            settled = answer is not None and answer.status_code != 503  # a 503: the owner is changing
            if answer is not None and settled:
                if answer.status_code != 200 or left == 0 or _count(answer) >= poll.count:
                    return answer
            elif left == 0:
                return answer if answer is not None else (refused or _unreachable(name, route, "no answer"))
            until = deadline if settled else min(deadline, trio.current_time() + self.retry)
            with trio.move_on_at(until):
                await changed.wait()

    async def _ask(self, base_url: str, scope: Message, asked: Message) -> httpx.Response:
        """GET what `asked` names from another replica, the caller's headers and this replica's mark on."""
        path = bytes(asked.get("raw_path") or asked["path"].encode()).decode("latin-1")
        query = bytes(asked.get("query_string") or b"").decode("latin-1")
        headers = [(k, v) for k, v in self._headers(scope) if k.lower() != b"content-length"]
        return await self._reach().get(
            base_url + path + ("?" + query if query else ""), headers=headers, timeout=ASK_TIMEOUT
        )

    # --- the tenant list ------------------------------------------------------------------------------

    async def _all_tenants(self, scope: Message, receive: Receive, send: Send) -> None:
        """Every replica's tenants (each answers its own), merged in creation order."""
        self._check_token(scope)
        try:
            replicas, order = serving_replicas(self.claimer.db.conn)
        except psycopg.Error:  # the list of this replica alone is all there is to give
            await self.app(scope, receive, send)
            return
        own = await _collect(self.app, scope, receive)
        answers: list[tuple[int, list[tuple[bytes, bytes]], bytes]] = [own]

        async def ask(url: str) -> None:
            try:
                answer = await self._ask(url, scope, scope)
            except httpx.HTTPError:
                return  # a replica that cannot be reached is left out
            answers.append((answer.status_code, list(answer.headers.raw), answer.content))

        async with trio.open_nursery() as nursery:
            for replica, url in replicas:
                if replica != self.replica:
                    nursery.start_soon(ask, url)
        for status, headers, body in answers:
            if status != 200:
                await respond(send, status, body, headers)
                return
        rank = {name: index for index, name in enumerate(order)}
        views = [view for _, _, body in answers for view in _LIST.decode(body)]
        views.sort(key=lambda view: rank.get(str(view.get("name")), len(rank)))
        await respond(send, 200, _ENCODER.encode(views), [(b"content-type", b"application/json")])


# --- what a long-poll is --------------------------------------------------------------------------------


class _Poll(msgspec.Struct, frozen=True, kw_only=True):
    mailbox: str
    wait: float
    count: int
    query: list[tuple[str, str]]


_Outcome = httpx.Response | DomainError | float
"""What a held long-poll ends with: the answer to relay, a problem, or the seconds left for this replica's
own app to wait (it serves the tenant now, or the tenant is gone)."""


def _long_poll(scope: Message) -> _Poll | None:
    """The long-poll a call is, if it is one whose wait this router can hold; None for any other call (a
    `wait` the app would refuse goes on to the owner, whose 422 says why)."""
    if scope["method"] != "GET":
        return None
    found = _MESSAGES.match(scope["path"])
    if found is None:
        return None
    query = urllib.parse.parse_qsl(
        bytes(scope.get("query_string") or b"").decode("latin-1"), keep_blank_values=True
    )
    args = dict(reversed(query))  # the first of each name counts, as in the app (`request.args.get`)
    try:
        wait = float(args.get("wait", "0"))
    except ValueError:
        return None
    count = args.get("count", "1")
    if not 0 < wait <= MAX_WAIT or not count.isascii() or not count.isdigit():  # NaN fails the first
        return None
    return _Poll(mailbox=found.group(2), wait=wait, count=int(count), query=query)


def _with_wait(scope: Message, poll: _Poll, wait: float) -> Message:
    """`scope` with its `wait` parameter (the first one) set to `wait` seconds."""
    query, done = [], False
    for key, value in poll.query:
        if key == "wait" and not done:
            value, done = f"{math.ceil(wait * 1000) / 1000:g}", True
        query.append((key, value))
    return {**scope, "query_string": urllib.parse.urlencode(query).encode("latin-1")}


def _count(answer: httpx.Response) -> float:
    """How many messages a listing holds (an answer that is no list ends the poll: infinitely many)."""
    try:
        return len(_LIST.decode(answer.content))
    except msgspec.MsgspecError:
        return math.inf


def _unreachable(name: str, route: Route, why: str) -> TenantUnavailable:
    return TenantUnavailable(
        f"tenant {name!r} is served by replica {route.owner!r}, which cannot be reached ({why}); try again"
        " shortly",
        field="tenant",
    )


# --- ASGI helpers ---------------------------------------------------------------------------------------


async def _watch_disconnect(receive: Receive, scope: trio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


async def _collect(
    app: App, scope: Message, receive: Receive
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Call `app` and keep its whole answer: status, headers and body."""
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    body: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, keep)
    return status, headers, b"".join(body)
