"""Building checked Soundverse requests from what a member typed."""

from __future__ import annotations

import pytest

from bot.jobs.inputs import AudioSource
from bot.jobs.operations import OneCall, Streamed, runner_for
from bot.jobs.requests import loop_request, music_request, song_request
from bot.soundverse import LegacySongRequest, RequestValidationError, SongRequest


def test_v5_song_keeps_prompt_lyrics_and_duration() -> None:
    """A v5 song stores prompt, lyrics and duration under their Python names."""
    stored = song_request(version="v5", prompt="rain", lyrics="la la", duration=20)
    assert stored == {"prompt": "rain", "lyrics": "la la", "duration": 20}


def test_stored_request_rebuilds_the_same_model() -> None:
    """What is stored for a legacy song builds the same request again after a restart."""
    stored = song_request(version="v1", prompt="rain", style="lofi")
    assert LegacySongRequest(**stored).body() == {"prompt": "rain", "styleOfMusic": "Lofi"}


def test_duration_is_refused_on_v6_song() -> None:
    """Only v5 takes a duration; the error names the field."""
    with pytest.raises(RequestValidationError, match="duration: only song v5 takes a duration"):
        song_request(version="v6", prompt="rain", duration=20)


def test_style_is_refused_on_streaming_song_versions() -> None:
    """v5/v6/v7 songs have no style field, so a style is refused rather than dropped."""
    with pytest.raises(RequestValidationError, match="style: song v7 takes no style"):
        song_request(version="v7", prompt="rain", style="Pop")


def test_v1_requires_a_known_style() -> None:
    """v1 needs a style from the documented list, matched case-insensitively."""
    with pytest.raises(RequestValidationError, match="style: is required for v1"):
        song_request(version="v1", prompt="rain")
    with pytest.raises(RequestValidationError, match="'polka' is not a Soundverse style"):
        song_request(version="v1", prompt="rain", style="polka")
    assert song_request(version="v1", prompt="rain", style="hip hop")["style_of_music"] == "Hip Hop"


def test_over_long_prompt_is_refused_with_its_length() -> None:
    """The 1024-character prompt limit is checked before anything is reserved."""
    with pytest.raises(
        RequestValidationError, match=r"prompt: at most 1024 characters \(got 1100\)"
    ):
        song_request(version="v5", prompt="x" * 1100)


def test_music_duration_only_on_v5() -> None:
    """Music v5 takes a duration, v6 refuses it."""
    assert music_request(version="v5", prompt="jazz", duration=20)["duration"] == 20
    with pytest.raises(RequestValidationError, match="only music v5 takes a duration"):
        music_request(version="v6", prompt="jazz", duration=20)


def test_streaming_versions_stream_and_legacy_versions_call_once() -> None:
    """v5-v7 run as streams (resumable), v4 and v1 as one call."""
    assert isinstance(runner_for("song", "v7"), Streamed)
    assert isinstance(runner_for("music", "v5"), Streamed)
    assert isinstance(runner_for("song", "v1"), OneCall)
    assert isinstance(runner_for("music", "v4"), OneCall)


def test_song_request_builds_a_song_model() -> None:
    """The stored v5 request is a valid `SongRequest`."""
    assert SongRequest(**song_request(version="v5", prompt="rain")).body() == {"prompt": "rain"}


def test_a_duration_outside_the_bots_range_is_refused() -> None:
    """The same 5-300 s the slash command offers is checked when the request is built."""
    with pytest.raises(
        RequestValidationError, match=r"duration: must be between 5 and 300 \(got 301\)"
    ):
        music_request(version="v5", prompt="rain", duration=301)


def test_a_loop_count_outside_the_bots_range_is_refused() -> None:
    """More than 64 repeats is refused wherever the count came from."""
    source = AudioSource("https://storage.soundverse.ai/a.mp3", "a.mp3")
    with pytest.raises(RequestValidationError, match=r"count: must be between 1 and 64 \(got 65\)"):
        loop_request(source, 65)
