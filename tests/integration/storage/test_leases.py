"""Jobs shared by many workers: claims, lease expiry and takeover, renewal, release, the
per-guild limit across workers, and cancels passed to the holder; on each backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.storage import Database, JobRepository, JobState, ManualClock
from bot.storage.leases import JobLeases, LeaseLost
from tests.integration.storage.test_jobs import new_job

GUILD = 1000
LEASE = 30.0


async def test_a_claim_takes_the_oldest_free_job_with_a_first_token(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """The first claim holds the oldest job with token 1, until now plus the lease."""
    first = await jobs.create(new_job())
    await jobs.create(new_job())
    lease = await JobLeases(database, clock).claim("w1", lease=LEASE, group_limit=5)
    assert lease is not None
    assert (lease.job.id, lease.token) == (first.id, 1)
    assert lease.expires_at == clock.now() + timedelta(seconds=LEASE)


async def test_a_held_job_is_not_claimed_again(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """With its only job held, a second worker's claim finds nothing."""
    await jobs.create(new_job())
    leases = JobLeases(database, clock)
    assert await leases.claim("w1", lease=LEASE, group_limit=5) is not None
    assert await leases.claim("w2", lease=LEASE, group_limit=5) is None


async def test_an_expired_lease_is_taken_over_with_the_next_token(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """Once w1's lease runs out, w2 claims the same job with token 2."""
    job = await jobs.create(new_job())
    leases = JobLeases(database, clock)
    await leases.claim("w1", lease=LEASE, group_limit=5)
    clock.advance(timedelta(seconds=LEASE))
    taken = await leases.claim("w2", lease=LEASE, group_limit=5)
    assert taken is not None and (taken.job.id, taken.token) == (job.id, 2)


async def test_renewal_keeps_a_job_from_being_taken_over(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """A lease renewed before it ran out still holds the job afterwards."""
    await jobs.create(new_job())
    leases = JobLeases(database, clock)
    lease = await leases.claim("w1", lease=LEASE, group_limit=5)
    assert lease is not None
    clock.advance(timedelta(seconds=LEASE - 1))
    assert await leases.renew("w1", {lease.job.id: lease.token}, lease=LEASE) == {lease.job.id}
    clock.advance(timedelta(seconds=2))
    assert await leases.claim("w2", lease=LEASE, group_limit=5) is None


async def test_a_taken_over_job_is_not_renewed_by_its_old_holder(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """After a takeover, the old holder's renewal holds nothing."""
    await jobs.create(new_job())
    leases = JobLeases(database, clock)
    old = await leases.claim("w1", lease=LEASE, group_limit=5)
    assert old is not None
    clock.advance(timedelta(seconds=LEASE + 1))
    await leases.claim("w2", lease=LEASE, group_limit=5)
    assert await leases.renew("w1", {old.job.id: old.token}, lease=LEASE) == set()


async def test_a_released_job_is_claimed_at_once(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """A job its worker gave back is claimable before its lease would have run out."""
    await jobs.create(new_job())
    leases = JobLeases(database, clock)
    lease = await leases.claim("w1", lease=LEASE, group_limit=5)
    assert lease is not None and await leases.release(lease.job.id, lease.token)
    again = await leases.claim("w2", lease=LEASE, group_limit=5)
    assert again is not None and again.token == 2


async def test_finished_jobs_are_never_claimed(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """A cancelled job is not work: a claim skips it."""
    job = await jobs.create(new_job())
    await jobs.transition(job.id, JobState.CANCELLED)
    assert await JobLeases(database, clock).claim("w1", lease=LEASE, group_limit=5) is None


async def test_the_guild_limit_holds_across_workers(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """With a limit of 2, three workers claim two of a guild's jobs and then another guild's."""
    await jobs.create(new_job())
    await jobs.create(new_job())
    await jobs.create(new_job())
    other = await jobs.create(new_job(guild_id=2000))
    leases = JobLeases(database, clock)
    claimed = [await leases.claim(f"w{n}", lease=LEASE, group_limit=2) for n in range(3)]
    guilds = [lease.job.guild_id for lease in claimed if lease is not None]
    assert guilds == [GUILD, GUILD, 2000]
    assert claimed[2] is not None and claimed[2].job.id == other.id


async def test_in_dms_each_member_is_their_own_group(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """A member's DM job waits for their own running one, not for another member's."""
    await jobs.create(new_job(guild_id=None, user_id=1))
    await jobs.create(new_job(guild_id=None, user_id=1))
    second_member = await jobs.create(new_job(guild_id=None, user_id=2))
    leases = JobLeases(database, clock)
    await leases.claim("w1", lease=LEASE, group_limit=1)
    lease = await leases.claim("w2", lease=LEASE, group_limit=1)
    assert lease is not None and lease.job.id == second_member.id


async def test_concurrent_claims_give_each_job_to_one_worker(
    database: Database, storage_target: object, jobs: JobRepository, clock: ManualClock
) -> None:
    """Eight workers on two connections claiming twenty jobs at once take each exactly once."""
    for _ in range(20):
        await jobs.create(new_job())
    async with Database.open(storage_target, clock=clock, busy_timeout_ms=60_000) as other:  # type: ignore[arg-type]
        pools = [JobLeases(database, clock), JobLeases(other, clock)]

        async def drain(worker: int) -> list[int]:
            taken = []
            while lease := await pools[worker % 2].claim(f"w{worker}", lease=LEASE, group_limit=99):
                taken.append(lease.job.id)
            return taken

        claimed = await asyncio.gather(*(drain(worker) for worker in range(8)))
    every = [job_id for taken in claimed for job_id in taken]
    assert sorted(every) == sorted(set(every)) and len(every) == 20


async def test_a_cancel_asked_in_the_bot_reaches_the_holder(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """A cancel request for a held job is listed for its holder only, with who asked."""
    job = await jobs.create(new_job())
    leases = JobLeases(database, clock)
    await leases.claim("w1", lease=LEASE, group_limit=5)
    await leases.request_cancel(job.id, 77)
    requests = await leases.cancel_requests("w1")
    assert [(r.job_id, r.by_user_id) for r in requests] == [(job.id, 77)]
    assert await leases.cancel_requests("w2") == ()


async def test_a_worker_fenced_out_by_a_takeover_cannot_write(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """After w2 takes the job over, w1's writes are refused with LeaseLost; nothing changes."""
    job = await jobs.create(new_job())
    leases = JobLeases(database, clock)
    old = await leases.claim("w1", lease=LEASE, group_limit=5)
    assert old is not None
    stale = JobRepository(database, clock)
    stale.fence(job.id, old.token)
    clock.advance(timedelta(seconds=LEASE + 1))
    await leases.claim("w2", lease=LEASE, group_limit=5)
    with pytest.raises(LeaseLost):
        await stale.transition(job.id, JobState.SUBMITTED)
    with pytest.raises(LeaseLost):
        await stale.record_attempt(job.id)
    assert (await jobs.get(job.id)).state is JobState.QUEUED


async def test_the_holder_writes_with_its_token(
    database: Database, jobs: JobRepository, clock: ManualClock
) -> None:
    """The worker holding the current token moves its job as usual."""
    job = await jobs.create(new_job())
    lease = await JobLeases(database, clock).claim("w1", lease=LEASE, group_limit=5)
    assert lease is not None
    holder = JobRepository(database, clock)
    holder.fence(job.id, lease.token)
    await holder.check_fence(job.id)
    assert (await holder.transition(job.id, JobState.SUBMITTED)).state is JobState.SUBMITTED
