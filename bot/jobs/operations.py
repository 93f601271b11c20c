"""Operations: what each kind of work is called, what it costs, what follows it, and how it runs.

`Operation` names every billed operation once, with the facts the rest of the bot reads:
the noun a member sees, the quota cost key, the version used when none is chosen and the
follow-ups that make sense on its result. Whether an operation streams depends on its
version, so that fact is the runner table below (`runner_for`): `Streamed` or `OneCall`.

An order stores its request as plain JSON (so a restart can finish it); a runner turns
that JSON back into the request model and calls the client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
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


class FollowUp(StrEnum):
    """Work a member can start from a finished track (Delete always applies)."""

    EXTEND = "extend"
    LOOP = "loop"
    VARIATION = "variation"
    LYRICS = "lyrics"
    STEMS = "stems"


_EVERY_FOLLOW_UP = frozenset(FollowUp)
_INSTRUMENTAL = _EVERY_FOLLOW_UP - {FollowUp.LYRICS}


@dataclass(frozen=True, slots=True)
class _Facts:
    noun: str
    card_title: str
    default_version: str
    follow_ups: frozenset[FollowUp]
    vocals: bool = False
    plural: bool = False


class Operation(StrEnum):
    """A billed operation; its value is what the database and the quota costs call it."""

    SONG = "song"
    MUSIC = "music"
    EXTEND_SONG = "extend_song"
    EXTEND_MUSIC = "extend_music"
    SINGING = "singing"
    STEMS = "stems"
    LOOP = "loop"
    GEN_LOOP = "gen_loop"
    TEXT_TO_MUSIC = "text_to_music"
    LYRICS = "lyrics"
    CHAT = "chat"
    VOICE = "voice"

    @property
    def noun(self) -> str:
        """What a member calls the result: "your {noun} is ready"."""
        return _FACTS[self].noun

    @property
    def card_title(self) -> str:
        """What a job card is titled."""
        return _FACTS[self].card_title

    @property
    def plural(self) -> bool:
        """Whether the noun is plural ("your stems are ready")."""
        return _FACTS[self].plural

    @property
    def cost_key(self) -> str:
        """The operation's name in the quota costs (`QUOTA_COSTS`)."""
        return self.value

    @property
    def default_version(self) -> str:
        """The Soundverse version used when the member chooses none."""
        return _FACTS[self].default_version

    @property
    def vocals(self) -> bool:
        """Whether its result is sung (so extending it needs lyrics)."""
        return _FACTS[self].vocals

    @property
    def follow_ups(self) -> frozenset[FollowUp]:
        """What a member may start from a track this operation made."""
        return _FACTS[self].follow_ups


_FACTS: dict[Operation, _Facts] = {
    Operation.SONG: _Facts("song", "Song", "v5", _EVERY_FOLLOW_UP, vocals=True),
    Operation.MUSIC: _Facts("instrumental", "Instrumental", "v5", _INSTRUMENTAL),
    Operation.EXTEND_SONG: _Facts(
        "extended song", "Extended song", "v5", _EVERY_FOLLOW_UP, vocals=True
    ),
    Operation.EXTEND_MUSIC: _Facts(
        "extended instrumental", "Extended instrumental", "v5", _INSTRUMENTAL
    ),
    Operation.SINGING: _Facts("singing", "Singing", "v2", _EVERY_FOLLOW_UP, vocals=True),
    Operation.STEMS: _Facts(
        "stems",
        "Stem separation",
        "v1",
        frozenset({FollowUp.EXTEND, FollowUp.LOOP, FollowUp.VARIATION}),
        plural=True,
    ),
    Operation.LOOP: _Facts("loop", "Loop", "v1", _INSTRUMENTAL),
    Operation.GEN_LOOP: _Facts("loop", "Generated loop", "v1", _INSTRUMENTAL),
    Operation.TEXT_TO_MUSIC: _Facts("music", "Text to music", "v1", _INSTRUMENTAL),
    Operation.LYRICS: _Facts("lyrics", "Lyrics", "v1", frozenset(), plural=True),
    Operation.CHAT: _Facts("answer", "Chat", "v1", frozenset()),
    Operation.VOICE: _Facts("spoken answer", "Spoken answer", "v1", frozenset()),
}


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
    return takes_result(
        [Take(audio_url=stem.audio_url, song_name=stem.name, role=stem.name) for stem in stems]
    )


async def _loop(client: SoundverseClient, req: Request) -> GenerationResult:
    looped = await client.loop(str(req["audio_url"]), int(req["count"]))
    return takes_result(list(looped.takes), album_art=looped.album_art)


async def _gen_loop(client: SoundverseClient, req: Request) -> GenerationResult:
    made = await client.gen_loop(GenLoopRequest(**req))
    takes = [take.model_copy(update={"role": "original"}) for take in made.generated]
    for take in made.looped:
        title = take.song_name
        if title and "loop" not in title.casefold():
            title = f"{title} (loop)"
        takes.append(take.model_copy(update={"role": "loop", "song_name": title}))
    return takes_result(takes, album_art=made.album_art)


async def _singing(client: SoundverseClient, req: Request) -> GenerationResult:
    return await client.singing(SingingRequest(**req))


async def _text_to_music(client: SoundverseClient, req: Request) -> GenerationResult:
    return await client.text_to_music(TextToMusicRequest(**req))


RUNNERS: dict[tuple[Operation, str], Runner] = {
    **{(Operation.SONG, v.value): _song(v) for v in SongVersion},
    **{(Operation.MUSIC, v.value): _music(v) for v in MusicVersion},
    **{(Operation.SONG, v.value): _legacy_song_runner(v) for v in LegacyVersion},
    **{(Operation.MUSIC, v.value): _legacy_music_runner(v) for v in LegacyVersion},
    **{(Operation.EXTEND_SONG, v.value): _extend_song(v) for v in ExtendSongVersion},
    **{(Operation.EXTEND_MUSIC, v.value): _extend_music(v) for v in ExtendMusicVersion},
    (Operation.STEMS, "v1"): OneCall(_stems),
    (Operation.LOOP, "v1"): OneCall(_loop),
    (Operation.GEN_LOOP, "v1"): OneCall(_gen_loop),
    (Operation.SINGING, "v2"): OneCall(_singing),
    (Operation.TEXT_TO_MUSIC, "v1"): OneCall(_text_to_music),
}


def runner_for(operation: str, version: str) -> Runner:
    """The runner of `operation` at `version`; `UnknownOperation` when there is none."""
    try:
        return RUNNERS[(Operation(operation), version)]
    except (KeyError, ValueError):
        raise UnknownOperation(f"no {operation} runner for version {version}") from None
