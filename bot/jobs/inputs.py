"""Audio that members give the bot: checked against the contract before any quota is reserved.

Soundverse fetches inputs from a URL and takes at most 10 MB; the bot also makes sure
the file is audio it can read and that its length suits the operation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.audio import AudioInfo, AudioTooLong, NotAudio, in_probe_pool, probe_bytes
from bot.errors import InvalidInput
from bot.soundverse.limits import (
    EXTEND_AT_SECONDS,
    INPUT_MAX_BYTES,
    LOOP_COUNT,
    LYRICS_MAX_CHARS,
    Bounds,
)

PROBE_TIME_LIMIT = 10.0
"""Seconds of work an upload may take to read before it is refused."""


@dataclass(frozen=True, slots=True)
class AudioSource:
    """Audio to send to Soundverse: its URL, what it is, and the track it came from."""

    url: str
    label: str
    duration: float | None = None
    track_id: int | None = None


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_upload_metadata(filename: str, content_type: str | None, size: int) -> None:
    """Refuse by what Discord says of an upload, before downloading it."""
    if size > INPUT_MAX_BYTES:
        raise InvalidInput(
            f"`{filename}` is {megabytes(size)}; Soundverse takes audio files up to "
            f"{megabytes(INPUT_MAX_BYTES)}."
        )
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind and not (kind.startswith("audio/") or kind in {"video/ogg", "video/webm", "video/mp4"}):
        raise InvalidInput(
            f"`{filename}` is not an audio file (it is {kind}); attach an MP3, WAV, OGG or M4A."
        )


def clock_time(seconds: float) -> str:
    """`3:07` for 187 seconds."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def check_upload_audio(filename: str, data: bytes, max_seconds: float) -> AudioInfo:
    """Probe the uploaded bytes: they must decode as audio no longer than `max_seconds`,
    read within `PROBE_TIME_LIMIT` (a file built to be costly to read is refused early)."""
    if len(data) > INPUT_MAX_BYTES:
        check_upload_metadata(filename, None, len(data))
    try:
        info = probe_bytes(data, longest=max_seconds, time_limit=PROBE_TIME_LIMIT)
    except AudioTooLong:
        raise InvalidInput(
            f"`{filename}` is longer than {clock_time(max_seconds)}, the longest audio accepted."
        ) from None
    except NotAudio as error:
        raise InvalidInput(f"`{filename}` could not be read as audio: {error}.") from None
    if info.duration > max_seconds:
        raise InvalidInput(
            f"`{filename}` lasts {clock_time(info.duration)}; the longest audio accepted is "
            f"{clock_time(max_seconds)}."
        )
    return info


async def check_upload_audio_async(filename: str, data: bytes, max_seconds: float) -> AudioInfo:
    """`check_upload_audio` in the upload probes' own pool, so uploads never take every core
    nor the event loop."""
    return await in_probe_pool(lambda: check_upload_audio(filename, data, max_seconds))


def check_extend_position(at_seconds: int, duration: float | None) -> int:
    """`at_seconds` as `extend_at` milliseconds, inside 8-420 s and inside the audio."""
    if at_seconds not in EXTEND_AT_SECONDS:
        low, high = EXTEND_AT_SECONDS.low, EXTEND_AT_SECONDS.high
        raise InvalidInput(
            f"The position must be from {clock_time(low)} to {clock_time(high)} "
            f"(got {clock_time(at_seconds)})."
        )
    if duration is not None and at_seconds >= duration:
        raise InvalidInput(
            f"The position ({clock_time(at_seconds)}) must be inside the audio, which lasts "
            f"{clock_time(duration)}."
        )
    return at_seconds * 1000


TIME_TEXT = re.compile(r"(?:(\d{1,3}):([0-5]\d)|(\d{1,5})\s*s?)")


def seconds_from_text(text: str, what: str, bounds: Bounds) -> int | None:
    """A typed position or length: seconds (`95`, `95s`) or minutes:seconds (`1:35`), within
    `bounds`; empty means None (the default). `what` names it in a refusal ("The position")."""
    value = text.strip().lower()
    if not value:
        return None
    match = TIME_TEXT.fullmatch(value)
    if match is None:
        raise InvalidInput(
            f"{what} must be in seconds or minutes:seconds, like `95` or `1:35` "
            f"(got `{text.strip()}`)."
        )
    minutes, seconds_part, plain = match.groups()
    seconds = int(plain) if plain is not None else int(minutes) * 60 + int(seconds_part)
    if seconds not in bounds:
        raise InvalidInput(
            f"{what} must be from {clock_time(bounds.low)} to {clock_time(bounds.high)} "
            f"(got {clock_time(seconds)})."
        )
    return seconds


def loop_count_from_text(text: str) -> int:
    """A typed number of loop repeats, within `LOOP_COUNT`."""
    value = text.strip()
    if not value.isdigit() or int(value) not in LOOP_COUNT:
        raise InvalidInput(
            f"Repeats must be a whole number from {LOOP_COUNT.low} to {LOOP_COUNT.high} "
            f"(got `{text}`)."
        )
    return int(value)


def check_lyrics(
    lyrics: str | None, *, required: bool, limit: int = LYRICS_MAX_CHARS
) -> str | None:
    """Lyrics trimmed; refused when required and empty, or longer than `limit`."""
    text = (lyrics or "").strip()
    if required and not text:
        raise InvalidInput(f"Lyrics are required to extend a song; at most {limit} characters.")
    if len(text) > limit:
        raise InvalidInput(f"Lyrics can be at most {limit} characters (got {len(text)}).")
    return text or None
