"""mockmail/tenants.py: the supervisor, tenant lifecycles and their isolation."""

from __future__ import annotations

import os

import pytest
import trio
import trio.testing

from mockmail.config.settings import Settings
from mockmail.errors import PortUnavailable, TenantExists, TenantNotFound
from mockmail.tenancy.registry import Registry
from mockmail.tenancy.specs import TenantSpec
from tests.wire import WireClient


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def task_count() -> int:
    def walk(task: trio.lowlevel.Task) -> int:
        return 1 + sum(walk(child) for nursery in task.child_nurseries for child in nursery.child_tasks)

    return walk(trio.lowlevel.current_root_task())


async def test_delete_leaves_no_task_or_file_descriptor(nursery: trio.Nursery) -> None:
    registry: Registry = await nursery.start(Registry(Settings()).run)
    await trio.testing.wait_all_tasks_blocked()
    fds, tasks = open_fds(), task_count()
    tenant = await registry.create(TenantSpec(name="acme"))
    tenant.store.put("bob", "pw")
    assert tenant.endpoints.get("pop3") is not None
    clients = []
    for _ in range(3):
        client = WireClient(await trio.open_tcp_stream(tenant.endpoints.get("pop3").host, tenant.endpoints.get("pop3").port))
        assert (await client.line()).startswith(b"+OK")
        clients.append(client)
    await client.cmd("USER bob")
    await client.cmd("PASS pw")
    await trio.testing.wait_all_tasks_blocked()
    assert len(tenant.listeners.sessions) == 3
    assert task_count() > tasks and open_fds() > fds

    await registry.delete("acme")
    for client in clients:
        assert await client.line() == b"-ERR [SYS/TEMP] server shutting down\r\n"  # its last word
        assert await client.at_eof()  # every session was closed by the server
        await client.stream.aclose()
    await trio.testing.wait_all_tasks_blocked()
    assert tenant.listeners.sessions == set()
    assert task_count() == tasks
    assert open_fds() == fds
    assert tenant.locks.holder(tenant.store.get("bob")) is None
    with pytest.raises(TenantNotFound):
        registry.get("acme")


async def test_names_and_ports(nursery: trio.Nursery) -> None:
    registry: Registry = await nursery.start(Registry(Settings()).run)
    first = await registry.create(TenantSpec(name="one"))
    with pytest.raises(TenantExists):
        await registry.create(TenantSpec(name="one"))
    assert first.endpoints.get("pop3") is not None
    with pytest.raises(PortUnavailable) as taken:
        await registry.create(TenantSpec(name="two", pop3_port=first.endpoints.get("pop3").port))
    assert taken.value.field == "$.pop3_port"
    assert [t.name for t in registry.list()] == ["one"]


async def test_deleting_one_tenant_spares_the_others(nursery: trio.Nursery) -> None:
    registry: Registry = await nursery.start(Registry(Settings()).run)
    keep = await registry.create(TenantSpec(name="keep"))
    await registry.create(TenantSpec(name="drop"))
    assert keep.endpoints.get("pop3") is not None
    client = WireClient(await trio.open_tcp_stream(keep.endpoints.get("pop3").host, keep.endpoints.get("pop3").port))
    await client.line()
    await registry.delete("drop")
    assert await client.cmd("CAPA") == b"+OK capability list follows\r\n"
    assert keep.state == "running" and keep.failure is None


async def test_session_limit_per_tenant(nursery: trio.Nursery) -> None:
    registry: Registry = await nursery.start(Registry(Settings()).run)
    tenant = await registry.create(TenantSpec(name="small", max_sessions=2))
    assert tenant.endpoints.get("pop3") is not None
    held = [WireClient(await trio.open_tcp_stream(tenant.endpoints.get("pop3").host, tenant.endpoints.get("pop3").port)) for _ in range(2)]
    for client in held:
        await client.line()
    refused = WireClient(await trio.open_tcp_stream(tenant.endpoints.get("pop3").host, tenant.endpoints.get("pop3").port))
    assert await refused.line() == b"-ERR [SYS/TEMP] too many sessions on this tenant, try later\r\n"
    assert await refused.at_eof()
    await held[0].cmd("QUIT")
    await held[0].at_eof()
    await trio.testing.wait_all_tasks_blocked()
    again = WireClient(await trio.open_tcp_stream(tenant.endpoints.get("pop3").host, tenant.endpoints.get("pop3").port))
    assert (await again.line()).startswith(b"+OK mockmail POP3 server ready")


async def test_tls_tenant_has_two_listeners(nursery: trio.Nursery) -> None:
    from mockmail.server.tls import self_signed

    registry: Registry = await nursery.start(Registry(Settings(), self_signed(["127.0.0.1"])).run)
    tenant = await registry.create(TenantSpec(name="secure"))
    assert tenant.endpoints.get("pop3") is not None and tenant.endpoints.get("pop3s") is not None
    assert tenant.endpoints.get("pop3").port != tenant.endpoints.get("pop3s").port


async def test_shutdown_cancels_every_tenant(nursery: trio.Nursery) -> None:
    registry: Registry = await nursery.start(Registry(Settings()).run)
    tenant = await registry.create(TenantSpec(name="a"))
    registry.shutdown()
    await tenant.done.wait()
    assert registry.list() == []


async def test_stopping_the_server_gives_every_session_its_last_line(nursery: trio.Nursery) -> None:
    registry: Registry = await nursery.start(Registry(Settings()).run)
    tenant = await registry.create(TenantSpec(name="a"))
    assert tenant.endpoints["pop3"] is not None and tenant.endpoints["smtp"] is not None
    pop = WireClient(await trio.open_tcp_stream(tenant.endpoints["pop3"].host, tenant.endpoints["pop3"].port))
    smtp = WireClient(await trio.open_tcp_stream(tenant.endpoints["smtp"].host, tenant.endpoints["smtp"].port))
    assert (await pop.line()).startswith(b"+OK")
    assert (await smtp.line()).startswith(b"220 ")
    assert (await smtp.cmd("HELO c")).startswith(b"250 ")
    registry.shutdown()
    assert await pop.line() == b"-ERR [SYS/TEMP] server shutting down\r\n"
    assert await smtp.line() == b"421 4.3.2 service shutting down, closing connection\r\n"
    assert await pop.at_eof() and await smtp.at_eof()
    await tenant.done.wait()


def shut_down_listener(port: int) -> None:
    """Shut the process's listening socket on `port` down from outside the accept loop (as a kernel or
    a descriptor mix-up would): accept then fails with EINVAL, which no retry mends."""
    import socket

    for name in os.listdir("/proc/self/fd"):
        try:
            probe = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue
        with probe:
            try:
                listening = probe.type == socket.SOCK_STREAM and probe.getsockname()[1:2] == (port,)
                if listening and probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    probe.shutdown(socket.SHUT_RDWR)
                    return
            except OSError:
                continue
    raise AssertionError(f"no listening socket on port {port}")


async def test_a_failed_listener_leaves_the_tenant_visible_and_deletable(nursery: trio.Nursery) -> None:
    registry: Registry = await nursery.start(Registry(Settings()).run)
    broken = await registry.create(TenantSpec(name="broken"))
    other = await registry.create(TenantSpec(name="other"))
    assert broken.endpoints.get("pop3") is not None and other.endpoints.get("pop3") is not None
    shut_down_listener(broken.endpoints.get("pop3").port)
    with trio.fail_after(5):
        await broken.done.wait()
    assert broken.state == "failed"
    assert broken.failure is not None and "Invalid argument" in broken.failure
    assert registry.get("broken") is broken  # visible, with the reason
    assert [t.name for t in registry.list()] == ["broken", "other"]
    client = WireClient(await trio.open_tcp_stream(other.endpoints.get("pop3").host, other.endpoints.get("pop3").port))
    assert (await client.line()).startswith(b"+OK")  # the other tenant is untouched
    await client.stream.aclose()
    await registry.delete("broken")
    with pytest.raises(TenantNotFound):
        registry.get("broken")
    again = await registry.create(TenantSpec(name="broken"))  # the name is free again
    assert again.state == "running"


@pytest.mark.parametrize(
    ("plan", "end"),
    [
        ({"transport": [{"kind": "stall", "command": "STAT"}]}, "fault: stalled on STAT"),
        ({"quit": {"reply": "hang"}}, "fault: QUIT hung, client closed"),
    ],
)
async def test_a_client_that_resets_while_a_fault_drains_is_a_normal_end(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture, plan: dict[str, object], end: str
) -> None:
    import socket
    import struct

    import msgspec

    from mockmail.faults import FaultPlan

    registry: Registry = await nursery.start(Registry(Settings()).run)
    tenant = await registry.create(TenantSpec(name="acme"))
    tenant.store.put("bob", "pw")
    tenant.faults.set_plan(msgspec.convert(plan, FaultPlan))
    assert tenant.endpoints.get("pop3") is not None
    client = WireClient(await trio.open_tcp_stream(tenant.endpoints.get("pop3").host, tenant.endpoints.get("pop3").port))
    await client.line()
    await client.cmd("USER bob")
    await client.cmd("PASS pw")
    await client.send("STAT" if "transport" in plan else "QUIT")
    await trio.testing.wait_all_tasks_blocked()  # the server has read the command and is draining
    raw = client.stream.socket  # type: ignore[attr-defined]
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await client.stream.aclose()  # a TCP reset, not a FIN
    with trio.fail_after(5):
        while not tenant.transcripts.sessions() or tenant.transcripts.sessions()[0].end is None:
            await trio.sleep(0.01)
    assert tenant.transcripts.sessions()[0].end == end
    assert "internal error" not in caplog.text and "Traceback" not in caplog.text
