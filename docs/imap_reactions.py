"""Run Python's imaplib, Ruby's Net::IMAP (the helpdesk's sequence) and curl against the IMAP fault knobs
and rewrite the IMAP reaction table in docs/faults.md from what they did.  `python docs/imap_reactions.py`
(needs ruby and curl).

Each client works on a fresh mailbox of two messages (the second with an inline part) under one knob:
- imaplib: LOGIN, SELECT INBOX, SORT (DATE) US-ASCII ALL, then per message FETCH (RFC822.SIZE FLAGS
  INTERNALDATE RFC822.HEADER), FETCH RFC822 (checking that RFC822.SIZE is the literal's length, as a
  client sizing its buffer from it would), STORE +FLAGS (\\Seen) and (\\Deleted); EXPUNGE; LOGOUT;
- Ruby Net::IMAP: the same as zammad's IMAP channel does it, ending in a disconnect without LOGOUT
  (tests/clients/ruby/helpdesk_imap_reaction.rb);
- curl: `imap://.../INBOX;MAILINDEX=1`, one message fetched.
"left" is what the mailbox held afterwards.  A row ending `(empty INBOX)` seeds no message.
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "docs"))

from reactions import read_table, write_table  # noqa: E402
from servers import Api  # noqa: E402

KNOBS: dict[str, dict[str, object]] = {
    "reply NO to SELECT": {"replies": [{"command": "SELECT", "status": "NO", "text": "try later"}]},
    "reply BAD to FETCH": {"replies": [{"command": "FETCH", "status": "BAD", "text": "bad fetch"}]},
    "reply BYE to FETCH": {"replies": [{"command": "FETCH", "status": "BYE", "text": "going away"}]},
    "reply dropped to STORE": {"replies": [{"command": "STORE", "status": "drop"}]},
    "bye after 4 commands": {"bye": {"after_commands": 4}},
    "logout_no_ok": {"logout_no_ok": {}},
    "size_delta -2": {"size_delta": {"delta": -2}},
    "bodystructure greenmail-113": {"bodystructure": {}},
    "select_empty_fails (empty INBOX)": {"select_empty_fails": {}},
    "uidvalidity_churn": {"uidvalidity_churn": {}},
    "idle_no_updates": {"idle_no_updates": {}},
    "idle_cut 1 s": {"idle_cut": {"seconds": 1}},
    "peek_sets_seen": {"peek_sets_seen": {}},
    "expunge_numbers original": {"expunge_numbers": {}},
}
TRANSPORT: dict[str, list[dict[str, object]]] = {
    "latency 50 ms": [{"kind": "latency", "ms": 50, "protocol": "imap"}],
    "truncate FETCH after 100": [{"kind": "truncate_retr", "after_bytes": 100, "protocol": "imap"}],
    "stall on FETCH": [{"kind": "stall", "command": "FETCH", "protocol": "imap"}],
    "close_after 3 commands": [{"kind": "close_after", "commands": 3, "protocol": "imap"}],
}
PROFILES = ["greenmail-imap", "smtp4dev-imap", "idle-dropper", "uidvalidity-churn", "imap-logout-no-ok"]
EMPTY = "(empty INBOX)"
TIMEOUT = 3
START, END = "<!-- imap-reactions:start -->", "<!-- imap-reactions:end -->"
MESSAGES = [
    b"From: a@x.test\r\nTo: u@x.test\r\nSubject: one\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nfirst\r\n",
    b"From: b@x.test\r\nTo: u@x.test\r\nSubject: two\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\n"
    b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nsecond\r\n"
    b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nattached\r\n--b--\r\n",
]
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def plans() -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {name: {"imap": imap} for name, imap in KNOBS.items()}
    found.update({name: {"transport": transport, "imap": {}} for name, transport in TRANSPORT.items()})
    found.update({f"profile {name}": {"profile": name} for name in PROFILES})
    return found


def with_imaplib(port: int) -> str:
    imap = None
    try:
        imap = imaplib.IMAP4("127.0.0.1", port, timeout=TIMEOUT)
        imap.login("u", "p")
        status, data = imap.select("INBOX")
        if status != "OK":
            return f"SELECT {status}: {data[0]!r}"[:70]
        _, found = imap.sort("(DATE)", "US-ASCII", "ALL")
        numbers = found[0].split()
        for n in numbers:
            _, meta = imap.fetch(n, "(RFC822.SIZE FLAGS INTERNALDATE RFC822.HEADER)")
            _, body = imap.fetch(n, "RFC822")
            size = _SIZE.search(meta[0][0] if isinstance(meta[0], tuple) else meta[0])
            literal = body[0][1] if isinstance(body[0], tuple) else b""
            if size is None or int(size.group(1)) != len(literal):
                return f"RFC822.SIZE {size and size.group(1).decode()} for {len(literal)} octets"
            imap.store(n, "+FLAGS", "(\\Seen)")
            imap.store(n, "+FLAGS", "(\\Deleted)")
        imap.expunge()
        imap.logout()
        return f"ok ({len(numbers)} fetched)"
    except Exception as exc:  # the point is to record whatever the client raises
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:50]}"
    finally:
        if imap is not None:
            with contextlib.suppress(OSError):
                imap.shutdown()


def with_ruby(port: int) -> str:
    script = ROOT / "tests" / "clients" / "ruby" / "helpdesk_imap_reaction.rb"
    out = subprocess.run(
        ["ruby", str(script), "127.0.0.1", str(port), "u", "p", str(TIMEOUT)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return str(json.loads(out.stdout)["result"]) if out.stdout.strip() else f"no output: {out.stderr[:50]}"


def with_curl(port: int) -> str:
    command = [
        "curl",
        "-sS",
        "--max-time",
        str(TIMEOUT),
        "-u",
        "u:p",
        f"imap://127.0.0.1:{port}/INBOX;MAILINDEX=1",
    ]
    done = subprocess.run(command, capture_output=True, timeout=30)
    if done.returncode:
        return f"exit {done.returncode}: {done.stderr.decode().strip().removeprefix('curl: ')[:50]}"
    return f"exit 0, {len(done.stdout)} octets of message 1"


def observe(api: Api, tenant: str, plan: dict[str, object], empty: bool = False) -> list[str]:
    """Run the three clients under `plan` on a new tenant; one table cell each."""
    port = api.call("POST", "/tenants", {"name": tenant})["imap"]["port"]
    api.call("PUT", f"/tenants/{tenant}/mailboxes/u", {"password": "p"})
    cells = []
    for client in (with_imaplib, with_ruby, with_curl):
        api.call("DELETE", f"/tenants/{tenant}/faults")
        api.call("DELETE", f"/tenants/{tenant}/mailboxes/u/messages")
        for raw in () if empty else MESSAGES:
            api.call(
                "POST", f"/tenants/{tenant}/mailboxes/u/messages", raw=raw, content_type="message/rfc822"
            )
        api.call("PUT", f"/tenants/{tenant}/faults", plan)
        outcome = client(port)
        left = len(api.call("GET", f"/tenants/{tenant}/mailboxes/u/messages"))
        cells.append(f"{' '.join(outcome.replace('|', '/').split())} (left {left})")
    api.call("DELETE", f"/tenants/{tenant}")
    return cells


def essence(cell: str) -> str:
    """What a cell says without its details: the outcome's first word (or exit code), and what was left."""
    outcome, _, left = cell.rpartition(" (left ")
    head = outcome.split(":", 1)[0].split(",", 1)[0].split(" (", 1)[0]
    words = head.split(" ")
    word = " ".join(words[:2]) if words[0] in ("exit", "SELECT", "RFC822.SIZE") else words[0]
    # Ruby reads a closed stream, EOF or a reset from a server that closed after a BYE: which one depends
    # on whether its next command was on the way, a race, so all are "the connection ended".
    word = "EOFError" if word in ("IOError", "EOFError", "Errno") else word
    return f"{word} (left {left}"


def documented() -> dict[str, list[str]]:
    """The IMAP reaction table as docs/faults.md has it: knob -> its three cells."""
    return read_table(START, END)


def main() -> int:
    header = ["imaplib", "Ruby Net::IMAP (helpdesk)", "curl (`imap://.../INBOX;MAILINDEX=1`)"]
    rows = plans()
    write_table(
        header,
        rows,
        lambda api, tenant, row: observe(api, tenant, rows[row], row.endswith(EMPTY)),
        "i",
        START,
        END,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
