"""mockmail/main.py and mockmail/config.py: settings, the config file, serve() and the real CLI process."""

from __future__ import annotations

import json
import poplib
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import trio

from mockmail.config.settings import Settings
from mockmail.config.tenants_file import ConfigError, load_config
from mockmail.main import Running, parse_settings, serve
from mockmail.tenancy.specs import TenantSpec
from tests.cli import serve_cli


def test_defaults_env_and_flags() -> None:
    assert parse_settings(["serve"], {}) == Settings()
    env = {"MOCKMAIL_API_PORT": "9000", "MOCKMAIL_HOST": "0.0.0.0", "MOCKMAIL_IDLE_TIMEOUT": "30"}
    settings = parse_settings(["serve", "--api-port", "9100"], env)
    assert settings.api_port == 9100  # the flag wins over the variable
    assert settings.host == "0.0.0.0" and settings.idle_timeout == 30.0
    assert settings.advertised_host == "127.0.0.1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--api-port", "abc"], "--api-port"),
        (["serve", "--tls", "maybe"], "--tls"),
        (["serve", "--max-sessions", "0"], "--max-sessions"),
    ],
)
def test_bad_flags_exit_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_settings(argv, {})
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


CONFIG = """
[[tenants]]
name = "acme"

[[tenants.mailboxes]]
user = "alice"
password = "s3cret"

[[tenants.mailboxes.messages]]
from = "billing@example.com"
subject = "Invoice 42"
text = "Please pay."
uid = "invoice-42"

[[tenants.mailboxes.messages]]
file = "welcome.eml"

[[tenants.mailboxes]]
user = "bob"
password = "pw"
bearer_token = "ya29.from-the-config"
"""


def write_config(tmp_path: Path, text: str = CONFIG) -> Path:
    (tmp_path / "welcome.eml").write_bytes(b"Subject: Welcome\n\nHello.\n")
    path = tmp_path / "mockmail.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[tenants]]\nname = 'Bad Name'\n", "tenants[0].name"),
        ("[[tenants]]\nname = 'a'\nport = 1\n", "unknown field `port`"),
        ("[[tenants]]\nname = 'a'\n[[tenants]]\nname = 'a'\n", "repeated: a"),
        ("tenants = [", "not valid TOML"),
        (
            "[[tenants]]\nname = 'a'\n[[tenants.mailboxes]]\nuser = 'u'\npassword = 'p'\nbearer_token = 'a b'\n",
            "tenants[0].mailboxes[0].bearer_token",
        ),
    ],
)
def test_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(write_config(tmp_path, text))


async def test_serve_seeds_from_config_and_stops_without_committing(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    settings = Settings(api_port=0, config=str(write_config(tmp_path)))
    running: Running = await nursery.start(serve, settings)
    tenant = running.registry.get("acme")
    assert tenant.endpoints.get("pop3") is not None
    box = tenant.store.get("alice")
    assert next(m.uid for m in box.listing()) == "invoice-42"
    assert [m.summary.subject for m in box.listing()] == ["Invoice 42", "Welcome"]
    assert {(m.via, m.envelope) for m in box.listing()} == {("config", None)}
    assert (box.bearer_token, tenant.store.get("bob").bearer_token) == (None, "ya29.from-the-config")

    pop = await trio.to_thread.run_sync(poplib.POP3, tenant.endpoints.get("pop3").host, tenant.endpoints.get("pop3").port)
    await trio.to_thread.run_sync(pop.user, "alice")
    await trio.to_thread.run_sync(pop.pass_, "s3cret")
    await trio.to_thread.run_sync(pop.dele, 1)
    running.stop.set()  # shut down with a session open and a deletion pending
    with trio.fail_after(15):
        while running.registry.list():
            await trio.sleep(0.05)
    assert box.count == 2
    pop.close()


def message_config(entry: str) -> str:
    return (
        "[[tenants]]\nname = 'acme'\n[[tenants.mailboxes]]\nuser = 'alice'\npassword = 'p'\n"
        "[[tenants.mailboxes.messages]]\nsubject = 'fine'\n"
        f"[[tenants.mailboxes.messages]]\n{entry}\n"
    )


async def start_with(tmp_path: Path, entry: str, **settings: object) -> list[str]:
    """Serve the config with `entry` as alice's second message; return the subjects alice then has."""
    config = tmp_path / "conf" / "mockmail.toml"
    config.parent.mkdir(exist_ok=True)
    (config.parent / "ok.eml").write_bytes(b"Subject: ok\n\nfine\n")
    (config.parent / "text.txt").write_bytes(b"just some words, no header\n")
    (config.parent / "big.eml").write_bytes(b"Subject: big\n\n" + b"x" * 5000 + b"\n")
    (tmp_path / "outside.eml").write_bytes(b"Subject: secret\n\nfrom outside\n")
    if not (config.parent / "link.eml").is_symlink():
        (config.parent / "link.eml").symlink_to(tmp_path / "outside.eml")
    config.write_text(message_config(entry))
    try:
        async with trio.open_nursery() as nursery:
            running: Running = await nursery.start(
                serve,
                Settings(api_port=0, config=str(config), max_message_size=4096, **settings),  # type: ignore[arg-type]
            )
            box = running.registry.get("acme").store.get("alice")
            subjects = [m.summary.subject for m in box.listing()]
            running.stop.set()
    except BaseExceptionGroup as group:  # this test's nursery wraps what serve raised
        while isinstance(group, BaseExceptionGroup) and len(group.exceptions) == 1:
            group = group.exceptions[0]  # type: ignore[assignment]
        raise group from None
    return subjects


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("file = '../outside.eml'", "file '../outside.eml' lies outside"),
        ("file = 'link.eml'", "file 'link.eml' lies outside"),
        ("file = '/etc/passwd'", "file '/etc/passwd' lies outside"),
        ("file = '/proc/self/environ'", "lies outside"),
        ("file = '/dev/zero'", "lies outside"),
        ("file = 'missing.eml'", "No such file"),
        ("file = ''", "length >= 1"),
        ("file = 'text.txt'", "not an RFC 5322 message"),
        ("file = 'big.eml'", "over the message size limit of 4096"),
        ("file = 'ok.eml'\nsubject = 'ignored?'", "file is a raw message: it takes no subject"),
        ("text = '" + "y" * 5000 + "'", "over the limit of 4096"),
        ("uid = 'a b'", "uid"),
    ],
)
async def test_config_messages_get_the_api_checks_and_name_the_entry(
    tmp_path: Path, entry: str, message: str
) -> None:
    with pytest.raises(ConfigError) as failed:
        await start_with(tmp_path, entry)
    text = str(failed.value)
    assert message in text
    assert "mockmail.toml" in text
    if "length >= 1" not in text and "takes no" not in text:  # the struct errors name the path themselves
        assert "tenants[0].mailboxes[0].messages[1]" in text


async def test_config_root_widens_where_files_may_lie(tmp_path: Path) -> None:
    assert await start_with(tmp_path, "file = '../outside.eml'", config_root=str(tmp_path)) == [
        "fine",
        "secret",
    ]
    assert await start_with(tmp_path, "file = 'ok.eml'\nuid = 'u-1'") == ["fine", "ok"]


async def test_a_device_inside_the_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a regular file"):
        await start_with(tmp_path, "file = '/dev/zero'", config_root="/dev")


def test_cli_process_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    with serve_cli("--config", str(write_config(tmp_path)), port_in_env=True) as cli:
        with urllib.request.urlopen(f"{cli.url}/api/v1/tenants", timeout=10) as response:
            tenants = json.load(response)
        assert [t["name"] for t in tenants] == ["acme"]
    assert f"REST API on {cli.url}/api/v1" in cli.log
    assert "tenant acme: POP3 on" in cli.log
    assert "received SIGTERM" in cli.log


def test_cli_reports_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[tenants]]\nname = 'Bad Name'\n")
    done = subprocess.run(
        [sys.executable, "-m", "mockmail.main", "serve", "--api-port", "0", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "tenants[0].name" in done.stderr


def test_cli_reports_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "mockmail.main", "serve", "--api-port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 1
    assert "cannot start" in done.stderr


async def test_operator_certificate(nursery: trio.Nursery, tmp_path: Path) -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    running: Running = await nursery.start(
        serve, Settings(api_port=0, tls_cert=str(cert_file), tls_key=str(key_file))
    )
    tenant = await running.registry.create(TenantSpec(name="t"))
    tenant.store.put("bob", "pw")
    assert tenant.endpoints.get("pop3s") is not None
    assert running.registry.tls is not None and running.registry.tls.ca_pem is None  # not ours to hand out
    context = ssl.create_default_context()
    ca.configure_trust(context)

    def login() -> bytes:
        pop = poplib.POP3_SSL(tenant.endpoints.get("pop3s").host, tenant.endpoints.get("pop3s").port, context=context, timeout=30)  # type: ignore[union-attr]
        pop.user("bob")
        reply = pop.pass_("pw")
        pop.quit()
        return reply

    assert (await trio.to_thread.run_sync(login)).startswith(b"+OK bob has 0 messages")


def test_mmap_threshold_is_pinned_on_glibc() -> None:
    import platform

    from mockmail.main import pin_mmap_threshold

    assert pin_mmap_threshold() is (platform.libc_ver()[0] == "glibc")


def test_token_settings_from_flags_and_environment() -> None:
    settings = parse_settings(
        ["serve", "--admin-token", "x" * 20, "--insecure", "--auth-failure-delay", "0"], {}
    )
    assert (settings.admin_token, settings.insecure, settings.auth_failure_delay) == ("x" * 20, True, 0.0)
    from_env = parse_settings(["serve"], {"MOCKMAIL_ADMIN_TOKEN": "y" * 20, "MOCKMAIL_INSECURE": "1"})
    assert (from_env.admin_token, from_env.insecure) == ("y" * 20, True)
    assert parse_settings(["serve"], {"MOCKMAIL_INSECURE": "0"}).insecure is False


@pytest.mark.parametrize(
    ("host", "extra", "refused"),
    [
        ("0.0.0.0", [], True),
        ("::", [], True),
        ("192.0.2.1", [], True),
        ("0.0.0.0", ["--insecure"], False),
        ("0.0.0.0", ["--admin-token", "t" * 20], False),
        ("127.0.0.2", [], False),
        ("::1", [], False),
        ("localhost", [], False),
    ],
)
def test_an_open_api_is_refused_beyond_loopback(host: str, extra: list[str], refused: bool) -> None:
    from mockmail.main import check_exposure

    settings = parse_settings(["serve", "--host", host, *extra], {})
    if refused:
        with pytest.raises(ConfigError, match=r"--admin-token.*--insecure"):
            check_exposure(settings)
    else:
        check_exposure(settings)


def test_cli_refuses_an_open_api_on_a_wildcard_address() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockmail.main", "serve", "--api-port", "0", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "--admin-token" in done.stderr and "--insecure" in done.stderr


def test_json_logs_have_a_line_per_request_and_per_session() -> None:
    token = "json-log-admin-token-0123456789"
    with serve_cli("--log-format", "json", "--admin-token", token) as cli:
        request = urllib.request.Request(
            f"{cli.url}/api/v1/tenants",
            data=json.dumps({"name": "acme"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            view = json.loads(response.read())
        pop = poplib.POP3("127.0.0.1", view["pop3"]["port"], timeout=10)
        pop.quit()
    lines = [json.loads(line) for line in cli.log.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    assert len(lines) == len([line for line in cli.log.splitlines() if line.strip()])  # every line is JSON
    api = [line for line in lines if line.get("event") == "api" and line["route"] != "/api/v1/health"]
    assert [(a["method"], a["route"], a["status"]) for a in api] == [("POST", "/api/v1/tenants", 201)]
    sessions = [line for line in lines if line.get("event") == "session"]
    assert len(sessions) == 1
    assert sessions[0]["tenant"] == "acme" and sessions[0]["protocol"] == "pop3"
    assert sessions[0]["end"] == "quit" and sessions[0]["commands"] == 1
    assert token not in cli.log and view["token"] not in cli.log  # never a secret


def test_data_dir_settings_and_a_store_that_cannot_be_opened(tmp_path: Path) -> None:
    from mockmail.main import open_catalog

    settings = parse_settings(["serve", "--data-dir", str(tmp_path / "d"), "--fsync"], {})
    assert (settings.data_dir, settings.fsync) == (str(tmp_path / "d"), True)
    from_env = parse_settings(["serve"], {"MOCKMAIL_DATA_DIR": "/srv/mail", "MOCKMAIL_FSYNC": "true"})
    assert (from_env.data_dir, from_env.fsync) == ("/srv/mail", True)
    catalog = open_catalog(settings)
    assert catalog.persistent and (tmp_path / "d" / "mockmail.sqlite3").exists()
    catalog.close()
    assert not open_catalog(parse_settings(["serve"], {})).persistent
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(ConfigError, match=r"--data-dir .*cannot open the store"):
        open_catalog(parse_settings(["serve", "--data-dir", str(blocked)], {}))


def test_cli_exits_2_on_a_data_dir_it_cannot_use(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    done = subprocess.run(
        [sys.executable, "-m", "mockmail.main", "serve", "--api-port", "0", "--data-dir", str(blocked)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "cannot open the store" in done.stderr


def test_an_empty_variable_is_an_unset_one() -> None:
    """A compose file turns off an image's `ENV MOCKMAIL_DATA_DIR` with an empty value (deploy/replicas)."""
    settings = parse_settings(["serve"], {"MOCKMAIL_DATA_DIR": "", "MOCKMAIL_STORE": "postgresql:///x"})
    assert settings.data_dir is None and settings.store == "postgresql:///x"
    assert parse_settings(["serve", "--data-dir", "/srv"], {"MOCKMAIL_DATA_DIR": ""}).data_dir == "/srv"
