"""Persisted generation jobs: a state machine holding what a restart needs to finish a job."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.storage.clock import Clock, SystemClock, from_stored, from_stored_or_none, to_stored
from bot.storage.database import (
    ConstraintViolated,
    Database,
    Parameters,
    Row,
    Transaction,
    guild_filter,
)
from bot.storage.errors import StorageError


class JobState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    SUBMITTED = "submitted"
    STREAMING = "streaming"
    DELIVERING = "delivering"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """Whether the job has ended (no transition leaves this state)."""
        return self in FINAL_STATES


FINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})
RUNNING_STATES = frozenset({JobState.SUBMITTED, JobState.STREAMING, JobState.DELIVERING})

# Submitted may jump to delivering: a job resumed by polling can find its result already done.
LEGAL_TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.SUBMITTED, JobState.FAILED, JobState.CANCELLED}),
    JobState.SUBMITTED: frozenset(
        {JobState.STREAMING, JobState.DELIVERING, JobState.FAILED, JobState.CANCELLED}
    ),
    JobState.STREAMING: frozenset(
        {JobState.STREAMING, JobState.DELIVERING, JobState.FAILED, JobState.CANCELLED}
    ),
    JobState.DELIVERING: frozenset({JobState.DONE, JobState.FAILED}),
    JobState.DONE: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}

# The states each state may be entered from.
_SOURCES: Mapping[JobState, tuple[str, ...]] = {
    target: tuple(
        source.value for source, targets in LEGAL_TRANSITIONS.items() if target in targets
    )
    for target in JobState
}

# The column that remembers when a job first entered each state.
_ENTERED_AT = {
    JobState.SUBMITTED: "submitted_at",
    JobState.STREAMING: "streaming_at",
    JobState.DELIVERING: "delivering_at",
    JobState.DONE: "finished_at",
    JobState.FAILED: "finished_at",
    JobState.CANCELLED: "finished_at",
}


@dataclass(frozen=True)
class NewJob:
    """A job to be written as `queued`."""

    channel_id: int
    user_id: int
    operation: str
    request: Mapping[str, Any]
    guild_id: int | None = None
    interaction_token: str | None = field(default=None, repr=False)
    token_expires_at: datetime | None = None
    reservation_id: int | None = None
    parent_track_id: int | None = None
    card_channel_id: int | None = None
    card_message_id: int | None = None
    note: str | None = None
    """Shown on the card beside the prompt (e.g. which track was picked)."""


@dataclass(frozen=True)
class Job:
    """A stored job."""

    id: int
    guild_id: int | None
    channel_id: int
    user_id: int
    operation: str
    request_json: str
    state: JobState
    soundverse_message_id: str | None
    soundverse_job_id: str | None
    interaction_token: str | None = field(repr=False)
    token_expires_at: datetime | None
    card_channel_id: int | None
    card_message_id: int | None
    reservation_id: int | None
    parent_track_id: int | None
    progress: int | None
    status_text: str | None
    error: str | None
    attempts: int
    last_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    streaming_at: datetime | None
    delivering_at: datetime | None
    finished_at: datetime | None
    result_json: str | None = None
    posting_at: datetime | None = None
    preview_url: str | None = None
    """Where the audio streams while it is made, once Soundverse said so."""
    note: str | None = None
    lease_owner: str | None = None
    """The shared worker holding the job (JOBS_WORKER=shared), until `lease_expires_at`."""
    lease_expires_at: datetime | None = None
    lease_token: int = 0
    cancel_requested_at: datetime | None = None
    """When a member asked in the bot to cancel it, for the worker that holds it."""
    cancel_requested_by: int | None = None

    @property
    def request(self) -> dict[str, Any]:
        """The request parameters the job was created with."""
        decoded: dict[str, Any] = json.loads(self.request_json)
        return decoded

    @property
    def result(self) -> dict[str, Any] | None:
        """What Soundverse answered, once it did (kept until the job ends)."""
        if self.result_json is None:
            return None
        decoded: dict[str, Any] = json.loads(self.result_json)
        return decoded

    @property
    def resumes_by_polling(self) -> bool:
        """Whether Soundverse already has the job, so a restart must poll, never submit again."""
        return self.soundverse_message_id is not None or self.soundverse_job_id is not None


class OrderAlreadyDecided(StorageError):
    """The interaction already has a job: its order was admitted, or the bot gave it up (and
    told the member so). Either way it must not be stored again."""

    def __init__(self) -> None:
        super().__init__("this interaction's order was already admitted or given up")


class LeaseLost(StorageError):
    """Another shared worker holds the job now: this one must stop working on it."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"job {job_id} is held by another worker now")
        self.job_id = job_id


class JobNotFound(StorageError):
    """No job has that id."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"no job with id {job_id}")
        self.job_id = job_id


class IllegalTransition(StorageError):
    """A job was asked to move to a state it cannot reach from where it is."""

    def __init__(self, job_id: int, current: JobState, requested: JobState) -> None:
        super().__init__(
            f"job {job_id} cannot go from {current.value} to {requested.value}"
            f" (allowed: {_describe_targets(current)})"
        )
        self.job_id = job_id
        self.current = current
        self.requested = requested


def _describe_targets(state: JobState) -> str:
    targets = sorted(target.value for target in LEGAL_TRANSITIONS[state])
    return ", ".join(targets) or "none, the job has ended"


class JobRepository:
    """Creates jobs and moves them through their states."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self._database = database
        self._clock = clock or SystemClock()
        # Jobs this process holds by a claim (JOBS_WORKER=shared): their fencing tokens.
        self._fences: dict[int, int] = {}

    def fence(self, job_id: int, token: int) -> None:
        """From now on, write about `job_id` only while it holds fencing token `token`."""
        self._fences[job_id] = token

    def unfence(self, job_id: int) -> None:
        """Stop checking the fencing token of `job_id` (its work here is over)."""
        self._fences.pop(job_id, None)

    async def check_fence(self, job_id: int) -> None:
        """Raise `LeaseLost` when `job_id` is fenced here and another claim took it since."""
        token = self._fences.get(job_id)
        if token is None:
            return
        async with self._database.snapshot() as transaction:
            stored = await transaction.fetch_value(
                "SELECT lease_token FROM jobs WHERE id = ?", (job_id,)
            )
        if stored != token:
            raise LeaseLost(job_id)

    def _fenced(self, job_id: int) -> tuple[str, tuple[int, ...]]:
        """The WHERE condition (and its parameter) that refuses a write after a takeover."""
        token = self._fences.get(job_id)
        return ("", ()) if token is None else (" AND lease_token = ?", (token,))

    async def create(self, job: NewJob) -> Job:
        """Write a new job in the `queued` state."""
        async with self._database.transaction() as transaction:
            return await insert_job(transaction, job, self._clock.now())

    async def get(self, job_id: int) -> Job:
        """One job; raises `JobNotFound`."""
        async with self._database.snapshot() as transaction:
            return await _load(transaction, job_id)

    async def give_up(self, job: NewJob, reason: str) -> bool:
        """Record that `job`'s order was given up (as cancelled, with `reason`), unless its
        interaction already has a job; True when it was given up, False when it was admitted."""
        try:
            async with self._database.transaction() as transaction:
                await insert_job(
                    transaction, job, self._clock.now(), state=JobState.CANCELLED, error=reason
                )
        except OrderAlreadyDecided:
            return False
        return True

    async def find(self, job_id: int) -> Job | None:
        """One job, or None."""
        async with self._database.snapshot() as transaction:
            row = await transaction.fetch_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else _job_from(row)

    async def transition(
        self,
        job_id: int,
        new_state: JobState,
        *,
        progress: int | None = None,
        status_text: str | None = None,
        error: str | None = None,
    ) -> Job:
        """Move a job to `new_state` (raising `IllegalTransition`), with its progress or error.

        Ending a job forgets its interaction token (nothing may use it afterwards) and the
        Soundverse answer kept to resume it.
        """
        sources = _SOURCES[new_state]
        if not sources:  # no state leads back to `queued`
            current = await self.get(job_id)
            raise IllegalTransition(job_id, current.state, new_state)
        now = to_stored(self._clock.now())
        assignments = ["state = ?", "updated_at = ?"]
        values: list[object] = [new_state.value, now]
        for column, value in (
            ("progress", progress),
            ("status_text", status_text),
            ("error", error),
        ):
            if value is not None:
                assignments.append(f"{column} = ?")
                values.append(value)
        entered = _ENTERED_AT[new_state]
        assignments.append(f"{entered} = COALESCE({entered}, ?)")
        values.append(now)
        if new_state.is_final:
            assignments += ["interaction_token = NULL", "result_json = NULL"]
        # One statement that checks the transition in its own WHERE: a job's every state
        # change is a single round trip; the row is read again only to explain a refusal.
        fence, token = self._fenced(job_id)
        async with self._database.row_statements() as statements:
            row = await statements.fetch_one(
                f"UPDATE jobs SET {', '.join(assignments)}"
                f" WHERE id = ? AND state IN ({', '.join('?' for _ in sources)}){fence}"
                " RETURNING *",
                (*values, job_id, *sources, *token),
            )
            if row is None:
                current = await _load(statements, job_id)
                if token and current.lease_token != token[0]:
                    raise LeaseLost(job_id)
                raise IllegalTransition(job_id, current.state, new_state)
        return _job_from(row)

    async def set_ids(
        self,
        job_id: int,
        *,
        soundverse_message_id: str | None = None,
        soundverse_job_id: str | None = None,
    ) -> Job:
        """Remember the ids Soundverse gave the job (kept when an argument is None)."""
        return await self._update(
            job_id,
            soundverse_message_id=soundverse_message_id,
            soundverse_job_id=soundverse_job_id,
        )

    async def submit_with_ids(
        self,
        job_id: int,
        *,
        soundverse_message_id: str | None = None,
        soundverse_job_id: str | None = None,
    ) -> Job:
        """`set_ids` and, in the same write, the move of a queued job to `submitted` (a job
        in any other state keeps it)."""
        now = to_stored(self._clock.now())
        queued, submitted = JobState.QUEUED.value, JobState.SUBMITTED.value
        return await self._update_one(
            "UPDATE jobs SET soundverse_message_id = COALESCE(?, soundverse_message_id),"
            " soundverse_job_id = COALESCE(?, soundverse_job_id),"
            " submitted_at = CASE state WHEN ? THEN COALESCE(submitted_at, ?)"
            " ELSE submitted_at END,"
            " state = CASE state WHEN ? THEN ? ELSE state END, updated_at = ?"
            " WHERE id = ?",
            (
                soundverse_message_id,
                soundverse_job_id,
                queued,
                now,
                queued,
                submitted,
                now,
                job_id,
            ),
            job_id,
        )

    async def record_result(
        self,
        job_id: int,
        result: Mapping[str, Any],
        *,
        soundverse_message_id: str | None = None,
        soundverse_job_id: str | None = None,
    ) -> Job:
        """Keep what Soundverse answered, with its ids, in one write; a job still queued (a
        one-call job, answered at once) is submitted by it."""
        now = to_stored(self._clock.now())
        return await self._update_one(
            "UPDATE jobs SET result_json = ?,"
            " soundverse_message_id = COALESCE(?, soundverse_message_id),"
            " soundverse_job_id = COALESCE(?, soundverse_job_id),"
            " submitted_at = COALESCE(submitted_at, ?),"
            " state = CASE state WHEN ? THEN ? ELSE state END, updated_at = ?"
            " WHERE id = ?",
            (
                json.dumps(dict(result), sort_keys=True),
                soundverse_message_id,
                soundverse_job_id,
                now,
                JobState.QUEUED.value,
                JobState.SUBMITTED.value,
                now,
                job_id,
            ),
            job_id,
        )

    async def begin_posting(self, job_id: int) -> Job:
        """Note that the result is about to be posted (the first time only)."""
        now = to_stored(self._clock.now())
        return await self._update_one(
            "UPDATE jobs SET posting_at = COALESCE(posting_at, ?), updated_at = ? WHERE id = ?",
            (now, now, job_id),
            job_id,
        )

    async def set_preview(self, job_id: int, url: str) -> Job:
        """Remember where the job's audio streams while it is made."""
        return await self._update(job_id, preview_url=url)

    async def set_card(self, job_id: int, *, channel_id: int, message_id: int) -> Job:
        """Remember the message that shows the job's card."""
        return await self._update(job_id, card_channel_id=channel_id, card_message_id=message_id)

    async def record_attempt(self, job_id: int) -> Job:
        """Count one more start (first run or resume after a restart) and when it happened."""
        now = to_stored(self._clock.now())
        return await self._update_one(
            "UPDATE jobs SET attempts = attempts + 1, last_attempt_at = ?, updated_at = ?"
            " WHERE id = ?",
            (now, now, job_id),
            job_id,
        )

    async def unfinished(self) -> tuple[Job, ...]:
        """Every job that has not ended, oldest first: what to resume at startup."""
        finals = tuple(state.value for state in FINAL_STATES)
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT * FROM jobs WHERE state NOT IN (?, ?, ?) ORDER BY id", finals
            )
        return tuple(_job_from(row) for row in rows)

    async def unfinished_of(self, user_id: int) -> int:
        """How many of a user's jobs have not ended (queued or running)."""
        finals = tuple(state.value for state in FINAL_STATES)
        async with self._database.snapshot() as transaction:
            count = await transaction.fetch_value(
                "SELECT COUNT(*) FROM jobs WHERE user_id = ? AND state NOT IN (?, ?, ?)",
                (user_id, *finals),
            )
        return int(count)

    async def running_count(self, guild_id: int | None) -> int:
        """How many jobs of a guild (or of DMs, for None) are submitted, streaming or delivering."""
        running = tuple(state.value for state in RUNNING_STATES)
        clause, params = guild_filter(guild_id)
        async with self._database.snapshot() as transaction:
            count = await transaction.fetch_value(
                f"SELECT COUNT(*) FROM jobs WHERE {clause} AND state IN (?, ?, ?)",
                (*params, *running),
            )
        return int(count)

    async def queued(self, guild_id: int | None) -> tuple[Job, ...]:
        """The queued jobs of a guild (or of DMs, for None) in queue order."""
        clause, params = guild_filter(guild_id)
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                f"SELECT * FROM jobs WHERE {clause} AND state = ? ORDER BY id",
                (*params, JobState.QUEUED.value),
            )
        return tuple(_job_from(row) for row in rows)

    async def _update(self, job_id: int, **columns: object) -> Job:
        present = {name: value for name, value in columns.items() if value is not None}
        now = to_stored(self._clock.now())
        assignments = "".join(f"{name} = ?, " for name in present)
        return await self._update_one(
            f"UPDATE jobs SET {assignments}updated_at = ? WHERE id = ?",
            (*present.values(), now, job_id),
            job_id,
        )

    async def _update_one(self, sql: str, parameters: Parameters, job_id: int) -> Job:
        """Run one UPDATE of job `job_id` on its own (atomic by itself, so no transaction
        around it: one round trip) and return the row as it left it; raises `JobNotFound`."""
        fence, token = self._fenced(job_id)
        async with self._database.row_statements() as statements:
            row = await statements.fetch_one(f"{sql}{fence} RETURNING *", (*parameters, *token))
        if row is None:
            raise LeaseLost(job_id) if token else JobNotFound(job_id)
        return _job_from(row)


async def insert_job(
    transaction: Transaction,
    job: NewJob,
    now: datetime,
    *,
    state: JobState = JobState.QUEUED,
    error: str | None = None,
) -> Job:
    """Write `job` (queued, unless said otherwise) within `transaction`.

    Raises `OrderAlreadyDecided` when the interaction already has a job (admitted or given up).
    """
    try:
        return await _insert_job(transaction, job, now, state, error)
    except ConstraintViolated as failure:
        if job.interaction_token is not None and "interaction_key" in str(failure):
            raise OrderAlreadyDecided() from None
        raise


async def _insert_job(
    transaction: Transaction, job: NewJob, now: datetime, state: JobState, error: str | None
) -> Job:
    stored_now = to_stored(now)
    expires = None if job.token_expires_at is None else to_stored(job.token_expires_at)
    row = await transaction.fetch_one(
        "INSERT INTO jobs (guild_id, channel_id, user_id, operation, request_json, state,"
        " interaction_token, interaction_key, token_expires_at, reservation_id,"
        " parent_track_id, card_channel_id, card_message_id, note, error, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (
            job.guild_id,
            job.channel_id,
            job.user_id,
            job.operation,
            json.dumps(dict(job.request), sort_keys=True),
            state.value,
            job.interaction_token,
            interaction_key(job.interaction_token),
            expires,
            job.reservation_id,
            job.parent_track_id,
            job.card_channel_id,
            job.card_message_id,
            job.note,
            error,
            stored_now,
            stored_now,
        ),
    )
    assert row is not None  # INSERT ... RETURNING always yields the new row
    return _job_from(row)


def interaction_key(token: str | None) -> str | None:
    """What identifies an interaction for good without keeping its (secret) token."""
    return None if token is None else hashlib.sha256(token.encode()).hexdigest()


async def _load(transaction: Transaction, job_id: int) -> Job:
    row = await transaction.fetch_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
    if row is None:
        raise JobNotFound(job_id)
    return _job_from(row)


def _job_from(row: Row) -> Job:
    return Job(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        operation=row["operation"],
        request_json=row["request_json"],
        state=JobState(row["state"]),
        soundverse_message_id=row["soundverse_message_id"],
        soundverse_job_id=row["soundverse_job_id"],
        interaction_token=row["interaction_token"],
        token_expires_at=from_stored_or_none(row["token_expires_at"]),
        card_channel_id=row["card_channel_id"],
        card_message_id=row["card_message_id"],
        reservation_id=row["reservation_id"],
        parent_track_id=row["parent_track_id"],
        progress=row["progress"],
        status_text=row["status_text"],
        error=row["error"],
        attempts=row["attempts"],
        last_attempt_at=from_stored_or_none(row["last_attempt_at"]),
        created_at=from_stored(row["created_at"]),
        updated_at=from_stored(row["updated_at"]),
        submitted_at=from_stored_or_none(row["submitted_at"]),
        streaming_at=from_stored_or_none(row["streaming_at"]),
        delivering_at=from_stored_or_none(row["delivering_at"]),
        finished_at=from_stored_or_none(row["finished_at"]),
        result_json=row["result_json"],
        posting_at=from_stored_or_none(row["posting_at"]),
        preview_url=row["preview_url"],
        note=row["note"],
        lease_owner=row["lease_owner"],
        lease_expires_at=from_stored_or_none(row["lease_expires_at"]),
        lease_token=row["lease_token"],
        cancel_requested_at=from_stored_or_none(row["cancel_requested_at"]),
        cancel_requested_by=row["cancel_requested_by"],
    )
