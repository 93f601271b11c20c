"""`/loop audio`, `/loop generate` and the "Make a loop" message menu."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.jobs.operations import FollowUp, Operation
from bot.jobs.requests import gen_loop_request
from bot.soundverse.enums import LegacyDuration
from bot.soundverse.limits import LOOP_COUNT, PROMPT_MAX_CHARS
from bot.ui.application import Application
from bot.ui.audio_input import (
    AUDIO_OPTION,
    TRACK_OPTION,
    TrackReference,
    hold_upload,
    launch_with_audio,
    track_choices,
)
from bot.ui.choices import duration_choices
from bot.ui.feature import FeatureCog
from bot.ui.follow_ups import FollowUpEntry, offered_for
from bot.ui.launch import JobPlan, defer_and_launch, planned
from cogs.loop.forms import (
    DEFAULT_REPEATS,
    LOOP_FIELDS,
    LOOP_FROM_ELSEWHERE,
    LoopButton,
    LoopTrackForm,
    LoopUploadForm,
    loop_plan,
)

DURATION_CHOICES = duration_choices(LegacyDuration)
Repeats = app_commands.Range[int, LOOP_COUNT.low, LOOP_COUNT.high]


class Loop(FeatureCog):
    """Loops from a track, an upload, or generated music."""

    loop = app_commands.Group(name="loop", description="Loops: from your audio or generated")
    components = (LoopButton, LoopTrackForm, LoopUploadForm)
    starts = (LOOP_FROM_ELSEWHERE,)
    follow_ups = (
        FollowUpEntry(
            "loop", 20, lambda track: LoopButton(track.track_id), offered_for(FollowUp.LOOP)
        ),
    )

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.add_message_menu(
            "Make a loop", self.loop_message, example="Apps → Make a loop, on a message with audio"
        )

    @loop.command(
        name="audio",
        description="Find a seamless loop in a track and repeat it",
        extras={"example": "/loop audio count: 4"},
    )
    @app_commands.describe(
        track=TRACK_OPTION,
        audio=AUDIO_OPTION,
        count="How many times to repeat the loop",
    )
    @app_commands.autocomplete(track=track_choices)
    async def loop_audio(
        self,
        interaction: discord.Interaction[Any],
        track: TrackReference | None = None,
        audio: discord.Attachment | None = None,
        count: Repeats = DEFAULT_REPEATS,
    ) -> None:
        await launch_with_audio(
            interaction, track=track, audio=audio, build=lambda source: loop_plan(source, count)
        )

    @loop.command(
        name="generate",
        description="Generate music and loop it (v1)",
        extras={"example": "/loop generate prompt: dusty boom-bap drums count: 8"},
    )
    @app_commands.describe(
        prompt="What the music is like",
        duration="Length of the generated music",
        count="How many times to repeat the loop",
    )
    @app_commands.choices(duration=DURATION_CHOICES)
    async def loop_generate(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        duration: int = LegacyDuration.S30.value,
        count: Repeats = DEFAULT_REPEATS,
    ) -> None:
        request = gen_loop_request(prompt=prompt, count=count, duration=duration)
        await defer_and_launch(interaction, planned(JobPlan(Operation.GEN_LOOP, request)))

    async def loop_message(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        upload = hold_upload(interaction, message)
        await interaction.response.send_modal(LoopUploadForm.modal(upload.key, LOOP_FIELDS))
