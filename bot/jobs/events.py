"""One log line per thing that happens to a job, for operators and their log shippers.

Every line names the job, its server, channel and member, and its event: `admitted`,
`submitted` (with Soundverse's ids), `delivered` (with where and the time each step took),
`failed` (with the error id a member was shown, and why), `cancelled`, `interrupted` (left
for the next start), `charged` and `refunded` (with the units). With `LOG_FORMAT=json` the
same fields are keys of a JSON object (`bot.logs`).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger("bot.jobs.events")


class Located(Protocol):
    """A job as far as its events name it."""

    @property
    def id(self) -> int: ...

    @property
    def guild_id(self) -> int | None: ...

    @property
    def channel_id(self) -> int: ...

    @property
    def user_id(self) -> int: ...


def job_event(
    job: Located, event: str, detail: str = "", *, level: int = logging.INFO, **fields: Any
) -> None:
    """Log `event` of `job` in one line; `fields` go along as structured data."""
    where = f"guild {job.guild_id or 'DM'}, channel {job.channel_id}, member {job.user_id}"
    text = f"Job {job.id} {event}" + (f": {detail}" if detail else "") + f" ({where})"
    data = {
        "event": event,
        "job_id": job.id,
        "guild_id": job.guild_id,
        "channel_id": job.channel_id,
        "user_id": job.user_id,
        **fields,
    }
    log.log(level, "%s", text, extra={"fields": data})
