"""Operations: how each kind of order is run at Soundverse, streamed or in one call.

An order stores its request as plain JSON (so a restart can finish it); an operation
turns that JSON back into the request model and calls the client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.soundverse import (
    ExtendMusicRequest,
    ExtendMusicVersion,
    ExtendSongRequest,
    ExtendSongVersion,
    GenerationResult,
    GenerationStream,
    GenLoopRequest,
    LegacySongFromLyricsRequest,
    LegacySongRequest,
    LegacyVersion,
    MusicRequest,
    MusicVersion,
    SingingRequest,
    SongRequest,
    SongVersion,
    SoundverseClient,
    StemKind,
    Take,
    TextToMusicRequest,
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


def _extend_song(version: ExtendSongVersion) -> Streamed:
    return Streamed(
        lambda client, req: client.stream_extend_song(ExtendSongRequest(**req), version)
    )


def _extend_music(version: ExtendMusicVersion) -> OneCall:
    return OneCall(lambda client, req: client.extend_music(ExtendMusicRequest(**req), version))


def takes_result(takes: list[Take], **fields: Any) -> GenerationResult:
    """Results that are not generations (stems, loops) as takes of a generation."""
    return GenerationResult.model_validate({**fields, "takes": [t.model_dump() for t in takes]})


async def _stems(client: SoundverseClient, req: Request) -> GenerationResult:
    stems = await client.stems(str(req["audio_url"]), StemKind(req["kind"]))
    return takes_result([Take(audio_url=stem.audio_url, song_name=stem.name) for stem in stems])


async def _loop(client: SoundverseClient, req: Request) -> GenerationResult:
    looped = await client.loop(str(req["audio_url"]), int(req["count"]))
    return takes_result(list(looped.takes), album_art=looped.album_art)


async def _gen_loop(client: SoundverseClient, req: Request) -> GenerationResult:
    made = await client.gen_loop(GenLoopRequest(**req))
    return takes_result([*made.generated, *made.looped], album_art=made.album_art)


async def _singing(client: SoundverseClient, req: Request) -> GenerationResult:
    return await client.singing(SingingRequest(**req))


async def _text_to_music(client: SoundverseClient, req: Request) -> GenerationResult:
    return await client.text_to_music(TextToMusicRequest(**req))


RUNNERS: dict[tuple[str, str], Runner] = {
    **{("song", version.value): _song(version) for version in SongVersion},
    **{("music", version.value): _music(version) for version in MusicVersion},
    **{("song", version.value): _legacy_song_runner(version) for version in LegacyVersion},
    **{("music", version.value): _legacy_music_runner(version) for version in LegacyVersion},
    **{("extend_song", version.value): _extend_song(version) for version in ExtendSongVersion},
    **{("extend_music", version.value): _extend_music(version) for version in ExtendMusicVersion},
    ("stems", "v1"): OneCall(_stems),
    ("loop", "v1"): OneCall(_loop),
    ("gen_loop", "v1"): OneCall(_gen_loop),
    ("singing", "v2"): OneCall(_singing),
    ("text_to_music", "v1"): OneCall(_text_to_music),
}


def runner_for(operation: str, version: str) -> Runner:
    """The runner of `operation` at `version`; `UnknownOperation` when there is none."""
    try:
        return RUNNERS[(operation, version)]
    except KeyError:
        raise UnknownOperation(f"no {operation} runner for version {version}") from None
