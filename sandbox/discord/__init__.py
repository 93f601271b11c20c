"""A local Discord that the unmodified discord.py client logs into: REST v10 and the gateway.

It enforces Discord's rules (acknowledgement deadline, token lifetime, upload and payload
limits, rate limits with real 429s) and can check its traffic against Discord's OpenAPI spec.
"""

from sandbox.discord.clock import Clock
from sandbox.discord.local import InteractionHandle, LocalDiscord
from sandbox.discord.openapi import OpenAPIValidator, Violation
from sandbox.discord.rules import Rules
from sandbox.discord.state import (
    Attachment,
    Channel,
    Guild,
    Message,
    RequestRecord,
    Role,
    ScheduledEvent,
    Thread,
    User,
)

__all__ = [
    "Attachment",
    "Channel",
    "Clock",
    "Guild",
    "InteractionHandle",
    "LocalDiscord",
    "Message",
    "OpenAPIValidator",
    "RequestRecord",
    "Role",
    "Rules",
    "ScheduledEvent",
    "Thread",
    "User",
    "Violation",
]
