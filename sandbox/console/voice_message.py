"""A member's voice message, recorded as Discord's clients record one: any sound file becomes
one Ogg Opus file (mono, 48 kHz, 32 kb/s) with its `duration_secs` and its `waveform` (one
byte per 100 ms at most, never more than 256, base64), to be posted with IS_VOICE_MESSAGE.

Made with PyAV alone: the sandbox stands in for Discord's client and does not use the bot's
own encoder.
"""

from __future__ import annotations

import array
import base64
import io
import math
from dataclasses import dataclass
from fractions import Fraction

import av
from av.audio.stream import AudioStream

from sandbox.discord.rules import IS_VOICE_MESSAGE, WAVEFORM_MAX_POINTS
from sandbox.discord.voice import NotAudio

__all__ = ["IS_VOICE_MESSAGE", "VoiceRecording", "record_voice_message"]

FILENAME = "voice-message.ogg"
"""What Discord's clients call the file of a voice message."""
CONTENT_TYPE = "audio/ogg"
RATE = 48000
BIT_RATE = 32000
FRAME_SAMPLES = 960
"""20 ms at 48 kHz: the Opus frame."""
POINT_SECONDS = 0.1
"""Seconds between two waveform points at most."""
_PEAK_SAMPLES = 480
"""Samples summed up by one peak (10 ms), before the peaks are grouped into points."""
_FULL_SCALE = 32768


@dataclass(frozen=True)
class VoiceRecording:
    """The file of a voice message and the metadata its attachment carries."""

    ogg: bytes
    duration_secs: float
    waveform: str
    """Base64 of one byte per point (0 silent, 255 full scale)."""

    @property
    def points(self) -> bytes:
        return base64.b64decode(self.waveform)


def waveform_points(seconds: float) -> int:
    """One point per 100 ms (the last one partial), at least one, at most 256."""
    return max(1, min(WAVEFORM_MAX_POINTS, math.ceil(round(seconds / POINT_SECONDS, 6))))


def record_voice_message(audio: bytes) -> VoiceRecording:
    """`audio` (any format FFmpeg reads) as a voice message. Raises `NotAudio` for a file
    without an audio stream, one FFmpeg cannot read, or one that holds no sound."""
    peaks: list[int] = []
    output = io.BytesIO()
    samples = 0
    try:
        with av.open(io.BytesIO(audio), "r") as source:
            if not source.streams.audio:
                raise NotAudio("it has no audio stream")
            with av.open(output, "w", format="ogg") as muxer:
                encoder = muxer.add_stream("libopus", rate=RATE, layout="mono")
                _configure(encoder)
                resampler = av.AudioResampler(
                    format="s16", layout="mono", rate=RATE, frame_size=FRAME_SAMPLES
                )
                for decoded in source.decode(source.streams.audio[0]):
                    decoded.pts = None
                    for frame in resampler.resample(decoded):
                        samples += _encode(muxer, encoder, frame, peaks)
                for frame in resampler.resample(None):
                    samples += _encode(muxer, encoder, frame, peaks)
                if samples == 0:
                    raise NotAudio("it holds no sound")
                muxer.mux(encoder.encode(None))
    except av.FFmpegError as error:
        raise NotAudio(f"FFmpeg cannot read it ({error.strerror or error})") from error
    duration = samples / RATE
    points = _grouped(peaks, waveform_points(duration))
    return VoiceRecording(output.getvalue(), duration, base64.b64encode(points).decode("ascii"))


def _configure(encoder: AudioStream) -> None:
    context = encoder.codec_context
    context.format = "s16"
    context.bit_rate = BIT_RATE
    context.time_base = Fraction(1, RATE)
    context.options = {"application": "voip", "frame_duration": "20"}


def _encode(
    muxer: av.container.OutputContainer,
    encoder: AudioStream,
    frame: av.AudioFrame,
    peaks: list[int],
) -> int:
    """Encode one mono s16 frame and note the peak of each 10 ms of it; its sample count."""
    values = array.array("h")
    values.frombytes(bytes(frame.planes[0])[: frame.samples * 2])
    for start in range(0, len(values), _PEAK_SAMPLES):
        block = values[start : start + _PEAK_SAMPLES]
        peaks.append(max(max(block), -min(block)))
    muxer.mux(encoder.encode(frame))
    return frame.samples


def _grouped(peaks: list[int], points: int) -> bytes:
    """`points` bytes, each the highest peak of an equal share of `peaks`, scaled to 0-255."""
    count = len(peaks)
    result = bytearray()
    for index in range(points):
        start = index * count // points
        end = max((index + 1) * count // points, start + 1)
        highest = max(peaks[start:end], default=0)
        result.append(min(255, round(highest / _FULL_SCALE * 255)))
    return bytes(result)
