"""Measuring the benchmark's own process while it runs: a task started when a `with` block
begins and stopped when it ends."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from typing import Self


class WhileInside(ABC):
    """Runs `_run()` as a task for as long as the `async with` block lasts."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @abstractmethod
    async def _run(self) -> None:
        """What is done, in a loop, until the block ends."""
