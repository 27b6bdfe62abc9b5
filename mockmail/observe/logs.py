"""Log set-up: the usual text lines, or `--log-format json`, one JSON object per line.

In JSON mode the server also writes one line per session end (`"event": "session"`) and per API request
(`"event": "api"`), with their figures as fields, for log pipelines that index them.  Those lines carry
names, addresses, reasons and counts, never a password, token or message content.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

__all__ = ["JsonFormatter", "configure", "event"]

ACCESS = logging.getLogger("mockmail.access")


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...fields}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, log_format: str) -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def event(kind: str, message: str, **fields: Any) -> None:
    """One structured line (`event` = `kind`) on the access logger."""
    ACCESS.info(message, extra={"fields": {"event": kind, **fields}})
