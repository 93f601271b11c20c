"""The audio-input picker: where a command's audio comes from.

An upload (a command's attachment option, or the audio of a message a menu was used on), a
track from the member's history (by autocomplete or `#id`), or by default the member's
latest track in the channel. Uploads are checked before anything is reserved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands

from bot.errors import InvalidInput
from bot.jobs.inputs import AudioSource, check_upload_audio_async, check_upload_metadata
from bot.soundverse.limits import INPUT_MAX_BYTES
from bot.storage import Track
from bot.ui.application import app_of, requester_of
from bot.ui.launch import JobPlan, defer_and_launch
from bot.ui.result_card import format_duration
from bot.ui.uploads import HeldUpload
from bot.words import listed

TRACK_ID = re.compile(r"#?\s*(\d{1,18})")
TRACK_OPTION = "One of your tracks (default: your latest in this channel)"
# What a member types in a track option: an id, `#id`, or words of a title (autocomplete).
TrackReference = app_commands.Range[str, 1, 100]
AUDIO_OPTION = f"An audio file instead of a track (up to {INPUT_MAX_BYTES // 2**20} MB)"
AUDIO_SUFFIXES = (".mp3", ".wav", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac", ".webm")
CHOICES_SHOWN = 25


def track_label(track: Track) -> str:
    """`#12 Lofi of the River (song, 0:30)`, at most 100 characters (a choice name)."""
    length = format_duration(track.audio_file.duration_seconds if track.audio_file else None)
    label = f"#{track.id} {track.title} ({track.operation}, {length})"
    return label if len(label) <= 100 else label[:99] + "…"


async def track_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete of the member's own tracks by prompt or title (or any usable one by `#id`)."""
    typed = current.strip()
    match = TRACK_ID.fullmatch(typed)
    found = await app_of(interaction).services.library.matching(
        requester_of(interaction),
        typed,
        track_id=int(match[1]) if match else None,
        limit=CHOICES_SHOWN,
    )
    return [app_commands.Choice(name=track_label(t), value=str(t.id)) for t in found]


def check_upload(audio: discord.Attachment) -> None:
    """What can be refused before downloading: size and content type."""
    check_upload_metadata(audio.filename, audio.content_type, audio.size)


def audio_attachment(message: discord.Message) -> discord.Attachment:
    """The message's first audio attachment (checked); a precise refusal when it has none."""
    for attachment in message.attachments:
        kind = (attachment.content_type or "").lower()
        if kind.startswith("audio/") or attachment.filename.lower().endswith(AUDIO_SUFFIXES):
            check_upload(attachment)
            return attachment
    if message.attachments:
        names = [f"`{a.filename}`" for a in message.attachments[:3]]
        verb = "is" if len(names) == 1 else "are"
        raise InvalidInput(
            f"That message has no audio attachment ({listed(names)} {verb} not audio)."
        )
    raise InvalidInput("That message has no audio attachment: use this on a message with a song.")


async def source_from_upload(audio: discord.Attachment, max_seconds: float) -> AudioSource:
    """Download and probe an upload; its Discord URL is what Soundverse fetches."""
    check_upload(audio)
    data = await audio.read()
    info = await check_upload_audio_async(audio.filename, data, max_seconds)
    return AudioSource(audio.url, f"`{audio.filename}`", info.duration)


async def upload_source(
    interaction: discord.Interaction[Any], audio: discord.Attachment
) -> AudioSource:
    """An upload, within this bot's longest accepted length."""
    limit = app_of(interaction).settings.audio.max_input_seconds
    return await source_from_upload(audio, limit)


async def track_source(interaction: discord.Interaction[Any], reference: str | int) -> AudioSource:
    """A track named by id (what autocomplete returns, or `#12`) that the member may use."""
    match = TRACK_ID.fullmatch(str(reference).strip())
    if match is None:
        raise InvalidInput(f"`{reference}` is not a track; pick one from the list or type `#id`.")
    library = app_of(interaction).services.library
    return source_of_track(await library.usable_track(int(match[1]), requester_of(interaction)))


def source_of_track(track: Track) -> AudioSource:
    """A stored track as audio to send to Soundverse."""
    if not track.audio_url:
        raise InvalidInput(f"Track #{track.id} has no audio address any more.")
    duration = track.audio_file.duration_seconds if track.audio_file else None
    return AudioSource(track.audio_url, f"track #{track.id} ({track.title})", duration, track.id)


async def resolve_audio(
    interaction: discord.Interaction[Any],
    *,
    track: str | None,
    audio: discord.Attachment | None,
) -> tuple[AudioSource, str | None]:
    """The audio a command works on, and a note when the member's latest track was chosen."""
    if audio is not None and track is not None:
        raise InvalidInput("Give either a track or an audio file, not both.")
    if audio is not None:
        return await upload_source(interaction, audio), None
    if track is not None:
        return await track_source(interaction, track), None
    assert interaction.channel_id is not None
    library = app_of(interaction).services.library
    latest = await library.latest_in_channel(requester_of(interaction), interaction.channel_id)
    if latest is None:
        raise InvalidInput(
            "Pick a track or attach an audio file: you have no track in this channel yet."
        )
    note = f"Using your latest track in this channel: {track_label(latest)}."
    return source_of_track(latest), note


def hold_upload(interaction: discord.Interaction[Any], message: discord.Message) -> HeldUpload:
    """The audio of the message a menu was used on, held for the member's next step."""
    attachment = audio_attachment(message)
    return app_of(interaction).uploads.hold(
        attachment, user_id=interaction.user.id, guild_id=interaction.guild_id
    )


async def launch_with_audio(
    interaction: discord.Interaction[Any],
    *,
    track: str | None,
    audio: discord.Attachment | None,
    build: Callable[[AudioSource], JobPlan],
) -> None:
    """Refuse a bad upload at once; otherwise defer, find the audio, and queue the job that
    `build` plans for it (noting the track picked when the member named none)."""
    if audio is not None:
        check_upload(audio)

    async def make_plan() -> JobPlan:
        source, note = await resolve_audio(interaction, track=track, audio=audio)
        return replace(build(source).made_from(source), note=note)

    await defer_and_launch(interaction, make_plan)
