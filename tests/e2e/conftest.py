"""The end-to-end harness: the local Soundverse, the local Discord and the real bot per test.

Every test gets a fresh stack on random loopback ports; all REST traffic is checked
against Discord's OpenAPI description, and any mismatch fails the test at teardown. Tests
marked `both_backends` run twice: with the data in SQLite, and in PostgreSQL.
"""

from __future__ import annotations

import io
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import av
import pytest

from bot.config import Settings, WorkerMode, WorkerPriority
from bot.jobs.models import Requester
from bot.storage import TrackRepository
from sandbox.discord.local import InteractionHandle
from sandbox.discord.openapi import spec_available
from sandbox.discord.state import Message
from sandbox.holds import Hold
from sandbox.stack import SandboxStack, ShardBots, SharedWorkers, newest_holder, shared_jobs

# Fast enough that a generation takes a few hundred milliseconds, slow enough for progress.
E2E_TIME_SCALE = 0.01

StackFactory = Callable[..., Awaitable[SandboxStack]]

# Tests marked with this run twice: jobs on the bot's own loop, and in the job worker process.
BOTH_MODES = pytest.mark.parametrize("mode", [WorkerMode.INLINE, WorkerMode.PROCESS])

# Tests marked with this run twice: on SQLite, and on the throwaway PostgreSQL server.
BOTH_BACKENDS = pytest.mark.both_backends


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each `both_backends` test once per backend."""
    if metafunc.definition.get_closest_marker("both_backends") is not None:
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL URL this test's stacks keep their data in; None for SQLite files."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


def in_mode(mode: WorkerMode, *tweaks: Callable[[Settings], None]) -> Callable[[Settings], None]:
    """Apply `tweaks`, with jobs running as `mode` says (the worker at normal priority)."""

    def tweak(settings: Settings) -> None:
        settings.jobs.worker = mode
        settings.jobs.worker_priority = WorkerPriority.NORMAL
        for each in tweaks:
            each(settings)

    return tweak


@pytest.fixture
async def make_stack(tmp_path: Path, backend: str | None) -> AsyncIterator[StackFactory]:
    """Start a stack with custom settings (`tweak`), Discord rules or time scale."""
    started: list[SandboxStack] = []

    async def start(**options: Any) -> SandboxStack:
        options.setdefault("time_scale", E2E_TIME_SCALE)
        options.setdefault("validate_openapi", spec_available())
        if backend is not None:
            options["tweak"] = on_postgres(backend, options.get("tweak"))
        running = SandboxStack(tmp_path / f"data{len(started)}", **options)
        started.append(running)
        await running.start()
        return running

    yield start
    for running in started:
        await running.stop()
    for running in started:
        violations = running.discord.openapi_violations
        assert not violations, "REST traffic broke Discord's OpenAPI description:\n" + "\n".join(
            str(violation) for violation in violations
        )


@pytest.fixture
async def stack(make_stack: StackFactory) -> SandboxStack:
    """A running stack with default settings."""
    return await make_stack()


SHARED_LEASE = 2.0


def shared(url: str, *tweaks: Callable[[Settings], None]) -> Callable[[Settings], None]:
    """Jobs in shared workers over `url`, with a short lease and frequent card edits."""

    def tweak(settings: Settings) -> None:
        settings.storage.url = url
        settings.jobs.progress_interval = 0.05
        for each in tweaks:
            each(settings)

    return shared_jobs(SHARED_LEASE, tweak)


@asynccontextmanager
async def shared_workers(
    stack: SandboxStack, count: int, folder: Path
) -> AsyncIterator[SharedWorkers]:
    """`count` processes of `python -m bot worker` with the bot's settings, stopped after."""
    workers = SharedWorkers(folder)
    try:
        await workers.start(stack.bot.settings, count)
        yield workers
    finally:
        await workers.stop()


@asynccontextmanager
async def shard_bot(
    stack: SandboxStack, folder: Path, tweak: Callable[[Settings], None]
) -> AsyncIterator[ShardBots]:
    """Another bot process (`python -m bot`) beside the stack's bot, with its settings changed
    by `tweak` (one shard of several, say), its data in `folder`; stopped after."""
    bots = ShardBots(folder)
    try:
        await bots.start(stack.other_settings(folder, tweak), stack.discord)
        yield bots
    finally:
        await bots.stop()


async def holder_pid(stack: SandboxStack) -> int:
    """The process id of the shared worker holding the newest unfinished job that is held
    (once its card or a hold shows it running)."""
    holder = await newest_holder(stack.bot.database)
    assert holder is not None, "a running job is held by a worker"
    return holder.pid


def on_postgres(url: str, tweak: Callable[[Settings], None] | None) -> Callable[[Settings], None]:
    """`tweak`, with the bot's data at `url`."""

    def with_url(settings: Settings) -> None:
        settings.storage.url = url
        if tweak is not None:
            tweak(settings)

    return with_url


def decoded_duration(data: bytes) -> float:
    """The length in seconds of encoded audio, as a player would see it."""
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return sum(
            float(frame.duration * frame.time_base)
            for frame in container.decode(stream)
            if frame.duration is not None and frame.time_base is not None
        )


def result_for(user_id: str) -> Callable[[Message], bool]:
    """Matches the result message: it mentions the requester and carries files or links."""

    def match(message: Message) -> bool:
        return f"<@{user_id}>" in message.content and not message.deleted

    return match


def embed_text(message: Message) -> str:
    """Everything a member reads in a message: content and embed texts."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [str(embed.get("title", "")), str(embed.get("description", ""))]
        parts += [f"{f.get('name')} {f.get('value')}" for f in embed.get("fields", [])]
    return "\n".join(parts)


async def card_shows(stack: SandboxStack, interaction: InteractionHandle, text: str) -> Message:
    """Wait until the job card (the interaction's original message) shows `text`."""

    def probe() -> Message | None:
        card = next((m for m in stack.discord.messages if m.interaction_id == interaction.id), None)
        return card if card is not None and text in embed_text(card) else None

    return await stack.discord.wait_until(probe, timeout=20)


async def card_offering(stack: SandboxStack, interaction: InteractionHandle, label: str) -> Message:
    """Wait until the job card (the interaction's original message) offers a button `label`."""

    def probe() -> Message | None:
        card = next((m for m in stack.discord.messages if m.interaction_id == interaction.id), None)
        labels = [c.get("label") for c in card.all_components()] if card is not None else []
        return card if label in labels else None

    return await stack.discord.wait_until(probe, timeout=20)


async def member_usage(stack: SandboxStack, user: str) -> int:
    """Units the member has used in the local guild this period."""
    member = Requester(int(stack.discord.user(user).id), int(stack.discord.guild.id))
    card = await stack.bot.services.quota.usage(member)
    return card.member_used


def stored_tracks(stack: SandboxStack) -> TrackRepository:
    """The bot's tracks as stored, read behind its services."""
    return TrackRepository(stack.bot.database)


async def confirm_delete(
    stack: SandboxStack, message: Message, user: str = "alice", answer: str = "Delete for good"
) -> Message:
    """Press Delete on `message`, then `answer` on the private confirmation; returns the
    confirmation as it ends."""
    click = await stack.discord.click(message, "Delete", user=user)
    question = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == click.id and m.ephemeral and bool(m.components)
    )
    answered = await stack.discord.click(question, answer, user=user)

    def ended() -> Message | None:
        for message in stack.discord.messages:
            if message.id == question.id and not message.components:
                return message  # the question, answered
            if message.interaction_id == answered.id and message.ephemeral:
                return message  # an error, told privately
        return None

    return await stack.discord.wait_until(ended, timeout=10)


async def interrupt(stack: SandboxStack, mode: WorkerMode, held: Hold | None = None) -> None:
    """Stop whatever runs the jobs mid-way, then let it run again: the bot, stopped and started
    (jobs on its own loop), or the worker, killed with SIGKILL (its link starts another, which
    resumes what was left).
    `held` is released in between, so the next run's requests pass."""
    if mode is WorkerMode.INLINE:
        await stack.stop_bot()
        if held is not None:
            held.release()
        await stack.start_bot()
        return
    link = stack.bot.job_link
    assert link is not None and link.pid is not None
    os.kill(link.pid, signal.SIGKILL)
    if held is not None:
        held.release()


async def ledger_events(stack: SandboxStack, user: str | None = None) -> list[str]:
    """Every quota ledger event but policy changes (of `user` only, if given), oldest first."""
    sql = "SELECT event FROM quota_ledger WHERE event != 'policy'"
    parameters: tuple[int, ...] = ()
    if user is not None:
        sql += " AND user_id = ?"
        parameters = (int(stack.discord.user(user).id),)
    async with stack.bot.database.snapshot() as transaction:
        rows = await transaction.fetch_all(sql + " ORDER BY id", parameters)
    return [str(row["event"]) for row in rows]
