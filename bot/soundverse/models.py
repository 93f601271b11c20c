"""Typed requests and results of the Soundverse API, and the enumerations of its docs (section 5).

Requests check the documented rules when they are built and raise `RequestValidationError`,
so a request that breaks them never reaches the server. Results accept both the camelCase
(legacy) and snake_case (current) spellings, and keep fields they do not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from bot.soundverse.errors import RequestValidationError

PROMPT_MAX_CHARS = 1024
EXTEND_AT_MIN_MS = 8000
EXTEND_AT_MAX_MS = 420000


class MusicStyle(StrEnum):
    """`styleOfMusic` of the v1 song/music and gen-loop endpoints (section 5.1, 64 values)."""

    POP = "Pop"
    HIP_HOP = "Hip Hop"
    RAP = "Rap"
    ROCK = "Rock"
    EDM = "EDM"
    LATIN = "Latin"
    REGGAETON = "Reggaeton"
    K_POP = "K-Pop"
    RNB = "RnB"
    COUNTRY = "Country"
    DANCE = "Dance"
    HOUSE = "House"
    BOLLYWOOD = "Bollywood"
    AFROBEAT = "Afrobeat"
    AFROPOP = "Afropop"
    DANCEHALL = "Dancehall"
    DEEP_HOUSE = "Deep House"
    ELECTRONIC = "Electronic"
    FUTURE_BASS = "Future Bass"
    TRAP = "Trap"
    POP_TRAP = "Pop-Trap"
    DUBSTEP = "Dubstep"
    SYNTHPOP = "Synthpop"
    SYNTHWAVE = "Synthwave"
    TECHNO = "Techno"
    PROGRESSIVE_METAL = "Progressive-Metal"
    ALT_ROCK = "Alt-Rock"
    ALT_METAL = "Alt-Metal"
    NU_METAL = "Nu-Metal"
    METAL = "Metal"
    JAZZ = "Jazz"
    BLUES = "Blues"
    SOUL = "Soul"
    FUNK = "Funk"
    SINGER_SONGWRITER = "Singer-Songwriter"
    FOLK = "Folk"
    CLOUD_RAP = "Cloud-Rap"
    LOFI = "Lofi"
    CHILLOUT = "Chillout"
    DOWNTEMPO = "Downtempo"
    MEDITATIVE = "Meditative"
    NEW_AGE = "New-Age"
    WESTERN_CLASSICAL = "Western-Classical"
    CLASSICAL = "Classical"
    OPERA = "Opera"
    PIANO = "Piano"
    SPOKEN_WORD = "Spoken-Word"
    GOSPEL = "Gospel"
    BRAZILIAN_MUSIC = "Brazilian-Music"
    BOSSA_NOVA = "Bossa-Nova"
    SALSA = "Salsa"
    BACHATA = "Bachata"
    COUNTRY_BLUES = "Country-Blues"
    FUTURE_RAVE = "Future-Rave"
    ELECTROSTEP = "Electrostep"
    DUB = "Dub"
    DISCO = "Disco"
    SHOEGAZE = "Shoegaze"
    BIT_BEAT = "Bit-Beat"
    INDIAN_ELECTRONIC = "Indian Electronic"
    AFRICAN = "African"
    EIGHTIES = "80s"
    ACOUSTIC = "Acoustic"
    MELODIC = "Melodic"


class SingingStyle(StrEnum):
    """`styleOfMusic` of AI singing v2 (section 5.2, 24 values, spelled as published)."""

    POP_FEMALE = "Pop(Female)"
    POP_MALE = "Pop(Male)"
    RAP = "Rap"
    HIPHOP = "Hiphop"
    VOCAL_CHOPS = "Vocal Chops"
    HYPERPOP_FEMALE = "Hyperpop (Female)"
    MEOW_MEOW_CAT = "Meow Meow Cat"
    ROCK = "Rock"
    KAWAII = "Kawaii"
    HARD_ROCK = "Hard Rock"
    METAL = "Metal"
    VOCODER = "Vocoder"
    ASMR_SINGING = "ASMR Singing"
    CHOIR = "Choir"
    ORCHESTRAL_CHOIR = "Orchestral Choir"
    GREGORIAN_CHANT = "Gregorian Chant"
    ANCIENT_CHANT = "Ancient Chant"
    SPOKEN_WORD = "Spoken Word"
    VOICEMAIL_MALE = "Voicemail (Male)"
    VOICEMAIL_FEMALE = "Voicemail (Female)"
    CUTE_KKEY = "Cute Kkey"
    GHOST_WHISPERING = "Ghost Whispering"
    GROUP_PEOPLE_WHISPERING = "Group People Whispering"
    MONGOLIAN_THROAT_SINGING = "Mongolian Throat Singing"


class ChatAction(StrEnum):
    """Intent tag of the chat assistant (section 5.3)."""

    GENERATE_MUSIC = "generate_music"
    EXTEND_MUSIC = "extend_music"
    AUTO_COMPLETE_MUSIC = "auto_complete_music"
    LOOP_AUDIO = "loop_audio"
    SEPARATE_STEMS = "separate_stems"
    EDIT_MUSIC = "edit_music"
    LYRIC_WRITING = "lyric_writing"
    OTHER = "other"


class StemKind(StrEnum):
    """Which stem-separation route to call."""

    VOCALS = "vocals"
    INSTRUMENTS = "instruments"
    ALL_STEMS = "all-stems"


class ExtendSide(StrEnum):
    """Which end of an instrumental extend-music continues."""

    LEFT = "left"
    RIGHT = "right"


class LegacyModel(StrEnum):
    """Models of the v1 text-to-music and gen-loop endpoints."""

    SANSAAR_1 = "sansaar_1"
    SANSAAR_1_LITE = "sansaar_1_lite"


class LegacyDuration(IntEnum):
    """Durations (seconds) accepted by the v1 text-to-music and gen-loop endpoints."""

    S15 = 15
    S30 = 30
    S60 = 60
    S180 = 180


class JobStage(StrEnum):
    """Stages of a streamed job, as the stream and the status endpoint name them."""

    INITIALIZING = "initializing"
    VALIDATED = "validated"
    STREAMING = "streaming"
    UPLOADING = "uploading"
    COMPLETED = "completed"
    FAILED = "failed"


TERMINAL_STAGES = frozenset({JobStage.COMPLETED.value, JobStage.FAILED.value})


class SongVersion(StrEnum):
    """Streaming/sync song endpoints."""

    V7 = "v7"
    V6 = "v6"
    V5 = "v5"


class MusicVersion(StrEnum):
    """Streaming/sync instrumental endpoints."""

    V6 = "v6"
    V5 = "v5"


class LegacyVersion(StrEnum):
    """Deprecated sync song/music endpoints (banner dated 30/12/2025)."""

    V4 = "v4"
    V1 = "v1"


class ExtendSongVersion(StrEnum):
    """Extend-song endpoints (streaming and sync)."""

    V6 = "v6"
    V5 = "v5"


class ExtendMusicVersion(StrEnum):
    """Extend-music endpoints (sync only; v1 is deprecated)."""

    V6 = "v6"
    V5 = "v5"
    V1 = "v1"


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
    if not EXTEND_AT_MIN_MS <= value <= EXTEND_AT_MAX_MS:
        raise ValueError(
            f"must be between {EXTEND_AT_MIN_MS} and {EXTEND_AT_MAX_MS} ms (got {value})"
        )
    return value


def _check_positive(value: int) -> int:
    if value < 1:
        raise ValueError(f"must be at least 1 (got {value})")
    return value


def _check_unit_interval(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be between 0.0 and 1.0 (got {value:g})")
    return value


def _check_guidance(value: float) -> float:
    if not 1.0 <= value <= 15.0:
        raise ValueError(f"must be between 1.0 and 15.0 (got {value:g})")
    return value


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
    guidance_scale: Annotated[float, AfterValidator(_check_guidance)] | None = Field(
        default=None, serialization_alias="guidanceScale"
    )
    omega_scale: float | None = Field(default=None, serialization_alias="omegaScale")
    retake_variance: float | None = Field(default=None, serialization_alias="retakeVariance")
    ref_audio_strength: Annotated[float, AfterValidator(_check_unit_interval)] | None = Field(
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
        if not canonical.get("audio_data") and canonical.get("audio_url"):
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
