"""Starting, seeding, measuring and stopping the servers under test: mockmail, a private Dovecot, and the
canned-reply trio server (canned.py) that is the ceiling of one process."""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
USER, PASSWORD = "bench", "bench-pw"
BIG_USER = "big"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def message(index: int, size: int) -> bytes:
    """A deterministic plain-text message of about `size` octets (LF line endings, as on disk)."""
    rng = random.Random(index)
    head = f"From: sender{index}@example.com\nTo: {USER}@example.com\nSubject: message {index}\n\n".encode()
    words = [b"lorem", b"ipsum", b"dolor", b"sit", b"amet", b"mock", b"mail", b"pop3", b".dot"]
    lines, total = [], len(head)
    while total < size:
        line = b" ".join(rng.choice(words) for _ in range(11))[:76] + b"\n"
        lines.append(line)
        total += len(line) + 1  # CRLF on the wire
    return head + b"".join(lines)


SESSION_MESSAGES = [message(i, 1024 + 256 * (i % 12)) for i in range(20)]
BIG_MESSAGES = {"1 MiB": message(101, 1 << 20), "10 MiB": message(102, 10 << 20)}


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def pss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes (and their reaped children)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_TICKS


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


class Api:
    """A keep-alive JSON client for the mockmail REST API."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": content_type} if data is not None else {}
        try:
            self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection (hypercorn's keep_alive_timeout): reconnect
            # once, as any HTTP client does for a connection that went stale between requests.
            self.conn.close()
            self.conn.request(method, "/api/v1" + path, body=data, headers=headers)
            response = self.conn.getresponse()
        payload = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload) if payload else None


def mbox(messages: list[bytes]) -> bytes:
    return b"".join(b"From bench@example.com Thu Jan  1 00:00:00 2026\n" + m + b"\n" for m in messages)


def interpreter(root: Path) -> str:
    """The Python to run the checkout at `root` with: its own `.venv` if it has one, else this one."""
    own = root / ".venv" / "bin" / "python"
    return str(own) if root.resolve() != ROOT and own.exists() else sys.executable


def describe(root: Path, python: str) -> dict[str, str]:
    """Which code a server runs: the commit of `root`, the mockmail package imported there, trio's version."""
    commit = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    found = subprocess.run(
        [python, "-c", "import mockmail, trio; print(mockmail.__file__); print(trio.__version__)"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {"root": str(root), "commit": commit, "python": python, "package": found[0], "trio": found[1]}


class Mockmail:
    name = "mockmail"

    def __init__(
        self,
        *extra: str,
        seed: bool = True,
        root: Path = ROOT,
        python: str | None = None,
        entry: tuple[str, ...] = ("-m", "mockmail.main"),
    ) -> None:
        """`mockmail serve` with the benchmark's options and `extra`; `seed` creates the bench tenant.

        `root` is the checkout to run (its directory comes first on the path, so its `mockmail` package is
        the one imported) with `python` (default: `interpreter(root)`); `entry` is what the interpreter
        runs (bench/commit_each.py: the same server without group commit).
        """
        self.api_port = free_port()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                python or interpreter(root),
                *entry,
                "serve",
                "--api-port",
                str(self.api_port),
                "--log-level",
                "warning",
                "--max-sessions",
                "30000",
                *extra,
            ],
            cwd=root,
        )
        wait_for_port(self.api_port)
        self.api = Api(self.api_port)
        if not seed:
            return
        view = self.api.call("POST", "/tenants", {"name": "bench", "exclusive_sessions": False})
        self.port = int(view["pop3"]["port"])
        self.smtp_port = int(view["smtp"]["port"])
        self.imap_port = int(view["imap"]["port"]) if view.get("imap") else None  # a checkout with IMAP
        for user, messages in ((USER, SESSION_MESSAGES), (BIG_USER, list(BIG_MESSAGES.values()))):
            self.api.call("PUT", f"/tenants/bench/mailboxes/{user}", {"password": PASSWORD})
            self.api.call(
                "POST",
                f"/tenants/bench/mailboxes/{user}/messages",
                raw=mbox(messages),
                content_type="application/mbox",
            )

    def memory(self) -> int:
        return rss_bytes(self.proc.pid)

    def cpu(self) -> float:
        return cpu_seconds([self.proc.pid])

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Canned:
    """The ceiling of one trio process: bench/canned.py, a bare `trio.serve_tcp` with canned replies of the
    same sizes as mockmail's, run with `python` (mockmail's interpreter, so the same trio)."""

    name = "canned"

    def __init__(self, python: str = sys.executable) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [python, str(Path(__file__).resolve().parent / "canned.py"), "--port", str(self.port)]
        )
        wait_for_port(self.port)

    def memory(self) -> int:
        return rss_bytes(self.proc.pid)

    def cpu(self) -> float:
        return cpu_seconds([self.proc.pid])

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


DOVECOT_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
instance_name = mockmail-bench-{port}
protocols = {protocols}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
log_path = {base}/dovecot.log
info_log_path = /dev/null
first_valid_uid = 1
mail_location = maildir:{base}/mail/%u
default_login_user = dovenull
default_internal_user = dovecot
default_process_limit = 12000
default_client_limit = 24000
default_vsz_limit = 0
auth_cache_size = 1M
pop3_no_flag_updates = yes
verbose_proctitle = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={base}/home/%u
}}
protocol pop3 {{
  mail_max_userip_connections = 30000
}}
service anvil {{
  client_limit = 40000
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
  service_count = {login_service_count}
  process_min_avail = {login_min_avail}
  client_limit = {login_client_limit}
}}
service pop3 {{
  service_count = {pop3_service_count}
  process_min_avail = 4
  process_limit = 12000
}}
"""

# Added by `Dovecot(imap=True)`, in the same high-performance shape as POP3's (bench/imap.py).
DOVECOT_IMAP_CONF = """\
imap_idle_notify_interval = 29 mins
protocol imap {{
  mail_max_userip_connections = 30000
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  service_count = {login_service_count}
  process_min_avail = {login_min_avail}
  client_limit = {login_client_limit}
}}
service imap {{
  service_count = {pop3_service_count}
  process_min_avail = 4
  process_limit = 12000
}}
"""

# With `Dovecot(imap=True)` when dovecot-lmtpd is installed: delivery for the IDLE EXISTS probe.
DOVECOT_LMTP_CONF = """\
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
"""
LMTP_BINARY = Path("/usr/lib/dovecot/lmtp")


class Dovecot:
    """A private Dovecot on loopback with the same mailboxes: its own config, base_dir, passwd-file, maildir.

    `high_performance` is Dovecot's documented fast mode: login processes serve many connections
    (`service_count = 0`) and pop3 processes are reused; otherwise each login gets a fresh process
    (`service_count = 1`, the default secure mode).  `imap` serves IMAP too, on `imap_port`, configured
    the same way (imap-login and imap processes in the same mode as pop3-login and pop3).
    """

    name = "dovecot"

    def __init__(self, base: Path, *, high_performance: bool = True, imap: bool = False) -> None:
        self.base = base
        self.high_performance = high_performance
        self.port = free_port()
        self.imap_port = free_port() if imap else None
        self.lmtp_port = free_port() if imap and LMTP_BINARY.exists() else None
        if base.exists():
            shutil.rmtree(base)
        for sub in ("run", "state", "mail", "home"):
            (base / sub).mkdir(parents=True)
        (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n{BIG_USER}:{{PLAIN}}{PASSWORD}\n")
        for user, messages in ((USER, SESSION_MESSAGES), (BIG_USER, list(BIG_MESSAGES.values()))):
            for sub in ("new", "cur", "tmp"):
                (base / "mail" / user / sub).mkdir(parents=True)
            for i, raw in enumerate(messages):
                (base / "mail" / user / "cur" / f"{1700000000 + i}.M{i}P1.bench,S={len(raw)}:2,").write_bytes(
                    raw
                )
        subprocess.run(["chown", "-R", "nobody:nogroup", str(base / "mail"), str(base / "home")], check=True)
        conf = base / "dovecot.conf"
        fields = {
            "base": base,
            "port": self.port,
            "imap_port": self.imap_port,
            "lmtp_port": self.lmtp_port,
            "protocols": "pop3" + (" imap" if imap else "") + (" lmtp" if self.lmtp_port else ""),
            "login_service_count": 0 if high_performance else 1,
            "login_min_avail": (os.cpu_count() or 2) if high_performance else 0,
            "login_client_limit": 12000 if high_performance else 1000,
            "pop3_service_count": 0 if high_performance else 1,
        }
        conf.write_text(
            DOVECOT_CONF.format(**fields)
            + (DOVECOT_IMAP_CONF.format(**fields) if imap else "")
            + (DOVECOT_LMTP_CONF.format(**fields) if self.lmtp_port else "")
        )
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", str(conf)])
        wait_for_port(self.port)
        for port in (self.imap_port, self.lmtp_port):
            if port is not None:
                wait_for_port(port)
        self._warm_up()

    def _warm_up(self) -> None:
        import poplib

        for user in (USER, BIG_USER):  # build the indexes once, outside any measurement
            pop = poplib.POP3("127.0.0.1", self.port)
            pop.user(user)
            pop.pass_(PASSWORD)
            pop.list()
            pop.uidl()
            pop.quit()
        if self.imap_port is not None:  # IMAP's own index and cache fields, also outside any measurement
            import imaplib

            imap = imaplib.IMAP4("127.0.0.1", self.imap_port)
            imap.login(USER, PASSWORD)
            imap.select("INBOX")
            imap.fetch("1:*", "(FLAGS RFC822.SIZE)")
            imap.fetch("1", "(BODY[])")
            imap.logout()

    def memory(self) -> int:
        return sum(pss_bytes(pid) for pid in descendants(self.proc.pid))

    def cpu(self) -> float:
        return cpu_seconds(descendants(self.proc.pid))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
