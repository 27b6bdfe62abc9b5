"""The client's shape: one method per operation of openapi.yaml, and a sync half generated from the async."""

from __future__ import annotations

import re

import pytest
import yaml

from mockmail.api.openapi import load_document
from mockmail.client import AsyncClient, Client
from mockmail.client._unasync import HERE, PAIRS, main, unasync


def operation_ids() -> list[str]:
    document = yaml.safe_load(load_document())
    return [
        op["operationId"]
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


@pytest.mark.parametrize("operation", operation_ids())
def test_every_operation_has_a_method_on_both_clients(operation: str) -> None:
    assert callable(getattr(Client, snake(operation), None)), operation
    assert callable(getattr(AsyncClient, snake(operation), None)), operation


def test_the_sync_client_is_generated_from_the_async_one() -> None:
    for source, target in PAIRS:
        assert (HERE / target).read_text() == unasync((HERE / source).read_text())
        assert "await " not in (HERE / target).read_text() and "async " not in (HERE / target).read_text()
    assert main(["--check"]) == 0
