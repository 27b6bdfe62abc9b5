"""`random_hex`: random identifiers (message ids, SMTP queue ids) from the OS's CSPRNG, drawn in bulk.

`secrets.token_hex` makes one `getrandom` system call per id; an SMTP message needs two ids (its queue id
and its message id), and those calls were 14% of the server's time for pipelined 1 KiB messages (bench/,
py-spy).  Reading 4 KiB of `os.urandom` at a time keeps the same source and quality, one call per few
hundred ids.
"""

from __future__ import annotations

import os

__all__ = ["random_hex"]

_POOL_SIZE = 4096
_pool = b""
_offset = 0


def random_hex(nbytes: int) -> str:
    """`nbytes` random octets as 2 * `nbytes` lowercase hex digits."""
    global _pool, _offset
    if not 0 < nbytes <= _POOL_SIZE:
        raise ValueError(f"nbytes must be from 1 to {_POOL_SIZE}, not {nbytes!r}")
    end = _offset + nbytes
    if end > len(_pool):
        _pool, _offset, end = os.urandom(_POOL_SIZE), 0, nbytes
    chunk = _pool[_offset:end]
    _offset = end
    return chunk.hex()
