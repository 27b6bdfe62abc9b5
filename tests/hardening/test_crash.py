"""A `kill -9` in the middle of bulk seeding, SMTP sends and POP3 QUITs, then a restart on the same
`--data-dir`: every acknowledged write is there, and nothing unacknowledged is half there.

Three clients run in threads against a real `mockmail serve` process until each has had a fixed number of
acknowledgements (so the kill lands mid-traffic without any sleep); the process is then killed with SIGKILL
while they keep going, and a second process on the same folder is checked over REST.
"""

from __future__ import annotations

import poplib
import smtplib
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cli import call_json, serve_cli

ADMIN = "admin-token-for-the-crash-test"
BATCH = 20
POP_SEEDED = 400
WANTED = 15
"""Acknowledgements each client has had before the kill."""


def call(url: str, method: str = "GET", payload: Any = None) -> Any:
    return call_json(url, ADMIN, method, payload)


@dataclass
class Acks:
    """What one client had acknowledged, and the one write it had in flight when the server died."""

    done: list[Any] = field(default_factory=list)
    in_flight: Any = None
    enough: threading.Event = field(default_factory=threading.Event)
    ended: BaseException | None = None
    """Why the client stopped (the server went away; anything else is shown when the test fails)."""

    def run(self, attempt: Callable[[int], Any]) -> None:
        n = 0
        while True:
            try:
                self.done.append(attempt(n))
            except (OSError, smtplib.SMTPException, poplib.error_proto, urllib.error.URLError) as exc:
                self.ended = exc  # the server is gone: what was in flight stays unacknowledged
                return
            self.in_flight = None
            n += 1
            if len(self.done) >= WANTED:
                self.enough.set()


def test_kill_9_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    with serve_cli("--data-dir", data, "--admin-token", ADMIN) as cli:
        api = cli.url + "/api/v1"
        tenant = call(api + "/tenants", "POST", {"name": "acme"})
        for user in ("bulk", "smtp", "pop"):
            call(f"{api}/tenants/acme/mailboxes/{user}", "PUT", {"password": "pw"})
        seeded = [{"subject": f"pop-{i}", "uid": f"p-{i}"} for i in range(POP_SEEDED)]
        call(f"{api}/tenants/acme/mailboxes/pop/messages", "POST", seeded)
        bulk, sent, fetched = Acks(), Acks(), Acks()

        def seed_batch(n: int) -> list[str]:
            batch = [
                {"subject": f"bulk-{n}-{i}", "text": "".join(f"line {k}\n" for k in range(200))}
                for i in range(BATCH)
            ]
            bulk.in_flight = n
            created = call(f"{api}/tenants/acme/mailboxes/bulk/messages", "POST", batch)
            return [m["id"] for m in created]

        smtp = tenant["smtp"]
        client = smtplib.SMTP(smtp["host"], smtp["port"], timeout=30)

        def send(n: int) -> str:
            sent.in_flight = f"smtp-{n}"
            body = (
                f"Subject: smtp-{n}\r\n\r\n".encode() + (b"x" * 78 + b"\r\n") * 50 + f"end {n}\r\n".encode()
            )
            client.sendmail("app@example.com", ["smtp@example.com"], body)
            return f"smtp-{n}"

        pop3 = tenant["pop3"]

        def quit_with_deletions(n: int) -> list[str]:
            pop = poplib.POP3(pop3["host"], pop3["port"], timeout=30)
            pop.user("pop")
            pop.pass_("pw")
            uids = [line.split()[1].decode() for line in pop.uidl()[1][:3]]
            for number in (1, 2, 3):
                pop.dele(number)
            fetched.in_flight = uids
            pop.quit()  # +OK: the three deletions are promised
            return uids

        threads = [
            threading.Thread(target=acks.run, args=(attempt,), daemon=True)
            for acks, attempt in ((bulk, seed_batch), (sent, send), (fetched, quit_with_deletions))
        ]
        for thread in threads:
            thread.start()
        for acks in (bulk, sent, fetched):
            assert acks.enough.wait(60), f"a client stopped early: {acks.ended!r}"
        cli.kill()
        for thread in threads:
            thread.join(60)

    with serve_cli("--data-dir", data, "--admin-token", ADMIN) as cli:
        api = cli.url + "/api/v1"
        (again,) = call(api + "/tenants")
        assert (again["state"], again["pop3"], again["smtp"]) == ("running", pop3, smtp)

        stored = call(f"{api}/tenants/acme/mailboxes/bulk/messages")
        ids = {m["id"] for m in stored}
        for batch in bulk.done:
            assert set(batch) <= ids  # every acknowledged batch is there
        by_batch: dict[str, int] = {}
        for message in stored:
            by_batch[message["subject"].split("-")[1]] = by_batch.get(message["subject"].split("-")[1], 0) + 1
        assert set(by_batch.values()) == {BATCH}  # no batch is half there
        assert len(by_batch) in (len(bulk.done), len(bulk.done) + 1)
        for message in stored[:: max(1, len(stored) // 10)]:
            raw = urllib.request.Request(
                f"{api}/tenants/acme/mailboxes/bulk/messages/{message['id']}",
                headers={"Authorization": f"Bearer {ADMIN}", "Accept": "message/rfc822"},
            )
            with urllib.request.urlopen(raw, timeout=30) as response:
                content = response.read()
            assert len(content) == message["size"] and content.endswith(b"line 199\r\n")

        subjects = [m["subject"] for m in call(f"{api}/tenants/acme/mailboxes/smtp/messages")]
        assert set(sent.done) <= set(subjects)  # every 250 is kept
        assert len(subjects) == len(set(subjects))
        assert set(subjects) - set(sent.done) <= {sent.in_flight}
        for message in call(f"{api}/tenants/acme/mailboxes/smtp/messages"):
            assert message["size"] > 4000  # complete, never a prefix

        left = {m["uid"] for m in call(f"{api}/tenants/acme/mailboxes/pop/messages")}
        for uids in fetched.done:
            assert not set(uids) & left  # every QUIT +OK's deletions are kept
        gone = {f"p-{i}" for i in range(POP_SEEDED)} - left
        assert gone - {uid for uids in fetched.done for uid in uids} <= set(fetched.in_flight or ())
        if fetched.in_flight:  # a QUIT in flight applied all of its deletions or none
            assert len(set(fetched.in_flight) & left) in (0, 3)
    print(
        f"crash: {len(bulk.done)} bulk batches, {len(sent.done)} SMTP messages, {len(fetched.done)} "
        "POP3 QUITs acknowledged before kill -9: all kept"
    )
