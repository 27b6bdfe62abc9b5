"""The Docker image's recipe and compose.yaml: what they promise (non-root, a volume for the data dir, a
published port range, a readiness healthcheck), and the compose example run for real without Docker: the
same tenants file, the same environment, the app's own command against the server."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from mockmail.client import Client
from mockmail.embedded import EmbeddedServer

ROOT = Path(__file__).parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())


def instructions(name: str) -> list[str]:
    text = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(name + " ")]


def env() -> dict[str, str]:
    pairs = shlex.split(" ".join(instructions("ENV")))
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_image_installs_the_locked_versions() -> None:
    assert re.search(r"^FROM python:3\.\d+-slim$", DOCKERFILE, re.M)
    assert "pip install --no-cache-dir -c constraints.txt '.[postgresql]'" in DOCKERFILE
    assert instructions("CMD") == ['["mockmail", "serve"]']


def test_the_image_runs_as_a_user_with_a_data_volume() -> None:
    assert instructions("USER") == ["mockmail"]
    assert "--uid 10001" in DOCKERFILE
    assert env()["MOCKMAIL_DATA_DIR"] == "/var/lib/mockmail"
    assert instructions("VOLUME") == ['["/var/lib/mockmail"]']
    assert "chown mockmail /var/lib/mockmail" in DOCKERFILE


def test_the_image_publishes_the_api_and_the_tenant_range() -> None:
    (exposed,) = instructions("EXPOSE")
    assert exposed.split() == ["8025", env()["MOCKMAIL_PORT_RANGE"]]
    assert env()["MOCKMAIL_API_PORT"] == "8025" and env()["MOCKMAIL_HOST"] == "0.0.0.0"


def test_the_healthcheck_asks_for_readiness() -> None:
    (check,) = instructions("HEALTHCHECK")
    command = re.search(r'CMD \["python", "-c", "(.*)"\]', check)
    assert command is not None and "/api/v1/ready" in command[1]
    with EmbeddedServer() as server:
        port = server.url.rsplit(":", 1)[1]
        probe = command[1].replace("127.0.0.1:8025", f"127.0.0.1:{port}")
        with Client(server.url) as client:
            client.create_tenant("up")
        assert subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode != 0  # stopped


def test_compose_runs_the_app_beside_mockmail_with_tenants_from_toml(tmp_path: Path) -> None:
    service = COMPOSE["services"]["mockmail"]
    app = COMPOSE["services"]["app"]
    assert app["depends_on"]["mockmail"]["condition"] == "service_healthy"
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}
    tenants_file = ROOT / mounted[service["environment"]["MOCKMAIL_CONFIG"]]
    assert "mockmail-data" in mounted.values() and mounted["/var/lib/mockmail"] == "mockmail-data"
    assert "127.0.0.1:20000-20099:20000-20099" in service["ports"]
    # The same file with its fixed ports made free ones, so the test never fights for 20000-20003.
    text = re.sub(r"(pop3|smtp)_port = \d+", r"\1_port = 0", tenants_file.read_text())
    (tmp_path / "tenants.toml").write_text(text)
    with EmbeddedServer(config=str(tmp_path / "tenants.toml"), data_dir=str(tmp_path / "data")) as server:
        with Client(server.url) as client:
            helpdesk = client.tenant("helpdesk")
            assert {t.name for t in client.tenants()} == {"helpdesk", "notifications"}
            assert client.tenant("notifications").view.smtp_auth == "required"
        assert helpdesk.smtp is not None and helpdesk.pop3 is not None
        run_env = {
            **app["environment"],
            "SMTP_HOST": helpdesk.smtp.host,
            "SMTP_PORT": str(helpdesk.smtp.port),
            "POP3_HOST": helpdesk.pop3.host,
            "POP3_PORT": str(helpdesk.pop3.port),
        }
        command = app["command"]
        assert command[:2] == ["python", "-c"]
        done = subprocess.run(
            [sys.executable, "-c", command[2]], env=run_env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "support holds 2 messages"  # the seeded one and the app's


REPLICAS = ROOT / "deploy" / "replicas"


def compose_env(values: dict[str, str]) -> dict[str, str]:
    """A service's environment as compose hands it over, with `${NAME:-default}` at its default."""
    return {key: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value)) for key, value in values.items()}


def haproxy_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in (REPLICAS / "haproxy.cfg").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line:
            continue
        if not line.startswith((" ", "\t")):
            current = sections.setdefault(line.strip(), [])
        else:
            current.append(line.strip())
    return sections


def test_the_replica_compose_file_parses_with_the_real_cli_and_haproxy_maps_each_range() -> None:
    from mockmail.main import parse_settings

    compose = yaml.safe_load((REPLICAS / "compose.yaml").read_text())
    services = compose["services"]
    replicas = {name: s for name, s in services.items() if name.startswith("replica-")}
    assert len(replicas) == 2
    image_env = env()  # what the image's ENV sets, under the service's own environment
    settings = {
        name: parse_settings(["serve"], {**image_env, **compose_env(service["environment"])})
        for name, service in replicas.items()
    }
    ranges = {}
    for name, s in settings.items():
        assert s.data_dir is None and s.store is not None and s.store.startswith("postgresql://")
        assert "@postgres:5432/" in s.store  # the compose service of that name
        assert s.advertise_url == f"http://{name}:{s.api_port}"  # how the other replica reaches it
        assert s.lease_seconds == 10 and s.replica_id
        assert s.ports is not None
        ranges[name] = (s.ports.start, s.ports.stop - 1)
    assert len({s.replica_id for s in settings.values()}) == 2
    (low_a, high_a), (low_b, high_b) = ranges.values()
    assert high_a < low_b or high_b < low_a  # disjoint: a port names its replica
    assert {s.store for s in settings.values()} == {settings["replica-a"].store}  # one service
    assert services["postgres"]["environment"]["POSTGRES_DB"] == settings["replica-a"].store.rsplit("/", 1)[1]
    # HAProxy: the API to either replica, each range to its own replica with the port kept.
    sections = haproxy_sections()
    api_servers = [line.split()[2] for line in sections["backend replicas"] if line.startswith("server ")]
    assert api_servers == [f"{name}:{settings[name].api_port}" for name in replicas]
    assert "option httpchk GET /api/v1/ready" in sections["backend replicas"]
    published = services["haproxy"]["ports"]
    for name, (low, high) in ranges.items():
        frontend = next(k for k, v in sections.items() if k.startswith("frontend") and f"bind :{low}-{high}" in v)
        backend = next(v.split()[1] for v in sections[frontend] if v.startswith("default_backend"))
        (server,) = [v for v in sections[f"backend {backend}"] if v.startswith("server ")]
        assert server.split()[2] == name  # no port: the connection keeps the port it arrived on
    lows, highs = zip(*ranges.values(), strict=True)
    assert f"127.0.0.1:{min(lows)}-{max(highs)}:{min(lows)}-{max(highs)}" in published
    assert f"127.0.0.1:8025:{settings['replica-a'].api_port}" in published



def test_haproxy_accepts_the_replica_config() -> None:
    """The configuration is HAProxy's, checked by HAProxy itself (Debian's package; the names of the
    compose services do not resolve here, which `init-addr none` allows)."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    done = subprocess.run([haproxy, "-c", "-f", str(REPLICAS / "haproxy.cfg")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration file is valid" in done.stdout + done.stderr
