"""`/extend`, `/sing`, `/stems`, `/loop audio`, `/loop generate`, `/text-to-music`.

Each checks what it can before acknowledging, then defers, resolves its audio (an
upload, a track from history, or the member's latest track here) and hands an order
to the same job pipeline as `/song`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.jobs.inputs import AudioSource
from bot.jobs.requests import (
    extend_request,
    gen_loop_request,
    loop_request,
    singing_request,
    stems_request,
    text_to_music_request,
)
from bot.soundverse import SingingStyle
from bot.ui.audio_input import check_upload, resolve_audio, source_from_upload, track_choices
from bot.ui.launch import JobPlan, defer_and_launch, planned

if TYPE_CHECKING:
    from bot.app import SoundverseBot

OrderParts = tuple[str, str, dict[str, Any]]

STEM_CHOICES = [
    app_commands.Choice(name="Vocals", value="vocals"),
    app_commands.Choice(name="Instruments", value="instruments"),
    app_commands.Choice(name="All stems (vocals, drums, bass, ...)", value="all-stems"),
]
EXTEND_MODE_CHOICES = [
    app_commands.Choice(name="Song (with lyrics)", value="song"),
    app_commands.Choice(name="Instrumental", value="instrumental"),
]
EXTEND_VERSION_CHOICES = [
    app_commands.Choice(name="v5 (default)", value="v5"),
    app_commands.Choice(name="v6", value="v6"),
    app_commands.Choice(name="v1 (instrumental only, deprecated)", value="v1"),
]
LEGACY_DURATION_CHOICES = [app_commands.Choice(name=f"{s} s", value=s) for s in (15, 30, 60, 180)]
SINGING_STYLE_CHOICES = [app_commands.Choice(name=s.value, value=s.value) for s in SingingStyle]
MODEL_CHOICES = [
    app_commands.Choice(name="sansaar_1 (higher fidelity)", value="sansaar_1"),
    app_commands.Choice(name="sansaar_1_lite (faster)", value="sansaar_1_lite"),
]


async def start_audio_job(
    bot: SoundverseBot,
    interaction: discord.Interaction[Any],
    *,
    track: str | None,
    audio: discord.Attachment | None,
    build: Callable[[AudioSource], OrderParts],
) -> None:
    """Refuse a bad upload at once; otherwise defer, find the audio, and queue the job."""
    if audio is not None:
        check_upload(audio)

    async def make_plan() -> JobPlan:
        source, note = await resolve_audio(bot, interaction, track=track, audio=audio)
        operation, version, request = build(source)
        return JobPlan(operation, version, request, parent_track_id=source.track_id, note=note)

    await defer_and_launch(bot, interaction, make_plan)


def extend_builder(
    mode: str, version: str, at: int | None, lyrics: str | None, prompt: str | None
) -> Callable[[AudioSource], OrderParts]:
    def build(source: AudioSource) -> OrderParts:
        operation, request = extend_request(
            mode=mode, version=version, source=source, at=at, lyrics=lyrics, prompt=prompt
        )
        return operation, version, request

    return build


class Tools(commands.Cog):
    """Extend, sing, stems, loops and the legacy text to music."""

    loop = app_commands.Group(name="loop", description="Loops: from your audio or generated")

    def __init__(self, bot: SoundverseBot) -> None:
        self.bot = bot

    @app_commands.command(name="extend", description="Continue a track or an audio file")
    @app_commands.describe(
        track="One of your tracks (default: your latest in this channel)",
        audio="An audio file instead of a track (up to 10 MB)",
        at="Where to continue from, in seconds (8-420; default: the end)",
        lyrics="Lyrics of the continuation (required for songs)",
        prompt="Style or mood of the continuation",
        mode="Extend as a song with lyrics, or as an instrumental",
        version="Soundverse version (v1: instrumentals only, deprecated)",
    )
    @app_commands.choices(mode=EXTEND_MODE_CHOICES, version=EXTEND_VERSION_CHOICES)
    @app_commands.autocomplete(track=track_choices)
    async def extend(
        self,
        interaction: discord.Interaction[Any],
        track: str | None = None,
        audio: discord.Attachment | None = None,
        at: app_commands.Range[int, 8, 420] | None = None,
        lyrics: app_commands.Range[str, 1, 3000] | None = None,
        prompt: app_commands.Range[str, 1, 1024] | None = None,
        mode: str = "song",
        version: str = "v5",
    ) -> None:
        build = extend_builder(mode, version, at, lyrics, prompt)
        await start_audio_job(self.bot, interaction, track=track, audio=audio, build=build)

    @app_commands.command(name="sing", description="Have lyrics sung in a style or your voice")
    @app_commands.describe(
        lyrics="What to sing (up to 3000 characters)",
        style="Singing style (ignored when a reference voice is given)",
        voice="A dry vocal recording (no music) to sing like",
    )
    @app_commands.choices(style=SINGING_STYLE_CHOICES)
    async def sing(
        self,
        interaction: discord.Interaction[Any],
        lyrics: app_commands.Range[str, 1, 3000],
        style: str | None = None,
        voice: discord.Attachment | None = None,
    ) -> None:
        if voice is not None:
            check_upload(voice)

        async def make_plan() -> JobPlan:
            reference = None
            if voice is not None:
                limit = self.bot.settings.audio.max_input_seconds
                reference = await source_from_upload(voice, limit)
            request = singing_request(lyrics=lyrics, style=style, reference=reference)
            return JobPlan("singing", "v2", request)

        await defer_and_launch(self.bot, interaction, make_plan)

    @app_commands.command(name="stems", description="Split a track or audio file into stems")
    @app_commands.describe(
        track="One of your tracks (default: your latest in this channel)",
        audio="An audio file instead of a track (up to 10 MB)",
        kind="Which stems to separate",
    )
    @app_commands.choices(kind=STEM_CHOICES)
    @app_commands.autocomplete(track=track_choices)
    async def stems(
        self,
        interaction: discord.Interaction[Any],
        track: str | None = None,
        audio: discord.Attachment | None = None,
        kind: str = "all-stems",
    ) -> None:
        await start_audio_job(
            self.bot,
            interaction,
            track=track,
            audio=audio,
            build=lambda source: ("stems", "v1", stems_request(source, kind)),
        )

    @loop.command(name="audio", description="Find a seamless loop in a track and repeat it")
    @app_commands.describe(
        track="One of your tracks (default: your latest in this channel)",
        audio="An audio file instead of a track (up to 10 MB)",
        count="How many times to repeat the loop",
    )
    @app_commands.autocomplete(track=track_choices)
    async def loop_audio(
        self,
        interaction: discord.Interaction[Any],
        track: str | None = None,
        audio: discord.Attachment | None = None,
        count: app_commands.Range[int, 1, 64] = 4,
    ) -> None:
        await start_audio_job(
            self.bot,
            interaction,
            track=track,
            audio=audio,
            build=lambda source: ("loop", "v1", loop_request(source, count)),
        )

    @loop.command(name="generate", description="Generate music and loop it (v1)")
    @app_commands.describe(
        prompt="What the music is like",
        duration="Length of the generated music",
        count="How many times to repeat the loop",
    )
    @app_commands.choices(duration=LEGACY_DURATION_CHOICES)
    async def loop_generate(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, 1024],
        duration: int = 30,
        count: app_commands.Range[int, 1, 64] = 4,
    ) -> None:
        request = gen_loop_request(prompt=prompt, count=count, duration=duration)
        await defer_and_launch(self.bot, interaction, planned(JobPlan("gen_loop", "v1", request)))

    @app_commands.command(
        name="text-to-music", description="Legacy v1 text to music (deprecated by Soundverse)"
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
        prompt: app_commands.Range[str, 1, 1024],
        duration: int = 30,
        model: str = "sansaar_1",
        loop: bool = False,
    ) -> None:
        request = text_to_music_request(prompt=prompt, duration=duration, model=model, loop=loop)
        plan = JobPlan("text_to_music", "v1", request)
        await defer_and_launch(self.bot, interaction, planned(plan))


async def setup(bot: SoundverseBot) -> None:
    await bot.add_cog(Tools(bot))
