"""`/sing`: check the upload at once, then defer, probe the voice and hand the job on."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.jobs.operations import Operation
from bot.jobs.requests import singing_request
from bot.soundverse.enums import SingingStyle
from bot.soundverse.limits import LYRICS_MAX_CHARS
from bot.ui.audio_input import check_upload, upload_source
from bot.ui.choices import enum_choices
from bot.ui.feature import FeatureCog
from bot.ui.launch import JobPlan, defer_and_launch


class Sing(FeatureCog):
    """Lyrics sung in a style, or like a given voice."""

    @app_commands.command(
        name="sing",
        description="Have lyrics sung in a style or your voice",
        extras={"example": "/sing lyrics: hold on, hold on style: Pop(Female)"},
    )
    @app_commands.describe(
        lyrics=f"What to sing (up to {LYRICS_MAX_CHARS} characters)",
        style="Singing style (ignored when a reference voice is given)",
        voice="A dry vocal recording (no music) to sing like",
    )
    @app_commands.choices(style=enum_choices(SingingStyle))
    async def sing(
        self,
        interaction: discord.Interaction[Any],
        lyrics: app_commands.Range[str, 1, LYRICS_MAX_CHARS],
        style: str | None = None,
        voice: discord.Attachment | None = None,
    ) -> None:
        if voice is not None:
            check_upload(voice)

        async def make_plan() -> JobPlan:
            reference = await upload_source(interaction, voice) if voice is not None else None
            request = singing_request(lyrics=lyrics, style=style, reference=reference)
            return JobPlan(Operation.SINGING, request)

        await defer_and_launch(interaction, make_plan)
