"""The per-guild job queue: concurrency, order, positions, ETA and cancellation."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs.queue import JobQueue


class Gate:
    """A job body that runs until the test opens its gate."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log = log
        self.name = name
        self.opened = asyncio.Event()
        self.started = asyncio.Event()

    async def __call__(self) -> None:
        self.log.append(f"start {self.name}")
        self.started.set()
        await self.opened.wait()
        self.log.append(f"end {self.name}")


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_runs_at_most_concurrency_jobs_per_group() -> None:
    """With concurrency 2, the third job of a guild waits until one of the first two ends."""
    log: list[str] = []
    queue = JobQueue(2)
    gates = [Gate(log, str(n)) for n in range(3)]
    for n, gate in enumerate(gates):
        queue.submit("guild", n, gate)
    await settle()
    assert log == ["start 0", "start 1"]
    gates[0].opened.set()
    await gates[2].started.wait()
    assert log == ["start 0", "start 1", "end 0", "start 2"]
    gates[1].opened.set()
    gates[2].opened.set()
    await queue.close()


async def test_groups_do_not_share_slots() -> None:
    """A busy guild does not delay another guild's job."""
    log: list[str] = []
    queue = JobQueue(1)
    busy = Gate(log, "a1")
    queue.submit("a", 1, busy)
    queue.submit("a", 2, Gate(log, "a2"))
    other = Gate(log, "b1")
    queue.submit("b", 3, other)
    await other.started.wait()
    assert "start a2" not in log
    await queue.close()


async def test_positions_are_announced_and_shift() -> None:
    """Waiting jobs hear their position, and hear it again when the queue moves."""
    heard: list[tuple[int, int]] = []
    queue = JobQueue(1)
    first = Gate([], "1")
    queue.submit("g", 1, first)

    def listener(job: int):
        async def on_position(position: int, eta: float | None) -> None:
            heard.append((job, position))

        return on_position

    queue.submit("g", 2, Gate([], "2"), on_position=listener(2))
    queue.submit("g", 3, Gate([], "3"), on_position=listener(3))
    await settle()
    assert queue.place(3) is not None and queue.place(3).position == 2  # type: ignore[union-attr]
    first.opened.set()
    await settle()
    assert (3, 1) in heard
    assert queue.place(2).position == 0  # type: ignore[union-attr]
    await queue.close()


async def test_eta_comes_from_recent_durations() -> None:
    """After jobs of 10 s, a job second in line is expected in about 30 s."""
    now = [0.0]
    queue = JobQueue(1, clock=lambda: now[0])
    for job in range(2):
        gate = Gate([], str(job))
        done = queue.submit("g", job, gate)
        await gate.started.wait()
        now[0] += 10.0
        gate.opened.set()
        await done
    assert queue.typical_duration() == 10.0
    queue.submit("g", 10, Gate([], "10"))
    queue.submit("g", 11, Gate([], "11"))
    queue.submit("g", 12, Gate([], "12"))
    await settle()
    place = queue.place(12)
    assert place is not None and place.position == 2
    assert place.eta_seconds == 30.0
    await queue.close()


async def test_eta_is_unknown_before_any_job_ended() -> None:
    """Without history the ETA is None rather than a made-up number."""
    queue = JobQueue(1)
    queue.submit("g", 1, Gate([], "1"))
    queue.submit("g", 2, Gate([], "2"))
    await settle()
    place = queue.place(2)
    assert place is not None and place.eta_seconds is None
    await queue.close()


async def test_cancel_waiting_job_never_runs_it() -> None:
    """A cancelled waiting job never starts, and its future is cancelled."""
    log: list[str] = []
    queue = JobQueue(1)
    first = Gate(log, "1")
    queue.submit("g", 1, first)
    waiting = queue.submit("g", 2, Gate(log, "2"))
    assert queue.cancel(2)
    first.opened.set()
    await settle()
    assert waiting.cancelled()
    assert log == ["start 1", "end 1"]
    await queue.close()


async def test_cancel_running_job_cancels_its_task() -> None:
    """Cancelling a running job raises CancelledError inside it and frees the slot."""
    log: list[str] = []
    queue = JobQueue(1)
    first = Gate(log, "1")
    done = queue.submit("g", 1, first)
    second = Gate(log, "2")
    queue.submit("g", 2, second)
    await first.started.wait()
    assert queue.cancel(1)
    await second.started.wait()
    assert done.cancelled()
    assert "end 1" not in log
    await queue.close()


async def test_cancel_unknown_job_is_false() -> None:
    """Cancelling a job that is not queued says so."""
    assert not JobQueue(1).cancel(99)


async def test_duplicate_job_id_is_refused() -> None:
    """The same job cannot be queued twice."""
    queue = JobQueue(1)
    queue.submit("g", 1, Gate([], "1"))
    with pytest.raises(ValueError, match="already queued"):
        queue.submit("g", 1, Gate([], "1"))
    await queue.close()


async def test_close_lets_a_finishing_job_end_and_starts_nothing_new() -> None:
    """Closing waits for a job it was told to let finish; the job waiting behind it never
    starts, and the other running job is cancelled at once."""
    log: list[str] = []
    queue = JobQueue(2)
    finishing, other, waiting = Gate(log, "finishing"), Gate(log, "other"), Gate(log, "waiting")
    queue.submit("guild", 1, finishing)
    queue.submit("guild", 2, other)
    queue.submit("guild", 3, waiting)
    await finishing.started.wait()
    await other.started.wait()
    closing = asyncio.create_task(queue.close(finish={1}, grace=60))
    await settle()
    finishing.opened.set()
    await closing
    assert log == ["start finishing", "start other", "end finishing"]


async def test_close_cancels_a_finishing_job_once_its_grace_has_passed() -> None:
    """A job let finish that does not end within the grace is cancelled."""
    log: list[str] = []
    queue = JobQueue(1)
    stuck = Gate(log, "stuck")
    queue.submit("guild", 1, stuck)
    await stuck.started.wait()
    await queue.close(finish={1}, grace=0.01)
    assert log == ["start stuck"] and queue.place(1) is None
