"""The heartbeat the running bot writes, and `python -m bot health`, which judges it.

The bot writes a small JSON file every HEALTH_INTERVAL seconds and whenever its state
changes: whether it is connected to Discord's gateway (and each of its shards: connected
since when, heartbeat latency), whether its job worker takes jobs, and, once it stops, that
it stopped. `python -m bot health` (a container's HEALTHCHECK) reads that file and exits 0
only when every shard of the bot is connected, its worker takes jobs and the heartbeat is
fresh: no older than `STALE_AFTER` intervals.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

log = logging.getLogger(__name__)

# A heartbeat older than this many intervals means the bot is hung or gone.
STALE_AFTER = 3


class WorkerState(StrEnum):
    """The job worker, as the bot sees it."""

    INLINE = "inline"  # jobs run in the bot's own process
    READY = "ready"  # the worker process takes jobs
    SHARED = "shared"  # jobs go to the shared workers, on any hosts (JOBS_WORKER=shared)
    DOWN = "down"  # starting, restarting, or stopped


@dataclass(frozen=True, slots=True)
class ShardState:
    """One gateway shard of the bot as it is now: connected (READY or RESUMED, and not
    disconnected since), and its heartbeat latency in milliseconds (None before the first
    acknowledged heartbeat, or while disconnected)."""

    id: int
    connected: bool
    latency_ms: float | None


@dataclass(frozen=True, slots=True)
class ShardBeat:
    """A shard in a heartbeat: its state, and since when it has been (dis)connected."""

    id: int
    connected: bool
    latency_ms: float | None
    since: float


@dataclass(frozen=True, slots=True)
class Beat:
    """One heartbeat: what the bot was doing at `at` (seconds since the epoch)."""

    at: float
    every: float
    discord: bool  # every shard of this process connected
    worker: WorkerState
    since: float  # when `discord` or `worker` last changed
    stopped: bool
    pid: int
    version: str
    shards: tuple[ShardBeat, ...] = ()

    def same_state(self, other: Beat | None) -> bool:
        return other is not None and (self.discord, self.worker, self.stopped) == (
            other.discord,
            other.worker,
            other.stopped,
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What `python -m bot health` prints, and whether it exits 0."""

    healthy: bool
    line: str


def write_beat(path: Path, beat: Beat) -> None:
    """Replace the heartbeat file at once: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(asdict(beat)))
    partial.replace(path)


def latency_ms(seconds: float | None) -> float | None:
    """A heartbeat latency in milliseconds; None when there is none yet (discord.py says
    infinity or NaN then)."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return round(seconds * 1000, 1)


def read_beat(path: Path) -> Beat:
    """The last heartbeat; raises OSError (missing) or ValueError (unreadable)."""
    fields = json.loads(path.read_text())
    if not isinstance(fields, dict):
        raise ValueError("not a JSON object")
    try:
        shards = tuple(
            ShardBeat(
                id=int(shard["id"]),
                connected=bool(shard["connected"]),
                latency_ms=None if shard["latency_ms"] is None else float(shard["latency_ms"]),
                since=float(shard["since"]),
            )
            for shard in fields.get("shards", [])
        )
        return Beat(
            at=float(fields["at"]),
            every=float(fields["every"]),
            discord=bool(fields["discord"]),
            worker=WorkerState(fields["worker"]),
            since=float(fields["since"]),
            stopped=bool(fields["stopped"]),
            pid=int(fields["pid"]),
            version=str(fields["version"]),
            shards=shards,
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"missing or wrong field: {error}") from None


def clock_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def judge(path: Path, now: float) -> Verdict:
    """Healthy, or the one thing that is wrong, from the heartbeat at `path`."""
    try:
        beat = read_beat(path)
    except FileNotFoundError:
        return Verdict(
            False,
            f"no heartbeat at {path}: the bot is not running (or HEALTH_FILE points elsewhere)",
        )
    except (OSError, ValueError) as error:
        return Verdict(False, f"the heartbeat at {path} cannot be read: {error}")
    age = max(0.0, now - beat.at)
    if beat.stopped:
        return Verdict(False, f"the bot stopped at {clock_time(beat.at)}")
    if age > STALE_AFTER * beat.every:
        return Verdict(
            False,
            f"the last heartbeat is {age:.0f} s old (one is written every {beat.every:g} s): "
            f"the bot (pid {beat.pid}) is stuck or gone",
        )
    if not beat.discord:
        return Verdict(False, disconnected_line(beat))
    if beat.worker is WorkerState.DOWN:
        return Verdict(False, f"the job worker has not taken jobs since {clock_time(beat.since)}")
    worker = {
        WorkerState.INLINE: "jobs run in the bot",
        WorkerState.SHARED: "jobs go to the shared workers",
    }.get(beat.worker, "the worker is ready")
    line = f"ok: connected to Discord, {worker}, heartbeat {age:.0f} s old (pid {beat.pid})"
    if beat.shards:
        line += f"; {shard_latencies(beat.shards)}"
    return Verdict(True, line)


def down_shards(beat: Beat) -> list[ShardBeat]:
    """The shards of `beat` that are not connected, when some others are (else [])."""
    down = [shard for shard in beat.shards if not shard.connected]
    return down if len(down) < len(beat.shards) else []


def disconnected_line(beat: Beat) -> str:
    """What is not connected, and since when: the bot, or the shards that are down."""
    down = down_shards(beat)
    if not down:
        return f"not connected to Discord since {clock_time(beat.since)}"
    each = ", ".join(f"{shard.id} since {clock_time(shard.since)}" for shard in down)
    running = ", ".join(str(shard.id) for shard in beat.shards)
    return (
        f"not connected to Discord on {plural('shard', len(down))} {each} "
        f"(this process runs shards {running})"
    )


def shard_latencies(shards: Sequence[ShardBeat]) -> str:
    """`shards 0 (41 ms), 1 (39 ms)`: each shard's heartbeat latency."""
    each = ", ".join(
        f"{shard.id} ({'–' if shard.latency_ms is None else f'{shard.latency_ms:.0f} ms'})"
        for shard in shards
    )
    return f"{plural('shard', len(shards))} {each}"


def plural(word: str, count: int) -> str:
    return word if count == 1 else f"{word}s"


def summary(beat: Beat) -> str:
    """The state of `beat` in a few words, for the log."""
    if beat.stopped:
        return "stopped"
    if not beat.discord:
        down = down_shards(beat)
        if down:
            ids = ", ".join(str(shard.id) for shard in down)
            return f"not connected to Discord on {plural('shard', len(down))} {ids}"
        return "not connected to Discord"
    if beat.worker is WorkerState.DOWN:
        return "connected to Discord, but the job worker is not taking jobs"
    return "ok: connected to Discord and taking jobs"


class HeartbeatWriter:
    """Writes the heartbeat every `every` seconds, at once after `poke()`, and a last one
    saying the bot stopped on `stop()`. `state()` gives (connected to Discord, worker);
    `shards()`, if given, the state of each gateway shard."""

    def __init__(
        self,
        path: Path,
        every: float,
        state: Callable[[], tuple[bool, WorkerState]],
        *,
        version: str,
        clock: Callable[[], float] = time.time,
        shards: Callable[[], Sequence[ShardState]] = tuple,
    ) -> None:
        self.path = path
        self.every = every
        self._state = state
        self._shards = shards
        self._version = version
        self._clock = clock
        self._wake = asyncio.Event()
        self._last: Beat | None = None
        self._failing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="heartbeat")

    def poke(self) -> None:
        """The state changed: write a heartbeat now."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop beating and leave a heartbeat that says the bot stopped."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        await self.write(stopped=True)

    async def _run(self) -> None:
        while True:
            await self.write(stopped=False)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.every):
                    await self._wake.wait()
            self._wake.clear()

    async def write(self, *, stopped: bool) -> None:
        """Write one heartbeat of the state now."""
        discord, worker = self._state()
        now = self._clock()
        last = self._last
        beat = Beat(
            at=now,
            every=self.every,
            discord=discord,
            worker=worker,
            since=now,
            stopped=stopped,
            pid=os.getpid(),
            version=self._version,
            shards=shard_beats(self._shards(), last, now),
        )
        if last is not None and beat.same_state(last):
            beat = replace(beat, since=last.since)
        try:
            await asyncio.to_thread(write_beat, self.path, beat)
        except OSError as error:
            if not self._failing:  # once, until a write works again
                log.warning("Cannot write the heartbeat to %s: %s", self.path, error)
            self._failing = True
        else:
            self._failing = False
        if last is None or summary(beat) != summary(last):
            log.info("Health: %s", summary(beat))
        self._last = beat


def shard_beats(
    shards: Sequence[ShardState], last: Beat | None, now: float
) -> tuple[ShardBeat, ...]:
    """`shards` as they go in a heartbeat: each keeps the time of its last change."""
    before = {shard.id: shard for shard in last.shards} if last is not None else {}
    beats = []
    for shard in shards:
        previous = before.get(shard.id)
        kept = previous is not None and previous.connected == shard.connected
        since = previous.since if previous is not None and kept else now
        beats.append(ShardBeat(shard.id, shard.connected, shard.latency_ms, since))
    return tuple(beats)
