"""Jobs run in the job worker process (JOBS_WORKER=process), through the local Discord."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from bot.config import Settings, WorkerMode, WorkerPriority
from sandbox.stack import SandboxStack
from tests.e2e.conftest import (
    StackFactory,
    card_shows,
    decoded_duration,
    embed_text,
    member_usage,
    result_for,
)

SONG_PATH = "/v5/generate/song"


def in_worker(units: int | None = None, **jobs: float) -> Callable[[Settings], None]:
    """Jobs in the worker process, with frequent card edits, other job settings, and
    optionally a guild quota of `units`."""

    def tweak(settings: Settings) -> None:
        settings.jobs.worker = WorkerMode.PROCESS
        settings.jobs.worker_priority = WorkerPriority.NORMAL
        settings.jobs.progress_interval = 0.05
        for name, value in jobs.items():
            setattr(settings.jobs, name, value)
        if units is not None:
            settings.quota.units_per_period = units
            settings.quota.member_cap = units

    return tweak


async def worker_stack(
    make_stack: StackFactory, time_scale: float = 0.01, units: int | None = None, **jobs: float
) -> SandboxStack:
    stack = await make_stack(time_scale=time_scale, tweak=in_worker(units, **jobs))
    link = stack.bot.job_link
    assert link is not None
    await link.wait_ready()
    return stack


async def test_song_is_delivered_by_the_worker_process(make_stack: StackFactory) -> None:
    """`/song` is acknowledged by the bot and delivered by its worker, with two takes."""
    stack = await worker_stack(make_stack)
    alice = stack.discord.user("alice")
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=20)
    assert await interaction.wait_for_ack() == 5
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    audio = [a for a in result.attachments if a.filename.endswith(".mp3")]
    assert len(audio) == 2
    assert all(abs(decoded_duration(a.data) - 20) < 0.3 for a in audio)
    await card_shows(stack, interaction, "Done")
    assert stack.bot.job_service.queue.is_idle(), "the job ran in the bot's own process"


async def test_quota_refusal_from_the_worker_is_private(make_stack: StackFactory) -> None:
    """The worker's quota refusal reaches the member privately with the reset time; no POST."""
    stack = await worker_stack(make_stack, units=1)
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    refusal = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and m.ephemeral and "quota" in embed_text(m)
    )
    assert "<t:" in embed_text(refusal) and ":R>" in embed_text(refusal)
    assert sum(stack.soundverse.counters.posts.values()) == 0


async def test_worker_cancels_a_queued_job_and_refunds(make_stack: StackFactory) -> None:
    """Cancel on a job waiting in the worker's queue ends it there, refunded, never sent."""
    stack = await worker_stack(make_stack, time_scale=0.5, guild_concurrency=1)
    first = await stack.discord.slash("song", user="alice", prompt="first")
    await card_shows(stack, first, "Composing")
    second = await stack.discord.slash("song", user="bob", prompt="second")
    queued_card = await card_shows(stack, second, "Queued: next in line")
    await stack.discord.click(queued_card, "Cancel", user="bob")
    await card_shows(stack, second, "Cancelled. Your units were refunded.")
    assert stack.soundverse.counters.posts[SONG_PATH] == 1
    assert await member_usage(stack, "bob") == 0


async def test_worker_cancels_a_running_job(make_stack: StackFactory) -> None:
    """Cancel on a job the worker is following ends its card; the billed units stay spent."""
    stack = await worker_stack(make_stack, time_scale=0.5)
    interaction = await stack.discord.slash("song", user="alice", prompt="long one")
    card = await card_shows(stack, interaction, "Composing")
    await stack.discord.click(card, "Cancel", user="alice")
    ended = await card_shows(stack, interaction, "Cancelled.")
    assert "refunded" not in embed_text(ended)


async def test_killed_worker_is_restarted_and_its_job_delivered_once(
    make_stack: StackFactory,
) -> None:
    """A worker killed mid-job is started again; it follows the job and posts it once."""
    stack = await worker_stack(make_stack, time_scale=0.1)
    link = stack.bot.job_link
    assert link is not None and link.pid is not None
    alice = stack.discord.user("alice")
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    await card_shows(stack, interaction, "Composing")
    os.kill(link.pid, signal.SIGKILL)
    await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    await card_shows(stack, interaction, "Done")
    assert link.starts == 2
    assert len([m for m in stack.discord.messages if result_for(alice.id)(m)]) == 1
    assert stack.soundverse.counters.posts[SONG_PATH] == 1


async def test_bot_restart_hands_the_job_to_the_next_worker(make_stack: StackFactory) -> None:
    """A bot stopped mid-job stops its worker; the next bot's worker delivers it once."""
    stack = await worker_stack(make_stack, time_scale=0.1)
    alice = stack.discord.user("alice")
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    await card_shows(stack, interaction, "Composing")
    await stack.stop_bot()
    await stack.start_bot()
    await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    await card_shows(stack, interaction, "Done")
    assert len([m for m in stack.discord.messages if result_for(alice.id)(m)]) == 1
    assert stack.soundverse.counters.posts[SONG_PATH] == 1
    assert await member_usage(stack, "alice") == 2


async def test_worker_runs_at_idle_priority_by_default(make_stack: StackFactory) -> None:
    """With the default JOBS_WORKER_PRIORITY the worker runs under SCHED_IDLE."""
    stack = await make_stack(tweak=lambda s: setattr(s.jobs, "worker", WorkerMode.PROCESS))
    link = stack.bot.job_link
    assert link is not None and link.pid is not None
    await link.wait_ready()
    assert os.sched_getscheduler(link.pid) == os.SCHED_IDLE
    assert os.sched_getscheduler(0) != os.SCHED_IDLE
