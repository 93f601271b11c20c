"""Follow-ups on a result or on any audio message: Extend, Stems, Loop and Lyrics.

The buttons and the stems menu under a result keep the track id in their
`custom_id` (they work after a restart); the modals they open, and the flows the
message context menus start, resolve their audio when submitted.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import InvalidInput, UserFacingError
from bot.jobs.inputs import AudioSource
from bot.jobs.requests import extend_request, loop_request, stems_request
from bot.ui.audio_input import source_from_track, source_from_upload
from bot.ui.errors import report_for, send_error
from bot.ui.id_button import IdButton
from bot.ui.launch import JobPlan, defer_and_launch
from bot.ui.text import bot_of

if TYPE_CHECKING:
    pass

SourceResolver = Callable[[discord.Interaction[Any]], Awaitable[AudioSource]]

SONG_OPERATIONS = frozenset({"song", "extend_song", "singing"})
STEM_OPTIONS = [
    discord.SelectOption(label="Vocals", value="vocals", emoji="🎤"),
    discord.SelectOption(label="Instruments", value="instruments", emoji="🎸"),
    discord.SelectOption(label="All stems", value="all-stems", emoji="🎚️"),
]


def from_track(track_id: int) -> SourceResolver:
    async def resolve(interaction: discord.Interaction[Any]) -> AudioSource:
        return await source_from_track(bot_of(interaction), interaction, str(track_id))

    return resolve


def from_upload(attachment: discord.Attachment) -> SourceResolver:
    async def resolve(interaction: discord.Interaction[Any]) -> AudioSource:
        return await source_from_upload(
            attachment, bot_of(interaction).settings.audio.max_input_seconds
        )

    return resolve


async def run_follow_up(
    interaction: discord.Interaction[Any],
    resolve: SourceResolver,
    build: Callable[[AudioSource], tuple[str, str, dict[str, Any]]],
) -> None:
    """Defer, resolve the audio, build the order and queue it; refuse privately on error."""

    async def make_plan() -> JobPlan:
        source = await resolve(interaction)
        operation, version, request = build(source)
        return JobPlan(operation, version, request, parent_track_id=source.track_id)

    await defer_and_launch(bot_of(interaction), interaction, make_plan)


class ExtendModal(discord.ui.Modal, title="Extend"):
    """Position, lyrics and prompt of a continuation; empty lyrics extend an instrumental."""

    def __init__(self, resolve: SourceResolver, *, song: bool) -> None:
        super().__init__(timeout=900)
        self.resolve = resolve
        self.position: discord.ui.TextInput[ExtendModal] = discord.ui.TextInput(
            custom_id="position", required=False, max_length=3
        )
        self.lyrics: discord.ui.TextInput[ExtendModal] = discord.ui.TextInput(
            custom_id="lyrics", style=discord.TextStyle.paragraph, required=False, max_length=3000
        )
        self.prompt: discord.ui.TextInput[ExtendModal] = discord.ui.TextInput(
            custom_id="prompt", required=False, max_length=1024
        )
        lyrics_hint = (
            "Required to continue this song"
            if song
            else "Leave empty to continue as an instrumental"
        )
        for text, description, component in (
            ("Continue from (seconds)", "8 to 420; leave empty for the end", self.position),
            ("Lyrics", lyrics_hint, self.lyrics),
            ("Style or mood", "Optional", self.prompt),
        ):
            self.add_item(discord.ui.Label(text=text, description=description, component=component))

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        try:
            at = parse_position(self.position.value)
        except InvalidInput as error:
            await send_error(interaction, report_for(error))
            return
        lyrics = self.lyrics.value.strip() or None
        prompt = self.prompt.value.strip() or None
        mode = "song" if lyrics else "instrumental"

        def build(source: AudioSource) -> tuple[str, str, dict[str, Any]]:
            operation, request = extend_request(
                mode=mode,
                version="v5",
                source=source,
                at=at if mode == "song" else None,
                lyrics=lyrics,
                prompt=prompt,
            )
            return operation, "v5", request

        await run_follow_up(interaction, self.resolve, build)


class LoopModal(discord.ui.Modal, title="Make a loop"):
    """How many times to repeat the detected loop."""

    def __init__(self, resolve: SourceResolver) -> None:
        super().__init__(timeout=900)
        self.resolve = resolve
        self.count: discord.ui.TextInput[LoopModal] = discord.ui.TextInput(
            custom_id="count", default="4", max_length=2
        )
        self.add_item(
            discord.ui.Label(text="Repeats", description="From 1 to 64", component=self.count)
        )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        try:
            count = parse_count(self.count.value)
        except InvalidInput as error:
            await send_error(interaction, report_for(error))
            return
        await run_follow_up(
            interaction, self.resolve, lambda source: ("loop", "v1", loop_request(source, count))
        )


def parse_position(text: str) -> int | None:
    """The modal's position field: empty means "the end"; otherwise whole seconds."""
    value = text.strip().removesuffix("s").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(f"The position must be a whole number of seconds (got `{text}`).")
    return int(value)


def parse_count(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise InvalidInput(f"Repeats must be a whole number from 1 to 64 (got `{text}`).")
    return int(value)


class StemsMenu(discord.ui.View):
    """An ephemeral menu to pick which stems to separate from an uploaded file."""

    def __init__(self, resolve: SourceResolver) -> None:
        super().__init__(timeout=300)
        self.resolve = resolve

    @discord.ui.select(placeholder="Which stems?", options=STEM_OPTIONS)
    async def choose(
        self, interaction: discord.Interaction[Any], select: discord.ui.Select[Any]
    ) -> None:
        kind = select.values[0]
        await run_follow_up(
            interaction, self.resolve, lambda source: ("stems", "v1", stems_request(source, kind))
        )


async def track_operation(interaction: discord.Interaction[Any], track_id: int) -> str:
    track = await bot_of(interaction).job_service.tracks.get(track_id)
    if track is None:
        raise UserFacingError("This track has been deleted.")
    return track.operation


class ExtendButton(IdButton, prefix="track:extend"):
    """Opens the Extend modal for this track."""

    label = "Extend"
    emoji = "➕"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            song = await track_operation(interaction, self.item_id) in SONG_OPERATIONS
        except UserFacingError as error:
            await send_error(interaction, report_for(error))
            return
        await interaction.response.send_modal(ExtendModal(from_track(self.item_id), song=song))


class LoopButton(IdButton, prefix="track:loop"):
    """Opens the Loop modal for this track."""

    label = "Loop"
    emoji = "🔂"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(LoopModal(from_track(self.item_id)))


class LyricsButton(IdButton, prefix="track:lyrics"):
    """Shows the lyrics the track was made with, privately."""

    label = "Lyrics"
    emoji = "📝"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        track = await bot_of(interaction).job_service.tracks.get(self.item_id)
        if track is None:
            text = "This track has been deleted."
        elif track.lyrics:
            text = track.lyrics if len(track.lyrics) <= 4000 else track.lyrics[:3999] + "…"
        else:
            text = "No lyrics were given for this track: Soundverse wrote or left them out."
        embed = discord.Embed(title="Lyrics", description=text)
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


class StemsSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"track:stems:(?P<id>\d+)"
):
    """Separate this track's stems: vocals, instruments, or all."""

    def __init__(self, track_id: int) -> None:
        super().__init__(
            discord.ui.Select(
                placeholder="Separate stems…",
                options=STEM_OPTIONS,
                custom_id=f"track:stems:{track_id}",
                row=1,
            )
        )
        self.track_id = track_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> StemsSelect:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        kind = self.item.values[0]
        await run_follow_up(
            interaction,
            from_track(self.track_id),
            lambda source: ("stems", "v1", stems_request(source, kind)),
        )


FOLLOW_UP_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ExtendButton,
    LoopButton,
    LyricsButton,
    StemsSelect,
)
