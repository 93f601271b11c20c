"""The progress coalescer: rate, changed text only, and the final state never dropped."""

from __future__ import annotations

import asyncio

from bot.jobs.coalescer import ProgressCoalescer


class FakeTime:
    """A clock whose sleep advances it at once, so interval logic runs without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def make(published: list[str], time_: FakeTime) -> ProgressCoalescer[str]:
    async def publish(state: str) -> None:
        published.append(state)

    return ProgressCoalescer(
        publish,
        lambda state: state.split("#")[0],
        interval=2.0,
        clock=time_.clock,
        sleep=time_.sleep,
    )


async def drain() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_first_update_is_published_at_once() -> None:
    """The first state is shown without waiting for an interval."""
    published: list[str] = []
    time_ = FakeTime()
    coalescer = make(published, time_)
    coalescer.update("10%")
    await drain()
    assert published == ["10%"]
    assert time_.slept == []
    await coalescer.close()


async def test_burst_inside_interval_shows_only_latest() -> None:
    """Many states within one interval become one publish of the latest state."""
    published: list[str] = []
    time_ = FakeTime()
    coalescer = make(published, time_)
    coalescer.update("10%")
    await drain()
    for percent in range(11, 40):
        coalescer.update(f"{percent}%")
    await drain()
    assert published == ["10%", "39%"]
    assert time_.slept == [2.0]
    await coalescer.close()


async def test_unchanged_text_is_not_published() -> None:
    """A state whose visible text equals the last published one is skipped."""
    published: list[str] = []
    time_ = FakeTime()
    coalescer = make(published, time_)
    coalescer.update("50%#a")
    await drain()
    coalescer.update("50%#b")
    await drain()
    assert published == ["50%#a"]
    await coalescer.close()


async def test_final_state_is_published_even_inside_interval() -> None:
    """finish() publishes the final state immediately, whatever the interval says."""
    published: list[str] = []
    time_ = FakeTime()
    coalescer = make(published, time_)
    coalescer.update("10%")
    await drain()
    await coalescer.finish("done")
    assert published == ["10%", "done"]


async def test_final_waits_for_publish_in_flight() -> None:
    """A publish in progress completes before the final one starts, so order holds."""
    order: list[str] = []
    gate = asyncio.Event()
    time_ = FakeTime()

    async def publish(state: str) -> None:
        order.append(f"start {state}")
        if state == "10%":
            await gate.wait()
        order.append(f"end {state}")

    coalescer = ProgressCoalescer(publish, str, interval=2.0, clock=time_.clock, sleep=time_.sleep)
    coalescer.update("10%")
    await drain()
    finishing = asyncio.create_task(coalescer.finish("done"))
    await drain()
    gate.set()
    await finishing
    assert order == ["start 10%", "end 10%", "start done", "end done"]


async def test_updates_after_finish_are_ignored() -> None:
    """Nothing is published after the final state."""
    published: list[str] = []
    time_ = FakeTime()
    coalescer = make(published, time_)
    await coalescer.finish("done")
    coalescer.update("late")
    await drain()
    assert published == ["done"]


async def test_failing_publish_does_not_stop_later_updates() -> None:
    """An error while showing one update is logged and the next update is still shown."""
    published: list[str] = []
    time_ = FakeTime()

    async def publish(state: str) -> None:
        if state == "10%":
            raise RuntimeError("edit failed")
        published.append(state)

    coalescer = ProgressCoalescer(publish, str, interval=2.0, clock=time_.clock, sleep=time_.sleep)
    coalescer.update("10%")
    await drain()
    coalescer.update("20%")
    await drain()
    assert published == ["20%"]
    await coalescer.close()
