"""Tests of `fit_to_size` and `transcode_to_mp3` on real files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import pytest

from bot.audio import (
    NotAudio,
    estimate_mp3_size,
    fit_to_size,
    mp3_sample_rate,
    probe,
    transcode_to_mp3,
)

BITRATES = [192, 128, 96, 64]


@pytest.fixture
def three_seconds(make_audio) -> Path:
    """A 3 s 44.1 kHz stereo WAV tone (about 529 kB)."""
    return make_audio("source.wav", 3.0)


def test_transcodes_over_the_limit_to_the_planned_bitrate(three_seconds, tmp_path) -> None:
    """Under a 60 kB limit, 128 kbps is the highest that fits; the result says so."""
    result = fit_to_size(three_seconds, 60_000, tmp_path / "out", BITRATES)
    assert (result.transcoded, result.bitrate_kbps) == (True, 128)


def test_transcoded_file_is_under_the_limit(three_seconds, tmp_path) -> None:
    """The file handed back is really within the limit, and its size is reported."""
    result = fit_to_size(three_seconds, 60_000, tmp_path / "out", BITRATES)
    assert result.path is not None
    assert result.size == result.path.stat().st_size <= 60_000


def test_transcoded_file_is_a_cbr_mp3_of_the_same_length(three_seconds, tmp_path) -> None:
    """The output decodes as MP3 at 128 kbps, as long as the source, same rate and channels."""
    result = fit_to_size(three_seconds, 60_000, tmp_path / "out", BITRATES)
    assert result.path is not None
    info = probe(result.path)
    assert (info.codec, info.bit_rate, info.sample_rate, info.channels) == (
        "mp3",
        128_000,
        44100,
        2,
    )
    assert info.duration == pytest.approx(3.0, abs=0.05)


def test_keeps_a_file_that_fits(three_seconds, tmp_path) -> None:
    """A file within the limit is returned as is and nothing is written."""
    result = fit_to_size(three_seconds, 10 * 1024 * 1024, tmp_path / "out", BITRATES)
    assert (result.path, result.transcoded, result.size) == (
        three_seconds,
        False,
        three_seconds.stat().st_size,
    )
    assert not (tmp_path / "out").exists()


def test_nothing_fits_gives_no_file_and_leaves_nothing(three_seconds, tmp_path) -> None:
    """When no bitrate can fit, no path comes back and the destination holds no file."""
    out = tmp_path / "out"
    out.mkdir()
    result = fit_to_size(three_seconds, 10_000, out, BITRATES)
    assert (result.path, result.transcoded, result.bitrate_kbps) == (None, False, None)
    assert list(out.iterdir()) == []


def test_falls_back_when_the_real_output_is_too_large(three_seconds, tmp_path) -> None:
    """If an output is over the limit despite the estimate, the next lower bitrate is tried."""
    understated = replace(probe(three_seconds), duration=1.0)
    out = tmp_path / "out"
    result = fit_to_size(three_seconds, 30_000, out, BITRATES, info=understated)
    assert result.bitrate_kbps == 64
    assert [path.name for path in out.iterdir()] == ["source.64k.mp3"]


def test_gives_up_when_every_output_is_too_large(three_seconds, tmp_path) -> None:
    """If even the lowest bitrate's output is over the limit, no file is left behind."""
    understated = replace(probe(three_seconds), duration=0.5)
    out = tmp_path / "out"
    result = fit_to_size(three_seconds, 12_000, out, [32], info=understated)
    assert result.path is None
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("kbps", [320, 128, 32, 8])
def test_estimate_is_never_below_the_real_size(make_audio, tmp_path, kbps) -> None:
    """The planning estimate covers the real size of an encoded 2 s tone at each bitrate."""
    source = make_audio("source.flac", 2.0)
    size = transcode_to_mp3(source, tmp_path / "out.mp3", kbps)
    assert size <= estimate_mp3_size(2.0, kbps)


def test_mono_stays_mono(make_audio, tmp_path) -> None:
    """A mono source gives a mono MP3."""
    source = make_audio("mono.wav", 1.0, channels=1)
    transcode_to_mp3(source, tmp_path / "out.mp3", 64)
    assert probe(tmp_path / "out.mp3").channels == 1


def test_low_rate_source_is_raised_to_carry_a_high_bitrate(make_audio, tmp_path) -> None:
    """192 kbps needs an MPEG-1 rate, so a 22.05 kHz source is encoded at 32 kHz."""
    source = make_audio("low.wav", 1.0, rate=22050)
    transcode_to_mp3(source, tmp_path / "out.mp3", 192)
    info = probe(tmp_path / "out.mp3")
    assert (info.sample_rate, info.bit_rate) == (32000, 192_000)


def test_copies_descriptive_tags(make_audio, tmp_path) -> None:
    """Title and artist of the source survive the transcode."""
    source = make_audio("tagged.flac", 1.0, metadata={"title": "Rain", "artist": "Trains"})
    transcode_to_mp3(source, tmp_path / "out.mp3", 128)
    with av.open(str(tmp_path / "out.mp3")) as container:
        assert (container.metadata["title"], container.metadata["artist"]) == ("Rain", "Trains")


def test_transcoding_what_is_not_audio_leaves_nothing(not_audio, tmp_path) -> None:
    """A text file raises `NotAudio` and no partial output remains."""
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(NotAudio):
        transcode_to_mp3(not_audio["text"], out / "text.mp3", 128)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("source_rate", "kbps", "expected"),
    [
        (44100, 192, 44100),
        (48000, 320, 48000),
        (22050, 192, 32000),
        (96000, 128, 48000),
        (44100, 144, 24000),
        (44100, 8, 24000),
        (8000, 320, 32000),
        (11025, 64, 11025),
    ],
)
def test_mp3_sample_rate(source_rate, kbps, expected) -> None:
    """The MP3 rate is the source's if the bitrate allows it, else the nearest one that does."""
    assert mp3_sample_rate(source_rate, kbps) == expected


def test_mp3_sample_rate_refuses_an_unknown_bitrate() -> None:
    """A bitrate no MPEG version has raises `ValueError`."""
    with pytest.raises(ValueError):
        mp3_sample_rate(44100, 100)
