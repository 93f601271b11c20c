"""About: `/about`, the bot's version, uptime, and whether Soundverse answers."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.about.cog import About


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(About(application(bot)))
