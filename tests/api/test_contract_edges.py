"""Edges of the REST contract found by probing: control characters, content types, integral floats, 405s,
and the problem documents of errors answered before a handler runs."""

from __future__ import annotations

import json

import pytest
import trio

from mockmail.config.settings import Settings
from mockmail.main import Running, serve

from .conftest import Api, problem

T = "/api/v1/tenants/acme"
MESSAGES = f"{T}/mailboxes/alice/messages"


@pytest.fixture(name="api")
async def _api_with_acme(api: Api) -> Api:
    assert (await api.post("/api/v1/tenants", {"name": "acme"})).status == 201
    assert (await api.put(f"{T}/mailboxes/alice", {"password": "p"})).status == 201
    return api


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\r", "\n"])
@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda c: {"subject": f"a{c}b"}, "$.subject"),
        (lambda c: {"from": f"x{c}@example.com"}, "$.from"),
        (lambda c: {"to": [f"y{c}@example.com"]}, "$.to[0]"),
        (lambda c: {"cc": [f"z{c}@example.com"]}, "$.cc[0]"),
        (
            lambda c: {"headers": {"X-Trace": f"v{c}w"}},
            "$.headers[...]",
        ),  # msgspec names a dict value this way
        (lambda c: {"attachments": [{"filename": f"f{c}.txt", "content": ""}]}, "$.attachments[0].filename"),
    ],
)
async def test_control_characters_in_header_fields_are_refused(
    api: Api, char: str, make: object, field: str
) -> None:
    body = make(char)  # type: ignore[operator]
    problem(await api.post(MESSAGES, body), 422, field)
    assert (await api.get(MESSAGES)).json() == []


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/tenants", {"name": "acme2\n"}, "$.name"),
        ("PUT", f"{T}/mailboxes/bob", {"password": "pw\n"}, "$.password"),
        ("POST", MESSAGES, {"subject": "ab\n"}, "$.subject"),
        ("POST", MESSAGES, {"subject": "x", "headers": {"X-A\n": "v"}}, "$.headers"),
        ("POST", MESSAGES, {"uid": "u1\n"}, "$.uid"),
        ("GET", "/api/v1/tenants/acme%0A", None, "tenant"),
        ("GET", f"{T}/mailboxes/alice%0A", None, "user"),
    ],
)
async def test_a_trailing_newline_matches_no_pattern(
    api: Api, method: str, path: str, body: object, field: str
) -> None:
    """Python's `$` matches before a final newline; every pattern must read as JSON Schema's does."""
    response = await api.call(method, path, body)
    problem(response, 422)
    assert response.json()["field"].startswith(field)
    assert [t["name"] for t in (await api.get("/api/v1/tenants")).json()] == ["acme"]
    assert (await api.get(MESSAGES)).json() == []


async def test_a_tab_in_a_header_field_is_fine(api: Api) -> None:
    assert (await api.post(MESSAGES, {"subject": "a\tb"})).status == 201


async def test_a_malformed_query_uid_is_invalid_not_taken(api: Api) -> None:
    raw = b"Subject: x\r\n\r\nbody\r\n"
    response = await api.post(MESSAGES + "?uid=a%20b", data=raw, headers={"Content-Type": "message/rfc822"})
    doc = problem(response, 422, "uid")
    assert "printable" in doc["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/tenants", {"name": "other"}),
        ("PUT", f"{T}/mailboxes/bob", {"password": "p"}),
        ("PUT", f"{T}/faults", {}),
        ("PATCH", f"{T}/faults", {}),
        ("POST", MESSAGES, {"subject": "x"}),
    ],
)
async def test_json_endpoints_refuse_other_content_types(
    api: Api, content_type: str, method: str, path: str, body: object
) -> None:
    data = json.dumps(body).encode()
    response = await api.call(method, path, data=data, headers={"Content-Type": content_type})
    problem(response, 415, "Content-Type")
    assert (await api.get("/api/v1/tenants")).json()[0]["mailboxes"] == 1
    assert (await api.get(MESSAGES)).json() == []


async def test_a_json_suffix_type_is_json(api: Api) -> None:
    data = json.dumps({"password": "p"}).encode()
    headers = {"Content-Type": "application/merge-patch+json"}
    assert (await api.call("PUT", f"{T}/mailboxes/bob", data=data, headers=headers)).status == 201


async def test_integral_floats_are_integers(api: Api) -> None:
    created = await api.post("/api/v1/tenants", {"name": "floaty", "pop3_port": 0.0, "max_sessions": 1242.0})
    assert created.status == 201, created.body
    assert created.json()["max_sessions"] == 1242
    plan = await api.put(
        f"{T}/faults", {"seed": 7.0, "replies": [{"command": "RETR", "line": "-ERR x", "msg": 2.0}]}
    )
    assert plan.status == 200, plan.body
    assert plan.json()["seed"] == 7 and plan.json()["replies"][0]["msg"] == 2


async def test_non_integral_floats_are_still_refused(api: Api) -> None:
    doc = problem(
        await api.post("/api/v1/tenants", {"name": "floaty", "max_sessions": 12.5}), 422, "$.max_sessions"
    )
    assert "got `float`" in doc["detail"]
    problem(
        await api.post("/api/v1/tenants", {"name": "floaty", "max_sessions": "12"}), 422, "$.max_sessions"
    )


async def test_a_patch_is_checked_field_by_field(api: Api) -> None:
    problem(await api.call("PATCH", f"{T}/faults", {"quit": {"reply": "maybe"}}), 422, "$.quit.reply")
    problem(await api.call("PATCH", f"{T}/faults", {"no_such_knob": {}}), 422, "$.no_such_knob")
    problem(await api.call("PATCH", f"{T}/faults", [1, 2]), 422, "$")
    merged = await api.call("PATCH", f"{T}/faults", {"quit": {"reply": "drop"}, "seed": 4})
    assert merged.status == 200 and merged.json()["quit"]["reply"] == "drop"
    cleared = await api.call("PATCH", f"{T}/faults", {"quit": None})
    assert cleared.json() == {"seed": 4}


@pytest.mark.parametrize("method", ["TRACE", "PATCH", "POST"])
async def test_an_undeclared_method_gets_405_with_allow(api: Api, method: str) -> None:
    response = await api.call(method, f"{T}/sessions")
    problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "DELETE"}
    assert method not in response.headers["Allow"]


async def test_a_body_over_the_request_limit_names_the_body(api: Api) -> None:
    response = await api.post(MESSAGES, data=b"x" * (300 * 1024), headers={"Content-Type": "message/rfc822"})
    problem(response, 413, "body")


async def _raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(request)
    data = b""
    with trio.fail_after(10):
        while chunk := await stream.receive_some(65536):
            data += chunk
    await stream.aclose()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body


async def test_an_oversized_head_is_a_problem_document(nursery: trio.Nursery) -> None:
    running: Running = await nursery.start(serve, Settings(api_port=0))
    port = int(running.api_url.rsplit(":", 1)[1])
    huge = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    status, headers, body = await _raw_exchange(port, huge)
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    doc = json.loads(body)
    assert doc["status"] == 431 and doc["field"] == "headers" and doc["detail"]
    status, headers, body = await _raw_exchange(port, b"GET / HTTP/1.1\r\nno colon here\r\n\r\n")
    assert status == 400 and json.loads(body)["status"] == 400
    running.stop.set()


@pytest.mark.parametrize("address", ['"a" <', "a@", "Ôý, 𧣐y, ù\x85ì, Ⱦ{P*"])
@pytest.mark.parametrize("field", ["from", "to", "cc"])
async def test_an_address_the_email_package_cannot_parse_is_kept_as_encoded_words(
    api: Api, address: str, field: str
) -> None:
    import email.header

    body = {field: address if field == "from" else [address], "text": "é needs MIME"}
    created = await api.post(MESSAGES, body)
    assert created.status == 201, created.body
    raw = (await api.get(f"{MESSAGES}/{created.json()['id']}", headers={"Accept": "message/rfc822"})).body
    name = {"from": b"From", "to": b"To", "cc": b"Cc"}[field]
    line = next(line for line in raw.split(b"\r\n") if line.startswith(name + b": "))
    value = line.split(b": ", 1)[1].decode("ascii")
    decoded = str(email.header.make_header(email.header.decode_header(value)))
    assert decoded.replace(" ", "") == address.replace(" ", "") or value == address


async def test_a_stored_header_the_email_package_cannot_parse_is_shown_raw(api: Api) -> None:
    raw = b'Subject: odd\r\nTo: "a" <\r\nX-Folded: one\r\n two\r\n\r\nbody\r\n'
    created = await api.post(MESSAGES, data=raw, headers={"Content-Type": "message/rfc822"})
    assert created.status == 201
    detail = await api.get(f"{MESSAGES}/{created.json()['id']}")
    assert detail.status == 200
    assert detail.json()["headers"] == [["Subject", "odd"], ["To", '"a" <'], ["X-Folded", "one two"]]
