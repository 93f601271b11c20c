"""`/extend` and the "Extend" message menu: check what can be checked, then hand it on."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.jobs.inputs import AudioSource
from bot.jobs.operations import FollowUp, Operation
from bot.jobs.requests import extend_request
from bot.soundverse.enums import ExtendMusicVersion, ExtendSongVersion
from bot.soundverse.limits import EXTEND_AT_SECONDS, LYRICS_MAX_CHARS, PROMPT_MAX_CHARS
from bot.ui.application import Application
from bot.ui.audio_input import (
    AUDIO_OPTION,
    TRACK_OPTION,
    TrackReference,
    hold_upload,
    launch_with_audio,
    track_choices,
)
from bot.ui.choices import version_choices
from bot.ui.feature import FeatureCog
from bot.ui.follow_ups import FollowUpEntry, offered_for
from bot.ui.launch import JobPlan
from bot.ui.times import SecondsOption, span
from cogs.extend.forms import (
    EXTEND_FROM_ELSEWHERE,
    ExtendButton,
    ExtendTrackForm,
    ExtendUploadForm,
    extend_fields,
)

POSITION = SecondsOption("The position", EXTEND_AT_SECONDS)
MODE_CHOICES = [
    app_commands.Choice(name="Song (with lyrics)", value="song"),
    app_commands.Choice(name="Instrumental", value="instrumental"),
]
VERSION_CHOICES = version_choices(
    [*ExtendSongVersion, *ExtendMusicVersion],
    default=Operation.EXTEND_SONG.default_version,
    notes={ExtendMusicVersion.V1.value: "instrumental only"},
)


class Extend(FeatureCog):
    """Continue a track or an upload."""

    components = (ExtendButton, ExtendTrackForm, ExtendUploadForm)
    starts = (EXTEND_FROM_ELSEWHERE,)
    follow_ups = (
        FollowUpEntry(
            "extend", 10, lambda track: ExtendButton(track.track_id), offered_for(FollowUp.EXTEND)
        ),
    )

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.add_message_menu(
            "Extend", self.extend_message, example="Apps → Extend, on a message with audio"
        )

    @app_commands.command(
        name="extend",
        description="Continue a track or an audio file",
        extras={"example": "/extend at: 0:45 lyrics: and the night goes on"},
    )
    @app_commands.describe(
        track=TRACK_OPTION,
        audio=AUDIO_OPTION,
        at=f"Where to continue from: seconds or m:ss ({span(EXTEND_AT_SECONDS)}; default: the end)",
        lyrics="Lyrics of the continuation (required for songs)",
        prompt="Style or mood of the continuation",
        mode="Extend as a song with lyrics, or as an instrumental",
        version="Soundverse version (v1: instrumentals only, deprecated)",
    )
    @app_commands.choices(mode=MODE_CHOICES, version=VERSION_CHOICES)
    @app_commands.autocomplete(track=track_choices)
    async def extend(
        self,
        interaction: discord.Interaction[Any],
        track: TrackReference | None = None,
        audio: discord.Attachment | None = None,
        at: app_commands.Transform[int | None, POSITION] = None,
        lyrics: app_commands.Range[str, 1, LYRICS_MAX_CHARS] | None = None,
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS] | None = None,
        mode: str = "song",
        version: str = Operation.EXTEND_SONG.default_version,
    ) -> None:
        def build(source: AudioSource) -> JobPlan:
            operation, request = extend_request(
                mode=mode, version=version, source=source, at=at, lyrics=lyrics, prompt=prompt
            )
            return JobPlan(operation, request, version)

        await launch_with_audio(interaction, track=track, audio=audio, build=build)

    async def extend_message(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        upload = hold_upload(interaction, message)
        await interaction.response.send_modal(
            ExtendUploadForm.modal(upload.key, extend_fields(song=False))
        )
