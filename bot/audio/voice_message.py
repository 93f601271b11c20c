"""Discord voice messages: audio as Discord's own clients record it, with its length and waveform.

Discord documents what its clients upload (as of 2023-04-14): one channel, 48 kHz, 32 kb/s Opus
in an Ogg container, with the attachment's `duration_secs` and a `waveform` of one byte per
point, sampled at most every 100 ms and never more than 256 points, sent base64-encoded.
`encode_voice_message` makes all three from any audio PyAV reads, in one decoding pass.
"""

from __future__ import annotations

import array
import asyncio
import base64
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
from av.audio.stream import AudioStream

from bot.audio.errors import NotAudio, TranscodeError
from bot.audio.probe import AudioInput, open_audio
from bot.audio.waveform import regroup_peaks

VOICE_MESSAGE_RATE = 48000
VOICE_MESSAGE_BITRATE_KBPS = 32
VOICE_MESSAGE_CONTENT_TYPE = "audio/ogg"
VOICE_MESSAGE_FILENAME = "voice-message.ogg"
WAVEFORM_STEP = 0.1
"""Seconds between two waveform points at most (Discord's clients sample every 100 ms)."""
WAVEFORM_MAX_POINTS = 256
"""The most points a waveform has; longer messages are downsampled to this many."""
_FRAME_SAMPLES = 960
"""20 ms at 48 kHz: the Opus frame the encoder is fed."""
_BLOCK_SAMPLES = 480
"""Samples summarised by one peak (10 ms) before the peaks are regrouped into points."""


@dataclass(frozen=True, slots=True)
class VoiceMessageAudio:
    """A voice message's file and the metadata Discord requires with it."""

    ogg: bytes
    """Ogg Opus, mono, 48 kHz."""
    duration_secs: float
    waveform: bytes
    """One byte (0 silent, 255 full scale) per point; at most 256 points."""

    @property
    def waveform_base64(self) -> str:
        """The waveform as the attachment's `waveform` field carries it."""
        return base64.b64encode(self.waveform).decode("ascii")


def waveform_points(duration: float) -> int:
    """How many waveform points a message of `duration` seconds has: one per 100 ms, at most
    256, at least one."""
    return max(1, min(WAVEFORM_MAX_POINTS, math.ceil(round(duration / WAVEFORM_STEP, 6))))


def encode_voice_message(source: AudioInput) -> VoiceMessageAudio:
    """`source` as a voice message: mono 48 kHz Opus at 32 kb/s in Ogg, its exact length
    (the samples encoded, at 48 kHz) and its peak waveform.

    Raises `NotAudio` when `source` is not audio or holds no sample, `TranscodeError` when
    decoding or encoding fails part-way.
    """
    container, stream = open_audio(source)
    output = io.BytesIO()
    peaks: list[int] = []
    samples = 0
    with container:
        try:
            with av.open(output, mode="w", format="ogg") as muxer:
                encoder = muxer.add_stream("libopus", rate=VOICE_MESSAGE_RATE, layout="mono")
                _configure(encoder)
                resampler = av.AudioResampler(
                    format="s16", layout="mono", rate=VOICE_MESSAGE_RATE, frame_size=_FRAME_SAMPLES
                )
                for decoded in _decoded(container, stream):
                    for frame in resampler.resample(decoded):
                        samples += _encode(muxer, encoder, frame, peaks)
                for frame in resampler.resample(None):
                    samples += _encode(muxer, encoder, frame, peaks)
                if samples == 0:
                    raise NotAudio("the audio has zero length")
                muxer.mux(encoder.encode(None))
        except av.FFmpegError as error:
            raise TranscodeError(f"could not encode the voice message: {error}") from None
    duration = samples / VOICE_MESSAGE_RATE
    points = regroup_peaks(peaks, waveform_points(duration))
    return VoiceMessageAudio(
        output.getvalue(), duration, bytes(round(point * 255) for point in points)
    )


async def encode_voice_message_async(source: AudioInput) -> VoiceMessageAudio:
    """`encode_voice_message` in a worker thread, so the event loop keeps running."""
    return await asyncio.to_thread(encode_voice_message, source)


def _configure(encoder: AudioStream) -> None:
    context = encoder.codec_context
    context.format = "s16"
    context.bit_rate = VOICE_MESSAGE_BITRATE_KBPS * 1000
    context.time_base = Fraction(1, VOICE_MESSAGE_RATE)
    context.options = {"application": "voip", "frame_duration": "20", "vbr": "constrained"}


def _decoded(
    container: av.container.InputContainer, stream: AudioStream
) -> Iterator[av.AudioFrame]:
    """The decoded frames of `stream`, timestamps dropped (they are played back to back); a
    damaged end is left out, a file that decodes to nothing is `NotAudio`."""
    decoding = container.decode(stream)
    given = False
    while True:
        try:
            frame = next(decoding, None)
        except av.FFmpegError as error:
            if given:
                return
            raise NotAudio(f"the audio cannot be decoded ({error.strerror})") from None
        if frame is None:
            return
        given = True
        frame.pts = None
        yield frame


def _encode(
    muxer: av.container.OutputContainer,
    encoder: AudioStream,
    frame: av.AudioFrame,
    peaks: list[int],
) -> int:
    """Encode one mono s16 frame, note its 10 ms peaks; the samples it held."""
    values = array.array("h")
    values.frombytes(bytes(frame.planes[0])[: frame.samples * 2])
    for start in range(0, len(values), _BLOCK_SAMPLES):
        block = values[start : start + _BLOCK_SAMPLES]
        peaks.append(max(max(block), -min(block)))
    muxer.mux(encoder.encode(frame))
    return frame.samples
