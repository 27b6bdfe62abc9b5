"""The durability barrier of the API (docs/scaling.md): no answer goes out before the changes it may have
observed are committed.  The store's group commit shares one commit among every change made in the same
scheduler pass; a request waits for it here, in one after-request hook, whatever its handler did.  If the
commit failed, the answer is a 503 problem document instead: nothing the request changed was kept.
"""

from __future__ import annotations

from quart import Response

from mockmail.store import CommitFailed
from mockmail.tenancy.service import Service

from .problems import problem_response

__all__ = ["install"]


def install(app: object, service: Service) -> None:
    """Hold every response until the store has settled; installed after the metrics hook, so that it runs
    before it (after-request hooks run last-installed first) and the 503 is what gets counted."""

    async def settle(response: Response) -> Response:
        try:
            await service.settled()
        except CommitFailed as exc:
            return problem_response(503, "Store unavailable", "store-unavailable", str(exc))
        return response

    app.after_request(settle)  # type: ignore[attr-defined]
