"""Extend: `/extend`, the "Extend" message menu on any audio, and the Extend button under
results, each continuing a track or an upload as a song or an instrumental."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.extend.cog import Extend


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Extend(application(bot)))
