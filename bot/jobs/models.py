"""What flows through the job pipeline: orders, progress views, deliveries, and the observer.

`JobObserver` is the whole contract between the pipeline and a front end: the
Discord job card implements it, and so can a test or a script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from bot.jobs.operations import Operation

# Multipart message creates are capped at 25 MiB in total, whatever the per-file limit.
MESSAGE_REQUEST_CAP = 25 * 1024 * 1024


class CancelOutcome(StrEnum):
    """What came of asking to cancel a job."""

    CANCELLED = "cancelled"
    NOT_RUNNING = "not_running"  # not queued or running in that process (ended, or elsewhere)
    DELIVERING = "delivering"  # too late: its result is being delivered


@dataclass(frozen=True)
class Requester:
    """Who asks: a member with their guild, roles and whether they may manage that guild, or a
    user in DMs (no guild, no roles)."""

    user_id: int
    guild_id: int | None = None
    role_ids: tuple[int, ...] = ()
    manages_guild: bool = False


@dataclass(frozen=True)
class JobOrder:
    """What a member asked for and where the answer goes."""

    operation: Operation
    version: str
    request: dict[str, Any]
    channel_id: int
    user_id: int
    guild_id: int | None = None
    role_ids: tuple[int, ...] = ()
    upload_limit: int = 10 * 1024 * 1024
    interaction_token: str | None = field(default=None, repr=False)
    token_expires_at: datetime | None = None
    parent_track_id: int | None = None
    source_name: str | None = None  # an upload the job was made from: its file name
    app_permissions: int | None = None
    """What the bot was allowed in the channel when the member asked (Discord's bit set)."""

    @property
    def queue_group(self) -> tuple[str, int]:
        """Jobs of one guild share its slots; in DMs each user is their own group."""
        if self.guild_id is not None:
            return ("guild", self.guild_id)
        return ("user", self.user_id)

    @property
    def prompt(self) -> str | None:
        value = self.request.get("prompt")
        return value if isinstance(value, str) else None

    @property
    def lyrics(self) -> str | None:
        value = self.request.get("lyrics")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class JobView:
    """What a member can see of a job in progress."""

    job_id: int
    stage: str
    progress: int | None = None
    song_name: str | None = None
    album_art_url: str | None = None
    position: int | None = None
    eta_seconds: float | None = None
    elapsed_seconds: float | None = None  # a running job: whole refresh periods
    detail: str | None = None  # what is being done now ("Downloading take 2 of 4")
    quiet_seconds: float | None = None  # how long Soundverse has sent nothing
    preview_url: str | None = None  # the audio as it is made, once Soundverse streams it

    def visible_key(self) -> tuple[object, ...]:
        """The parts that change what the card shows; equal keys need no edit."""
        return (
            self.stage,
            self.progress,
            self.song_name,
            self.album_art_url,
            self.position,
            eta_shown(self.eta_seconds),
            self.elapsed_seconds,
            self.detail,
            self.quiet_seconds,
            self.preview_url,
        )


def eta_shown(seconds: float | None) -> int | None:
    """An estimate as precisely as a card shows it: -1 for under a minute, else minutes."""
    if seconds is None:
        return None
    return -1 if seconds < 60 else round(seconds / 60)


@dataclass(frozen=True)
class DeliveredTake:
    """One take ready to post: a local file that fits the limit, or only its URL."""

    index: int
    audio_url: str
    song_name: str | None
    license: str | None
    path: Path | None
    filename: str
    size: int | None
    duration: float | None
    format_name: str | None
    transcoded_kbps: int | None = None
    not_attached_reason: str | None = None
    role: str | None = None  # a stem's name, "original", "loop"; None for a take among equals

    @property
    def label(self) -> str:
        """What the file is, as a member reads it: `Vocals`, `Loop`, `Take 2`."""
        return self.role.capitalize() if self.role else f"Take {self.index}"


@dataclass(frozen=True)
class Delivery:
    """A finished job, ready for the front end to post."""

    job_id: int
    order: JobOrder
    takes: tuple[DeliveredTake, ...]
    song_name: str | None
    album_art_url: str | None
    album_art_path: Path | None
    soundverse_message_id: str | None
    elapsed_seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    track_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PostedMessage:
    """Where the front end posted a delivery."""

    channel_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a job's end did with the units held for it: given back (`refunded`) or used.
    `units` is 0 when nothing was held (a free operation, or a member exempt from quota)."""

    units: int
    refunded: bool


NOTHING_HELD = Settlement(0, refunded=False)


@dataclass(frozen=True)
class JobFailure:
    """Why a job ended without a result, in words a member understands."""

    job_id: int
    message: str
    settlement: Settlement
    error_id: str | None = None

    @property
    def refunded(self) -> bool:
        return self.settlement.refunded


class JobObserver(Protocol):
    """A front end that shows one job; every call may talk to the network."""

    async def on_progress(self, view: JobView) -> None:
        """A new visible state (already coalesced: at most one per interval)."""

    async def on_delivered(self, delivery: Delivery) -> PostedMessage:
        """Post the result; return where it was posted."""

    async def find_posted(
        self, job_id: int, track_ids: Sequence[int], since: datetime
    ) -> PostedMessage | None:
        """The result of job `job_id`, holding `track_ids`, if it was posted (at `since` or
        later), else None."""

    async def on_done(self, posted: PostedMessage, settlement: Settlement | None) -> None:
        """The job ended: its result posted, recorded and charged (`settlement`; None when
        the charge could not be recorded)."""

    async def on_failed(self, failure: JobFailure) -> None:
        """The job failed."""

    async def on_cancelled(
        self, job_id: int, settlement: Settlement, by_user_id: int | None
    ) -> None:
        """The job was cancelled (by that member; None when not known)."""
