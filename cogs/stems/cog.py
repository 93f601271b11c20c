"""`/stems` and the "Separate stems" message menu."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.jobs.operations import FollowUp
from bot.soundverse.enums import StemKind
from bot.ui.application import Application
from bot.ui.audio_input import (
    AUDIO_OPTION,
    TRACK_OPTION,
    TrackReference,
    hold_upload,
    launch_with_audio,
    track_choices,
)
from bot.ui.feature import FeatureCog
from bot.ui.follow_ups import FollowUpEntry, offered_for
from cogs.stems.pickers import (
    STEMS_FROM_ELSEWHERE,
    TrackStemsSelect,
    UploadStemsSelect,
    stems_plan,
)

KIND_NAMES = {
    StemKind.VOCALS: "Vocals",
    StemKind.INSTRUMENTS: "Instruments",
    StemKind.ALL_STEMS: "All stems (vocals, drums, bass, ...)",
}
KIND_CHOICES = [app_commands.Choice(name=KIND_NAMES[kind], value=kind.value) for kind in StemKind]


class Stems(FeatureCog):
    """Stem separation of tracks and uploads."""

    components = (TrackStemsSelect, UploadStemsSelect)
    starts = (STEMS_FROM_ELSEWHERE,)
    follow_ups = (
        FollowUpEntry(
            "stems",
            100,
            lambda track: TrackStemsSelect(track.track_id),
            offered_for(FollowUp.STEMS),
        ),
    )

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.add_message_menu(
            "Separate stems",
            self.separate_message,
            example="Apps → Separate stems, on a message with audio",
        )

    @app_commands.command(
        name="stems",
        description="Split a track or audio file into stems",
        extras={"example": "/stems kind: vocals"},
    )
    @app_commands.describe(
        track=TRACK_OPTION,
        audio=AUDIO_OPTION,
        kind="Which stems to separate",
    )
    @app_commands.choices(kind=KIND_CHOICES)
    @app_commands.autocomplete(track=track_choices)
    async def stems(
        self,
        interaction: discord.Interaction[Any],
        track: TrackReference | None = None,
        audio: discord.Attachment | None = None,
        kind: str = StemKind.ALL_STEMS.value,
    ) -> None:
        await launch_with_audio(
            interaction, track=track, audio=audio, build=lambda source: stems_plan(source, kind)
        )

    async def separate_message(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        upload = hold_upload(interaction, message)
        picker = discord.ui.View(timeout=None)
        picker.add_item(UploadStemsSelect(upload.key))
        await interaction.response.send_message(
            f"Separate the stems of `{upload.attachment.filename}`:", view=picker, ephemeral=True
        )
