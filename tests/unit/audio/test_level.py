"""Tests of `measure_level`: the decoded length and the loudest 100 ms, in dBFS."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bot.audio import AudioTooLong, NotAudio, measure_level


def test_a_half_scale_tone_measures_minus_9_dbfs(make_audio) -> None:
    """A sine at half of full scale has an RMS of 0.354: -9 dBFS."""
    assert measure_level(make_audio("half.wav", 1.0)).loudest_dbfs == pytest.approx(-9.0, abs=0.3)


def test_digital_silence_measures_minus_infinity(make_audio) -> None:
    """All-zero samples have no level at all."""
    assert measure_level(make_audio("zero.wav", 1.0, amplitude=0.0)).loudest_dbfs == -math.inf


def test_the_loudest_moment_counts(make_audio) -> None:
    """Two seconds of silence before a short tone: the level is the tone's."""
    level = measure_level(make_audio("late.wav", 0.2, silence=2.0, amplitude=0.1))
    assert level.loudest_dbfs == pytest.approx(-23.0, abs=0.5)


def test_the_length_is_counted_by_decoding(make_audio) -> None:
    """The decoded length of a 1.5 s file is 1.5 s."""
    assert measure_level(make_audio("len.flac", 1.5)).seconds == pytest.approx(1.5, abs=0.01)


def test_decoding_stops_past_the_longest(long_wav: Path) -> None:
    """A 100 s file measured with longest=5 raises AudioTooLong."""
    with pytest.raises(AudioTooLong):
        measure_level(long_wav, longest=5.0)


def test_what_is_not_audio_is_refused(not_audio: dict[str, Path]) -> None:
    """Text named .mp3 raises NotAudio."""
    with pytest.raises(NotAudio):
        measure_level(not_audio["text"])
