"""Quota: `/quota`, what a member and their server used and have left, and when it resets."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.quota.cog import Quota


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Quota(application(bot)))
