"""`/lyrics` and the "Make it a song" form of its card: check the input, then hand it on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.jobs.requests import song_request
from bot.soundverse import LyricsRequest, RequestValidationError
from bot.ui.errors import report_for, send_error
from bot.ui.launch import JobPlan, defer_and_launch, planned
from bot.ui.lyrics_card import (
    LYRICS_DYNAMIC_ITEMS,
    SONG_LYRICS_LIMIT,
    is_song_form,
    post_lyrics_card,
    song_form_values,
)

if TYPE_CHECKING:
    from bot.app import SoundverseBot

OPTION_MAX_CHARS = 100
# The form runs the default `/song`.
SONG_VERSION = "v5"
SECTION_CHOICES = [
    app_commands.Choice(name="Verse", value="verse"),
    app_commands.Choice(name="Chorus", value="chorus"),
    app_commands.Choice(name="Bridge", value="bridge"),
]


def checked_request(
    *, prompt: str, mood: str | None, section: str | None, genre: str | None
) -> LyricsRequest:
    """The lyrics request, refused (naming the field) when an option is too long for the card."""
    for name, value in (("mood", mood), ("section", section), ("genre", genre)):
        if value is not None and len(value) > OPTION_MAX_CHARS:
            raise RequestValidationError(
                name, f"at most {OPTION_MAX_CHARS} characters (got {len(value)})"
            )
    return LyricsRequest(prompt=prompt, mood=mood, section=section, genre=genre)


def song_from_form(prompt: str, lyrics: str) -> dict[str, Any]:
    """The `/song` request the form describes, with `/song`'s own limits."""
    if len(lyrics) > SONG_LYRICS_LIMIT:
        raise RequestValidationError(
            "lyrics", f"at most {SONG_LYRICS_LIMIT} characters (got {len(lyrics)})"
        )
    return song_request(version=SONG_VERSION, prompt=prompt, lyrics=lyrics)


class Lyrics(commands.Cog):
    """Lyrics from a prompt, and songs made from them."""

    def __init__(self, bot: SoundverseBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*LYRICS_DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*LYRICS_DYNAMIC_ITEMS)

    @app_commands.command(name="lyrics", description="Write song lyrics about a prompt")
    @app_commands.describe(
        prompt="What the lyrics are about (up to 1024 characters)",
        mood="The mood, e.g. happy, sad, energetic",
        section="Only one section; left out, a whole song",
        genre="The genre, e.g. pop, rock, hip-hop",
    )
    @app_commands.choices(section=SECTION_CHOICES)
    async def lyrics(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, 1024],
        mood: app_commands.Range[str, 1, OPTION_MAX_CHARS] | None = None,
        section: str | None = None,
        genre: app_commands.Range[str, 1, OPTION_MAX_CHARS] | None = None,
    ) -> None:
        request = checked_request(prompt=prompt, mood=mood, section=section, genre=genre)
        await post_lyrics_card(self.bot, interaction, request)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        # The form is handled here, from its custom_id, rather than by an in-memory modal.
        if is_song_form(interaction):
            await self.make_song(interaction)

    async def make_song(self, interaction: discord.Interaction[Any]) -> None:
        """Run `/song` with the prompt and lyrics of a submitted form."""
        try:
            request = song_from_form(*song_form_values(interaction))
        except Exception as error:
            await send_error(interaction, report_for(error))
            return
        plan = JobPlan("song", SONG_VERSION, request)
        await defer_and_launch(self.bot, interaction, planned(plan))


async def setup(bot: SoundverseBot) -> None:
    await bot.add_cog(Lyrics(bot))
