"""Request checks of `bot.soundverse.requests`: the documented rules, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from bot.soundverse.enums import LegacyDuration, MusicStyle
from bot.soundverse.errors import RequestValidationError
from bot.soundverse.requests import (
    ExtendMusicRequest,
    ExtendSongRequest,
    GenLoopRequest,
    LegacySongFromLyricsRequest,
    LegacySongRequest,
    LoopRequest,
    RemixRequest,
    SingingRequest,
    SongRequest,
    TextToMusicRequest,
)

AUDIO = "https://storage.soundverse.ai/x-one/a/b/song.mp3"


def test_prompt_over_1024_characters_is_refused_with_its_length() -> None:
    """An over-long prompt names the field, the limit and the actual length."""
    with pytest.raises(RequestValidationError) as caught:
        SongRequest(prompt="x" * 1100)
    assert str(caught.value) == "prompt: at most 1024 characters (got 1100)"
    assert caught.value.field == "prompt"


def test_prompt_of_exactly_1024_characters_is_accepted() -> None:
    """The 1024-character limit is inclusive."""
    assert SongRequest(prompt="x" * 1024).body() == {"prompt": "x" * 1024}


def test_blank_prompt_is_refused() -> None:
    """A prompt of only spaces is refused as empty."""
    with pytest.raises(RequestValidationError, match="prompt: must not be empty"):
        SongRequest(prompt="   ")


def test_song_needs_a_prompt_or_an_audio_url() -> None:
    """A song request without prompt and without any audio URL is refused."""
    with pytest.raises(RequestValidationError, match="a prompt or an audio URL is required"):
        SongRequest(lyrics="la la")


def test_song_body_leaves_unset_fields_out() -> None:
    """The body carries only the fields that were set."""
    body = SongRequest(prompt="rain", duration=20).body()
    assert body == {"prompt": "rain", "duration": 20}


@pytest.mark.parametrize("extend_at", [7999, 420001, 0])
def test_extend_at_outside_the_documented_range_is_refused(extend_at: int) -> None:
    """`extend_at` must lie within 8000..420000 ms."""
    with pytest.raises(RequestValidationError) as caught:
        ExtendSongRequest(audio_url=AUDIO, lyrics="more", extend_at=extend_at)
    assert caught.value.field == "extend_at"
    assert f"between 8000 and 420000 ms (got {extend_at})" in str(caught.value)


@pytest.mark.parametrize("extend_at", [8000, 420000])
def test_extend_at_bounds_are_inclusive(extend_at: int) -> None:
    """Both ends of the `extend_at` range are accepted."""
    assert ExtendSongRequest(audio_url=AUDIO, lyrics="more", extend_at=extend_at)


def test_extend_song_requires_non_empty_lyrics() -> None:
    """Extend song refuses empty lyrics."""
    with pytest.raises(RequestValidationError, match="lyrics: must not be empty"):
        ExtendSongRequest(audio_url=AUDIO, lyrics="", extend_at=9000)


def test_unknown_music_style_is_refused_with_the_value() -> None:
    """A style outside section 5.1 is refused, naming the value."""
    with pytest.raises(RequestValidationError) as caught:
        LegacySongRequest(prompt="rain", style_of_music="Polka")
    assert caught.value.field == "style_of_music"
    assert "unknown value 'Polka'" in str(caught.value)


def test_legacy_song_body_uses_camel_case_names() -> None:
    """Legacy bodies use `styleOfMusic` and `audioUrl`."""
    body = LegacySongRequest(prompt="p", style_of_music=MusicStyle.LOFI, audio_url=AUDIO).body()
    assert body == {"prompt": "p", "styleOfMusic": "Lofi", "audioUrl": AUDIO}


def test_legacy_song_from_lyrics_needs_a_style_or_a_reference() -> None:
    """Song-from-lyrics requires one of style and reference audio."""
    with pytest.raises(RequestValidationError, match="style of music or a reference"):
        LegacySongFromLyricsRequest(lyrics="words")


def test_unknown_singing_style_is_refused() -> None:
    """Singing styles are checked against section 5.2."""
    with pytest.raises(RequestValidationError, match="style_of_music: unknown value 'Pop'"):
        SingingRequest(lyrics="la", style_of_music="Pop")


def test_legacy_duration_must_be_one_of_15_30_60_180() -> None:
    """Text-to-music durations are restricted to the four documented values."""
    assert TextToMusicRequest(prompt="p", duration=60).duration is LegacyDuration.S60
    with pytest.raises(RequestValidationError, match="duration: unknown value 45"):
        TextToMusicRequest(prompt="p", duration=45)


@pytest.mark.parametrize("count", [0, -3])
def test_loop_count_must_be_positive(count: int) -> None:
    """Loop counts below 1 are refused."""
    with pytest.raises(
        RequestValidationError, match=f"count: must be at least 1 \\(got {count}\\)"
    ):
        LoopRequest(audio_url=AUDIO, count=count)


def test_gen_loop_body_names_loop_count_in_camel_case() -> None:
    """Gen-loop sends `loopCount`."""
    assert GenLoopRequest(prompt="p", loop_count=4).body() == {"prompt": "p", "loopCount": 4}


@pytest.mark.parametrize("url", ["ftp://example.com/a.mp3", "not a url", "https://"])
def test_audio_url_must_be_http_or_https(url: str) -> None:
    """URL fields refuse anything but an http(s) URL with a host."""
    with pytest.raises(RequestValidationError, match="audio_url: must be an http\\(s\\) URL"):
        ExtendSongRequest(audio_url=url, lyrics="x", extend_at=9000)


def test_guidance_scale_outside_1_to_15_is_refused() -> None:
    """Extend-music guidance scale is limited to 1.0..15.0."""
    with pytest.raises(RequestValidationError, match=r"guidance_scale: must be between 1\.0"):
        ExtendMusicRequest(audio_url=AUDIO, guidance_scale=20.0)


def test_remix_needs_a_prompt_or_lyrics() -> None:
    """Remix refuses a request with neither prompt nor lyrics."""
    with pytest.raises(RequestValidationError, match="a prompt or lyrics is required"):
        RemixRequest(song_reference_url=AUDIO)


def test_missing_required_field_is_reported_as_required() -> None:
    """A missing required field reads "is required"."""
    kwargs: dict[str, Any] = {"lyrics": "x", "extend_at": 9000}
    with pytest.raises(RequestValidationError, match="audio_url: is required"):
        ExtendSongRequest(**kwargs)
