"""`JournalCatalog`: a memory-only worker's tenants (not their mail) survive the process, in order."""

from __future__ import annotations

from pathlib import Path

from mockmail.store import MemoryStore
from mockmail.workers.journal import JournalCatalog


def test_tenants_come_back_from_the_file_and_mail_does_not(tmp_path: Path) -> None:
    path = tmp_path / "worker-0.json"
    first = JournalCatalog(path)
    assert first.saved() == [] and not path.exists()
    first.save_tenant("late", b'{"name":"late"}', 20.0)
    first.save_tenant("early", b'{"name":"early"}', 10.0)
    first.save_token("early", b"\x00digest")
    first.save_faults("early", b'{"plan":1}')
    first.save_tenant("early", b'{"name":"early","pop3_port":1100}', 99.0)  # the bound spec replaces it
    first.save_tenant("gone", b"{}", 30.0)
    first.drop_tenant("gone")
    assert isinstance(first.new_store("early"), MemoryStore)

    again = JournalCatalog(path).saved()
    assert [(t.name, t.spec, t.created, t.token, t.faults) for t in again] == [
        ("early", b'{"name":"early","pop3_port":1100}', 10.0, b"\x00digest", b'{"plan":1}'),
        ("late", b'{"name":"late"}', 20.0, None, None),
    ]
    assert path.stat().st_mode & 0o777 == 0o600
