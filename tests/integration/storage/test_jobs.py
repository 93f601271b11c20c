"""Jobs: the persisted state machine and resuming unfinished jobs after a restart."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from bot.storage import (
    LEGAL_TRANSITIONS,
    Database,
    IllegalTransition,
    JobNotFound,
    JobRepository,
    JobState,
    ManualClock,
    NewJob,
)

GUILD = 1000


TOKENS = itertools.count(1)


def new_job(guild_id: int | None = GUILD, user_id: int = 1) -> NewJob:
    """A song job as a slash command would create it (each from its own interaction)."""
    return NewJob(
        channel_id=5,
        user_id=user_id,
        operation="song",
        request={"prompt": "rainy lofi about trains", "version": "v5"},
        guild_id=guild_id,
        interaction_token=f"token-secret-{next(TOKENS)}",
    )


async def drive(jobs: JobRepository, job_id: int, *states: JobState) -> None:
    """Move a job through `states` in order."""
    for state in states:
        await jobs.transition(job_id, state)


async def test_a_new_job_is_queued_with_its_request(jobs: JobRepository) -> None:
    """A created job is queued, keeps its request and does not show its token in repr."""
    job = await jobs.create(new_job())
    assert job.state is JobState.QUEUED
    assert job.request == {"prompt": "rainy lofi about trains", "version": "v5"}
    assert "token-secret" not in repr(job)


async def test_the_happy_path_reaches_done(jobs: JobRepository, clock: ManualClock) -> None:
    """queued -> submitted -> streaming -> delivering -> done stamps each step and ends the job."""
    job = await jobs.create(new_job())
    await drive(jobs, job.id, JobState.SUBMITTED, JobState.STREAMING)
    clock.advance(timedelta(seconds=30))
    await drive(jobs, job.id, JobState.DELIVERING, JobState.DONE)
    done = await jobs.get(job.id)
    assert done.state is JobState.DONE
    assert done.submitted_at == done.streaming_at == job.created_at
    assert done.finished_at == job.created_at + timedelta(seconds=30)


async def test_streaming_updates_record_progress(jobs: JobRepository, clock: ManualClock) -> None:
    """streaming -> streaming stores the latest progress and keeps the first streaming time."""
    job = await jobs.create(new_job())
    await drive(jobs, job.id, JobState.SUBMITTED)
    await jobs.transition(job.id, JobState.STREAMING, progress=10, status_text="streaming")
    clock.advance(timedelta(seconds=5))
    updated = await jobs.transition(job.id, JobState.STREAMING, progress=40)
    assert (updated.progress, updated.status_text) == (40, "streaming")
    assert updated.streaming_at == job.created_at


async def test_ending_a_job_forgets_its_interaction_token(jobs: JobRepository) -> None:
    """A failed job keeps its error text and no longer holds the interaction token."""
    job = await jobs.create(new_job())
    failed = await jobs.transition(job.id, JobState.FAILED, error="Soundverse said 500")
    assert (failed.error, failed.interaction_token) == ("Soundverse said 500", None)


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ((), JobState.DONE),
        ((), JobState.STREAMING),
        ((JobState.SUBMITTED,), JobState.QUEUED),
        ((JobState.SUBMITTED, JobState.STREAMING, JobState.DELIVERING), JobState.CANCELLED),
        ((JobState.CANCELLED,), JobState.SUBMITTED),
        ((JobState.FAILED,), JobState.FAILED),
    ],
)
async def test_illegal_moves_are_refused(
    jobs: JobRepository, path: tuple[JobState, ...], illegal: JobState
) -> None:
    """A move outside the legal set raises IllegalTransition and leaves the state unchanged."""
    job = await jobs.create(new_job())
    await drive(jobs, job.id, *path)
    before = (await jobs.get(job.id)).state
    with pytest.raises(IllegalTransition) as raised:
        await jobs.transition(job.id, illegal)
    assert (raised.value.current, raised.value.requested) == (before, illegal)
    assert (await jobs.get(job.id)).state is before


def test_final_states_have_no_way_out() -> None:
    """Done, failed and cancelled allow no transition; every other state allows failing."""
    for state, targets in LEGAL_TRANSITIONS.items():
        assert (not targets) == state.is_final
        assert state.is_final or JobState.FAILED in targets


async def test_transition_of_a_missing_job_raises(jobs: JobRepository) -> None:
    """Moving a job that does not exist raises JobNotFound."""
    with pytest.raises(JobNotFound):
        await jobs.transition(404, JobState.SUBMITTED)


async def test_unfinished_jobs_survive_a_restart(
    storage_target: Path | str, clock: ManualClock
) -> None:
    """After closing and reopening the file, unfinished() returns exactly the jobs still open."""
    async with Database.open(storage_target, clock=clock) as database:
        jobs = JobRepository(database, clock)
        queued = await jobs.create(new_job())
        streaming = await jobs.create(new_job())
        await drive(jobs, streaming.id, JobState.SUBMITTED)
        await jobs.set_ids(streaming.id, soundverse_message_id="65f0c0ffee")
        await jobs.set_card(streaming.id, channel_id=5, message_id=900)
        await drive(jobs, streaming.id, JobState.STREAMING)
        finished = await jobs.create(new_job())
        await drive(jobs, finished.id, JobState.CANCELLED)

    async with Database.open(storage_target, clock=clock) as reopened:
        unfinished = await JobRepository(reopened, clock).unfinished()

    assert [job.id for job in unfinished] == [queued.id, streaming.id]
    resumed = unfinished[1]
    assert resumed.resumes_by_polling and not unfinished[0].resumes_by_polling
    assert (resumed.soundverse_message_id, resumed.card_message_id) == ("65f0c0ffee", 900)
    assert resumed.interaction_token == streaming.interaction_token


async def test_running_count_and_queue_are_per_guild(jobs: JobRepository) -> None:
    """running_count and queued only see their own guild's jobs, queue in creation order."""
    first = await jobs.create(new_job())
    second = await jobs.create(new_job())
    running = await jobs.create(new_job())
    await drive(jobs, running.id, JobState.SUBMITTED, JobState.STREAMING)
    await jobs.create(new_job(guild_id=2000))
    await jobs.create(new_job(guild_id=None))
    assert await jobs.running_count(GUILD) == 1
    assert [job.id for job in await jobs.queued(GUILD)] == [first.id, second.id]
    assert len(await jobs.queued(None)) == 1


async def test_record_attempt_counts_starts(jobs: JobRepository, clock: ManualClock) -> None:
    """Each recorded attempt increments the count and stamps the time."""
    job = await jobs.create(new_job())
    await jobs.record_attempt(job.id)
    clock.advance(timedelta(minutes=3))
    again = await jobs.record_attempt(job.id)
    assert (again.attempts, again.last_attempt_at) == (2, job.created_at + timedelta(minutes=3))


async def test_a_kept_answer_submits_a_queued_job_with_its_ids(jobs: JobRepository) -> None:
    """Keeping Soundverse's answer stores it with its ids and moves a queued job to submitted."""
    job = await jobs.create(new_job())
    kept = await jobs.record_result(
        job.id, {"message_id": "m1", "takes": []}, soundverse_message_id="m1"
    )
    assert kept.state is JobState.SUBMITTED and kept.submitted_at is not None
    assert kept.result == {"message_id": "m1", "takes": []}
    assert kept.soundverse_message_id == "m1"


async def test_a_kept_answer_leaves_a_running_job_where_it_is(jobs: JobRepository) -> None:
    """A streaming job's kept answer changes its result only, not its state."""
    job = await jobs.create(new_job())
    await drive(jobs, job.id, JobState.SUBMITTED, JobState.STREAMING)
    kept = await jobs.record_result(job.id, {"takes": []})
    assert kept.state is JobState.STREAMING and kept.result == {"takes": []}


async def test_ending_a_job_forgets_its_kept_answer(jobs: JobRepository) -> None:
    """Once a job ends, the answer kept to resume it is dropped."""
    job = await jobs.create(new_job())
    await jobs.record_result(job.id, {"takes": []})
    await drive(jobs, job.id, JobState.DELIVERING, JobState.DONE)
    assert (await jobs.get(job.id)).result is None


async def test_ids_submit_a_queued_job_in_one_write(jobs: JobRepository) -> None:
    """Soundverse's ids move a queued job to submitted with them, stamping when."""
    job = await jobs.create(new_job())
    submitted = await jobs.submit_with_ids(job.id, soundverse_message_id="m1")
    assert (submitted.state, submitted.soundverse_message_id) == (JobState.SUBMITTED, "m1")
    assert submitted.submitted_at is not None


async def test_ids_leave_a_running_job_where_it_is(jobs: JobRepository) -> None:
    """A streaming job given ids keeps its state and the time it was submitted."""
    job = await jobs.create(new_job())
    await drive(jobs, job.id, JobState.SUBMITTED, JobState.STREAMING)
    before = await jobs.get(job.id)
    after = await jobs.submit_with_ids(job.id, soundverse_job_id="j1")
    assert (after.state, after.submitted_at) == (JobState.STREAMING, before.submitted_at)
    assert after.soundverse_job_id == "j1"
