"""Audio for voice channels: 20 ms frames at 48 kHz stereo, as Opus packets or raw PCM.

Both streams decode lazily, one frame per `read()`, so a long track never sits in memory.
They match what a voice player pulls from its source: `read()` gives one 20 ms frame and
`b""` at the end; `is_opus()` says which kind it is.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from fractions import Fraction
from types import TracebackType

import av
from av.audio.codeccontext import AudioCodecContext

from bot.audio.errors import TranscodeError
from bot.audio.probe import AudioInput, open_audio

SAMPLE_RATE = 48000
CHANNELS = 2
FRAME_SAMPLES = 960
"""Samples per channel in one 20 ms frame."""
FRAME_DURATION = FRAME_SAMPLES / SAMPLE_RATE
PCM_FRAME_BYTES = FRAME_SAMPLES * CHANNELS * 2
"""Bytes of one 20 ms frame of s16le stereo: 3840."""

DEFAULT_OPUS_BITRATE_KBPS = 128


class _VoiceFrames:
    """Decodes a file lazily into 960-sample s16 stereo 48 kHz frames; the last is zero-padded."""

    def __init__(self, source: AudioInput) -> None:
        self._container, stream = open_audio(source)
        self._decoded: Iterator[av.AudioFrame] = self._container.decode(stream)
        self._resampler: av.AudioResampler | None = None
        self._input_shape: tuple[str, str, int] | None = None
        self._ready: deque[av.AudioFrame] = deque()
        self._exhausted = False

    def next_frame(self) -> av.AudioFrame | None:
        """The next frame, or None once the audio has ended or the stream was closed."""
        while not self._ready:
            if self._exhausted:
                return None
            self._pull()
        return self._ready.popleft()

    def close(self) -> None:
        """Release the decoder and the file; later calls return no frames."""
        self._exhausted = True
        self._ready.clear()
        self._container.close()

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


class PCMFrameStream:
    """3840-byte frames of s16le 48 kHz stereo PCM (20 ms each), decoded lazily from a file.

    Every frame is full length: the last one is padded with silence. `read()` returns
    `b""` after the last frame and after `close()`.
    """

    def __init__(self, source: AudioInput) -> None:
        self._frames = _VoiceFrames(source)

    def read(self) -> bytes:
        """The next 20 ms of audio, or `b""` at the end."""
        frame = self._frames.next_frame()
        return b"" if frame is None else _pcm_bytes(frame)

    def is_opus(self) -> bool:
        """False: this stream gives raw PCM for the player to encode."""
        return False

    def close(self) -> None:
        """Release the decoder and the file."""
        self._frames.close()

    def __enter__(self) -> PCMFrameStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class OpusPacketStream:
    """20 ms Opus packets (48 kHz stereo) encoded lazily from a file, one per `read()`.

    Exactly one packet per 960-sample frame of the source resampled to 48 kHz, so a source
    of N samples at 48 kHz gives ceil(N / 960) packets; the last frame is padded with
    silence. The encoder is not drained past that count, so its 6.5 ms lookahead of the
    final frame is not sent.
    """

    def __init__(
        self, source: AudioInput, *, bitrate_kbps: int = DEFAULT_OPUS_BITRATE_KBPS
    ) -> None:
        self._encoder = _opus_encoder(bitrate_kbps)
        self._frames = _VoiceFrames(source)
        self._packets: deque[bytes] = deque()

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
        return self._packets.popleft()

    def is_opus(self) -> bool:
        """True: the packets go to the voice connection as they are."""
        return True

    def close(self) -> None:
        """Release the decoder and the file."""
        self._packets.clear()
        self._frames.close()

    def __enter__(self) -> OpusPacketStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _opus_encoder(bitrate_kbps: int) -> AudioCodecContext:
    encoder = av.CodecContext.create("libopus", "w")
    assert isinstance(encoder, AudioCodecContext)
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
    encoder.open()
    return encoder
