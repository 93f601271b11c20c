"""A bot under test as its own process: started with environment variables, read from /proc.

The bot runs in a temporary directory (so no `.env` is read) and prints "Ready as" once
connected; lines starting with "TIMING " on its stdout are JSON stamps for the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _stack import API_KEY, BOT_TOKEN, ProbedDiscord

REPOSITORY = Path(__file__).resolve().parent.parent
READY_MARKER = "Ready as"
TIMING_PREFIX = "TIMING "
# Big enough that neither the guild queue nor quota ever holds a benchmark job back.
UNLIMITED = "100000000"


@dataclass(frozen=True)
class Memory:
    """Resident memory of a process, in bytes: now, and the peak since it started."""

    rss: int
    peak: int


def bot_environment(discord: ProbedDiscord, soundverse_url: str, data_dir: Path) -> dict[str, str]:
    """Every setting the bot needs to run against the stand-ins, and nothing inherited."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "PYTHONPATH": str(REPOSITORY),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DISCORD_TOKEN": BOT_TOKEN,
        "DISCORD_API_BASE": discord.local.api_base,
        "DISCORD_GATEWAY_URL": discord.local.gateway_url,
        "SOUNDVERSE_API_KEY": API_KEY,
        "SOUNDVERSE_BASE_URL": soundverse_url,
        "STORAGE_PATH": str(data_dir / "bot.db"),
        "AUDIO_DIRECTORY": str(data_dir / "audio"),
        "QUOTA_UNITS_PER_PERIOD": UNLIMITED,
        "QUOTA_MEMBER_CAP": UNLIMITED,
        "QUOTA_MEMBER_CONCURRENT": UNLIMITED,
        "JOBS_GUILD_CONCURRENCY": UNLIMITED,
        "LOG_LEVEL": "INFO",
    }


def read_memory(pid: int) -> Memory:
    """VmRSS and VmHWM of `pid` from /proc/<pid>/status."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return Memory(rss=fields["VmRSS"], peak=fields["VmHWM"])


def children(pid: int) -> list[int]:
    """The direct child processes of `pid` (the bot's job worker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def tree_memory(pid: int) -> Memory:
    """`pid` and its children together: RSS summed; peak as the sum of each one's peak (an
    upper bound, as their peaks need not coincide)."""
    total = read_memory(pid)
    for child in children(pid):
        with contextlib.suppress(OSError):
            memory = read_memory(child)
            total = Memory(rss=total.rss + memory.rss, peak=total.peak + memory.peak)
    return total


class SoundverseProcess:
    """The local Soundverse in its own process (`python -m sandbox.soundverse`), so that its
    streams, files and album-art threads do not share the harness's interpreter.

    It stands in for a remote service, which uses none of the bot machine's CPU; here it
    shares two cores with the bot, so it runs at the lowest priority (SCHED_IDLE), as the
    bot's own job worker does.
    """

    def __init__(self, time_scale: float, api_key: str) -> None:
        self.time_scale = time_scale
        self.api_key = api_key
        self.url = ""
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the local Soundverse is not running")
        return self._process.pid

    async def start(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import os, runpy; os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0)); "
            "runpy.run_module('sandbox.soundverse', run_name='__main__')",
            "--port",
            "0",
            "--time-scale",
            str(self.time_scale),
            "--api-key",
            self.api_key,
            cwd=REPOSITORY,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        async with asyncio.timeout(timeout):
            line = (await self._process.stdout.readline()).decode()
        if " at " not in line:
            await self.stop()
            raise RuntimeError(f"the local Soundverse did not start: {line!r}")
        self.url = line.split(" at ", 1)[1].split()[0]

    async def stop(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.wait()
        self._process = None


class BotProcess:
    """One bot subprocess: `python <args>` with `environment`, in `data_dir`; ready once it
    prints `ready_marker` (a shared job worker says so in its own words)."""

    def __init__(
        self,
        args: Sequence[str],
        environment: dict[str, str],
        data_dir: Path,
        ready_marker: str = READY_MARKER,
    ) -> None:
        self.args = [sys.executable, *args]
        self.ready_marker = ready_marker
        self.environment = environment
        self.data_dir = data_dir
        self.timings: list[dict[str, Any]] = []
        self._process: asyncio.subprocess.Process | None = None
        self._ready = asyncio.Event()
        self._tail: deque[str] = deque(maxlen=40)
        self._readers: list[asyncio.Task[None]] = []

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the bot is not running")
        return self._process.pid

    def memory(self) -> Memory:
        """The bot's memory with its job worker's."""
        return tree_memory(self.pid)

    async def start(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Start the process and return once it printed its ready line."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            *self.args,
            cwd=self.data_dir,
            env=self.environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(self._process.stdout)),
            asyncio.create_task(self._read(self._process.stderr)),
        ]
        ready = asyncio.create_task(self._ready.wait())
        exited = asyncio.create_task(self._process.wait())
        await asyncio.wait({ready, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        exited.cancel()
        if not self._ready.is_set():
            await self.stop()
            raise RuntimeError(f"{' '.join(self.args[1:])} never got ready:\n" + self.output())

    def output(self) -> str:
        """The last lines the process printed, for error messages."""
        return "\n".join(self._tail)

    async def stop(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """SIGTERM, as an operator would stop it; SIGKILL if it does not stop in time."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                process.kill()
                await process.wait()
        for reader in self._readers:
            reader.cancel()
        self._process = None

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            if text.startswith(TIMING_PREFIX):
                self.timings.append(json.loads(text[len(TIMING_PREFIX) :]))
                continue
            self._tail.append(text)
            if self.ready_marker in text:
                self._ready.set()
