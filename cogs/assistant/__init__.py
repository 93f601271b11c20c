"""The Soundverse assistants: chat (`/ask`, follow-ups, replies that mention the bot), spoken
questions (the "Ask Soundverse" menu on a voice message or audio file, `/ask-voice`) and live
listening in voice channels (`/listen`, experimental; only where voice is on)."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.assistant.chat import ChatCog
from cogs.assistant.listening import ListenCog
from cogs.assistant.spoken import SpokenCog


async def setup(bot: commands.Bot) -> None:
    app = application(bot)
    await bot.add_cog(ChatCog(app))
    await bot.add_cog(SpokenCog(app))
    if app.settings.voice.enabled:  # listening is voice; VOICE_LIVE_LISTENING is checked per use
        await bot.add_cog(ListenCog(app))
