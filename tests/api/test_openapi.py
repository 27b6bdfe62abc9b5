"""api/openapi.py: openapi.yaml and the code agree exactly, both ways."""

from __future__ import annotations

import inspect
import re
from typing import Any

import msgspec
import pytest

from mockmail.api import create_app
from mockmail.api.openapi import SCHEMAS_MARKER, components, document_path, render_schemas
from mockmail.config.settings import Settings
from mockmail.tenancy.registry import Registry
from mockmail.tenancy.service import Service

from .contract import DOCUMENT, document


def test_the_api_serves_the_repository_file() -> None:
    assert document_path() == DOCUMENT


def test_schemas_equal_the_structs() -> None:
    assert document()["components"]["schemas"] == components()


def _descriptions(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["description"]] if isinstance(node.get("description"), str) else []
        return own + [d for value in node.values() for d in _descriptions(value)]
    if isinstance(node, list):
        return [d for item in node for d in _descriptions(item)]
    return []


def test_descriptions_do_not_depend_on_how_msgspec_reads_docstrings() -> None:
    # msgspec 0.22 kept the indentation of a docstring's later paragraphs, 0.23 strips it: the generated
    # contract must read the same under both.
    texts = _descriptions(components())
    assert any("\n\n" in text for text in texts)  # multi-paragraph docstrings exist, so this can fail
    assert [t for t in texts if t != inspect.cleandoc(t)] == []


def test_normalization_cleans_an_indented_docstring() -> None:
    from mockmail.api.openapi import _normalized

    class Indented(msgspec.Struct):
        """First line.

        Second paragraph, indented in the source."""

    _, schemas = msgspec.json.schema_components([Indented])
    assert (
        _normalized(schemas)["Indented"]["description"]
        == "First line.\n\nSecond paragraph, indented in the source."
    )


def test_schema_section_is_what_the_generator_writes() -> None:
    # `python -m api.openapi` must be a no-op on a file that is up to date.
    text = DOCUMENT.read_text()
    assert text.rpartition(SCHEMAS_MARKER)[2] == render_schemas()


def _app_routes() -> set[tuple[str, str]]:
    app = create_app(Service(Registry(Settings())))
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("web."):  # the page, not the REST API
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in {"HEAD", "OPTIONS"}:
                routes.add((method.lower(), path))
    return routes


def _documented_routes() -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(m, path) for path, item in document()["paths"].items() for m in item if m in methods}


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    assert _app_routes() == _documented_routes()


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def test_every_reference_resolves() -> None:
    doc = document()
    for ref in _refs(doc):
        target: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            assert part in target, f"dangling reference {ref}"
            target = target[part]


@pytest.mark.parametrize("path", sorted(document()["paths"]))
def test_path_parameters_are_declared(path: str) -> None:
    item = document()["paths"][path]
    declared = set()
    for section in [item, *(v for k, v in item.items() if isinstance(v, dict))]:
        for param in section.get("parameters", []):
            if "$ref" in param:
                param = document()["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
            if param["in"] == "path":
                declared.add(param["name"])
    assert declared == set(re.findall(r"{([^}]+)}", path))


def test_document_is_valid_openapi_31() -> None:
    from openapi_spec_validator import validate

    validate(document())


@pytest.mark.parametrize("text", ["", "YQ==", "YWI=", "YWJj", "YQ", "YQ=", "Y===", "YW Jj", "YWJj\n", "-_8="])
def test_the_base64_pattern_is_what_msgspec_accepts(text: str) -> None:
    from mockmail.api.openapi import BASE64_PATTERN

    try:
        msgspec.json.decode(msgspec.json.encode(text), type=bytes)
        accepted = True
    except msgspec.ValidationError:
        accepted = False
    assert bool(re.match(BASE64_PATTERN, text)) == accepted
