"""Tests of `encode_voice_message`: a Discord voice message's file (Ogg Opus, mono, 48 kHz),
its duration, and its waveform (one byte per 100 ms, at most 256, following the loudness)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import av
import pytest

from bot.audio import NotAudio, encode_voice_message
from bot.audio.voice_message import waveform_points


def decoded(ogg: bytes) -> tuple[str, str, int, int, int]:
    """Container, codec, rate, channels and decoded sample count of a file."""
    with av.open(io.BytesIO(ogg), "r") as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return (
            container.format.name,
            stream.codec_context.name,
            stream.rate,
            stream.channels,
            samples,
        )


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".ogg", ".flac"])
def test_the_file_is_mono_48_khz_opus_in_ogg(tones: dict[str, Path], suffix: str) -> None:
    """Whatever the source (here stereo at 44.1 kHz), the file is Ogg Opus, mono, 48 kHz."""
    container, codec, rate, channels, _ = decoded(encode_voice_message(tones[suffix]).ogg)
    assert (container, codec, rate, channels) == ("ogg", "opus", 48000, 1)


def test_the_duration_is_the_length_of_the_file(make_audio) -> None:
    """A 2.5 s source gives duration_secs of 2.5 s, which the file decodes to exactly."""
    message = encode_voice_message(make_audio("two.wav", 2.5, rate=48000))
    assert message.duration_secs == pytest.approx(2.5, abs=0.001)
    assert decoded(message.ogg)[4] == round(message.duration_secs * 48000)


def test_a_44_1_khz_source_keeps_its_length(make_audio) -> None:
    """Resampled from 44.1 kHz, a 3 s source still lasts 3 s (within one 48 kHz sample)."""
    message = encode_voice_message(make_audio("three.mp3", 3.0))
    assert message.duration_secs == pytest.approx(3.0, abs=0.03)


@pytest.mark.parametrize(("seconds", "points"), [(0.05, 1), (1.0, 10), (2.55, 26), (60.0, 256)])
def test_one_waveform_point_per_100_ms_at_most_256(make_audio, seconds: float, points: int) -> None:
    """0.05 s has 1 point, 1 s 10, 2.55 s 26, and 60 s is downsampled to 256."""
    message = encode_voice_message(make_audio("len.wav", seconds, rate=48000, channels=1))
    assert len(message.waveform) == points == waveform_points(message.duration_secs)


def test_waveform_bytes_follow_the_loudness(make_audio) -> None:
    """One second of silence then one of a half-scale tone: the first ten bytes are 0, the
    last ten about 127 (half of 255)."""
    message = encode_voice_message(make_audio("late.wav", 1.0, silence=1.0, rate=48000))
    assert list(message.waveform[:10]) == [0] * 10
    assert all(120 <= point <= 135 for point in message.waveform[10:])


def test_a_full_scale_tone_reaches_255(make_audio) -> None:
    """The waveform's range ends at 255 for a full-scale tone."""
    message = encode_voice_message(make_audio("loud.wav", 1.0, amplitude=1.0))
    assert max(message.waveform) == 255


def test_the_waveform_is_sent_as_base64(make_audio) -> None:
    """`waveform_base64` decodes back to the waveform's bytes."""
    message = encode_voice_message(make_audio("b64.wav", 1.0))
    assert base64.b64decode(message.waveform_base64, validate=True) == message.waveform


def test_the_bitrate_is_about_32_kbps(make_audio) -> None:
    """A 10 s message takes about 32 kb/s, as Discord's clients record (within 25 %)."""
    message = encode_voice_message(make_audio("ten.wav", 10.0, rate=48000))
    assert 30_000 <= len(message.ogg) <= 50_000


@pytest.mark.parametrize("kind", ["png", "text", "empty", "video_only", "zero_length"])
def test_what_is_not_audio_is_refused(not_audio: dict[str, Path], kind: str) -> None:
    """A file without audio samples raises NotAudio."""
    with pytest.raises(NotAudio):
        encode_voice_message(not_audio[kind])
