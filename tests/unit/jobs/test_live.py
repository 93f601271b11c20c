"""A running job's card keeps changing: elapsed time, time left, and Soundverse's silence."""

from __future__ import annotations

import asyncio

from bot.jobs.coalescer import ProgressCoalescer
from bot.jobs.live import LiveView, time_left
from bot.jobs.models import JobView

REFRESH = 15.0


class ManualTime:
    """A clock the test moves, and a sleep that returns only when the test lets it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.asleep = asyncio.Event()
        self._wake = asyncio.Event()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.asleep.set()
        await self._wake.wait()
        self._wake.clear()

    async def pass_time(self, seconds: float) -> None:
        """Once the ticker sleeps, move the clock and wake it."""
        await self.asleep.wait()
        self.asleep.clear()
        self.now += seconds
        self._wake.set()


class Shown:
    """The views the card would show, in order."""

    def __init__(self) -> None:
        self.views: list[JobView] = []
        self.changed = asyncio.Event()

    async def publish(self, view: JobView) -> None:
        self.views.append(view)
        self.changed.set()

    async def next(self) -> JobView:
        await self.changed.wait()
        self.changed.clear()
        return self.views[-1]


def live_view(time: ManualTime, shown: Shown, typical: float | None = None) -> LiveView:
    coalescer: ProgressCoalescer[JobView] = ProgressCoalescer(
        shown.publish, lambda view: repr(view.visible_key()), interval=0
    )
    return LiveView(
        coalescer,
        refresh=REFRESH,
        started_at=time.now,
        clock=time.clock,
        sleep=time.sleep,
        typical=lambda: typical,
    )


async def test_a_quiet_job_is_shown_again_with_its_elapsed_time() -> None:
    """With no news for one refresh period, the card shows 0:15 elapsed and the silence."""
    time, shown = ManualTime(), Shown()
    live = live_view(time, shown)
    live.show(JobView(1, "validated"))
    first = await shown.next()
    await time.pass_time(REFRESH)
    again = await shown.next()
    await live.close()
    assert (first.elapsed_seconds, first.quiet_seconds) == (0, None)
    assert (again.elapsed_seconds, again.quiet_seconds) == (15, 15)


async def test_news_clears_the_silence() -> None:
    """A new state from Soundverse drops the 'no news' note."""
    time, shown = ManualTime(), Shown()
    live = live_view(time, shown)
    live.show(JobView(1, "validated"))
    await shown.next()
    await time.pass_time(REFRESH)
    await shown.next()
    live.show(JobView(1, "streaming", 10))
    latest = await shown.next()
    await live.close()
    assert latest.quiet_seconds is None and latest.elapsed_seconds == 15


async def test_elapsed_time_moves_in_whole_refresh_periods() -> None:
    """Elapsed time is shown in steps of the refresh period, so states between don't edit."""
    time, shown = ManualTime(), Shown()
    live = live_view(time, shown)
    time.now += 20
    live.show(JobView(1, "streaming", 40))
    view = await shown.next()
    await live.close()
    assert view.elapsed_seconds == 15


async def test_a_detail_keeps_the_stage_and_says_what_is_done() -> None:
    """A delivery detail is shown within the current stage."""
    time, shown = ManualTime(), Shown()
    live = live_view(time, shown)
    live.show(JobView(1, "delivering", 100, "Rain"))
    await shown.next()
    live.detail("Re-encoding take 2 of 4 to fit the 10.0 MB limit")
    view = await shown.next()
    await live.close()
    assert (view.stage, view.song_name, view.detail) == (
        "delivering",
        "Rain",
        "Re-encoding take 2 of 4 to fit the 10.0 MB limit",
    )


async def test_delivery_is_not_silence_from_soundverse() -> None:
    """While the files are prepared, a quiet period is not blamed on Soundverse."""
    time, shown = ManualTime(), Shown()
    live = live_view(time, shown)
    live.show(JobView(1, "delivering", 100))
    await shown.next()
    await time.pass_time(REFRESH)
    view = await shown.next()
    await live.close()
    assert view.quiet_seconds is None and view.elapsed_seconds == 15


def test_time_left_follows_the_percentage() -> None:
    """At 25 % after 30 s, 90 s are left."""
    assert time_left(JobView(1, "streaming", 25), 30, typical=500) == 90


def test_time_left_before_a_percentage_comes_from_typical_jobs() -> None:
    """Without a percentage, the time left is how long jobs usually take, minus elapsed."""
    assert time_left(JobView(1, "validated"), 20, typical=50) == 30


def test_time_left_is_zero_past_the_usual_time() -> None:
    """A job past the usual time has none left: the card says it takes longer than usual."""
    assert time_left(JobView(1, "validated"), 80, typical=50) == 0


def test_time_left_is_unknown_without_history() -> None:
    """No percentage and no finished job yet: no estimate."""
    assert time_left(JobView(1, "validated"), 80, typical=None) is None
