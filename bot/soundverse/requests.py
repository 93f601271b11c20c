"""Typed requests of the Soundverse API: building one runs the documented checks.

A request that breaks a rule raises `RequestValidationError` naming the field, so it never
reaches the server. The limits themselves are in `bot.soundverse.limits`.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from bot.soundverse.enums import (
    ChatAction,
    ExtendSide,
    LegacyDuration,
    LegacyModel,
    MusicStyle,
    SingingStyle,
)
from bot.soundverse.errors import RequestValidationError
from bot.soundverse.limits import (
    EXTEND_AT_MS,
    GUIDANCE_SCALE,
    PROMPT_MAX_CHARS,
    REF_AUDIO_STRENGTH,
    Interval,
)

# --- pre-send checks -------------------------------------------------------------------------


def _check_prompt(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value) > PROMPT_MAX_CHARS:
        raise ValueError(f"at most {PROMPT_MAX_CHARS} characters (got {len(value)})")
    return value


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL (got {value[:80]!r})")
    return value.strip()


def _check_extend_at(value: int) -> int:
    if value not in EXTEND_AT_MS:
        raise ValueError(
            f"must be between {EXTEND_AT_MS.low} and {EXTEND_AT_MS.high} ms (got {value})"
        )
    return value


def _check_positive(value: int) -> int:
    if value < 1:
        raise ValueError(f"must be at least 1 (got {value})")
    return value


def _within(interval: Interval) -> AfterValidator:
    """A check that a number lies in `interval`."""

    def check(value: float) -> float:
        if value not in interval:
            raise ValueError(
                f"must be between {interval.low:.1f} and {interval.high:.1f} (got {value:g})"
            )
        return value

    return AfterValidator(check)


Prompt = Annotated[str, AfterValidator(_check_prompt)]
Text = Annotated[str, AfterValidator(_check_text)]
Url = Annotated[str, AfterValidator(_check_url)]
ExtendAt = Annotated[int, AfterValidator(_check_extend_at)]
PositiveInt = Annotated[int, AfterValidator(_check_positive)]


def _field_name(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "request"


def _describe(problem: ErrorDetails) -> str:
    """One precise sentence for a pydantic error, echoing the offending value where useful."""
    kind = problem["type"]
    if kind == "value_error":
        return problem["msg"].removeprefix("Value error, ")
    if kind == "missing":
        return "is required"
    if kind == "enum":
        expected = problem.get("ctx", {}).get("expected", "")
        return f"unknown value {problem.get('input')!r}; expected one of {expected}"
    return str(problem["msg"])


def request_error(error: ValidationError) -> RequestValidationError:
    """Our error for pydantic's report: the first problem, named by its field."""
    problem = error.errors(include_url=False)[0]
    return RequestValidationError(_field_name(tuple(problem["loc"])), _describe(problem))


class ApiRequest(BaseModel):
    """A request body; building one runs the documented checks (`RequestValidationError`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise request_error(error) from None

    def body(self) -> dict[str, Any]:
        """The JSON body with the API's field names; unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class SongRequest(ApiRequest):
    """A song with vocals (v5/v6/v7, streaming or sync).

    v7 accepts an audio URL instead of a prompt; v5 and v6 require the prompt.
    `duration` (seconds) is a v5 field; newer versions ignore it.
    """

    prompt: Prompt | None = None
    lyrics: Text | None = None
    duration: PositiveInt | None = None
    reference_url: Url | None = None
    instrumental_url: Url | None = None
    vocal_url: Url | None = None
    melody_url: Url | None = None

    @model_validator(mode="after")
    def _prompt_or_audio(self) -> SongRequest:
        audio = (self.reference_url, self.instrumental_url, self.vocal_url, self.melody_url)
        if self.prompt is None and all(url is None for url in audio):
            raise ValueError("a prompt or an audio URL is required")
        return self


class MusicRequest(ApiRequest):
    """An instrumental (v5/v6, streaming or sync); `style` is free text, e.g. "jazz"."""

    prompt: Prompt
    style: Text | None = None
    duration: PositiveInt | None = None


class LegacySongRequest(ApiRequest):
    """A song or instrumental from a prompt on the deprecated v4/v1 endpoints.

    The v4 docs allow a free-text style; the section 5.1 list is enforced on every version
    so one choice list works everywhere. Music v1 requires the style.
    """

    prompt: Prompt
    style_of_music: MusicStyle | None = Field(default=None, serialization_alias="styleOfMusic")
    audio_url: Url | None = Field(default=None, serialization_alias="audioUrl")


class LegacySongFromLyricsRequest(ApiRequest):
    """A song from lyrics on the deprecated v4/v1 endpoints; a style or a reference is needed."""

    lyrics: Text
    style_of_music: MusicStyle | None = Field(default=None, serialization_alias="styleOfMusic")
    audio_url: Url | None = Field(default=None, serialization_alias="audioUrl")

    @model_validator(mode="after")
    def _style_or_reference(self) -> LegacySongFromLyricsRequest:
        if self.style_of_music is None and self.audio_url is None:
            raise ValueError("a style of music or a reference audio URL is required")
        return self


class TextToMusicRequest(ApiRequest):
    """Deprecated v1 text-to-music."""

    prompt: Prompt
    duration: LegacyDuration | None = None
    model: LegacyModel | None = None
    loop: bool | None = None


class ExtendSongRequest(ApiRequest):
    """Continue a song from `extend_at` ms with new lyrics (v5/v6, streaming or sync)."""

    audio_url: Url
    lyrics: Text
    extend_at: ExtendAt
    prompt: Prompt | None = None


class ExtendMusicRequest(ApiRequest):
    """Extend an instrumental by `duration` seconds on one side (v5/v6/v1, sync)."""

    audio_url: Url
    prompt: Prompt | None = None
    duration: PositiveInt | None = None
    side: ExtendSide | None = None
    style_of_music: Text | None = Field(default=None, serialization_alias="styleOfMusic")
    infer_step: PositiveInt | None = Field(default=None, serialization_alias="inferStep")
    guidance_scale: Annotated[float, _within(GUIDANCE_SCALE)] | None = Field(
        default=None, serialization_alias="guidanceScale"
    )
    omega_scale: float | None = Field(default=None, serialization_alias="omegaScale")
    retake_variance: float | None = Field(default=None, serialization_alias="retakeVariance")
    ref_audio_strength: Annotated[float, _within(REF_AUDIO_STRENGTH)] | None = Field(
        default=None, serialization_alias="refAudioStrength"
    )
    manual_seeds: list[int] | None = Field(default=None, serialization_alias="manualSeeds")


class RemixRequest(ApiRequest):
    """Remix a song (v7, streaming only); a prompt or lyrics is needed."""

    song_reference_url: Url
    prompt: Prompt | None = None
    lyrics: Text | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _prompt_or_lyrics(self) -> RemixRequest:
        if self.prompt is None and self.lyrics is None:
            raise ValueError("a prompt or lyrics is required")
        return self


class LyricsRequest(ApiRequest):
    """Lyrics about `prompt` (v1)."""

    prompt: Prompt
    mood: Text | None = None
    section: Text | None = None
    genre: Text | None = None


class SingingRequest(ApiRequest):
    """Sing `lyrics` (v2); a dry-vocal reference overrides the style."""

    lyrics: Text
    style_of_music: SingingStyle | None = Field(default=None, serialization_alias="styleOfMusic")
    audio_url: Url | None = Field(default=None, serialization_alias="audioUrl")


class StemRequest(ApiRequest):
    """Split the audio at `audio_url` into stems (v1)."""

    audio_url: Url = Field(serialization_alias="audioUrl")


class LoopRequest(ApiRequest):
    """Find a seamless loop in the audio at `audio_url` and repeat it `count` times (v1)."""

    audio_url: Url = Field(serialization_alias="audioUrl")
    count: PositiveInt


class GenLoopRequest(ApiRequest):
    """Generate music from a prompt, then loop it `loop_count` times (v1)."""

    prompt: Prompt
    loop_count: PositiveInt = Field(serialization_alias="loopCount")
    duration: LegacyDuration | None = None
    model: LegacyModel | None = None
    loop: bool | None = None


class ChatRequest(ApiRequest):
    """One message to the chat assistant."""

    prompt: Prompt
    action: ChatAction = ChatAction.OTHER


class VoiceRequest(ApiRequest):
    """A spoken question for the voice assistant, as a public audio URL."""

    speech_url: Url
