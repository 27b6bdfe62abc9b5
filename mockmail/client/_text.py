"""Transcripts as text, for people: the pytest plugin's failure section and `mockmail sessions`."""

from __future__ import annotations

import time

from mockmail.observe.transcripts import LiveLine, SessionDetail

__all__ = ["MARKS", "live_line_text", "transcript_text"]

MARKS = {"C": "C:", "S": "S:", "fault": "! ", "end": "--"}
"""`C:` what the client sent, `S:` what the server answered, `!` a fault that fired, `--` the end."""


def transcript_text(sessions: list[SessionDetail]) -> str:
    """Sessions oldest first (they come newest first), each with a heading and a line per line."""
    out: list[str] = []
    for session in reversed(sessions):
        faults = f", faults: {', '.join(session.faults)}" if session.faults else ""
        out.append(
            f"{session.protocol} session {session.id} from {session.peer}, user {session.user or '-'}"
            f" (end: {session.end or 'open'}{faults})"
        )
        out.extend(f"  {MARKS[line.dir]} {line.text}" for line in session.lines)
    return "\n".join(out) if out else "(no POP3 or SMTP sessions)"


def live_line_text(line: LiveLine) -> str:
    """`12:00:01.234 acme-7 alice C: USER alice` (local time)."""
    stamp = time.strftime("%H:%M:%S", time.localtime(line.at)) + f".{int(line.at * 1000) % 1000:03d}"
    return f"{stamp} {line.session} {line.user or '-'} {MARKS[line.dir]} {line.text}"
