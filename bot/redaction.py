"""Secrets kept out of the logs, at every level: interaction and webhook tokens (discord.py logs
them in request URLs and gateway payloads at DEBUG), voice tokens, and credentials.

`RedactingFormatter` redacts the whole formatted record, traceback included, so no logger,
ours or a library's, can write one of them.
"""

from __future__ import annotations

import logging
import re

REDACTED = "<redacted>"

_PATTERNS = (
    # Webhooks and interaction callbacks: /webhooks/<app>/<token>, /interactions/<id>/<token>
    (re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s?'\"]+"), rf"\g<1>{REDACTED}"),
    # A "token" field in a JSON payload or a Python dict repr (interactions, voice servers).
    (re.compile(r"""((?:'token'|"token")\s*:\s*)(['"])[^'"]*\2"""), rf"\g<1>\g<2>{REDACTED}\g<2>"),
    # Credentials in headers: "Bot <token>", "Bearer <key>".
    (re.compile(r"\b(Bot|Bearer)\s+[A-Za-z0-9._\-]{8,}"), rf"\g<1> {REDACTED}"),
)


def redact(text: str) -> str:
    """`text` with every token and credential it holds replaced by `<redacted>`."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose output never holds a token or a credential."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
