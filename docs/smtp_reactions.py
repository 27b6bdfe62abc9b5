"""Run smtplib, Ruby Net::SMTP, curl and swaks against the SMTP fault knobs and rewrite the SMTP reaction
table in docs/faults.md from what they did.  `python docs/smtp_reactions.py` (needs ruby, curl, swaks).

Each client sends one message to `u@x.test` on a fresh tenant with the knob set; the cell says how the
client ended and how many messages the mailbox held afterwards ("stored").  A row named `(login)` or
`(wrong password)` logs in first, with `p` or `wrong`, on a tenant with `smtp_auth: optional`
and plaintext AUTH allowed (`LOGINS`).
"""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "docs"))

from reactions import read_table, write_table  # noqa: E402
from servers import Api  # noqa: E402

KNOBS: dict[str, dict[str, object]] = {
    "reply 451 to MAIL": {"replies": [{"command": "MAIL", "line": "451 4.3.0 try again later"}]},
    "reply 452 to RCPT": {"replies": [{"command": "RCPT", "line": "452 4.2.2 mailbox full"}]},
    "reply 550 to RCPT": {"replies": [{"command": "RCPT", "line": "550 5.1.1 no such user"}]},
    "reply 554 to DATA-END": {"replies": [{"command": "DATA-END", "line": "554 5.7.1 rejected"}]},
    "reply 421 to DATA-END": {"replies": [{"command": "DATA-END", "line": "421 4.3.2 shutting down"}]},
    "greeting 421": {"greeting": {"code": 421}},
    "greeting 554": {"greeting": {"code": 554}},
    "greylisting": {"greylisting": {"retry_after": 300}},
    "drop_after_data (not stored)": {"drop_after_data": {"deliver": False}},
    "drop_after_data (stored)": {"drop_after_data": {"deliver": True}},
    "accept_and_lose": {"accept_and_lose": {}},
    "ehlo_unknown": {"ehlo_unknown": {}},
    "no_continuation": {"no_continuation": {}},
    "missing_extensions": {"missing_extensions": {}},
    "line_endings lf": {"line_endings": {}},
    "tarpit 300 ms": {"tarpit": {"ms": 300}},
    "greeting_lines 3": {"greeting_lines": {"lines": 3}},
    "error_lines, 550 to RCPT": {
        "error_lines": {},
        "replies": [{"command": "RCPT", "line": "550 5.1.1 no such user"}],
    },
    "ehlo_unknown 503": {"ehlo_unknown": {"code": 503}},
    "auth_equals (login)": {"auth_equals": {}},
    "auth_failure_235 (wrong password)": {"auth_failure_235": {}},
    "quit_no_reply": {"quit_no_reply": {}},
}
PROFILES: dict[str, str] = {
    "profile exim-sync": "exim-sync",
    "profile qmail (wrong password)": "qmail",
    "profile postfix-broken-auth (login)": "postfix-broken-auth",
}
LOGINS = {"(login)": "p", "(wrong password)": "wrong"}
"""A row whose name ends so logs in first with that password."""
TRANSPORT: dict[str, list[dict[str, object]]] = {
    "reset on DATA-END": [{"kind": "reset", "command": "DATA-END", "protocol": "smtp"}],
    "stall on RCPT": [{"kind": "stall", "command": "RCPT", "protocol": "smtp"}],
    "close_after 2 commands": [{"kind": "close_after", "commands": 2, "protocol": "smtp"}],
}
TIMEOUT = 3
START, END = "<!-- smtp-reactions:start -->", "<!-- smtp-reactions:end -->"
BODY = b"From: app@x.test\r\nTo: u@x.test\r\nSubject: reaction\r\n\r\nhello\r\n"


def plans() -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {name: {"smtp": smtp} for name, smtp in KNOBS.items()}
    found.update({name: {"transport": transport, "smtp": {}} for name, transport in TRANSPORT.items()})
    found.update({name: {"profile": profile} for name, profile in PROFILES.items()})
    return found


def login_of(row: str) -> str | None:
    """The password the clients log in with on this row, or None for no AUTH."""
    return next((password for end, password in LOGINS.items() if row.endswith(end)), None)


def with_smtplib(port: int, password: str | None) -> str:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT) as smtp:
            if password is not None:
                smtp.login("u", password)
            smtp.sendmail("app@x.test", ["u@x.test"], BODY)
        return "ok"
    except Exception as exc:  # the point is to record whatever the client raises
        return f"{type(exc).__name__}: {str(exc)[:60]}"


def with_ruby(port: int, password: str | None) -> str:
    script = ROOT / "tests" / "clients" / "ruby" / "helpdesk_send.rb"
    login = [] if password is None else ["u", password, "plain"]
    done = subprocess.run(
        ["ruby", str(script), "127.0.0.1", str(port), "app@x.test", "u@x.test", "reaction", *login],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "READ_TIMEOUT": str(TIMEOUT)},
    )
    if not done.stdout.strip():
        return f"no output: {done.stderr[:50]}"
    out = json.loads(done.stdout)
    return f"ok {out['status']}" if out["ok"] else f"{out['error']}: {out['message'][:60]}"


def with_curl(port: int, password: str | None) -> str:
    login = [] if password is None else ["--user", f"u:{password}"]
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "--max-time",
            str(TIMEOUT),
            *login,
            f"smtp://127.0.0.1:{port}",
            "--mail-from",
            "app@x.test",
            "--mail-rcpt",
            "u@x.test",
            "-T",
            "-",
        ],
        input=BODY,
        capture_output=True,
        timeout=30,
    )
    if done.returncode:
        return f"exit {done.returncode}: {done.stderr.decode().strip().removeprefix('curl: ')[:60]}"
    return "exit 0"


def with_swaks(port: int, password: str | None) -> str:
    login = [] if password is None else ["--auth-user", "u", "--auth-password", password]
    done = subprocess.run(
        [
            "swaks",
            "--server",
            f"127.0.0.1:{port}",
            "--from",
            "app@x.test",
            "--to",
            "u@x.test",
            "--timeout",
            str(TIMEOUT),
            "--pipeline",
            "--header",
            "Subject: reaction",
            *login,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(("<-", "<~", "***"))]
    last = lines[-1].strip() if lines else done.stderr.strip()[:60]
    return f"exit {done.returncode}: {last[:60]}"


def observe(api: Api, tenant: str, plan: dict[str, object], password: str | None = None) -> list[str]:
    """Run the four clients under `plan` on a new tenant (logging in with `password`, if given); one
    table cell each."""
    spec: dict[str, object] = {"name": tenant}
    if password is not None:
        spec["smtp_auth"] = "optional"  # credentials are checked: a wrong password fails
        spec["smtp_plaintext_auth"] = True  # offered without TLS, whether the server has TLS or not
    port = api.call("POST", "/tenants", spec)["smtp"]["port"]
    api.call("PUT", f"/tenants/{tenant}/mailboxes/u", {"password": "p"})
    cells = []
    for client in (with_smtplib, with_ruby, with_curl, with_swaks):
        api.call("DELETE", f"/tenants/{tenant}/faults")
        api.call("DELETE", f"/tenants/{tenant}/mailboxes/u/messages")
        api.call("PUT", f"/tenants/{tenant}/faults", plan)
        outcome = client(port, password)
        stored = len(api.call("GET", f"/tenants/{tenant}/mailboxes/u/messages"))
        flat = " ".join(outcome.replace("|", "/").split())  # one table cell: no line breaks
        cells.append(f"{flat} (stored {stored})")
    api.call("DELETE", f"/tenants/{tenant}")
    return cells


def essence(cell: str) -> str:
    """What a cell says without its details: the outcome's first word or exit code, and what was stored."""
    outcome, _, stored = cell.rpartition(" (stored ")
    head = outcome.split(":", 1)[0].split(" ", 2)
    word = " ".join(head[:2]) if head[0] == "exit" else head[0]
    # Ruby reads either EOF or ECONNRESET from a server that closed (after a 421, a drop, a reset):
    # which one depends on whether its QUIT reached the socket before the close, a race, so both are
    # the same essence, "the connection ended".
    word = "EOFError" if word in ("Errno", "EOFError") else word
    return f"{word} (stored {stored}"


def documented() -> dict[str, list[str]]:
    """The SMTP reaction table as docs/faults.md has it: knob -> its four cells."""
    return read_table(START, END)


def main() -> int:
    header = ["smtplib", "Ruby Net::SMTP", "curl (`smtp://`)", "swaks (`--pipeline`)"]
    rows = plans()
    write_table(
        header, rows, lambda api, tenant, row: observe(api, tenant, rows[row], login_of(row)), "s", START, END
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
