"""Speech-like sound for the receive-path tests: a voiced tone (a pitch with harmonics shaped
by vowel formants, a little vibrato, syllable-rate loudness) that WebRTC's VAD takes for
speech, as 48 kHz mono PCM or a WAV file."""

from __future__ import annotations

import io
import math
import struct
import wave

SAMPLE_RATE = 48000
TABLE_SIZE = 4096
# Formants of an open vowel (Hz, bandwidth Hz): what makes the harmonics sound voiced.
FORMANTS = ((700.0, 130.0), (1220.0, 70.0), (2600.0, 160.0))


def _period(pitch: float) -> list[float]:
    """One period of the voiced wave, its harmonics weighted by the formants, peak 1."""
    harmonics = []
    for k in range(1, int(4000 / pitch) + 1):
        weight = sum(1 / (1 + ((k * pitch - f) / b) ** 2) for f, b in FORMANTS) / math.sqrt(k)
        harmonics.append((k, weight))
    table = [
        sum(w * math.sin(2 * math.pi * k * i / TABLE_SIZE) for k, w in harmonics)
        for i in range(TABLE_SIZE)
    ]
    peak = max(abs(value) for value in table)
    return [value / peak for value in table]


def voiced_samples(seconds: float, *, pitch: float = 140.0, level: float = 0.4) -> list[int]:
    """`seconds` of the voiced sound, faded in and out over 30 ms."""
    table = _period(pitch)
    count = round(seconds * SAMPLE_RATE)
    fade = 0.03 * SAMPLE_RATE
    samples = []
    phase = 0.0
    for n in range(count):
        t = n / SAMPLE_RATE
        phase += pitch * (1 + 0.03 * math.sin(2 * math.pi * 5 * t)) / SAMPLE_RATE
        loudness = 0.6 + 0.4 * math.sin(2 * math.pi * 3.5 * t)
        edge = min(1.0, n / fade, (count - n) / fade)
        value = table[int(phase * TABLE_SIZE) % TABLE_SIZE]
        samples.append(round(32767 * level * loudness * edge * value))
    return samples


def voiced_pcm(seconds: float, *, pitch: float = 140.0) -> bytes:
    """The voiced sound as mono s16 little-endian PCM at 48 kHz."""
    samples = voiced_samples(seconds, pitch=pitch)
    return struct.pack(f"<{len(samples)}h", *samples)


def silent_pcm(seconds: float) -> bytes:
    return bytes(2 * round(seconds * SAMPLE_RATE))


def speech_wav(seconds: float, *, pitch: float = 140.0, pad: float = 0.0) -> bytes:
    """A WAV file (48 kHz mono) of `seconds` of the voiced sound, with `pad` seconds of
    silence before and after it."""
    pcm = silent_pcm(pad) + voiced_pcm(seconds, pitch=pitch) + silent_pcm(pad)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    return buffer.getvalue()


def frames_of(pcm: bytes) -> list[bytes]:
    """`pcm` in 20 ms frames (the last one padded with silence)."""
    size = 2 * SAMPLE_RATE // 50
    pcm += bytes(-len(pcm) % size)
    return [pcm[at : at + size] for at in range(0, len(pcm), size)]
