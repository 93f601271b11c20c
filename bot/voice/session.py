"""One server's voice playback: its queue, played through discord.py's voice client.

Tracks play as Opus packets: a track's local file is encoded to Opus once (the first time it
plays, in the background) and replayed from those stored packets, with no decoding or
encoding; a volume other than 100 %, a stream and a first play take the PCM path (PyAV
decodes, scales and encodes). Neither path needs a system ffmpeg or libopus.

The session is stored (`VoiceSessionRepository`): the queue, the volume, the loop and, every
second while playing, the position, so that a restart rejoins and goes on where it was. It
leaves after `VOICE_IDLE_DISCONNECT` seconds with nothing to play or no one to play to;
`voice_playing` and `voice_left` are dispatched as it starts an item and once it has left.

An interjection (`interject`, e.g. a spoken answer) plays over the queue: what plays is held
at its second, the interjection plays (`LiveOpusSource` plays audio still arriving), and then
what was held goes on from that second; the queue never moves on because of it, and the
stored position stays that of the held item. `end_interjection` cuts it short.

The connection is deafened (Discord sends it no voice) unless live listening asked otherwise:
`rejoin(deafened=False)` connects again to hear, and while `hearing` is on the session stays
with members in the channel even with nothing to play.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

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

AudioFile: TypeAlias = BinaryIO | io.RawIOBase
"""A file object audio is read from (a `bot.audio.GrowingBuffer` while it still arrives)."""

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

    def prepare(self) -> None:
        """Open the audio now rather than on the first read; it blocks (call it off the loop)."""
        if self._packets is None:
            self._packets = self._open()

    @property
    def volume(self) -> int:
        return self._volume

    def _open(self) -> StoredOpusStream | OpusPacketStream:
        path = local_file(self.item.source)
        if self._volume == FULL_VOLUME and path is not None:
            stored = stored_opus_path(path)
            if stored.is_file():
                self.stored = True
                return StoredOpusStream(stored, start=self._start)
        # A preview's stream is still being made: it is opened from its first bytes.
        return OpusPacketStream(
            self.item.source,
            start=self._start,
            volume=self._volume / FULL_VOLUME,
            arriving=self.item.job_id is not None,
        )

    def is_opus(self) -> bool:
        return True

    def cleanup(self) -> None:
        if self._packets is not None:
            self._packets.close()


class LiveOpusSource(discord.AudioSource):
    """Audio still arriving, as the voice client pulls it: one 20 ms Opus packet per read.

    `stream` is a file whose reads wait for more bytes and end when the download ends (a
    `bot.audio.GrowingBuffer`); PyAV opens it from its first bytes, and a read waits until
    enough has come for the next packet. Cleaning up closes `stream`, so what arrives after
    playback stopped is not kept.
    """

    def __init__(self, stream: AudioFile, *, volume: int = FULL_VOLUME) -> None:
        self._stream = stream
        self._volume = volume
        self._packets: OpusPacketStream | None = None

    @property
    def position(self) -> float:
        """Seconds into the audio of the next packet."""
        return 0.0 if self._packets is None else self._packets.position

    def prepare(self) -> None:
        """Open the stream now (it waits for its first bytes: call it off the event loop)."""
        if self._packets is None:
            self._packets = OpusPacketStream(
                self._stream, volume=self._volume / FULL_VOLUME, arriving=True
            )

    def read(self) -> bytes:
        self.prepare()
        assert self._packets is not None
        return self._packets.read()

    def is_opus(self) -> bool:
        return True

    def interrupt(self) -> None:
        """Stop waiting for audio still to come: the stream ends where it has got to. Safe from
        any thread, while the player waits in a read."""
        self._stream.close()

    def cleanup(self) -> None:
        if self._packets is not None:
            self._packets.close()
        self._stream.close()


@dataclass(eq=False)
class Interjection:
    """Something played over a session's queue (a spoken answer), and what it held.

    `finished` is set once it has ended: played out, cut short (`end_interjection`, a stop,
    a move or a leave) or failed.
    """

    source: discord.AudioSource
    held: OpusSource | None
    """What was playing when it began, kept where it stopped; None when nothing played."""
    held_paused: bool
    """Whether the held item had been paused (it goes on paused)."""
    generation: int | None
    """The generation of the held item, whose player it took over: that player's end is its
    end. None when it plays on a player of its own."""
    held_new: bool = False
    """The held item has not started yet (it was queued or came next during the
    interjection): it starts once the interjection ends."""
    then_skip: bool = False
    """A skip came while it played: once it ends, the queue moves on instead of going on."""
    cut_short: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self) -> None:
        """Return once the interjection has ended."""
        await self.finished.wait()


def _interrupt(source: discord.AudioSource) -> None:
    """Make a player waiting on `source` for audio still to come go on (to its end)."""
    if isinstance(source, LiveOpusSource):
        source.interrupt()


def _prepare(source: discord.AudioSource) -> None:
    """Open what `source` plays ahead of its first read, when it can."""
    if isinstance(source, OpusSource | LiveOpusSource):
        source.prepare()


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
        deafened: bool = True,
    ) -> None:
        self.client = client
        self.voice = voice
        self.deafened = deafened
        """Whether the connection was made deafened (then Discord sends it no voice)."""
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
        self._interjection: Interjection | None = None
        self._hearing = False
        self._reconnecting = False

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

    @property
    def interjection(self) -> Interjection | None:
        """What plays over the queue now, if anything."""
        return self._interjection

    @property
    def reconnecting(self) -> bool:
        """The connection is being made again (`move_to`, `rejoin`): not connected, not gone."""
        return self._reconnecting

    @property
    def hearing(self) -> bool:
        """Live listening is on here: the session stays while members are in the channel."""
        return self._hearing

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
        """End what plays; the next item starts (the stop calls `after`). During an
        interjection, the held item is skipped once the interjection ends."""
        if self._interjection is not None:
            self._interjection.then_skip = True
            return
        self._skipping = True
        self.voice.stop()

    def stop(self) -> None:
        """Clear the queue and stop playing (an interjection too); the session stays until
        idle."""
        self.queue.clear()
        if self._interjection is not None:
            _interrupt(self._interjection.source)
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

    async def interject(self, answer: QueuedTrack | discord.AudioSource) -> Interjection:
        """Play `answer` over the queue: what plays is held at its second, `answer` plays,
        then the held item goes on from that second (paused if it was); the queue does not
        move on. Returns once `answer` plays; `Interjection.wait()` waits for its end.

        `answer` is opened before what plays is held (a stream, for its first bytes), so
        nothing goes quiet while it is awaited; an interjection asked for while another
        plays begins after it. Raises what opening `answer` raises, with nothing changed.
        """
        while self._interjection is not None:
            await self._interjection.wait()
        source = (
            OpusSource(answer, volume=self.volume) if isinstance(answer, QueuedTrack) else answer
        )
        try:
            await asyncio.to_thread(_prepare, source)
        except BaseException:
            source.cleanup()
            raise
        while self._interjection is not None:  # another began while this one opened
            await self._interjection.wait()
        if self._closing or not self.voice.is_connected():
            source.cleanup()
            raise discord.ClientException("Not connected to voice.")
        self._cancel_idle()
        if self.voice.is_playing() or self.voice.is_paused():
            # The player goes on with `answer`; when it ends, the held item's `after` fires.
            held_paused = self.paused
            interjection = Interjection(source, self._source, held_paused, self._generation)
            self._interjection = interjection
            self.voice.source = source
            if held_paused:
                self.voice.resume()  # the swap plays on; this says so (speaking) too
        else:
            interjection = Interjection(source, None, False, None)
            self._interjection = interjection
            self.voice.play(source, after=self._after_interjection(interjection))
        self._changed()
        return interjection

    def end_interjection(self) -> bool:
        """Cut the interjection short (barge-in: a listener speaks over an answer); what it
        held goes on. Whether there was one."""
        interjection = self._interjection
        if interjection is None:
            return False
        interjection.cut_short = True
        _interrupt(interjection.source)
        self.voice.stop()
        return True

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

    async def move_to(
        self, channel: discord.VoiceChannel, *, connect_timeout: float, deafened: bool = True
    ) -> None:
        """Go on playing in `channel`, from where playback was, connected deafened or not.

        The connection is made afresh rather than moved (`VoiceClient.move_to`): a moved
        connection waits for a packet on its old socket before it finishes (up to 30 s in
        discord.py 2.7), while leaving and joining takes well under a second."""
        position, paused = self.position, self._held_paused()
        self._drop_interjection()
        self._generation += 1  # what plays now ends without moving the queue on
        self.voice.stop()
        self._reconnecting = True
        try:
            with contextlib.suppress(discord.HTTPException, asyncio.TimeoutError):
                await self.voice.disconnect(force=True)
            self.voice = await channel.connect(timeout=connect_timeout, self_deaf=deafened)
        finally:
            self._reconnecting = False
        self.deafened = deafened
        if self.queue.now is not None:
            self._start(self.queue.now, start=position)
            if paused:
                self.voice.pause()
        self._changed()

    async def rejoin(self, *, deafened: bool, connect_timeout: float) -> None:
        """Connect to the same channel again, deafened or not (Discord sends a deafened
        connection no voice, and tells members whether the bot is); playback goes on from where
        it was."""
        channel = self.channel
        assert isinstance(channel, discord.VoiceChannel)  # a stage channel is never joined
        await self.move_to(channel, connect_timeout=connect_timeout, deafened=deafened)

    def set_hearing(self, hearing: bool) -> None:
        """Live listening began (or ended) here: while it lasts, the session stays with members
        in the channel even with nothing to play; once it ends, idle time counts again."""
        self._hearing = hearing
        if hearing:
            self._cancel_idle()
        elif self.queue.now is None and self._interjection is None:
            self._wait_idle()

    async def leave(self) -> None:
        """Disconnect now; the stored session is forgotten."""
        self._closing = True
        self._cancel_timers()
        self._drop_interjection()
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
        self._drop_interjection()
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
            paused=self._held_paused(),
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
        source = OpusSource(item, start=start, volume=self.volume)
        interjection = self._interjection
        if interjection is not None:
            # Held, unopened, until the interjection ends (`_interjection_ended`).
            self._discard(interjection.held)
            interjection.held, interjection.held_paused, interjection.held_new = source, False, True
            self._source = source
            return
        self._play(source)

    def _play(self, source: OpusSource, *, resumed: bool = False) -> None:
        """Play `source`: a queued item starting, or going on where it was held (`resumed`,
        which is not a start: `voice_playing` is not dispatched)."""
        item = source.item
        self._cancel_idle()
        self._generation += 1
        generation = self._generation
        try:
            self.voice.play(source, after=self._after(generation, item.name))
        except Exception:
            log.exception("Could not play %s", item.name)
            self.client.loop.call_soon(self._ended, generation)
            return
        self._source = source
        self._keep_opus(item)
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._save_position(), name="voice-position")
        if not resumed:
            self.client.dispatch("voice_playing", self.guild_id, item)

    def _after(self, generation: int, name: str) -> Callable[[Exception | None], None]:
        """The player's `after` for what plays as `generation`: back on the loop, `_ended`."""
        loop = self.client.loop

        def after(error: Exception | None) -> None:
            if error is not None:
                log.warning("Playback of %s ended with an error: %s", name, error)
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._ended, generation)

        return after

    def _after_interjection(self, interjection: Interjection) -> Callable[[Exception | None], None]:
        """The player's `after` for an interjection on a player of its own."""
        loop = self.client.loop

        def after(error: Exception | None) -> None:
            if error is not None:
                log.warning("An interjection ended with an error: %s", error)
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._interjection_ended, interjection)

        return after

    def _cancel_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

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
        """The player finished: an interjection's end lets what it held go on; an item's end
        moves the queue on, unless the item was replaced since."""
        interjection = self._interjection
        if interjection is not None and generation == interjection.generation:
            self._interjection_ended(interjection)
        elif generation == self._generation:
            self._next()

    def _interjection_ended(self, interjection: Interjection) -> None:
        """What the interjection held goes on from where it was (at the volume set now), or
        the queue moves on when a skip came meanwhile."""
        if self._interjection is not interjection:
            return  # dropped already (a stop, a move or a leave)
        self._interjection = None
        interjection.finished.set()
        held = interjection.held
        if self._closing:
            return
        if interjection.then_skip:
            self._discard(held)
            self._play_next(skipping=True)
            return
        if held is not None and self.queue.now is held.item and self.voice.is_connected():
            if held.volume != self.volume:
                self._discard(held)
                held = OpusSource(held.item, start=held.position, volume=self.volume)
            self._play(held, resumed=not interjection.held_new)
            if interjection.held_paused:
                self.voice.pause()
        else:
            self._discard(held)
            if self.queue.now is not None and self.voice.is_connected():
                self._start(self.queue.now)
            else:
                self._source = None
                self._wait_idle()
        self._changed()

    def _drop_interjection(self) -> None:
        """The session stops, moves or leaves: the interjection ends here, and what it held
        is released (the position was read before)."""
        interjection, self._interjection = self._interjection, None
        if interjection is None:
            return
        interjection.cut_short = True
        interjection.finished.set()
        _interrupt(interjection.source)
        self._discard(interjection.held)

    def _held_paused(self) -> bool:
        """Whether the queue's item is paused (during an interjection: whether it was)."""
        if self._interjection is not None:
            return self._interjection.held_paused
        return self.paused

    @staticmethod
    def _discard(source: OpusSource | None) -> None:
        if source is not None:
            source.cleanup()

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
        if self._interjection is not None:
            return
        if not self.listeners() or (self.queue.now is None and not self._hearing):
            await self.leave()
