"""The Loop button under a result and the form that asks how many times to repeat the loop,
for a track or for an upload picked through the "Make a loop" menu; restart-proof."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.jobs.inputs import AudioSource, loop_count_from_text
from bot.jobs.operations import Operation
from bot.jobs.requests import loop_request
from bot.soundverse.limits import LOOP_COUNT
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

TITLE = "Make a loop"
LOOP_FROM_ELSEWHERE = StartForm(
    frozenset({Operation.LOOP}),
    "Loop a track",
    "🔂",
    needs_audio=(
        "Looping needs a track or an audio file to loop. Press **Loop** under one of your "
        "results, run `/loop audio` (your latest track here, another with `track:`, or a file "
        "with `audio:`), or use **Apps → Make a loop** on a message with audio. To make new "
        "music and loop it, run `/loop generate prompt: …`."
    ),
)
"""How other features start a loop of audio: it needs audio, so the member is told how."""
DEFAULT_REPEATS = 4
LOOP_FIELDS = [
    FormField(
        "count",
        "Repeats",
        f"From {LOOP_COUNT.low} to {LOOP_COUNT.high}",
        max_length=len(str(LOOP_COUNT.high)),
        default=str(DEFAULT_REPEATS),
    )
]


def loop_plan(source: AudioSource, count: int) -> JobPlan:
    """Loop `source`, repeating the detected loop `count` times."""
    return JobPlan(Operation.LOOP, loop_request(source, count)).made_from(source)


async def loop_as_asked(
    form: RestartProofForm[Any],
    interaction: discord.Interaction[Any],
    resolve: Callable[[], Awaitable[AudioSource]],
) -> None:
    """Loop the audio as many times as the form says (checked before acknowledging)."""
    count = loop_count_from_text(form.value("count"))

    async def make_plan() -> JobPlan:
        return loop_plan(await resolve(), count)

    await defer_and_launch(interaction, make_plan)


class LoopTrackForm(TrackSubject, RestartProofForm[Track], prefix="loop:track"):
    """The Loop form of a track."""

    title = TITLE

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        async def resolve() -> AudioSource:
            return source_of_track(track)

        await loop_as_asked(self, interaction, resolve)


class LoopUploadForm(UploadSubject, RestartProofForm[HeldUpload], prefix="loop:upload"):
    """The Loop form of an upload picked through the message menu."""

    title = TITLE

    async def act(self, interaction: discord.Interaction[Any], upload: HeldUpload) -> None:
        await loop_as_asked(
            self, interaction, lambda: upload_source(interaction, upload.attachment)
        )


class LoopButton(TrackSubject, RestartProofButton[Track], prefix="track:loop"):
    """Opens the Loop form for this track."""

    label = "Loop"
    emoji = "🔂"

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        await interaction.response.send_modal(LoopTrackForm.modal(track.id, LOOP_FIELDS))
