"""Turning what a member typed into a checked Soundverse request, before any quota is reserved.

Each builder applies the contract's rules for the chosen version and raises
`RequestValidationError` naming the field; the result is the JSON stored with the job.
"""

from __future__ import annotations

import math
from typing import Any

from bot.errors import InvalidInput
from bot.jobs.inputs import AudioSource, check_extend_position, check_lyrics
from bot.jobs.operations import Operation
from bot.soundverse import (
    ExtendMusicRequest,
    ExtendMusicVersion,
    ExtendSongRequest,
    ExtendSongVersion,
    GenLoopRequest,
    LegacySongFromLyricsRequest,
    LegacySongRequest,
    LegacyVersion,
    MusicRequest,
    MusicStyle,
    MusicVersion,
    RequestValidationError,
    SingingRequest,
    SingingStyle,
    SongRequest,
    SongVersion,
    StemKind,
    TextToMusicRequest,
)
from bot.soundverse.limits import (
    DURATION_SECONDS,
    EXTEND_AT_SECONDS,
    LOOP_COUNT,
    LYRICS_MAX_CHARS,
    Bounds,
)
from bot.soundverse.requests import ApiRequest, LoopRequest


def stored(request: ApiRequest) -> dict[str, Any]:
    """The request as JSON with Python field names, so the same model can be rebuilt from it."""
    return request.model_dump(mode="json", exclude_none=True)


def music_style(style: str | None, version: str) -> MusicStyle | None:
    """The §5.1 style named by `style` (case-insensitive), required on v1."""
    if style is None:
        if version == "v1":
            raise RequestValidationError(
                "style", "is required for v1: pick one of the listed styles"
            )
        return None
    for known in MusicStyle:
        if known.value.casefold() == style.strip().casefold():
            return known
    raise RequestValidationError(
        "style", f"'{style}' is not a Soundverse style for {version}; pick one from the list"
    )


def song_request(
    *,
    version: str,
    prompt: str,
    lyrics: str | None = None,
    duration: int | None = None,
    style: str | None = None,
) -> dict[str, Any]:
    """A song with vocals at `version` (v5, v6, v7, or deprecated v4 / v1)."""
    check_within("duration", duration, DURATION_SECONDS)
    if version in {v.value for v in SongVersion}:
        if style is not None:
            raise RequestValidationError(
                "style", f"song {version} takes no style; put it in the prompt"
            )
        if duration is not None and version != SongVersion.V5:
            raise RequestValidationError(
                "duration", f"only song v5 takes a duration, not {version}"
            )
        return stored(SongRequest(prompt=prompt, lyrics=lyrics, duration=duration))
    if version in {v.value for v in LegacyVersion}:
        if duration is not None:
            raise RequestValidationError("duration", f"song {version} takes no duration")
        chosen = music_style(style, version)
        if lyrics is not None:
            return stored(LegacySongFromLyricsRequest(lyrics=lyrics, style_of_music=chosen))
        return stored(LegacySongRequest(prompt=prompt, style_of_music=chosen))
    raise RequestValidationError("version", f"unknown song version {version}")


def music_request(
    *,
    version: str,
    prompt: str,
    style: str | None = None,
    duration: int | None = None,
) -> dict[str, Any]:
    """An instrumental at `version` (v5, v6, or deprecated v4 / v1)."""
    check_within("duration", duration, DURATION_SECONDS)
    if version in {v.value for v in MusicVersion}:
        if duration is not None and version != MusicVersion.V5:
            raise RequestValidationError(
                "duration", f"only music v5 takes a duration, not {version}"
            )
        return stored(MusicRequest(prompt=prompt, style=style, duration=duration))
    if version in {v.value for v in LegacyVersion}:
        if duration is not None:
            raise RequestValidationError("duration", f"music {version} takes no duration")
        return stored(LegacySongRequest(prompt=prompt, style_of_music=music_style(style, version)))
    raise RequestValidationError("version", f"unknown music version {version}")


def default_extend_position(duration: float | None) -> int:
    """Continue from the end when no position is given: the last whole second inside the audio."""
    low, high = EXTEND_AT_SECONDS.low, EXTEND_AT_SECONDS.high
    if duration is None or duration <= low:
        raise InvalidInput(
            f"Give the position to continue from, in seconds ({low}-{high}); "
            "the audio's length is unknown or too short."
        )
    return min(high, max(low, math.ceil(duration) - 1))


def extend_request(
    *,
    mode: str,
    version: str,
    source: AudioSource,
    at: int | None = None,
    lyrics: str | None = None,
    prompt: str | None = None,
) -> tuple[Operation, dict[str, Any]]:
    """The operation and request to continue `source` as a song (with lyrics) or instrumental."""
    if mode == "song":
        if version not in {v.value for v in ExtendSongVersion}:
            known = " or ".join(sorted(v.value for v in ExtendSongVersion))
            raise RequestValidationError("version", f"extend song has no {version}; use {known}")
        position = at if at is not None else default_extend_position(source.duration)
        request = ExtendSongRequest(
            audio_url=source.url,
            lyrics=check_lyrics(lyrics, required=True),
            extend_at=check_extend_position(position, source.duration),
            prompt=prompt,
        )
        return Operation.EXTEND_SONG, stored(request)
    if version not in {v.value for v in ExtendMusicVersion}:
        raise RequestValidationError("version", f"extend instrumental has no {version}")
    if at is not None:
        raise InvalidInput(
            "A position only applies to extending a song; instrumentals continue at the end."
        )
    return Operation.EXTEND_MUSIC, stored(ExtendMusicRequest(audio_url=source.url, prompt=prompt))


def singing_request(
    *, lyrics: str, style: str | None = None, reference: AudioSource | None = None
) -> dict[str, Any]:
    """Lyrics sung in one of the 24 styles, or after a dry-vocal reference."""
    chosen = None
    if style is not None:
        chosen = next((s for s in SingingStyle if s.value.casefold() == style.casefold()), None)
        if chosen is None:
            raise RequestValidationError("style", f"'{style}' is not one of the singing styles")
    text = check_lyrics(lyrics, required=False)
    if text is None:
        raise InvalidInput(f"Lyrics are required to sing; at most {LYRICS_MAX_CHARS} characters.")
    return stored(
        SingingRequest(
            lyrics=text,
            style_of_music=chosen,
            audio_url=reference.url if reference is not None else None,
        )
    )


def stems_request(source: AudioSource, kind: str) -> dict[str, Any]:
    """Which stems to separate from `source`: vocals, instruments, or all of them."""
    return {"audio_url": source.url, "kind": StemKind(kind).value}


def check_within(name: str, value: int | None, bounds: Bounds) -> None:
    """Refuse, naming the field, a number outside the bot's bounds for it."""
    if value is not None and value not in bounds:
        raise RequestValidationError(
            name, f"must be between {bounds.low} and {bounds.high} (got {value})"
        )


def loop_request(source: AudioSource, count: int) -> dict[str, Any]:
    """Loop and trim `source`, repeating the detected loop `count` times."""
    check_within("count", count, LOOP_COUNT)
    stored(LoopRequest(audio_url=source.url, count=count))
    return {"audio_url": source.url, "count": count}


def gen_loop_request(*, prompt: str, count: int, duration: int | None = None) -> dict[str, Any]:
    """Generate music from a prompt and loop it `count` times (durations 15/30/60/180 s)."""
    check_within("count", count, LOOP_COUNT)
    return stored(
        GenLoopRequest(
            prompt=prompt,
            loop_count=count,
            duration=duration,
        )
    )


def text_to_music_request(
    *, prompt: str, duration: int | None = None, model: str | None = None, loop: bool | None = None
) -> dict[str, Any]:
    """Legacy v1 text to music (deprecated by Soundverse)."""
    return stored(
        TextToMusicRequest(
            prompt=prompt,
            duration=duration,
            model=model,
            loop=loop,
        )
    )
