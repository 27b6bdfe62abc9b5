"""What the client commands print: a table or a few lines for people, or the API's JSON with `--json`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

import msgspec

from mockmail.api.schemas import MailboxView, MessageCreated, Problem, TenantCreated, TenantView
from mockmail.client import live_line_text, transcript_text
from mockmail.faults import FaultPlan, Knob, MailboxFaultPlan, Profile
from mockmail.observe.transcripts import LiveLine, SessionDetail, SessionSummary
from mockmail.protocols import LISTENERS, PROTOCOLS

__all__ = ["Follow", "problem", "show"]


def _json(value: Any) -> str:
    return msgspec.json.format(msgspec.json.encode(value), indent=2).decode()


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def _endpoint(value: Any) -> str:
    return "-" if value is None else str(value)


_COLUMNS = sorted(LISTENERS, key=lambda listener: listener.implicit_tls)
"""Every listener of every protocol, the plain ones first (POP3, SMTP, ..., then POP3S, SMTPS, ...)."""


def _tenants(views: list[TenantView]) -> str:
    header = ["NAME", "STATE", *(listener.name.upper() for listener in _COLUMNS), "MAILBOXES", "SESSIONS"]
    rows = [
        [
            v.name,
            v.state,
            *(_endpoint(v.endpoint(listener.name)) for listener in _COLUMNS),
            str(v.mailboxes),
            str(v.sessions),
        ]
        for v in views
    ]
    return _table(rows, header) if rows else "(no tenants)"


def _tenant(view: TenantView) -> str:
    width = max(len(listener.name) for listener in LISTENERS) + 1
    options = [
        f"{option.name.replace('_', ' ')} {view.option(option.name)}"
        for entry in PROTOCOLS
        for option in entry.fields
    ]
    lines = [
        f"tenant {view.name}: {view.state}" + (f" ({view.failure})" if view.failure else ""),
        *(
            f"  {listener.name.ljust(width)} {_endpoint(view.endpoint(listener.name))}"
            for listener in LISTENERS
        ),
        "  " + ", ".join([*options, f"catch-all {view.catch_all or '-'}"]),
        f"  {view.mailboxes} mailbox(es), {view.sessions} session(s) open",
    ]
    return "\n".join(lines)


def _mailboxes(views: list[MailboxView]) -> str:
    rows = [
        [v.user, str(v.messages), str(v.octets), "yes" if v.locked else "no", "yes" if v.oauth else "no"]
        for v in views
    ]
    return _table(rows, ["USER", "MESSAGES", "OCTETS", "LOCKED", "OAUTH"]) if rows else "(no mailboxes)"


def _sessions(found: list[SessionSummary]) -> str:
    rows = [
        [s.id, s.protocol, s.user or "-", s.peer, s.end or "open", ", ".join(s.faults) or "-"] for s in found
    ]
    return _table(rows, ["ID", "PROTOCOL", "USER", "PEER", "END", "FAULTS"])


def _value(value: Any) -> str:
    """One field of a knob as `name=` shows it: a float without a needless `.0`, a string with spaces
    quoted, a list in brackets."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return msgspec.json.encode(value).decode() if not value or " " in value else value
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return str(value)


def _knob(knob: Knob) -> str:
    """A knob on one line: its kind (a wire fault's tag), then every field that says something (not
    null, not empty, and `probability` only below 1)."""
    tag = knob.__struct_config__.tag
    words = [str(tag)] if isinstance(tag, str) else []
    common = Knob.__struct_fields__  # times and probability: after what the knob does
    for name in [*(n for n in knob.__struct_fields__ if n not in common), *common]:
        value = getattr(knob, name)
        if value is None or value == [] or (name == "probability" and value == 1.0):
            continue
        words.append(f"{name}={_value(value)}")
    return " ".join(words) or "on"


def _plan_lines(plan: msgspec.Struct, prefix: str = "") -> list[tuple[str, str]]:
    """(name, text) for every field of a fault plan that is set; a nested plan (`smtp`) by its fields."""
    rows: list[tuple[str, str]] = []
    for name in plan.__struct_fields__:
        value = getattr(plan, name)
        label = prefix + name
        if value is None or value == []:
            continue
        if isinstance(value, Knob):
            rows.append((label, _knob(value)))
        elif isinstance(value, msgspec.Struct):
            rows.extend(_plan_lines(value, label + "."))
        elif isinstance(value, list):
            rows.extend((f"{label}[{i}]", _knob(item)) for i, item in enumerate(value))
        else:
            rows.append((label, _value(value)))
    return rows


def _plan(plan: msgspec.Struct) -> str:
    rows = _plan_lines(plan)
    if not rows:
        return "compliant (no faults)"
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {text}" for label, text in rows)


LISTS: tuple[tuple[type, Any], ...] = (
    (TenantView, _tenants),
    (MailboxView, _mailboxes),
    (MessageCreated, lambda found: f"stored {len(found)} message(s): " + " ".join(m.id for m in found)),
    (Profile, lambda found: "\n".join(f"{p.name}: {p.description}" for p in found)),
    (SessionDetail, transcript_text),  # before SessionSummary, its base
    (SessionSummary, _sessions),
)


def _human(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, TenantCreated):  # before TenantView, its base
        return _tenant(value) + f"\n  token  {value.token}  (shown this once)"
    if isinstance(value, TenantView):
        return _tenant(value)
    if isinstance(value, MailboxView):
        return _mailboxes([value])
    if isinstance(value, FaultPlan | MailboxFaultPlan):
        return _plan(value)
    if isinstance(value, list):
        if not value:
            return "(none)"
        for kind, render in LISTS:
            if isinstance(value[0], kind):
                text: str = render(value)
                return text
    if isinstance(value, msgspec.Struct) and not msgspec.to_builtins(value):  # an empty fault plan
        return "compliant (no faults)"
    return _json(value)


def show(value: Any, out: TextIO, *, as_json: bool) -> None:
    text = (None if value is None else _json(value)) if as_json else _human(value)
    if text is not None:
        print(text, file=out)


def problem(document: Problem, out: TextIO, *, as_json: bool) -> None:
    if as_json:
        print(_json(document), file=out)
        return
    where = f" (field {document.field})" if document.field else ""
    print(f"mockmail: {document.status} {document.title}: {document.detail}{where}", file=out)


@dataclass
class Follow:
    """`sessions --follow`: the live stream, a line per transcript line, until Ctrl-C."""

    client: Any
    tenant: str
    user: str | None

    def run(self, out: TextIO, note: TextIO, *, as_json: bool) -> int:
        with self.client.stream_sessions(self.tenant, user=self.user) as lines:
            print(f"mockmail: following {self.tenant} (Ctrl-C ends)", file=note, flush=True)
            for line in lines:
                assert isinstance(line, LiveLine)
                text = msgspec.json.encode(line).decode() if as_json else live_line_text(line)
                print(text, file=out, flush=True)
        return 0
