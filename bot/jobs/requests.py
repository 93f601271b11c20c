"""Turning what a member typed into a checked Soundverse request, before any quota is reserved.

Each builder applies the contract's rules for the chosen version and raises
`RequestValidationError` naming the field; the result is the JSON stored with the job.
"""

from __future__ import annotations

from typing import Any

from bot.soundverse import (
    LegacySongFromLyricsRequest,
    LegacySongRequest,
    LegacyVersion,
    MusicRequest,
    MusicStyle,
    MusicVersion,
    RequestValidationError,
    SongRequest,
    SongVersion,
)
from bot.soundverse.models import ApiRequest

SONG_VERSIONS = ("v5", "v6", "v7", "v4", "v1")
MUSIC_VERSIONS = ("v5", "v6", "v4", "v1")
DEPRECATED_VERSIONS = frozenset({"v4", "v1"})


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
