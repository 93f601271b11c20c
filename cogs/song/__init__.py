"""Songs and instrumentals: `/song`, `/music`, the legacy `/text-to-music`, the Variation
button under results (the same request again), and the song form other features open
prefilled ("Make this song")."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.song.cog import Song


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Song(application(bot)))
