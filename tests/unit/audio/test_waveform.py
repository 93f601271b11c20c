"""Tests of `waveform`: length, range, and that it follows the loudness of the audio."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.audio import NotAudio, waveform


@pytest.mark.parametrize("points", [1, 64, 256])
def test_has_the_requested_number_of_points(tones: dict[str, Path], points: int) -> None:
    """The envelope has exactly `points` values."""
    assert len(waveform(tones[".mp3"], points)) == points


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".ogg", ".opus", ".flac"])
def test_values_are_within_zero_and_one(tones: dict[str, Path], suffix: str) -> None:
    """Every value is a peak amplitude in 0..1."""
    assert all(0.0 <= value <= 1.0 for value in waveform(tones[suffix]))


def test_tone_peaks_at_its_amplitude(tones: dict[str, Path]) -> None:
    """A tone written at half scale has peaks of about 0.5 throughout."""
    assert waveform(tones[".wav"], 16) == pytest.approx([0.5] * 16, abs=0.01)


def test_full_scale_tone_reaches_one(make_audio) -> None:
    """A full-scale tone has peaks of about 1."""
    assert min(waveform(make_audio("loud.wav", 1.0, amplitude=1.0), 8)) > 0.99


def test_silence_gives_zeros(make_audio) -> None:
    """A silent file's envelope is all zeros."""
    assert waveform(make_audio("silence.wav", 1.0, amplitude=0.0), 32) == [0.0] * 32


def test_follows_where_the_sound_is(make_audio) -> None:
    """One second of silence then one of tone: the first half is zero, the second is not."""
    path = make_audio("late.wav", 1.0, silence=1.0)
    envelope = waveform(path, 10)
    assert envelope[:5] == [0.0] * 5
    assert min(envelope[5:]) > 0.45


def test_short_audio_still_fills_every_point(make_audio) -> None:
    """20 ms of audio, fewer blocks than points, still gives a full, non-zero envelope."""
    envelope = waveform(make_audio("blip.wav", 0.02), 64)
    assert len(envelope) == 64
    assert min(envelope) > 0.4


def test_refuses_a_point_count_below_one(tones: dict[str, Path]) -> None:
    """Zero points is a caller error."""
    with pytest.raises(ValueError):
        waveform(tones[".wav"], 0)


def test_refuses_what_is_not_audio(not_audio: dict[str, Path]) -> None:
    """A text file raises `NotAudio`."""
    with pytest.raises(NotAudio):
        waveform(not_audio["text"])
