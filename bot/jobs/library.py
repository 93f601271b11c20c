"""The track library: finding the tracks a member may build on, their history page by page, and
deleting a result with its files."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.audio import stored_opus_path
from bot.errors import InvalidInput, UserFacingError
from bot.jobs.access import Access, may_act
from bot.jobs.models import Requester
from bot.storage import Database, Lineage, Track, TrackPage, TrackRepository
from bot.storage.clock import Clock


class TrackGone(UserFacingError):
    """The track was deleted (or never existed) while a member still had a way to reach it."""

    def __init__(self, track_id: int) -> None:
        super().__init__("This track has been deleted.")
        self.track_id = track_id


@dataclass(frozen=True)
class HistoryScope:
    """Whose tracks a history listing shows: its owner's own (in one server, or everywhere in
    DMs), or every member's in one server."""

    owner_id: int
    guild_id: int | None
    whole_server: bool = False

    def __post_init__(self) -> None:
        if self.whole_server and self.guild_id is None:
            raise InvalidInput("There is no server history in direct messages.")

    def includes(self, track: Track) -> bool:
        """Whether `track` belongs in this listing."""
        if self.whole_server:
            return track.guild_id == self.guild_id
        in_place = self.guild_id is None or track.guild_id == self.guild_id
        return track.user_id == self.owner_id and in_place


def may_use(track: Track, requester: Requester) -> bool:
    """A member may build on the tracks of the server they are in (their own and others'), and
    in DMs on their own tracks made in DMs."""
    return may_act(Access.MEMBER, requester, owner_id=track.user_id, guild_id=track.guild_id)


class TrackLibrary:
    """Tracks as members reach them: by id, by what they typed, by history page."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self._tracks = TrackRepository(database, clock)

    async def find(self, track_id: int) -> Track | None:
        """One track, or None."""
        return await self._tracks.get(track_id)

    async def takes_of(self, job_id: int) -> tuple[Track, ...]:
        """The takes a job delivered, in order (none while it runs)."""
        return await self._tracks.of_job(job_id)

    async def track(self, track_id: int) -> Track:
        """One track; `TrackGone` when it was deleted."""
        track = await self._tracks.get(track_id)
        if track is None:
            raise TrackGone(track_id)
        return track

    async def usable_track(self, track_id: int, requester: Requester) -> Track:
        """A track the requester may build on, or a precise refusal."""
        track = await self._tracks.get(track_id)
        if track is None:
            raise InvalidInput(f"Track #{track_id} does not exist (it may have been deleted).")
        if not may_use(track, requester):
            if track.user_id == requester.user_id:
                raise InvalidInput(
                    f"Track #{track.id} was made in another server (or in DMs); "
                    "use it there, or post it here as an audio file."
                )
            raise InvalidInput(f"Track #{track.id} belongs to someone else's private history.")
        return track

    async def latest_in_channel(self, requester: Requester, channel_id: int) -> Track | None:
        """The requester's newest track in a channel, or None."""
        return await self._tracks.latest_in_channel(requester.user_id, channel_id)

    async def matching(
        self, requester: Requester, typed: str, *, track_id: int | None = None, limit: int = 25
    ) -> tuple[Track, ...]:
        """What to offer as the member types: the usable track named by id, else their own
        tracks made here whose prompt or title starts with `typed`, newest first."""
        if track_id is not None:
            track = await self._tracks.get(track_id)
            return (track,) if track is not None and may_use(track, requester) else ()
        return await self._tracks.autocomplete(
            requester.user_id,
            typed,
            limit=limit,
            guild_id=requester.guild_id,
            in_dms=requester.guild_id is None,
        )

    async def history_page(self, scope: HistoryScope, page: int, per_page: int) -> TrackPage:
        """One page of a history listing, newest first (a page past the end is the last)."""
        listing = await self._page(scope, max(1, page), per_page)
        if listing.page > listing.page_count:
            listing = await self._page(scope, listing.page_count, per_page)
        return listing

    async def _page(self, scope: HistoryScope, page: int, per_page: int) -> TrackPage:
        if scope.whole_server:
            assert scope.guild_id is not None  # HistoryScope refuses a server listing in DMs
            return await self._tracks.guild_history(scope.guild_id, page, per_page)
        return await self._tracks.user_history_page(scope.owner_id, scope.guild_id, page, per_page)

    async def lineage(self, track_id: int) -> Lineage | None:
        """Where a track comes from and what was made from it."""
        return await self._tracks.lineage(track_id)

    async def delete_result(self, track: Track) -> int:
        """Delete `track` and every other take of the result it belongs to, with their files;
        returns how many tracks were deleted."""
        takes = await self._tracks.of_job(track.job_id) if track.job_id is not None else (track,)
        removed = [gone for take in takes if (gone := await self._tracks.delete(take.id))]
        files = [gone.audio_file.path for gone in removed if gone.audio_file is not None]
        await asyncio.to_thread(_unlink_all, files)
        return len(removed)


def _unlink_all(paths: list[Path]) -> None:
    """Remove each file and the voice copy kept beside it."""
    for path in paths:
        path.unlink(missing_ok=True)
        stored_opus_path(path).unlink(missing_ok=True)
