"""Audio for voice channels: 20 ms frames at 48 kHz stereo, as Opus packets or raw PCM.

A track is encoded once to an Ogg Opus voice copy (`encode_opus`) kept next to it
(`stored_opus_path`); `StoredOpusStream` replays that copy's packets without decoding or
encoding anything. `OpusPacketStream` and `PCMFrameStream` decode the track itself,
lazily, one frame per `read()`, so a long track never sits in memory; they can change the
volume, which packets stored as Opus cannot.

Every stream matches what a voice player pulls from its source: `read()` gives one 20 ms
frame and `b""` at the end; `is_opus()` says which kind it is. Frame i of every stream
covers seconds `i * 0.02` to `(i + 1) * 0.02` of the track, so a stream opened with
`start=stream.position` of another carries on where that one stopped.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Generator, Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

import av
import av.filter
from av.audio.codeccontext import AudioCodecContext
from av.audio.stream import AudioStream
from av.packet import Packet

from bot.audio.errors import NotAudio, TranscodeError
from bot.audio.probe import AudioInput, open_audio

SAMPLE_RATE = 48000
CHANNELS = 2
FRAME_SAMPLES = 960
"""Samples per channel in one 20 ms frame."""
FRAME_DURATION = FRAME_SAMPLES / SAMPLE_RATE
PCM_FRAME_BYTES = FRAME_SAMPLES * CHANNELS * 2
"""Bytes of one 20 ms frame of s16le stereo: 3840."""

DEFAULT_OPUS_BITRATE_KBPS = 128

VOICE_COPY_SUFFIX = ".voice.ogg"
"""Appended to a track's file name to name its stored voice copy."""


def stored_opus_path(audio_path: Path) -> Path:
    """Where the voice copy of the track at `audio_path` is kept: beside it, `<name>.voice.ogg`."""
    return audio_path.with_name(audio_path.name + VOICE_COPY_SUFFIX)


def _frame_at(start: float) -> int:
    """The number of the 20 ms frame that holds second `start` of a track, counting from 0."""
    if not (math.isfinite(start) and start >= 0):
        raise ValueError(f"start must be a number of seconds, 0 or more, not {start}")
    # Rounding to a whole sample first keeps 1.14 s in frame 57; 1.14 / 0.02 floors to 56.
    return round(start * SAMPLE_RATE) // FRAME_SAMPLES


def _seconds(frames: int) -> float:
    return frames * FRAME_SAMPLES / SAMPLE_RATE


class _Volume:
    """Scales the samples of s16 stereo 48 kHz frames by a fixed factor, clipped to int16."""

    def __init__(self, factor: float) -> None:
        graph = av.filter.Graph()
        graph.link_nodes(
            graph.add_abuffer(
                sample_rate=SAMPLE_RATE,
                format="s16",
                layout="stereo",
                time_base=Fraction(1, SAMPLE_RATE),
            ),
            graph.add("volume", volume=repr(factor), precision="float"),
            # The volume filter multiplies in float; the conversion back to s16 clips.
            graph.add(
                "aformat",
                sample_fmts="s16",
                channel_layouts="stereo",
                sample_rates=str(SAMPLE_RATE),
            ),
            graph.add("abuffersink"),
        ).configure()
        self._graph = graph

    @classmethod
    def for_factor(cls, factor: float) -> _Volume | None:
        """A scaler for `factor`, or None for 1.0, which leaves every sample as it is."""
        if not (math.isfinite(factor) and factor >= 0):
            raise ValueError(f"volume must be a finite factor, 0 or more, not {factor}")
        return None if factor == 1.0 else cls(factor)

    def apply(self, frame: av.AudioFrame) -> av.AudioFrame:
        """`frame` with every sample multiplied by the factor, as a new frame of the same length."""
        self._graph.push(frame)
        scaled = self._graph.pull()
        assert isinstance(scaled, av.AudioFrame)
        return scaled


class _VoiceFrames:
    """Decodes a file lazily into 960-sample s16 stereo 48 kHz frames; the last is zero-padded.

    The first `skip` frames are decoded and dropped when it is made; `skipped` says how many
    there were (fewer when the audio is shorter). Frames given out are scaled by `volume`.
    """

    def __init__(
        self, source: AudioInput, *, skip: int = 0, volume: float = 1.0, arriving: bool = False
    ) -> None:
        self._volume = _Volume.for_factor(volume)
        self._container, stream = open_audio(source, arriving=arriving)
        self._decoded: Iterator[av.AudioFrame] = self._container.decode(stream)
        self._resampler: av.AudioResampler | None = None
        self._input_shape: tuple[str, str, int] | None = None
        self._ready: deque[av.AudioFrame] = deque()
        self._exhausted = False
        self.skipped = 0
        try:
            while self.skipped < skip and self._next_unscaled() is not None:
                self.skipped += 1
        except BaseException:
            self.close()
            raise

    def next_frame(self) -> av.AudioFrame | None:
        """The next frame, or None once the audio has ended or the stream was closed."""
        frame = self._next_unscaled()
        if frame is None or self._volume is None:
            return frame
        return self._volume.apply(frame)

    def close(self) -> None:
        """Release the decoder and the file; later calls return no frames."""
        self._exhausted = True
        self._ready.clear()
        self._container.close()

    def _next_unscaled(self) -> av.AudioFrame | None:
        while not self._ready:
            if self._exhausted:
                return None
            self._pull()
        return self._ready.popleft()

    def _pull(self) -> None:
        try:
            decoded = next(self._decoded, None)
        except av.FFmpegError as error:
            raise TranscodeError(f"could not decode the audio: {error}") from None
        if decoded is None:
            self._exhausted = True
            self._queue(self._flush())
            return
        # Frames are played back to back, so source timestamps (which may jump) are dropped.
        decoded.pts = None
        self._queue(self._resampler_for(decoded).resample(decoded))

    def _resampler_for(self, decoded: av.AudioFrame) -> av.AudioResampler:
        shape = (decoded.format.name, decoded.layout.name, decoded.sample_rate)
        if self._resampler is None or shape != self._input_shape:
            # A chained stream may change rate or layout mid-way; a resampler handles one shape.
            self._queue(self._flush())
            self._resampler = av.AudioResampler(
                format="s16", layout="stereo", rate=SAMPLE_RATE, frame_size=FRAME_SAMPLES
            )
            self._input_shape = shape
        return self._resampler

    def _flush(self) -> list[av.AudioFrame]:
        return self._resampler.resample(None) if self._resampler is not None else []

    def _queue(self, frames: list[av.AudioFrame]) -> None:
        self._ready.extend(_padded(frame) for frame in frames if frame.samples > 0)


def _padded(frame: av.AudioFrame) -> av.AudioFrame:
    if frame.samples == FRAME_SAMPLES:
        return frame
    full = av.AudioFrame(format="s16", layout="stereo", samples=FRAME_SAMPLES)
    full.sample_rate = SAMPLE_RATE
    full.planes[0].update(_pcm_bytes(frame).ljust(PCM_FRAME_BYTES, b"\0"))
    return full


def _pcm_bytes(frame: av.AudioFrame) -> bytes:
    """The s16 interleaved samples of `frame`, without the plane's alignment padding."""
    return bytes(frame.planes[0])[: frame.samples * frame.layout.nb_channels * 2]


class _Stream(ABC):
    """What the voice streams share: `close()`, and closing at the end of a `with` block."""

    @abstractmethod
    def close(self) -> None:
        """Release what the stream holds; later reads return `b""`."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class PCMFrameStream(_Stream):
    """3840-byte frames of s16le 48 kHz stereo PCM (20 ms each), decoded lazily from a file.

    Every frame is full length: the last one is padded with silence. `read()` returns
    `b""` after the last frame and after `close()`.

    `start` begins at the frame that holds that second; the frames before it are decoded
    and dropped when the stream is made, so make it off the event loop. `volume` multiplies
    every sample, clipped to the int16 range; 1.0 leaves them untouched.
    """

    def __init__(self, source: AudioInput, *, start: float = 0.0, volume: float = 1.0) -> None:
        self._frames = _VoiceFrames(source, skip=_frame_at(start), volume=volume)
        self._index = self._frames.skipped

    @property
    def position(self) -> float:
        """Seconds into the track at which the next frame starts (a multiple of 0.02)."""
        return _seconds(self._index)

    def read(self) -> bytes:
        """The next 20 ms of audio, or `b""` at the end."""
        frame = self._frames.next_frame()
        if frame is None:
            return b""
        self._index += 1
        return _pcm_bytes(frame)

    def is_opus(self) -> bool:
        """False: this stream gives raw PCM for the player to encode."""
        return False

    def close(self) -> None:
        """Release the decoder and the file."""
        self._frames.close()


class OpusPacketStream(_Stream):
    """20 ms Opus packets (48 kHz stereo) encoded lazily from a file, one per `read()`.

    Exactly one packet per 960-sample frame of the source resampled to 48 kHz, so a source
    of N samples at 48 kHz gives ceil(N / 960) packets; the last frame is padded with
    silence. The encoder is not drained past that count, so its 6.5 ms lookahead of the
    final frame is not sent.

    `start` begins at the packet that holds that second; the audio before it is decoded
    (not encoded) and dropped when the stream is made, so make it off the event loop.
    `volume` multiplies every sample before encoding, clipped to the int16 range; 1.0
    leaves them untouched. Playing a voice copy with `StoredOpusStream` costs far less;
    this stream is for what a copy cannot do, such as another volume.

    `arriving`: `source` is a file still arriving (a `GrowingBuffer`): it is opened from its
    first bytes, and each `read()` waits until enough has come for the next packet.
    """

    def __init__(
        self,
        source: AudioInput,
        *,
        start: float = 0.0,
        volume: float = 1.0,
        bitrate_kbps: int = DEFAULT_OPUS_BITRATE_KBPS,
        arriving: bool = False,
    ) -> None:
        self._encoder = _opus_encoder(bitrate_kbps)
        self._frames = _VoiceFrames(source, skip=_frame_at(start), volume=volume, arriving=arriving)
        self._packets: deque[bytes] = deque()
        self._index = self._frames.skipped

    @property
    def position(self) -> float:
        """Seconds into the track at which the next packet starts (a multiple of 0.02)."""
        return _seconds(self._index)

    def read(self) -> bytes:
        """The next Opus packet, or `b""` at the end."""
        while not self._packets:
            frame = self._frames.next_frame()
            if frame is None:
                return b""
            try:
                self._packets.extend(bytes(packet) for packet in self._encoder.encode(frame))
            except av.FFmpegError as error:
                raise TranscodeError(f"could not encode Opus: {error}") from None
        self._index += 1
        return self._packets.popleft()

    def is_opus(self) -> bool:
        """True: the packets go to the voice connection as they are."""
        return True

    def close(self) -> None:
        """Release the decoder and the file."""
        self._packets.clear()
        self._frames.close()


def encode_opus(
    source: AudioInput, dest: Path, *, bitrate_kbps: int = DEFAULT_OPUS_BITRATE_KBPS
) -> Path:
    """Encode `source` once into an Ogg Opus voice copy at `dest` (replacing it); return `dest`.

    The copy holds the packets `OpusPacketStream` would make from `source`: one 20 ms
    packet of 48 kHz stereo per 960-sample frame, ceil(N / 960) for N samples at 48 kHz,
    ready for `StoredOpusStream` to send as they are. It is written under a temporary name
    in the same directory, flushed to disk and renamed into place, so `dest` is never
    partial: until the rename it is missing or the previous copy.

    Raises `NotAudio` when `source` is not audio or holds no samples, and `TranscodeError`
    when decoding or encoding fails part-way; on any failure the temporary file is removed
    and `dest` is left as it was.
    """
    partial = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    frames = _VoiceFrames(source)
    try:
        with partial.open("xb") as file:
            _write_ogg_opus(frames, file, bitrate_kbps)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(dest)
    except av.FFmpegError as error:
        raise TranscodeError(f"could not encode an Opus voice copy: {error}") from None
    finally:
        frames.close()
        partial.unlink(missing_ok=True)
    return dest


async def encode_opus_async(
    source: AudioInput, dest: Path, *, bitrate_kbps: int = DEFAULT_OPUS_BITRATE_KBPS
) -> Path:
    """`encode_opus` in a worker thread, so the event loop keeps running."""
    return await asyncio.to_thread(encode_opus, source, dest, bitrate_kbps=bitrate_kbps)


def _write_ogg_opus(frames: _VoiceFrames, file: BinaryIO, bitrate_kbps: int) -> None:
    with av.open(file, mode="w", format="ogg") as output:
        stream = output.add_stream("libopus", rate=SAMPLE_RATE, layout="stereo")
        _configure_opus(stream.codec_context, bitrate_kbps)
        written = 0
        while (frame := frames.next_frame()) is not None:
            output.mux(stream.encode(frame))
            written += 1
        if written == 0:
            raise NotAudio("the audio has zero length")
        # Not drained, like OpusPacketStream: one packet per frame and no more.


class StoredOpusStream(_Stream):
    """The packets of a voice copy made by `encode_opus`, sent as stored, one per `read()`.

    Nothing is decoded or encoded: each `read()` takes the next packet out of the Ogg
    container, so playing costs a few microseconds of CPU per 20 ms. The copy is opened when
    the stream is made, so a missing or damaged copy fails there (`OSError`, `NotAudio`),
    before a packet is read. `start` begins at the packet that holds that second; the
    packets before it are read past when the stream is made, at about 2 µs each.
    """

    def __init__(self, path: Path, start: float = 0.0) -> None:
        skip = _frame_at(start)
        self._container, stream = open_audio(path)
        try:
            if stream.codec.canonical_name != "opus":
                raise NotAudio(f"{path.name} is not an Opus voice copy")
            self._packets = _stored_packets(self._container.demux(stream))
            self._index = 0
            while self._index < skip and next(self._packets, None) is not None:
                self._index += 1
        except BaseException:
            self._container.close()
            raise

    @property
    def position(self) -> float:
        """Seconds into the track at which the next packet starts (a multiple of 0.02)."""
        return _seconds(self._index)

    def read(self) -> bytes:
        """The next Opus packet as stored, or `b""` at the end."""
        packet = next(self._packets, None)
        if packet is None:
            return b""
        self._index += 1
        return bytes(packet)

    def is_opus(self) -> bool:
        """True: the packets go to the voice connection as they are."""
        return True

    def close(self) -> None:
        """Release the file; later reads return `b""`."""
        self._packets.close()
        self._container.close()


def _stored_packets(
    demuxed: Iterator[Packet[AudioStream]],
) -> Generator[Packet[AudioStream], None, None]:
    """The audio packets of a demuxed Ogg Opus stream, without the empty end-of-stream ones.

    The OpusHead and OpusTags header packets are never among them: the demuxer keeps those
    as the stream's extradata.
    """
    try:
        for packet in demuxed:
            if packet.size:
                yield packet
    except av.FFmpegError as error:
        raise TranscodeError(f"could not read the Opus voice copy: {error}") from None


def _opus_encoder(bitrate_kbps: int) -> AudioCodecContext:
    encoder = av.CodecContext.create("libopus", "w")
    assert isinstance(encoder, AudioCodecContext)
    _configure_opus(encoder, bitrate_kbps)
    encoder.open()
    return encoder


def _configure_opus(encoder: AudioCodecContext, bitrate_kbps: int) -> None:
    encoder.sample_rate = SAMPLE_RATE
    encoder.layout = "stereo"
    encoder.format = "s16"
    encoder.bit_rate = bitrate_kbps * 1000
    encoder.time_base = Fraction(1, SAMPLE_RATE)
    # Music, 20 ms frames, and in-band FEC for 15 % loss, as discord.py's own encoder uses.
    encoder.options = {
        "application": "audio",
        "frame_duration": "20",
        "fec": "1",
        "packet_loss": "15",
    }
