"""The page's server side: the shell and its files need no token and carry a strict policy; the API
behind them still does; every knob the form offers is a value the API takes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from mockmail.api.web import CSP, Knob, knobs
from mockmail.client import Client
from mockmail.embedded import EmbeddedServer
from mockmail.faults import FaultPlan

ADMIN = "page-admin-token-0123456789abcdef"


@pytest.fixture(name="server", scope="module")
def _server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(admin_token=ADMIN) as server:
        yield server


@pytest.mark.parametrize(
    ("path", "kind"), [("/", "text/html"), ("/ui/app.js", "text/javascript"), ("/ui/app.css", "text/css")]
)
def test_the_page_and_its_files_need_no_token(server: EmbeddedServer, path: str, kind: str) -> None:
    response = httpx.get(server.url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(server.url + "/api/v1/tenants").status_code == 401  # the data still needs one


def test_the_policy_forbids_inline_code_and_foreign_origins() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CSP


def test_the_form_offers_every_knob_of_the_plan(server: EmbeddedServer) -> None:
    page = httpx.get(server.url + "/").text
    offered = knobs()
    assert [k.name for k in offered] == [n for n in FaultPlan.__struct_fields__ if n != "profile"]
    for knob in offered:
        assert f'data-knob="{knob.name}"' in page
        assert knob.description, knob.name


@pytest.mark.parametrize("knob", knobs(), ids=lambda k: k.name)
def test_each_knob_example_is_a_plan_the_api_takes(server: EmbeddedServer, knob: Knob) -> None:
    name, example = knob.name, knob.example
    with Client(server.url, ADMIN) as client:
        tenant = client.create_tenant(f"knob-{name.replace('_', '-')}")
        try:
            plan = client.put_tenant_faults(tenant.name, {name: json.loads(example)})
            assert getattr(plan, name) not in (None, [])
        finally:
            tenant.delete()


def test_the_first_paint_needs_no_script(server: EmbeddedServer) -> None:
    """The HTML itself says the page is loading (every data section waits for the script, hidden)."""
    from html.parser import HTMLParser

    class Sections(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.shown: dict[str, bool] = {}

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            named = dict(attrs)
            if named.get("id"):
                self.shown[str(named["id"])] = "hidden" not in named

    page = Sections()
    page.feed(httpx.get(server.url + "/").text)
    assert page.shown["loading"]
    assert not any(
        page.shown[name] for name in ("tenants-view", "tenant-view", "token-view", "message-links")
    )
