"""The enumerations of the Soundverse API (soundverse-api.md section 5) and its versions.

Command choices are built from these, so a version or style is named in one place.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


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


DEPRECATED_VERSIONS = frozenset({LegacyVersion.V4.value, LegacyVersion.V1.value})
"""Versions Soundverse marks deprecated (banner dated 30/12/2025), whatever the endpoint."""
