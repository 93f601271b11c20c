"""Deleting personal data: everything about one user, or everything about a guild the bot left.

A user's quota ledger rows are anonymised, not deleted: the units stay in the guild's totals
and in the audit trail, but nothing links them to the person any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.storage.database import Database, Transaction


@dataclass(frozen=True)
class DeletionReport:
    """How many rows a deletion removed or anonymised, and the audio files left to remove."""

    tracks_deleted: int = 0
    jobs_deleted: int = 0
    reservations_deleted: int = 0
    reservations_anonymised: int = 0
    ledger_rows_deleted: int = 0
    ledger_rows_anonymised: int = 0
    policies_deleted: int = 0
    audio_files: tuple[Path, ...] = ()

    @property
    def total(self) -> int:
        """Every row touched."""
        return (
            self.tracks_deleted
            + self.jobs_deleted
            + self.reservations_deleted
            + self.reservations_anonymised
            + self.ledger_rows_deleted
            + self.ledger_rows_anonymised
            + self.policies_deleted
        )


async def delete_user_data(database: Database, user_id: int) -> DeletionReport:
    """Delete a user's tracks, jobs and DM quota policy; anonymise their quota ledger rows.

    The audio files of the deleted tracks are returned, for the caller to remove from disk.
    """
    async with database.transaction() as transaction:
        audio_files = await _audio_files(transaction, "user_id = ?", user_id)
        tracks = await transaction.execute("DELETE FROM tracks WHERE user_id = ?", (user_id,))
        jobs = await transaction.execute("DELETE FROM jobs WHERE user_id = ?", (user_id,))
        reservations = await transaction.execute(
            "UPDATE quota_reservations SET user_id = NULL WHERE user_id = ?", (user_id,)
        )
        ledger = await transaction.execute(
            "UPDATE quota_ledger SET user_id = NULL, actor_id = NULL"
            " WHERE user_id = ? OR actor_id = ?",
            (user_id, user_id),
        )
        policies = await transaction.execute(
            "DELETE FROM quota_policies WHERE scope = 'user' AND scope_id = ?", (user_id,)
        )
    return DeletionReport(
        tracks_deleted=tracks,
        jobs_deleted=jobs,
        reservations_anonymised=reservations,
        ledger_rows_anonymised=ledger,
        policies_deleted=policies,
        audio_files=audio_files,
    )


async def purge_guild(database: Database, guild_id: int) -> DeletionReport:
    """Delete everything stored about a guild: tracks, jobs, quota policy, reservations, ledger.

    The audio files of the deleted tracks are returned, for the caller to remove from disk.
    """
    async with database.transaction() as transaction:
        audio_files = await _audio_files(transaction, "guild_id = ?", guild_id)
        tracks = await transaction.execute("DELETE FROM tracks WHERE guild_id = ?", (guild_id,))
        jobs = await transaction.execute("DELETE FROM jobs WHERE guild_id = ?", (guild_id,))
        ledger = await transaction.execute(
            "DELETE FROM quota_ledger WHERE guild_id = ?", (guild_id,)
        )
        reservations = await transaction.execute(
            "DELETE FROM quota_reservations WHERE guild_id = ?", (guild_id,)
        )
        policies = await transaction.execute(
            "DELETE FROM quota_policies WHERE scope = 'guild' AND scope_id = ?", (guild_id,)
        )
        await transaction.execute("DELETE FROM quota_exempt_roles WHERE guild_id = ?", (guild_id,))
    return DeletionReport(
        tracks_deleted=tracks,
        jobs_deleted=jobs,
        reservations_deleted=reservations,
        ledger_rows_deleted=ledger,
        policies_deleted=policies,
        audio_files=audio_files,
    )


async def _audio_files(transaction: Transaction, condition: str, value: int) -> tuple[Path, ...]:
    rows = await transaction.fetch_all(
        f"SELECT file_path FROM tracks WHERE {condition} AND file_path IS NOT NULL ORDER BY id",
        (value,),
    )
    return tuple(Path(row["file_path"]) for row in rows)
