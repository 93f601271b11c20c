"""One server's voice playback: its queue, played through discord.py's voice client.

Tracks play as Opus packets: a track's local file is encoded to Opus once (the first time it
plays, in the background) and replayed from those stored packets, with no decoding or
encoding; a volume other than 100 %, a stream and a first play take the PCM path (PyAV
decodes, scales and encodes). Neither path needs a system ffmpeg or libopus.

The session is stored (`VoiceSessionRepository`): the queue, the volume, the loop and, every
second while playing, the position, so that a restart rejoins and goes on where it was. It
leaves after `VOICE_IDLE_DISCONNECT` seconds with nothing to play or no one to play to;
`voice_playing` and `voice_left` are dispatched as it starts an item and once it has left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import discord

from bot.audio import OpusPacketStream, StoredOpusStream, encode_opus_async, stored_opus_path
from bot.audio.errors import AudioError
from bot.storage import StoredVoiceSession, VoiceSessionRepository
from bot.voice.queue import PlayQueue, QueuedTrack

log = logging.getLogger(__name__)

POSITION_SAVE_INTERVAL = 1.0
"""Seconds between saves of the position while playing: a crash loses at most this much."""
FULL_VOLUME = 100
MAX_VOLUME = 200
FINISHED_TAKE_MARGIN = 0.5
"""A preview that ended more than this short of its finished take goes on with the take."""

FinishedTake = Callable[[QueuedTrack], Awaitable[QueuedTrack | None]]
"""The finished take of a preview's job (as an item for the same member), once delivered."""

# Local files being encoded to stored Opus right now, so two servers never encode one twice.
_encoding: set[Path] = set()


def local_file(source: str) -> Path | None:
    """`source` as a file on this machine, or None for an address."""
    if "://" in source:
        return None
    path = Path(source)
    return path if path.is_file() else None


class OpusSource(discord.AudioSource):
    """A queued item as the voice client pulls it: one 20 ms Opus packet per read.

    At 100 % volume a local file with a stored Opus copy replays the stored packets; anything
    else goes through PyAV's decoder and encoder. The file (or stream) is opened on the first
    read, in the voice client's player thread: opening an address on the event loop would
    block it, and the loop may be what serves it.
    """

    def __init__(self, item: QueuedTrack, *, start: float = 0.0, volume: int = FULL_VOLUME):
        self.item = item
        self._start = start
        self._volume = volume
        self._packets: StoredOpusStream | OpusPacketStream | None = None
        self.stored = False

    @property
    def position(self) -> float:
        """Seconds into the item of the next packet."""
        return self._start if self._packets is None else self._packets.position

    def read(self) -> bytes:
        if self._packets is None:
            self._packets = self._open()
        return self._packets.read()

    def _open(self) -> StoredOpusStream | OpusPacketStream:
        path = local_file(self.item.source)
        if self._volume == FULL_VOLUME and path is not None:
            stored = stored_opus_path(path)
            if stored.is_file():
                self.stored = True
                return StoredOpusStream(stored, start=self._start)
        return OpusPacketStream(
            self.item.source, start=self._start, volume=self._volume / FULL_VOLUME
        )

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
        store: VoiceSessionRepository | None = None,
        on_change: Callable[[VoiceSession], None] = lambda session: None,
        on_leave: Callable[[VoiceSession], None] = lambda session: None,
        finished_take: FinishedTake | None = None,
    ) -> None:
        self.client = client
        self.voice = voice
        self.queue = PlayQueue()
        self.volume = FULL_VOLUME
        self.text_channel_id: int | None = None
        self.card_message_id: int | None = None
        self._idle_after = idle_after
        self._store = store
        self._on_change = on_change
        self._on_leave = on_leave
        self._finished_take = finished_take
        self._idle: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._source: OpusSource | None = None
        self._closing = False
        self._generation = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- what it is doing ------------------------------------------------------------------

    @property
    def guild_id(self) -> int:
        return self.voice.guild.id

    @property
    def channel(self) -> discord.VoiceChannel | discord.StageChannel:
        channel = self.voice.channel
        assert isinstance(channel, discord.VoiceChannel | discord.StageChannel)
        return channel

    @property
    def position(self) -> float:
        """Seconds into what plays now (0 when nothing does)."""
        return self._source.position if self._source is not None else 0.0

    @property
    def paused(self) -> bool:
        return self.voice.is_paused()

    def listeners(self) -> list[discord.Member]:
        """The members in the bot's channel, bots left out."""
        return [member for member in self.channel.members if not member.bot]

    # --- controls --------------------------------------------------------------------------

    def enqueue(self, item: QueuedTrack) -> int:
        """Queue `item` and start playing when nothing was; its place (0: playing now)."""
        place = self.queue.add(item)
        if place == 0:
            self._start(item)
        self._changed()
        return place

    def skip(self) -> None:
        """End what plays; the next item starts (the stop calls `after`)."""
        self._skipping = True
        self.voice.stop()

    def stop(self) -> None:
        """Clear the queue and stop playing; the session stays until idle."""
        self.queue.clear()
        self.voice.stop()
        self._wait_idle()
        self._changed()

    def pause(self) -> None:
        self.voice.pause()
        self._changed()

    def resume(self) -> None:
        self.voice.resume()
        self._changed()

    def toggle_loop(self) -> bool:
        """Loop what plays, or stop looping it; whether it now loops."""
        self.queue.looping = not self.queue.looping
        self._changed()
        return self.queue.looping

    def set_volume(self, percent: int) -> None:
        """Play at `percent` of the original loudness, from where the current item is."""
        self.volume = max(0, min(MAX_VOLUME, percent))
        current = self._source
        if current is not None and self.voice.source is current:
            # Swapped in place: `after` is not called, so the queue does not move on.
            self._source = OpusSource(current.item, start=current.position, volume=self.volume)
            self.voice.source = self._source
        self._changed()

    def remove(self, place: int) -> QueuedTrack:
        item = self.queue.remove(place)
        self._changed()
        return item

    def move(self, place: int, to: int) -> QueuedTrack:
        item = self.queue.move(place, to)
        self._changed()
        return item

    async def move_to(self, channel: discord.VoiceChannel, *, connect_timeout: float) -> None:
        """Go on playing in `channel`, from where playback was.

        The connection is made afresh rather than moved (`VoiceClient.move_to`): a moved
        connection waits for a packet on its old socket before it finishes (up to 30 s in
        discord.py 2.7), while leaving and joining takes well under a second."""
        position, paused = self.position, self.paused
        self._generation += 1  # what plays now ends without moving the queue on
        self.voice.stop()
        with contextlib.suppress(discord.HTTPException, asyncio.TimeoutError):
            await self.voice.disconnect(force=True)
        self.voice = await channel.connect(timeout=connect_timeout, self_deaf=True)
        if self.queue.now is not None:
            self._start(self.queue.now, start=position)
            if paused:
                self.voice.pause()
        self._changed()

    async def leave(self) -> None:
        """Disconnect now; the stored session is forgotten."""
        self._closing = True
        self._cancel_timers()
        self.queue.clear()
        with contextlib.suppress(discord.HTTPException, asyncio.TimeoutError):
            await self.voice.disconnect(force=True)
        if self._store is not None:
            await self._store.forget(self.guild_id)
        self._on_leave(self)
        self.client.dispatch("voice_left", self.guild_id)

    async def close(self) -> None:
        """The bot is stopping: store where playback is, then disconnect (it resumes after)."""
        self._closing = True
        self._cancel_timers()
        if self.queue.now is not None:
            await self.save()
        with contextlib.suppress(discord.HTTPException, asyncio.TimeoutError):
            await self.voice.disconnect(force=True)
        self._on_leave(self)

    async def begin(self, *, start: float = 0.0, paused: bool = False) -> None:
        """Play what the queue has now from `start` seconds (after a restart)."""
        if self.queue.now is None:
            return
        self._start(self.queue.now, start=start)
        if paused:
            self.voice.pause()
        await self.save()

    # --- storing ---------------------------------------------------------------------------

    def stored(self) -> StoredVoiceSession:
        return StoredVoiceSession(
            guild_id=self.guild_id,
            voice_channel_id=self.channel.id,
            queue=[item.stored() for item in self.queue.items()],
            position_seconds=round(self.position, 3),
            text_channel_id=self.text_channel_id,
            card_message_id=self.card_message_id,
            volume=self.volume,
            looping=self.queue.looping,
            paused=self.paused,
        )

    async def save(self) -> None:
        """Store the whole session (or forget it once nothing is queued)."""
        if self._store is None:
            return
        if self.queue.now is None:
            await self._store.forget(self.guild_id)
        else:
            await self._store.save(self.stored())

    # --- internals -------------------------------------------------------------------------

    _skipping = False

    def _changed(self) -> None:
        if self._closing:
            return
        self._on_change(self)
        self._spawn(self.save())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("Voice session work failed: %s", task.exception())

    def _start(self, item: QueuedTrack, *, start: float = 0.0) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        loop = self.client.loop
        source = OpusSource(item, start=start, volume=self.volume)
        self._generation += 1
        generation = self._generation

        def after(error: Exception | None) -> None:
            if error is not None:
                log.warning("Playback of %s ended with an error: %s", item.name, error)
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._ended, generation)

        try:
            self.voice.play(source, after=after)
        except Exception:
            log.exception("Could not play %s", item.name)
            loop.call_soon(self._ended, generation)
            return
        self._source = source
        self._keep_opus(item)
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._save_position(), name="voice-position")
        self.client.dispatch("voice_playing", self.guild_id, item)

    def _keep_opus(self, item: QueuedTrack) -> None:
        """Encode a local file to stored Opus once, in the background, for later plays."""
        path = local_file(item.source)
        if path is None or path in _encoding or stored_opus_path(path).exists():
            return
        _encoding.add(path)

        async def encode() -> None:
            try:
                await encode_opus_async(path, stored_opus_path(path))
            except AudioError as error:
                log.warning("Could not keep %s as Opus: %s", path, error)
            finally:
                _encoding.discard(path)

        self._spawn(encode())

    def _ended(self, generation: int) -> None:
        """The player finished an item: unless it was replaced since, the queue moves on."""
        if generation == self._generation:
            self._next()

    def _next(self) -> None:
        if self._closing:
            return
        skipping, self._skipping = self._skipping, False
        ended, played = self.queue.now, self.position
        if ended is not None and ended.job_id is not None and not skipping:
            self._spawn(self._after_preview(ended, played))
            return
        self._play_next(skipping=skipping)

    def _play_next(self, *, skipping: bool = False) -> None:
        following = self.queue.advance(skipping=skipping)
        if following is None:
            self._source = None
            self._wait_idle()
        elif following.job_id is not None and self._finished_take is not None:
            self._spawn(self._start_preview(following))
        elif self.voice.is_connected():
            self._start(following)
        self._changed()

    async def _after_preview(self, preview: QueuedTrack, played: float) -> None:
        """A preview's stream has ended: when it stopped short of the finished take, the take
        goes on from there; else the queue moves on."""
        take = await self._finished_take(preview) if self._finished_take else None
        if self._closing or self.queue.now is not preview:
            return
        if take is not None and (take.seconds or 0.0) - played > FINISHED_TAKE_MARGIN:
            self.queue.now = take
            if self.voice.is_connected():
                self._start(take, start=played)
            self._changed()
            return
        self._play_next()

    async def _start_preview(self, preview: QueuedTrack) -> None:
        """A queued preview's turn: its finished take plays instead when it has arrived."""
        take = await self._finished_take(preview) if self._finished_take else None
        if self._closing or self.queue.now is not preview:
            return
        if take is not None:
            self.queue.now = take
        if self.voice.is_connected():
            self._start(self.queue.now)
        self._changed()

    async def _save_position(self) -> None:
        while self.queue.now is not None and not self._closing:
            await asyncio.sleep(POSITION_SAVE_INTERVAL)
            if self._store is not None and self.voice.is_playing():
                await self._store.save_position(self.guild_id, round(self.position, 3))

    def _wait_idle(self) -> None:
        if self._idle is None or self._idle.done():
            self._idle = asyncio.create_task(self._leave_when_idle(), name="voice-idle")

    def _cancel_timers(self) -> None:
        current = asyncio.current_task()
        for task in (self._idle, self._ticker):
            if task is not None and task is not current:
                task.cancel()

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
