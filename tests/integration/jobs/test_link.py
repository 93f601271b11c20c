"""The link to the job worker: answers, restarts after a crash, and a clean stop."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs.link import WorkerLink

FAKE_WORKER = (sys.executable, str(Path(__file__).with_name("fake_worker.py")))


class RecordedSleep:
    """Records each restart delay and returns at once; `called` is set on every call."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.called = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.called.set()


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
async def link(sleep: RecordedSleep) -> AsyncIterator[WorkerLink]:
    started = WorkerLink(FAKE_WORKER, dict(os.environ), reply_timeout=0.5, sleep=sleep)
    await started.start()
    await started.wait_ready()
    yield started
    await started.close(timeout=5)


async def test_cancel_returns_the_workers_answer(link: WorkerLink) -> None:
    """A cancel resolves to what the worker answered for that job."""
    assert await link.cancel(4) is True
    assert await link.cancel(5) is False


async def test_unanswered_cancel_times_out_as_false(link: WorkerLink) -> None:
    """A worker that never answers makes the cancel False after the reply timeout."""
    assert await link.cancel(-2) is False


async def test_dead_worker_is_started_again_after_a_delay(
    link: WorkerLink, sleep: RecordedSleep
) -> None:
    """A worker that exits is restarted after the first restart delay and answers again."""
    first_pid = link.pid
    await link.run(-1)
    await sleep.called.wait()
    await link.wait_ready()
    assert sleep.delays == [1.0]
    assert link.starts == 2 and link.pid != first_pid
    assert await link.cancel(8) is True


async def test_repeated_crashes_back_off(link: WorkerLink, sleep: RecordedSleep) -> None:
    """Each crash in a row waits longer before the next start: 1 s, then 2 s, then 5 s."""
    for _ in range(3):
        sleep.called.clear()
        await link.run(-1)
        await sleep.called.wait()
        await link.wait_ready()
    assert sleep.delays == [1.0, 2.0, 5.0]


async def test_close_stops_the_worker_and_does_not_restart_it(
    link: WorkerLink, sleep: RecordedSleep
) -> None:
    """Closing the link ends the worker process for good; nothing is started again."""
    pid = link.pid
    assert pid is not None
    await link.close(timeout=5)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert sleep.delays == [] and link.starts == 1


async def test_messages_to_a_closed_link_are_dropped(link: WorkerLink) -> None:
    """After close, run and cancel neither raise nor hang; cancel is False."""
    await link.close(timeout=5)
    await link.run(3)
    assert await link.cancel(4) is False
