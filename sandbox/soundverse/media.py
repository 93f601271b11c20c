"""Deterministic audio and cover art for the local Soundverse, made with PyAV and zlib.

Every tune is a four-bar chord progression with a melody. MP3 files are built by
repeating the encoded frames of one seamless loop, so any length costs almost nothing
once a tune has been encoded.
"""

from __future__ import annotations

import bisect
import functools
import io
import math
import random
import struct
import threading
import zlib
from dataclasses import dataclass
from itertools import cycle, islice
from typing import Literal

import av
from av.audio.frame import AudioFrame
from av.filter import Graph

AudioFormat = Literal["mp3", "wav"]

SAMPLE_RATE = 44100
MP3_FRAME_SAMPLES = 1152
MP3_BIT_RATE = 128_000
TUNE_COUNT = 8
ART_SIZE = 256

# One loop is 4 bars of 4 beats; 306 MP3 frames keep the loop frame aligned (about 8 s).
LOOP_FRAMES = 306
LOOP_SAMPLES = LOOP_FRAMES * MP3_FRAME_SAMPLES
BEAT_SAMPLES = LOOP_SAMPLES // 16
BAR_SAMPLES = BEAT_SAMPLES * 4
_WARM_UP_FRAMES = 8
# Concurrent first requests for a tune would otherwise all build its loop at once.
_LOOP_LOCK = threading.Lock()

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
# Progressions as scale degrees (0-based), one chord per bar.
_PROGRESSIONS = ((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4), (1, 4, 0, 5))
_ROOTS_HZ = (196.00, 220.00, 246.94, 261.63)


class UndecodableAudio(ValueError):
    """The bytes given are not audio that FFmpeg can read."""


@dataclass(frozen=True)
class Tune:
    """A chord progression and a melody of sixteen quarter notes over it."""

    chords: tuple[tuple[float, float, float, float], ...]
    melody: tuple[float, ...]


def tune_index(seed: int) -> int:
    """Map any seed onto one of the tunes this module can render."""
    return seed % TUNE_COUNT


def compose(index: int) -> Tune:
    """The tune numbered `index`: key, mode, progression and melody follow from it."""
    rng = random.Random(index)
    root = _ROOTS_HZ[index % len(_ROOTS_HZ)]
    scale = _MAJOR if index % 2 == 0 else _MINOR
    progression = _PROGRESSIONS[(index // 2) % len(_PROGRESSIONS)]
    chords = tuple(_chord(root, scale, degree) for degree in progression)
    melody: list[float] = []
    for chord in chords:
        for _ in range(4):
            melody.append(rng.choice(chord[1:]) * rng.choice((2.0, 2.0, 4.0)))
    return Tune(chords=chords, melody=tuple(melody))


def _chord(root: float, scale: tuple[int, ...], degree: int) -> tuple[float, float, float, float]:
    """Bass note then a triad, as frequencies in Hz."""

    def note(step: int) -> float:
        octave, position = divmod(degree + step, len(scale))
        return root * 2 ** (octave + scale[position] / 12)

    return (note(0) / 2, note(0), note(2), note(4))


def _beat_expression(tune: Tune, beat: int) -> str:
    """An FFmpeg `aevalsrc` expression for one beat, phase-continuous within its bar."""
    bass, *triad = tune.chords[beat // 4]
    offset = (beat % 4) * BEAT_SAMPLES / SAMPLE_RATE
    bar_seconds = BAR_SAMPLES / SAMPLE_RATE
    beat_seconds = BEAT_SAMPLES / SAMPLE_RATE
    bar_time = f"(t+{offset:.6f})"
    # Short fades at bar edges keep chord changes and the loop seam free of clicks.
    bar_envelope = f"min(1,min({bar_time}*40,({bar_seconds:.6f}-{bar_time})*40))"
    pad = "+".join(f"sin(2*PI*{f:.4f}*{bar_time})" for f in triad)
    melody = (
        f"sin(2*PI*{tune.melody[beat]:.4f}*t)*(1-exp(-t*150))*exp(-t*3)"
        f"*min(1,({beat_seconds:.6f}-t)*60)"
    )
    return f"({bar_envelope})*(0.07*({pad})+0.14*sin(2*PI*{bass:.4f}*{bar_time}))+0.2*{melody}"


def _render_beat(tune: Tune, beat: int) -> bytes:
    """Signed 16-bit mono PCM for one beat of the tune, exactly BEAT_SAMPLES long."""
    return _render_expression(_beat_expression(tune, beat), BEAT_SAMPLES)


@functools.lru_cache(maxsize=TUNE_COUNT)
def loop_pcm(index: int) -> bytes:
    """One seamless loop of the tune as 16-bit mono PCM at 44.1 kHz."""
    tune = compose(index)
    return b"".join(_render_beat(tune, beat) for beat in range(16))


@functools.lru_cache(maxsize=TUNE_COUNT)
def _loop_mp3_frames(index: int) -> tuple[bytes, ...]:
    """The MP3 frames of one loop, past the encoder's warm-up.

    The bit reservoir is off, so every frame stands alone and the frames can be repeated;
    the loop is followed by its own start, so its last frames see the audio that follows.
    """
    packets: list[bytes] = []
    output = io.BytesIO()
    with av.open(output, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = MP3_BIT_RATE
        stream.codec_context.options = {"reservoir": "0"}
        loop = loop_pcm(index)
        tail = loop[: (_WARM_UP_FRAMES + 12) * MP3_FRAME_SAMPLES * 2]
        for frame in _pcm_frames(loop + tail):
            packets.extend(bytes(packet) for packet in stream.encode(frame))
        packets.extend(bytes(packet) for packet in stream.encode(None))
    return tuple(packets[_WARM_UP_FRAMES : _WARM_UP_FRAMES + LOOP_FRAMES])


def _pcm_frames(pcm: bytes, samples_per_frame: int = SAMPLE_RATE) -> list[AudioFrame]:
    """Cut 16-bit mono PCM into PyAV frames."""
    frames = []
    step = samples_per_frame * 2
    for start in range(0, len(pcm), step):
        chunk = pcm[start : start + step]
        frame = AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
        frame.planes[0].update(chunk)
        frame.sample_rate = SAMPLE_RATE
        frames.append(frame)
    return frames


def render_audio(seed: int, seconds: float, audio_format: AudioFormat) -> bytes:
    """A file of the tune chosen by `seed`, lasting `seconds` (to within one MP3 frame).

    Files are cached by tune, length and format, so equal requests share one body.
    """
    if audio_format == "mp3":
        length = max(1, round(seconds * SAMPLE_RATE / MP3_FRAME_SAMPLES))
    else:
        length = max(1, round(seconds * SAMPLE_RATE))
    return _render_file(tune_index(seed), length, audio_format)


@functools.lru_cache(maxsize=32)
def _render_file(index: int, length: int, audio_format: AudioFormat) -> bytes:
    """Tune `index` as a file of `length` MP3 frames or WAV samples."""
    if audio_format == "mp3":
        with _LOOP_LOCK:
            frames = _loop_mp3_frames(index)
        return b"".join(islice(cycle(frames), length))
    with _LOOP_LOCK:
        loop = loop_pcm(index)
    total = length * 2
    return _encode_wav((loop * (total // len(loop) + 1))[:total])


def clear_caches() -> None:
    """Forget every cached loop and file, so the next request renders from scratch."""
    loop_pcm.cache_clear()
    _loop_mp3_frames.cache_clear()
    _render_file.cache_clear()


def _encode_wav(pcm: bytes) -> bytes:
    """A WAV file holding 16-bit mono PCM, written by PyAV's pcm_s16le encoder."""
    output = io.BytesIO()
    with av.open(output, "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=SAMPLE_RATE, layout="mono")
        for frame in _pcm_frames(pcm):
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return output.getvalue()


# MPEG audio Layer III frame headers: bit rates (kbit/s) by index, sample rates by index.
_MPEG1_BIT_RATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_BIT_RATES = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frame_ends(data: bytes) -> list[int]:
    """The offset just past each MP3 frame, read from the Layer III frame headers from the
    start of `data`; empty when `data` does not start with such frames. Reading stops at the
    first byte that is not a frame header (an ID3v1 tag, say)."""
    ends: list[int] = []
    at = 0
    while at + 4 <= len(data):
        header = int.from_bytes(data[at : at + 4], "big")
        version = (header >> 19) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
        layer = (header >> 17) & 3  # 1: Layer III
        bit_rate_index = (header >> 12) & 15
        rate_index = (header >> 10) & 3
        valid = header >> 21 == 0x7FF and version != 1 and layer == 1
        if not valid or bit_rate_index in (0, 15) or rate_index == 3:
            break
        padding = (header >> 9) & 1
        rate = _SAMPLE_RATES[version][rate_index]
        if version == 3:
            length = 144 * _MPEG1_BIT_RATES[bit_rate_index] * 1000 // rate + padding
        else:
            length = 72 * _MPEG2_BIT_RATES[bit_rate_index] * 1000 // rate + padding
        at += length
        ends.append(min(at, len(data)))
    return ends


def released_end(frame_ends: list[int], size: int, fraction: float) -> int:
    """How many bytes of a file of `size` bytes make up its first `fraction`, cut after a
    whole MP3 frame when `frame_ends` are known; the whole file at 1."""
    if fraction >= 1:
        return size
    wanted = int(size * max(0.0, fraction))
    if not frame_ends:
        return wanted
    whole = bisect.bisect_right(frame_ends, wanted)
    return frame_ends[whole - 1] if whole else 0


def probe_duration(data: bytes) -> float:
    """Length in seconds of an audio file, by decoding it when the container does not say."""
    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.audio:
                raise UndecodableAudio("no audio stream")
            stream = container.streams.audio[0]
            samples = 0
            rate = stream.rate or SAMPLE_RATE
            for frame in container.decode(stream):
                samples += frame.samples
            if samples == 0:
                raise UndecodableAudio("no audio samples")
            return float(samples / rate)
    except av.FFmpegError as error:
        raise UndecodableAudio(str(error)) from error


@functools.lru_cache(maxsize=256)
def render_album_art(seed: int) -> bytes:
    """A 256x256 PNG: a diagonal gradient between two colours picked by `seed`."""
    rng = random.Random(seed)
    start = [rng.randrange(40, 220) for _ in range(3)]
    end = [rng.randrange(40, 220) for _ in range(3)]
    ramp = [
        bytes(
            round(a + (b - a) * step / (2 * ART_SIZE - 2)) for a, b in zip(start, end, strict=True)
        )
        for step in range(2 * ART_SIZE - 1)
    ]
    rows = b"".join(b"\0" + b"".join(ramp[y : y + ART_SIZE]) for y in range(ART_SIZE))
    header = struct.pack(">IIBBBBB", ART_SIZE, ART_SIZE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows, 6))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def voice_reply_seconds(input_seconds: float) -> float:
    """How long the spoken answer to a question of `input_seconds` lasts."""
    return min(20.0, max(3.0, math.ceil(input_seconds / 2)))


@functools.lru_cache(maxsize=32)
def render_speech(seed: int, seconds: float) -> bytes:
    """A spoken-like answer as an MP3 file lasting `seconds` (to within one MP3 frame).

    It sounds like a voice, not a tune: a buzz of harmonics whose pitch drifts up and down
    (intonation), cut into syllables (four or five a second) and words (with pauses between).
    `seed` picks the voice's pitch and its rhythm, so one question always gets one answer.
    """
    rng = random.Random(seed)
    pitch = rng.uniform(100.0, 220.0)
    syllables = rng.uniform(3.8, 5.0)
    words = rng.uniform(0.45, 0.7)
    drift = 0.12 * pitch / (2 * math.pi * 0.6)
    phase = f"2*PI*({pitch:.3f}*t-{drift:.4f}*cos(2*PI*0.6*t))"
    voice = "+".join(f"{1 / k:.3f}*sin({k}*{phase})" for k in range(1, 6))
    # Words start at once (the gate is open at t = 0) and pause about a third of the time.
    envelope = f"pow(sin(PI*{syllables:.3f}*t),2)*gte(cos(2*PI*{words:.3f}*t),-0.5)"
    length = max(1, round(seconds * SAMPLE_RATE / MP3_FRAME_SAMPLES)) * MP3_FRAME_SAMPLES
    pcm = _render_expression(f"0.3*({voice})*{envelope}", length)
    output = io.BytesIO()
    with av.open(output, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=SAMPLE_RATE, layout="mono")
        stream.bit_rate = MP3_BIT_RATE
        for frame in _pcm_frames(pcm):
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return output.getvalue()


def _render_expression(expression: str, samples: int) -> bytes:
    """Signed 16-bit mono PCM of an FFmpeg `aevalsrc` expression, `samples` long."""
    graph = Graph()
    seconds = samples / SAMPLE_RATE + 0.05
    source = graph.add(
        "aevalsrc", f"exprs={expression}:s={SAMPLE_RATE}:d={seconds:.6f}:c=mono:n=4096"
    )
    to_s16 = graph.add("aformat", "sample_fmts=s16")
    sink = graph.add("abuffersink")
    source.link_to(to_s16)
    to_s16.link_to(sink)
    graph.configure()
    pcm = bytearray()
    while len(pcm) < samples * 2:
        try:
            frame = sink.pull()
        except (av.error.EOFError, av.error.BlockingIOError):
            break
        if isinstance(frame, AudioFrame):
            pcm += bytes(frame.planes[0])[: frame.samples * 2]
    return bytes(pcm[: samples * 2]).ljust(samples * 2, b"\0")
