"""The fault matrix: every kind of work, interrupted at every stage, by killing the job worker
(SIGKILL) or stopping the bot at once, then started again; and, on PostgreSQL with two bot
processes (one shard each of two) and jobs shared by three workers (JOBS_WORKER=shared), by
killing the worker that holds the job, whose lease another takes over, or by stopping the bot
whose shard the work came from.

Each case asserts what a member and an operator would check afterwards: how many results the
member got, what the ledger says (charged once, or refunded once, as the stage implies), that
every job ended, and that no row was left behind (a track without its message or its job done,
a reservation still held). The table of cases and outcomes is in the README.

How each stage is reached, without a sleep:

    queued       a job of another member holds the guild's one slot (its generation is held)
    submitted    the generation request is held before the local Soundverse handles it
    streaming    the stream goes silent after the first progress (`stall:4`), the job composing
    downloading  the first file's download is held
    fitting      the second file's download is held: the first was downloaded and fitted
    uploading    the result's post is held before the local Discord handles it
    recording    the result's post was handled, its answer held: in Discord, not yet recorded
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest

from bot.config import Settings, WorkerMode
from sandbox.discord import Rules
from sandbox.discord.local import InteractionHandle
from sandbox.discord.state import Message
from sandbox.holds import Hold, HoldPoint
from sandbox.soundverse.media import render_audio
from sandbox.stack import SandboxStack, ShardPlan
from tests.e2e.conftest import (
    StackFactory,
    card_shows,
    embed_text,
    holder_pid,
    in_mode,
    interrupt,
    ledger_events,
    result_for,
    shard_bot,
    shared,
    shared_workers,
)


class Kind(StrEnum):
    SONG = "song"  # streamed
    STEMS = "stems"  # one call
    LOOP = "loop"  # one call, generated
    LYRICS = "lyrics"  # a quick call: no job, nothing stored, free


class Stage(StrEnum):
    QUEUED = "queued"
    SUBMITTED = "submitted"
    STREAMING = "streaming"
    DOWNLOADING = "downloading"
    FITTING = "fitting"
    UPLOADING = "uploading"
    RECORDING = "recording"


class Runner(StrEnum):
    WORKER = "worker killed"  # SIGKILL of the job worker process; its link starts another
    BOT = "bot stopped"  # the bot stopped at once (no grace) and started again; jobs inline
    SHARED = "shared worker killed"  # SIGKILL of the holder of three; the others go on
    SHARED_BOT = "bot stopped, shared workers"  # the guild's bot stopped at once; the rest go on


SHARED_RUNNERS = (Runner.SHARED, Runner.SHARED_BOT)

PATHS = {
    Kind.SONG: "/v5/generate/song",
    Kind.STEMS: "/v1/generate/stem-separation/all-stems",
    Kind.LOOP: "/v1/trim-and-loop/gen-and-loop/music/auto/",
    Kind.LYRICS: "/v1/generate/lyrics",
}
BLOCKER_PATH = "/v1/generate/text-to-music"
RESULT_POST = "/webhooks/"

STAGES: dict[Kind, list[Stage]] = {
    Kind.SONG: list(Stage),
    Kind.STEMS: [stage for stage in Stage if stage is not Stage.STREAMING],
    Kind.LOOP: [stage for stage in Stage if stage is not Stage.STREAMING],
    Kind.LYRICS: [Stage.SUBMITTED, Stage.UPLOADING, Stage.RECORDING],
}


@dataclass(frozen=True)
class Outcome:
    """What a case ends in: results the member has, and the ledger of their job."""

    results: int
    ledger: tuple[str, ...]

    def __str__(self) -> str:
        if not self.ledger:
            return f"{self.results} result, nothing charged"
        charged = "charged once" if self.ledger[-1] == "commit" else "refunded once"
        return f"{self.results} result, {charged}"


DELIVERED = Outcome(1, ("reserve", "commit"))
NOT_STARTED = Outcome(0, ("reserve", "refund"))


def expected(kind: Kind, stage: Stage, runner: Runner) -> Outcome:
    """What each stage implies. A request sent but never answered cannot be followed: it is
    refunded. Once Soundverse answered, the job is delivered once and charged once. Lyrics are
    free and kept nowhere: what was posted stays, nothing else happens. With shared workers,
    stopping the bot interrupts no job: each is delivered once."""
    if runner is Runner.SHARED_BOT:
        return DELIVERED
    if kind is Kind.LYRICS:
        return Outcome(1 if stage is Stage.RECORDING else 0, ())
    return NOT_STARTED if stage is Stage.SUBMITTED else DELIVERED


CASES = [
    pytest.param(kind, stage, runner, id=f"{kind}-{stage}-{runner.name.lower()}")
    for kind in Kind
    for stage in STAGES[kind]
    for runner in Runner
    # lyrics never reach a worker
    if not (kind is Kind.LYRICS and runner in (*SHARED_RUNNERS, Runner.WORKER))
]


SHARED_WORKERS = 3
"""Shared runners run two bot processes (`ShardPlan(2)`) and this many workers."""


def settings_for(
    runner: Runner, postgres_url: str | None, *more: Callable[[Settings], None]
) -> Callable[[Settings], None]:
    def tweak(settings: Settings) -> None:
        settings.jobs.guild_concurrency = 1
        settings.jobs.progress_interval = 1.0
        settings.jobs.shutdown_grace = 0  # a stop cuts everything short, as a kill would
        if runner is Runner.SHARED_BOT:
            # Nothing restarts the worker that follows the stalled stream: it gives up on the
            # silence soon and goes on through status.
            settings.soundverse.idle_timeout = 2.0

    if runner in SHARED_RUNNERS:
        assert postgres_url is not None
        return shared(postgres_url, tweak, *more)
    mode = WorkerMode.PROCESS if runner is Runner.WORKER else WorkerMode.INLINE
    return in_mode(mode, tweak)


async def ask(stack: SandboxStack, kind: Kind) -> InteractionHandle:
    """Alice asks for one piece of work of `kind` in #general."""
    if kind is Kind.SONG:
        return await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    if kind is Kind.STEMS:
        upload = stack.discord.upload("mine.mp3", render_audio(7, 8, "mp3"), "audio/mpeg")
        return await stack.discord.slash("stems", user="alice", audio=upload)
    if kind is Kind.LOOP:
        return await stack.discord.slash(
            "loop generate", user="alice", prompt="drums", duration=15, count=2
        )
    return await stack.discord.slash("lyrics", user="alice", prompt="rain on the roof")


async def reach(
    stack: SandboxStack, kind: Kind, stage: Stage
) -> tuple[InteractionHandle, Hold | None]:
    """Ask for the work and stop it at `stage`; the hold that keeps it there, if any."""
    path = PATHS[kind]
    # A job's result is a new message; the lyrics card is the deferred response, edited.
    posted_with = "PATCH" if kind is Kind.LYRICS else "POST"
    if stage is Stage.STREAMING:
        stack.soundverse.inject("stall:4", path=path)
        call = await ask(stack, kind)
        await card_shows(stack, call, "Composing")
        return call, None
    holds: dict[Stage, Callable[[], Hold]] = {
        Stage.QUEUED: lambda: stack.soundverse.hold("POST", BLOCKER_PATH),
        Stage.SUBMITTED: lambda: stack.soundverse.hold("POST", path),
        Stage.DOWNLOADING: lambda: stack.soundverse.hold("GET", "/storage/"),
        Stage.FITTING: lambda: stack.soundverse.hold("GET", "/storage/", skip=1),
        Stage.UPLOADING: lambda: stack.discord.hold(posted_with, RESULT_POST),
        Stage.RECORDING: lambda: stack.discord.hold(posted_with, RESULT_POST, HoldPoint.AFTER),
    }
    held = holds[stage]()
    if stage is Stage.QUEUED:
        await stack.discord.slash("text-to-music", user="bob", prompt="blocker", duration=15)
        await held.wait_for_arrival()
        call = await ask(stack, kind)
        await card_shows(stack, call, "Queued")
        return call, held
    call = await ask(stack, kind)
    await held.wait_for_arrival()
    return call, held


async def until_ended(stack: SandboxStack, kind: Kind, call: InteractionHandle) -> None:
    """Until the job's card shows how it ended (after the restart); lyrics keep nothing to
    resume, so there is nothing to wait for."""
    if kind is Kind.LYRICS:
        return

    def probe() -> Message | None:
        card = next((m for m in stack.discord.messages if m.interaction_id == call.id), None)
        text = embed_text(card) if card is not None else ""
        return card if "✅ Done" in text or "❌" in text else None

    await stack.discord.wait_until(probe, timeout=60)


def results(stack: SandboxStack, kind: Kind, call: InteractionHandle) -> int:
    """The results Alice got: job results mention her; a lyrics card answers her call."""
    if kind is Kind.LYRICS:
        return sum(
            1
            for m in stack.discord.messages
            if m.interaction_id == call.id and m.embeds and not m.loading and not m.deleted
        )
    alice = stack.discord.user("alice").id
    return sum(1 for m in stack.discord.messages if result_for(alice)(m))


async def leftovers(stack: SandboxStack) -> dict[str, int]:
    """Rows a finished stack must not have: jobs not ended, reservations still held, tracks
    without their message or whose job is not done."""
    queries = {
        "unfinished jobs": "SELECT COUNT(*) FROM jobs"
        " WHERE state NOT IN ('done', 'failed', 'cancelled')",
        "held reservations": "SELECT COUNT(*) FROM quota_reservations WHERE state = 'reserved'",
        "orphan tracks": "SELECT COUNT(*) FROM tracks t LEFT JOIN jobs j ON j.id = t.job_id"
        " WHERE t.message_id IS NULL OR j.state IS NULL OR j.state <> 'done'",
    }
    async with stack.bot.database.snapshot() as transaction:
        counts = {
            name: int(await transaction.fetch_value(sql) or 0) for name, sql in queries.items()
        }
    return {name: count for name, count in counts.items() if count}


@pytest.mark.parametrize(("kind", "stage", "runner"), CASES)
async def test_interrupted_work_ends_as_its_stage_implies(
    make_stack: StackFactory,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    kind: Kind,
    stage: Stage,
    runner: Runner,
) -> None:
    """Interrupted at its stage and started again, the work ends with the results and the
    ledger its stage implies, every job ended and nothing left behind."""
    shared_jobs = runner in SHARED_RUNNERS
    if not shared_jobs:
        stack = await make_stack(tweak=settings_for(runner, None))
    else:
        url = str(request.getfixturevalue("postgres_url"))
        shards = ShardPlan(2)
        stack = await make_stack(
            rules=Rules(max_concurrency=2),
            prepare=shards.prepare,
            tweak=settings_for(runner, url, shards.tweak),
        )
    async with AsyncExitStack() as processes:
        if shared_jobs:
            await processes.enter_async_context(
                shard_bot(stack, tmp_path / "other", settings_for(runner, url, *shards.others()))
            )
            await processes.enter_async_context(shared_workers(stack, SHARED_WORKERS, tmp_path))
        call, held = await reach(stack, kind, stage)
        if runner is Runner.SHARED:
            os.kill(await holder_pid(stack), signal.SIGKILL)
            if held is not None:
                held.release()
        else:
            mode = WorkerMode.PROCESS if runner is Runner.WORKER else WorkerMode.INLINE
            await interrupt(stack, mode, held)
        await until_ended(stack, kind, call)
        if stage is Stage.QUEUED:
            await blocker_ended(stack)
    await stack.bot.services.jobs.wait_until_idle()
    outcome = Outcome(results(stack, kind, call), tuple(await ledger_events(stack, "alice")))
    assert outcome == expected(kind, stage, runner)
    assert await leftovers(stack) == {}


async def blocker_ended(stack: SandboxStack) -> None:
    """Until Bob's blocking job ended too (sent and never answered: refunded; or, when only
    the bot was stopped while shared workers ran it, delivered)."""
    await stack.discord.wait_until(
        lambda: (
            any(
                "❌" in embed_text(m) or "✅ Done" in embed_text(m)
                for m in stack.discord.messages
                if m.interaction_id is not None and "blocker" in embed_text(m)
            )
            or None
        ),
        timeout=60,
    )
