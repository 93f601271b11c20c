"""The per-guild job queue: a fixed number of jobs run at once per guild, the rest wait in order.

Waiting jobs learn their position and an ETA estimated from recent job durations;
any job, waiting or running, can be cancelled by its id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

PositionListener = Callable[[int, float | None], Coroutine[Any, Any, None]]


@dataclass(eq=False)
class _Entry:
    job_id: int
    group: Hashable
    run: Callable[[], Awaitable[None]]
    on_position: PositionListener | None
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class QueuePlace:
    """Where a job stands: `position` 0 is running, 1 is next, and so on."""

    position: int
    eta_seconds: float | None


class JobQueue:
    """Runs at most `concurrency` jobs per group (a guild, or a user in DMs) at a time."""

    def __init__(
        self,
        concurrency: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        history: int = 20,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._concurrency = concurrency
        self._clock = clock
        self._waiting: dict[Hashable, deque[_Entry]] = {}
        self._running: dict[Hashable, set[_Entry]] = {}
        self._entries: dict[int, _Entry] = {}
        self._durations: deque[float] = deque(maxlen=history)
        self._announcements: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    def submit(
        self,
        group: Hashable,
        job_id: int,
        run: Callable[[], Awaitable[None]],
        *,
        on_position: PositionListener | None = None,
    ) -> asyncio.Future[None]:
        """Queue `run` for `group`; the returned future resolves when the job has ended."""
        if job_id in self._entries:
            raise ValueError(f"job {job_id} is already queued")
        entry = _Entry(job_id, group, run, on_position)
        self._entries[job_id] = entry
        self._idle.clear()
        self._waiting.setdefault(group, deque()).append(entry)
        self._start_what_fits(group)
        self._announce_positions(group)
        return entry.done

    def place(self, job_id: int) -> QueuePlace | None:
        """The job's place, or None when it is not in the queue (ended or unknown)."""
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        if entry.task is not None:
            return QueuePlace(0, self._eta(0))
        position = self._waiting[entry.group].index(entry) + 1
        return QueuePlace(position, self._eta(position))

    def typical_duration(self) -> float | None:
        """The median of recent job durations, or None before any job has ended."""
        return statistics.median(self._durations) if self._durations else None

    def running_count(self, group: Hashable) -> int:
        return len(self._running.get(group, ()))

    def waiting_count(self, group: Hashable) -> int:
        return len(self._waiting.get(group, ()))

    def cancel(self, job_id: int) -> bool:
        """Cancel a waiting or running job; False when it is not in the queue."""
        entry = self._entries.get(job_id)
        if entry is None:
            return False
        if entry.task is not None:
            entry.task.cancel()
            return True
        self._waiting[entry.group].remove(entry)
        self._forget(entry)
        entry.done.cancel()
        self._announce_positions(entry.group)
        return True

    async def close(self, *, finish: Collection[int] = (), grace: float = 0.0) -> None:
        """Stop: nothing new starts; the running jobs in `finish` get up to `grace` seconds to
        end on their own; every other job is cancelled, and so are those once it has passed.
        Returns when every running job has stopped."""
        self._closed = True
        for entry in list(self._entries.values()):
            if entry.task is None or entry.job_id not in finish:
                self.cancel(entry.job_id)
        finishing = [
            entry.task
            for entry in self._entries.values()
            if entry.task is not None and entry.job_id in finish
        ]
        if finishing and grace > 0:
            await asyncio.wait(finishing, timeout=grace)
        for entry in list(self._entries.values()):
            self.cancel(entry.job_id)
        running = [entry.task for entry in self._entries.values() if entry.task is not None]
        for task in running:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _eta(self, position: int) -> float | None:
        """Seconds until a job at `position` is likely done."""
        typical = self.typical_duration()
        if typical is None:
            return None
        rounds_ahead = math.ceil(position / self._concurrency)
        return (rounds_ahead + 1) * typical if position else typical

    def _start_what_fits(self, group: Hashable) -> None:
        if self._closed:
            return
        running = self._running.setdefault(group, set())
        waiting = self._waiting.get(group)
        while waiting and len(running) < self._concurrency:
            entry = waiting.popleft()
            running.add(entry)
            entry.task = asyncio.create_task(self._execute(entry), name=f"job-{entry.job_id}")

    async def _execute(self, entry: _Entry) -> None:
        started = self._clock()
        try:
            await entry.run()
        except asyncio.CancelledError:
            if not entry.done.done():
                entry.done.cancel()
        except Exception as error:
            log.exception("Job %s ended with an error", entry.job_id)
            if not entry.done.done():
                entry.done.set_exception(error)
        else:
            self._durations.append(self._clock() - started)
            if not entry.done.done():
                entry.done.set_result(None)
        finally:
            self._running[entry.group].discard(entry)
            self._forget(entry)
            self._start_what_fits(entry.group)
            self._announce_positions(entry.group)

    def is_idle(self) -> bool:
        """No job is waiting or running."""
        return self._idle.is_set()

    async def wait_until_idle(self) -> None:
        """Return once no job is waiting or running."""
        await self._idle.wait()

    def _forget(self, entry: _Entry) -> None:
        self._entries.pop(entry.job_id, None)
        if not self._entries:
            self._idle.set()
        if not self._running.get(entry.group) and not self._waiting.get(entry.group):
            self._running.pop(entry.group, None)
            self._waiting.pop(entry.group, None)

    def _announce_positions(self, group: Hashable) -> None:
        for position, entry in enumerate(self._waiting.get(group, ()), start=1):
            if entry.on_position is not None:
                task = asyncio.create_task(
                    entry.on_position(position, self._eta(position)),
                    name=f"job-{entry.job_id}-position",
                )
                self._announcements.add(task)
                task.add_done_callback(self._announcements.discard)
