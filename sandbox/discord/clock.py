"""The local Discord's notion of time, which tests can move forward instead of sleeping."""

from __future__ import annotations

import time


class Clock:
    """Seconds on a monotonic scale: real time plus whatever tests added with `advance`."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
