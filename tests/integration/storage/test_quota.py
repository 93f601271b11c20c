"""The quota ledger: atomic reservations, limits, exemptions, expiry, periods and the usage card."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Period, QuotaSettings
from bot.storage import (
    Database,
    JobRepository,
    JobState,
    LedgerEventKind,
    ManualClock,
    NewJob,
    QuotaExceeded,
    QuotaLedger,
    QuotaPolicy,
    RefusalReason,
    ReservationClosed,
    ReservationState,
)

GUILD = 1000
ADMIN_ROLE = 77


GENEROUS = QuotaPolicy(
    units_per_period=1000, period=Period.DAY, member_cap=1000, member_concurrent=1000
)


def policy(**changes: Any) -> QuotaPolicy:
    """A generous policy with some fields replaced."""
    return replace(GENEROUS, **changes)


async def outcome(ledger: QuotaLedger, user_id: int) -> bool:
    """Whether one reservation of 1 unit for `user_id` was granted."""
    try:
        await ledger.reserve(GUILD, user_id, "music", 1)
    except QuotaExceeded:
        return False
    return True


async def test_a_thousand_concurrent_reservations_grant_exactly_the_limit(
    ledger: QuotaLedger,
) -> None:
    """1,000 reservations racing for a limit of 100 units grant exactly 100."""
    await ledger.set_policy(policy(units_per_period=100), guild_id=GUILD)
    granted = await asyncio.gather(*(outcome(ledger, user) for user in range(1000)))
    assert sum(granted) == 100
    assert (await ledger.usage(GUILD, 1)).guild_used == 100


async def test_two_connections_to_one_file_never_over_grant(
    storage_target: Path | str, quota_settings: QuotaSettings, clock: ManualClock
) -> None:
    """Two processes' connections racing on one file grant exactly the limit between them."""
    async with (
        Database.open(storage_target, clock=clock, busy_timeout_ms=60_000) as first,
        Database.open(storage_target, clock=clock, busy_timeout_ms=60_000) as second,
    ):
        ledgers = [QuotaLedger(db, quota_settings, clock) for db in (first, second)]
        await ledgers[0].set_policy(policy(units_per_period=30), guild_id=GUILD)
        attempts = [outcome(ledgers[user % 2], user) for user in range(120)]
        granted = await asyncio.gather(*attempts)
    assert sum(granted) == 30


async def test_member_cap_refuses_a_member_but_not_the_next(ledger: QuotaLedger) -> None:
    """A member over their cap is refused with MEMBER_CAP while another member is still served."""
    await ledger.set_policy(policy(member_cap=5), guild_id=GUILD)
    await ledger.reserve(GUILD, 1, "song", 4)
    with pytest.raises(QuotaExceeded) as raised:
        await ledger.reserve(GUILD, 1, "song", 2)
    assert (raised.value.reason, raised.value.left, raised.value.limit) == (
        RefusalReason.MEMBER_CAP,
        1,
        5,
    )
    await ledger.reserve(GUILD, 2, "song", 2)


async def test_guild_limit_reports_what_is_left_and_the_reset(ledger: QuotaLedger) -> None:
    """Beyond the guild's units a reservation is refused with GUILD_LIMIT, units left, reset."""
    await ledger.set_policy(policy(units_per_period=3), guild_id=GUILD)
    await ledger.reserve(GUILD, 1, "song", 2)
    with pytest.raises(QuotaExceeded) as raised:
        await ledger.reserve(GUILD, 2, "song", 2)
    assert raised.value.reason is RefusalReason.GUILD_LIMIT
    assert raised.value.left == 1
    assert raised.value.reset_at == datetime(2026, 3, 12, tzinfo=UTC)


async def test_concurrent_jobs_limit_counts_open_reservations(ledger: QuotaLedger) -> None:
    """A member holding `member_concurrent` open reservations is refused until one closes."""
    await ledger.set_policy(policy(member_concurrent=2), guild_id=GUILD)
    first = await ledger.reserve(GUILD, 1, "song", 1)
    await ledger.reserve(GUILD, 1, "song", 1)
    with pytest.raises(QuotaExceeded) as raised:
        await ledger.reserve(GUILD, 1, "song", 1)
    assert raised.value.reason is RefusalReason.CONCURRENT_JOBS
    await ledger.commit(first.id)
    await ledger.reserve(GUILD, 1, "song", 1)


async def test_exempt_role_bypasses_unit_limits_and_is_recorded(ledger: QuotaLedger) -> None:
    """A member with an exempt role reserves past every unit limit; the ledger still records it."""
    await ledger.set_policy(
        policy(units_per_period=2, member_cap=2, exempt_role_ids=frozenset({ADMIN_ROLE})),
        guild_id=GUILD,
    )
    reservation = await ledger.reserve(GUILD, 1, "song", 50, role_ids=(5, ADMIN_ROLE))
    assert reservation.exempt
    assert [event.kind for event in await ledger.events(reservation.id)] == [
        LedgerEventKind.RESERVE
    ]
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(GUILD, 2, "song", 3, role_ids=(5,))


async def test_exempt_role_is_still_held_to_concurrency(ledger: QuotaLedger) -> None:
    """Exemption lifts unit limits only: the concurrent-jobs limit still applies."""
    await ledger.set_policy(
        policy(member_concurrent=1, exempt_role_ids=frozenset({ADMIN_ROLE})), guild_id=GUILD
    )
    await ledger.reserve(GUILD, 1, "song", 1, role_ids=(ADMIN_ROLE,))
    with pytest.raises(QuotaExceeded) as raised:
        await ledger.reserve(GUILD, 1, "song", 1, role_ids=(ADMIN_ROLE,))
    assert raised.value.reason is RefusalReason.CONCURRENT_JOBS


async def test_an_expired_reservation_returns_its_units(
    ledger: QuotaLedger, clock: ManualClock
) -> None:
    """A reservation left open past its expiry stops counting, is marked expired and logged."""
    await ledger.set_policy(policy(units_per_period=5), guild_id=GUILD)
    lapsed = await ledger.reserve(GUILD, 1, "song", 5)
    clock.advance(timedelta(seconds=599))
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(GUILD, 2, "song", 5)
    clock.advance(timedelta(seconds=1))
    await ledger.reserve(GUILD, 2, "song", 5)
    assert (await ledger.get(lapsed.id)).state is ReservationState.EXPIRED
    kinds = [event.kind for event in await ledger.events(lapsed.id)]
    assert kinds == [LedgerEventKind.RESERVE, LedgerEventKind.EXPIRE]


async def test_committing_an_expired_reservation_is_refused(
    ledger: QuotaLedger, clock: ManualClock
) -> None:
    """A commit after the expiry is refused: the units were already given back."""
    reservation = await ledger.reserve(GUILD, 1, "song", 2)
    clock.advance(timedelta(seconds=600))
    with pytest.raises(ReservationClosed, match="already expired"):
        await ledger.commit(reservation.id)


async def test_refund_after_commit_is_refused(ledger: QuotaLedger) -> None:
    """Refunding a committed reservation raises ReservationClosed and keeps it committed."""
    reservation = await ledger.reserve(GUILD, 1, "song", 2)
    await ledger.commit(reservation.id)
    with pytest.raises(ReservationClosed, match=r"cannot refund .* already committed"):
        await ledger.refund(reservation.id, "failed")
    assert (await ledger.get(reservation.id)).state is ReservationState.COMMITTED


async def test_double_commit_is_refused(ledger: QuotaLedger) -> None:
    """A second commit of one reservation raises ReservationClosed and writes no ledger row."""
    reservation = await ledger.reserve(GUILD, 1, "song", 2)
    await ledger.commit(reservation.id)
    with pytest.raises(ReservationClosed):
        await ledger.commit(reservation.id)
    kinds = [event.kind for event in await ledger.events(reservation.id)]
    assert kinds == [LedgerEventKind.RESERVE, LedgerEventKind.COMMIT]


async def test_refund_returns_units_and_records_the_reason(ledger: QuotaLedger) -> None:
    """A refunded reservation no longer counts, and its ledger row carries the reason."""
    await ledger.set_policy(policy(units_per_period=2), guild_id=GUILD)
    reservation = await ledger.reserve(GUILD, 1, "song", 2)
    await ledger.refund(reservation.id, "soundverse error 500", actor_id=9)
    await ledger.reserve(GUILD, 2, "song", 2)
    refund = (await ledger.events(reservation.id))[-1]
    assert (refund.kind, refund.reason, refund.actor_id, refund.units) == (
        LedgerEventKind.REFUND,
        "soundverse error 500",
        9,
        2,
    )


@pytest.mark.parametrize(
    ("period", "before", "after"),
    [
        (Period.DAY, datetime(2026, 3, 11, 23, 59, 59), datetime(2026, 3, 12, 0, 0, 0)),
        (Period.WEEK, datetime(2026, 3, 15, 23, 59, 59), datetime(2026, 3, 16, 0, 0, 0)),
        (Period.MONTH, datetime(2026, 3, 31, 23, 59, 59), datetime(2026, 4, 1, 0, 0, 0)),
        (Period.MONTH, datetime(2026, 12, 31, 23, 59, 59), datetime(2027, 1, 1, 0, 0, 0)),
    ],
)
async def test_units_come_back_at_the_period_boundary(
    ledger: QuotaLedger, clock: ManualClock, period: Period, before: datetime, after: datetime
) -> None:
    """Spent units still count one second before the reset and no longer count at the reset."""
    clock.set(before.replace(tzinfo=UTC) - timedelta(hours=1))
    await ledger.set_policy(policy(units_per_period=4, period=period), guild_id=GUILD)
    spent = await ledger.reserve(GUILD, 1, "song", 4)
    await ledger.commit(spent.id)
    clock.set(before.replace(tzinfo=UTC))
    with pytest.raises(QuotaExceeded) as raised:
        await ledger.reserve(GUILD, 2, "song", 1)
    assert raised.value.reset_at == after.replace(tzinfo=UTC)
    clock.set(after.replace(tzinfo=UTC))
    await ledger.reserve(GUILD, 2, "song", 4)


async def test_dm_users_have_their_own_limit(ledger: QuotaLedger) -> None:
    """In DMs each user spends their own units (default 10) and is refused with DM_LIMIT."""
    await ledger.reserve(None, 1, "song", 10)
    with pytest.raises(QuotaExceeded) as raised:
        await ledger.reserve(None, 1, "song", 1)
    assert raised.value.reason is RefusalReason.DM_LIMIT
    await ledger.reserve(None, 2, "song", 10)


async def test_a_dm_policy_can_be_set_per_user(ledger: QuotaLedger) -> None:
    """A per-user DM policy replaces the default for that user only."""
    await ledger.set_policy(policy(units_per_period=30), guild_id=None, user_id=1)
    assert (await ledger.get_policy(None, 1)).units_per_period == 30
    assert (await ledger.get_policy(None, 2)).units_per_period == 10


async def test_policy_defaults_come_from_settings(ledger: QuotaLedger) -> None:
    """A guild without a policy gets the QuotaSettings defaults."""
    assert await ledger.get_policy(GUILD) == QuotaPolicy(
        units_per_period=100, period=Period.DAY, member_cap=20, member_concurrent=2
    )


async def test_policy_round_trips_with_exempt_roles(ledger: QuotaLedger) -> None:
    """A stored policy reads back equal, including its exempt roles, and is logged."""
    stored = policy(units_per_period=7, period=Period.MONTH, exempt_role_ids=frozenset({1, 2}))
    await ledger.set_policy(stored, guild_id=GUILD, actor_id=42)
    assert await ledger.get_policy(GUILD) == stored
    event = (await ledger.recent_events(GUILD))[0]
    assert (event.kind, event.actor_id) == (LedgerEventKind.POLICY, 42)


async def test_usage_card_adds_up_units_and_jobs(ledger: QuotaLedger, jobs: JobRepository) -> None:
    """The usage card shows member and guild units used and left, reset time, and job counts."""
    await ledger.set_policy(policy(units_per_period=50, member_cap=10), guild_id=GUILD)
    committed = await ledger.reserve(GUILD, 1, "song", 3)
    await ledger.commit(committed.id)
    await ledger.reserve(GUILD, 1, "music", 2)
    refunded = await ledger.reserve(GUILD, 2, "song", 6)
    await ledger.refund(refunded.id, "cancelled")
    await ledger.reserve(GUILD, 2, "song", 4)
    running = await jobs.create(
        NewJob(channel_id=5, user_id=1, operation="song", request={}, guild_id=GUILD)
    )
    await jobs.transition(running.id, JobState.SUBMITTED)
    await jobs.create(NewJob(channel_id=5, user_id=1, operation="song", request={}, guild_id=GUILD))
    await jobs.create(NewJob(channel_id=5, user_id=2, operation="song", request={}, guild_id=GUILD))

    card = await ledger.usage(GUILD, 1)

    assert (card.member_used, card.member_cap, card.member_left) == (5, 10, 5)
    assert (card.guild_used, card.guild_limit, card.guild_left) == (9, 50, 41)
    assert (card.member_running, card.member_queued) == (1, 1)
    assert (card.guild_running, card.guild_queued) == (1, 2)
    assert card.reset_at == datetime(2026, 3, 12, tzinfo=UTC)


async def test_expire_lapsed_sweeps_without_a_new_reservation(
    ledger: QuotaLedger, clock: ManualClock
) -> None:
    """expire_lapsed marks every overdue reservation expired and counts them."""
    overdue = [await ledger.reserve(GUILD, user, "song", 1) for user in (1, 2)]
    clock.advance(timedelta(seconds=300))
    fresh = await ledger.reserve(GUILD, 3, "song", 1)
    clock.advance(timedelta(seconds=300))
    assert await ledger.expire_lapsed() == 2
    states = [(await ledger.get(r.id)).state for r in (*overdue, fresh)]
    assert states == [ReservationState.EXPIRED, ReservationState.EXPIRED, ReservationState.RESERVED]


def new_song_job(user_id: int, **fields: Any) -> NewJob:
    return NewJob(
        channel_id=5, user_id=user_id, operation="song", request={}, guild_id=GUILD, **fields
    )


async def test_reserve_for_job_writes_both_linked_both_ways(
    ledger: QuotaLedger, jobs: JobRepository
) -> None:
    """A granted reservation for a new job stores the job with its card, each naming the other."""
    job, reservation = await ledger.reserve_for_job(
        new_song_job(1, card_channel_id=5, card_message_id=9), 2
    )
    assert job.state is JobState.QUEUED and job.reservation_id == reservation.id
    assert (job.card_channel_id, job.card_message_id) == (5, 9)
    assert (await ledger.get(reservation.id)).job_id == job.id
    assert (await jobs.get(job.id)).reservation_id == reservation.id


async def test_refused_reserve_for_job_writes_no_job(
    ledger: QuotaLedger, jobs: JobRepository
) -> None:
    """A refusal raises QuotaExceeded and leaves no job behind."""
    await ledger.set_policy(policy(member_cap=1), guild_id=GUILD)
    with pytest.raises(QuotaExceeded):
        await ledger.reserve_for_job(new_song_job(1), 2)
    assert await jobs.unfinished() == ()


async def test_a_reservation_is_held_past_its_expiry_while_its_job_is_unfinished(
    ledger: QuotaLedger, clock: ManualClock
) -> None:
    """Past its expiry, a queued job's reservation still counts and can be committed."""
    await ledger.set_policy(policy(units_per_period=5), guild_id=GUILD)
    _, reservation = await ledger.reserve_for_job(new_song_job(1), 5)
    clock.advance(timedelta(seconds=3600))
    assert await ledger.expire_lapsed() == 0
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(GUILD, 2, "song", 1)
    assert (await ledger.commit(reservation.id)).state is ReservationState.COMMITTED


async def test_a_reservation_lapses_once_its_job_has_ended(
    ledger: QuotaLedger, jobs: JobRepository, clock: ManualClock
) -> None:
    """A reservation left open by a job that ended (a crash between) lapses at its expiry."""
    job, reservation = await ledger.reserve_for_job(new_song_job(1), 2)
    await jobs.transition(job.id, JobState.FAILED, error="crashed")
    clock.advance(timedelta(seconds=3600))
    assert await ledger.expire_lapsed() == 1
    assert (await ledger.get(reservation.id)).state is ReservationState.EXPIRED
