"""Peak-amplitude envelopes of audio files, for track cards and voice-message waveforms."""

from __future__ import annotations

import array
import asyncio

import av

from bot.audio.errors import TranscodeError
from bot.audio.probe import AudioInput, open_audio

_BLOCK_FRAMES = 256
"""Samples per channel summarised by one intermediate peak, before regrouping into points."""

_FULL_SCALE = 32768


def waveform(source: AudioInput, points: int = 64) -> list[float]:
    """`points` peak amplitudes in 0..1, each over an equal share of the audio.

    Raises `NotAudio` if `source` is not audio, `TranscodeError` if decoding fails.
    """
    if points < 1:
        raise ValueError("points must be at least 1")
    return regroup_peaks(_block_peaks(source), points)


async def waveform_async(source: AudioInput, points: int = 64) -> list[float]:
    """`waveform` in a worker thread, so the event loop keeps running."""
    return await asyncio.to_thread(waveform, source, points)


def _block_peaks(source: AudioInput) -> list[int]:
    container, stream = open_audio(source)
    # Interleaved s16 at the source rate and layout: peaks survive, no filtering smooths them.
    resampler = av.AudioResampler(format="s16")
    peaks: list[int] = []
    with container:
        try:
            for decoded in container.decode(stream):
                decoded.pts = None
                for frame in resampler.resample(decoded):
                    peaks.extend(_frame_peaks(frame))
        except av.FFmpegError as error:
            raise TranscodeError(f"could not decode the audio: {error}") from None
    return peaks


def _frame_peaks(frame: av.AudioFrame) -> list[int]:
    channels = frame.layout.nb_channels
    samples = array.array("h")
    samples.frombytes(bytes(frame.planes[0])[: frame.samples * channels * 2])
    step = _BLOCK_FRAMES * channels
    return [_peak(samples[start : start + step]) for start in range(0, len(samples), step)]


def _peak(samples: array.array[int]) -> int:
    return max(max(samples), -min(samples))


def regroup_peaks(block_peaks: list[int], points: int) -> list[float]:
    """`points` peaks in 0..1, each the highest of an equal share of `block_peaks` (s16 peaks
    in order, at least one per point when there are enough); zeros when there are none."""
    count = len(block_peaks)
    if count == 0:
        return [0.0] * points
    result = []
    for index in range(points):
        start = index * count // points
        end = max((index + 1) * count // points, start + 1)
        result.append(min(max(block_peaks[start:end]) / _FULL_SCALE, 1.0))
    return result
