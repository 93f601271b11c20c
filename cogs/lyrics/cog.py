"""`/lyrics`: check the options, then write and post the lyrics card."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.jobs.operations import FollowUp
from bot.soundverse.limits import PROMPT_MAX_CHARS
from bot.ui.feature import FeatureCog
from bot.ui.follow_ups import FollowUpEntry, offered_for
from cogs.lyrics.components import (
    OPTION_MAX_CHARS,
    WRITE_LYRICS,
    LyricsButton,
    MakeSongButton,
    RegenerateLyricsButton,
    SongForm,
    WriteLyricsForm,
    checked_request,
    post_lyrics_card,
)

SECTION_CHOICES = [
    app_commands.Choice(name="Verse", value="verse"),
    app_commands.Choice(name="Chorus", value="chorus"),
    app_commands.Choice(name="Bridge", value="bridge"),
]


class Lyrics(FeatureCog):
    """Lyrics from a prompt, songs made from them, and the lyrics of a track."""

    components = (MakeSongButton, RegenerateLyricsButton, SongForm, LyricsButton, WriteLyricsForm)
    starts = (WRITE_LYRICS,)
    follow_ups = (
        FollowUpEntry(
            "lyrics", 40, lambda track: LyricsButton(track.track_id), offered_for(FollowUp.LYRICS)
        ),
    )

    @app_commands.command(
        name="lyrics",
        description="Write song lyrics about a prompt",
        extras={"example": "/lyrics prompt: a road trip at dawn mood: hopeful"},
    )
    @app_commands.describe(
        prompt=f"What the lyrics are about (up to {PROMPT_MAX_CHARS} characters)",
        mood="The mood, e.g. happy, sad, energetic",
        section="Only one section; left out, a whole song",
        genre="The genre, e.g. pop, rock, hip-hop",
    )
    @app_commands.choices(section=SECTION_CHOICES)
    async def lyrics(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        mood: app_commands.Range[str, 1, OPTION_MAX_CHARS] | None = None,
        section: str | None = None,
        genre: app_commands.Range[str, 1, OPTION_MAX_CHARS] | None = None,
    ) -> None:
        request = checked_request(prompt=prompt, mood=mood, section=section, genre=genre)
        await post_lyrics_card(interaction, request)
