"""Hearing members in a voice channel: discord.py's voice packets in, turns of speech out.

discord.py has no receive API; it has the two hooks this needs, both on the connection state
of a `discord.VoiceClient`: a listener on its UDP socket (`add_socket_listener`: every
datagram, on discord.py's socket-reader thread) and a hook called with every message of the
voice websocket (`VoiceConnectionState.hook`, which discord.py hands each new websocket).
SPEAKING (op 5) names the member behind an RTP ssrc; nothing else does, and discord.py keeps
no record of it.

A packet goes through, in order:

1. its ssrc is looked up; a packet of an ssrc no SPEAKING has named yet waits (a little while)
   for it, as Discord may send the first packets before the websocket message arrives;
2. a packet of a member who is not `allowed` is dropped there, before any decryption;
3. the transport encryption is opened with the connection's key and mode, and the RTP header
   extension (encrypted, at the front of the payload) is skipped;
4. on a DAVE connection (protocol version above 0) the frame is decrypted end to end with
   discord.py's own DAVE session of that connection; unencrypted (passthrough) frames and
   protocol 0 take the frame as it is;
5. the Opus frame is decoded with PyAV, per ssrc, to 48 kHz mono;
6. `TurnCutter` cuts the member's frames into turns.

`TurnReader` is steps 1 to 6 without Discord (datagrams and SPEAKING in, events out), so
tests can drive it with their own packets and clock; `VoiceReceiver` attaches one to a
connected voice client and hands its events out as an async iterator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import av
import davey
import discord
import nacl.bindings
import nacl.exceptions
from discord.gateway import DiscordVoiceWebSocket

from bot.voice.turns import (
    FRAME_BYTES,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    SILENT_FRAME,
    TurnCutter,
    TurnEvent,
    TurnSettings,
    VoiceActivity,
)

log = logging.getLogger(__name__)

RTP_HEADER = 12
RTP_VERSION = 2
OPUS_PAYLOAD_TYPE = 120
NONCE_SUFFIX = 4
AEAD_TAG = 16
SILENCE_FRAME = b"\xf8\xff\xfe"
"""The Opus frame a client sends when it stops talking; DAVE leaves it unencrypted."""
DAVE_MARKER = b"\xfa\xfa"
"""How a DAVE-encrypted frame ends (its magic marker)."""
PENDING_PACKETS = 250
"""Packets kept per ssrc that no SPEAKING has named yet (5 s of voice), still encrypted."""
PENDING_STREAMS = 16
SEQUENCE_WINDOW = 1 << 15

MODES = (
    "aead_xchacha20_poly1305_rtpsize",
    "xsalsa20_poly1305_lite",
    "xsalsa20_poly1305_suffix",
    "xsalsa20_poly1305",
)
"""The transport modes discord.py 2.7 may pick (the first the voice server also offers)."""

Allowed = Callable[[int], bool]
"""Whether a member (by user id) may be heard: packets of others are dropped unread."""


class UndecryptablePacket(Exception):
    """A packet that the connection's transport key does not open."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """An RTP packet as it arrived, with the header fields the receive path uses."""

    data: bytes
    sequence: int
    timestamp: int
    ssrc: int

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket | None:
        """The packet, when `data` is RTP carrying Opus (not RTCP, video or IP discovery)."""
        if len(data) < RTP_HEADER or data[0] >> 6 != RTP_VERSION:
            return None
        if data[1] & 0x7F != OPUS_PAYLOAD_TYPE:
            return None
        sequence, timestamp, ssrc = struct.unpack_from(">HII", data, 2)
        return cls(data, sequence, timestamp, ssrc)

    @property
    def csrc_count(self) -> int:
        return self.data[0] & 0x0F

    @property
    def extended(self) -> bool:
        return bool(self.data[0] & 0x10)

    @property
    def padded(self) -> bool:
        return bool(self.data[0] & 0x20)


def _without_padding(packet: RtpPacket, payload: bytes) -> bytes:
    """RTP padding (its count in the last byte) removed; Discord does not pad, RTP may."""
    if packet.padded and payload and payload[-1] <= len(payload):
        return payload[: len(payload) - payload[-1]]
    return payload


def _extension_length(data: bytes, at: int) -> int:
    """Bytes of the header extension's body, from its preamble (profile, length) at `at`."""
    if len(data) < at + 4:
        raise UndecryptablePacket("header extension cut short")
    return 4 * int(struct.unpack_from(">H", data, at + 2)[0])


class TransportCipher:
    """Opens the transport encryption of one voice connection (its mode and secret key).

    In the `rtpsize` AEAD mode the RTP header, its CSRCs and the extension's 4-byte preamble
    are sent in clear as the associated data; the extension's body is encrypted, at the front
    of the plaintext. The older xsalsa20 modes leave only the fixed 12 bytes in clear.
    """

    def __init__(self, mode: str, key: bytes) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown transport mode {mode!r}; known: {', '.join(MODES)}")
        if len(key) != 32:
            raise ValueError(f"a transport key is 32 bytes, not {len(key)}")
        self.mode = mode
        self.key = key

    def open(self, packet: RtpPacket) -> bytes:
        """The frame `packet` carries (Opus, or a DAVE frame); raises `UndecryptablePacket`."""
        try:
            if self.mode == "aead_xchacha20_poly1305_rtpsize":
                return self._open_rtpsize(packet)
            return self._open_xsalsa(packet)
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as error:
            raise UndecryptablePacket(str(error) or type(error).__name__) from error

    def _open_rtpsize(self, packet: RtpPacket) -> bytes:
        data = packet.data
        clear = RTP_HEADER + 4 * packet.csrc_count
        body = 0
        if packet.extended:
            body = _extension_length(data, clear)
            clear += 4
        if len(data) < clear + AEAD_TAG + NONCE_SUFFIX:
            raise UndecryptablePacket("packet too short")
        nonce = data[-NONCE_SUFFIX:] + bytes(24 - NONCE_SUFFIX)
        plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            data[clear:-NONCE_SUFFIX], data[:clear], nonce, self.key
        )
        return _without_padding(packet, plain[body:])

    def _open_xsalsa(self, packet: RtpPacket) -> bytes:
        data = packet.data
        if self.mode == "xsalsa20_poly1305_lite":
            nonce, sealed = data[-NONCE_SUFFIX:] + bytes(20), data[RTP_HEADER:-NONCE_SUFFIX]
        elif self.mode == "xsalsa20_poly1305_suffix":
            nonce, sealed = data[-24:], data[RTP_HEADER:-24]
        else:
            nonce, sealed = data[:RTP_HEADER] + bytes(12), data[RTP_HEADER:]
        plain = nacl.bindings.crypto_secretbox_open(sealed, nonce, self.key)
        skip = 4 * packet.csrc_count
        if packet.extended:
            skip += 4 + _extension_length(plain, skip)
        return _without_padding(packet, plain[skip:])


class EndToEndSession(Protocol):
    """What the receive path uses of a `davey.DaveSession`."""

    @property
    def ready(self) -> bool: ...

    def decrypt(self, user_id: int, media_type: davey.MediaType, packet: bytes) -> bytes: ...


DaveState = Callable[[], tuple[int, EndToEndSession | None]]
"""The connection's DAVE protocol version now, and its DAVE session (None without one)."""


class DaveFrames:
    """DAVE, the end-to-end encryption under the transport's, with the connection's session.

    Protocol version 0 (no DAVE: the local voice server, Stage channels, after a downgrade)
    takes every frame as it is. Above 0, the session decrypts; it passes unencrypted frames
    through itself while its passthrough window is open (transitions), and refuses them after.
    Before its group is ready there are no keys: an unencrypted frame is taken as it is, and
    an encrypted one is lost. So is a frame the session cannot decrypt (no key for that member
    yet, or a frame of an earlier epoch).
    """

    def __init__(self, state: DaveState) -> None:
        self._state = state

    def open(self, user_id: int, frame: bytes) -> bytes | None:
        """The Opus frame in `frame` from `user_id`, or None when it cannot be read."""
        version, session = self._state()
        if version == 0 or session is None or frame == SILENCE_FRAME:
            return frame
        if not session.ready:
            return None if frame.endswith(DAVE_MARKER) else frame
        try:
            return session.decrypt(user_id, davey.MediaType.audio, frame)
        except (ValueError, RuntimeError) as error:
            log.debug("DAVE could not decrypt a frame of %s: %s", user_id, error)
            return None


class OpusDecoder:
    """One speaker's Opus stream decoded with PyAV to 20 ms frames of 48 kHz mono s16."""

    def __init__(self) -> None:
        decoder = av.CodecContext.create("opus", "r")
        decoder.sample_rate = SAMPLE_RATE
        decoder.layout = "stereo"
        self._decoder = decoder
        self._mono = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._rest = b""

    def decode(self, opus: bytes) -> tuple[list[bytes], int]:
        """Whole 20 ms frames of what `opus` decodes to (a part frame waits for the next
        packet), and how many samples the packet held; ([], 0) for a packet PyAV refuses."""
        pcm = bytearray(self._rest)
        samples = 0
        try:
            for decoded in self._decoder.decode(av.Packet(opus)):
                samples += decoded.samples
                for mono in self._mono.resample(decoded):
                    pcm += bytes(mono.planes[0])[: mono.samples * 2]
        except av.FFmpegError as error:
            log.debug("An Opus frame did not decode: %s", error)
            return [], 0
        whole = len(pcm) - len(pcm) % FRAME_BYTES
        self._rest = bytes(pcm[whole:])
        return [bytes(pcm[at : at + FRAME_BYTES]) for at in range(0, whole, FRAME_BYTES)], samples


@dataclass
class ReceiveStats:
    """Counts of what the receive path did with the packets it was given."""

    packets: int = 0
    """RTP packets carrying Opus."""
    not_allowed: int = 0
    """Dropped unread: their member is not allowed."""
    unnamed: int = 0
    """Dropped unread: no SPEAKING named their ssrc in time."""
    undecryptable: int = 0
    """The transport encryption did not open."""
    end_to_end_lost: int = 0
    """DAVE could not decrypt them."""
    late: int = 0
    """Arrived after a later packet of the same stream (or twice)."""
    frames: int = 0
    """20 ms frames decoded."""


@dataclass
class _Stream:
    """One ssrc's stream: whose it is, its decoder, and where its RTP numbering is."""

    user_id: int
    decoder: OpusDecoder | None = None
    sequence: int | None = None
    next_timestamp: int | None = None


@dataclass
class _Pending:
    """Packets of an ssrc that no SPEAKING has named yet, with their arrival times."""

    packets: deque[tuple[bytes, float]] = field(
        default_factory=lambda: deque(maxlen=PENDING_PACKETS)
    )


class TurnReader:
    """The receive path without Discord: RTP datagrams and SPEAKING in, turns out.

    `transport` gives the connection's cipher now (None before it has a key); `end_to_end`
    reads a frame of a member through DAVE (`DaveFrames.open`). Every method returns the
    events it produced: `SpeechStarted` and `Turn`, of allowed members only.
    """

    def __init__(
        self,
        *,
        allowed: Allowed,
        transport: Callable[[], TransportCipher | None],
        end_to_end: Callable[[int, bytes], bytes | None],
        settings: TurnSettings | None = None,
        detector: Callable[[], VoiceActivity] | None = None,
    ) -> None:
        self._allowed = allowed
        self._transport = transport
        self._end_to_end = end_to_end
        self._cutter = TurnCutter(settings, detector=detector)
        self._gap_fill = self._cutter.settings.frames(self._cutter.settings.silence)
        self._streams: dict[int, _Stream] = {}
        self._pending: dict[int, _Pending] = {}
        self.stats = ReceiveStats()

    @property
    def speakers(self) -> dict[int, int]:
        """ssrc -> user id, as SPEAKING named them."""
        return {ssrc: stream.user_id for ssrc, stream in self._streams.items()}

    def speaking(self, ssrc: int, user_id: int) -> list[TurnEvent]:
        """SPEAKING: `ssrc` is `user_id`'s. Packets that waited for it are read now."""
        stream = self._streams.get(ssrc)
        if stream is None or stream.user_id != user_id:
            self._streams[ssrc] = _Stream(user_id)
        waiting = self._pending.pop(ssrc, None)
        events: list[TurnEvent] = []
        for data, at in waiting.packets if waiting is not None else ():
            packet = RtpPacket.parse(data)
            if packet is not None:
                events += self._hear(packet, at)
        return events

    def left(self, user_id: int) -> None:
        """`user_id` left the channel: their streams and unfinished turn are forgotten."""
        for ssrc in [s for s, stream in self._streams.items() if stream.user_id == user_id]:
            del self._streams[ssrc]
        self._cutter.forget(user_id)

    def receive(self, data: bytes, at: float) -> list[TurnEvent]:
        """One datagram from the voice socket, arrived at `at`."""
        packet = RtpPacket.parse(data)
        if packet is None:
            return []
        self.stats.packets += 1
        if packet.ssrc not in self._streams:
            self._wait_for_speaking(packet, at)
            return []
        return self._hear(packet, at)

    def expire(self, now: float) -> list[TurnEvent]:
        """Turns of members whose packets stopped long enough ago."""
        return [turn for turn in self._cutter.expire(now) if self._allowed(turn.user_id)]

    def deadline(self) -> float | None:
        """When `expire` next has something to do, if anything."""
        return self._cutter.deadline()

    def _wait_for_speaking(self, packet: RtpPacket, at: float) -> None:
        waiting = self._pending.get(packet.ssrc)
        if waiting is None:
            if len(self._pending) >= PENDING_STREAMS:
                oldest = next(iter(self._pending))
                self.stats.unnamed += len(self._pending.pop(oldest).packets)
            waiting = self._pending[packet.ssrc] = _Pending()
        if len(waiting.packets) == PENDING_PACKETS:
            self.stats.unnamed += 1
        waiting.packets.append((packet.data, at))

    def _hear(self, packet: RtpPacket, at: float) -> list[TurnEvent]:
        stream = self._streams[packet.ssrc]
        if not self._allowed(stream.user_id):
            self.stats.not_allowed += 1
            self._cutter.forget(stream.user_id)
            stream.decoder = None
            return []
        if self._is_late(stream, packet):
            self.stats.late += 1
            return []
        opus = self._open(stream.user_id, packet)
        if opus is None:
            return []
        stream.sequence = packet.sequence
        if stream.decoder is None:
            stream.decoder = OpusDecoder()
        frames, samples = stream.decoder.decode(opus)
        gap = self._missing_frames(stream, packet)
        stream.next_timestamp = (packet.timestamp + (samples or FRAME_SAMPLES)) & 0xFFFFFFFF
        self.stats.frames += len(frames)
        events: list[TurnEvent] = []
        for frame in [SILENT_FRAME] * gap + frames:
            events += self._cutter.feed(stream.user_id, frame, at)
        return events

    def _open(self, user_id: int, packet: RtpPacket) -> bytes | None:
        """Transport, then DAVE: the Opus frame of `packet`, or None (counted) when unreadable."""
        cipher = self._transport()
        if cipher is None:
            self.stats.undecryptable += 1
            return None
        try:
            frame = cipher.open(packet)
        except UndecryptablePacket:
            self.stats.undecryptable += 1
            return None
        opus = self._end_to_end(user_id, frame)
        if opus is None:
            self.stats.end_to_end_lost += 1
        return opus

    @staticmethod
    def _is_late(stream: _Stream, packet: RtpPacket) -> bool:
        """Older than (or the same as) the newest packet read of that stream: there is no
        jitter buffer, so a packet that arrives after a later one is dropped."""
        if stream.sequence is None:
            return False
        ahead = (packet.sequence - stream.sequence) & 0xFFFF
        return ahead == 0 or ahead >= SEQUENCE_WINDOW

    def _missing_frames(self, stream: _Stream, packet: RtpPacket) -> int:
        """20 ms frames between the last packet read and this one (lost, or not sent while
        the member was quiet): heard as silence, at most what ends a turn."""
        if stream.next_timestamp is None:
            return 0
        ahead = (packet.timestamp - stream.next_timestamp) & 0xFFFFFFFF
        if ahead >= 1 << 31:
            return 0
        return min(ahead // FRAME_SAMPLES, self._gap_fill)


class VoiceReceiver:
    """Hears the members of a connected `discord.VoiceClient` who are `allowed`, as turns.

    `async with VoiceReceiver(voice, allowed=...) as receiver: async for event in receiver:`
    gives `SpeechStarted` (a member began a turn: stop what is playing, for barge-in) and
    `Turn` (a finished turn). The iteration ends at `stop()`. `clock` stamps each packet as
    discord.py's socket reader hands it over; it must be monotonic and safe to call from
    another thread.

    A receiver belongs to one voice client and does not notice it disconnect: stop it when
    the bot leaves, and start another on the next client. Discord sends voice only to a
    connection that is not deafened: the bot must join (or change its voice state) with
    `self_deaf=False` to hear anything.
    """

    def __init__(
        self,
        voice: discord.VoiceClient,
        *,
        allowed: Allowed,
        settings: TurnSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        detector: Callable[[], VoiceActivity] | None = None,
    ) -> None:
        self.voice = voice
        self._clock = clock
        self._loop = voice.loop
        self._reader = TurnReader(
            allowed=allowed,
            transport=self._transport,
            end_to_end=DaveFrames(self._dave_state).open,
            settings=settings,
            detector=detector,
        )
        self._events: asyncio.Queue[TurnEvent | None] = asyncio.Queue()
        self._cipher: TransportCipher | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._previous_hook: Any = None
        self._running = False

    @property
    def stats(self) -> ReceiveStats:
        return self._reader.stats

    @property
    def speakers(self) -> dict[int, int]:
        """ssrc -> user id of the members SPEAKING named on this connection so far."""
        return self._reader.speakers

    def start(self) -> None:
        """Start hearing: attach to the voice client's socket and voice websocket."""
        if self._running:
            return
        self._running = True
        # discord.py's own websocket hook: the connection state passes `hook` to every voice
        # websocket it opens (reconnects included), which awaits it with each message after
        # handling it. The websocket open now was given the old value when it was made; its
        # constructor keeps a hook as the instance attribute `_hook`, so it is set there too.
        connection = self.voice._connection
        self._previous_hook = connection.hook
        connection.hook = self._on_voice_message
        if isinstance(connection.ws, DiscordVoiceWebSocket):
            connection.ws._hook = self._on_voice_message  # type: ignore[method-assign]
        connection.add_socket_listener(self._on_datagram)
        me = self.voice.guild.me.voice
        if me is not None and me.self_deaf:
            log.warning(
                "Listening in %s while deafened: Discord sends it no voice", self.voice.channel
            )

    def stop(self) -> None:
        """Stop hearing: detach from the voice client; unfinished turns are dropped and the
        iteration ends."""
        if not self._running:
            return
        self._running = False
        self.voice._connection.remove_socket_listener(self._on_datagram)
        self._detach_hook()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._events.put_nowait(None)

    def _detach_hook(self) -> None:
        """Give the connection (and its websocket) back the hook it had before `start`."""
        connection = self.voice._connection
        if connection.hook == self._on_voice_message:
            connection.hook = self._previous_hook
        ws = connection.ws
        if not isinstance(ws, DiscordVoiceWebSocket):
            return
        if ws.__dict__.get("_hook") != self._on_voice_message:
            return
        if self._previous_hook is None:
            del ws._hook  # the class's own no-op hook again
        else:
            ws._hook = self._previous_hook  # type: ignore[method-assign]

    async def __aenter__(self) -> VoiceReceiver:
        self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __aiter__(self) -> AsyncIterator[TurnEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[TurnEvent]:
        while (event := await self._events.get()) is not None:
            yield event

    # --- from discord.py ---------------------------------------------------------------

    def _on_datagram(self, data: bytes) -> None:
        """discord.py's socket-reader thread: stamp the datagram and hand it to the loop."""
        if len(data) < RTP_HEADER or data[1] & 0x7F != OPUS_PAYLOAD_TYPE:
            return
        at = self._clock()
        with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to hear
            self._loop.call_soon_threadsafe(self._receive, data, at)

    async def _on_voice_message(self, ws: DiscordVoiceWebSocket, message: dict[str, Any]) -> None:
        """Every voice websocket message, after discord.py handled it."""
        op, data = message.get("op"), message.get("d")
        if self._running and isinstance(data, dict):
            if op == DiscordVoiceWebSocket.SPEAKING and "ssrc" in data and "user_id" in data:
                self._deliver(self._reader.speaking(int(data["ssrc"]), int(data["user_id"])))
            elif op == DiscordVoiceWebSocket.CLIENT_DISCONNECT and "user_id" in data:
                self._reader.left(int(data["user_id"]))
        if self._previous_hook is not None:
            await self._previous_hook(ws, message)

    def _receive(self, data: bytes, at: float) -> None:
        if self._running:
            self._deliver(self._reader.receive(data, at))

    def _transport(self) -> TransportCipher | None:
        """The cipher of the connection's current key and mode (a reconnect brings new ones)."""
        mode, key = self.voice.mode, self.voice.secret_key
        if not mode or not key:
            return None
        if self._cipher is None or (self._cipher.mode, self._cipher.key) != (mode, bytes(key)):
            self._cipher = TransportCipher(mode, bytes(key))
        return self._cipher

    def _dave_state(self) -> tuple[int, EndToEndSession | None]:
        connection = self.voice._connection
        return connection.dave_protocol_version, connection.dave_session

    # --- out ---------------------------------------------------------------------------

    def _deliver(self, events: Iterable[TurnEvent]) -> None:
        for event in events:
            self._events.put_nowait(event)
        self._arm()

    def _arm(self) -> None:
        """Wake up when the next turn may end without another packet (earlier, if armed
        earlier: `_expire` then finds nothing and arms again)."""
        deadline = self._reader.deadline()
        if deadline is None or not self._running:
            return
        if self._timer is not None and self._timer_at <= deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self._loop.call_later(max(0.0, deadline - self._clock()), self._expire)

    def _expire(self) -> None:
        self._timer = None
        if self._running:
            self._deliver(self._reader.expire(self._clock()))
