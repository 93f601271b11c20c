"""Operations: how each kind of order is run at Soundverse, streamed or in one call.

An order stores its request as plain JSON (so a restart can finish it); an operation
turns that JSON back into the request model and calls the client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.soundverse import (
    GenerationResult,
    GenerationStream,
    LegacySongFromLyricsRequest,
    LegacySongRequest,
    LegacyVersion,
    MusicRequest,
    MusicVersion,
    SongRequest,
    SongVersion,
    SoundverseClient,
)

Request = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Streamed:
    """An operation whose progress streams (SSE) and can be resumed through status."""

    start: Callable[[SoundverseClient, Request], GenerationStream]


@dataclass(frozen=True, slots=True)
class OneCall:
    """An operation answered by one call; it cannot be followed after a restart."""

    call: Callable[[SoundverseClient, Request], Awaitable[GenerationResult]]


Runner = Streamed | OneCall


class UnknownOperation(LookupError):
    """No runner is registered for that operation and version."""


def _song(version: SongVersion) -> Streamed:
    return Streamed(lambda client, req: client.stream_song(SongRequest(**req), version))


def _music(version: MusicVersion) -> Streamed:
    return Streamed(lambda client, req: client.stream_music(MusicRequest(**req), version))


async def _legacy_song(client: SoundverseClient, req: Request, version: LegacyVersion) -> Any:
    if req.get("lyrics"):
        return await client.legacy_song_from_lyrics(LegacySongFromLyricsRequest(**req), version)
    return await client.legacy_song(LegacySongRequest(**req), version)


def _legacy_song_runner(version: LegacyVersion) -> OneCall:
    return OneCall(lambda client, req: _legacy_song(client, req, version))


def _legacy_music_runner(version: LegacyVersion) -> OneCall:
    return OneCall(lambda client, req: client.legacy_music(LegacySongRequest(**req), version))


RUNNERS: dict[tuple[str, str], Runner] = {
    **{("song", version.value): _song(version) for version in SongVersion},
    **{("music", version.value): _music(version) for version in MusicVersion},
    **{("song", version.value): _legacy_song_runner(version) for version in LegacyVersion},
    **{("music", version.value): _legacy_music_runner(version) for version in LegacyVersion},
}


def runner_for(operation: str, version: str) -> Runner:
    """The runner of `operation` at `version`; `UnknownOperation` when there is none."""
    try:
        return RUNNERS[(operation, version)]
    except KeyError:
        raise UnknownOperation(f"no {operation} runner for version {version}") from None
