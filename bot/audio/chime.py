"""The chime live listening plays when it starts: two soft bell-like notes, rising.

It is computed, not shipped: a few lines define it, no binary file has to be packaged, and
making it takes a few milliseconds once per process. It comes out as a WAV file, which voice
playback encodes to Opus with PyAV like any other audio.
"""

from __future__ import annotations

import functools
import io
import math
import wave
from array import array

CHIME_RATE = 48000
CHIME_SECONDS = 0.6
CHIME_NOTES = ((659.25, 0.0), (987.77, 0.15))
"""(Hz, starts at second): E5, then B5 a little later."""
CHIME_PEAK = 0.3
"""Of full scale: clearly heard, quieter than speech at its loudest."""
ATTACK = 0.005
"""Seconds each note takes to rise (no click)."""
DECAY = 0.12
"""Seconds in which a note falls to about a third (like a struck bell)."""


@functools.cache
def chime_wav() -> bytes:
    """The chime as a WAV file (48 kHz, mono, 16 bit), `CHIME_SECONDS` long."""
    count = round(CHIME_SECONDS * CHIME_RATE)
    wave_sum = [0.0] * count
    for pitch, start in CHIME_NOTES:
        first = round(start * CHIME_RATE)
        for n in range(first, count):
            t = (n - first) / CHIME_RATE
            envelope = min(1.0, t / ATTACK) * math.exp(-t / DECAY)
            tone = math.sin(2 * math.pi * pitch * t) + 0.25 * math.sin(4 * math.pi * pitch * t)
            wave_sum[n] += envelope * tone
    scale = CHIME_PEAK * 32767 / max(abs(value) for value in wave_sum)
    samples = array("h", (round(value * scale) for value in wave_sum))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(CHIME_RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()
