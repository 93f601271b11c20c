"""One run of `python -m sandbox`: start the stack, run a script or read the member's lines, stop.

Lines are read in a daemon thread so the event loop keeps serving the bot while the member
types; Ctrl-C, SIGTERM, `quit` and the end of input all stop the stack the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import asyncpg

from bot.config import Settings
from bot.redaction import RedactingFormatter
from bot.storage.clock import ShiftedClock
from sandbox.console.actions import Console, StepFailed, cancel_requested
from sandbox.console.lines import LineError
from sandbox.console.view import Screen
from sandbox.discord import Rules
from sandbox.postgres import PostgresServer, PostgresUnavailable
from sandbox.stack import SandboxStack, ShardBots, ShardPlan, SharedWorkers, shared_jobs

# Files a previous run left in the data folder. They are removed at start: every run has a
# new local Discord (new ids), so an old database would only resume jobs nobody can see, and
# an old command-sync stamp would stop the bot from registering its commands.
STALE_DATA = ("bot.db", "bot.db-wal", "bot.db-shm", "command-sync.json")
INTERRUPTED = 130
WORKER_LEASE = 3.0
"""How long a shared worker holds a job between heartbeats here: a killed worker's job is
taken over within seconds (the bot's default is 30 s)."""


@dataclass(frozen=True)
class SessionOptions:
    output: Path
    script: Path | None = None
    time_scale: float = 0.2
    timeout: float = 60.0
    quiet: bool = False
    postgres: bool = False
    workers: int = 0
    """Shared job worker processes; 0 runs jobs on the bot's own loop."""
    shards: int = 1
    """Bot processes, one shard each; more than 1 needs `workers`."""


def fresh_data_dir(output: Path) -> Path:
    """`<output>/data`, emptied of what an earlier run of the sandbox left there."""
    data_dir = output / "data"
    for name in STALE_DATA:
        (data_dir / name).unlink(missing_ok=True)
    shutil.rmtree(data_dir / "audio", ignore_errors=True)
    return data_dir


def clear_saved_files(output: Path) -> None:
    """Removes `<output>/attachments`, `<output>/voice` and `<output>/processes`: the files
    and the other processes' logs an earlier run saved."""
    for folder in ("attachments", "voice", "processes"):
        shutil.rmtree(output / folder, ignore_errors=True)


def configure_logging(log_file: Path) -> None:
    """The bot's and discord.py's logs go to a file, rewritten each run, so the console shows
    only the member's view."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)


def banner(
    stack: SandboxStack,
    output: Path,
    log_file: Path,
    database: str,
    workers: SharedWorkers | None = None,
    shards: ShardPlan | None = None,
) -> str:
    lines = [
        "Soundverse sandbox: the real bot, a local Discord and a local Soundverse.",
        f"  files the bot posts: {output / 'attachments'} (fresh each run)",
        f"  voice heard (hear):  {output / 'voice'} (fresh each run)",
        f"  database:            {database} (fresh each run)",
        f"  log:                 {log_file} (fresh each run)",
        f"  local Discord:       {stack.discord.api_base}",
        f"  local Soundverse:    {stack.soundverse.url}",
    ]
    if shards is not None:
        lines.append(
            f"  shards:              {shards.count} bot processes, one shard each; #general's "
            f"server is on shard {shards.own}, this process's"
        )
    if workers is not None:
        pids = ", ".join(str(process.pid) for process in workers.processes)
        lines.append(
            f"  job workers:         {len(workers.processes)} shared (pids {pids}); "
            "`kill-worker` kills the one holding a job"
        )
    if shards is not None or workers is not None:
        folder = workers.folder if workers is not None else output / "processes"
        lines.append(f"  their logs:          {folder} (fresh each run)")
    lines.append("You are alice in #general. Type /about, `help` for the console commands, `quit`.")
    return "\n".join(lines)


async def run_session(options: SessionOptions, stdout: TextIO = sys.stdout) -> int:
    """Runs the sandbox; returns the exit code (1 when a script step failed)."""
    output = options.output.resolve()
    log_file = output / "sandbox.log"
    configure_logging(log_file)
    clear_saved_files(output)
    # Real time that `clock +1d` moves ahead, so a contest's deadlines pass on request.
    clock = ShiftedClock()
    data_dir = fresh_data_dir(output)
    database = str(data_dir / "bot.db")
    server: PostgresServer | None = None
    tweak = None
    if options.postgres:
        try:
            server = await asyncio.to_thread(PostgresServer.start)
            database = await _postgres_database(server)
        except (PostgresUnavailable, OSError, subprocess.CalledProcessError) as error:
            if server is not None:
                await asyncio.to_thread(server.stop)
            print(f"✗ no PostgreSQL server for the sandbox: {error}", file=stdout)
            return 1
        tweak = _storage_at(database)
    scale = ScaleOut(options, tweak, output / "processes")
    stack = SandboxStack(
        data_dir,
        time_scale=options.time_scale,
        bot_options={"storage_clock": clock},
        **scale.stack_options(),
    )
    interactive = options.script is None
    live = interactive and stdout.isatty() and sys.stdin.isatty()
    screen = Screen(stdout, live=live, quiet=options.quiet)
    console = Console(
        stack, screen, output, timeout=options.timeout, clock=clock, workers=scale.workers
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        try:
            await stack.start()
            await scale.start(stack)
        except Exception as error:
            logging.getLogger(__name__).exception("The sandbox could not start")
            screen.note(f"✗ the sandbox could not start: {error} (details in {log_file})")
            return 1
        if not options.quiet:
            screen.note(banner(stack, output, log_file, database, scale.workers, scale.shards))
        watcher = asyncio.create_task(console.watch(), name="console-watch")
        try:
            return await _until_stopped(_work(console, options, live), stop)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    finally:
        await scale.stop()
        await stack.stop()
        if server is not None:
            await asyncio.to_thread(server.stop)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _postgres_database(server: PostgresServer) -> str:
    """A new database on `server` for this run; its URL."""
    connection = await asyncpg.connect(server.url())
    try:
        await connection.execute("CREATE DATABASE sandbox")
    finally:
        await connection.close()
    return server.url("sandbox")


class ScaleOut:
    """What `--shards` and `--workers` add to the bot: other bot processes, one shard each,
    and shared job workers, all with the bot's storage."""

    def __init__(
        self, options: SessionOptions, storage: Callable[[Settings], None] | None, folder: Path
    ) -> None:
        self.options = options
        self.storage = storage
        self.shards = ShardPlan(options.shards) if options.shards > 1 else None
        self.shard_bots = ShardBots(folder)
        self.workers = SharedWorkers(folder) if options.workers else None

    def stack_options(self) -> dict[str, Any]:
        """The `SandboxStack` options for the bot of this run."""
        if self.shards is None:
            return {"tweak": self.tweak(None)}
        return {
            "tweak": self.tweak(self.shards.tweak),
            "rules": Rules(max_concurrency=self.shards.count),
            "prepare": self.shards.prepare,
        }

    def tweak(self, *more: Callable[[Settings], None] | None) -> Callable[[Settings], None]:
        """A bot's settings: the storage, `more` (its shard, say), and the jobs in shared
        workers when there are any."""
        chosen = [each for each in (self.storage, *more) if each is not None]

        def tweak(settings: Settings) -> None:
            for each in chosen:
                each(settings)

        return shared_jobs(WORKER_LEASE, tweak) if self.workers is not None else tweak

    async def start(self, stack: SandboxStack) -> None:
        """Once the bot is ready: the other shards' bots (with the bot's database and audio
        folder, SQLite's file too), then the workers."""
        if self.shards is not None:
            for shard, other in zip(self.shards.other_shards, self.shards.others(), strict=True):
                folder = stack.data_dir / f"shard-{shard}"
                await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
                settings = stack.other_settings(
                    folder, self.tweak(other, _same_data(stack.bot.settings, folder))
                )
                await self.shard_bots.start(settings, stack.discord)
        if self.workers is not None:
            await self.workers.start(stack.bot.settings, self.options.workers)

    async def stop(self) -> None:
        """The workers stop first (SIGTERM: each gives back what it holds), then the other
        shards' bots."""
        if self.workers is not None:
            await self.workers.stop()
        await self.shard_bots.stop()


def _same_data(main: Settings, folder: Path) -> Callable[[Settings], None]:
    """Another bot process's settings: the bot's database and audio folder (SQLite's file
    too), and a heartbeat of its own in `folder`, as on a host of its own."""

    def tweak(settings: Settings) -> None:
        settings.storage.path = main.storage.path
        settings.storage.url = main.storage.url
        settings.audio.directory = main.audio.directory
        settings.health.file = folder / "heartbeat.json"

    return tweak


def _storage_at(url: str) -> Callable[[Settings], None]:
    def tweak(settings: Settings) -> None:
        settings.storage.url = url

    return tweak


async def _work(console: Console, options: SessionOptions, live: bool) -> int:
    if options.script is not None:
        lines = options.script.read_text(encoding="utf-8").splitlines()
        return await console.run_script(lines)
    await interact(console, LineReader(live, console))
    return 0


async def _until_stopped(work: Coroutine[Any, Any, int], stop: asyncio.Event) -> int:
    """The result of `work`, or `INTERRUPTED` when a signal came first."""
    task: asyncio.Task[int] = asyncio.create_task(work)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return INTERRUPTED


async def interact(console: Console, reader: LineReader) -> None:
    """Runs the member's lines until `quit` or the end of input; errors do not end it."""
    while not cancel_requested():
        line = await reader.next_line()
        if line is None:
            if reader.live:
                console.screen.note("")  # Ctrl-D leaves the cursor after the prompt
            return
        if not reader.live and line.strip():
            console.screen.note(f"> {line.strip()}")
        try:
            if not await console.run_line(line):
                return
        except (LineError, StepFailed) as error:
            console.screen.note(f"✗ {error}")


class LineReader:
    """Reads the member's lines without blocking the event loop.

    On a terminal it uses `input()` with readline (line editing, history), and lets the
    screen redraw the prompt with what was typed so far when output arrives meanwhile.
    """

    def __init__(self, live: bool, console: Console) -> None:
        self.live = live
        self.console = console
        self._typed: Callable[[], str] = _readline_buffer() if live else (lambda: "")

    async def next_line(self) -> str | None:
        """The next line, or None at the end of input."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str | None] = loop.create_future()
        prompt = self.console.prompt_text if self.live else ""

        def deliver(line: str | None) -> None:
            if not answer.done():
                answer.set_result(line)

        def read() -> None:
            line = _read_one(prompt) if self.live else (sys.stdin.readline() or None)
            loop.call_soon_threadsafe(deliver, line)

        screen = self.console.screen
        if self.live:
            screen.prompt = lambda: prompt + self._typed()
        threading.Thread(target=read, name="console-input", daemon=True).start()
        try:
            return await answer
        finally:
            screen.prompt = None
            screen.line_entered()


def _read_one(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


def _readline_buffer() -> Callable[[], str]:
    """What the member has typed on the input line so far, when readline is available."""
    try:
        import readline
    except ImportError:
        return lambda: ""
    return readline.get_line_buffer


@contextlib.contextmanager
def terminal_restored() -> Iterator[None]:
    """Puts the terminal back as it was, even if the process ends while readline holds it."""
    try:
        import termios
    except ImportError:
        yield
        return
    saved = None
    with contextlib.suppress(termios.error, OSError, ValueError):
        saved = termios.tcgetattr(sys.stdin.fileno())
    try:
        yield
    finally:
        if saved is not None:
            with contextlib.suppress(termios.error, OSError, ValueError):
                termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
