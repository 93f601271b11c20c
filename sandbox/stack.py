"""The whole offline stack: the local Soundverse, the local Discord and the real bot, together.

Used by `python -m sandbox` and by the end-to-end tests, so both run the bot the way
production does: built by `bot.app.create_bot` from `Settings`, logged in through the
unmodified discord.py client. This is the one module of `sandbox/` that imports the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import discord
import yarl
from pydantic import HttpUrl, SecretStr

from bot.app import SoundverseBot, create_bot, worker_environment
from bot.config import (
    AudioSettings,
    CommandSync,
    DiscordSettings,
    JobSettings,
    Settings,
    SoundverseSettings,
    StorageSettings,
    WorkerMode,
    WorkerPriority,
)
from bot.storage import Database, JobRepository
from sandbox.discord import LocalDiscord
from sandbox.discord.rules import Rules
from sandbox.soundverse import SoundverseStandIn

BOT_TOKEN = "sandbox-bot-token"
API_KEY = "sandbox-key"

SettingsTweak = Callable[[Settings], None]


def sandbox_settings(
    data_dir: Path, discord_: LocalDiscord, soundverse: SoundverseStandIn
) -> Settings:
    """Settings that point the bot at the two local stand-ins, with its data in `data_dir`."""
    return Settings(
        _env_file=None,
        discord=DiscordSettings(
            token=SecretStr(BOT_TOKEN),
            sync=CommandSync.AUTO,
            api_base=HttpUrl(discord_.api_base),
            gateway_url=discord_.gateway_url,
        ),
        soundverse=SoundverseSettings(api_key=SecretStr(API_KEY), base_url=HttpUrl(soundverse.url)),
        storage=StorageSettings(path=data_dir / "bot.db"),
        audio=AudioSettings(directory=data_dir / "audio"),
        # One process: the console and the tests reach into the bot's job queue.
        jobs=JobSettings(worker=WorkerMode.INLINE),
    )


class SandboxStack:
    """Starts and stops the stand-ins and the bot; the bot can be restarted on its own, and
    other bots (other shards, say) can log in beside it."""

    def __init__(
        self,
        data_dir: Path,
        *,
        time_scale: float = 0.1,
        validate_openapi: bool = False,
        rules: Rules | None = None,
        tweak: SettingsTweak | None = None,
        bot_options: dict[str, Any] | None = None,
        prepare: Callable[[LocalDiscord], object] | None = None,
    ) -> None:
        """`prepare` shapes the local Discord's world before anything starts (guilds the bot
        finds when it logs in, for instance)."""
        self.data_dir = data_dir
        self.soundverse = SoundverseStandIn(api_keys={API_KEY}, time_scale=time_scale)
        self.discord = LocalDiscord(
            bot_token=BOT_TOKEN, validate_openapi=validate_openapi, rules=rules
        )
        if prepare is not None:
            prepare(self.discord)
        self.tweak = tweak
        self.bot_options = {"guild_ready_timeout": 0.05, **(bot_options or {})}
        self._bot: SoundverseBot | None = None
        self._bot_task: asyncio.Task[None] | None = None
        self._restarting = False
        self._others: list[tuple[SoundverseBot, asyncio.Task[None]]] = []
        self._saved_endpoints = (
            discord.http.Route.BASE,
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        )
        self.settings: Settings | None = None

    @property
    def bot(self) -> SoundverseBot:
        if self._bot is None:
            raise RuntimeError("the bot is not running")
        return self._bot

    async def start(self) -> None:
        """Start both stand-ins, then the bot; returns once the bot is ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await self.soundverse.start()
        await self.discord.start()
        await self.start_bot()

    async def start_bot(self) -> SoundverseBot:
        """Build the bot from fresh settings and log it in; returns once it is ready.

        A restart comes at once here, where an operator's takes longer than Discord's 5 s
        identify window; the local Discord lets that window pass rather than refuse it."""
        settings = sandbox_settings(self.data_dir, self.discord, self.soundverse)
        if self.tweak is not None:
            self.tweak(settings)
        self.settings = settings
        if self._restarting:
            self.discord.gateway.let_identify_window_pass()
        self._restarting = True
        bot = self._build(settings)
        self._bot = bot
        self._bot_task = asyncio.create_task(bot.start(BOT_TOKEN), name="sandbox-bot")
        await until_ready(bot, self._bot_task)
        return bot

    async def start_other_bot(
        self, data_dir: Path, tweak: SettingsTweak | None = None
    ) -> SoundverseBot:
        """Another bot beside the bot, in this process (one running other shards, say), with
        its data in `data_dir` and its settings changed by `tweak`; it stops with the stack.
        `ShardBots` starts one as a process of its own."""
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        bot = self._build(self.other_settings(data_dir, tweak))
        task = asyncio.create_task(bot.start(BOT_TOKEN), name="sandbox-other-bot")
        self._others.append((bot, task))
        await until_ready(bot, task)
        return bot

    def other_settings(self, data_dir: Path, tweak: SettingsTweak | None = None) -> Settings:
        """The settings of another bot beside the bot (in this process or its own), with its
        data in `data_dir`, changed by `tweak`."""
        settings = sandbox_settings(data_dir, self.discord, self.soundverse)
        if tweak is not None:
            tweak(settings)
        return settings

    def _build(self, settings: Settings) -> SoundverseBot:
        # The voice gateway is TLS with the local Discord's own authority: trusted here only.
        options = {
            "connector": aiohttp.TCPConnector(ssl=self.discord.voice.client_ssl_context()),
            **self.bot_options,
        }
        return create_bot(settings, **options)

    async def stop_bot(self) -> None:
        """Stop the bot the way SIGTERM does; unfinished jobs stay in its database."""
        if self._bot is not None:
            await self._bot.close()
        if self._bot_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._bot_task
        self._bot = None
        self._bot_task = None

    async def stop(self) -> None:
        """Stop the bots, then both stand-ins, and undo the redirection of discord.py."""
        try:
            for bot, task in self._others:
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._others.clear()
            await self.stop_bot()
        finally:
            await self.discord.stop()
            await self.soundverse.stop()
            discord.http.Route.BASE, gateway = self._saved_endpoints
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


async def until_ready(bot: SoundverseBot, running: asyncio.Task[None]) -> None:
    """Return once `bot` is ready; raise its error if it stopped before."""
    ready = asyncio.create_task(bot.wait_until_ready())
    await asyncio.wait({ready, running}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        running.result()  # the bot stopped before it was ready: raise its error


# --- scaled out: jobs in shared workers, the gateway split among bots ------------------------


def shared_jobs(lease: float, *tweaks: SettingsTweak) -> SettingsTweak:
    """`tweaks`, then jobs run by shared job workers (JOBS_WORKER=shared) holding each job for
    `lease` seconds between heartbeats, at normal CPU priority."""

    def tweak(settings: Settings) -> None:
        for each in tweaks:
            each(settings)
        settings.jobs.worker = WorkerMode.SHARED
        settings.jobs.worker_priority = WorkerPriority.NORMAL
        settings.jobs.lease = lease

    return tweak


@dataclass
class ShardPlan:
    """`count` bot processes, one shard each: the bot runs the shard of the local guild (where
    members ask), every other bot another shard with a guild of its own. `prepare` shapes the
    local Discord before it starts; `tweak` is the bot's settings, `others` the other bots'."""

    count: int
    own: int = field(default=0, init=False)

    def prepare(self, discord_: LocalDiscord) -> None:
        self.own = (int(discord_.guild.id) >> 22) % self.count
        for shard in self.other_shards:
            discord_.add_guild(f"Shard {shard}'s server", shard=(shard, self.count))

    @property
    def other_shards(self) -> list[int]:
        return [shard for shard in range(self.count) if shard != self.own]

    def tweak(self, settings: Settings) -> None:
        self.shard(self.own)(settings)

    def others(self) -> list[SettingsTweak]:
        return [self.shard(shard) for shard in self.other_shards]

    def shard(self, shard: int) -> SettingsTweak:
        def tweak(settings: Settings) -> None:
            settings.discord.shard_count = self.count
            settings.discord.shard_ids = [shard]

        return tweak


@dataclass(frozen=True)
class Holder:
    """A job and the pid of the shared worker holding it."""

    job_id: int
    pid: int


async def newest_holder(database: Database) -> Holder | None:
    """The newest unfinished job a shared worker holds, and that worker's pid (the middle of
    its `lease_owner`, host:pid:random); None when no worker holds one."""
    held = [job for job in await JobRepository(database).unfinished() if job.lease_owner]
    if not held:
        return None
    newest = held[-1]  # oldest first
    assert newest.lease_owner is not None
    return Holder(newest.id, int(newest.lease_owner.split(":")[1]))


async def unfinished_jobs(database: Database) -> int:
    """How many jobs are queued or running, whichever process runs them."""
    return len(await JobRepository(database).unfinished())


class _Children:
    """Processes of `python -m bot` with a bot's settings, as on other hosts; each logs to a
    file of its own in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: list[asyncio.subprocess.Process] = []

    async def _spawn(
        self, settings: Settings, arguments: tuple[str, ...], log_name: str
    ) -> asyncio.subprocess.Process:
        environment = worker_environment(settings)
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        log = await asyncio.to_thread((self.folder / log_name).open, "wb")
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                *arguments,
                env=environment,
                cwd=self.folder,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()
        self.processes.append(process)
        return process

    async def stop(self) -> None:
        """SIGTERM each process still running and wait for all of them."""
        for process in self.processes:
            if process.returncode is None:
                process.terminate()
        for process in self.processes:
            await process.wait()


class ShardBots(_Children):
    """Other bot processes (`python -m bot`), one shard each, beside the sandbox's bot."""

    async def start(self, settings: Settings, discord_: LocalDiscord) -> None:
        """Start a bot process with `settings` (its DISCORD_SHARD_IDS one shard); returns once
        that shard is on the local Discord's gateway. Raises if the process ends first."""
        assert settings.discord.shard_ids is not None and settings.discord.shard_count
        shard = (settings.discord.shard_ids[0], settings.discord.shard_count)
        process = await self._spawn(settings, (), f"bot-shard-{shard[0]}.log")

        def identified() -> bool | None:
            if process.returncode is not None:
                raise RuntimeError(f"the bot of shard {shard[0]} stopped (see its log)")
            sessions = discord_.gateway.sessions
            return any(s.shard == shard and s.ready for s in sessions) or None

        await discord_.wait_until(identified, timeout=60)


class SharedWorkers(_Children):
    """Processes of `python -m bot worker` sharing a bot's jobs; each logs to `worker-N.log`."""

    async def start(self, settings: Settings, count: int) -> None:
        """Start `count` more workers with `settings`."""
        for _ in range(count):
            await self._spawn(settings, ("worker",), f"worker-{len(self.processes) + 1}.log")

    def number_of(self, pid: int) -> int | None:
        """The worker's number (from 1) among these, by its pid."""
        pids = [process.pid for process in self.processes]
        return pids.index(pid) + 1 if pid in pids else None

    def kill(self, pid: int) -> None:
        """SIGKILL the worker `pid`, as a host dying would stop it."""
        if self.number_of(pid) is None:
            raise LookupError(f"no worker of this run has pid {pid}")
        os.kill(pid, signal.SIGKILL)
