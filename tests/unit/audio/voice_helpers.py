"""Helpers for the voice stream tests: read a stream out, decode its packets, measure loudness."""

from __future__ import annotations

import array
import math
import wave
from pathlib import Path
from typing import Protocol

import av
from av.audio.codeccontext import AudioCodecContext


class VoiceStream(Protocol):
    """What the tests pull from: one chunk per `read()`, `b""` at the end."""

    def read(self) -> bytes: ...


def read_all(stream: VoiceStream) -> list[bytes]:
    """Every chunk `read()` gives before the first `b""`."""
    chunks = []
    while chunk := stream.read():
        chunks.append(chunk)
    return chunks


def opus_decoder() -> AudioCodecContext:
    """FFmpeg's own Opus decoder, set up for 48 kHz stereo packets."""
    decoder = av.CodecContext.create("opus", "r")
    assert isinstance(decoder, AudioCodecContext)
    decoder.sample_rate = 48000
    decoder.layout = "stereo"
    return decoder


def decode_packets(packets: list[bytes]) -> list[av.AudioFrame]:
    """Decode raw Opus packets, in order, with one decoder."""
    decoder = opus_decoder()
    return [frame for packet in packets for frame in decoder.decode(av.Packet(packet))]


def s16_samples(frames: list[av.AudioFrame]) -> array.array[int]:
    """The interleaved s16 stereo samples of decoded frames, at their own sample rate."""
    resampler = av.AudioResampler(format="s16", layout="stereo")
    samples = array.array("h")
    for decoded in frames:
        decoded.pts = None
        for frame in resampler.resample(decoded):
            samples.frombytes(bytes(frame.planes[0])[: frame.samples * 4])
    return samples


def pcm_samples(chunks: list[bytes]) -> array.array[int]:
    """The interleaved s16 samples of PCM frames as `PCMFrameStream` gives them."""
    samples = array.array("h")
    samples.frombytes(b"".join(chunks))
    return samples


def rms(samples: array.array[int]) -> float:
    """Root mean square of s16 samples, in 0..1."""
    return math.sqrt(sum(value * value for value in samples) / len(samples)) / 32768


def rms_per_20_ms(samples: array.array[int], rate: int) -> list[float]:
    """RMS of each whole 20 ms window of interleaved stereo samples at `rate`."""
    window = rate // 50 * 2
    return [
        rms(samples[start : start + window])
        for start in range(0, len(samples) - window + 1, window)
    ]


def write_swelling_tone(path: Path, seconds: float, rate: int) -> Path:
    """A stereo 440 Hz WAV whose loudness swells and fades 1.5 times a second, to zero each time."""
    samples = array.array("h")
    for index in range(round(seconds * rate)):
        t = index / rate
        envelope = abs(math.sin(math.pi * 1.5 * t))
        value = round(0.6 * 32767 * envelope * math.sin(2 * math.pi * 440 * t))
        samples.extend((value, value))
    with wave.open(str(path), "wb") as output:
        output.setnchannels(2)
        output.setsampwidth(2)
        output.setframerate(rate)
        output.writeframes(samples.tobytes())
    return path
