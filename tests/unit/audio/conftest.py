"""Audio fixtures: sine tones synthesised with PyAV in any container the tests need."""

from __future__ import annotations

import array
import io
import math
import struct
import wave
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pytest
from typing_extensions import Buffer

# extension -> (container format, encoder, encoder options)
_ENCODINGS: dict[str, tuple[str, str, dict[str, str]]] = {
    ".mp3": ("mp3", "libmp3lame", {}),
    ".wav": ("wav", "pcm_s16le", {}),
    ".ogg": ("ogg", "vorbis", {"strict": "experimental"}),
    ".opus": ("opus", "libopus", {}),
    ".flac": ("flac", "flac", {}),
    ".mka": ("matroska", "libopus", {}),
}
_CHUNK = 4096


@dataclass(frozen=True)
class Tone:
    """What a synthesised file holds: `silence` seconds of silence, then `seconds` of tone."""

    seconds: float
    rate: int = 44100
    channels: int = 2
    amplitude: float = 0.5
    frequency: float = 440.0
    silence: float = 0.0

    @property
    def total_samples(self) -> int:
        """Samples per channel in the whole file."""
        return round((self.silence + self.seconds) * self.rate)

    def samples(self, start: int, count: int) -> array.array[int]:
        """Interleaved s16 samples `start`..`start + count` of the signal."""
        quiet = round(self.silence * self.rate)
        scale = self.amplitude * 32767
        step = 2 * math.pi * self.frequency / self.rate
        values = array.array("h")
        for index in range(start, start + count):
            value = 0 if index < quiet else round(scale * math.sin(step * index))
            values.extend([value] * self.channels)
        return values


class _WriteOnly(io.RawIOBase):
    """A sink that cannot seek, so muxers leave out durations they would patch in."""

    def __init__(self, target: io.BufferedWriter) -> None:
        self._target = target

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        return self._target.write(data)


def write_tone(
    path: Path, tone: Tone, bit_rate: int | None = None, metadata: dict[str, str] | None = None
) -> Path:
    """Encode `tone` into `path` with `metadata` tags; the extension picks the format."""
    container_format, codec, options = _ENCODINGS[path.suffix]
    layout = "mono" if tone.channels == 1 else "stereo"
    with path.open("wb") as raw:
        target = _WriteOnly(raw) if path.suffix == ".mka" else raw
        with av.open(target, "w", format=container_format) as output:
            output.metadata.update(metadata or {})
            stream = output.add_stream(codec, rate=tone.rate, layout=layout)
            assert isinstance(stream, av.AudioStream)
            stream.codec_context.options = options
            if bit_rate is not None:
                stream.codec_context.bit_rate = bit_rate
            for start in range(0, tone.total_samples, _CHUNK):
                count = min(_CHUNK, tone.total_samples - start)
                frame = av.AudioFrame(format="s16", layout=layout, samples=count)
                frame.sample_rate = tone.rate
                frame.pts = start
                frame.planes[0].update(tone.samples(start, count).tobytes())
                output.mux(stream.encode(frame))
            output.mux(stream.encode(None))
    return path


MakeAudio = Callable[..., Path]
"""make_audio(name, seconds, *, bit_rate, metadata, rate, channels, amplitude, silence) -> Path"""


@pytest.fixture
def make_audio(tmp_path: Path) -> MakeAudio:
    """Writes a tone into tmp_path under `name` (its extension picks the format)."""

    def make(
        name: str,
        seconds: float,
        *,
        bit_rate: int | None = None,
        metadata: dict[str, str] | None = None,
        **shape: Any,
    ) -> Path:
        return write_tone(tmp_path / name, Tone(seconds, **shape), bit_rate, metadata)

    return make


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 1.5 s tone in each of mp3, wav, ogg (Vorbis), opus and flac, written once."""
    directory = tmp_path_factory.mktemp("tones")
    return {
        suffix: write_tone(directory / f"tone{suffix}", _tone_for(suffix))
        for suffix in (".mp3", ".wav", ".ogg", ".opus", ".flac")
    }


@pytest.fixture(scope="session")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 100 s 48 kHz stereo tone as WAV (19 MB), one synthesised second repeated."""
    second = Tone(1.0, rate=48000).samples(0, 48000).tobytes()
    path = tmp_path_factory.mktemp("long") / "long.wav"
    with wave.open(str(path), "wb") as output:
        output.setnchannels(2)
        output.setsampwidth(2)
        output.setframerate(48000)
        output.writeframes(second * 100)
    return path


@pytest.fixture
def not_audio(tmp_path: Path) -> dict[str, Path]:
    """Files that must not pass as audio, all named .mp3 as a careless upload would be."""
    png = tmp_path / "image.mp3"
    png.write_bytes(_png_bytes())
    text = tmp_path / "text.mp3"
    text.write_text("these are lyrics, not a recording\n" * 40)
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    return {
        "png": png,
        "text": text,
        "empty": empty,
        "video_only": _write_video_only(tmp_path / "video.mkv"),
        "zero_length": _write_empty_wav(tmp_path / "silent.wav"),
    }


@pytest.fixture
def peak_of() -> Callable[[list[av.AudioFrame]], float]:
    """Largest absolute sample of decoded frames, in 0..1."""
    return _peak_amplitude


@pytest.fixture
def decode_all() -> Callable[[Path], list[av.AudioFrame]]:
    """Every audio frame of a file."""
    return _audio_frames


def _tone_for(suffix: str) -> Tone:
    return Tone(1.5, rate=48000) if suffix == ".opus" else Tone(1.5)


def _png_bytes() -> bytes:
    """A valid 4x4 grey PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * 12 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _write_video_only(path: Path) -> Path:
    """A short Matroska file with one MPEG-4 video stream and no audio."""
    with av.open(str(path), "w", format="matroska") as output:
        stream = output.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for index in range(5):
            frame = av.VideoFrame(32, 32, "yuv420p")
            for plane in frame.planes:
                plane.update(b"\x80" * plane.buffer_size)
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def _write_empty_wav(path: Path) -> Path:
    """A well-formed WAV header announcing zero samples."""
    with wave.open(str(path), "wb") as empty:
        empty.setnchannels(2)
        empty.setsampwidth(2)
        empty.setframerate(44100)
    return path


def _peak_amplitude(frames: list[av.AudioFrame]) -> float:
    """Largest absolute sample of decoded frames, in 0..1."""
    resampler = av.AudioResampler(format="s16")
    peak = 0
    for decoded in frames:
        decoded.pts = None
        for frame in resampler.resample(decoded):
            samples = array.array("h")
            samples.frombytes(
                bytes(frame.planes[0])[: frame.samples * frame.layout.nb_channels * 2]
            )
            if samples:
                peak = max(peak, max(samples), -min(samples))
    return peak / 32768


def _audio_frames(path: Path) -> list[av.AudioFrame]:
    """Every audio frame of the file at `path`."""
    with av.open(str(path)) as container:
        return list(container.decode(audio=0))
