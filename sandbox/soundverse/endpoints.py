"""The routes the local Soundverse serves (contract section 11.1) and each one's request schema."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from sandbox.soundverse.media import AudioFormat
from sandbox.soundverse.validation import AtLeastOne, Field, FieldKind


class Operation(StrEnum):
    """What a generation job makes; the value is the SSE `operation` tag."""

    SONG = "song_generate"
    MUSIC = "music_generate"
    EXTEND_SONG = "extend_song"
    EXTEND_MUSIC = "extend_music"
    REMIX = "remix"
    SINGING = "singing_generate"
    STEMS = "stem_separation"
    LOOP = "trim_and_loop"
    GEN_LOOP = "generate_and_loop"


class Transport(StrEnum):
    """How the answer travels: an SSE stream or one JSON reply."""

    SSE = "sse"
    SYNC = "sync"


class ReplyStyle(StrEnum):
    """The shape of a sync reply."""

    CURRENT = "current"  # v5+: message_id, album_art, audio_data, ai_reply, song_name
    CURRENT_ALT = "current-alt"  # v5 song-gen/music-gen: adds success and messageId
    LEGACY_WITH_ID = "legacy-with-id"  # v4, v2: messageId, prompt, albumArt, aiReply, audioData
    LEGACY = "legacy"  # v1: prompt, albumArt, aiReply, audioData
    STEMS = "stems"  # [{audioName, audioUrl}]
    LOOP = "loop"  # albumArt, aiReply, audioData without licenses
    GEN_LOOP = "gen-loop"  # generatedAudio and loopedAudio


MUSIC_STYLES = (
    "Pop", "Hip Hop", "Rap", "Rock", "EDM", "Latin", "Reggaeton", "K-Pop", "RnB", "Country",
    "Dance", "House", "Bollywood", "Afrobeat", "Afropop", "Dancehall", "Deep House",
    "Electronic", "Future Bass", "Trap", "Pop-Trap", "Dubstep", "Synthpop", "Synthwave",
    "Techno", "Progressive-Metal", "Alt-Rock", "Alt-Metal", "Nu-Metal", "Metal", "Jazz",
    "Blues", "Soul", "Funk", "Singer-Songwriter", "Folk", "Cloud-Rap", "Lofi", "Chillout",
    "Downtempo", "Meditative", "New-Age", "Western-Classical", "Classical", "Opera", "Piano",
    "Spoken-Word", "Gospel", "Brazilian-Music", "Bossa-Nova", "Salsa", "Bachata",
    "Country-Blues", "Future-Rave", "Electrostep", "Dub", "Disco", "Shoegaze", "Bit-Beat",
    "Indian Electronic", "African", "80s", "Acoustic", "Melodic",
)  # fmt: skip
SINGING_STYLES = (
    "Pop(Female)", "Pop(Male)", "Rap", "Hiphop", "Vocal Chops", "Hyperpop (Female)",
    "Meow Meow Cat", "Rock", "Kawaii", "Hard Rock", "Metal", "Vocoder", "ASMR Singing", "Choir",
    "Orchestral Choir", "Gregorian Chant", "Ancient Chant", "Spoken Word", "Voicemail (Male)",
    "Voicemail (Female)", "Cute Kkey", "Ghost Whispering", "Group People Whispering",
    "Mongolian Throat Singing",
)  # fmt: skip
CHAT_ACTIONS = (
    "generate_music", "extend_music", "auto_complete_music", "loop_audio", "separate_stems",
    "edit_music", "lyric_writing", "other",
)  # fmt: skip
STEM_NAMES: dict[str, tuple[str, ...]] = {
    "vocals": ("vocals",),
    "instruments": ("instruments",),
    "all-stems": ("vocals", "drums", "bass", "other"),
}

PROMPT_LIMIT = 1024
DEFAULT_SECONDS = 30

ROYALTY_FREE: dict[str, str] = {"licenses": "Royalty Free"}

_PROMPT = Field("prompt", required=True, max_length=PROMPT_LIMIT)
_PROMPT_OPTIONAL = Field("prompt", max_length=PROMPT_LIMIT)
_LYRICS = Field("lyrics")
_LYRICS_REQUIRED = Field("lyrics", required=True, non_empty=True)
# The docs give no bound; one keeps a mistaken request from rendering hours of audio.
_DURATION = Field("duration", FieldKind.INTEGER, minimum=1, maximum=600)
_LEGACY_DURATION = Field("duration", FieldKind.INTEGER, choices=(15, 30, 60, 180))
_LEGACY_MODEL = Field("model", choices=("sansaar_1", "sansaar_1_lite"))
_LOOP_FLAG = Field("loop", FieldKind.FLAG)
_STYLE = Field("style")
_FREE_STYLE_OF_MUSIC = Field("styleOfMusic", aliases=("StyleOfMusic", "style_of_music"))
_LEGACY_AUDIO_URL = Field("audioUrl", FieldKind.URL, aliases=("audio_url",))
_SOURCE_AUDIO_URL = Field("audioUrl", FieldKind.URL, required=True, aliases=("audio_url",))
_SONG_URLS = tuple(
    Field(name, FieldKind.URL)
    for name in ("reference_url", "instrumental_url", "vocal_url", "melody_url")
)
_ALT_IDS = (Field("userId", required=True), Field("projectId", required=True))
_ALT_EXTRAS = (Field("model"), Field("parameters", FieldKind.OBJECT))
_EXTEND_SONG = (
    Field("audio_url", FieldKind.URL, required=True, aliases=("audioUrl",)),
    _LYRICS_REQUIRED,
    _PROMPT_OPTIONAL,
    Field("extend_at", FieldKind.INTEGER, required=True, minimum=8000, maximum=420000),
)
_EXTEND_MUSIC = (
    Field("audio_url", FieldKind.URL, required=True, aliases=("audioUrl",)),
    _PROMPT_OPTIONAL,
    _DURATION,
    Field("side", choices=("left", "right")),
    _FREE_STYLE_OF_MUSIC,
    Field("inferStep", FieldKind.INTEGER, positive=True),
    Field("guidanceScale", FieldKind.NUMBER, minimum=1.0, maximum=15.0),
    Field("omegaScale", FieldKind.NUMBER),
    Field("retakeVariance", FieldKind.NUMBER),
    Field("refAudioStrength", FieldKind.NUMBER, minimum=0.0, maximum=1.0),
    Field("manualSeeds", FieldKind.LIST),
)


@dataclass(frozen=True)
class Endpoint:
    """One generation route: how it is called, what it makes and how it answers."""

    path: str
    operation: Operation
    transport: Transport
    reply: ReplyStyle
    fields: tuple[Field, ...]
    rules: tuple[AtLeastOne, ...] = ()
    audio_format: AudioFormat = "mp3"
    takes: int = 1
    licenses: dict[str, str] | str | None = None
    announces_job: bool = False  # the stream opens with a job_created event
    issues_job_id: bool = False  # the job can be polled at /v7/status
    input_seconds: tuple[float, float] = (0.0, math.inf)  # accepted length of input audio

    @property
    def url_fields(self) -> tuple[str, ...]:
        """The fields holding audio the stand-in must fetch."""
        return tuple(f.name for f in self.fields if f.kind is FieldKind.URL)


def _current(
    paths: tuple[tuple[str, Transport], ...],
    operation: Operation,
    fields: tuple[Field, ...],
    takes: int = 1,
    reply: ReplyStyle = ReplyStyle.CURRENT,
    rules: tuple[AtLeastOne, ...] = (),
    announces_job: bool = False,
    input_seconds: tuple[float, float] = (0.0, math.inf),
) -> list[Endpoint]:
    """v5-and-newer routes (MP3, snake_case, royalty-free), one per path."""
    return [
        Endpoint(
            path=path,
            operation=operation,
            transport=transport,
            reply=reply,
            fields=fields,
            rules=rules,
            takes=takes,
            licenses=ROYALTY_FREE,
            announces_job=announces_job and transport is Transport.SSE,
            issues_job_id=announces_job,
            input_seconds=input_seconds,
        )
        for path, transport in paths
    ]


def _pair(path: str) -> tuple[tuple[str, Transport], ...]:
    """A streaming path and its `/sync` twin."""
    return ((path, Transport.SSE), (path + "/sync", Transport.SYNC))


_SSE, _SYNC = Transport.SSE, Transport.SYNC
_EXTEND_MUSIC_PATHS = ("/v5/extend/music", "/v5/extend/music/sync", "/v6/extend/music")
_V5_SONG = (_PROMPT, _LYRICS, _DURATION)
_V6_SONG = (_PROMPT, _LYRICS, *_SONG_URLS)
_V7_SONG = (_PROMPT_OPTIONAL, _LYRICS, *_SONG_URLS)
_V7_RULE = AtLeastOne(
    ("prompt", *(f.name for f in _SONG_URLS)), "Provide a prompt or at least one audio URL"
)

ENDPOINTS: tuple[Endpoint, ...] = (
    *_current(
        (*_pair("/v5/generate/song"), ("/v5/generate/song/streaming", _SSE)),
        Operation.SONG, _V5_SONG, takes=2,
    ),
    *_current(
        _pair("/v5/generate/song-gen"), Operation.SONG, (*_ALT_IDS, *_V5_SONG, *_ALT_EXTRAS),
        takes=2, reply=ReplyStyle.CURRENT_ALT,
    ),
    *_current(_pair("/v6/generate/song"), Operation.SONG, _V6_SONG, takes=2),
    *_current(
        _pair("/v7/generate/song"), Operation.SONG, _V7_SONG, takes=2, rules=(_V7_RULE,),
        announces_job=True,
    ),
    # `duration` on v5 music is carried over from v5 song and the v5-alt music page; the v5
    # music page lists only prompt and style (soundverse-api.md §3.6).
    *_current(_pair("/v5/generate/music"), Operation.MUSIC, (_PROMPT, _STYLE, _DURATION)),
    *_current(
        _pair("/v5/generate/music-gen"), Operation.MUSIC,
        (*_ALT_IDS, _PROMPT, _DURATION, _STYLE, *_ALT_EXTRAS), reply=ReplyStyle.CURRENT_ALT,
    ),
    *_current(_pair("/v6/generate/music"), Operation.MUSIC, (_PROMPT, _STYLE)),
    *_current(_pair("/v5/extend/song"), Operation.EXTEND_SONG, _EXTEND_SONG),
    *_current(_pair("/v6/extend/song"), Operation.EXTEND_SONG, _EXTEND_SONG),
    *_current(
        tuple((path, _SYNC) for path in _EXTEND_MUSIC_PATHS),
        Operation.EXTEND_MUSIC, _EXTEND_MUSIC,
    ),
    *_current(
        (("/v7/generate/remix", _SSE),), Operation.REMIX,
        (
            Field("song_reference_url", FieldKind.URL, required=True),
            _PROMPT_OPTIONAL, _LYRICS, Field("parameters", FieldKind.OBJECT),
        ),
        rules=(AtLeastOne(("prompt", "lyrics"), "Provide a prompt or lyrics"),),
        input_seconds=(10.0, 350.0),
    ),
    Endpoint(
        "/v4/generate/song-from-prompt", Operation.SONG, _SYNC, ReplyStyle.LEGACY_WITH_ID,
        (_PROMPT, _FREE_STYLE_OF_MUSIC, _LEGACY_AUDIO_URL), takes=2, licenses="Sample",
        input_seconds=(30.0, math.inf),
    ),
    Endpoint(
        "/v4/generate/song-from-lyrics", Operation.SONG, _SYNC, ReplyStyle.LEGACY_WITH_ID,
        (_LYRICS_REQUIRED, _FREE_STYLE_OF_MUSIC, _LEGACY_AUDIO_URL),
        rules=(AtLeastOne(("styleOfMusic", "audioUrl"), "Provide styleOfMusic or audioUrl"),),
        takes=2, licenses="Sample",
    ),
    Endpoint(
        "/v1/generate/song-from-prompt", Operation.SONG, _SYNC, ReplyStyle.LEGACY,
        (
            _PROMPT,
            Field("styleOfMusic", required=True, aliases=("StyleOfMusic",), choices=MUSIC_STYLES),
            _LEGACY_AUDIO_URL,
        ),
        audio_format="wav", licenses="Sync",
    ),
    Endpoint(
        "/v1/generate/song-from-lyrics", Operation.SONG, _SYNC, ReplyStyle.LEGACY,
        (
            _LYRICS_REQUIRED,
            Field("styleOfMusic", aliases=("StyleOfMusic",), choices=MUSIC_STYLES),
            _LEGACY_AUDIO_URL,
        ),
        rules=(AtLeastOne(("styleOfMusic", "audioUrl"), "Provide styleOfMusic or audioUrl"),),
        audio_format="wav", licenses="Sync",
    ),
    Endpoint(
        "/v1/generate/text-to-music", Operation.MUSIC, _SYNC, ReplyStyle.LEGACY,
        (_PROMPT, _LEGACY_DURATION, _LEGACY_MODEL, _LOOP_FLAG),
        audio_format="wav", licenses="Sync",
    ),
    Endpoint(
        "/v1/generate/extend", Operation.EXTEND_MUSIC, _SYNC, ReplyStyle.LEGACY,
        (_SOURCE_AUDIO_URL, _PROMPT_OPTIONAL, _LEGACY_DURATION, _LEGACY_MODEL),
        audio_format="wav", licenses="Sync",
    ),
    Endpoint(
        "/v2/generate/ai-singing-gen", Operation.SINGING, _SYNC, ReplyStyle.LEGACY_WITH_ID,
        (
            _LYRICS_REQUIRED,
            Field("styleOfMusic", aliases=("StyleOfMusic",), choices=SINGING_STYLES),
            _LEGACY_AUDIO_URL,
        ),
        licenses="Sample",
    ),
    *(
        Endpoint(
            f"/v1/generate/stem-separation/{kind}", Operation.STEMS, _SYNC, ReplyStyle.STEMS,
            (_SOURCE_AUDIO_URL,),
            audio_format="wav",
        )
        for kind in STEM_NAMES
    ),
    Endpoint(
        "/v1/generate/trim-and-loop/auto", Operation.LOOP, _SYNC, ReplyStyle.LOOP,
        (
            _SOURCE_AUDIO_URL,
            Field("count", FieldKind.INTEGER, required=True, positive=True),
        ),
        audio_format="wav",
    ),
    *(
        Endpoint(
            path, Operation.GEN_LOOP, _SYNC, ReplyStyle.GEN_LOOP,
            (
                _PROMPT, _LEGACY_DURATION, _LEGACY_MODEL, _LOOP_FLAG,
                Field("loopCount", FieldKind.INTEGER, required=True, positive=True,
                      aliases=("loop_count",)),
            ),
            audio_format="wav", licenses="Sync",
        )
        for path in (
            "/v1/trim-and-loop/gen-and-loop/music/auto/",
            "/v1/trim-and-loop/gen-and-loop/music/auto",
        )
    ),
)  # fmt: skip

LYRICS_PATH = "/v1/generate/lyrics"
LYRICS_FIELDS = (_PROMPT, Field("mood"), Field("section"), Field("genre"))
CHAT_PATHS = ("/assistant/chat", "/api/assistant/chat")
CHAT_FIELDS = (_PROMPT, Field("action", required=True, choices=CHAT_ACTIONS))
VOICE_PATHS = ("/v1/assistant/voice", "/api/assistant/voice")
VOICE_FIELDS = (Field("speech_url", FieldKind.URL, required=True),)
STATUS_PATHS = {"/v5/status": "message_id", "/v7/status": "job_id"}


def stem_kind(path: str) -> str:
    """The last segment of a stem-separation path (`vocals`, `instruments`, `all-stems`)."""
    return path.rstrip("/").rsplit("/", 1)[-1]
