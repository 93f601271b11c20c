"""The lyrics card's buttons and song form, the Lyrics button under results, and the lyrics
form other features open prefilled ("Write these lyrics", from the chat assistant).

Make it a song and Regenerate read everything they need back from the card they are on; the
forms are routed by their custom_id; so all of them work after a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.jobs.models import Requester
from bot.jobs.operations import Operation
from bot.jobs.requests import song_request
from bot.soundverse import LyricsRequest, RequestValidationError
from bot.soundverse.limits import LYRICS_MAX_CHARS, PROMPT_MAX_CHARS
from bot.storage import Track
from bot.ui.application import Application, app_of, requester_of
from bot.ui.components import (
    FormField,
    MemberSubject,
    Restartable,
    RestartProofButton,
    RestartProofForm,
    TrackSubject,
)
from bot.ui.errors import refuse, report_for
from bot.ui.forms import Prefill, StartForm
from bot.ui.launch import JobPlan, defer_and_launch, planned
from bot.ui.text import shown
from cogs.lyrics.card import (
    card_messages,
    lyrics_from_card,
    request_from_card,
    song_prompt,
    trimmed_lyrics,
)

LYRICS_SHOWN = 4000
# Longer options would crowd the card's header.
OPTION_MAX_CHARS = 100
# The form runs the default `/song`.
SONG_VERSION = Operation.SONG.default_version


# --- writing and posting ----------------------------------------------------------------------


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


async def send_card(
    interaction: discord.Interaction[Any], messages: Sequence[Sequence[discord.Embed]]
) -> None:
    """The card on the deferred response, then its later parts as follow-ups; pings nobody."""
    quiet = discord.AllowedMentions.none()
    first, *rest = messages
    await interaction.edit_original_response(
        embeds=list(first), view=card_view(), allowed_mentions=quiet
    )
    for embeds in rest:
        await interaction.followup.send(embeds=list(embeds), allowed_mentions=quiet)


async def post_lyrics_card(interaction: discord.Interaction[Any], request: LyricsRequest) -> None:
    """Acknowledge at once, write the lyrics and post their card; a failure is told privately."""
    await interaction.response.defer(thinking=True)
    try:
        lyrics = app_of(interaction).services.lyrics
        result = await lyrics.write(request, requester_of(interaction))
        await send_card(interaction, card_messages(request, result.lyrics))
    except Exception as error:
        await refuse(interaction, report_for(error))


# --- the card's buttons -----------------------------------------------------------------------


@dataclass(frozen=True)
class LyricsCard:
    """A lyrics card message, as the member using one of its buttons sees it."""

    message: discord.Message
    user_id: int
    guild_id: int | None


class CardSubject(Restartable[LyricsCard]):
    """A component on a lyrics card: its subject is the card itself (no key); any member who
    can see the card may use it."""

    KEY = ""

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> LyricsCard:
        if interaction.message is None:
            raise UserFacingError("This lyrics card can no longer be read.")
        return LyricsCard(interaction.message, interaction.user.id, interaction.guild_id)


def song_fields(prompt: str, lyrics: str) -> list[FormField]:
    return [
        FormField(
            "prompt",
            "Prompt",
            f"How the song should sound (up to {PROMPT_MAX_CHARS} characters)",
            paragraph=True,
            max_length=PROMPT_MAX_CHARS,
            default=prompt,
        ),
        FormField(
            "lyrics",
            "Lyrics",
            f"Sung as written (up to {LYRICS_MAX_CHARS} characters)",
            paragraph=True,
            max_length=LYRICS_MAX_CHARS,
            default=lyrics,
        ),
    ]


def song_from_form(prompt: str, lyrics: str) -> dict[str, Any]:
    """The `/song` request the form describes, with `/song`'s own limits."""
    if len(lyrics) > LYRICS_MAX_CHARS:
        raise RequestValidationError(
            "lyrics", f"at most {LYRICS_MAX_CHARS} characters (got {len(lyrics)})"
        )
    return song_request(version=SONG_VERSION, prompt=prompt, lyrics=lyrics)


class SongForm(MemberSubject, RestartProofForm[Requester], prefix="lyrics:song-form"):
    """The "Make it a song" form: runs `/song` with the prompt and lyrics submitted."""

    title = "Make it a song"

    async def act(self, interaction: discord.Interaction[Any], member: Requester) -> None:
        request = song_from_form(self.values.get("prompt", ""), self.values.get("lyrics", ""))
        plan = JobPlan(Operation.SONG, request, SONG_VERSION)
        await defer_and_launch(interaction, planned(plan))


def song_form(prompt: str, lyrics: str) -> discord.ui.Modal:
    """The song form prefilled with a prompt and lyrics."""
    return SongForm.modal("", song_fields(prompt, lyrics))


class MakeSongButton(CardSubject, RestartProofButton[LyricsCard], prefix="lyrics:song"):
    """Open the song form prefilled with the card's prompt and lyrics."""

    label = "Make it a song"
    emoji = "🎤"
    style = discord.ButtonStyle.primary

    async def act(self, interaction: discord.Interaction[Any], card: LyricsCard) -> None:
        request = request_from_card(card.message)
        form = song_form(song_prompt(request), trimmed_lyrics(lyrics_from_card(card.message)))
        await interaction.response.send_modal(form)


class RegenerateLyricsButton(CardSubject, RestartProofButton[LyricsCard], prefix="lyrics:again"):
    """Write lyrics for the card's request again and post them as a new card."""

    label = "Regenerate"
    emoji = "🔁"

    async def act(self, interaction: discord.Interaction[Any], card: LyricsCard) -> None:
        await post_lyrics_card(interaction, request_from_card(card.message))


def card_view() -> discord.ui.View:
    """The card's buttons; they carry no state, so they survive restarts."""
    view = discord.ui.View(timeout=None)
    view.add_item(MakeSongButton(""))
    view.add_item(RegenerateLyricsButton(""))
    return view


# --- started from elsewhere -------------------------------------------------------------------


def lyrics_fields(prefill: Prefill) -> list[FormField]:
    """What `/lyrics` asks: the prompt (prefilled), and a mood and a genre if wanted."""
    return [
        FormField(
            "prompt",
            "Prompt",
            f"What the lyrics are about (up to {PROMPT_MAX_CHARS} characters)",
            paragraph=True,
            max_length=PROMPT_MAX_CHARS,
            default=prefill.prompt[:PROMPT_MAX_CHARS],
        ),
        FormField(
            "mood",
            "Mood",
            "e.g. happy, sad, energetic",
            required=False,
            max_length=OPTION_MAX_CHARS,
        ),
        FormField(
            "genre", "Genre", "e.g. pop, rock, hip-hop", required=False, max_length=OPTION_MAX_CHARS
        ),
    ]


class WriteLyricsForm(MemberSubject, RestartProofForm[Requester], prefix="lyrics:form"):
    """Writes lyrics as `/lyrics` does, from the prompt, mood and genre submitted, and posts
    their card."""

    title = "Write lyrics"

    async def act(self, interaction: discord.Interaction[Any], member: Requester) -> None:
        request = checked_request(
            prompt=self.values.get("prompt", ""),
            mood=self.value("mood") or None,
            section=None,
            genre=self.value("genre") or None,
        )
        await post_lyrics_card(interaction, request)


def lyrics_form(prefill: Prefill) -> discord.ui.Modal:
    """The lyrics form, prefilled."""
    return WriteLyricsForm.modal("", lyrics_fields(prefill))


WRITE_LYRICS = StartForm(
    frozenset({Operation.LYRICS}), "Write these lyrics", "📝", open=lyrics_form
)
"""How other features start lyrics: the form above."""


# --- under results ----------------------------------------------------------------------------


class LyricsButton(TrackSubject, RestartProofButton[Track], prefix="track:lyrics"):
    """Shows the lyrics the track was made with, privately."""

    label = "Lyrics"
    emoji = "📝"

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        if track.lyrics:
            text = shown(track.lyrics, LYRICS_SHOWN, one_line=False)
        else:
            text = "No lyrics were given for this track: Soundverse wrote or left them out."
        await interaction.response.send_message(
            embed=discord.Embed(title="Lyrics", description=text),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
