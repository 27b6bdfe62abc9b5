"""mockmail/protocols.py: the protocols are data, and every layer above the cores iterates over them.

The strongest check is the last one: a protocol added to the registry alone (here a toy `echo` protocol,
in a fresh interpreter) gets its port fields, its endpoint, its session limit, listeners, sessions and
transcripts, with no change anywhere else.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import pytest

from mockmail.config.settings import Settings
from mockmail.faults import FaultPlan
from mockmail.protocols import LISTENERS, PROTOCOLS, protocol
from mockmail.tenancy.specs import TenantLimits, TenantSpec
from mockmail.tenancy.views import TenantView

ROOT = Path(__file__).resolve().parent.parent


def test_the_structs_carry_a_field_per_listener_and_protocol() -> None:
    ports = {f"{listener.name}_port" for listener in LISTENERS}
    options = {option.name for entry in PROTOCOLS for option in entry.fields}
    assert ports | options <= set(TenantSpec.__struct_fields__)
    assert {entry.limit for entry in PROTOCOLS} <= set(TenantLimits.__struct_fields__)
    assert {listener.name for listener in LISTENERS} | options <= set(TenantView.__struct_fields__)
    assert {f"tenant_limit_{entry.limit}" for entry in PROTOCOLS} <= set(Settings.__struct_fields__)


def test_generated_structs_keep_the_style_rules() -> None:
    for struct in (TenantSpec, TenantLimits, TenantView, Settings):
        config = struct.__struct_config__
        assert config.frozen and config.forbid_unknown_fields, struct
    with pytest.raises(msgspec.ValidationError, match="unknown field `pop4_port`"):
        msgspec.json.decode(b'{"name": "a", "pop4_port": 1}', type=TenantSpec)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.limits\.smtp_sessions"):
        msgspec.json.decode(b'{"name": "a", "limits": {"smtp_sessions": 0}}', type=TenantSpec)
    assert Settings(port_range="10-20").ports == range(10, 21)  # the base's properties survive


def test_every_entry_has_a_factory_and_a_describer() -> None:
    for entry in PROTOCOLS:
        assert callable(entry.factory), entry.name
        assert entry.describe(object()) is None  # an event of no protocol is not claimed
        assert protocol(entry.name) is entry
    with pytest.raises(KeyError):
        protocol("gopher")


NAMES = {listener.name for listener in LISTENERS}
PLAN_FIELDS = set(FaultPlan.__struct_fields__)
"""A fault plan has a section per protocol (`smtp`): the fault schema's names, which the page's form shows."""
LAYERS = ["mockmail/tenancy", "mockmail/observe", "mockmail/config", "mockmail/cli", "api"]


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_above_the_servers_names_a_protocol(layer: str) -> None:
    named = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line, text in _literals(path)
        if (text in NAMES or any(text.startswith(f"{name}_") for name in NAMES)) and text not in PLAN_FIELDS
    ]
    assert named == []


def test_the_check_finds_a_protocol_name() -> None:
    assert any(text == "pop3" for _, text in _literals(ROOT / "mockmail" / "protocols.py"))


TOY = textwrap.dedent(
    '''
    import json, sys
    import trio
    import mockmail.protocols as registry

    class EchoSession:
        """A toy protocol: greets, echoes one line, says bye."""
        def __init__(self, stream, context):
            self.stream, self.user, self.faults_fired = stream, None, []
            self.recorder = context.config.transcripts.start("peer", "echo")
        async def run(self):
            await self.stream.send_all(b"HELLO echo\\r\\n")
            line = await self.stream.receive_some(100)
            self.recorder.client(line.decode().strip())
            self.recorder.finish("bye")  # before the echo: once the client has it, the transcript is done
            await self.stream.send_all(line)
            return "bye"

    def open_session(stream, context, implicit_tls):
        return EchoSession(stream, context)

    entry = registry.Protocol(
        name="echo",
        title="ECHO",
        listeners=(registry.Listener("echo", False, "Echo."),),
        session="__main__:open_session",
        busy=b"BUSY\\r\\n",
        describe=lambda event: None,
    )
    registry.PROTOCOLS = (*registry.PROTOCOLS, entry)
    registry.LISTENERS = (*registry.LISTENERS, *entry.listeners)
    registry._BY_NAME["echo"] = entry

    from mockmail.config.settings import Settings
    from mockmail.tenancy.registry import Registry
    from mockmail.tenancy.service import Service
    from mockmail.tenancy.specs import TenantSpec
    import msgspec

    async def main():
        settings = Settings(tenant_limit_echo_sessions=5)
        async with trio.open_nursery() as nursery:
            registry_ = await nursery.start(Registry(settings).run)
            service = Service(registry_)
            view = await service.create_tenant(msgspec.convert({"name": "toy"}, TenantSpec))
            stream = await trio.open_tcp_stream(view.echo.host, view.echo.port)
            greeting = await stream.receive_some(100)
            await stream.send_all(b"ping\\r\\n")
            echoed = await stream.receive_some(100)
            await stream.aclose()
            summary = service.transcripts("toy").sessions()[0].summary()
            print(json.dumps({
                "greeting": greeting.decode(), "echoed": echoed.decode(),
                "fields": list(msgspec.structs.asdict(view)),
                "limit": msgspec.structs.asdict(view.limits)["echo_sessions"],
                "protocol": summary.protocol,
            }))
            registry_.shutdown()

    trio.run(main)
    '''
)


def test_a_protocol_added_to_the_registry_alone_is_served() -> None:
    out = subprocess.run([sys.executable, "-c", TOY], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = msgspec.json.decode(out.stdout.strip().splitlines()[-1])
    assert result["greeting"] == "HELLO echo\r\n" and result["echoed"] == "ping\r\n"
    assert "echo" in result["fields"] and result["limit"] == 5
    assert result["protocol"] == "echo"
