"""Per-member limits on the quick Soundverse calls that are not jobs (lyrics, status checks).

Jobs are held to the quota's jobs-at-once; a quick call costs nothing or little, so without
these a member could start dozens at once. Each member may run `at_once` quick calls at a
time and start one every `cooldown` seconds. The limits are per process (quick calls are
made by the bot process that answers the interaction).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.errors import UserFacingError


class CallRefused(UserFacingError):
    """A member asked Soundverse again too soon, or with too many requests still running."""


class CallLimiter:
    """At most `at_once` quick calls per member at a time, one started every `cooldown` s."""

    def __init__(
        self, *, cooldown: float, at_once: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._cooldown = cooldown
        self._at_once = at_once
        self._clock = clock
        self._running: dict[int, int] = {}
        self._last_start: dict[int, float] = {}

    @asynccontextmanager
    async def call(self, user_id: int) -> AsyncIterator[None]:
        """Hold one of the member's quick calls for the block; `CallRefused` saying why not."""
        self._check(user_id)
        self._running[user_id] = self._running.get(user_id, 0) + 1
        self._last_start[user_id] = self._clock()
        try:
            yield
        finally:
            left = self._running[user_id] - 1
            if left:
                self._running[user_id] = left
            else:
                del self._running[user_id]
            self._forget_cooled()

    def _check(self, user_id: int) -> None:
        if self._running.get(user_id, 0) >= self._at_once:
            raise CallRefused(
                "You already have a request to Soundverse running; wait for it to finish."
            )
        since = self._clock() - self._last_start.get(user_id, float("-inf"))
        if since < self._cooldown:
            raise CallRefused(f"Slow down: try again in {self._cooldown - since:.0f} s.")

    def _forget_cooled(self) -> None:
        """Drop members whose cooldown is over, so the table holds only recent callers."""
        cutoff = self._clock() - self._cooldown
        for user_id in [u for u, at in self._last_start.items() if at < cutoff]:
            if user_id not in self._running:
                del self._last_start[user_id]
