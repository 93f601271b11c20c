"""Singing: `/sing`, lyrics sung in one of Soundverse's styles or like a dry vocal recording."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.sing.cog import Sing


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Sing(application(bot)))
