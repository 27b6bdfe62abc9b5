"""`Gateway`: the supervisor's public REST API, a raw ASGI app in front of the workers.

The same routes and answers as a single process (docs/scaling.md: a client cannot tell the difference):
- Tokens are checked here first, with the rules of `api/bearer.py` (401, then 403 for a path out of reach).
  The gateway holds the admin token's digest; whose a tenant token is, it asks the workers once
  (`POST /internal/v1/principal`) and remembers, until that tenant's token is rotated or it is deleted
  through this gateway.  The request then goes on with its `Authorization`, so the owner checks it too.
- `/api/v1/tenants/{name}/...` goes to the tenant's owner (`mockmail.routing.forward`: bodies, long-polls
  and event streams streamed both ways).  An owner that is down (restarting) gives 503
  `tenant-unavailable` naming the tenant, with `Retry-After`, as a replica answers for a tenant between
  owners; a name no worker owns goes to any worker, which answers 404 as one process would.
- `POST /api/v1/tenants` places the tenant (`Placement.reserve`): a known name goes to its owner, which
  answers the same 409; `--max-tenants` counts every worker's tenants.
- `GET /api/v1/tenants`, `/metrics`, `/api/v1/health` and `/api/v1/ready` are gathered from every worker
  that is up (`gather.py`); the caller's `Authorization` goes to each, so a tenant token sees its tenant
  only.  Tenants of a worker that is restarting are missing from the list until it is back.
- Everything else (the contract, the CA, the page, fault profiles, unknown paths) goes to any worker that
  is up.  `/internal/...` is the workers' own and answers 404 here.
- The API's request metrics are counted by the workers: a request the gateway refuses (401, 403, 503) is
  not counted, and a gathered request counts once per worker.
"""

from __future__ import annotations

import httpx
import msgspec

from mockmail.api.bearer import EXEMPT, WEB_PREFIX, Unauthorized, bearer_token, check_reach, tenant_in_path
from mockmail.api.schemas import Health, WorkerHealth
from mockmail.observe.metrics import CONTENT_TYPE
from mockmail.observe.resources import descriptor_limit, open_descriptors

from ..config.settings import Settings
from ..errors import DomainError, TenantLimit, TenantUnavailable
from ..routing import Unreachable, forward, request_headers
from ..routing.asgi import Message, Receive, Send, header, problem, relay, replay, respond
from ..tenancy.tokens import ADMIN, Keyring, Principal, digest
from .gather import merge_health, merge_metrics, merge_tenants
from .supervisor import WorkerPool, WorkerProcess
from .worker import INTERNAL_PREFIX, PRINCIPAL_PATH

__all__ = ["Gateway"]

PREFIX = "/api/v1"
TENANTS = f"{PREFIX}/tenants"
_ENCODER = msgspec.json.Encoder()
_HEALTH = msgspec.json.Decoder(Health)
_JSON = [(b"content-type", b"application/json")]
_NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please check your "
    "spelling and try again."
)
_RELAYED = frozenset({b"content-type", b"www-authenticate", b"retry-after"})
"""The headers of a worker's answer that a gathered route passes on when it relays that answer."""


class _Named(msgspec.Struct):
    """The one field of a creation the gateway reads (the owner validates the whole body)."""

    name: str


class _NotFound(DomainError):
    """werkzeug's NotFound, which a worker's Quart app answers for an unknown path."""

    status = 404
    title = "Not Found"
    slug = "not-found"


class _NotReady(DomainError):
    status = 503
    title = "Not ready"
    slug = "not-ready"


class WorkerUnavailable(DomainError):
    """No worker is up to take a call that is about no tenant (a creation, the contract, the page): the
    server itself is short of workers.  A tenant's call whose worker is down is `TenantUnavailable`."""

    status = 503
    title = "Worker unavailable"
    slug = "worker-unavailable"
    headers = {"Retry-After": "1"}


class Gateway:
    """The ASGI app of the supervisor's API."""

    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        self.settings = settings
        self.pool = pool
        self.placement = pool.placement
        self.keys = Keyring(settings.admin_token)
        """The admin token's digest; tenant tokens are the workers' (see `_principal`)."""
        self._known: dict[bytes, str] = {}
        """Token digest -> tenant, as the workers said."""
        self._exempt = EXEMPT | ({"/metrics"} if settings.metrics_public else set())

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            await self._route(scope, receive, send)
        except DomainError as exc:
            await problem(send, scope, exc)

    async def _route(self, scope: Message, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path.startswith(INTERNAL_PREFIX):
            raise _NotFound(_NOT_FOUND)
        who = await self._check_token(scope)
        name = tenant_in_path(path)
        if path == TENANTS and method == "POST":
            await self._create(scope, receive, send)
        elif path == TENANTS and method == "GET":
            await self._gathered_tenants(scope, send, who)
        elif path == f"{PREFIX}/health" and method == "GET":
            await self._health(send)
        elif path == f"{PREFIX}/ready" and method == "GET":
            await self._ready(scope, send)
        elif path == "/metrics" and method == "GET":
            await self._metrics(scope, send)
        elif name:
            await self._tenant_call(name, scope, receive, send)
        else:
            await self._forward(self._any(), scope, receive, send)

    # --- tokens ---------------------------------------------------------------------------------------

    async def _check_token(self, scope: Message) -> Principal:
        """Who the request acts as (the admin when tokens are not enforced or the path is open).

        Raises:
            Unauthorized: no token, or none this server knows.
            Forbidden: the path is out of the token's reach.
        """
        path = scope["path"]
        if not self.keys.enforced or path in self._exempt or path == "/" or path.startswith(WEB_PREFIX):
            return ADMIN
        who = await self._principal(bearer_token(header(scope, b"authorization")))
        if who is None:
            raise Unauthorized("the bearer token is not valid here (a rotated or deleted tenant's?)")
        check_reach(who, path, scope["method"])
        return who

    async def _principal(self, token: str) -> Principal | None:
        who = self.keys.principal(token)
        if who is not None:
            return who
        key = digest(token)
        tenant = self._known.get(key)
        if tenant is not None:
            return Principal(tenant)
        for worker in self._up():
            client = worker.client  # None or closed once the worker is gone (the loop awaits)
            if client is None or client.is_closed:
                continue
            try:
                answer = await client.post(
                    worker.base_url + PRINCIPAL_PATH, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError:
                continue
            if answer.status_code == 200:
                found = answer.json().get("tenant")
                if isinstance(found, str):
                    self._known[key] = found
                    return Principal(found)
        return None

    def _forget_tokens(self, tenant: str) -> None:
        for key in [key for key, name in self._known.items() if name == tenant]:
            del self._known[key]

    # --- forwarding -----------------------------------------------------------------------------------

    def _up(self) -> list[WorkerProcess]:
        return [self.pool.workers[k] for k in self.pool.up()]

    def _any(self) -> WorkerProcess | None:
        """The up worker with the fewest tenants (the least busy, as far as the gateway knows)."""
        counts = self.placement.counts()
        up = sorted(self._up(), key=lambda worker: (counts[worker.id], worker.id))
        return up[0] if up else None

    async def _forward(
        self,
        worker: WorkerProcess | None,
        scope: Message,
        receive: Receive,
        send: Send,
        tenant: str | None = None,
    ) -> int:
        """Relay the call to `worker`; the upstream's status, or raise `TenantUnavailable` (a call about
        `tenant`) or `WorkerUnavailable`."""
        client = worker.client if worker is not None else None
        if worker is None or client is None or client.is_closed:
            raise _unavailable(worker, tenant)
        try:
            return await forward(scope, receive, send, client, worker.base_url)
        except Unreachable:
            raise _unavailable(worker, tenant) from None

    async def _tenant_call(self, name: str, scope: Message, receive: Receive, send: Send) -> None:
        owner = self.placement.owner(name)  # also while its creation is answered: the 201 may be out
        if owner is None:
            await self._forward(self._any(), scope, receive, send)  # no such tenant: the owner's 404
            return
        status = await self._forward(self.pool.workers[owner], scope, receive, send, name)
        rest = scope["path"][len(TENANTS) + 1 + len(name) :]
        if scope["method"] == "DELETE" and rest == "" and status == 204:
            self.placement.forget(name)
            self._forget_tokens(name)
        elif scope["method"] == "POST" and rest == "/token" and status == 200:
            self._forget_tokens(name)

    async def _create(self, scope: Message, receive: Receive, send: Send) -> None:
        messages, body = await _read_some(receive, self.settings.max_request_size)
        try:
            name: str | None = msgspec.json.decode(body, type=_Named).name
        except msgspec.MsgspecError:
            name = None
        again = replay(messages, receive)
        if name is None:  # the worker says what is wrong with the body
            await self._forward(self._any(), scope, again, send)
            return
        limit = self.settings.max_tenants
        if self.placement.owner(name) is None and limit is not None and self.placement.total() >= limit:
            raise TenantLimit(
                f"the server holds its maximum of {limit:d} tenants (--max-tenants); delete one first"
            )
        owner = self.placement.reserve(name, self.pool.up())
        if owner is None:
            raise _unavailable(None, None)
        created = False
        try:
            created = await self._forward(self.pool.workers[owner], scope, again, send, name) == 201
        finally:
            self.placement.settle(name, created)

    # --- gathered answers ---------------------------------------------------------------------------

    async def _gather(
        self, scope: Message, path: str, workers: list[WorkerProcess] | None = None
    ) -> list[tuple[WorkerProcess, httpx.Response]]:
        """`GET path` on every up worker (of `workers`) with the caller's headers; those that fail are left
        out."""
        headers = [(k, v) for k, v in request_headers(scope) if k.lower() != b"content-length"]
        query = scope.get("query_string") or b""
        target = path + ("?" + bytes(query).decode("latin-1") if query else "")
        answers = []
        for worker in self._up() if workers is None else workers:
            client = worker.client  # None or closed once the worker is gone (the loop awaits)
            if client is None or client.is_closed:
                continue
            try:
                answers.append((worker, await client.get(worker.base_url + target, headers=headers)))
            except httpx.HTTPError:
                continue
        return answers

    async def _gathered_tenants(self, scope: Message, send: Send, who: Principal) -> None:
        if who.tenant is not None:  # a tenant token: its owner alone knows it, and lists that tenant only
            owner = self.placement.owner(who.tenant)
            workers = [self.pool.workers[owner]] if owner is not None else []
            answers = await self._gather(scope, TENANTS, workers)
        else:
            answers = await self._gather(scope, TENANTS)
        for _, answer in answers:
            if answer.status_code != 200:
                await relay(send, answer, only=_RELAYED)
                return
        merged = merge_tenants([answer.json() for _, answer in answers], self.placement.order())
        await respond(send, 200, _ENCODER.encode(merged), _JSON)

    async def _health(self, send: Send) -> None:
        answers: dict[int, Health] = {}
        for worker in self._up():
            client = worker.client  # None or closed once the worker is gone (the loop awaits)
            if client is None or client.is_closed:
                continue
            try:
                reply = await client.get(worker.base_url + f"{PREFIX}/health")
                answers[worker.id] = _HEALTH.decode(reply.content)
            except (httpx.HTTPError, msgspec.MsgspecError):
                continue
        counts = self.placement.counts()
        entries = []
        for worker in self.pool.workers:
            answer = answers.get(worker.id)
            up = answer is not None and worker.state == "up"
            entries.append(
                WorkerHealth(
                    id=worker.id,
                    pid=worker.pid,
                    tenants=answer.tenants if answer is not None else counts[worker.id],
                    state="up" if up else "restarting",
                    restarts=worker.restarts,
                )
            )
        health = merge_health(
            [answers.get(worker.id) for worker in self.pool.workers],
            entries,
            tls=self.settings.tls_enabled,
            own_files=open_descriptors(),
            max_open_files=descriptor_limit(),
        )
        await respond(send, 200, _ENCODER.encode(health), _JSON)

    async def _ready(self, scope: Message, send: Send) -> None:
        answers = await self._gather(scope, f"{PREFIX}/ready")
        answered = {worker.id for worker, _ in answers}
        failed: list[str] = []
        tenants = 0
        for _, answer in answers:
            body = answer.json()
            if answer.status_code == 200:
                tenants += int(body.get("tenants", 0))
            else:
                failed += [str(name) for name in body.get("tenants") or []]
        down = [worker.id for worker in self.pool.workers if worker.id not in answered]
        if failed or down:
            parts = (
                [f"{len(failed)} tenant(s) have a failed listener: {', '.join(sorted(failed))}"]
                if failed
                else []
            )
            parts += [f"worker {k} is restarting" for k in down]
            await problem(send, scope, _NotReady("; ".join(parts)), tenants=sorted(failed))
            return
        await respond(send, 200, _ENCODER.encode({"status": "ready", "tenants": tenants}), _JSON)

    async def _metrics(self, scope: Message, send: Send) -> None:
        answers = await self._gather(scope, "/metrics")
        for _, answer in answers:
            if answer.status_code != 200:
                await relay(send, answer, only=_RELAYED)
                return
        metrics = merge_metrics([answer.text for _, answer in answers])
        await respond(send, 200, metrics, [(b"content-type", CONTENT_TYPE.encode())])


def _unavailable(worker: WorkerProcess | None, tenant: str | None) -> DomainError:
    if worker is None:
        return WorkerUnavailable("no worker is up; try again shortly")
    if tenant is None:
        return WorkerUnavailable(f"worker {worker.id} is restarting; try again shortly")
    return TenantUnavailable(
        f"tenant {tenant!r} is on worker {worker.id}, which is restarting; try again shortly", field="tenant"
    )


async def _read_some(receive: Receive, limit: int) -> tuple[list[Message], bytes]:
    """The request's messages up to its end or `limit` octets, and the body they hold."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False) or size > limit:
            return messages, b"".join(m.get("body", b"") for m in messages)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
