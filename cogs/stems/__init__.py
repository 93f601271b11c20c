"""Stems: `/stems`, the "Separate stems" message menu on any audio, and the stems menu under
results: vocals, instruments, or every stem, each as its own file."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.stems.cog import Stems


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Stems(application(bot)))
