"""Progress coalescing: a burst of job states becomes at most one visible update per interval.

Discord allows about five edits per five seconds per message, and a generation
streams a state every second or faster. The coalescer keeps only the latest
state, publishes it when the interval has passed and its visible text changed,
and always publishes the final state, after any publish still in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

State = TypeVar("State")

Sleep = Callable[[float], Awaitable[None]]


class ProgressCoalescer(Generic[State]):
    """Publishes the latest state at most once per `interval`, and only when its text changes."""

    def __init__(
        self,
        publish: Callable[[State], Awaitable[None]],
        render: Callable[[State], str],
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._publish = publish
        self._render = render
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._latest: State | None = None
        self._published_text: str | None = None
        self._last_publish_at: float | None = None
        self._dirty = asyncio.Event()
        self._finished = False
        self._worker: asyncio.Task[None] | None = None
        self._in_flight: asyncio.Future[None] | None = None
        # One publish at a time, in the order they were asked for: edits never overtake.
        self._publishing = asyncio.Lock()
        self.published = 0

    @property
    def latest(self) -> State | None:
        """The last state recorded."""
        return self._latest

    def update(self, state: State) -> None:
        """Record `state` as the latest; it is shown when the interval allows. Never blocks."""
        if self._finished:
            return
        self._latest = state
        self._dirty.set()
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="progress-coalescer")

    async def publish_now(self, state: State) -> None:
        """Publish `state` now, whatever the interval, and go on coalescing after it."""
        if self._finished:
            return
        self._latest = state
        await self._publish_if_changed(state)

    async def finish(self, state: State) -> None:
        """Publish `state` as the final one: waits for a publish in flight, never drops it."""
        await self.close()
        await self._publish_if_changed(state)

    async def close(self) -> None:
        """Stop publishing progress; a publish already in flight completes first."""
        self._finished = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._in_flight is not None:
            with contextlib.suppress(Exception):
                await self._in_flight

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            if self._last_publish_at is not None:
                wait = self._last_publish_at + self._interval - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            self._dirty.clear()
            state = self._latest
            if state is not None:
                # Shielded so a finish() arriving mid-edit waits for it instead of
                # cancelling it halfway, which could reorder edits on Discord's side.
                self._in_flight = asyncio.ensure_future(self._publish_if_changed(state))
                try:
                    await asyncio.shield(self._in_flight)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("A progress update could not be shown")

    async def _publish_if_changed(self, state: State) -> None:
        async with self._publishing:
            text = self._render(state)
            if text == self._published_text:
                return
            self._published_text = text
            self._last_publish_at = self._clock()
            self.published += 1
            await self._publish(state)
