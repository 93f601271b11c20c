"""Voice: `/play`, `/queue`, `/skip`, `/stop`, `/leave`, and Play in voice under results."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.voice.cog import VoiceCog


async def setup(bot: commands.Bot) -> None:
    app = application(bot)
    if app.settings.voice.enabled:  # VOICE_ENABLED=false: no voice commands, no Play in voice
        await bot.add_cog(VoiceCog(app))
