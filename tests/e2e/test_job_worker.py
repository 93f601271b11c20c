"""What only the job worker process has (JOBS_WORKER=process), through the local Discord.

Quota refusals, cancels and restarts run in both modes in test_song.py.
"""

from __future__ import annotations

import functools
import os
import signal

import pytest

import bot.app
from bot.config import Settings, WorkerMode, WorkerPriority
from bot.jobs.link import WorkerLink
from sandbox.stack import SandboxStack
from tests.e2e.conftest import (
    BOTH_BACKENDS,
    StackFactory,
    card_shows,
    decoded_duration,
    embed_text,
    member_usage,
    result_for,
)

SONG_PATH = "/v5/generate/song"


def in_worker(settings: Settings) -> None:
    """Jobs in the worker process, at the bot's priority, with frequent card edits."""
    settings.jobs.worker = WorkerMode.PROCESS
    settings.jobs.worker_priority = WorkerPriority.NORMAL
    settings.jobs.progress_interval = 0.05


async def worker_stack(make_stack: StackFactory, time_scale: float = 0.01) -> SandboxStack:
    stack = await make_stack(time_scale=time_scale, tweak=in_worker)
    link = stack.bot.job_link
    assert link is not None
    await link.wait_ready()
    return stack


@BOTH_BACKENDS
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
    assert stack.bot.services.jobs.is_idle(), "the job ran in the bot's own process"


@BOTH_BACKENDS
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


async def test_worker_runs_at_idle_priority_by_default(make_stack: StackFactory) -> None:
    """With the default JOBS_WORKER_PRIORITY the worker runs under SCHED_IDLE."""
    stack = await make_stack(tweak=lambda s: setattr(s.jobs, "worker", WorkerMode.PROCESS))
    link = stack.bot.job_link
    assert link is not None and link.pid is not None
    await link.wait_ready()
    assert os.sched_getscheduler(link.pid) == os.SCHED_IDLE
    assert os.sched_getscheduler(0) != os.SCHED_IDLE


async def test_order_the_worker_cannot_take_is_refused_privately(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the worker down, `/song` is refused privately; no card stays, nothing is used."""
    # Not restarted within the test: the order meets a dead worker, however fast it runs.
    monkeypatch.setattr(
        bot.app, "WorkerLink", functools.partial(WorkerLink, restart_delays=(3600.0,))
    )
    stack = await worker_stack(make_stack)
    link = stack.bot.job_link
    assert link is not None and link.pid is not None
    os.kill(link.pid, signal.SIGKILL)
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    assert await interaction.wait_for_ack() == 5
    refusal = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and m.ephemeral
    )
    assert "was not queued and nothing was used" in embed_text(refusal)
    original = await interaction.original()
    assert original is not None and original.deleted
    assert await member_usage(stack, "alice") == 0
    assert sum(stack.soundverse.counters.posts.values()) == 0


async def test_a_result_posted_by_the_worker_offers_the_follow_ups(
    make_stack: StackFactory,
) -> None:
    """The worker knows the loaded features too: its result has every follow-up button."""
    stack = await worker_stack(make_stack)
    alice = stack.discord.user("alice")
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=20)
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    buttons = [c["label"] for c in result.all_components() if c.get("type") == 2]
    assert buttons == [
        "Extend",
        "Loop",
        "Variation",
        "Lyrics",
        "Play in voice",
        "Submit to contest",
        "Delete",
    ]
