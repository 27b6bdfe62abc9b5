"""`mockmail serve` with one commit per write instead of group commit, for a before/after in one run:

    python bench/commit_each.py serve --data-dir DIR ...     # the options of `mockmail serve`

It replaces `SqlDatabase.commit_units` (group commit, mockmail/store/sql_database.py) with a task that only
reports that it started: the store then never defers, so every outermost write commits before it returns
and `settled()` has nothing to wait for, which is how the store ran before group commit.  Benchmark use
only; the server's code is unchanged.
"""

from __future__ import annotations

import sys

import trio

from mockmail import main
from mockmail.store.sql_database import SqlDatabase


async def _commit_each(
    self: SqlDatabase, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    task_status.started()
    await trio.sleep_forever()


SqlDatabase.commit_units = _commit_each  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main.main())
