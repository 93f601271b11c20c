"""Presentation shared by features: the job card, the result card and its follow-up registry,
the restart-proof component base, the audio-input picker, voice messages (sent by hand, as
discord.py cannot), progress and error reporting.

It reaches the running bot only through `bot.ui.application.Application`."""
