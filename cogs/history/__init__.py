"""History: `/history` (a member's or the server's tracks, page by page, any of them posted
again) and the Delete button under results."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.history.cog import History


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(History(application(bot)))
