"""Loops: `/loop audio` (find a seamless loop in a track or upload and repeat it), `/loop
generate`, the "Make a loop" message menu, and the Loop button under results."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.loop.cog import Loop


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Loop(application(bot)))
