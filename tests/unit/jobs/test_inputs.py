"""Checks on audio that members give the bot, and the requests built from it."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInput
from bot.jobs.inputs import (
    AudioSource,
    check_extend_position,
    check_lyrics,
    check_upload_audio,
    check_upload_metadata,
    seconds_from_text,
)
from bot.jobs.requests import default_extend_position, extend_request, singing_request
from bot.soundverse import RequestValidationError
from bot.soundverse.limits import EXTEND_AT_SECONDS
from sandbox.soundverse.media import render_audio

SOURCE = AudioSource("https://storage.soundverse.ai/x.mp3", "track #1", duration=30.0, track_id=1)


def test_upload_over_10_mb_is_refused_with_sizes() -> None:
    """The 10 MB input limit is checked from Discord's metadata, before downloading."""
    with pytest.raises(InvalidInput, match=r"`a.mp3` is 10\.5 MB; .* up to 10\.0 MB"):
        check_upload_metadata("a.mp3", "audio/mpeg", int(10.5 * 1024 * 1024))


def test_non_audio_content_type_is_refused() -> None:
    """An image or text upload is refused naming its type."""
    with pytest.raises(InvalidInput, match=r"is not an audio file \(it is text/plain\)"):
        check_upload_metadata("notes.txt", "text/plain; charset=utf-8", 10)


def test_audio_content_types_pass() -> None:
    """audio/* and Ogg/WebM video containers (voice messages) are accepted."""
    check_upload_metadata("a.ogg", "audio/ogg", 10)
    check_upload_metadata("voice.ogg", "video/ogg", 10)


def test_undecodable_bytes_are_refused() -> None:
    """Bytes that PyAV cannot decode are refused with the file name."""
    with pytest.raises(InvalidInput, match=r"`x\.mp3` could not be read as audio"):
        check_upload_audio("x.mp3", b"nope" * 100, 600)


def test_real_audio_is_probed_and_length_checked() -> None:
    """A 5 s MP3 passes a 10 s limit and is refused under a 4 s one."""
    data = render_audio(3, 5, "mp3")
    assert abs(check_upload_audio("t.mp3", data, 10).duration - 5) < 0.1
    with pytest.raises(InvalidInput, match="lasts 0:05; the longest audio accepted is 0:04"):
        check_upload_audio("t.mp3", data, 4)


@pytest.mark.parametrize(("seconds", "shown"), [(7, "0:07"), (421, "7:01")])
def test_position_outside_8_to_420_is_refused(seconds: int, shown: str) -> None:
    """extend_at must be within 8-420 s; the refusal gives the range as m:ss."""
    with pytest.raises(InvalidInput, match=rf"from 0:08 to 7:00 \(got {shown}\)"):
        check_extend_position(seconds, None)


def test_position_is_converted_to_milliseconds() -> None:
    """A valid position becomes `extend_at` in milliseconds."""
    assert check_extend_position(12, 30.0) == 12000


def test_default_position_is_the_end() -> None:
    """With no position, extension starts at the last whole second of the audio."""
    assert default_extend_position(30.0) == 29
    assert default_extend_position(600.0) == 420


def test_song_extension_needs_lyrics() -> None:
    """Blank lyrics are refused for a song extension."""
    with pytest.raises(InvalidInput, match="Lyrics are required to extend a song"):
        check_lyrics("   ", required=True)


def test_extend_song_request_carries_position_and_parent_audio() -> None:
    """A song extension asks Soundverse for the source URL at the position in ms."""
    operation, request = extend_request(
        mode="song", version="v6", source=SOURCE, at=10, lyrics="la", prompt=None
    )
    assert operation == "extend_song"
    assert request == {"audio_url": SOURCE.url, "lyrics": "la", "extend_at": 10000}


def test_instrumental_extension_refuses_a_position() -> None:
    """Instrumentals continue at the end; a position is refused rather than ignored."""
    with pytest.raises(InvalidInput, match="only applies to extending a song"):
        extend_request(mode="instrumental", version="v5", source=SOURCE, at=10)


def test_extend_song_has_no_v1() -> None:
    """v1 exists only for instrumentals."""
    with pytest.raises(RequestValidationError, match="extend song has no v1"):
        extend_request(mode="song", version="v1", source=SOURCE, lyrics="la")


def test_singing_style_must_be_one_of_the_24() -> None:
    """An unknown singing style is refused; a known one is matched case-insensitively."""
    assert singing_request(lyrics="la", style="rap")["style_of_music"] == "Rap"
    with pytest.raises(RequestValidationError, match="not one of the singing styles"):
        singing_request(lyrics="la", style="Polka")


@pytest.mark.parametrize(
    ("typed", "seconds"),
    [("95", 95), ("95s", 95), (" 95 s ", 95), ("1:35", 95), ("01:35", 95), ("0:08", 8)],
)
def test_times_read_as_seconds_or_minutes_and_seconds(typed: str, seconds: int) -> None:
    """Seconds, with or without `s`, and m:ss all read as whole seconds."""
    assert seconds_from_text(typed, "The position", EXTEND_AT_SECONDS) == seconds


def test_an_empty_time_is_the_default() -> None:
    """Nothing typed means None: the command's default."""
    assert seconds_from_text("  ", "The position", EXTEND_AT_SECONDS) is None


@pytest.mark.parametrize("typed", ["soon", "1:5", "1:60", "1.5", "-10", "1:30:00"])
def test_what_is_no_time_is_refused_naming_both_forms(typed: str) -> None:
    """Anything but seconds or m:ss is refused with an example of each."""
    with pytest.raises(InvalidInput, match=r"in seconds or minutes:seconds, like `95` or `1:35`"):
        seconds_from_text(typed, "The position", EXTEND_AT_SECONDS)


def test_a_time_outside_the_bounds_is_refused_as_m_ss() -> None:
    """`7:30` for a position is refused with the range in m:ss."""
    with pytest.raises(InvalidInput, match=r"^The position must be from 0:08 to 7:00 \(got 7:30\)"):
        seconds_from_text("7:30", "The position", EXTEND_AT_SECONDS)
