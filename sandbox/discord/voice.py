"""Discord's voice servers, locally: the voice gateway and the UDP media socket.

When the bot joins a voice channel, the local Discord tells it (VOICE_SERVER_UPDATE) to come
here. The unmodified discord.py voice client then:

* opens the voice gateway, `wss://{endpoint}/?v=8` (always TLS: the sandbox makes a
  certificate authority and a certificate at start, and the bot's HTTP client trusts that
  authority only), sends IDENTIFY, and gets READY (its ssrc, the UDP port, the modes);
* finds its address through UDP IP discovery, sends SELECT_PROTOCOL, and gets
  SESSION_DESCRIPTION: the mode, a secret key, and `dave_protocol_version: 0` (DAVE, the
  end-to-end encryption real Discord requires, cannot be reproduced offline);
* heartbeats, says SPEAKING, and sends RTP packets over UDP.

Every packet is decrypted (`aead_xchacha20_poly1305_rtpsize`, the mode Discord requires and
discord.py picks first), Opus-decoded, and kept per channel with its arrival time, so a test
or the console can ask what was heard: the packets, their spacing, the silence frames that
end a stream, and the decoded PCM (48 kHz, stereo, s16).

Two options serve measurements (the voice benchmark uses both): `decode=False` keeps the
packets and their arrival times but decodes nothing (no PCM), which costs far less with many
streams at once; `kernel_timestamps=True` stamps each packet with the kernel's receive time
of its datagram (SO_TIMESTAMPNS, Linux) instead of the moment this event loop handled it, so
a busy loop does not shift arrival times.

When the bot moves to another channel of the guild, the local Discord does what Discord does:
VOICE_STATE_UPDATE for the new channel, VOICE_SERVER_UPDATE with a new token (the endpoint
may stay the same), and the voice websocket of the old channel is closed with 4014
(Disconnected). That close is what makes discord.py's voice client open a new voice
connection with the new token; from then on its packets are heard in the new channel.

A member who speaks is heard by the bot as on Discord: SPEAKING (op 5) on the bot's voice
websocket names the member's ssrc, and each Opus frame arrives at the bot's UDP socket as an
RTP packet encrypted with the bot's key (`relay`), all at once or 20 ms apart as a person
talks; `opus_frames` makes those frames from a sound file.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import secrets
import socket
import ssl
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from typing import Any, cast

import av
import nacl.bindings
import nacl.exceptions
import trustme
from aiohttp import WSMsgType, web
from av.audio.codeccontext import AudioCodecContext

JSON = dict[str, Any]

HOST = "127.0.0.1"
MODES = ("aead_xchacha20_poly1305_rtpsize",)
HEARTBEAT_INTERVAL_MS = 13750
RTP_HEADER = 12
NONCE_SUFFIX = 4
SILENCE_FRAME = b"\xf8\xff\xfe"
# The voice close code Discord sends a connection that has ended (moved, kicked, ...).
DISCONNECTED = 4014
DISCOVERY_LENGTH = 74
PCM_FRAME_BYTES = 3840
SAMPLES_PER_FRAME = 960
FRAME_SECONDS = SAMPLES_PER_FRAME / 48000
RTP_VERSION = 0x80
OPUS_PAYLOAD_TYPE = 0x78
# The media socket's receive buffer: 50 streams send 2,500 packets a second, and none may be
# dropped while the event loop is busy (the kernel caps it at net.core.rmem_max).
MEDIA_RECEIVE_BUFFER = 4 * 1024 * 1024
# Linux's option for receive timestamps in nanoseconds (CLOCK_REALTIME), and its cmsg space.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TIMESTAMP_SPACE = socket.CMSG_SPACE(struct.calcsize("qq"))

# Voice gateway opcodes (v8).
IDENTIFY, SELECT_PROTOCOL, READY, HEARTBEAT = 0, 1, 2, 3
SESSION_DESCRIPTION, SPEAKING, HEARTBEAT_ACK, HELLO = 4, 5, 6, 8


@dataclass(frozen=True, slots=True)
class HeardPacket:
    """One RTP packet the voice server received and could read."""

    at: float
    sequence: int
    timestamp: int
    opus: bytes

    @property
    def silence(self) -> bool:
        """The frame discord.py sends five of when a stream ends."""
        return self.opus == SILENCE_FRAME


@dataclass
class Heard:
    """What was heard in one voice channel."""

    packets: list[HeardPacket] = field(default_factory=list)
    pcm: bytearray = field(default_factory=bytearray)
    """The decoded sound (empty when the server was made with `decode=False`)."""
    undecryptable: int = 0

    @property
    def audio_packets(self) -> list[HeardPacket]:
        """The packets that carried sound (not the closing silence frames)."""
        return [packet for packet in self.packets if not packet.silence]

    @property
    def silence_frames(self) -> int:
        return sum(1 for packet in self.packets if packet.silence)

    @property
    def intervals(self) -> list[float]:
        """Seconds between the arrivals of consecutive sound packets."""
        times = [packet.at for packet in self.audio_packets]
        return [later - earlier for earlier, later in pairwise(times)]

    @property
    def seconds(self) -> float:
        """How long the decoded sound lasts."""
        return len(self.pcm) / (PCM_FRAME_BYTES * 50)


@dataclass(eq=False)
class VoiceSocket:
    """An open voice websocket, and the numbering (`seq`) of what the server sent on it."""

    ws: web.WebSocketResponse
    sequence: int = 0

    async def send(self, op: int, data: Any) -> None:
        self.sequence += 1
        await self.ws.send_str(json.dumps({"op": op, "d": data, "seq": self.sequence}))


@dataclass
class VoiceSession:
    """One member's (or the bot's) connection to a voice channel."""

    token: str
    guild_id: str
    channel_id: str
    user_id: str
    session_id: str
    ssrc: int
    secret_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    mode: str | None = None
    speaking: list[int] = field(default_factory=list)
    identified: bool = False
    decoder: AudioCodecContext | None = None
    resampler: av.AudioResampler | None = None
    connection: VoiceSocket | None = field(default=None, repr=False)
    """The voice websocket that identified with this session's token, while open."""
    address: tuple[str, int] | None = None
    """The client's UDP address, learnt from its IP discovery."""
    sent: int = 0
    """RTP packets sent to the client (the nonce of the next one)."""


@dataclass
class Speaker:
    """A member's outgoing voice stream: its ssrc and where its RTP numbering is."""

    ssrc: int
    sequence: int = 0
    timestamp: int = 0


class _StampedDatagrams(socket.socket):
    """A UDP socket whose every read keeps the kernel's receive timestamp of its datagram.

    asyncio's datagram transport reads with `recvfrom` and hands the datagram to its protocol
    at once, so `received_ns` is that of the datagram being handled.
    """

    def __init__(self) -> None:
        super().__init__(socket.AF_INET, socket.SOCK_DGRAM)
        self.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.received_ns: int | None = None
        """Wall-clock nanoseconds (CLOCK_REALTIME); None when the kernel did not say."""

    def recvfrom(self, size: int, flags: int = 0, /) -> tuple[bytes, Any]:
        data, ancillary, _, address = self.recvmsg(size, TIMESTAMP_SPACE, flags)
        self.received_ns = None
        for level, kind, stamp in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanoseconds = struct.unpack("qq", stamp[: struct.calcsize("qq")])
                self.received_ns = seconds * 1_000_000_000 + nanoseconds
        return data, address

    def arrival(self, clock: Callable[[], float]) -> float:
        """When the datagram being handled arrived, on `clock`'s time line: now less its age,
        taken on the wall clock after `clock` is read (now, when the kernel did not say)."""
        now = clock()
        if self.received_ns is None:
            return now
        return now - max(0, time.time_ns() - self.received_ns) / 1e9


class _MediaProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: VoiceServer, arrival: Callable[[], float]) -> None:
        self.server = server
        self.arrival = arrival
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        at = self.arrival()
        reply = self.server.receive_datagram(data, (str(addr[0]), int(addr[1])), at=at)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class VoiceServer:
    """The voice gateway (TLS) and media socket (UDP) of the local Discord.

    `on_change` is called whenever something was heard or a voice connection changed.
    `clock` gives the time each heard packet is stamped with (`HeardPacket.at`).
    `decode`: Opus-decode each sound packet into `Heard.pcm`; with False, packets and their
    times are kept but nothing is decoded, and `Heard.pcm` stays empty.
    `kernel_timestamps`: stamp each packet with the kernel's receive time of its datagram
    (SO_TIMESTAMPNS, Linux; put on `clock`'s time line as `clock()` less the datagram's age)
    instead of the moment this event loop handled it. Where the kernel gives no timestamp,
    the moment it was handled.
    """

    def __init__(
        self,
        *,
        on_change: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
        decode: bool = True,
        kernel_timestamps: bool = False,
    ) -> None:
        self._on_change = on_change
        self._clock = clock
        self._decodes = decode
        self._kernel_timestamps = kernel_timestamps
        self._ca = trustme.CA(key_type=trustme.KeyType.ECDSA)
        self._certificate = self._ca.issue_cert(HOST)
        self.sessions: dict[str, VoiceSession] = {}
        self.heard: dict[str, Heard] = {}
        self._by_ssrc: dict[int, VoiceSession] = {}
        self._speakers: dict[str, Speaker] = {}
        self._next_ssrc = 1000
        self._runner: web.AppRunner | None = None
        self._media: asyncio.DatagramTransport | None = None
        self._closing: set[asyncio.Task[bool]] = set()
        self.port = 0
        self.media_port = 0

    @property
    def endpoint(self) -> str:
        """What VOICE_SERVER_UPDATE names: `host:port` of the voice gateway."""
        return f"{HOST}:{self.port}"

    def client_ssl_context(self) -> ssl.SSLContext:
        """A context that trusts this server's certificate authority (and verifies hosts)."""
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._gateway)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._certificate.configure_cert(context)
        site = web.TCPSite(self._runner, HOST, 0, ssl_context=context)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.port = server.sockets[0].getsockname()[1]
        media: socket.socket
        arrival: Callable[[], float]
        if self._kernel_timestamps:
            stamped = media = _StampedDatagrams()
            arrival = partial(stamped.arrival, self._clock)
        else:
            media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            arrival = self._clock
        media.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, MEDIA_RECEIVE_BUFFER)
        media.bind((HOST, 0))
        media.setblocking(False)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _MediaProtocol(self, arrival), sock=media
        )
        self._media = transport
        self.media_port = media.getsockname()[1]

    async def stop(self) -> None:
        for task in list(self._closing):
            task.cancel()
        if self._media is not None:
            self._media.close()
            self._media = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def expect(
        self, *, token: str, guild_id: str, channel_id: str, user_id: str, session_id: str
    ) -> VoiceSession:
        """A connection the gateway announced (VOICE_SERVER_UPDATE): it may identify now."""
        self._next_ssrc += 1
        session = VoiceSession(token, guild_id, channel_id, user_id, session_id, self._next_ssrc)
        self.sessions[token] = session
        return session

    def end(
        self,
        *,
        guild_id: str,
        user_id: str,
        keep: VoiceSession | None = None,
        close_code: int | None = None,
    ) -> list[VoiceSession]:
        """End `user_id`'s voice sessions in `guild_id` but `keep`: their tokens identify no
        more and their packets are no longer heard. With `close_code`, their open voice
        websockets are closed with it (DISCONNECTED when the user moved to another channel).
        Returns the sessions ended."""
        ended = [
            session
            for session in self.sessions.values()
            if session.guild_id == guild_id and session.user_id == user_id and session is not keep
        ]
        for session in ended:
            del self.sessions[session.token]
            self._by_ssrc.pop(session.ssrc, None)
            connection = session.connection
            if close_code is not None and connection is not None and not connection.ws.closed:
                task = asyncio.get_running_loop().create_task(
                    connection.ws.close(code=close_code, message=b"Disconnected.")
                )
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        return ended

    async def relay(
        self, *, channel_id: str, user_id: str, opus: Sequence[bytes], pace: float = 0.0
    ) -> int:
        """`user_id` speaks `opus` (20 ms frames) in `channel_id`: every other connection there
        that finished its handshake gets SPEAKING with the member's ssrc, then one RTP packet
        per frame, `pace` seconds apart (0: all at once; 0.02: as a member talks). Returns how
        many connections it reached."""
        speaker = self._speakers.get(user_id)
        if speaker is None:
            self._next_ssrc += 1
            speaker = self._speakers[user_id] = Speaker(self._next_ssrc)
        listeners = [
            session
            for session in self.sessions.values()
            if session.channel_id == channel_id
            and session.user_id != user_id
            and session.mode is not None
            and session.address is not None
        ]
        for session in listeners:
            if session.connection is not None and not session.connection.ws.closed:
                speaking = {"user_id": user_id, "ssrc": speaker.ssrc, "speaking": 1}
                await session.connection.send(SPEAKING, speaking)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, frame in enumerate(opus):
            if pace > 0:
                await asyncio.sleep(max(0.0, start + index * pace - loop.time()))
            for session in listeners:
                self._send_rtp(session, speaker, frame)
            speaker.sequence = (speaker.sequence + 1) & 0xFFFF
            speaker.timestamp = (speaker.timestamp + SAMPLES_PER_FRAME) & 0xFFFFFFFF
        return len(listeners)

    def _send_rtp(self, session: VoiceSession, speaker: Speaker, opus: bytes) -> None:
        """One Opus frame to `session`'s client, encrypted as the `rtpsize` AEAD mode says:
        the RTP header is the associated data, a 4-byte counter the nonce, sent after it."""
        if self._media is None or session.address is None:
            return
        header = struct.pack(
            ">BBHII", RTP_VERSION, OPUS_PAYLOAD_TYPE, speaker.sequence, speaker.timestamp,
            speaker.ssrc,
        )  # fmt: skip
        nonce = struct.pack(">I", session.sent & 0xFFFFFFFF)
        session.sent += 1
        sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            opus, header, nonce.ljust(24, b"\x00"), session.secret_key
        )
        self._media.sendto(header + sealed + nonce, session.address)

    def heard_in(self, channel_id: str) -> Heard:
        """What was heard in `channel_id` so far (empty when nothing was)."""
        return self.heard.setdefault(channel_id, Heard())

    # --- the voice gateway -------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        socket = VoiceSocket(ws)
        session: VoiceSession | None = None
        await socket.send(HELLO, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS})
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            session = await self._answer(socket, session, json.loads(frame.data))
            self._on_change()
            if ws.closed:
                break
        if session is not None and session.connection is socket:
            session.connection = None
        self._on_change()
        return ws

    async def _answer(
        self, socket: VoiceSocket, session: VoiceSession | None, message: JSON
    ) -> VoiceSession | None:
        """Answer one message of the client; returns the session it has identified as."""
        op, data = message.get("op"), message.get("d") or {}
        if op == IDENTIFY:
            session = self.sessions.get(str(data.get("token")))
            if session is None or str(data.get("session_id")) != session.session_id:
                await socket.ws.close(code=4004, message=b"Authentication failed.")
                return None
            session.identified = True
            session.connection = socket
            ready = {
                "ssrc": session.ssrc,
                "ip": HOST,
                "port": self.media_port,
                "modes": list(MODES),
                "heartbeat_interval": 1,
            }
            await socket.send(READY, ready)
        elif op == SELECT_PROTOCOL and session is not None:
            mode = str(data.get("data", {}).get("mode"))
            if mode not in MODES:
                await socket.ws.close(code=4016, message=b"Unknown encryption mode.")
                return session
            session.mode = mode
            description = {
                "mode": mode,
                "secret_key": list(session.secret_key),
                "dave_protocol_version": 0,
            }
            await socket.send(SESSION_DESCRIPTION, description)
        elif op == HEARTBEAT:
            await socket.send(
                HEARTBEAT_ACK, {"t": data.get("t") if isinstance(data, dict) else data}
            )
        elif op == SPEAKING and session is not None:
            session.speaking.append(int(data.get("speaking", 0)))
        return session

    # --- the media socket --------------------------------------------------------------

    def receive_datagram(
        self, data: bytes, addr: tuple[str, int], *, at: float | None = None
    ) -> bytes | None:
        """Answer IP discovery; read an RTP packet, stamped `at` (when its datagram arrived,
        on `clock`'s time line; `clock()` when not given). Returns the reply to send, if any."""
        if len(data) == DISCOVERY_LENGTH and data[:2] == b"\x00\x01":
            ssrc = struct.unpack_from(">I", data, 4)[0]
            session = self._by_ssrc.get(ssrc) or self._session_of(ssrc)
            if session is not None:
                session.address = addr
            address = addr[0].encode().ljust(64, b"\x00")
            return struct.pack(">HHI", 2, 70, ssrc) + address + struct.pack(">H", addr[1])
        if len(data) > RTP_HEADER + NONCE_SUFFIX:
            self._packet(data, self._clock() if at is None else at)
        return None

    def _packet(self, data: bytes, at: float) -> None:
        _, _, sequence, timestamp, ssrc = struct.unpack_from(">BBHII", data)
        session = self._by_ssrc.get(ssrc) or self._session_of(ssrc)
        if session is None or session.mode is None:
            return
        heard = self.heard_in(session.channel_id)
        header = data[:RTP_HEADER]
        nonce = data[-NONCE_SUFFIX:].ljust(24, b"\x00")
        try:
            opus = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                data[RTP_HEADER:-NONCE_SUFFIX], header, nonce, session.secret_key
            )
        except nacl.exceptions.CryptoError:
            heard.undecryptable += 1
            self._on_change()
            return
        heard.packets.append(HeardPacket(at, sequence, timestamp, opus))
        if self._decodes and opus != SILENCE_FRAME:
            heard.pcm.extend(self._decode(session, opus))
        self._on_change()

    def _session_of(self, ssrc: int) -> VoiceSession | None:
        session = next((s for s in self.sessions.values() if s.ssrc == ssrc), None)
        if session is not None:
            self._by_ssrc[ssrc] = session
        return session

    @staticmethod
    def _decode(session: VoiceSession, opus: bytes) -> bytes:
        if session.decoder is None:
            decoder = av.CodecContext.create("opus", "r")
            assert isinstance(decoder, AudioCodecContext)
            decoder.sample_rate = 48000
            decoder.layout = "stereo"
            session.decoder = decoder
            session.resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000)
        assert session.resampler is not None
        pcm = bytearray()
        with contextlib.suppress(av.FFmpegError):
            for frame in session.decoder.decode(av.Packet(opus)):
                for out in session.resampler.resample(frame):
                    pcm.extend(bytes(out.planes[0])[: out.samples * 4])
        return bytes(pcm)


def opus_tone(seconds: float = 0.2, hz: float = 220.0) -> list[bytes]:
    """A member's voice for `relay`: a quiet tone as 20 ms Opus frames (48 kHz, stereo)."""
    encoder = av.CodecContext.create("libopus", "w")
    assert isinstance(encoder, AudioCodecContext)
    encoder.sample_rate = 48000
    encoder.layout = "stereo"
    encoder.format = "s16"
    frames: list[bytes] = []
    for index in range(max(1, round(seconds * 50))):
        start = index * SAMPLES_PER_FRAME
        levels = (
            round(4000 * math.sin(2 * math.pi * hz * (start + n) / 48000))
            for n in range(SAMPLES_PER_FRAME)
        )
        frame = av.AudioFrame(format="s16", layout="stereo", samples=SAMPLES_PER_FRAME)
        frame.planes[0].update(b"".join(struct.pack("<hh", level, level) for level in levels))
        frame.sample_rate = 48000
        frame.pts = start
        frames.extend(bytes(packet) for packet in encoder.encode(frame))
    frames.extend(bytes(packet) for packet in encoder.encode(None))
    return frames


class NotAudio(ValueError):
    """Bytes that FFmpeg cannot read as sound."""


def opus_frames(audio: bytes) -> list[bytes]:
    """A sound file in any format FFmpeg reads, as a member's voice for `relay`: 20 ms Opus
    frames (48 kHz, stereo). Raises `NotAudio` for anything else, or a file without sound."""
    pcm = bytearray()
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000)
    try:
        with av.open(io.BytesIO(audio), "r") as container:
            if not container.streams.audio:
                raise NotAudio("it has no audio stream")
            for decoded in container.decode(container.streams.audio[0]):
                for frame in resampler.resample(decoded):
                    pcm += bytes(frame.planes[0])[: frame.samples * 4]
    except av.FFmpegError as error:
        raise NotAudio(f"FFmpeg cannot read it ({error.strerror or error})") from error
    if not pcm:
        raise NotAudio("it holds no sound")
    pcm += bytes(-len(pcm) % PCM_FRAME_BYTES)
    encoder = av.CodecContext.create("libopus", "w")
    assert isinstance(encoder, AudioCodecContext)
    encoder.sample_rate = 48000
    encoder.layout = "stereo"
    encoder.format = "s16"
    frames: list[bytes] = []
    for index, at in enumerate(range(0, len(pcm), PCM_FRAME_BYTES)):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=SAMPLES_PER_FRAME)
        frame.planes[0].update(bytes(pcm[at : at + PCM_FRAME_BYTES]))
        frame.sample_rate = 48000
        frame.pts = index * SAMPLES_PER_FRAME
        frames.extend(bytes(packet) for packet in encoder.encode(frame))
    frames.extend(bytes(packet) for packet in encoder.encode(None))
    return frames
