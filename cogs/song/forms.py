"""The song form other features open, prefilled, to start a `/song` (the chat assistant's
"Make this song"): a prompt, and lyrics that may be left empty for Soundverse to write.

It is restart-proof: it carries nothing but its prefix, so a form opened before a restart is
still accepted after it.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.jobs.models import Requester
from bot.jobs.operations import Operation
from bot.jobs.requests import song_request
from bot.soundverse import RequestValidationError
from bot.soundverse.limits import LYRICS_MAX_CHARS, PROMPT_MAX_CHARS
from bot.ui.components import FormField, MemberSubject, RestartProofForm
from bot.ui.forms import Prefill, StartForm
from bot.ui.launch import JobPlan, defer_and_launch, planned

# The form runs the default `/song`.
SONG_VERSION = Operation.SONG.default_version


def song_fields(prefill: Prefill) -> list[FormField]:
    """The prompt (required) and the lyrics (optional), as `prefill` suggests them."""
    return [
        FormField(
            "prompt",
            "Prompt",
            f"What the song is about and how it sounds (up to {PROMPT_MAX_CHARS} characters)",
            paragraph=True,
            max_length=PROMPT_MAX_CHARS,
            default=prefill.prompt[:PROMPT_MAX_CHARS],
        ),
        FormField(
            "lyrics",
            "Lyrics",
            "Sung as written; leave empty and Soundverse writes them",
            paragraph=True,
            required=False,
            max_length=LYRICS_MAX_CHARS,
            default=prefill.lyrics[:LYRICS_MAX_CHARS],
        ),
    ]


def song_from_form(prompt: str, lyrics: str) -> dict[str, Any]:
    """The `/song` request the form describes, with `/song`'s own limits."""
    if len(lyrics) > LYRICS_MAX_CHARS:
        raise RequestValidationError(
            "lyrics", f"at most {LYRICS_MAX_CHARS} characters (got {len(lyrics)})"
        )
    return song_request(version=SONG_VERSION, prompt=prompt, lyrics=lyrics or None)


class MakeSongForm(MemberSubject, RestartProofForm[Requester], prefix="song:form"):
    """Runs `/song` with the prompt and (optional) lyrics submitted."""

    title = "Make this song"

    async def act(self, interaction: discord.Interaction[Any], member: Requester) -> None:
        request = song_from_form(self.values.get("prompt", ""), self.value("lyrics"))
        await defer_and_launch(interaction, planned(JobPlan(Operation.SONG, request, SONG_VERSION)))


def song_form(prefill: Prefill) -> discord.ui.Modal:
    """The song form, prefilled."""
    return MakeSongForm.modal("", song_fields(prefill))


MAKE_SONG = StartForm(frozenset({Operation.SONG}), "Make this song", "🎵", open=song_form)
"""How other features start a song: the form above."""
