"""Where a command's audio comes from: an upload, a track from history, or the latest track here."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.errors import InvalidInput
from bot.jobs.inputs import AudioSource, check_upload_audio, check_upload_metadata
from bot.storage import Track
from bot.ui.text import bot_of
from bot.ui.track_card import format_duration

if TYPE_CHECKING:
    from bot.app import SoundverseBot

TRACK_ID = re.compile(r"#?\s*(\d{1,18})")


def may_use_track(track: Track, user_id: int, guild_id: int | None) -> bool:
    """A member may build on their own tracks and on tracks made in the same server."""
    return track.user_id == user_id or (track.guild_id is not None and track.guild_id == guild_id)


def track_label(track: Track) -> str:
    """`#12 Lofi of the River (song, 0:30)`, at most 100 characters (a choice name)."""
    length = format_duration(track.audio_file.duration_seconds if track.audio_file else None)
    label = f"#{track.id} {track.title} ({track.operation}, {length})"
    return label if len(label) <= 100 else label[:99] + "…"


async def track_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete of the member's own tracks by prompt or title (or by `#id`)."""
    bot = bot_of(interaction)
    tracks = bot.job_service.tracks
    typed = current.strip()
    found: tuple[Track, ...]
    match = TRACK_ID.fullmatch(typed)
    if match:
        track = await tracks.get(int(match[1]))
        found = (
            (track,)
            if track and may_use_track(track, interaction.user.id, interaction.guild_id)
            else ()
        )
    else:
        found = await tracks.autocomplete(interaction.user.id, typed, limit=25)
    return [app_commands.Choice(name=track_label(t), value=str(t.id)) for t in found[:25]]


def check_upload(audio: discord.Attachment) -> None:
    """What can be refused before downloading: size and content type."""
    check_upload_metadata(audio.filename, audio.content_type, audio.size)


async def source_from_upload(audio: discord.Attachment, max_seconds: float) -> AudioSource:
    """Download and probe an upload; its Discord URL is what Soundverse fetches."""
    check_upload(audio)
    data = await audio.read()
    info = await asyncio.to_thread(check_upload_audio, audio.filename, data, max_seconds)
    return AudioSource(audio.url, f"`{audio.filename}`", info.duration)


async def source_from_track(
    bot: SoundverseBot, interaction: discord.Interaction[Any], reference: str
) -> AudioSource:
    """A track named by id (what autocomplete returns, or `#12`) that the member may use."""
    match = TRACK_ID.fullmatch(reference.strip())
    if match is None:
        raise InvalidInput(f"`{reference}` is not a track; pick one from the list or type `#id`.")
    track = await bot.job_service.tracks.get(int(match[1]))
    if track is None:
        raise InvalidInput(f"Track #{match[1]} does not exist (it may have been deleted).")
    if not may_use_track(track, interaction.user.id, interaction.guild_id):
        raise InvalidInput(f"Track #{track.id} belongs to someone else's private history.")
    return source_of_track(track)


def source_of_track(track: Track) -> AudioSource:
    if not track.audio_url:
        raise InvalidInput(f"Track #{track.id} has no audio address any more.")
    duration = track.audio_file.duration_seconds if track.audio_file else None
    return AudioSource(track.audio_url, f"track #{track.id} ({track.title})", duration, track.id)


async def resolve_audio(
    bot: SoundverseBot,
    interaction: discord.Interaction[Any],
    *,
    track: str | None,
    audio: discord.Attachment | None,
) -> tuple[AudioSource, str | None]:
    """The audio a command works on, and a note when the member's latest track was chosen."""
    if audio is not None and track is not None:
        raise InvalidInput("Give either a track or an audio file, not both.")
    if audio is not None:
        return await source_from_upload(audio, bot.settings.audio.max_input_seconds), None
    if track is not None:
        return await source_from_track(bot, interaction, track), None
    assert interaction.channel_id is not None
    latest = await bot.job_service.tracks.latest_in_channel(
        interaction.user.id, interaction.channel_id
    )
    if latest is None:
        raise InvalidInput(
            "Pick a track or attach an audio file: you have no track in this channel yet."
        )
    return source_of_track(
        latest
    ), f"Using your latest track in this channel: {track_label(latest)}."
