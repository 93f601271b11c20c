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
)
from bot.jobs.requests import default_extend_position, extend_request, singing_request
from bot.soundverse import RequestValidationError
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


@pytest.mark.parametrize("seconds", [7, 421])
def test_position_outside_8_to_420_is_refused(seconds: int) -> None:
    """extend_at must be within 8-420 s."""
    with pytest.raises(InvalidInput, match=f"between 8 and 420 seconds \\(got {seconds}\\)"):
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
