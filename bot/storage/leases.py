"""Jobs shared by many job workers (JOBS_WORKER=shared): claims, leases and fencing tokens.

A worker claims the oldest job nobody holds (or whose holder's lease ran out) and holds it
until `lease_expires_at`, renewing the lease from its heartbeat. Each claim raises the job's
`lease_token`: the worker's writes to the job carry the token it claimed with (see
`JobRepository.fence`), so a worker whose lease was taken over, because it stalled or lost
the database, can no longer change the job, even if it wakes up later. A dead worker's jobs
are claimed again once its leases expire and resume from what was stored, through status,
never posted to Soundverse again.

Claims are exact without `SKIP LOCKED`: every write transaction holds the database's write
lock (SQLite's, or the advisory lock on PostgreSQL), so two claims never see the same free
job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.clock import Clock, SystemClock, to_stored
from bot.storage.database import Database
from bot.storage.jobs import FINAL_STATES, Job, JobState, LeaseLost, _job_from

_FINALS = tuple(state.value for state in FINAL_STATES)

__all__ = ["CancelRequest", "JobLeases", "Lease", "LeaseLost"]


@dataclass(frozen=True)
class Lease:
    """A job claimed by one worker, with the fencing token of that claim."""

    job: Job
    token: int
    expires_at: datetime


@dataclass(frozen=True)
class CancelRequest:
    """A cancel asked in the bot for a job a worker holds."""

    job_id: int
    by_user_id: int | None


class JobLeases:
    """Claiming, renewing and releasing jobs, and passing cancels to their worker."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self._database = database
        self._clock = clock or SystemClock()

    async def claim(self, owner: str, *, lease: float, group_limit: int) -> Lease | None:
        """The oldest unfinished job that no live lease holds, now held by `owner` for
        `lease` seconds; None when there is none.

        A job waits while `group_limit` jobs of its guild (of its member, in DMs) are held:
        the limit holds across every worker, as JOBS_GUILD_CONCURRENCY says.
        """
        now = self._clock.now()
        stored_now = to_stored(now)
        expires = now + timedelta(seconds=lease)
        candidate = (
            "SELECT candidate.id FROM jobs AS candidate"
            " WHERE candidate.state NOT IN (?, ?, ?)"
            " AND (candidate.lease_expires_at IS NULL OR candidate.lease_expires_at <= ?)"
            " AND (SELECT COUNT(*) FROM jobs AS held"
            " WHERE held.state NOT IN (?, ?, ?) AND held.lease_expires_at > ?"
            " AND (held.guild_id = candidate.guild_id OR (held.guild_id IS NULL"
            " AND candidate.guild_id IS NULL AND held.user_id = candidate.user_id))) < ?"
            " ORDER BY candidate.id LIMIT 1"
        )
        parameters = (*_FINALS, stored_now, *_FINALS, stored_now, group_limit)
        # Looked for first without the write lock: most claims of an idle worker find nothing.
        async with self._database.snapshot() as transaction:
            if await transaction.fetch_value(candidate, parameters) is None:
                return None
        async with self._database.transaction() as transaction:
            row = await transaction.fetch_one(
                "UPDATE jobs SET lease_owner = ?, lease_expires_at = ?,"
                f" lease_token = lease_token + 1 WHERE id = ({candidate}) RETURNING *",
                (owner, to_stored(expires), *parameters),
            )
        if row is None:
            return None
        job = _job_from(row)
        return Lease(job, int(row["lease_token"]), expires)

    async def renew(self, owner: str, tokens: Mapping[int, int], *, lease: float) -> set[int]:
        """Extend `owner`'s leases on the jobs of `tokens` (job id: token); returns the ids
        still held (a job taken over by another worker, or ended, is left out)."""
        if not tokens:
            return set()
        expires = to_stored(self._clock.now() + timedelta(seconds=lease))
        held = set()
        async with self._database.transaction() as transaction:
            for job_id, token in tokens.items():
                changed = await transaction.execute(
                    "UPDATE jobs SET lease_expires_at = ?"
                    " WHERE id = ? AND lease_owner = ? AND lease_token = ?",
                    (expires, job_id, owner, token),
                )
                if changed:
                    held.add(job_id)
        return held

    async def release(self, job_id: int, token: int) -> bool:
        """Give a job back at once (its worker stops), so another worker may claim it without
        waiting for the lease to run out; False when it was no longer held with `token`, or
        has ended meanwhile."""
        async with self._database.transaction() as transaction:
            changed = await transaction.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL"
                " WHERE id = ? AND lease_token = ? AND state NOT IN (?, ?, ?)",
                (job_id, token, *_FINALS),
            )
        return bool(changed)

    async def request_cancel(self, job_id: int, by_user_id: int | None) -> Job | None:
        """Leave a cancel for the worker that runs the job (asked in the bot); the job as it
        is now, or None when there is no such job."""
        now = to_stored(self._clock.now())
        async with self._database.transaction() as transaction:
            row = await transaction.fetch_one(
                "UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, ?),"
                " cancel_requested_by = COALESCE(cancel_requested_by, ?)"
                " WHERE id = ? RETURNING *",
                (now, by_user_id, job_id),
            )
        return None if row is None else _job_from(row)

    async def cancel_requests(self, owner: str) -> tuple[CancelRequest, ...]:
        """The cancels asked for jobs `owner` holds and has not ended yet."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT id, cancel_requested_by FROM jobs WHERE lease_owner = ?"
                " AND cancel_requested_at IS NOT NULL AND state NOT IN (?, ?, ?) ORDER BY id",
                (owner, *_FINALS),
            )
        return tuple(CancelRequest(int(row[0]), row[1]) for row in rows)

    async def holder_of(self, job_id: int) -> tuple[str | None, JobState] | None:
        """Who holds a job now (None when nobody holds a live lease) and its state."""
        now = to_stored(self._clock.now())
        async with self._database.snapshot() as transaction:
            row = await transaction.fetch_one(
                "SELECT CASE WHEN lease_expires_at > ? THEN lease_owner END, state"
                " FROM jobs WHERE id = ?",
                (now, job_id),
            )
        return None if row is None else (row[0], JobState(row[1]))
