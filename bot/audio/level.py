"""How loud audio is: the loudest tenth of a second, measured by decoding it with PyAV.

A recording that holds nothing to hear (a muted microphone, a voice message of room noise)
is told apart from one that holds a voice by its loudest 100 ms: a voice reaches -30 dBFS
RMS or more, the quiet between words and a muted microphone stay far below that.
"""

from __future__ import annotations

import array
import asyncio
import math
import operator
import time
from dataclasses import dataclass

import av

from bot.audio.errors import AudioTooLong, NotAudio, TranscodeError
from bot.audio.probe import AudioInput, open_audio

WINDOW_SECONDS = 0.1
"""The span each loudness is measured over."""
_MEASURE_RATE = 8000
"""The audio is measured at this rate, in mono: enough for a voice, and cheap to sum."""
_WINDOW = round(_MEASURE_RATE * WINDOW_SECONDS)
_FULL_SCALE = 32768.0
SILENT_DBFS = -math.inf
"""The level of digital silence."""


@dataclass(frozen=True, slots=True)
class AudioLevel:
    """What `measure_level` found: the decoded length and the loudest 100 ms."""

    seconds: float
    loudest_dbfs: float
    """RMS of the loudest 100 ms window, in dB relative to full scale (0 at most);
    `-inf` when every sample is zero."""


def measure_level(
    source: AudioInput, *, longest: float | None = None, time_limit: float | None = None
) -> AudioLevel:
    """Decode `source` and measure its length and its loudest 100 ms (mono, RMS).

    Raises `NotAudio` when it does not decode to any sample, or when decoding takes longer than
    `time_limit` seconds, and `AudioTooLong` as soon as more than `longest` seconds have been
    decoded (the rest is not read).
    """
    container, stream = open_audio(source)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=_MEASURE_RATE)
    give_up_at = None if time_limit is None else time.monotonic() + time_limit
    seconds = 0.0
    pending = array.array("h")
    loudest = 0.0
    with container:
        try:
            for decoded in container.decode(stream):
                seconds += decoded.samples / decoded.sample_rate
                if longest is not None and seconds > longest:
                    raise AudioTooLong(longest)
                if give_up_at is not None and time.monotonic() > give_up_at:
                    raise NotAudio(f"it took more than {time_limit:g} s to read")
                decoded.pts = None
                for frame in resampler.resample(decoded):
                    pending.frombytes(bytes(frame.planes[0])[: frame.samples * 2])
                loudest = max(loudest, _loudest_window(pending))
                del pending[: len(pending) - len(pending) % _WINDOW]
        except av.FFmpegError as error:
            if seconds == 0:
                raise NotAudio(f"the audio cannot be decoded ({error.strerror})") from None
            raise TranscodeError(f"could not decode the audio: {error}") from None
        for frame in resampler.resample(None):
            pending.frombytes(bytes(frame.planes[0])[: frame.samples * 2])
    if seconds <= 0:
        raise NotAudio("the audio has zero length")
    loudest = max(loudest, _rms(pending))
    return AudioLevel(seconds, 20 * math.log10(loudest) if loudest > 0 else SILENT_DBFS)


async def measure_level_async(
    source: AudioInput, *, longest: float | None = None, time_limit: float | None = None
) -> AudioLevel:
    """`measure_level` in a worker thread, so the event loop keeps running."""
    return await asyncio.to_thread(measure_level, source, longest=longest, time_limit=time_limit)


def _loudest_window(samples: array.array[int]) -> float:
    """The RMS (0..1) of the loudest whole window of `samples`."""
    whole = len(samples) - len(samples) % _WINDOW
    return max(
        (_rms(samples[start : start + _WINDOW]) for start in range(0, whole, _WINDOW)),
        default=0.0,
    )


def _rms(samples: array.array[int]) -> float:
    if not samples:
        return 0.0
    return math.sqrt(sum(map(operator.mul, samples, samples)) / len(samples)) / _FULL_SCALE
