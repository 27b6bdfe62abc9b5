"""Replicas: any number of `mockmail serve --store postgresql://...` processes on one database form one
service; each tenant is served by exactly one of them at a time, the holder of its lease.

- `lease.py`: `LeaseBook`, the leases held, against the replica's own clock (sans-IO);
- `leases.py`: `LeaseTable`, the SQL of the `leases` and `replicas` tables, and the fence statement;
- `claimer.py`: `Claimer`, the trio task that renews and claims, and what the registry asks of ownership.

psycopg is imported by `leases.py` and `claimer.py` only: import them when `--store` is given.
"""

from .lease import Lease, LeaseBook, margin_for

__all__ = ["Lease", "LeaseBook", "margin_for"]
