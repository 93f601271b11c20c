"""A server's play queue for its voice channel: what plays now, what comes next, and the
rules for skipping. Pure state: the voice feature plays it through discord.py."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.errors import UserFacingError
from bot.storage import Track


@dataclass(frozen=True, slots=True)
class QueuedTrack:
    """Something to play: a track of this server (`track_id`) or an upload."""

    title: str
    requester_id: int
    source: str  # a local file, or an address to stream from (a preview: the growing stream)
    track_id: int | None = None
    seconds: float | None = None
    job_id: int | None = None
    """Set on a preview: the job whose audio streams while it is made."""

    @property
    def name(self) -> str:
        """`#34 Rain` for a track, the title alone for an upload."""
        return f"#{self.track_id} {self.title}" if self.track_id is not None else self.title

    def stored(self) -> dict[str, Any]:
        """The item as plain data, to be kept across restarts."""
        return asdict(self)

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> QueuedTrack:
        """The item `stored()` gave."""
        seconds = data.get("seconds")
        track_id = data.get("track_id")
        job_id = data.get("job_id")
        return cls(
            title=str(data["title"]),
            requester_id=int(data["requester_id"]),
            source=str(data["source"]),
            track_id=int(track_id) if track_id is not None else None,
            seconds=float(seconds) if seconds is not None else None,
            job_id=int(job_id) if job_id is not None else None,
        )


def queued_track(track: Track, requester_id: int) -> QueuedTrack:
    """A stored track to play: its local file while it is still here, else its address."""
    path = track.audio_file.path if track.audio_file else None
    where = str(path) if path is not None and path.exists() else str(track.audio_url)
    seconds = track.audio_file.duration_seconds if track.audio_file else None
    return QueuedTrack(track.title, requester_id, where, track.id, seconds)


@dataclass(frozen=True, slots=True)
class SkipVote:
    """What a member's skip did: skipped at once, or one vote more of those needed."""

    skipped: bool
    votes: int
    needed: int


@dataclass
class PlayQueue:
    """One server's queue. `now` plays; `upcoming` waits in order."""

    now: QueuedTrack | None = None
    upcoming: deque[QueuedTrack] = field(default_factory=deque)
    looping: bool = False
    votes: set[int] = field(default_factory=set)

    def add(self, item: QueuedTrack) -> int:
        """Queue `item`; its place: 0 when nothing was playing (it plays now), else 1, 2…"""
        if self.now is None:
            self.now = item
            return 0
        self.upcoming.append(item)
        return len(self.upcoming)

    def items(self) -> list[QueuedTrack]:
        """What plays now, then what waits, in order."""
        return ([self.now] if self.now is not None else []) + list(self.upcoming)

    def advance(self, *, skipping: bool = False) -> QueuedTrack | None:
        """What plays next: the same again when looping (unless `skipping`), else the next
        in line; None when the queue is done."""
        self.votes.clear()
        if self.looping and self.now is not None and not skipping:
            return self.now
        self.now = self.upcoming.popleft() if self.upcoming else None
        return self.now

    def remove(self, place: int) -> QueuedTrack:
        """Take the `place`-th upcoming item (from 1) out of the queue."""
        self._check_place(place)
        item = self.upcoming[place - 1]
        del self.upcoming[place - 1]
        return item

    def move(self, place: int, to: int) -> QueuedTrack:
        """Move the `place`-th upcoming item to place `to`."""
        item = self.remove(place)
        self.upcoming.insert(max(0, min(to, len(self.upcoming) + 1) - 1), item)
        return item

    def clear(self) -> None:
        """Nothing playing, nothing waiting."""
        self.now = None
        self.upcoming.clear()
        self.votes.clear()
        self.looping = False

    def vote_skip(self, member_id: int, listeners: int, *, at_once: bool) -> SkipVote:
        """A member asks to skip what plays. `at_once` (its requester, or a member who
        manages the channel) skips; otherwise it takes more than half of the `listeners`."""
        if self.now is None:
            raise UserFacingError("Nothing is playing.")
        needed = listeners // 2 + 1
        if at_once:
            return SkipVote(True, len(self.votes), needed)
        self.votes.add(member_id)
        return SkipVote(len(self.votes) >= needed, len(self.votes), needed)

    def _check_place(self, place: int) -> None:
        if not 1 <= place <= len(self.upcoming):
            waiting = len(self.upcoming)
            raise UserFacingError(
                f"There is no place {place} in the queue: "
                + ("nothing is waiting." if waiting == 0 else f"places go from 1 to {waiting}.")
            )
