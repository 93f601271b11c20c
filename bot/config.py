"""Settings for the bot, read from the environment and `.env` (pydantic-settings).

Every setting lives in a group named after its concern; the environment variable
is the group and the field joined by one underscore, upper-case:
`DISCORD_TOKEN`, `SOUNDVERSE_API_KEY`, `QUOTA_UNITS_PER_PERIOD`, `ENDPOINTS_SONG_V5`.
`.env.example` lists them all with their defaults.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError


def list_from_text(value: Any) -> Any:
    """A list setting as written in the environment: a JSON array, or values separated by
    commas (`a.com, b.com`)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as error:
            raise ValueError(f"not a valid JSON list: {error}") from None
    return [part.strip() for part in text.split(",") if part.strip()]


def map_from_text(value: Any) -> Any:
    """A map setting as written in the environment: a JSON object."""
    if not isinstance(value, str):
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        decoded = None
    if not isinstance(decoded, dict):
        raise ValueError('must be a JSON object, e.g. {"song":2,"music":1}')
    return decoded


# Lists and maps are decoded here, not by pydantic-settings, whose JSON errors name no setting.
TextList = Annotated[list[str], NoDecode, BeforeValidator(list_from_text)]
NumberList = Annotated[list[int], NoDecode, BeforeValidator(list_from_text)]
CostMap = Annotated[dict[str, int], NoDecode, BeforeValidator(map_from_text)]

DEFAULT_COSTS: dict[str, int] = {
    "song": 2,
    "music": 1,
    "lyrics": 0,
    "extend_song": 2,
    "extend_music": 1,
    "singing": 1,
    "stems": 1,
    "loop": 1,
    "gen_loop": 1,
    "text_to_music": 1,
    "remix": 2,
    "chat": 0,
    "voice": 1,
}


class CommandSync(StrEnum):
    """When the bot pushes its slash commands to Discord."""

    AUTO = "auto"  # only when the command payload's hash changed since the last sync
    OFF = "off"  # only through `python -m bot sync`


class WorkerMode(StrEnum):
    """Where generation jobs run."""

    # A second process (`python -m bot worker`), so that job work never delays the
    # acknowledgement of a new interaction: its own event loop, interpreter lock and collector.
    PROCESS = "process"
    INLINE = "inline"  # on the bot's own event loop: one process (the sandbox and most tests)
    # Any number of `python -m bot worker` processes, on any hosts, claim the jobs the bot
    # stores (bot/jobs/shared.py); PostgreSQL wakes them, SQLite is polled.
    SHARED = "shared"


class WorkerPriority(StrEnum):
    """How the job worker shares the CPU with the bot, whose acknowledgements cannot wait."""

    IDLE = "idle"  # Linux SCHED_IDLE: runs whenever the bot and others leave a core free
    LOW = "low"  # nice 10: a small share when the CPU is contended
    NORMAL = "normal"  # the same as the bot


class DiscordSettings(BaseModel):
    """How the bot reaches Discord."""

    token: SecretStr | None = Field(
        default=None, description="Bot token; without it ./run starts the offline sandbox."
    )
    sync: CommandSync = Field(
        default=CommandSync.AUTO,
        description="auto: sync slash commands when they changed; off: only `python -m bot sync`",
    )
    dev_guild_id: int | None = Field(
        default=None, description="Sync commands to this guild only (instant), not globally."
    )
    api_base: HttpUrl | None = Field(
        default=None, description="REST base, e.g. http://127.0.0.1:8900/api/v10 (local Discord)."
    )
    gateway_url: str | None = Field(
        default=None, description="Gateway websocket, e.g. ws://127.0.0.1:8900/gateway."
    )
    shard_count: int | None = Field(
        default=None,
        ge=1,
        description="Shards the servers are split over, in all processes (Discord allows "
        "2,500 servers per shard); unset: as many as Discord recommends, all in this process",
    )
    shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        default=None,
        description="Shards this process runs, e.g. 0,1 or 0-3 (needs DISCORD_SHARD_COUNT); "
        "unset: every shard",
    )

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shards_of_the_count(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if "shard_count" not in info.data:
            # DISCORD_SHARD_COUNT is invalid, and says so: only the form of the ids is checked.
            for part in shard_parts(value):
                shard_range(part)
            return []
        return shard_ids_within(value, info.data["shard_count"])

    def runs_every_shard(self) -> bool:
        """Whether this process runs every shard (no other bot process shares the gateway)."""
        count = self.shard_count or 1
        return self.shard_ids is None or set(self.shard_ids) >= set(range(count))


def shard_parts(value: Any) -> list[Any]:
    """The items of DISCORD_SHARD_IDS as written: a JSON array, or ids and ranges separated
    by commas (`0,1`, `0-3,8`)."""
    parts = list_from_text(value)
    if not isinstance(parts, list):
        raise ValueError("must be shard ids, e.g. 0,1 or 0-3")
    if not parts:
        raise ValueError("lists no shard; leave it unset to run every shard")
    return parts


def shard_ids_within(value: Any, count: int | None) -> list[int]:
    """DISCORD_SHARD_IDS read as ids, each once and below `count`; a ValueError says what is
    wrong."""
    if count is None:
        raise ValueError("needs DISCORD_SHARD_COUNT, the number of shards in all processes")
    ids: list[int] = []
    for part in shard_parts(value):
        low, high = shard_range(part)
        if high >= count:
            raise ValueError(
                f"shard {high} is out of range: DISCORD_SHARD_COUNT={count} has shards 0 to "
                f"{count - 1}"
            )
        ids.extend(range(low, high + 1))
    repeated = sorted(shard for shard, times in Counter(ids).items() if times > 1)
    if repeated:
        listed = ", ".join(map(str, repeated))
        raise ValueError(f"{'shards' if len(repeated) > 1 else 'shard'} {listed} listed twice")
    return ids


def shard_range(part: Any) -> tuple[int, int]:
    """The first and last id of one item of DISCORD_SHARD_IDS: `3`, or a range `0-3`."""
    if isinstance(part, int) and not isinstance(part, bool) and part >= 0:
        return part, part
    first, dash, last = (text.strip() for text in str(part).partition("-"))
    if not first.isdigit() or (dash and not last.isdigit()):
        raise ValueError(f"{part!r} is not a shard id (0 or more) or a range such as 0-3")
    low, high = int(first), int(last) if dash else int(first)
    if high < low:
        raise ValueError(f"the range {part!r} ends before it starts (write {high}-{low})")
    return low, high


class SoundverseSettings(BaseModel):
    """How the bot reaches the Soundverse API."""

    api_key: SecretStr | None = Field(default=None, description="Soundverse API key (Bearer).")
    base_url: HttpUrl = Field(
        default=HttpUrl("https://api.soundverse.ai"), description="Soundverse API base URL."
    )
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect")
    sync_timeout: float = Field(default=300.0, gt=0, description="Whole-request limit, sync calls")
    idle_timeout: float = Field(default=60.0, gt=0, description="Silence that ends a stream")
    job_deadline: float = Field(default=900.0, gt=0, description="Overall limit for one job")
    poll_backoff_max: float = Field(
        default=15.0, gt=0, description="Longest wait between status polls after a drop"
    )
    retries: int = Field(default=3, ge=0, le=10, description="Retries of idempotent calls")
    max_connections: int = Field(
        default=2048,
        ge=0,
        description="Open connections to Soundverse at most (a running job streams on one; "
        "0: no limit)",
    )
    download_max_bytes: int = Field(
        default=200 * 1024 * 1024, gt=0, description="Largest audio file downloaded"
    )
    download_hosts: TextList = Field(
        default_factory=lambda: [
            "storage.soundverse.ai",
            "storage.googleapis.com",
            "api.soundverse.ai",
        ],
        description="Hosts audio may be downloaded from (JSON or comma-separated); the base "
        "URL's host is always added.",
    )


class EndpointSettings(BaseModel):
    """Every Soundverse path, so a version can be swapped without a code change."""

    song_v7: str = "/v7/generate/song"
    song_v7_sync: str = "/v7/generate/song/sync"
    song_v6: str = "/v6/generate/song"
    song_v6_sync: str = "/v6/generate/song/sync"
    song_v5: str = "/v5/generate/song"
    song_v5_sync: str = "/v5/generate/song/sync"
    song_v4_prompt: str = "/v4/generate/song-from-prompt"
    song_v4_lyrics: str = "/v4/generate/song-from-lyrics"
    song_v1_prompt: str = "/v1/generate/song-from-prompt"
    song_v1_lyrics: str = "/v1/generate/song-from-lyrics"
    music_v6: str = "/v6/generate/music"
    music_v6_sync: str = "/v6/generate/music/sync"
    music_v5: str = "/v5/generate/music"
    music_v5_sync: str = "/v5/generate/music/sync"
    music_v4: str = "/v4/generate/song-from-prompt"
    music_v1: str = "/v1/generate/song-from-prompt"
    text_to_music_v1: str = "/v1/generate/text-to-music"
    extend_song_v6: str = "/v6/extend/song"
    extend_song_v6_sync: str = "/v6/extend/song/sync"
    extend_song_v5: str = "/v5/extend/song"
    extend_song_v5_sync: str = "/v5/extend/song/sync"
    extend_music_v6: str = "/v6/extend/music"
    extend_music_v5: str = "/v5/extend/music/sync"
    extend_music_v1: str = "/v1/generate/extend"
    remix_v7: str = "/v7/generate/remix"
    lyrics_v1: str = "/v1/generate/lyrics"
    singing_v2: str = "/v2/generate/ai-singing-gen"
    stems_v1: str = "/v1/generate/stem-separation/{kind}"
    loop_v1: str = "/v1/generate/trim-and-loop/auto"
    gen_loop_v1: str = "/v1/trim-and-loop/gen-and-loop/music/auto/"
    chat: str = "/assistant/chat"
    voice_v1: str = "/v1/assistant/voice"
    status_v5: str = "/v5/status"
    status_v7: str = "/v7/status"

    @field_validator("*")
    @classmethod
    def _starts_with_slash(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value


class StorageSettings(BaseModel):
    """Where the database lives: a SQLite file (the default) or a PostgreSQL server."""

    url: str | None = Field(
        default=None,
        description=(
            "Database: sqlite:///path/to/bot.db, or postgresql://user:password@host:5432/db "
            "for several bot and worker processes on any hosts (default: the STORAGE_PATH file)"
        ),
    )
    path: Path = Field(
        default=Path("data/bot.db"),
        description="SQLite database file when STORAGE_URL is unset; on PostgreSQL, its "
        "folder holds the bot's local files (heartbeat, locks)",
    )
    busy_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="Milliseconds to wait for a locked database (SQLite) or a connection "
        "(PostgreSQL)",
    )
    pool_size: int = Field(
        default=10, ge=1, le=100, description="Connections each process keeps to PostgreSQL"
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(("postgresql://", "postgres://")):
            return value
        if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
            return value
        raise ValueError(
            "must be sqlite:///path/to/bot.db or postgresql://user:password@host:port/database"
        )

    @property
    def target(self) -> Path | str:
        """The SQLite file, or the PostgreSQL URL, that the bot opens."""
        if self.url is None:
            return self.path
        if self.url.startswith("sqlite:///"):
            return Path(self.url.removeprefix("sqlite:///"))
        return self.url

    @property
    def local_dir(self) -> Path:
        """The folder of the bot's local files (heartbeat, locks): the SQLite file's."""
        target = self.target
        return target.parent if isinstance(target, Path) else self.path.parent

    @property
    def on_postgres(self) -> bool:
        """Whether the data lives on a PostgreSQL server."""
        return isinstance(self.target, str)


class Period(StrEnum):
    """A quota period; each resets at 00:00 UTC (weeks on Monday, months on the 1st)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class QuotaSettings(BaseModel):
    """Default quota policy for guilds without their own, and for DMs."""

    units_per_period: int = Field(default=100, ge=0, description="Units a guild spends per period")
    period: Period = Field(default=Period.DAY, description="day, week or month (UTC)")
    member_cap: int = Field(default=20, ge=0, description="Units one member spends per period")
    member_concurrent: int = Field(default=2, ge=1, description="Jobs one member runs at once")
    dm_units_per_period: int = Field(default=10, ge=0, description="Units per user in DMs")
    reservation_ttl: float = Field(
        default=1800.0, gt=0, description="Seconds before an uncommitted reservation lapses"
    )
    call_cooldown: float = Field(
        default=3.0,
        ge=0,
        description="Seconds a member waits between quick Soundverse calls (lyrics, /about)",
    )
    calls_at_once: int = Field(
        default=1, ge=1, description="Quick Soundverse calls one member may run at once"
    )
    costs: CostMap = Field(
        default_factory=lambda: dict(DEFAULT_COSTS),
        description='Units each operation costs (a JSON object: {"song":2,"music":1}); '
        "operations left out keep their default",
    )

    @field_validator("costs")
    @classmethod
    def _costs_not_negative(cls, value: dict[str, int]) -> dict[str, int]:
        negative = sorted(name for name, cost in value.items() if cost < 0)
        if negative:
            raise ValueError(f"costs must not be negative: {', '.join(negative)}")
        return {**DEFAULT_COSTS, **value}

    def cost_of(self, operation: str) -> int:
        """Units one run of `operation` costs; unknown operations cost 1."""
        return self.costs.get(operation, 1)


class JobSettings(BaseModel):
    """How generation jobs run and report."""

    guild_concurrency: int = Field(default=2, ge=1, description="Jobs running at once per guild")
    progress_interval: float = Field(default=2.0, gt=0, description="Seconds between card edits")
    card_refresh: float = Field(
        default=15.0,
        gt=0,
        description="Seconds at most between two changes of a running job's card (elapsed "
        "time, time left, and a note when Soundverse has been quiet that long)",
    )
    shutdown_grace: float = Field(
        default=8.0,
        ge=0,
        le=60,
        description="Seconds a stop waits for results being posted before cutting them short "
        "(keep it below your supervisor's stop timeout: Docker's is 10 s)",
    )
    token_handoff: float = Field(
        default=780.0, gt=0, description="Seconds after which a card moves to a channel message"
    )
    worker: WorkerMode = Field(
        default=WorkerMode.PROCESS,
        description="process: jobs run in a child process so commands are answered at once; "
        "inline: in the bot's own process; shared: in any number of `python -m bot worker` "
        "processes on any hosts, sharing the database (PostgreSQL)",
    )
    worker_priority: WorkerPriority = Field(
        default=WorkerPriority.IDLE,
        description="The job worker's CPU priority: idle (only CPU the bot leaves), low "
        "(nice 10) or normal",
    )
    lease: float = Field(
        default=30.0,
        ge=1.0,
        le=3600.0,
        description="shared: seconds a worker holds a job between heartbeats (renewed every "
        "third of it); a dead worker's jobs are taken over this long after its last one",
    )
    worker_capacity: int = Field(
        default=100, ge=1, description="shared: jobs one worker process runs at once"
    )


class AudioSettings(BaseModel):
    """Where audio is kept and how it is fitted to Discord's upload limits."""

    directory: Path = Field(default=Path("data/audio"), description="Where audio files are kept")
    retention_days: float = Field(
        default=14.0,
        ge=0,
        description="Days delivered audio is kept on disk (0: forever); links still work after",
    )
    max_input_seconds: int = Field(
        default=600, ge=1, description="Longest audio a member may give the bot, in seconds"
    )
    fallback_bitrates_kbps: NumberList = Field(
        default_factory=lambda: [192, 128, 96, 64],
        description="MP3 bitrates tried, highest first, to fit an upload limit (JSON or "
        "comma-separated)",
    )

    @field_validator("fallback_bitrates_kbps")
    @classmethod
    def _real_mp3_bitrates(cls, value: list[int]) -> list[int]:
        # Imported here: loading PyAV is not worth it for commands that never touch audio.
        from bot.audio.fit import MP3_BITRATES_KBPS

        unknown = sorted(set(value) - MP3_BITRATES_KBPS)
        if unknown:
            allowed = ", ".join(str(rate) for rate in sorted(MP3_BITRATES_KBPS))
            raise ValueError(
                f"{', '.join(map(str, unknown))} kbps: not MP3 bitrates (use {allowed})"
            )
        return sorted(set(value), reverse=True)


class VoiceSettings(BaseModel):
    """Voice-channel playback and the voice assistant."""

    enabled: bool = Field(default=True, description="Join voice channels to play tracks")
    live_listening: bool = Field(
        default=False,
        description="Experimental: /listen hears members who opt in, in servers whose admins "
        "enable it, and answers them aloud",
    )
    idle_disconnect: float = Field(
        default=300.0, gt=0, description="Seconds of silence before leaving a voice channel"
    )
    card_refresh: float = Field(
        default=10.0,
        ge=2.0,
        description="Seconds between updates of the now-playing card's position while playing",
    )
    question_max_seconds: float = Field(
        default=60.0,
        gt=0,
        le=600,
        description="Longest spoken question the voice assistant is asked (Ask Soundverse, "
        "/ask-voice), in seconds; longer ones are refused before anything is billed",
    )


class AssistantSettings(BaseModel):
    """The chat assistant (`/ask`, its follow-ups, and messages that mention the bot)."""

    continue_within: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds after a member's last question in a channel during which a message "
        "that mentions the bot (not a reply to an answer) continues that conversation; later, "
        "it starts a new one",
    )


class PrivacySettings(BaseModel):
    """What happens to data members and servers leave behind."""

    guild_grace_days: float = Field(
        default=30.0,
        ge=0,
        description="Days after the bot is removed from a server before that server's data is "
        "deleted (added back sooner, it keeps it)",
    )


class HealthSettings(BaseModel):
    """The heartbeat the bot writes for `python -m bot health` (a container's HEALTHCHECK)."""

    file: Path | None = Field(
        default=None, description="Heartbeat file (default: heartbeat.json beside the database)"
    )
    interval: float = Field(
        default=30.0, gt=0, description="Seconds between heartbeats; 3 missed make it unhealthy"
    )


class LogFormat(StrEnum):
    """How log lines are written."""

    TEXT = "text"
    JSON = "json"


class LogSettings(BaseModel):
    """Logging."""

    level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    format: LogFormat = Field(
        default=LogFormat.TEXT, description="text: one line each; json: one JSON object each"
    )

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level


class ContestSettings(BaseModel):
    """Community remix contests."""

    enabled: bool = Field(
        default=True, description="Offer /contest and Submit to contest under results"
    )
    card_refresh: float = Field(
        default=5.0,
        ge=1.0,
        description="Fewest seconds between edits of a contest card's entry and vote counts",
    )


class Settings(BaseSettings):
    """All settings of one bot process."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    soundverse: SoundverseSettings = Field(default_factory=SoundverseSettings)
    endpoints: EndpointSettings = Field(default_factory=EndpointSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    contests: ContestSettings = Field(default_factory=ContestSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    @property
    def heartbeat_path(self) -> Path:
        """Where the running bot writes its heartbeat."""
        return self.health.file or self.storage.local_dir / "heartbeat.json"

    @model_validator(mode="after")
    def _limits_agree(self) -> Settings:
        if self.quota.member_cap > self.quota.units_per_period > 0:
            raise ValueError(
                "QUOTA_MEMBER_CAP must not exceed QUOTA_UNITS_PER_PERIOD "
                f"({self.quota.member_cap} > {self.quota.units_per_period})"
            )
        if self.jobs.card_refresh < self.jobs.progress_interval:
            raise ValueError(
                "JOBS_CARD_REFRESH must not be shorter than JOBS_PROGRESS_INTERVAL "
                f"({self.jobs.card_refresh:g} < {self.jobs.progress_interval:g})"
            )
        if not self.discord.runs_every_shard() and self.jobs.worker is not WorkerMode.SHARED:
            # Each bot process would run, and resume at start, every job of the database.
            raise ValueError(
                "DISCORD_SHARD_IDS runs a part of the gateway, beside other bot processes: "
                "they share their jobs only with JOBS_WORKER=shared (and STORAGE_URL on "
                "PostgreSQL)"
            )
        if self.quota.reservation_ttl <= self.soundverse.job_deadline:
            # A reservation that lapses before its job can end would refuse the commit.
            raise ValueError(
                "QUOTA_RESERVATION_TTL must be longer than SOUNDVERSE_JOB_DEADLINE "
                f"({self.quota.reservation_ttl:g} <= {self.soundverse.job_deadline:g})"
            )
        return self


class SettingsError(Exception):
    """Settings could not be loaded; `problems` holds one plain line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def env_name(location: tuple[int | str, ...]) -> str:
    """The environment variable that sets the field at `location`."""
    if not location:
        return "settings"
    head, *rest = (str(part) for part in location)
    if not rest:
        return head.upper()
    return f"{head}_{rest[0]}".upper() + "".join(f"[{part}]" for part in rest[1:])


def describe_validation_error(error: ValidationError) -> list[str]:
    """One plain line per problem, naming the variable; never the offending value."""
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{env_name(tuple(problem['loc']))}: {message}")
    return lines


def load_settings(overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> Settings:
    """Build `Settings` from the environment (and `.env`), with `overrides` on top.

    Raises `SettingsError` with one line per problem instead of pydantic's report.
    """
    try:
        return Settings(**dict(overrides or {}), **kwargs)
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
    except SourceError as error:
        # A value the environment source itself could not read (pydantic-settings names the
        # group, not the variable): still one line.
        raise SettingsError([f"settings: {error}"]) from None


def env_example_value(value: Any) -> str:
    """A default as it is written in a `.env` file."""
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def setting_names() -> set[str]:
    """Every environment variable that names a setting."""
    return {
        f"{group_name.upper()}_{field_name.upper()}"
        for group_name, group_field in Settings.model_fields.items()
        for field_name in getattr(group_field.annotation, "model_fields", {})
    }


def settings_environment(settings: Settings) -> dict[str, str]:
    """`settings` as environment variables, secrets included: how a child process gets the
    exact settings of its parent, however the parent's were built. Unset values are left out."""
    environment = {}
    for group_name in Settings.model_fields:
        group = getattr(settings, group_name)
        for field_name in type(group).model_fields:
            value = getattr(group, field_name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value is not None:
                environment[f"{group_name.upper()}_{field_name.upper()}"] = env_example_value(value)
    return environment


def render_env_example() -> str:
    """The text of `.env.example`: every setting with its default and a one-line comment."""
    lines = [
        "# Settings of the Soundverse Discord bot. Copy to .env and fill in what you need;",
        "# every line below shows the default. Without DISCORD_TOKEN, ./run starts the",
        "# offline sandbox (local Discord + local Soundverse) instead of the real bot.",
    ]
    for group_name, group_field in Settings.model_fields.items():
        group_type = group_field.annotation
        assert isinstance(group_type, type) and issubclass(group_type, BaseModel)
        doc = (group_type.__doc__ or group_name).strip().splitlines()[0]
        lines += ["", f"# --- {doc}"]
        defaults = group_type()
        for field_name, field in group_type.model_fields.items():
            comment = field.description or f"Path of the {field_name.replace('_', ' ')} endpoint"
            lines.append(f"# {comment}")
            value = env_example_value(getattr(defaults, field_name))
            lines.append(f"{group_name.upper()}_{field_name.upper()}={value}")
    return "\n".join(lines) + "\n"
