"""Help: `/help`, a card built from the registered commands, with topic buttons."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.help.cog import Help


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Help(application(bot)))
