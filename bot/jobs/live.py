"""A running job's card never sits still: the latest view, shown again with the time elapsed.

Soundverse may go quiet for a minute (a stalled stream), and delivery may take a while (four
WAV stems re-encoded to fit the upload limit). `LiveView` keeps the latest view of a running
job, adds the time elapsed and an estimate of the time left, and shows it again every
`refresh` seconds, so the card changes at least that often while its job lives; after
`refresh` seconds without news from Soundverse it says so. Edits still go through the
coalescer, so the card stays within Discord's edit budget.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.jobs.coalescer import ProgressCoalescer
from bot.jobs.models import JobView

# Stages in which news is expected from Soundverse (not ours: queued, delivering).
SOUNDVERSE_STAGES = frozenset(
    {"submitting", "initializing", "validated", "streaming", "uploading", "completed"}
)


def time_left(view: JobView, elapsed: float, typical: float | None) -> float | None:
    """Seconds left: from the progress percentage once there is one, else from how long jobs
    usually take; None when neither says (and while the files are prepared)."""
    if view.stage == "delivering":
        return None
    percent = view.progress
    if percent is not None and 5 <= percent < 100:
        return elapsed * (100 - percent) / percent
    if typical is not None:
        return max(0.0, typical - elapsed)
    return None


class LiveView:
    """The latest view of one running job, kept fresh on its card."""

    def __init__(
        self,
        coalescer: ProgressCoalescer[JobView],
        *,
        refresh: float,
        started_at: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        typical: Callable[[], float | None],
    ) -> None:
        self._coalescer = coalescer
        self._refresh = refresh
        self._started_at = started_at
        self._clock = clock
        self._sleep = sleep
        self._typical = typical
        self._latest: JobView | None = None
        self._news_at = started_at
        self._ticker: asyncio.Task[None] | None = None

    def show(self, view: JobView) -> None:
        """News of the job: show `view` (with the time elapsed and left)."""
        self._news_at = self._clock()
        self._latest = replace(view, quiet_seconds=None)
        self._publish()
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick(), name="job-card-refresh")

    async def show_now(self, view: JobView) -> None:
        """`show`, on the card before this returns (a publish in flight lands first)."""
        self.show(view)
        latest = self._coalescer.latest
        if latest is not None:
            await self._coalescer.publish_now(latest)

    def detail(self, text: str) -> None:
        """Say what is being done now, in the current stage ("Downloading take 2 of 4")."""
        if self._latest is not None:
            self.show(replace(self._latest, detail=text))

    async def close(self) -> None:
        """Stop refreshing, and stop the coalescer (a publish in flight completes first)."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self._coalescer.close()

    def _publish(self) -> None:
        view = self._latest
        if view is None:
            return
        elapsed = self._clock() - self._started_at
        quiet = self._clock() - self._news_at
        self._coalescer.update(
            replace(
                view,
                # Whole refresh periods: the card changes once a period, not at every state.
                elapsed_seconds=elapsed - elapsed % self._refresh,
                eta_seconds=time_left(view, elapsed, self._typical()),
                quiet_seconds=(
                    quiet - quiet % self._refresh
                    if view.stage in SOUNDVERSE_STAGES and quiet >= self._refresh
                    else None
                ),
            )
        )

    async def _tick(self) -> None:
        while True:
            await self._sleep(self._refresh)
            self._publish()
