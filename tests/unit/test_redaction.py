"""Secrets never reach the logs (`bot.redaction`)."""

from __future__ import annotations

import json
import logging
import sys

from bot.logs import JsonFormatter
from bot.redaction import RedactingFormatter, redact

TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQ"


def test_webhook_and_callback_urls_lose_their_token() -> None:
    """`/webhooks/<app>/<token>` and `/interactions/<id>/<token>` keep only their ids."""
    line = (
        f"PATCH https://discord.com/api/v10/webhooks/123/{TOKEN}/messages/@original "
        f"and POST /api/v10/interactions/456/{TOKEN}/callback"
    )
    assert TOKEN not in redact(line)
    assert "/webhooks/123/<redacted>/messages" in redact(line)


def test_token_fields_of_payloads_are_redacted() -> None:
    """A gateway event's `token` (dict repr or JSON) is redacted, the rest kept."""
    shown = redact(f"WebSocket Event: {{'t': 'INTERACTION_CREATE', 'd': {{'token': '{TOKEN}'}}}}")
    assert TOKEN not in shown and "'token': '<redacted>'" in shown
    assert TOKEN not in redact(f'{{"token": "{TOKEN}", "id": "9"}}')


def test_credentials_in_headers_are_redacted() -> None:
    """`Bot <token>` and `Bearer <key>` lose the secret."""
    assert redact(f"Authorization: Bot {TOKEN}") == "Authorization: Bot <redacted>"
    assert redact("Bearer sk_live_abcdefgh1234") == "Bearer <redacted>"


def test_the_formatter_redacts_tracebacks_too() -> None:
    """A token inside an exception's text is redacted from the formatted record."""
    try:
        raise RuntimeError(f"404 on /webhooks/1/{TOKEN}/messages")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert TOKEN not in RedactingFormatter().format(record)


def test_json_logs_carry_the_fields_and_no_token() -> None:
    """A JSON log line holds a job event's fields as keys, and no token."""
    record = logging.LogRecord(
        "bot.jobs.events", logging.INFO, __file__, 1, "%s", (f"via /webhooks/1/{TOKEN}",), None
    )
    record.fields = {"event": "delivered", "job_id": 7}
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["event"], entry["job_id"], entry["level"]) == ("delivered", 7, "INFO")
    assert TOKEN not in json.dumps(entry)
