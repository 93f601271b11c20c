"""Live listening as stored: the servers that allow it, and each member's consent to being heard
in a server (with whether their recordings are kept). What members say is never stored here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.storage.clock import Clock, SystemClock, from_stored, to_stored
from bot.storage.database import Database, Row, Transaction


@dataclass(frozen=True)
class ListeningConsent:
    """A member's consent to being heard when the bot listens in a server."""

    guild_id: int
    user_id: int
    keep_recordings: bool
    """Their recordings stay in the channel after they are answered (else they are deleted)."""
    consented_at: datetime


class ListeningRepository:
    """Which servers allow live listening, and which members opted in to being heard there."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self._database = database
        self._clock = clock or SystemClock()

    async def allow(self, guild_id: int, by_user_id: int) -> bool:
        """The server allows live listening from now on; False when it already did."""
        async with self._database.transaction() as transaction:
            added = await transaction.execute(
                "INSERT INTO listening_guilds (guild_id, enabled_by, enabled_at) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id) DO NOTHING",
                (guild_id, by_user_id, to_stored(self._clock.now())),
            )
        return added > 0

    async def forbid(self, guild_id: int) -> bool:
        """The server no longer allows live listening; False when it did not. Members' consents
        stay: each is theirs to withdraw."""
        async with self._database.transaction() as transaction:
            removed = await transaction.execute(
                "DELETE FROM listening_guilds WHERE guild_id = ?", (guild_id,)
            )
        return removed > 0

    async def allows(self, guild_id: int) -> bool:
        """Whether the server allows live listening."""
        async with self._database.snapshot() as transaction:
            found = await transaction.fetch_value(
                "SELECT 1 FROM listening_guilds WHERE guild_id = ?", (guild_id,)
            )
        return found is not None

    async def consent(
        self, guild_id: int, user_id: int, *, keep_recordings: bool
    ) -> ListeningConsent:
        """The member is heard in the server from now on (keeping their recordings, or not);
        an earlier consent is replaced, keeping its date."""
        now = to_stored(self._clock.now())
        async with self._database.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO listening_consents (guild_id, user_id, keep_recordings, consented_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (guild_id, user_id)"
                " DO UPDATE SET keep_recordings = excluded.keep_recordings",
                (guild_id, user_id, int(keep_recordings), now),
            )
            row = await transaction.fetch_one(
                "SELECT * FROM listening_consents WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        assert row is not None  # written just above, in the same transaction
        return _consent(row)

    async def withdraw(self, guild_id: int, user_id: int) -> bool:
        """The member is no longer heard in the server; False when they had not opted in."""
        async with self._database.transaction() as transaction:
            removed = await transaction.execute(
                "DELETE FROM listening_consents WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        return removed > 0

    async def consent_of(self, guild_id: int, user_id: int) -> ListeningConsent | None:
        """The member's consent in the server, or None when they have not opted in."""
        async with self._database.snapshot() as transaction:
            row = await transaction.fetch_one(
                "SELECT * FROM listening_consents WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        return None if row is None else _consent(row)

    async def consents_in(self, guild_id: int) -> list[ListeningConsent]:
        """Every member who opted in to being heard in the server, by user id."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT * FROM listening_consents WHERE guild_id = ? ORDER BY user_id",
                (guild_id,),
            )
        return [_consent(row) for row in rows]


# --- privacy (called by `bot.storage.privacy` inside its own transaction) --------------------


async def delete_user_listening(transaction: Transaction, user_id: int) -> int:
    """Withdraw a user's consents in every server and forget that they allowed listening in
    any; returns how many consents went."""
    await transaction.execute(
        "UPDATE listening_guilds SET enabled_by = NULL WHERE enabled_by = ?", (user_id,)
    )
    return await transaction.execute("DELETE FROM listening_consents WHERE user_id = ?", (user_id,))


async def purge_guild_listening(transaction: Transaction, guild_id: int) -> int:
    """Forget a guild's live-listening setting and its members' consents; returns how many
    consents went."""
    await transaction.execute("DELETE FROM listening_guilds WHERE guild_id = ?", (guild_id,))
    return await transaction.execute(
        "DELETE FROM listening_consents WHERE guild_id = ?", (guild_id,)
    )


async def user_consents(transaction: Transaction, user_id: int) -> list[dict[str, Any]]:
    """The servers a user opted in to being heard in, as JSON-ready data."""
    rows = await transaction.fetch_all(
        "SELECT guild_id, keep_recordings, consented_at FROM listening_consents"
        " WHERE user_id = ? ORDER BY guild_id",
        (user_id,),
    )
    return [{**dict(row), "keep_recordings": bool(row["keep_recordings"])} for row in rows]


def _consent(row: Row) -> ListeningConsent:
    return ListeningConsent(
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        keep_recordings=bool(row["keep_recordings"]),
        consented_at=from_stored(row["consented_at"]),
    )
