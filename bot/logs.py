"""How the bot writes its logs: plain lines, or JSON objects for log shippers (`LOG_FORMAT`).

Both redact tokens and credentials from everything they write (`bot.redaction`).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from bot.redaction import RedactingFormatter, redact

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the structured fields a line
    carries (`extra={"fields": {...}}`, as job events do), and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter `LOG_FORMAT` names: `text` or `json`."""
    if log_format == "json":
        return JsonFormatter()
    return RedactingFormatter(TEXT_FORMAT)
