"""One server's voice playback: its queue, played through discord.py's voice client.

Tracks play as Opus packets made by PyAV (`OpusPacketStream`), so no system Opus library is
needed to play. The player leaves after `VOICE_IDLE_DISCONNECT` seconds with nothing to
play or no one to play to; `voice_left` is dispatched when it has (the tests wait on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import discord

from bot.audio.voice import OpusPacketStream
from bot.voice.queue import PlayQueue, QueuedTrack

log = logging.getLogger(__name__)


class OpusSource(discord.AudioSource):
    """A queued track as the voice client pulls it: one 20 ms Opus packet per read.

    The file (or stream) is opened on the first read, in the voice client's player thread:
    opening an address on the event loop would block it, and the loop may be what serves it.
    """

    def __init__(self, source: str) -> None:
        self._source = source
        self._packets: OpusPacketStream | None = None

    def read(self) -> bytes:
        if self._packets is None:
            self._packets = OpusPacketStream(self._source)
        return self._packets.read()

    def is_opus(self) -> bool:
        return True

    def cleanup(self) -> None:
        if self._packets is not None:
            self._packets.close()


class VoiceSession:
    """Plays one server's queue in the voice channel the bot is in."""

    def __init__(
        self,
        client: discord.Client,
        voice: discord.VoiceClient,
        *,
        idle_after: float,
        on_leave: Callable[[VoiceSession], None],
    ) -> None:
        self.client = client
        self.voice = voice
        self.queue = PlayQueue()
        self._idle_after = idle_after
        self._on_leave = on_leave
        self._idle: asyncio.Task[None] | None = None

    @property
    def channel(self) -> discord.VoiceChannel | discord.StageChannel:
        channel = self.voice.channel
        assert isinstance(channel, discord.VoiceChannel | discord.StageChannel)
        return channel

    def listeners(self) -> list[discord.Member]:
        """The members in the bot's channel, bots left out."""
        return [member for member in self.channel.members if not member.bot]

    def enqueue(self, item: QueuedTrack) -> int:
        """Queue `item` and start playing when nothing was; its place (0: playing now)."""
        place = self.queue.add(item)
        if place == 0:
            self._start(item)
        return place

    def skip(self) -> None:
        """End what plays; the next item starts (the stop calls `after`)."""
        self.queue.looping = False
        self.voice.stop()

    def stop(self) -> None:
        """Clear the queue and stop playing; the player stays until idle."""
        self.queue.clear()
        self.voice.stop()
        self._wait_idle()

    async def leave(self) -> None:
        """Disconnect now."""
        if self._idle is not None and self._idle is not asyncio.current_task():
            self._idle.cancel()
        self.queue.clear()
        with contextlib.suppress(discord.HTTPException, asyncio.TimeoutError):
            await self.voice.disconnect(force=True)
        self._on_leave(self)
        self.client.dispatch("voice_left", self.channel.guild.id)

    def _start(self, item: QueuedTrack) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        loop = self.client.loop

        def after(error: Exception | None) -> None:
            if error is not None:
                log.warning("Playback of %s ended with an error: %s", item.name, error)
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._next)

        try:
            self.voice.play(OpusSource(item.source), after=after)
        except Exception:
            log.exception("Could not play %s", item.name)
            loop.call_soon(self._next)
            return
        self.client.dispatch("voice_playing", self.channel.guild.id, item)

    def _next(self) -> None:
        following = self.queue.advance()
        if following is None:
            self._wait_idle()
        elif self.voice.is_connected():
            self._start(following)

    def _wait_idle(self) -> None:
        if self._idle is None or self._idle.done():
            self._idle = asyncio.create_task(self._leave_when_idle(), name="voice-idle")

    def company_changed(self) -> None:
        """Someone joined or left the bot's channel: alone, it leaves when idle time is up."""
        if not self.listeners():
            self._wait_idle()
        elif self.queue.now is not None and self._idle is not None:
            self._idle.cancel()
            self._idle = None

    async def _leave_when_idle(self) -> None:
        await asyncio.sleep(self._idle_after)
        if self.queue.now is None or not self.listeners():
            await self.leave()


def player_for(players: dict[int, VoiceSession], guild_id: int) -> VoiceSession | None:
    """The server's player while the bot is in voice there."""
    player = players.get(guild_id)
    if player is not None and not player.voice.is_connected():
        players.pop(guild_id, None)
        return None
    return player


def add_player(
    players: dict[int, VoiceSession], client: discord.Client, voice: Any, idle_after: float
) -> VoiceSession:
    """A player for a fresh voice connection, forgotten when it leaves."""
    guild_id = voice.guild.id

    def forget(_: VoiceSession) -> None:
        players.pop(guild_id, None)

    player = VoiceSession(client, voice, idle_after=idle_after, on_leave=forget)
    players[guild_id] = player
    return player
