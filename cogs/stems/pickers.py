"""The menus that pick which stems to separate: under a result (that track), and the private
picker the message menu opens for an upload. Both are restart-proof selects."""

from __future__ import annotations

from typing import Any

import discord

from bot.jobs.inputs import AudioSource
from bot.jobs.operations import Operation
from bot.jobs.requests import stems_request
from bot.soundverse.enums import StemKind
from bot.storage import Track
from bot.ui.audio_input import source_of_track, upload_source
from bot.ui.components import RestartProofSelect, TrackSubject, UploadSubject
from bot.ui.forms import StartForm
from bot.ui.launch import JobPlan, defer_and_launch
from bot.ui.uploads import HeldUpload

STEM_LOOKS = {
    StemKind.VOCALS: ("Vocals", "🎤"),
    StemKind.INSTRUMENTS: ("Instruments", "🎸"),
    StemKind.ALL_STEMS: ("All stems", "🎚️"),
}
STEM_OPTIONS = [
    discord.SelectOption(label=STEM_LOOKS[kind][0], value=kind.value, emoji=STEM_LOOKS[kind][1])
    for kind in StemKind
]

STEMS_FROM_ELSEWHERE = StartForm(
    frozenset({Operation.STEMS}),
    "Separate stems",
    "🎚️",
    needs_audio=(
        "Separating stems needs a track or an audio file to split. Pick from the **Separate "
        "stems…** menu under one of your results, run `/stems` (your latest track here, "
        "another with `track:`, or a file with `audio:`), or use **Apps → Separate stems** on "
        "a message with audio."
    ),
)
"""How other features start a stem separation: it needs audio, so the member is told how."""


def stems_plan(source: AudioSource, kind: str) -> JobPlan:
    """Separate `kind` from `source`; the track it came from is the parent of the stems."""
    return JobPlan(Operation.STEMS, stems_request(source, kind)).made_from(source)


class TrackStemsSelect(TrackSubject, RestartProofSelect[Track], prefix="track:stems"):
    """Separate this track's stems: vocals, instruments, or all."""

    placeholder = "Separate stems…"
    options = STEM_OPTIONS

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        kind = self.chosen[0]

        async def make_plan() -> JobPlan:
            return stems_plan(source_of_track(track), kind)

        await defer_and_launch(interaction, make_plan)


class UploadStemsSelect(UploadSubject, RestartProofSelect[HeldUpload], prefix="stems:upload"):
    """Separate the stems of an upload picked through the message menu."""

    placeholder = "Which stems?"
    options = STEM_OPTIONS

    async def act(self, interaction: discord.Interaction[Any], upload: HeldUpload) -> None:
        kind = self.chosen[0]

        async def make_plan() -> JobPlan:
            return stems_plan(await upload_source(interaction, upload.attachment), kind)

        await defer_and_launch(interaction, make_plan)
