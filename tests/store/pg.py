"""A real PostgreSQL for the tests: Debian's `postgresql` binaries, one throwaway cluster per test process.

The cluster lives in a fresh directory under the system temp folder, owned by an unprivileged user
(`postgres` from the package, else `nobody`: initdb refuses root, and the tests run as root in CI), listens
on a Unix socket in that directory only (no TCP port to collide on), trusts local connections and skips
fsync.  Each pytest-xdist worker is its own process, so it starts its own cluster.  The cluster is stopped
(`pg_ctl stop -m fast`) and its directory removed at the end, also when a test failed; every command is
bounded in time.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

__all__ = ["fresh_database", "postgresql_cluster"]

TIMEOUT = 60.0
"""Seconds any one of initdb, pg_ctl start, pg_ctl stop may take."""


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (.ci/run does)")
    return Path(found[-1]).parent


def _user() -> pwd.struct_passwd | None:
    """Who runs the cluster: None when the tests are not root (then they run it themselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("no unprivileged user (postgres, nobody) to run PostgreSQL as")


def _run(command: list[str], user: pwd.struct_passwd | None) -> None:
    if user is not None:
        command = ["runuser", "-u", user.pw_name, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


@contextlib.contextmanager
def postgresql_cluster() -> Iterator[str]:
    """Start a cluster; yield its URL (database `postgres`, superuser `mockmail`, the socket's folder as host)."""
    bin_dir = _bin_dir()
    user = _user()
    root = Path(tempfile.mkdtemp(prefix="mockmail-pg-"))
    data, log = root / "data", root / "log"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", str(int(TIMEOUT))]
    try:
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "mockmail", "--auth=trust"]
        _run([*initdb, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], user)
        options = f"-c listen_addresses='' -c unix_socket_directories='{root}' -p 5432"
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        try:
            _run([*pg_ctl, "-l", str(log), "-o", options, "start"], user)
            yield f"postgresql://mockmail@/postgres?host={root}&port=5432"
        except BaseException as error:
            if log.exists():
                error.add_note(f"PostgreSQL's log:\n{log.read_text(errors='replace')}")
            raise
        finally:
            # Also after a failed start, which may have left a server running: stop whatever runs.
            if (data / "postmaster.pid").exists():
                _run([*pg_ctl, "-m", "fast", "stop"], user)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new, empty database in the cluster of `url` (a `postgresql_cluster` URL), dropped at the end."""
    name = f"t{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.replace("/postgres?", f"/{name}?", 1)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
