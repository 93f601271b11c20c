"""The whole offline stack: the local Soundverse, the local Discord and the real bot, together.

Used by `python -m sandbox` and by the end-to-end tests, so both run the bot the way
production does: built by `bot.app.create_bot` from `Settings`, logged in through the
unmodified discord.py client. This is the one module of `sandbox/` that imports the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import discord
import yarl
from pydantic import HttpUrl, SecretStr

from bot.app import SoundverseBot, create_bot
from bot.config import (
    AudioSettings,
    CommandSync,
    DiscordSettings,
    JobSettings,
    Settings,
    SoundverseSettings,
    StorageSettings,
    WorkerMode,
)
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
        """Another bot process beside the bot (one running other shards, say), with its data
        in `data_dir` and its settings changed by `tweak`; it stops with the stack."""
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        settings = sandbox_settings(data_dir, self.discord, self.soundverse)
        if tweak is not None:
            tweak(settings)
        bot = self._build(settings)
        task = asyncio.create_task(bot.start(BOT_TOKEN), name="sandbox-other-bot")
        self._others.append((bot, task))
        await until_ready(bot, task)
        return bot

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
