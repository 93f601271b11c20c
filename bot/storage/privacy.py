"""Personal data: what is stored about a user (to export), deleting it, and deleting everything
about a guild the bot was removed from once its grace period has passed.

A user's quota ledger rows are anonymised, not deleted: the units stay in the guild's totals
and in the audit trail, but nothing links them to the person any more. Likewise the contests a
user created stay with their server (other members' entries and votes live in them); only the
link to their creator is forgotten.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.storage.clock import to_stored
from bot.storage.contests import delete_user_contests, purge_guild_contests, user_contest_data
from bot.storage.conversations import (
    delete_user_conversations,
    purge_guild_conversations,
    user_turns,
)
from bot.storage.database import Database, Transaction
from bot.storage.listening import delete_user_listening, purge_guild_listening, user_consents


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
    chat_turns_deleted: int = 0
    listening_consents_deleted: int = 0
    contests_deleted: int = 0
    contest_entries_deleted: int = 0
    contest_votes_deleted: int = 0
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
            + self.chat_turns_deleted
            + self.listening_consents_deleted
            + self.contests_deleted
            + self.contest_entries_deleted
            + self.contest_votes_deleted
        )


async def delete_user_data(database: Database, user_id: int) -> DeletionReport:
    """Delete a user's tracks, jobs, chat conversations, live-listening consents, contest
    entries (with the votes cast for them) and contest votes, and DM quota policy; anonymise
    their quota ledger rows and their part in contests they created or administered.

    The audio files of the deleted tracks are returned, for the caller to remove from disk.
    """
    async with database.transaction() as transaction:
        audio_files = await _audio_files(transaction, "user_id = ?", user_id)
        # Before the tracks: deleting those would take their entries along uncounted.
        entries, votes = await delete_user_contests(transaction, user_id)
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
        chat_turns = await delete_user_conversations(transaction, user_id)
        consents = await delete_user_listening(transaction, user_id)
    return DeletionReport(
        tracks_deleted=tracks,
        jobs_deleted=jobs,
        reservations_anonymised=reservations,
        ledger_rows_anonymised=ledger,
        policies_deleted=policies,
        chat_turns_deleted=chat_turns,
        listening_consents_deleted=consents,
        contest_entries_deleted=entries,
        contest_votes_deleted=votes,
        audio_files=audio_files,
    )


async def purge_guild(database: Database, guild_id: int) -> DeletionReport:
    """Delete everything stored about a guild: tracks, jobs, quota policy, reservations, ledger,
    chat conversations, live-listening setting and consents, contests (with their entries,
    votes and audit) and its contest-manager role.

    The audio files of the deleted tracks are returned, for the caller to remove from disk.
    """
    async with database.transaction() as transaction:
        audio_files = await _audio_files(transaction, "guild_id = ?", guild_id)
        contests, entries, votes = await purge_guild_contests(transaction, guild_id)
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
        await transaction.execute("DELETE FROM guild_departures WHERE guild_id = ?", (guild_id,))
        await transaction.execute("DELETE FROM voice_sessions WHERE guild_id = ?", (guild_id,))
        chat_turns = await purge_guild_conversations(transaction, guild_id)
        consents = await purge_guild_listening(transaction, guild_id)
    return DeletionReport(
        tracks_deleted=tracks,
        jobs_deleted=jobs,
        reservations_deleted=reservations,
        ledger_rows_deleted=ledger,
        policies_deleted=policies,
        chat_turns_deleted=chat_turns,
        listening_consents_deleted=consents,
        contests_deleted=contests,
        contest_entries_deleted=entries,
        contest_votes_deleted=votes,
        audio_files=audio_files,
    )


async def _audio_files(transaction: Transaction, condition: str, value: int) -> tuple[Path, ...]:
    rows = await transaction.fetch_all(
        f"SELECT file_path FROM tracks WHERE {condition} AND file_path IS NOT NULL ORDER BY id",
        (value,),
    )
    return tuple(Path(row["file_path"]) for row in rows)


async def record_departure(database: Database, guild_id: int, at: datetime) -> None:
    """Remember that the bot was removed from `guild_id` at `at`."""
    async with database.transaction() as transaction:
        await transaction.execute(
            "INSERT INTO guild_departures (guild_id, left_at) VALUES (?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET left_at = excluded.left_at",
            (guild_id, to_stored(at)),
        )


async def forget_departure(database: Database, guild_id: int) -> None:
    """The bot is back in `guild_id`: its data is no longer due for purging."""
    async with database.transaction() as transaction:
        await transaction.execute("DELETE FROM guild_departures WHERE guild_id = ?", (guild_id,))


async def reconcile_departures(database: Database, present: Collection[int], at: datetime) -> None:
    """At start: the bot is in the `present` guilds (nothing of theirs is due for purging), and
    was removed at some point while it was down from every other guild it holds data of."""
    async with database.transaction() as transaction:
        known = await transaction.fetch_all(
            "SELECT guild_id FROM tracks WHERE guild_id IS NOT NULL"
            " UNION SELECT guild_id FROM jobs WHERE guild_id IS NOT NULL"
            " UNION SELECT scope_id FROM quota_policies WHERE scope = 'guild'"
            " UNION SELECT guild_id FROM conversations WHERE guild_id IS NOT NULL"
            " UNION SELECT guild_id FROM listening_guilds"
            " UNION SELECT guild_id FROM listening_consents"
            " UNION SELECT guild_id FROM contests"
        )
        gone = {int(row[0]) for row in known} - set(present)
        await transaction.execute_many(
            "INSERT INTO guild_departures (guild_id, left_at) VALUES (?, ?)"
            " ON CONFLICT (guild_id) DO NOTHING",
            [(guild_id, to_stored(at)) for guild_id in sorted(gone)],
        )
        await transaction.execute_many(
            "DELETE FROM guild_departures WHERE guild_id = ?", [(g,) for g in sorted(present)]
        )


async def departed_before(database: Database, cutoff: datetime) -> tuple[int, ...]:
    """The guilds the bot left before `cutoff` (and has not been added back to)."""
    async with database.snapshot() as transaction:
        rows = await transaction.fetch_all(
            "SELECT guild_id FROM guild_departures WHERE left_at < ? ORDER BY guild_id",
            (to_stored(cutoff),),
        )
    return tuple(int(row["guild_id"]) for row in rows)


async def user_data(database: Database, user_id: int) -> dict[str, Any]:
    """Everything stored about a user that is theirs to take away: their tracks (with prompts,
    lyrics, titles and links), the requests of their jobs, what they asked the chat
    assistant (with its answers), where they opted in to live listening, and their contest
    entries and votes, as JSON-ready data."""
    async with database.snapshot() as transaction:
        tracks = await transaction.fetch_all(
            "SELECT id, guild_id, channel_id, operation, prompt, lyrics, song_name, audio_url,"
            " license, parent_id, job_id, created_at FROM tracks WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        jobs = await transaction.fetch_all(
            "SELECT id, guild_id, channel_id, operation, state, request_json, error, created_at"
            " FROM jobs WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        chat = await user_turns(transaction, user_id)
        listening = await user_consents(transaction, user_id)
        contests = await user_contest_data(transaction, user_id)
    return {
        "user_id": user_id,
        "tracks": [dict(row) for row in tracks],
        "jobs": [_job_entry(dict(row)) for row in jobs],
        "chat": chat,
        "listening": listening,
        "contests": contests,
    }


def _job_entry(row: dict[str, Any]) -> dict[str, Any]:
    """A job as its member asked for it: the request's own fields, without the bot's bookkeeping."""
    stored = json.loads(row.pop("request_json"))
    row["request"] = stored.get("params", {}) if isinstance(stored, dict) else {}
    return row
