"""Members' data: theirs to export and to delete, and a server's purged a while after the bot
was removed from it (PRIVACY_GUILD_GRACE_DAYS)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.audio import stored_opus_path
from bot.config import PrivacySettings
from bot.errors import UserFacingError
from bot.storage import Database, DeletionReport, JobRepository, delete_user_data, purge_guild
from bot.storage.clock import Clock, SystemClock, to_stored
from bot.storage.privacy import (
    departed_before,
    forget_departure,
    reconcile_departures,
    record_departure,
    user_data,
)
from bot.words import counted

log = logging.getLogger(__name__)


class PrivacyService:
    """Exports and deletes a member's data; purges the servers the bot left."""

    def __init__(
        self, database: Database, settings: PrivacySettings, clock: Clock | None = None
    ) -> None:
        self._database = database
        self._jobs = JobRepository(database, clock)
        self._grace = timedelta(days=settings.guild_grace_days)
        self._clock = clock or SystemClock()

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the member, as JSON-ready data."""
        data = await user_data(self._database, user_id)
        return {"exported_at": to_stored(self._clock.now()), **data}

    async def delete_member(self, user_id: int) -> DeletionReport:
        """Delete the member's tracks (and their files) and jobs; anonymise their quota history.
        Refused while one of their jobs is unfinished: cancel it or let it end first."""
        unfinished = await self._jobs.unfinished_of(user_id)
        if unfinished:
            raise UserFacingError(
                f"You have {counted(unfinished, 'job')} still running or queued; cancel them or "
                "wait for them to end, then delete your data."
            )
        report = await delete_user_data(self._database, user_id)
        await _remove_files(report.audio_files)
        return report

    async def guild_left(self, guild_id: int) -> None:
        """The bot was removed from a server: its data is purged after the grace period."""
        await record_departure(self._database, guild_id, self._clock.now())

    async def guild_joined(self, guild_id: int) -> None:
        """The bot is (back) in a server: nothing of it is due for purging."""
        await forget_departure(self._database, guild_id)

    async def guilds_present(self, guild_ids: Collection[int]) -> None:
        """At start: the bot is in these servers now, and was removed from every other server it
        holds data of (their grace period starts now, unless it had started already)."""
        await reconcile_departures(self._database, guild_ids, self._clock.now())

    async def purge_departed(self) -> list[int]:
        """Purge every server the bot left longer than the grace period ago; their ids."""
        purged = []
        for guild_id in await departed_before(self._database, self._clock.now() - self._grace):
            report = await purge_guild(self._database, guild_id)
            await _remove_files(report.audio_files)
            log.info("Purged the data of guild %s (%d rows)", guild_id, report.total)
            purged.append(guild_id)
        return purged


async def _remove_files(paths: tuple[Path, ...]) -> None:
    def remove() -> None:
        for path in paths:
            path.unlink(missing_ok=True)
            stored_opus_path(path).unlink(missing_ok=True)  # the voice copy beside it

    await asyncio.to_thread(remove)
