"""Privacy: `/privacy export` (a member's tracks, prompts and requests as JSON) and `/privacy
delete` (everything the bot keeps about them, after they confirm)."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.privacy.cog import Privacy


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Privacy(application(bot)))
