"""Decoded replies of the Soundverse API, and the merged state of a streamed job.

Results accept both the camelCase (legacy) and snake_case (current) spellings, and keep
fields they do not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.soundverse.enums import TERMINAL_STAGES, JobStage

# --- results -------------------------------------------------------------------------------

_CAMEL_TO_SNAKE = {
    "messageId": "message_id",
    "jobId": "job_id",
    "audioUrl": "audio_url",
    "audioData": "audio_data",
    "albumArt": "album_art",
    "songName": "song_name",
    "aiReply": "ai_reply",
    "streamUrl": "stream_url",
    "is_complete": "isComplete",
}


def canonical_keys(payload: Mapping[str, Any]) -> dict[str, Any]:
    """`payload` with the API's alternative spellings renamed to one canonical name each."""
    return {_CAMEL_TO_SNAKE.get(key, key): value for key, value in payload.items()}


def _license_text(value: Any) -> Any:
    """`licenses` arrives as a string or as `{"licenses": "..."}`."""
    if isinstance(value, Mapping):
        return value.get("licenses")
    return value


def _as_list(value: Any) -> Any:
    """`audio_data` arrives as a list of takes or as a single object; items without a URL
    (e.g. a placeholder while a job runs) are not takes."""
    items = [value] if isinstance(value, Mapping) else value
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, Mapping) and _has_audio_url(item)]


def _has_audio_url(item: Mapping[str, Any]) -> bool:
    return bool(item.get("audio_url") or item.get("audioUrl"))


def _ids_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


class ApiResult(BaseModel):
    """A decoded reply: both spellings accepted, unknown fields kept in `model_extra`."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


OptionalId = Annotated[str | None, BeforeValidator(_ids_as_text)]


class Take(ApiResult):
    """One generated audio file."""

    audio_url: str = Field(validation_alias=AliasChoices("audio_url", "audioUrl"))
    song_name: str | None = Field(
        default=None, validation_alias=AliasChoices("song_name", "songName")
    )
    license: Annotated[str | None, BeforeValidator(_license_text)] = Field(
        default=None, validation_alias=AliasChoices("licenses", "license")
    )
    role: str | None = None
    """What the file is when it is not one take among equals: a stem's name, the original
    or the loop of a generated loop (set by the bot, kept with the job's answer)."""


Takes = Annotated[list[Take], BeforeValidator(_as_list)]


class GenerationResult(ApiResult):
    """A finished generation: its ids, title, cover and takes."""

    message_id: OptionalId = Field(
        default=None, validation_alias=AliasChoices("message_id", "messageId")
    )
    job_id: OptionalId = Field(default=None, validation_alias=AliasChoices("job_id", "jobId"))
    song_name: str | None = Field(
        default=None, validation_alias=AliasChoices("song_name", "songName")
    )
    album_art: str | None = Field(
        default=None, validation_alias=AliasChoices("album_art", "albumArt")
    )
    takes: Takes = Field(
        default_factory=list, validation_alias=AliasChoices("audio_data", "audioData", "takes")
    )
    ai_reply: str | None = Field(default=None, validation_alias=AliasChoices("ai_reply", "aiReply"))
    operation: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_audio_url_is_a_take(cls, data: Any) -> Any:
        """A reply with only a top-level `audio_url` still has one take."""
        if not isinstance(data, Mapping):
            return data
        canonical = canonical_keys(data)
        takes = canonical.get("audio_data") or canonical.get("takes")
        if not takes and canonical.get("audio_url"):
            take = {"audio_url": canonical["audio_url"], "song_name": canonical.get("song_name")}
            return {**data, "audio_data": [take]}
        return data

    @property
    def audio_url(self) -> str | None:
        """The first take's URL."""
        return self.takes[0].audio_url if self.takes else None


class LyricsResult(ApiResult):
    """Generated lyrics."""

    prompt: str | None = None
    lyrics: str


class Stem(ApiResult):
    """One separated stem; names are whatever Soundverse returns (no fixed set)."""

    name: str = Field(validation_alias=AliasChoices("audioName", "audio_name", "name"))
    audio_url: str = Field(validation_alias=AliasChoices("audio_url", "audioUrl"))


class LoopResult(ApiResult):
    """A looped track (loop and trim)."""

    album_art: str | None = Field(
        default=None, validation_alias=AliasChoices("album_art", "albumArt")
    )
    ai_reply: str | None = Field(default=None, validation_alias=AliasChoices("ai_reply", "aiReply"))
    takes: Takes = Field(
        default_factory=list, validation_alias=AliasChoices("audio_data", "audioData", "takes")
    )


class GenLoopResult(ApiResult):
    """Generated music and its looped version."""

    prompt: str | None = None
    album_art: str | None = Field(
        default=None, validation_alias=AliasChoices("album_art", "albumArt")
    )
    ai_reply: str | None = Field(default=None, validation_alias=AliasChoices("ai_reply", "aiReply"))
    generated: Takes = Field(
        default_factory=list, validation_alias=AliasChoices("generatedAudio", "generated_audio")
    )
    looped: Takes = Field(
        default_factory=list, validation_alias=AliasChoices("loopedAudio", "looped_audio")
    )


class ChatReply(ApiResult):
    """The chat assistant's answer."""

    text: str = Field(validation_alias=AliasChoices("aiReply", "ai_reply", "text"))


class JobStatus(ApiResult):
    """A reply of the status endpoint (v5 by `message_id`, v7 by `job_id`)."""

    status: str
    message_id: OptionalId = Field(
        default=None, validation_alias=AliasChoices("message_id", "messageId")
    )
    job_id: OptionalId = Field(default=None, validation_alias=AliasChoices("job_id", "jobId"))
    progress: int | None = None
    song_name: str | None = Field(
        default=None, validation_alias=AliasChoices("song_name", "songName")
    )
    album_art: str | None = Field(
        default=None, validation_alias=AliasChoices("album_art", "albumArt")
    )
    takes: Takes = Field(
        default_factory=list, validation_alias=AliasChoices("audio_data", "audioData", "takes")
    )
    error: str | None = None

    @property
    def is_terminal(self) -> bool:
        """The job has completed or failed."""
        return self.status in TERMINAL_STAGES

    @property
    def is_failed(self) -> bool:
        """The job has failed."""
        return self.status == JobStage.FAILED


@dataclass(frozen=True, slots=True)
class JobState:
    """Everything known about a streamed job so far: all chunks (and status polls) merged.

    `raw` is the merged payload with canonical key names, unknown fields included.
    """

    raw: Mapping[str, Any]
    stage: str | None = None
    progress: int | None = None
    message_id: str | None = None
    job_id: str | None = None
    song_name: str | None = None
    album_art: str | None = None
    stream_url: str | None = None
    audio_url: str | None = None
    takes: tuple[Take, ...] = field(default=())
    error: str | None = None
    is_complete: bool = False

    @classmethod
    def from_merged(cls, raw: Mapping[str, Any]) -> JobState:
        """The state described by a merged, canonical payload."""
        stage = _optional_text(raw.get("status"))
        result = GenerationResult.model_validate(dict(raw))
        return cls(
            raw=dict(raw),
            stage=stage,
            progress=_optional_int(raw.get("progress")),
            message_id=result.message_id,
            job_id=result.job_id,
            song_name=result.song_name,
            album_art=result.album_art,
            stream_url=_optional_text(raw.get("stream_url")),
            audio_url=_optional_text(raw.get("audio_url")) or result.audio_url,
            takes=tuple(result.takes),
            error=_optional_text(raw.get("error")),
            is_complete=raw.get("isComplete") is True or stage in TERMINAL_STAGES,
        )

    @property
    def is_failed(self) -> bool:
        """The job ended in failure: a failed stage, or a final chunk that carries an error."""
        if self.stage == JobStage.FAILED:
            return True
        return self.is_complete and self.error is not None and self.stage != JobStage.COMPLETED

    def result(self) -> GenerationResult:
        """The finished generation described by this state."""
        return GenerationResult.model_validate(dict(self.raw))


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
