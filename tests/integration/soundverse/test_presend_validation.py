"""Requests that break a documented rule are refused before anything reaches the server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.soundverse import (
    ExtendMusicRequest,
    ExtendMusicVersion,
    ExtendSongRequest,
    LegacySongRequest,
    LegacyVersion,
    RequestValidationError,
    SingingRequest,
    SongRequest,
    SongVersion,
    SoundverseClient,
    StemKind,
)
from sandbox.soundverse import SoundverseStandIn

AUDIO = "https://storage.soundverse.ai/x-one/a/b/song.mp3"


def over_long_prompt(client: SoundverseClient) -> Awaitable[Any]:
    return client.song_sync(SongRequest(prompt="x" * 1025))


def extend_at_too_early(client: SoundverseClient) -> Awaitable[Any]:
    request = ExtendSongRequest(audio_url=AUDIO, lyrics="more", extend_at=500)
    return client.stream_extend_song(request).wait()


def unknown_style(client: SoundverseClient) -> Awaitable[Any]:
    return client.legacy_song(LegacySongRequest(prompt="p", style_of_music="Polka"))


def empty_lyrics(client: SoundverseClient) -> Awaitable[Any]:
    return client.singing(SingingRequest(lyrics="  "))


def zero_loop_count(client: SoundverseClient) -> Awaitable[Any]:
    return client.loop(AUDIO, 0)


def stems_of_a_non_url(client: SoundverseClient) -> Awaitable[Any]:
    return client.stems("song.mp3", StemKind.VOCALS)


def v5_song_without_prompt(client: SoundverseClient) -> Awaitable[Any]:
    return client.song_sync(SongRequest(reference_url=AUDIO), SongVersion.V5)


def v1_music_without_style(client: SoundverseClient) -> Awaitable[Any]:
    return client.legacy_music(LegacySongRequest(prompt="p"), LegacyVersion.V1)


def duration_on_song_v6(client: SoundverseClient) -> Awaitable[Any]:
    return client.stream_song(SongRequest(prompt="p", duration=20), SongVersion.V6).wait()


def non_legacy_duration_on_extend_music_v1(client: SoundverseClient) -> Awaitable[Any]:
    request = ExtendMusicRequest(audio_url=AUDIO, duration=20)
    return client.extend_music(request, ExtendMusicVersion.V1)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (over_long_prompt, "prompt"),
        (extend_at_too_early, "extend_at"),
        (unknown_style, "style_of_music"),
        (empty_lyrics, "lyrics"),
        (zero_loop_count, "count"),
        (stems_of_a_non_url, "audio_url"),
        (v5_song_without_prompt, "prompt"),
        (v1_music_without_style, "style_of_music"),
        (duration_on_song_v6, "duration"),
        (non_legacy_duration_on_extend_music_v1, "duration"),
    ],
)
async def test_invalid_request_never_reaches_the_server(
    client: SoundverseClient,
    standin: SoundverseStandIn,
    call: Callable[[SoundverseClient], Awaitable[Any]],
    field: str,
) -> None:
    """The call raises `RequestValidationError` on the field and the stand-in saw no POST."""
    with pytest.raises(RequestValidationError) as caught:
        await call(client)
    assert caught.value.field == field
    assert standin.counters.posts == {}
    assert standin.counters.jobs_started == 0
