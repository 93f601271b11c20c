"""Tests of `probe`: metadata of real encodings, and refusal of anything that is not audio."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.audio import AudioTooLong, NotAudio, probe, probe_bytes

EXPECTED_CODECS = {
    ".mp3": ("mp3", "mp3"),
    ".wav": ("wav", "pcm_s16le"),
    ".ogg": ("ogg", "vorbis"),
    ".opus": ("ogg", "opus"),
    ".flac": ("flac", "flac"),
}


@pytest.mark.parametrize("suffix", sorted(EXPECTED_CODECS))
def test_duration_is_within_50_ms(tones: dict[str, Path], suffix: str) -> None:
    """Each format's probed duration is within 0.05 s of the 1.5 s written."""
    assert probe(tones[suffix]).duration == pytest.approx(1.5, abs=0.05)


@pytest.mark.parametrize("suffix", sorted(EXPECTED_CODECS))
def test_reports_container_and_codec(tones: dict[str, Path], suffix: str) -> None:
    """The container format and codec are named as FFmpeg names them."""
    info = probe(tones[suffix])
    assert (info.format_name, info.codec) == EXPECTED_CODECS[suffix]


def test_reports_rate_channels_and_size(make_audio, tmp_path: Path) -> None:
    """Sample rate, channel count and file size come from the file."""
    path = make_audio("mono.wav", 0.5, rate=22050, channels=1)
    info = probe(path)
    assert (info.sample_rate, info.channels, info.size) == (22050, 1, path.stat().st_size)


def test_reports_codec_bit_rate(make_audio) -> None:
    """A CBR MP3's bit rate is the one it was encoded at."""
    assert probe(make_audio("cbr.mp3", 1.0, bit_rate=96000)).bit_rate == 96000


def test_decodes_when_the_container_has_no_duration(make_audio) -> None:
    """A streamed Matroska file without a duration element is measured by decoding."""
    assert probe(make_audio("streamed.mka", 1.5, rate=48000)).duration == pytest.approx(
        1.5, abs=0.02
    )


def test_probe_bytes_matches_probe(tones: dict[str, Path]) -> None:
    """Probing the bytes of a file gives the same answer as probing the file."""
    path = tones[".mp3"]
    assert probe_bytes(path.read_bytes()) == probe(path)


def test_probe_accepts_a_file_object(tones: dict[str, Path]) -> None:
    """A seekable binary file object is probed like the file it holds."""
    path = tones[".ogg"]
    assert probe(io.BytesIO(path.read_bytes())) == probe(path)


@pytest.mark.parametrize("kind", ["png", "text", "empty", "video_only", "zero_length"])
def test_refuses_what_is_not_audio(not_audio: dict[str, Path], kind: str) -> None:
    """Images, text, empty files, video without audio and zero-length audio raise `NotAudio`."""
    with pytest.raises(NotAudio):
        probe(not_audio[kind])


@pytest.mark.parametrize("kind", ["png", "text", "empty", "video_only", "zero_length"])
def test_probe_bytes_refuses_what_is_not_audio(not_audio: dict[str, Path], kind: str) -> None:
    """Uploads checked from memory are refused the same way."""
    with pytest.raises(NotAudio):
        probe_bytes(not_audio[kind].read_bytes())


def test_not_audio_message_is_plain(not_audio: dict[str, Path]) -> None:
    """The refusal of a PNG says there is no audio stream."""
    with pytest.raises(NotAudio, match="no audio stream"):
        probe(not_audio["png"])


def test_missing_file_is_not_reported_as_not_audio(tmp_path: Path) -> None:
    """A path that does not exist raises `FileNotFoundError`, a caller's error."""
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "absent.mp3")


def test_decoding_stops_once_past_the_longest_accepted(make_audio) -> None:
    """Audio that does not declare its length is read no further than the longest accepted:
    30 s of it, with 5 s accepted, is refused as too long."""
    undeclared = make_audio("long.mka", 30.0, rate=48000)
    with pytest.raises(AudioTooLong) as caught:
        probe(undeclared, longest=5.0)
    assert caught.value.longest == 5.0


def test_decoding_that_takes_too_long_is_given_up(make_audio) -> None:
    """A file that cannot be measured within the time limit is refused as not readable."""
    undeclared = make_audio("slow.mka", 3.0, rate=48000)
    with pytest.raises(NotAudio, match="took more than 0 s to read"):
        probe(undeclared, time_limit=0.0)


def test_a_declared_length_is_not_limited(make_audio) -> None:
    """A length the container declares is returned as declared, however long."""
    declared = make_audio("declared.wav", 3.0)
    assert probe(declared, longest=1.0).duration == pytest.approx(3.0, abs=0.01)
