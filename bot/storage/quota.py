"""The quota ledger: policies and reserve/commit/refund/expire events, stored in SQLite.

Units are reserved before a job starts and committed when it is billed, or refunded. A
reservation neither committed nor refunded before its expiry lapses, so a crash never leaks
units. Whether a reservation fits is decided by `bot.storage.quota_policy`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.config import Period, QuotaSettings
from bot.storage.clock import Clock, SystemClock, from_stored, from_stored_or_none, to_stored
from bot.storage.database import Database, Row, Transaction, guild_filter
from bot.storage.jobs import FINAL_STATES, RUNNING_STATES, Job, JobState, NewJob, insert_job
from bot.storage.quota_policy import (
    JobCounts,
    QuotaCard,
    QuotaError,
    QuotaExceeded,
    QuotaPolicy,
    Scope,
    Usage,
    is_exempt,
    period_bounds,
    policy_key,
    refusal,
)

_EXPIRY_REASON = "not committed before expiry"
_FINISHED = ", ".join(f"'{state.value}'" for state in sorted(FINAL_STATES))
# A reservation is held until its expiry, and past it for as long as its job is unfinished
# (queued, running, or waiting for a restart): the expiry only frees units a crash left behind.
_HELD_BY_JOB = f"job_id IN (SELECT id FROM jobs WHERE state NOT IN ({_FINISHED}))"
_HELD = f"(expires_at > ? OR {_HELD_BY_JOB})"


class ReservationState(StrEnum):
    """Where a reservation is in its life."""

    RESERVED = "reserved"
    COMMITTED = "committed"
    REFUNDED = "refunded"
    EXPIRED = "expired"


class LedgerEventKind(StrEnum):
    """The kinds of rows in the quota ledger."""

    RESERVE = "reserve"
    COMMIT = "commit"
    REFUND = "refund"
    EXPIRE = "expire"
    POLICY = "policy"


@dataclass(frozen=True)
class Reservation:
    """Units set aside for one operation of one user."""

    id: int
    guild_id: int | None
    user_id: int | None
    operation: str
    units: int
    exempt: bool
    state: ReservationState
    job_id: int | None
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    reason: str | None


@dataclass(frozen=True)
class LedgerEvent:
    """One row of the append-only quota ledger."""

    id: int
    at: datetime
    kind: LedgerEventKind
    reservation_id: int | None
    guild_id: int | None
    user_id: int | None
    actor_id: int | None
    operation: str | None
    units: int
    reason: str | None


class ReservationNotFound(QuotaError):
    """No reservation has that id."""

    def __init__(self, reservation_id: int) -> None:
        super().__init__(f"no quota reservation with id {reservation_id}")
        self.reservation_id = reservation_id


class ReservationClosed(QuotaError):
    """The reservation was already committed, refunded or expired, so it cannot change."""

    def __init__(self, reservation: Reservation, attempted: str) -> None:
        super().__init__(
            f"cannot {attempted} quota reservation {reservation.id}: "
            f"it is already {reservation.state.value}"
        )
        self.reservation = reservation
        self.attempted = attempted


class QuotaLedger:
    """Reserves, commits and refunds quota units atomically, recording every change."""

    def __init__(
        self, database: Database, settings: QuotaSettings, clock: Clock | None = None
    ) -> None:
        self._database = database
        self._settings = settings
        self._clock = clock or SystemClock()
        self._ttl = timedelta(seconds=settings.reservation_ttl)

    async def get_policy(self, guild_id: int | None, user_id: int | None = None) -> QuotaPolicy:
        """The policy of a guild, or of `user_id` in DMs when `guild_id` is None."""
        async with self._database.snapshot() as transaction:
            return await self._policy(transaction, policy_key(guild_id, user_id))

    async def set_policy(
        self,
        policy: QuotaPolicy,
        *,
        guild_id: int | None,
        user_id: int | None = None,
        actor_id: int | None = None,
    ) -> None:
        """Store the policy of a guild, or of `user_id` in DMs when `guild_id` is None."""
        scope, scope_id = policy_key(guild_id, user_id)
        now = to_stored(self._clock.now())
        async with self._database.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO quota_policies (scope, scope_id, units_per_period, period,"
                " member_cap, member_concurrent, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (scope, scope_id) DO UPDATE SET"
                " units_per_period = excluded.units_per_period, period = excluded.period,"
                " member_cap = excluded.member_cap,"
                " member_concurrent = excluded.member_concurrent,"
                " updated_at = excluded.updated_at",
                (
                    scope,
                    scope_id,
                    policy.units_per_period,
                    policy.period.value,
                    policy.member_cap,
                    policy.member_concurrent,
                    now,
                ),
            )
            if guild_id is not None:
                await _replace_exempt_roles(transaction, guild_id, policy.exempt_role_ids)
            await _append_event(
                transaction,
                at=now,
                kind=LedgerEventKind.POLICY,
                guild_id=guild_id,
                user_id=user_id,
                actor_id=actor_id,
                reason=policy.describe(),
            )

    async def reserve(
        self,
        guild_id: int | None,
        user_id: int,
        operation: str,
        units: int,
        *,
        role_ids: Collection[int] = (),
        job_id: int | None = None,
    ) -> Reservation:
        """Set `units` aside for `operation`, or raise `QuotaExceeded` saying why not.

        Members holding an exempt role pass the unit limits (their units are recorded but not
        counted) and are still held to the concurrent-jobs limit.
        """
        if units < 0:
            raise ValueError("units must not be negative")
        now = self._clock.now()
        scope = Scope(guild_id, user_id)
        async with self._database.transaction() as transaction:
            outcome = await self._reserve_within(
                transaction, scope, operation, units, role_ids, job_id, now
            )
        # Raised after the transaction so that expiries found on the way are kept.
        if isinstance(outcome, QuotaExceeded):
            raise outcome
        return outcome

    async def reserve_for_job(
        self, job: NewJob, units: int, *, role_ids: Collection[int] = ()
    ) -> tuple[Job, Reservation]:
        """Reserve `units` for a new job and write the job, linked both ways, in one
        transaction: both or neither. Raises `QuotaExceeded` (no job written)."""
        if units < 0:
            raise ValueError("units must not be negative")
        now = self._clock.now()
        scope = Scope(job.guild_id, job.user_id)
        async with self._database.transaction() as transaction:
            outcome = await self._reserve_within(
                transaction, scope, job.operation, units, role_ids, None, now
            )
            if not isinstance(outcome, QuotaExceeded):
                stored = await insert_job(transaction, replace(job, reservation_id=outcome.id), now)
                await transaction.execute(
                    "UPDATE quota_reservations SET job_id = ? WHERE id = ?", (stored.id, outcome.id)
                )
                return stored, replace(outcome, job_id=stored.id)
        raise outcome

    async def _reserve_within(
        self,
        transaction: Transaction,
        scope: Scope,
        operation: str,
        units: int,
        role_ids: Collection[int],
        job_id: int | None,
        now: datetime,
    ) -> Reservation | QuotaExceeded:
        """The reservation made, or the refusal, within `transaction`."""
        await self._expire_lapsed(transaction, now)
        policy = await self._policy(transaction, policy_key(scope.guild_id, scope.user_id))
        usage = await self._usage(transaction, scope, policy, now, role_ids)
        refused = refusal(scope, policy, usage, units)
        if refused is not None:
            return refused
        return await self._insert_reservation(
            transaction, scope, operation, units, usage.exempt, job_id, now
        )

    async def _insert_reservation(
        self,
        transaction: Transaction,
        scope: Scope,
        operation: str,
        units: int,
        exempt: bool,
        job_id: int | None,
        now: datetime,
    ) -> Reservation:
        row = await transaction.fetch_one(
            "INSERT INTO quota_reservations (guild_id, user_id, operation, units, exempt,"
            " state, job_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING *",
            (
                scope.guild_id,
                scope.user_id,
                operation,
                units,
                int(exempt),
                ReservationState.RESERVED.value,
                job_id,
                to_stored(now),
                to_stored(now + self._ttl),
            ),
        )
        assert row is not None  # INSERT ... RETURNING always yields the new row
        reservation = _reservation_from(row)
        await _append_event(
            transaction,
            at=to_stored(now),
            kind=LedgerEventKind.RESERVE,
            reservation=reservation,
            actor_id=scope.user_id,
        )
        return reservation

    async def commit(self, reservation_id: int, *, actor_id: int | None = None) -> Reservation:
        """Bill a reservation; refused once it is committed, refunded or expired."""
        return await self._close(
            reservation_id, ReservationState.COMMITTED, LedgerEventKind.COMMIT, None, actor_id
        )

    async def refund(
        self, reservation_id: int, reason: str, *, actor_id: int | None = None
    ) -> Reservation:
        """Give the units back; refused once the reservation is committed, refunded or expired."""
        return await self._close(
            reservation_id, ReservationState.REFUNDED, LedgerEventKind.REFUND, reason, actor_id
        )

    async def get(self, reservation_id: int) -> Reservation:
        """One reservation, as stored."""
        async with self._database.snapshot() as transaction:
            return await _load_reservation(transaction, reservation_id)

    async def expire_lapsed(self) -> int:
        """Mark reservations past their expiry as expired; returns how many there were."""
        async with self._database.transaction() as transaction:
            return await self._expire_lapsed(transaction, self._clock.now())

    async def usage(
        self, guild_id: int | None, user_id: int, *, role_ids: Collection[int] = ()
    ) -> QuotaCard:
        """Used and remaining units of a member and their guild, and their job counts."""
        now = self._clock.now()
        scope = Scope(guild_id, user_id)
        async with self._database.snapshot() as transaction:
            policy = await self._policy(transaction, policy_key(guild_id, user_id))
            usage = await self._usage(transaction, scope, policy, now, role_ids)
            jobs = await _job_counts(transaction, scope)
        return QuotaCard.of(scope, policy, usage, jobs)

    async def events(self, reservation_id: int) -> tuple[LedgerEvent, ...]:
        """The ledger rows of one reservation, oldest first."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT * FROM quota_ledger WHERE reservation_id = ? ORDER BY id",
                (reservation_id,),
            )
        return tuple(_event_from(row) for row in rows)

    async def recent_events(self, guild_id: int, limit: int = 50) -> tuple[LedgerEvent, ...]:
        """The newest ledger rows of a guild, newest first."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT * FROM quota_ledger WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
                (guild_id, limit),
            )
        return tuple(_event_from(row) for row in rows)

    async def _close(
        self,
        reservation_id: int,
        target: ReservationState,
        kind: LedgerEventKind,
        reason: str | None,
        actor_id: int | None,
    ) -> Reservation:
        now = self._clock.now()
        async with self._database.transaction() as transaction:
            current = await _load_reservation(transaction, reservation_id)
            if current.state is ReservationState.RESERVED and current.expires_at <= now:
                await self._expire_lapsed(transaction, now)
                current = await _load_reservation(transaction, reservation_id)
            if current.state is ReservationState.RESERVED:
                row = await transaction.fetch_one(
                    "UPDATE quota_reservations SET state = ?, closed_at = ?, reason = ?"
                    " WHERE id = ? RETURNING *",
                    (target.value, to_stored(now), reason, reservation_id),
                )
                assert row is not None  # the row was read in this same transaction
                closed = _reservation_from(row)
                await _append_event(
                    transaction,
                    at=to_stored(now),
                    kind=kind,
                    reservation=closed,
                    actor_id=actor_id,
                    reason=reason,
                )
                return closed
        # Raised after the transaction so that an expiry found on the way is kept.
        raise ReservationClosed(current, kind.value)

    async def _expire_lapsed(self, transaction: Transaction, now: datetime) -> int:
        stamp = to_stored(now)
        rows = await transaction.fetch_all(
            "UPDATE quota_reservations SET state = ?, closed_at = ?, reason = ?"
            f" WHERE state = ? AND expires_at <= ? AND NOT {_HELD_BY_JOB} RETURNING *",
            (
                ReservationState.EXPIRED.value,
                stamp,
                _EXPIRY_REASON,
                ReservationState.RESERVED.value,
                stamp,
            ),
        )
        for row in rows:
            await _append_event(
                transaction,
                at=stamp,
                kind=LedgerEventKind.EXPIRE,
                reservation=_reservation_from(row),
                reason=_EXPIRY_REASON,
            )
        return len(rows)

    async def _policy(self, transaction: Transaction, key: tuple[str, int]) -> QuotaPolicy:
        scope, scope_id = key
        row = await transaction.fetch_one(
            "SELECT * FROM quota_policies WHERE scope = ? AND scope_id = ?", (scope, scope_id)
        )
        if row is None:
            if scope == "user":
                return QuotaPolicy.dm_default(self._settings)
            base = QuotaPolicy.guild_default(self._settings)
        else:
            base = QuotaPolicy(
                units_per_period=row["units_per_period"],
                period=Period(row["period"]),
                member_cap=row["member_cap"],
                member_concurrent=row["member_concurrent"],
            )
        if scope == "user":
            return base
        roles = await transaction.fetch_all(
            "SELECT role_id FROM quota_exempt_roles WHERE guild_id = ?", (scope_id,)
        )
        return QuotaPolicy(
            units_per_period=base.units_per_period,
            period=base.period,
            member_cap=base.member_cap,
            member_concurrent=base.member_concurrent,
            exempt_role_ids=frozenset(role["role_id"] for role in roles),
        )

    async def _usage(
        self,
        transaction: Transaction,
        scope: Scope,
        policy: QuotaPolicy,
        now: datetime,
        role_ids: Collection[int],
    ) -> Usage:
        start, reset_at = period_bounds(policy.period, now)
        guild_clause, guild_params = guild_filter(scope.guild_id)
        # Committed rows count whatever their expiry; open rows count while they are held.
        counted = f"exempt = 0 AND created_at >= ? AND (state = ? OR (state = ? AND {_HELD}))"
        window = (
            to_stored(start),
            ReservationState.COMMITTED.value,
            ReservationState.RESERVED.value,
            to_stored(now),
        )
        sums = await transaction.fetch_one(
            "SELECT COALESCE(SUM(units), 0),"
            " COALESCE(SUM(CASE WHEN user_id = ? THEN units ELSE 0 END), 0)"
            f" FROM quota_reservations WHERE {guild_clause} AND {counted}",
            (scope.user_id, *guild_params, *window),
        )
        assert sums is not None  # an aggregate query always returns one row
        guild_used, member_used = sums
        member_open = await transaction.fetch_value(
            f"SELECT COUNT(*) FROM quota_reservations WHERE {guild_clause} AND user_id = ?"
            f" AND state = ? AND {_HELD}",
            (*guild_params, scope.user_id, ReservationState.RESERVED.value, to_stored(now)),
        )
        exempt = is_exempt(scope, policy, role_ids)
        return Usage(
            member_used=int(member_used),
            guild_used=int(guild_used),
            member_open=int(member_open),
            start=start,
            reset_at=reset_at,
            exempt=exempt,
        )


async def _job_counts(transaction: Transaction, scope: Scope) -> JobCounts:
    guild_clause, guild_params = guild_filter(scope.guild_id)
    running = tuple(state.value for state in RUNNING_STATES)
    marks = ", ".join("?" for _ in running)
    queued = JobState.QUEUED.value
    rows = await transaction.fetch_one(
        "SELECT"
        f" COALESCE(SUM(CASE WHEN user_id = ? AND state IN ({marks}) THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN user_id = ? AND state = ? THEN 1 ELSE 0 END), 0),"
        f" COALESCE(SUM(CASE WHEN state IN ({marks}) THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), 0)"
        f" FROM jobs WHERE {guild_clause}",
        (scope.user_id, *running, scope.user_id, queued, *running, queued, *guild_params),
    )
    assert rows is not None  # an aggregate query always returns one row
    return JobCounts(
        member_running=int(rows[0]),
        member_queued=int(rows[1]),
        guild_running=int(rows[2]),
        guild_queued=int(rows[3]),
    )


async def _replace_exempt_roles(
    transaction: Transaction, guild_id: int, role_ids: Collection[int]
) -> None:
    await transaction.execute("DELETE FROM quota_exempt_roles WHERE guild_id = ?", (guild_id,))
    await transaction.execute_many(
        "INSERT INTO quota_exempt_roles (guild_id, role_id) VALUES (?, ?)",
        [(guild_id, role_id) for role_id in sorted(role_ids)],
    )


async def _load_reservation(transaction: Transaction, reservation_id: int) -> Reservation:
    row = await transaction.fetch_one(
        "SELECT * FROM quota_reservations WHERE id = ?", (reservation_id,)
    )
    if row is None:
        raise ReservationNotFound(reservation_id)
    return _reservation_from(row)


async def _append_event(
    transaction: Transaction,
    *,
    at: str,
    kind: LedgerEventKind,
    reservation: Reservation | None = None,
    guild_id: int | None = None,
    user_id: int | None = None,
    actor_id: int | None = None,
    reason: str | None = None,
) -> None:
    if reservation is not None:
        guild_id, user_id = reservation.guild_id, reservation.user_id
    values: Sequence[object] = (
        at,
        kind.value,
        None if reservation is None else reservation.id,
        guild_id,
        user_id,
        actor_id,
        None if reservation is None else reservation.operation,
        0 if reservation is None else reservation.units,
        reason,
    )
    await transaction.execute(
        "INSERT INTO quota_ledger (at, event, reservation_id, guild_id, user_id, actor_id,"
        " operation, units, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )


def _reservation_from(row: Row) -> Reservation:
    return Reservation(
        id=row["id"],
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        operation=row["operation"],
        units=row["units"],
        exempt=bool(row["exempt"]),
        state=ReservationState(row["state"]),
        job_id=row["job_id"],
        created_at=from_stored(row["created_at"]),
        expires_at=from_stored(row["expires_at"]),
        closed_at=from_stored_or_none(row["closed_at"]),
        reason=row["reason"],
    )


def _event_from(row: Row) -> LedgerEvent:
    return LedgerEvent(
        id=row["id"],
        at=from_stored(row["at"]),
        kind=LedgerEventKind(row["event"]),
        reservation_id=row["reservation_id"],
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        actor_id=row["actor_id"],
        operation=row["operation"],
        units=row["units"],
        reason=row["reason"],
    )
