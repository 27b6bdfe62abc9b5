"""The web page at `/`: for people debugging a client.  A server-rendered shell and one small script.

Everything the page does goes through the public REST API with the token it asks for (kept in session
storage); the server only renders the shell and the fault-plan form, whose fields come from `FaultPlan`.
The page and its files need no token (they hold no data), and carry a strict Content-Security-Policy:
scripts and styles from this origin only, no inline code, and a message's HTML goes into a sandboxed
iframe without scripts.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from dataclasses import dataclass
from typing import Any

import msgspec
from quart import Blueprint, Response, render_template

from mockmail import __version__
from mockmail.faults import FaultPlan
from mockmail.protocols import LISTENERS, PROTOCOLS

__all__ = ["CSP", "PREFIX", "Knob", "blueprint", "knobs"]

PREFIX = "/ui/"
"""Where the page's script and style sheet are served (no token needed, like `/`)."""

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; child-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

_EXAMPLES: dict[str, str] = {
    "seed": "7",
    "replies": '[{"command": "RETR", "line": "-ERR [SYS/TEMP] try later"}]',
    "transport": '[{"kind": "latency", "ms": 200}]',
    "smtp": '{"greylisting": {"retry_after": 60}}',
    "imap": '{"idle_cut": {"seconds": 30}, "replies": [{"command": "SELECT", "status": "NO", "text": "try later"}]}',
}


_COLUMNS = sorted(LISTENERS, key=lambda listener: listener.implicit_tls)
"""The tenant table's listener columns: every protocol's plain listener, then the implicit-TLS ones."""


@dataclass(frozen=True)
class Knob:
    """A field of the fault plan as the form shows it: a checkbox, a JSON value and its description."""

    name: str
    example: str
    description: str


def _field_docs(cls: type) -> dict[str, str]:
    """The docstrings written under a class's fields (`name: T = x` then `\"\"\"text\"\"\"`)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for field, doc in itertools.pairwise(body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(doc, ast.Expr)
            and isinstance(doc.value, ast.Constant)
            and isinstance(doc.value.value, str)
        ):
            docs[field.target.id] = doc.value.value
    return docs


def knobs() -> list[Knob]:
    """Every FaultPlan field but `profile` (the preset menu), in the struct's order, described by its own
    docstring or else its type's."""
    schema = msgspec.json.schema(FaultPlan)
    definitions: dict[str, Any] = schema["$defs"]
    plan = definitions["FaultPlan"]["properties"]
    docs = _field_docs(FaultPlan)
    found = []
    for name in FaultPlan.__struct_fields__:
        if name == "profile":
            continue
        description = docs.get(name, "")
        for option in [*plan[name].get("anyOf", []), plan[name].get("items", {})]:
            ref = option.get("$ref")
            if ref and not description:
                description = definitions[ref.rsplit("/", 1)[1]].get("description", "")
        found.append(Knob(name, _EXAMPLES.get(name, "{}"), " ".join(description.split())))
    return found


def blueprint() -> Blueprint:
    bp = Blueprint(
        "web", __name__, template_folder="templates", static_folder="static", static_url_path="/ui"
    )
    form = knobs()

    @bp.get("/")
    async def page() -> Response:
        html = await render_template(
            "index.html",
            knobs=form,
            version=__version__,
            listeners=[listener.name for listener in _COLUMNS],
            options=[option.name for entry in PROTOCOLS for option in entry.fields],
        )
        response = Response(html, status=200, content_type="text/html; charset=utf-8")
        return response

    @bp.after_request
    async def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    return bp
