"""The link to the job worker: orders and their answers, restarts after a crash, a clean stop."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest

from bot.jobs.link import (
    WorkerLink,
    WorkerUnavailable,
    order_from_message,
    order_message,
    refusal_from_message,
    refusal_message,
)
from bot.jobs.models import CancelOutcome, JobOrder
from bot.jobs.operations import Operation
from bot.storage import QuotaExceeded, RefusalReason

FAKE_WORKER = (sys.executable, str(Path(__file__).with_name("fake_worker.py")))


def order(operation: str = Operation.SONG, user_id: int = 7) -> JobOrder:
    """An order; the fake worker takes a few made-up operations ("crash", ...) as instructions."""
    return JobOrder(
        operation=cast(Operation, operation),
        version="v5",
        request={"prompt": "rain"},
        channel_id=5,
        user_id=user_id,
        guild_id=9,
        role_ids=(1, 2),
        interaction_token="token",
        token_expires_at=datetime(2026, 11, 24, 12, tzinfo=UTC),
    )


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
    assert await link.cancel(4) is CancelOutcome.CANCELLED
    assert await link.cancel(5) is CancelOutcome.NOT_RUNNING


async def test_unanswered_cancel_times_out_as_false(link: WorkerLink) -> None:
    """A worker that never answers makes the cancel NOT_RUNNING after the reply timeout."""
    assert await link.cancel(-2) is CancelOutcome.NOT_RUNNING


async def test_dead_worker_is_started_again_after_a_delay(
    link: WorkerLink, sleep: RecordedSleep
) -> None:
    """A worker that exits is restarted after the first restart delay and answers again."""
    first_pid = link.pid
    with pytest.raises(WorkerUnavailable):
        await link.admit(order("crash"), card_message_id=None)
    await sleep.called.wait()
    await link.wait_ready()
    assert sleep.delays == [1.0]
    assert link.starts == 2 and link.pid != first_pid
    assert await link.cancel(8) is CancelOutcome.CANCELLED


async def test_repeated_crashes_back_off(link: WorkerLink, sleep: RecordedSleep) -> None:
    """Each crash in a row waits longer before the next start: 1 s, then 2 s, then 5 s."""
    for _ in range(3):
        sleep.called.clear()
        with pytest.raises(WorkerUnavailable):
            await link.admit(order("crash"), card_message_id=None)
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


async def test_a_closed_link_refuses_orders_at_once(link: WorkerLink) -> None:
    """After close, an order is refused as WorkerUnavailable and a cancel is NOT_RUNNING."""
    await link.close(timeout=5)
    with pytest.raises(WorkerUnavailable):
        await link.admit(order(), card_message_id=None)
    assert await link.cancel(4) is CancelOutcome.NOT_RUNNING


async def test_admit_returns_the_workers_job_id(link: WorkerLink) -> None:
    """An admitted order resolves to the job id the worker gave it."""
    assert await link.admit(order(user_id=5), card_message_id=3, note="picked") == 105


async def test_quota_refusal_comes_back_as_quota_exceeded(link: WorkerLink) -> None:
    """The worker's quota refusal is raised in the bot with its reason and reset time."""
    with pytest.raises(QuotaExceeded) as raised:
        await link.admit(order("refuse"), card_message_id=None)
    assert raised.value.reason is RefusalReason.GUILD_LIMIT
    assert raised.value.left == 1
    assert raised.value.reset_at == datetime(2026, 11, 25, tzinfo=UTC)


async def test_unanswered_order_is_unavailable_after_the_timeout(
    link: WorkerLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order the worker never answers ends as WorkerUnavailable after the admit timeout."""
    monkeypatch.setattr("bot.jobs.link.ADMIT_TIMEOUT", 0.2)
    with pytest.raises(WorkerUnavailable):
        await link.admit(order("silent"), card_message_id=None)


def test_order_survives_the_link() -> None:
    """An order read back from its link message equals the order sent."""
    sent = order()
    assert order_from_message(order_message(sent)) == sent


def test_order_read_from_the_link_names_its_operation() -> None:
    """The operation of an order read back from the link is an `Operation`, not a string."""
    received = order_from_message(order_message(order()))
    assert received.operation is Operation.SONG


def test_refusal_survives_the_link() -> None:
    """A refusal read back from its link message says the same."""
    refusal = QuotaExceeded(
        RefusalReason.MEMBER_CAP,
        requested=3,
        left=1,
        limit=20,
        reset_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    again = refusal_from_message(refusal_message(refusal))
    assert str(again) == str(refusal) and again.reset_at == refusal.reset_at


async def test_taking_jobs_follows_the_worker_and_reports_each_change(
    sleep: RecordedSleep,
) -> None:
    """`on_change` fires when the worker is ready, when it dies and when it is back."""
    seen: list[bool] = []

    def record() -> None:
        seen.append(started.taking_jobs)

    started = WorkerLink(
        FAKE_WORKER, dict(os.environ), reply_timeout=0.5, sleep=sleep, on_change=record
    )
    await started.start()
    try:
        await started.wait_ready()
        with pytest.raises(WorkerUnavailable):
            await started.admit(order("crash"), card_message_id=None)
        await sleep.called.wait()
        await started.wait_ready()
    finally:
        await started.close(timeout=5)
    assert seen == [True, False, True]
