"""Checks real API responses against openapi.yaml: the status must be documented for the operation, the
content type must be one it lists, and a JSON body must validate against the documented schema."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi.yaml"


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in document()["paths"]:
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
        out.append((re.compile(f"^{pattern}$"), template))
    return out


def template_of(path: str) -> str | None:
    for pattern, template in _templates():
        if pattern.match(path):
            return template
    return None


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def check_response(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Raise AssertionError when the response is not what openapi.yaml promises."""
    template = template_of(path.split("?")[0])
    if template is None:
        assert status == 404, f"{method} {path}: undocumented path answered {status}"
        return
    operation = document()["paths"][template].get(method.lower())
    if operation is None:
        assert status == 405, f"{method} {template}: undocumented method answered {status}"
        return
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template}: status {status} is not documented"
    response = _resolve(responses[str(status)])
    media = response.get("content", {})
    if not media:
        assert body == b"", f"{method} {template} {status}: documented without a body, got {body[:80]!r}"
        return
    mimetype = content_type.split(";")[0].strip()
    assert mimetype in media, f"{method} {template} {status}: {mimetype} not in {sorted(media)}"
    if mimetype.endswith("json"):
        schema = {"allOf": [media[mimetype]["schema"]], "components": document()["components"]}
        jsonschema.Draft202012Validator(schema).validate(json.loads(body))
