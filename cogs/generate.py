"""`/song` and `/music`: parse and check the input, then hand the job to the pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.jobs.requests import music_request, song_request
from bot.soundverse import MusicStyle
from bot.ui.launch import JobPlan, defer_and_launch, planned

if TYPE_CHECKING:
    from bot.app import SoundverseBot

SONG_VERSION_CHOICES = [
    app_commands.Choice(name="v5 (default)", value="v5"),
    app_commands.Choice(name="v6", value="v6"),
    app_commands.Choice(name="v7 (newest)", value="v7"),
    app_commands.Choice(name="v4 (deprecated)", value="v4"),
    app_commands.Choice(name="v1 (deprecated)", value="v1"),
]
MUSIC_VERSION_CHOICES = [
    app_commands.Choice(name="v5 (default)", value="v5"),
    app_commands.Choice(name="v6", value="v6"),
    app_commands.Choice(name="v4 (deprecated)", value="v4"),
    app_commands.Choice(name="v1 (deprecated)", value="v1"),
]


async def style_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The Soundverse styles that contain what was typed (at most 25, Discord's cap)."""
    typed = current.casefold().strip()
    matches = [style.value for style in MusicStyle if typed in style.value.casefold()]
    return [app_commands.Choice(name=value, value=value) for value in matches[:25]]


class Generate(commands.Cog):
    """Songs with vocals and instrumentals."""

    def __init__(self, bot: SoundverseBot) -> None:
        self.bot = bot

    @app_commands.command(name="song", description="Make a song with vocals from a prompt")
    @app_commands.describe(
        prompt="What the song is about and how it sounds (up to 1024 characters)",
        lyrics="Your own lyrics; left out, Soundverse writes them",
        duration="Length in seconds (v5 only; default 30)",
        version="Soundverse model version",
        style="Style of music (v4 and v1 only; required on v1)",
    )
    @app_commands.choices(version=SONG_VERSION_CHOICES)
    @app_commands.autocomplete(style=style_choices)
    async def song(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, 1024],
        lyrics: app_commands.Range[str, 1, 3000] | None = None,
        duration: app_commands.Range[int, 5, 300] | None = None,
        version: str = "v5",
        style: str | None = None,
    ) -> None:
        request = song_request(
            version=version, prompt=prompt, lyrics=lyrics, duration=duration, style=style
        )
        await defer_and_launch(self.bot, interaction, planned(JobPlan("song", version, request)))

    @app_commands.command(name="music", description="Make an instrumental from a prompt")
    @app_commands.describe(
        prompt="What the music is like (up to 1024 characters)",
        style="Style, e.g. jazz (free text on v5/v6; one of the list on v4/v1)",
        duration="Length in seconds (default 30; not on v4/v1)",
        version="Soundverse model version",
    )
    @app_commands.choices(version=MUSIC_VERSION_CHOICES)
    @app_commands.autocomplete(style=style_choices)
    async def music(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, 1024],
        style: app_commands.Range[str, 1, 100] | None = None,
        duration: app_commands.Range[int, 5, 300] | None = None,
        version: str = "v5",
    ) -> None:
        request = music_request(version=version, prompt=prompt, style=style, duration=duration)
        await defer_and_launch(self.bot, interaction, planned(JobPlan("music", version, request)))


async def setup(bot: SoundverseBot) -> None:
    await bot.add_cog(Generate(bot))
