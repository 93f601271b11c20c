"""The Extend button under a result and the Extend form it (or the message menu) opens.

The form asks where to continue from, the lyrics (required to continue a sung track; left
empty on anything else, it is continued as an instrumental) and a style. It follows the
rules of `/extend` (`extend_request`), and a position reads as seconds or m:ss there too. It is
restart-proof: a track's form
carries the track id, an upload's form the key of the upload held for the member.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.jobs.inputs import AudioSource, clock_time, seconds_from_text
from bot.jobs.operations import Operation
from bot.jobs.requests import extend_request
from bot.soundverse.limits import EXTEND_AT_SECONDS, LYRICS_MAX_CHARS, PROMPT_MAX_CHARS
from bot.storage import Track
from bot.ui.audio_input import source_of_track, upload_source
from bot.ui.components import (
    FormField,
    RestartProofButton,
    RestartProofForm,
    TrackSubject,
    UploadSubject,
)
from bot.ui.forms import StartForm
from bot.ui.launch import JobPlan, defer_and_launch
from bot.ui.uploads import HeldUpload

TITLE = "Extend"
EXTEND_FROM_ELSEWHERE = StartForm(
    frozenset({Operation.EXTEND_SONG, Operation.EXTEND_MUSIC}),
    "Extend a track",
    "➕",
    needs_audio=(
        "Extending needs a track or an audio file to continue. Press **Extend** under one of "
        "your results, run `/extend` (your latest track here, another with `track:`, or a file "
        "with `audio:`), or use **Apps → Extend** on a message with audio."
    ),
)
"""How other features start an extension: it needs audio, so the member is told how."""


def extend_fields(*, song: bool) -> list[FormField]:
    """Position, lyrics and style; the lyrics hint says whether they are needed."""
    low, high = clock_time(EXTEND_AT_SECONDS.low), clock_time(EXTEND_AT_SECONDS.high)
    lyrics_hint = (
        "Required to continue this song" if song else "Leave empty to continue as an instrumental"
    )
    return [
        FormField(
            "position",
            "Continue from (m:ss or seconds)",
            f"{low} to {high}; empty: the end. Songs only",
            required=False,
            max_length=8,
        ),
        FormField(
            "lyrics",
            "Lyrics",
            lyrics_hint,
            paragraph=True,
            required=False,
            max_length=LYRICS_MAX_CHARS,
        ),
        FormField(
            "prompt", "Style or mood", "Optional", required=False, max_length=PROMPT_MAX_CHARS
        ),
    ]


async def extend_as_asked(
    form: RestartProofForm[Any],
    interaction: discord.Interaction[Any],
    resolve: Callable[[], Awaitable[AudioSource]],
    *,
    sung: bool,
) -> None:
    """Run the extension the form describes: a song when the audio is sung (`sung`) or lyrics
    were given, else an instrumental, checked by the same rules as `/extend`. The audio is
    resolved once the submission has been acknowledged."""
    at = seconds_from_text(form.value("position"), "The position", EXTEND_AT_SECONDS)
    lyrics = form.value("lyrics").strip() or None
    prompt = form.value("prompt").strip() or None
    mode = "song" if lyrics or sung else "instrumental"
    version = (Operation.EXTEND_SONG if lyrics else Operation.EXTEND_MUSIC).default_version

    async def make_plan() -> JobPlan:
        source = await resolve()
        operation, request = extend_request(
            mode=mode,
            version=version,
            source=source,
            at=at,
            lyrics=lyrics,
            prompt=prompt,
        )
        return JobPlan(operation, request, version).made_from(source)

    await defer_and_launch(interaction, make_plan)


class ExtendTrackForm(TrackSubject, RestartProofForm[Track], prefix="extend:track"):
    """The Extend form of a track."""

    title = TITLE

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        async def resolve() -> AudioSource:
            return source_of_track(track)

        sung = Operation(track.operation).vocals
        await extend_as_asked(self, interaction, resolve, sung=sung)


class ExtendUploadForm(UploadSubject, RestartProofForm[HeldUpload], prefix="extend:upload"):
    """The Extend form of an upload picked through the message menu."""

    title = TITLE

    async def act(self, interaction: discord.Interaction[Any], upload: HeldUpload) -> None:
        await extend_as_asked(
            self, interaction, lambda: upload_source(interaction, upload.attachment), sung=False
        )


class ExtendButton(TrackSubject, RestartProofButton[Track], prefix="track:extend"):
    """Opens the Extend form for this track."""

    label = "Extend"
    emoji = "➕"

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        song = Operation(track.operation).vocals
        await interaction.response.send_modal(
            ExtendTrackForm.modal(track.id, extend_fields(song=song))
        )
