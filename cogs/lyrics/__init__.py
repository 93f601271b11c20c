"""Lyrics: `/lyrics` and its card (Make it a song, Regenerate), and the Lyrics button under
results, which shows the lyrics a track was made with."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.lyrics.cog import Lyrics


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Lyrics(application(bot)))
