"""The now-playing card: what plays, who asked, where it has got to and what is next, with
⏯ ⏭ ⏹ 🔁 buttons that work after a restart (their custom_id names the server).

The card is one message in the channel where playback began. `CardKeeper` edits it when
something changes and every `VOICE_CARD_REFRESH` seconds while playing, never more often
than once per `EDIT_GAP` seconds (Discord allows about five edits per five seconds in a
channel, and other cards share that).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol, cast

import discord

from bot.ui.application import Application, app_of
from bot.ui.components import Restartable, RestartProofButton
from bot.ui.progress import clock
from bot.voice.session import FULL_VOLUME, VoiceSession


class PlaybackControls(Protocol):
    """What the buttons need of the voice feature's cog."""

    def controlled(self, interaction: discord.Interaction[Any]) -> VoiceSession:
        """The server's session, when the member is in its channel (else a refusal)."""

    def skip_for(self, interaction: discord.Interaction[Any], session: VoiceSession) -> str:
        """Skip, or count the member's vote; what to tell them."""


log = logging.getLogger(__name__)

VOICE_COLOUR = discord.Colour.from_rgb(120, 86, 255)
BAR_CELLS = 12
UP_NEXT_SHOWN = 3
EDIT_GAP = 2.0
NOW_PLAYING = "Now playing in "
VOICE_COG = "VoiceCog"


def position_bar(position: float, length: float | None) -> str:
    """`▰▰▰▱▱▱▱▱▱▱▱▱ 0:05 / 0:20`, or the time alone when the length is unknown."""
    if not length:
        return f"🔊 {clock(position)}"
    done = max(0, min(BAR_CELLS, round(BAR_CELLS * position / length)))
    return f"{'▰' * done}{'▱' * (BAR_CELLS - done)} {clock(position)} / {clock(length)}"


def now_playing_embed(session: VoiceSession) -> discord.Embed:
    """The card for what `session` plays now, or its closing state when nothing plays."""
    channel = session.channel
    now = session.queue.now
    if now is None:
        return discord.Embed(
            title="Nothing is playing",
            description=f"The queue in {channel.mention} is empty. `/play` starts something.",
            colour=VOICE_COLOUR,
        ).set_author(name=f"Finished in {channel.name}")
    lines = [position_bar(session.position, now.seconds), f"Asked by <@{now.requester_id}>"]
    states = []
    if session.paused:
        states.append("⏸ Paused")
    if session.queue.looping:
        states.append("🔁 Looping")
    if session.volume != FULL_VOLUME:
        states.append(f"🔉 Volume {session.volume} %")
    if states:
        lines.append(" · ".join(states))
    embed = discord.Embed(title=now.name, description="\n".join(lines), colour=VOICE_COLOUR)
    embed.set_author(name=f"{NOW_PLAYING}{channel.name}")
    upcoming = list(session.queue.upcoming)
    if upcoming:
        shown = [
            f"{place}. {item.name} (<@{item.requester_id}>)"
            for place, item in enumerate(upcoming[:UP_NEXT_SHOWN], start=1)
        ]
        if len(upcoming) > UP_NEXT_SHOWN:
            shown.append(f"… and {len(upcoming) - UP_NEXT_SHOWN} more (`/queue show`)")
        embed.add_field(name="Up next", value="\n".join(shown), inline=False)
    return embed


def controls(session: VoiceSession) -> discord.ui.View | None:
    """⏯ ⏭ ⏹ 🔁 while something plays; none once the queue is done."""
    if session.queue.now is None:
        return None
    view = discord.ui.View(timeout=None)
    for button in (PauseButton, SkipButton, StopButton, LoopButton):
        view.add_item(button(session.guild_id))
    return view


# --- the buttons ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Playback:
    """A server's playback as a component's subject: any member there may press its buttons
    (`VoiceCog.controlled` then asks that they are in the bot's channel)."""

    guild_id: int
    user_id: int


class PlaybackSubject(Restartable[Playback]):
    """A component about a server's playback: the key is the server's id."""

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> Playback:
        return Playback(int(self.key), 0)

    @staticmethod
    def cog(interaction: discord.Interaction[Any]) -> PlaybackControls:
        cog = app_of(interaction).client.get_cog(VOICE_COG)
        assert cog is not None
        return cast(PlaybackControls, cog)


class PauseButton(PlaybackSubject, RestartProofButton[Playback], prefix="voice:pause"):
    """Pause what plays, or go on after a pause."""

    label = "Pause / resume"
    emoji = "⏯️"

    async def act(self, interaction: discord.Interaction[Any], subject: Playback) -> None:
        session = self.cog(interaction).controlled(interaction)
        if session.paused:
            session.resume()
        elif session.voice.is_playing():
            session.pause()
        await respond_with_card(interaction, session)


class SkipButton(PlaybackSubject, RestartProofButton[Playback], prefix="voice:skip"):
    """Skip what plays (its requester at once; others vote)."""

    label = "Skip"
    emoji = "⏭️"

    async def act(self, interaction: discord.Interaction[Any], subject: Playback) -> None:
        cog = self.cog(interaction)
        text = cog.skip_for(interaction, cog.controlled(interaction))
        await interaction.response.send_message(text, ephemeral=True)


class StopButton(PlaybackSubject, RestartProofButton[Playback], prefix="voice:stop"):
    """Stop playing and empty the queue."""

    label = "Stop"
    emoji = "⏹️"

    async def act(self, interaction: discord.Interaction[Any], subject: Playback) -> None:
        session = self.cog(interaction).controlled(interaction)
        session.stop()
        await respond_with_card(interaction, session)


class LoopButton(PlaybackSubject, RestartProofButton[Playback], prefix="voice:loop"):
    """Loop what plays, or stop looping it."""

    label = "Loop"
    emoji = "🔁"

    async def act(self, interaction: discord.Interaction[Any], subject: Playback) -> None:
        session = self.cog(interaction).controlled(interaction)
        session.toggle_loop()
        await respond_with_card(interaction, session)


CARD_BUTTONS = (PauseButton, SkipButton, StopButton, LoopButton)


async def respond_with_card(interaction: discord.Interaction[Any], session: VoiceSession) -> None:
    """Answer a button on the card by showing the card as it is now."""
    await interaction.response.edit_message(
        embed=now_playing_embed(session), view=controls(session)
    )


# --- keeping the card current ---------------------------------------------------------------


class CardKeeper:
    """Posts a session's card once and keeps it current within Discord's edit budget."""

    def __init__(self, session: VoiceSession, refresh: float) -> None:
        self.session = session
        self._refresh = refresh
        self._wanted = asyncio.Event()
        self._shown: dict[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None

    async def post(self, channel: discord.abc.Messageable) -> None:
        """Post the card in `channel` (a member started playback there)."""
        embed = now_playing_embed(self.session)
        try:
            view = controls(self.session)
            message = await (
                channel.send(embed=embed, view=view) if view else channel.send(embed=embed)
            )
        except discord.HTTPException as error:
            log.warning("Could not post the now-playing card: %s", error)
            return
        self._shown = dict(embed.to_dict())
        self.session.text_channel_id = message.channel.id
        self.session.card_message_id = message.id
        await self.session.save()
        self.start()

    def start(self) -> None:
        """Keep the card current (it is already posted, perhaps before a restart)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep(), name="voice-card")
            self._wanted.set()

    def changed(self) -> None:
        """Something the card shows has changed."""
        self._wanted.set()

    async def finish(self) -> None:
        """Show the card's closing state and stop keeping it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._show()

    async def _keep(self) -> None:
        while True:
            timeout = self._refresh if self.session.queue.now is not None else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), timeout)
            self._wanted.clear()
            await self._show()
            await asyncio.sleep(EDIT_GAP)

    async def _show(self) -> None:
        session = self.session
        channel_id, message_id = session.text_channel_id, session.card_message_id
        if channel_id is None or message_id is None:
            return
        embed = now_playing_embed(session)
        if dict(embed.to_dict()) == self._shown:
            return
        channel = session.client.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return
        try:
            await channel.get_partial_message(message_id).edit(embed=embed, view=controls(session))
        except discord.NotFound:
            session.card_message_id = None
        except discord.HTTPException as error:
            log.warning("Could not update the now-playing card: %s", error)
            return
        self._shown = dict(embed.to_dict())
