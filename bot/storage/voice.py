"""Voice playback as stored: per server, where it plays, its card, and its queue, so that a
restart rejoins and goes on from the stored position."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.storage.clock import Clock, SystemClock, to_stored
from bot.storage.database import Database, Row


@dataclass(frozen=True)
class StoredVoiceSession:
    """One server's playback. `queue` holds plain items (dicts); the first plays now."""

    guild_id: int
    voice_channel_id: int
    queue: list[dict[str, Any]] = field(default_factory=list)
    position_seconds: float = 0.0
    text_channel_id: int | None = None
    card_message_id: int | None = None
    volume: int = 100
    looping: bool = False
    paused: bool = False


class VoiceSessionRepository:
    """Saves, updates and forgets each server's voice playback."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self._database = database
        self._clock = clock or SystemClock()

    async def save(self, session: StoredVoiceSession) -> None:
        """Store `session` in place of what the server had."""
        async with self._database.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO voice_sessions (guild_id, voice_channel_id, text_channel_id,"
                " card_message_id, position_seconds, volume, looping, paused, queue, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET"
                " voice_channel_id = excluded.voice_channel_id,"
                " text_channel_id = excluded.text_channel_id,"
                " card_message_id = excluded.card_message_id,"
                " position_seconds = excluded.position_seconds, volume = excluded.volume,"
                " looping = excluded.looping, paused = excluded.paused, queue = excluded.queue,"
                " updated_at = excluded.updated_at",
                (
                    session.guild_id,
                    session.voice_channel_id,
                    session.text_channel_id,
                    session.card_message_id,
                    session.position_seconds,
                    session.volume,
                    int(session.looping),
                    int(session.paused),
                    json.dumps(session.queue),
                    to_stored(self._clock.now()),
                ),
            )

    async def save_position(self, guild_id: int, seconds: float) -> None:
        """Where the current item has got to (a cheap update, made often while playing)."""
        async with self._database.transaction() as transaction:
            await transaction.execute(
                "UPDATE voice_sessions SET position_seconds = ?, updated_at = ? WHERE guild_id = ?",
                (seconds, to_stored(self._clock.now()), guild_id),
            )

    async def forget(self, guild_id: int) -> None:
        """The server's playback has ended: nothing to resume."""
        async with self._database.transaction() as transaction:
            await transaction.execute("DELETE FROM voice_sessions WHERE guild_id = ?", (guild_id,))

    async def all(self) -> list[StoredVoiceSession]:
        """Every server's stored playback."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all("SELECT * FROM voice_sessions ORDER BY guild_id")
        return [_session(row) for row in rows]


def _session(row: Row) -> StoredVoiceSession:
    queue = json.loads(row["queue"])
    return StoredVoiceSession(
        guild_id=row["guild_id"],
        voice_channel_id=row["voice_channel_id"],
        queue=queue if isinstance(queue, list) else [],
        position_seconds=float(row["position_seconds"]),
        text_channel_id=row["text_channel_id"],
        card_message_id=row["card_message_id"],
        volume=int(row["volume"]),
        looping=bool(row["looping"]),
        paused=bool(row["paused"]),
    )
