"""Write `_sync.py` and `_sync_objects.py` from their async sources: `python -m mockmail.client._unasync` (`--check` only compares).

The sync client is the async one with the `async` and `await` taken out, as httpcore keeps its two
halves; one source means one place to fix a path or a decoding.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

__all__ = ["HERE", "PAIRS", "unasync"]

HERE = Path(__file__).parent

RULES: tuple[tuple[str, str], ...] = (
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\baclose\b", "close"),
    (r"\baread\b", "read"),
    (r"\baiter_lines\b", "iter_lines"),
    (r"\basynccontextmanager\b", "contextmanager"),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bAsyncBaseTransport\b", "BaseTransport"),
    (r"\bAsync([A-Z]\w*)", r"\1"),
    (r"\b_async(_objects)?\b", r"_sync\1"),
    (r"\basync code \(trio or asyncio, through httpx\)", "blocking code (httpx)"),
)

HEADER = (
    '"""Generated from _async.py by `python -m mockmail.client._unasync`: edit that file, not this one."""\n'
)


def unasync(source: str) -> str:
    """The sync module's text; the async module's docstring gives way to a generated-file notice."""
    body = source.split('"""', 2)[2].lstrip("\n")
    for pattern, replacement in RULES:
        body = re.sub(pattern, replacement, body)
    return HEADER + "\n" + body


PAIRS = (("_async.py", "_sync.py"), ("_async_objects.py", "_sync_objects.py"))
"""Each async source and the sync module written from it."""


def main(argv: list[str]) -> int:
    stale = 0
    for source, target in PAIRS:
        wanted = unasync((HERE / source).read_text())
        path = HERE / target
        if "--check" not in argv:
            path.write_text(wanted)
        elif not path.exists() or path.read_text() != wanted:
            print(
                f"mockmail/client/{target} is stale: run python -m mockmail.client._unasync", file=sys.stderr
            )
            stale += 1
    return 1 if stale else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
