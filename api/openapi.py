"""The REST contract: `openapi.yaml` (hand-written paths) and the components generated from the structs.

`openapi.yaml` at the top of the repository is the contract; a wheel carries a copy as `mockmail/api/openapi.yaml`.
`components()` renders every request and response struct with msgspec's `schema_components`; the test suite
checks that the file's `components.schemas` equal it exactly, and that its paths equal the app's routes.
`python -m api.openapi` rewrites the components section of the file from the code.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import msgspec

from mockmail.faults import FaultPatch, FaultPlan, MailboxFaultPatch, MailboxFaultPlan, Profile
from mockmail.message.mime import AttachmentInfo, MessageParts
from mockmail.observe.transcripts import SessionDetail, SessionSummary
from mockmail.store import FolderInfo
from mockmail.tenancy.specs import Endpoint, FlagsSpec, MailboxSpec, MessageSpec, TenantSpec

from .schemas import (
    FoundMessage,
    Health,
    MailboxView,
    MessageCreated,
    MessageDetail,
    MessageSummary,
    Problem,
    Ready,
    TenantCreated,
    TenantToken,
    TenantView,
)

__all__ = ["MODELS", "components", "document_path", "load_document"]

REF_TEMPLATE = "#/components/schemas/{name}"

MODELS: tuple[Any, ...] = (
    Health,
    Ready,
    TenantSpec,
    TenantView,
    TenantCreated,
    TenantToken,
    Endpoint,
    MailboxSpec,
    MailboxView,
    MessageSpec,
    MessageCreated,
    MessageSummary,
    MessageDetail,
    FoundMessage,
    FlagsSpec,
    FolderInfo,
    MessageParts,
    AttachmentInfo,
    Problem,
    FaultPlan,
    FaultPatch,
    MailboxFaultPlan,
    MailboxFaultPatch,
    Profile,
    SessionSummary,
    SessionDetail,
)


def components() -> dict[str, Any]:
    """JSON Schema of every API struct, keyed by struct name, with descriptions normalized."""
    _, schemas = msgspec.json.schema_components(MODELS, ref_template=REF_TEMPLATE)
    normalized: dict[str, Any] = _normalized(schemas)
    return normalized


BASE64_PATTERN = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?(?!\n)$"
"""What msgspec accepts as `bytes` in JSON: standard base64, padded, nothing else (tests/api/test_openapi.py)."""


def _normalized(node: Any) -> Any:
    """The schemas made independent of library details, and as strict as the server is.

    - Every `description` goes through `inspect.cleandoc`: msgspec 0.22 kept a docstring's indentation
      after its first line and 0.23 removes it, so the contract stays a function of the code alone.
    - A `contentEncoding: base64` string gets the pattern msgspec enforces: JSON Schema treats the
      encoding as an annotation only, so without it a schema-valid body could be refused.
    """
    if isinstance(node, dict):
        if node.get("contentEncoding") == "base64" and "pattern" not in node:
            node = {**node, "pattern": BASE64_PATTERN}
        return {
            key: inspect.cleandoc(value)
            if key == "description" and isinstance(value, str)
            else _normalized(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_normalized(item) for item in node]
    return node


def document_path() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "openapi.yaml", here.parent / "openapi.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("openapi.yaml is missing from this installation")


def load_document() -> bytes:
    return document_path().read_bytes()


SCHEMAS_MARKER = "\n  schemas:\n"


def render_schemas() -> str:
    """`components.schemas` as YAML lines (JSON is YAML; one schema per line keeps diffs readable)."""
    return "".join(
        f"    {name}: {msgspec.json.encode(schema).decode()}\n"
        for name, schema in sorted(components().items())
    )


def rewrite_components(path: Path) -> None:
    """Replace everything after `components.schemas:` (the last section of the file) with the code's view."""
    text = path.read_text()
    head, marker, _ = text.rpartition(SCHEMAS_MARKER)
    if not marker:
        raise SystemExit(f"{path}: no 'components.schemas' section to replace")
    path.write_text(head + marker + render_schemas())


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    rewrite_components(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("openapi.yaml"))
