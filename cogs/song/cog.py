"""`/song`, `/music` and `/text-to-music`: parse and check the input, then hand the job on."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.jobs.operations import FollowUp, Operation
from bot.jobs.requests import music_request, song_request, text_to_music_request
from bot.soundverse.enums import (
    LegacyDuration,
    LegacyModel,
    LegacyVersion,
    MusicStyle,
    MusicVersion,
    SongVersion,
)
from bot.soundverse.limits import (
    DURATION_SECONDS,
    LYRICS_MAX_CHARS,
    PROMPT_MAX_CHARS,
    STYLE_MAX_CHARS,
)
from bot.ui.choices import duration_choices, version_choices
from bot.ui.feature import FeatureCog
from bot.ui.follow_ups import FollowUpEntry, offered_for
from bot.ui.launch import JobPlan, defer_and_launch, planned
from bot.ui.times import SecondsOption, span
from cogs.song.forms import MAKE_SONG, MakeSongForm
from cogs.song.variation import VariationButton

STYLES_SHOWN = 25
SONG_VERSION_CHOICES = version_choices(
    [*SongVersion, *LegacyVersion], default=Operation.SONG.default_version
)
MUSIC_VERSION_CHOICES = version_choices(
    [*MusicVersion, *LegacyVersion], default=Operation.MUSIC.default_version
)
LEGACY_DURATION_CHOICES = duration_choices(LegacyDuration)
LENGTH = SecondsOption("The length", DURATION_SECONDS)
MODEL_NOTES = {LegacyModel.SANSAAR_1: "higher fidelity", LegacyModel.SANSAAR_1_LITE: "faster"}
MODEL_CHOICES = [
    app_commands.Choice(name=f"{model.value} ({MODEL_NOTES[model]})", value=model.value)
    for model in LegacyModel
]


async def style_choices(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The Soundverse styles that contain what was typed (at most 25, Discord's cap)."""
    typed = current.casefold().strip()
    matches = [style.value for style in MusicStyle if typed in style.value.casefold()]
    return [app_commands.Choice(name=value, value=value) for value in matches[:STYLES_SHOWN]]


class Song(FeatureCog):
    """Songs with vocals and instrumentals, and variations of any result."""

    components = (VariationButton, MakeSongForm)
    starts = (MAKE_SONG,)
    follow_ups = (
        FollowUpEntry(
            "variation",
            30,
            lambda track: VariationButton(track.track_id),
            offered_for(FollowUp.VARIATION),
        ),
    )

    @app_commands.command(
        name="song",
        description="Make a song with vocals from a prompt",
        extras={"example": "/song prompt: lofi rain on a tin roof duration: 1:00"},
    )
    @app_commands.describe(
        prompt=f"What the song is about and how it sounds (up to {PROMPT_MAX_CHARS} characters)",
        lyrics="Your own lyrics; left out, Soundverse writes them",
        duration=f"Length: seconds or m:ss ({span(DURATION_SECONDS)}; v5 only; default 0:30)",
        version="Soundverse model version",
        style="Style of music (v4 and v1 only; required on v1)",
    )
    @app_commands.choices(version=SONG_VERSION_CHOICES)
    @app_commands.autocomplete(style=style_choices)
    async def song(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        lyrics: app_commands.Range[str, 1, LYRICS_MAX_CHARS] | None = None,
        duration: app_commands.Transform[int | None, LENGTH] = None,
        version: str = Operation.SONG.default_version,
        style: app_commands.Range[str, 1, STYLE_MAX_CHARS] | None = None,
    ) -> None:
        request = song_request(
            version=version, prompt=prompt, lyrics=lyrics, duration=duration, style=style
        )
        plan = JobPlan(Operation.SONG, request, version)
        await defer_and_launch(interaction, planned(plan))

    @app_commands.command(
        name="music",
        description="Make an instrumental from a prompt",
        extras={"example": "/music prompt: warm late-night jazz trio style: jazz"},
    )
    @app_commands.describe(
        prompt=f"What the music is like (up to {PROMPT_MAX_CHARS} characters)",
        style="Style, e.g. jazz (free text on v5/v6; one of the list on v4/v1)",
        duration=f"Length: seconds or m:ss ({span(DURATION_SECONDS)}; default 0:30; not v4/v1)",
        version="Soundverse model version",
    )
    @app_commands.choices(version=MUSIC_VERSION_CHOICES)
    @app_commands.autocomplete(style=style_choices)
    async def music(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        style: app_commands.Range[str, 1, STYLE_MAX_CHARS] | None = None,
        duration: app_commands.Transform[int | None, LENGTH] = None,
        version: str = Operation.MUSIC.default_version,
    ) -> None:
        request = music_request(version=version, prompt=prompt, style=style, duration=duration)
        plan = JobPlan(Operation.MUSIC, request, version)
        await defer_and_launch(interaction, planned(plan))

    @app_commands.command(
        name="text-to-music",
        description="Legacy v1 text to music (deprecated by Soundverse)",
        extras={"example": "/text-to-music prompt: ocean waves at night duration: 30 s"},
    )
    @app_commands.describe(
        prompt="What the music is like",
        duration="Length",
        model="sansaar_1 sounds better, sansaar_1_lite is faster",
        loop="Make the track loop seamlessly",
    )
    @app_commands.choices(duration=LEGACY_DURATION_CHOICES)
    @app_commands.choices(model=MODEL_CHOICES)
    async def text_to_music(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        duration: int = LegacyDuration.S30.value,
        model: str = LegacyModel.SANSAAR_1.value,
        loop: bool = False,
    ) -> None:
        request = text_to_music_request(prompt=prompt, duration=duration, model=model, loop=loop)
        await defer_and_launch(interaction, planned(JobPlan(Operation.TEXT_TO_MUSIC, request)))
