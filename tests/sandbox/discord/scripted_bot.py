"""A small real discord.py bot whose command bodies are scripts set by each test.

The bot's command bodies are scripts a test sets (`bot.scripts["song"] = ...`), so each test
decides how the bot behaves, well or badly, while everything else is the real client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from sandbox.discord import LocalDiscord
from sandbox.discord.openapi import spec_available

Script = Callable[..., Awaitable[None]]


class ChoiceView(discord.ui.View):
    """Buttons and a select whose callbacks run the bot's `on_click` script."""

    def __init__(self, bot: ScriptedBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="Cancel", custom_id="job:cancel", style=discord.ButtonStyle.danger)
    async def cancel(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await self.bot.run_script("on_click", interaction, custom_id="job:cancel")

    @discord.ui.button(label="Again", custom_id="job:again")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await self.bot.run_script("on_click", interaction, custom_id="job:again")

    @discord.ui.select(
        custom_id="job:genre",
        placeholder="Genre",
        options=[discord.SelectOption(label=g, value=g) for g in ("lofi", "jazz", "rock")],
    )
    async def genre(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await self.bot.run_script(
            "on_click", interaction, custom_id="job:genre", values=select.values
        )


class LyricsModal(discord.ui.Modal, title="Lyrics"):
    lyrics: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Lyrics", custom_id="lyrics")

    def __init__(self, bot: ScriptedBot) -> None:
        super().__init__(custom_id="lyrics-modal")
        self.bot = bot

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.bot.run_script("on_modal", interaction, lyrics=self.lyrics.value)


class ScriptedBot(commands.Bot):
    """A `commands.Bot` with a few app commands whose bodies are test-provided scripts."""

    def __init__(self, intents: discord.Intents | None = None) -> None:
        super().__init__(
            command_prefix="!",
            intents=intents or discord.Intents.default(),
            guild_ready_timeout=0.05,
        )
        self.scripts: dict[str, Script] = {}
        self.errors: list[BaseException] = []
        self.error_seen = asyncio.Event()
        self.done = asyncio.Event()
        self.track_names = ["lofi rain", "lofi train", "jazz night"]
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self._add_commands()

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s pause before re-identifying: a test that makes the bot identify again moves
        the local Discord's clock past its identify window instead."""

    async def run_script(self, name: str, interaction: discord.Interaction, **kwargs: Any) -> None:
        try:
            await self.scripts[name](interaction, **kwargs)
        except Exception as error:
            self.errors.append(error)
            self.error_seen.set()
        finally:
            self.done.set()

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.errors.append(error)
        self.error_seen.set()

    def _add_commands(self) -> None:
        bot = self

        @app_commands.command(description="Make a song")
        async def song(interaction: discord.Interaction, prompt: str, duration: int = 30) -> None:
            await bot.run_script("song", interaction, prompt=prompt, duration=duration)

        @app_commands.command(description="Extend a track")
        async def extend(interaction: discord.Interaction, track: str) -> None:
            await bot.run_script("extend", interaction, track=track)

        @extend.autocomplete("track")
        async def extend_track(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            names = [n for n in bot.track_names if n.startswith(current)]
            return [app_commands.Choice(name=n, value=n) for n in names]

        @app_commands.command(description="Split an upload into stems")
        async def stems(interaction: discord.Interaction, audio: discord.Attachment) -> None:
            await bot.run_script("stems", interaction, audio=audio)

        loop = app_commands.Group(name="loop", description="Loops")

        @loop.command(name="generate", description="Generate a loop")
        async def loop_generate(interaction: discord.Interaction, prompt: str) -> None:
            await bot.run_script("loop generate", interaction, prompt=prompt)

        @app_commands.context_menu(name="Separate stems")
        async def separate(interaction: discord.Interaction, message: discord.Message) -> None:
            await bot.run_script("Separate stems", interaction, message=message)

        commands: tuple[
            app_commands.Command[Any, ..., Any] | app_commands.Group | app_commands.ContextMenu, ...
        ] = (
            song,
            extend,
            stems,
            loop,
            separate,
        )
        for command in commands:
            self.tree.add_command(command)

    def view(self) -> ChoiceView:
        return ChoiceView(self)

    def modal(self) -> LyricsModal:
        return LyricsModal(self)


def spec_flags(local: LocalDiscord, path_part: str, text: str = "") -> bool:
    """The spec also refused the request (True when the spec is not here to ask)."""
    found = take_violations(local, path_part)
    return not spec_available() or any(text in violation for violation in found)


def take_violations(local: LocalDiscord, path_part: str) -> list[str]:
    """Removes and returns the recorded violations, asserting they all concern `path_part`."""
    found = [str(v) for v in local.openapi_violations]
    assert all(path_part in v for v in found), found
    local.openapi_violations.clear()
    return found
