"""Generated tracks: what was asked, where the audio is, who made it, and what it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.storage.clock import Clock, SystemClock, from_stored, to_stored
from bot.storage.database import Database, Row, Transaction, guild_filter

_LIKE_ESCAPE = "\\"
# Bounds the lineage walks, so a parent cycle written by hand cannot make them endless.
_MAX_DEPTH = 1000


@dataclass(frozen=True)
class AudioFile:
    """A track's audio as kept on local disk."""

    path: Path
    bytes: int
    duration_seconds: float | None
    format: str


@dataclass(frozen=True)
class NewTrack:
    """A track to be recorded."""

    channel_id: int
    user_id: int
    operation: str
    guild_id: int | None = None
    prompt: str | None = None
    lyrics: str | None = None
    song_name: str | None = None
    soundverse_message_id: str | None = None
    soundverse_job_id: str | None = None
    take_index: int = 0
    audio_url: str | None = None
    audio_file: AudioFile | None = None
    album_art_url: str | None = None
    license: str | None = None
    message_channel_id: int | None = None
    message_id: int | None = None
    parent_id: int | None = None
    job_id: int | None = None


@dataclass(frozen=True)
class Track:
    """A stored track."""

    id: int
    guild_id: int | None
    channel_id: int
    user_id: int
    operation: str
    prompt: str | None
    lyrics: str | None
    song_name: str | None
    soundverse_message_id: str | None
    soundverse_job_id: str | None
    take_index: int
    audio_url: str | None
    audio_file: AudioFile | None
    album_art_url: str | None
    license: str | None
    message_channel_id: int | None
    message_id: int | None
    parent_id: int | None
    job_id: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def title(self) -> str:
        """The song name, else the prompt, else a name made from the id."""
        return self.song_name or self.prompt or f"Track {self.id}"


@dataclass(frozen=True)
class TrackPage:
    """One page of a paginated listing (pages count from 1)."""

    items: tuple[Track, ...]
    page: int
    per_page: int
    total: int

    @property
    def page_count(self) -> int:
        """How many pages the listing has (at least 1, so an empty listing has one empty page)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_more(self) -> bool:
        """Whether a later page exists."""
        return self.page < self.page_count


@dataclass(frozen=True)
class Lineage:
    """Where a track comes from and what was made from it.

    `ancestors` runs from the parent up to the original; `children` are the tracks made
    directly from this one; `descendants` are all tracks below it, nearest generation first.
    """

    track: Track
    ancestors: tuple[Track, ...]
    children: tuple[Track, ...]
    descendants: tuple[Track, ...]


class TrackRepository:
    """Records tracks and answers history, lineage and autocomplete queries."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self._database = database
        self._clock = clock or SystemClock()

    async def add(self, track: NewTrack) -> Track:
        """Record a track."""
        now = to_stored(self._clock.now())
        audio = track.audio_file
        # One new row, depending on no other: no transaction, nor write lock, around it.
        async with self._database.row_statements() as statements:
            row = await statements.fetch_one(
                "INSERT INTO tracks (guild_id, channel_id, user_id, operation, prompt, lyrics,"
                " song_name, prompt_key, song_name_key, soundverse_message_id, soundverse_job_id,"
                " take_index, audio_url, file_path, file_bytes, duration_seconds, file_format,"
                " album_art_url, license, message_channel_id, message_id, parent_id, job_id,"
                " created_at, updated_at)"
                f" VALUES ({_placeholders(25)})"
                " RETURNING *",
                (
                    track.guild_id,
                    track.channel_id,
                    track.user_id,
                    track.operation,
                    track.prompt,
                    track.lyrics,
                    track.song_name,
                    search_key(track.prompt),
                    search_key(track.song_name),
                    track.soundverse_message_id,
                    track.soundverse_job_id,
                    track.take_index,
                    track.audio_url,
                    None if audio is None else str(audio.path),
                    None if audio is None else audio.bytes,
                    None if audio is None else audio.duration_seconds,
                    None if audio is None else audio.format,
                    track.album_art_url,
                    track.license,
                    track.message_channel_id,
                    track.message_id,
                    track.parent_id,
                    track.job_id,
                    now,
                    now,
                ),
            )
        assert row is not None  # INSERT ... RETURNING always yields the new row
        return _track_from(row)

    async def get(self, track_id: int) -> Track | None:
        """One track, or None."""
        async with self._database.snapshot() as transaction:
            return await _find(transaction, track_id)

    async def attach_message(self, track_id: int, *, channel_id: int, message_id: int) -> Track:
        """Remember the Discord message that shows the track; raises `KeyError` if it is gone."""
        now = to_stored(self._clock.now())
        async with self._database.row_statements() as statements:
            row = await statements.fetch_one(
                "UPDATE tracks SET message_channel_id = ?, message_id = ?, updated_at = ?"
                " WHERE id = ? RETURNING *",
                (channel_id, message_id, now, track_id),
            )
        if row is None:
            raise KeyError(track_id)
        return _track_from(row)

    async def user_history(
        self,
        user_id: int,
        guild_id: int | None = None,
        *,
        limit: int = 25,
        before: int | None = None,
    ) -> tuple[Track, ...]:
        """A user's tracks, newest first, optionally in one guild; `before` is a track id cursor."""
        clauses = ["user_id = ?"]
        params: list[object] = [user_id]
        if guild_id is not None:
            clauses.append("guild_id = ?")
            params.append(guild_id)
        if before is not None:
            clauses.append("id < ?")
            params.append(before)
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                f"SELECT * FROM tracks WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?",
                (*params, limit),
            )
        return tuple(_track_from(row) for row in rows)

    async def guild_history(self, guild_id: int, page: int = 1, per_page: int = 10) -> TrackPage:
        """One page of a guild's tracks, newest first, with the total count."""
        return await self._page("guild_id = ?", (guild_id,), page, per_page)

    async def user_history_page(
        self, user_id: int, guild_id: int | None = None, page: int = 1, per_page: int = 10
    ) -> TrackPage:
        """One page of a user's tracks (in one guild when given), newest first, with the count."""
        if guild_id is None:
            return await self._page("user_id = ?", (user_id,), page, per_page)
        return await self._page("user_id = ? AND guild_id = ?", (user_id, guild_id), page, per_page)

    async def _page(
        self, condition: str, params: tuple[int, ...], page: int, per_page: int
    ) -> TrackPage:
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page start at 1")
        async with self._database.snapshot() as transaction:
            total = await transaction.fetch_value(
                f"SELECT COUNT(*) FROM tracks WHERE {condition}", params
            )
            rows = await transaction.fetch_all(
                f"SELECT * FROM tracks WHERE {condition} ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, per_page, (page - 1) * per_page),
            )
        return TrackPage(tuple(_track_from(row) for row in rows), page, per_page, int(total))

    async def lineage(self, track_id: int) -> Lineage | None:
        """The ancestors, children and descendants of a track, or None if it does not exist."""
        async with self._database.snapshot() as transaction:
            track = await _find(transaction, track_id)
            if track is None:
                return None
            ancestors = await transaction.fetch_all(
                "WITH RECURSIVE chain (id, parent_id, depth) AS ("
                " SELECT id, parent_id, 0 FROM tracks WHERE id = ?"
                " UNION ALL"
                " SELECT t.id, t.parent_id, chain.depth + 1 FROM tracks t"
                " JOIN chain ON t.id = chain.parent_id WHERE chain.depth < ?)"
                " SELECT t.* FROM tracks t JOIN chain ON t.id = chain.id"
                " WHERE chain.depth > 0 ORDER BY chain.depth",
                (track_id, _MAX_DEPTH),
            )
            descendants = await transaction.fetch_all(
                "WITH RECURSIVE below (id, depth) AS ("
                " SELECT id, 1 FROM tracks WHERE parent_id = ?"
                " UNION ALL"
                " SELECT t.id, below.depth + 1 FROM tracks t JOIN below ON t.parent_id = below.id"
                " WHERE below.depth < ?)"
                " SELECT t.* FROM tracks t JOIN below ON t.id = below.id"
                " ORDER BY below.depth, t.id",
                (track_id, _MAX_DEPTH),
            )
        below = tuple(_track_from(row) for row in descendants)
        return Lineage(
            track=track,
            ancestors=tuple(_track_from(row) for row in ancestors),
            children=tuple(child for child in below if child.parent_id == track_id),
            descendants=below,
        )

    async def autocomplete(
        self,
        user_id: int,
        prefix: str,
        limit: int = 25,
        *,
        guild_id: int | None = None,
        in_dms: bool = False,
    ) -> tuple[Track, ...]:
        """A user's tracks whose prompt or song name starts with `prefix` (any case), newest
        first; only those of one guild when `guild_id` is given, or of DMs with `in_dms`.

        The prefix is matched literally: `%`, `_` and `\\` in it are not wildcards.
        """
        pattern = escape_like(search_key(prefix) or "") + "%"
        place: str = ""
        place_params: tuple[int, ...] = ()
        if in_dms or guild_id is not None:
            clause, place_params = guild_filter(None if in_dms else guild_id)
            place = f" AND {clause}"
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT * FROM tracks WHERE user_id = ? AND ("
                f" prompt_key LIKE ? ESCAPE '{_LIKE_ESCAPE}'"
                f" OR song_name_key LIKE ? ESCAPE '{_LIKE_ESCAPE}'){place}"
                " ORDER BY id DESC LIMIT ?",
                (user_id, pattern, pattern, *place_params, limit),
            )
        return tuple(_track_from(row) for row in rows)

    async def latest_in_channel(self, user_id: int, channel_id: int) -> Track | None:
        """The user's newest track made in a channel, or None."""
        async with self._database.snapshot() as transaction:
            row = await transaction.fetch_one(
                "SELECT * FROM tracks WHERE user_id = ? AND channel_id = ?"
                " ORDER BY id DESC LIMIT 1",
                (user_id, channel_id),
            )
        return None if row is None else _track_from(row)

    async def of_job(self, job_id: int) -> tuple[Track, ...]:
        """Every take one job delivered, in take order."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT * FROM tracks WHERE job_id = ? ORDER BY take_index, id", (job_id,)
            )
        return tuple(_track_from(row) for row in rows)

    async def delete(self, track_id: int) -> Track | None:
        """Forget a track and return it (so its audio file can be removed), or None if absent.

        Tracks made from it keep existing; they lose their link to it.
        """
        async with self._database.transaction() as transaction:
            track = await _find(transaction, track_id)
            if track is not None:
                await transaction.execute("DELETE FROM tracks WHERE id = ?", (track_id,))
        return track


def search_key(text: str | None) -> str | None:
    """The case-folded form that prefix search compares, computed here so any database agrees."""
    return None if text is None else " ".join(text.split()).casefold()


def _placeholders(count: int) -> str:
    return ", ".join("?" for _ in range(count))


def escape_like(text: str) -> str:
    """`text` with LIKE wildcards (`%`, `_`) and the escape character made literal."""
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


async def _find(transaction: Transaction, track_id: int) -> Track | None:
    row = await transaction.fetch_one("SELECT * FROM tracks WHERE id = ?", (track_id,))
    return None if row is None else _track_from(row)


def _audio_file_from(row: Row) -> AudioFile | None:
    if row["file_path"] is None:
        return None
    return AudioFile(
        path=Path(row["file_path"]),
        bytes=row["file_bytes"] or 0,
        duration_seconds=row["duration_seconds"],
        format=row["file_format"] or "",
    )


def _track_from(row: Row) -> Track:
    return Track(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        operation=row["operation"],
        prompt=row["prompt"],
        lyrics=row["lyrics"],
        song_name=row["song_name"],
        soundverse_message_id=row["soundverse_message_id"],
        soundverse_job_id=row["soundverse_job_id"],
        take_index=row["take_index"],
        audio_url=row["audio_url"],
        audio_file=_audio_file_from(row),
        album_art_url=row["album_art_url"],
        license=row["license"],
        message_channel_id=row["message_channel_id"],
        message_id=row["message_id"],
        parent_id=row["parent_id"],
        job_id=row["job_id"],
        created_at=from_stored(row["created_at"]),
        updated_at=from_stored(row["updated_at"]),
    )
