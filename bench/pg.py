"""A private PostgreSQL for the scale benchmarks: Debian's binaries, one throwaway cluster in a temporary
folder, as tests/store/pg.py starts one for the tests (copied, not imported: the settings differ).

The cluster is owned by an unprivileged user when run as root (`postgres`, else `nobody`: initdb refuses
root), listens on a Unix socket in its folder only (no TCP port), and trusts local connections.  Unlike the
tests' cluster, commits are synchronous (`synchronous_commit = on`): a commit's WAL is written to the
kernel before the commit returns, so it survives a crash of PostgreSQL or of mockmail, which is what
`--data-dir` without `--fsync` promises with SQLite.  `fsync=True` also syncs it to the disk at every commit
(PostgreSQL's own default; `--fsync` with SQLite).  Stopped with `pg_ctl stop -m fast` and its folder
removed at the end, also after a failure; every command is bounded in time.
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

TIMEOUT = 60.0
"""Seconds any one of initdb, pg_ctl start, pg_ctl stop, psql may take."""


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
    return Path(found[-1]).parent


def _user() -> pwd.struct_passwd | None:
    """Who runs the cluster: None when this is not root (then it runs as this user)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("no unprivileged user (postgres, nobody) to run PostgreSQL as")


def _run(command: list[str], user: pwd.struct_passwd | None) -> str:
    if user is not None:
        command = ["runuser", "-u", user.pw_name, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


class Cluster:
    """A running cluster: `url` (database `postgres`, superuser `mockmail`) and `database()` for fresh ones."""

    def __init__(self, root: Path, bin_dir: Path, user: pwd.struct_passwd | None) -> None:
        self.root, self.bin_dir, self.user = root, bin_dir, user
        self.url = f"postgresql://mockmail@/postgres?host={root}&port=5432"

    def psql(self, statement: str) -> str:
        return _run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-At",
                "-h",
                str(self.root),
                "-U",
                "mockmail",
                "-d",
                "postgres",
                "-c",
                statement,
            ],
            None,
        )

    def database(self) -> str:
        """Create an empty database; its URL."""
        name = f"b{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url.replace("/postgres?", f"/{name}?", 1)


@contextlib.contextmanager
def cluster(*, fsync: bool = False) -> Iterator[Cluster]:
    """Start a cluster (see the module's docstring for its settings); stop it and remove it at the end."""
    bin_dir = _bin_dir()
    user = _user()
    root = Path(tempfile.mkdtemp(prefix="mockmail-bench-pg-"))
    data, log = root / "data", root / "log"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-t", str(int(TIMEOUT))]
    try:
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "mockmail", "--auth=trust"]
        _run([*initdb, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], user)
        options = f"-c listen_addresses='' -c unix_socket_directories='{root}' -p 5432"
        options += f" -c fsync={'on' if fsync else 'off'} -c synchronous_commit=on -c max_connections=200"
        try:
            _run([*pg_ctl, "-l", str(log), "-o", options, "start"], user)
            yield Cluster(root, bin_dir, user)
        except BaseException as error:
            if log.exists():
                error.add_note(f"PostgreSQL's log (tail):\n{log.read_text(errors='replace')[-4000:]}")
            raise
        finally:
            if (data / "postmaster.pid").exists():  # also after a failed start that left a server running
                _run([*pg_ctl, "-m", "fast", "stop"], user)
    finally:
        shutil.rmtree(root, ignore_errors=True)
