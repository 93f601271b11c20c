"""Contests: `/contest` (create, submit, withdraw, show, results, leaderboard, play, and the
admin commands), Submit to contest under results, and the scheduler that moves contests from
entries to voting to results at their stored times."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.contests.cog import Contests


async def setup(bot: commands.Bot) -> None:
    app = application(bot)
    if app.settings.contests.enabled:  # CONTESTS_ENABLED=false: no /contest, no Submit button
        await bot.add_cog(Contests(app))
