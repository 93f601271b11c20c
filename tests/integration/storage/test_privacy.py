"""Privacy: deleting one user's data and purging a guild, with the counts they report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config import Period
from bot.storage import (
    AudioFile,
    Database,
    JobRepository,
    ManualClock,
    NewJob,
    NewTrack,
    QuotaLedger,
    QuotaPolicy,
    TrackRepository,
    delete_user_data,
    purge_guild,
)
from bot.storage.privacy import departed_before, reconcile_departures, record_departure

GUILD = 1000
OTHER_GUILD = 2000


async def populate(
    ledger: QuotaLedger, jobs: JobRepository, tracks: TrackRepository
) -> dict[str, int]:
    """Two users in two guilds with tracks, jobs and billed reservations; returns some ids."""
    ids: dict[str, int] = {}
    for guild in (GUILD, OTHER_GUILD):
        for user in (1, 2):
            reservation = await ledger.reserve(guild, user, "song", 2)
            await ledger.commit(reservation.id)
            await jobs.create(
                NewJob(channel_id=5, user_id=user, operation="song", request={}, guild_id=guild)
            )
            track = await tracks.add(
                NewTrack(
                    channel_id=5,
                    user_id=user,
                    operation="song",
                    guild_id=guild,
                    audio_file=AudioFile(Path(f"audio/{guild}-{user}.mp3"), 10, 1.0, "mp3"),
                )
            )
            ids[f"{guild}-{user}"] = track.id
    policy = await ledger.get_policy(None, 1)
    await ledger.set_policy(policy, guild_id=None, user_id=1)
    return ids


async def test_deleting_a_user_removes_their_tracks_and_jobs(
    ledger: QuotaLedger, jobs: JobRepository, tracks: TrackRepository, database: Database
) -> None:
    """delete_user_data removes the user's tracks, jobs and DM policy and reports the counts."""
    ids = await populate(ledger, jobs, tracks)
    report = await delete_user_data(database, 1)
    assert (report.tracks_deleted, report.jobs_deleted, report.policies_deleted) == (2, 2, 1)
    assert report.audio_files == (
        Path(f"audio/{GUILD}-1.mp3"),
        Path(f"audio/{OTHER_GUILD}-1.mp3"),
    )
    assert await tracks.user_history(1) == ()
    assert await tracks.get(ids[f"{GUILD}-2"]) is not None
    assert [job.user_id for job in await jobs.unfinished()] == [2, 2]


async def test_deleting_a_user_anonymises_the_ledger_and_keeps_totals(
    ledger: QuotaLedger, jobs: JobRepository, tracks: TrackRepository, database: Database
) -> None:
    """The user's ledger rows lose their identity but the guild's used units are unchanged."""
    await populate(ledger, jobs, tracks)
    before = await ledger.usage(GUILD, 2)
    report = await delete_user_data(database, 1)
    after = await ledger.usage(GUILD, 2)
    events = await ledger.recent_events(GUILD)
    assert (report.reservations_anonymised, report.ledger_rows_anonymised) == (2, 5)
    assert after.guild_used == before.guild_used == 4
    assert all(1 not in (event.user_id, event.actor_id) for event in events)
    assert len(events) == 4


async def test_purging_a_guild_removes_everything_of_that_guild(
    ledger: QuotaLedger, jobs: JobRepository, tracks: TrackRepository, database: Database
) -> None:
    """purge_guild deletes the guild's tracks, jobs, policy, reservations and ledger only."""
    await populate(ledger, jobs, tracks)
    await ledger.set_policy(
        QuotaPolicy(units_per_period=5, period=Period.DAY, member_cap=5, member_concurrent=1),
        guild_id=GUILD,
    )
    report = await purge_guild(database, GUILD)
    assert (report.tracks_deleted, report.jobs_deleted, report.policies_deleted) == (2, 2, 1)
    assert (report.reservations_deleted, report.ledger_rows_deleted) == (2, 5)
    assert await ledger.recent_events(GUILD) == ()
    assert (await ledger.usage(OTHER_GUILD, 1)).guild_used == 4
    assert (await tracks.guild_history(OTHER_GUILD)).total == 2


async def test_a_guild_left_while_the_bot_was_down_is_recorded_at_start(
    database: Database,
    ledger: QuotaLedger,
    jobs: JobRepository,
    tracks: TrackRepository,
    clock: ManualClock,
) -> None:
    """At start, a guild the bot holds data of but is no longer in counts as left now; a guild
    it is in again is no longer due."""
    await populate(ledger, jobs, tracks)
    await record_departure(database, GUILD, clock.now())
    await reconcile_departures(database, [GUILD], clock.now())
    clock.advance(timedelta(days=1))
    assert await departed_before(database, clock.now()) == (OTHER_GUILD,)
