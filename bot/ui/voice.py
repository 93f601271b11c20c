"""Voice as features meet it: which channel a member is in, whether the bot may play there,
and the server's session to play through (joined when there is none)."""

from __future__ import annotations

from typing import Any

import discord

from bot.errors import UserFacingError
from bot.ui.application import app_of
from bot.voice.session import VoiceSession
from bot.words import counted

CONNECT_TIMEOUT = 15.0


def voice_channel_of(interaction: discord.Interaction[Any]) -> discord.VoiceChannel:
    """The voice channel the member is in, or a precise refusal."""
    member = interaction.user
    if not isinstance(member, discord.Member) or interaction.guild is None:
        raise UserFacingError("Playing in voice works in a server, not in direct messages.")
    state = member.voice
    if state is None or state.channel is None:
        raise UserFacingError("Join a voice channel first, then ask again.")
    return joinable(state.channel)


def joinable(channel: discord.abc.GuildChannel) -> discord.VoiceChannel:
    """`channel`, when the bot may join and speak there; else a precise refusal."""
    if isinstance(channel, discord.StageChannel):
        raise UserFacingError(
            f"{channel.mention} is a stage channel: I play in voice channels only."
        )
    assert isinstance(channel, discord.VoiceChannel)
    allowed = channel.permissions_for(channel.guild.me)
    missing = [
        name for name, ok in (("Connect", allowed.connect), ("Speak", allowed.speak)) if not ok
    ]
    if missing:
        raise UserFacingError(
            f"I need the {' and '.join(missing)} permission{'s' if len(missing) > 1 else ''} "
            f"in {channel.mention}."
        )
    limit = channel.user_limit
    if limit and len(channel.members) >= limit and not allowed.move_members:
        raise UserFacingError(f"{channel.mention} is full ({counted(limit, 'member')}).")
    return channel


async def session_for_member(interaction: discord.Interaction[Any]) -> VoiceSession:
    """The session of the member's voice channel: the server's, when the bot is already there,
    else a new one (the bot joins); a precise refusal when the bot plays elsewhere."""
    channel = voice_channel_of(interaction)
    sessions = app_of(interaction).voice
    session = sessions.get(channel.guild.id)
    if session is None:
        try:
            return await sessions.join(channel, timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            raise UserFacingError(
                f"I could not connect to {channel.mention} in time; please try again."
            ) from None
    if session.channel.id != channel.id:
        raise UserFacingError(
            f"I'm playing in {session.channel.mention}; join it, or `/summon` me "
            "(or `/stop` there first)."
        )
    return session
