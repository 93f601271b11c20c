"""Every result exactly once: a stop or a kill while the result is posted, or a database that
refuses right after, never posts it twice nor loses it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from bot.config import Settings, WorkerMode
from bot.storage import JobRepository, JobState
from sandbox.holds import HoldPoint
from sandbox.stack import SandboxStack
from tests.e2e.conftest import (
    BOTH_MODES,
    StackFactory,
    card_shows,
    in_mode,
    interrupt,
    ledger_events,
    result_for,
    stored_tracks,
)

RESULT_POST = "/webhooks/"


def no_grace(settings: Settings) -> None:
    """A stop cuts a result's upload short at once, as a kill would."""
    settings.jobs.shutdown_grace = 0


def quick_to_give_up_on_locks(settings: Settings) -> None:
    """The database waits only 50 ms for a lock before refusing."""
    settings.storage.busy_timeout_ms = 50


async def assert_delivered_once(stack: SandboxStack) -> None:
    """One result message; its two tracks recorded once, with its id; the job done and
    charged once."""
    alice = stack.discord.user("alice")
    results = [m for m in stack.discord.messages if result_for(alice.id)(m)]
    assert len(results) == 1
    tracks = await stored_tracks(stack).user_history(int(alice.id))
    assert [track.message_id for track in tracks] == [int(results[0].id)] * 2
    job_id = tracks[0].job_id
    assert job_id is not None
    assert (await JobRepository(stack.bot.database).get(job_id)).state is JobState.DONE
    assert await ledger_events(stack) == ["reserve", "commit"]


async def test_a_stop_while_the_result_uploads_lets_it_arrive(stack: SandboxStack) -> None:
    """A stop (SIGTERM) while the result is uploading waits for the upload: the job ends done
    before the bot stops, and the next start posts nothing again."""
    held = stack.discord.hold("POST", RESULT_POST)
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    await held.wait_for_arrival()
    bot = stack.bot
    stopping = asyncio.create_task(stack.stop_bot())
    await bot.services.jobs.closing.wait()
    held.release()
    await stopping
    await stack.start_bot()
    await card_shows(stack, call, "Done")
    await stack.bot.services.jobs.wait_until_idle()
    await assert_delivered_once(stack)


@BOTH_MODES
async def test_a_result_posted_as_its_runner_dies_is_not_posted_again(
    make_stack: StackFactory, mode: WorkerMode
) -> None:
    """Discord took the result, but the bot (or its worker) died before hearing so: after the
    restart the posted result is found, recorded and charged; nothing is posted twice."""
    stack = await make_stack(tweak=in_mode(mode, no_grace))
    held = stack.discord.hold("POST", RESULT_POST, HoldPoint.AFTER)
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    await held.wait_for_arrival()
    await interrupt(stack, mode, held)
    await card_shows(stack, call, "Done")
    await stack.bot.services.jobs.wait_until_idle()
    await assert_delivered_once(stack)


@contextmanager
def warned(logger: str, text: str) -> Iterator[asyncio.Event]:
    """An event set once `logger` logs a warning containing `text`."""
    seen = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if text in record.getMessage():
                seen.set()

    handler = Watch(logging.WARNING)
    logging.getLogger(logger).addHandler(handler)
    try:
        yield seen
    finally:
        logging.getLogger(logger).removeHandler(handler)


async def test_a_database_locked_right_after_posting_does_not_fail_the_job(
    make_stack: StackFactory,
) -> None:
    """The database refuses while the posted result is being recorded: recording is tried
    again, the job ends done and charged, and nothing is posted twice."""
    stack = await make_stack(tweak=quick_to_give_up_on_locks)
    held = stack.discord.hold("POST", RESULT_POST, HoldPoint.AFTER)
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    await held.wait_for_arrival()
    locker = sqlite3.connect(str(stack.bot.database.path), isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        with warned("bot.jobs.service", "Could not record the delivery") as refused:
            held.release()
            await refused.wait()
        locker.execute("ROLLBACK")
    finally:
        locker.close()
    await card_shows(stack, call, "Done")
    await stack.bot.services.jobs.wait_until_idle()
    await assert_delivered_once(stack)


@BOTH_MODES
async def test_a_result_cut_off_before_discord_took_it_is_posted_once(
    make_stack: StackFactory, mode: WorkerMode
) -> None:
    """The bot (or its worker) died while uploading, before Discord took the result: after the
    restart it is posted once, and its tracks are recorded once, not twice."""
    stack = await make_stack(tweak=in_mode(mode, no_grace))
    held = stack.discord.hold("POST", RESULT_POST)
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    await held.wait_for_arrival()
    await interrupt(stack, mode, held)
    await card_shows(stack, call, "Done")
    await stack.bot.services.jobs.wait_until_idle()
    await assert_delivered_once(stack)
