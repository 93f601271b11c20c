"""The connection on each backend: pragmas, migrations from empty, idempotent upgrades, refusal
of newer databases, transactions."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.storage import (
    ConstraintViolated,
    Database,
    DatabaseTooNew,
    JobRepository,
    ManualClock,
    NewJob,
    NewTrack,
    TrackRepository,
    upgrade_database,
)
from bot.storage.database import bundled_migrations
from bot.storage.errors import StorageError


async def test_open_creates_the_folder_and_applies_every_migration(
    database_path: Path, clock: ManualClock
) -> None:
    """Opening a path in a missing folder creates it and migrates the file to the newest version."""
    async with Database.open(database_path, clock=clock) as database:
        report = database.migration_report
        assert report is not None
        assert (report.version_before, report.version_after) == (0, len(bundled_migrations()))
        assert [m.version for m in report.applied] == [m.version for m in bundled_migrations()]
        assert await database.schema_version() == len(bundled_migrations())


async def _table_names(database: Database) -> set[str]:
    query = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
        "postgresql": "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public'",
    }[database.dialect]
    async with database.snapshot() as transaction:
        return {row[0] for row in await transaction.fetch_all(query)}


async def test_creates_the_expected_tables(database: Database) -> None:
    """The migrations create the quota, job and track tables."""
    names = await _table_names(database)
    assert {"quota_policies", "quota_reservations", "quota_ledger", "jobs", "tracks"} <= names


async def test_both_backends_have_the_same_tables_and_version(
    database_path: Path, postgres_url: str
) -> None:
    """PostgreSQL's schema has every table SQLite's has, at the same schema version."""
    async with Database.open(database_path) as sqlite, Database.open(postgres_url) as postgres:
        assert await _table_names(postgres) == await _table_names(sqlite) - {"sqlite_sequence"}
        assert await postgres.schema_version() == await sqlite.schema_version()


async def test_upgrade_twice_applies_nothing_the_second_time(database_path: Path) -> None:
    """A second upgrade of an up-to-date file applies no migration and keeps the version."""
    first = await upgrade_database(database_path)
    second = await upgrade_database(database_path)
    assert first.changed and not second.changed
    assert second.version_before == second.version_after == first.version_after
    assert "up to date" in second.describe()


async def test_connection_uses_wal_and_foreign_keys(database_path: Path) -> None:
    """A SQLite connection runs in WAL mode with foreign keys enforced."""
    async with Database.open(database_path) as database, database.snapshot() as transaction:
        journal = await transaction.fetch_value("PRAGMA journal_mode")
        foreign_keys = await transaction.fetch_value("PRAGMA foreign_keys")
    assert (journal, foreign_keys) == ("wal", 1)


async def test_refuses_a_database_from_a_newer_version(database_path: Path) -> None:
    """A file whose schema version is ahead of the code raises DatabaseTooNew naming both."""
    await upgrade_database(database_path)
    known = len(bundled_migrations())
    with closing(sqlite3.connect(database_path)) as raw, raw:
        raw.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (known + 1, "future", "2030-01-01T00:00:00.000000Z"),
        )
    with pytest.raises(DatabaseTooNew) as raised:
        await upgrade_database(database_path)
    assert (raised.value.found, raised.value.known) == (known + 1, known)
    assert f"schema version {known + 1}" in str(raised.value)


async def test_a_failed_transaction_leaves_nothing_behind(database: Database) -> None:
    """An exception inside a transaction rolls back every statement of it."""
    with pytest.raises(RuntimeError):
        async with database.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO quota_exempt_roles (guild_id, role_id) VALUES (1, 2)"
            )
            raise RuntimeError("boom")
    async with database.snapshot() as transaction:
        assert await transaction.fetch_value("SELECT COUNT(*) FROM quota_exempt_roles") == 0


async def test_a_cancelled_transaction_rolls_back_and_frees_the_connection(
    database: Database,
) -> None:
    """Cancelling a task inside a transaction rolls it back; the next transaction runs."""
    inside = asyncio.Event()

    async def write_then_wait() -> None:
        async with database.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO quota_exempt_roles (guild_id, role_id) VALUES (1, 2)"
            )
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(write_then_wait())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with database.transaction() as transaction:
        assert await transaction.fetch_value("SELECT COUNT(*) FROM quota_exempt_roles") == 0


async def test_a_transaction_cancelled_while_sqlite_begins_it_is_rolled_back(
    database_path: Path,
) -> None:
    """Cancelled while its BEGIN waits in SQLite's thread (another process holds the write
    lock), a transaction is still ended once that BEGIN runs: the next one starts."""
    async with Database.open(database_path) as database:
        with closing(sqlite3.connect(database_path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")

            starting = asyncio.Event()

            async def write() -> None:
                starting.set()  # this test runs again only once the BEGIN below is awaited
                async with database.transaction() as transaction:
                    await transaction.execute("DELETE FROM quota_exempt_roles")

            task = asyncio.create_task(write())
            await starting.wait()
            task.cancel()
            other.execute("COMMIT")
            with pytest.raises(asyncio.CancelledError):
                await task
        async with database.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO quota_exempt_roles (guild_id, role_id) VALUES (1, 2)"
            )
        async with database.snapshot() as transaction:
            assert await transaction.fetch_value("SELECT COUNT(*) FROM quota_exempt_roles") == 1


async def test_nested_transactions_are_refused(database: Database) -> None:
    """Opening a transaction inside another in the same task raises instead of hanging."""
    async with database.transaction():
        with pytest.raises(RuntimeError, match="do not nest"):
            async with database.snapshot():
                pass


async def test_a_deleted_newest_track_leaves_its_id_behind(
    database: Database, tracks: TrackRepository, jobs: JobRepository
) -> None:
    """Deleting the newest track (or job) never hands its id to the next one."""
    first = await tracks.add(NewTrack(channel_id=5, user_id=1, operation="song"))
    await tracks.delete(first.id)
    second = await tracks.add(NewTrack(channel_id=5, user_id=2, operation="song"))
    assert second.id > first.id
    job = await jobs.create(NewJob(channel_id=5, user_id=1, operation="song", request={}))
    async with database.transaction() as transaction:
        await transaction.execute("DELETE FROM jobs WHERE id = ?", (job.id,))
    again = await jobs.create(NewJob(channel_id=5, user_id=1, operation="song", request={}))
    assert again.id > job.id


async def test_every_table_with_an_id_never_reuses_it(database_path: Path) -> None:
    """Each SQLite table keyed by an integer id is AUTOINCREMENT, so ids are never reused."""
    async with Database.open(database_path) as database, database.snapshot() as transaction:
        rows = await transaction.fetch_all(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'table' AND sql LIKE '%id INTEGER PRIMARY KEY%'"
        )
    reusing = [row["name"] for row in rows if "AUTOINCREMENT" not in row["sql"]]
    assert rows and reusing == []


async def test_every_postgres_id_comes_from_a_sequence(postgres_url: str) -> None:
    """Each PostgreSQL table with an id column numbers it by identity (never reused)."""
    async with Database.open(postgres_url) as database, database.snapshot() as transaction:
        rows = await transaction.fetch_all(
            "SELECT table_name, is_identity, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name = 'id'"
        )
    assert len(rows) >= 8
    assert [r[0] for r in rows if (r[1], r[2]) != ("YES", "bigint")] == []


async def test_refuses_a_postgres_database_from_a_newer_version(postgres_url: str) -> None:
    """A PostgreSQL database whose schema is ahead of the code raises DatabaseTooNew."""
    known = bundled_migrations("postgresql")[-1].version
    async with Database.open(postgres_url) as database, database.transaction() as transaction:
        await transaction.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (known + 1, "future", "2030-01-01T00:00:00.000000Z"),
        )
    with pytest.raises(DatabaseTooNew) as raised:
        await upgrade_database(postgres_url)
    assert (raised.value.found, raised.value.known) == (known + 1, known)
    assert "postgresql://postgres@127.0.0.1" in str(raised.value)


async def test_a_violation_caught_inside_a_transaction_still_rolls_it_back(
    database: Database,
) -> None:
    """A transaction that carries on after a failed statement keeps nothing, on both backends."""
    with pytest.raises(StorageError, match="rolled back"):
        async with database.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO quota_exempt_roles (guild_id, role_id) VALUES (1, 2)"
            )
            with pytest.raises(ConstraintViolated):
                await transaction.execute(
                    "INSERT INTO quota_exempt_roles (guild_id, role_id) VALUES (1, 2)"
                )
    async with database.snapshot() as transaction:
        assert await transaction.fetch_value("SELECT COUNT(*) FROM quota_exempt_roles") == 0


WHEN = "2026-01-01T00:00:00.000000Z"


async def test_the_upgrade_keeps_rows_ids_and_links(database_path: Path) -> None:
    """A database of the first schema keeps every row, id and link when its tables are rebuilt."""
    first, *_ = bundled_migrations()
    old = await Database.connect(database_path, migrate=False)
    try:
        await old.apply_migrations([first])
        async with old.transaction() as transaction:
            for track_id, operation, parent in ((7, "song", None), (9, "loop", 7)):
                await transaction.execute(
                    "INSERT INTO tracks (id, channel_id, user_id, operation, parent_id,"
                    " created_at, updated_at) VALUES (?, 5, 1, ?, ?, ?, ?)",
                    (track_id, operation, parent, WHEN, WHEN),
                )
    finally:
        await old.close()
    async with Database.open(database_path) as upgraded:
        async with upgraded.snapshot() as transaction:
            rows = await transaction.fetch_all("SELECT id, parent_id FROM tracks ORDER BY id")
        assert [tuple(row) for row in rows] == [(7, None), (9, 7)]
        async with upgraded.transaction() as transaction:
            await transaction.execute("DELETE FROM tracks WHERE id = 7")
            orphan = await transaction.fetch_value("SELECT parent_id FROM tracks WHERE id = 9")
        assert orphan is None


async def test_statements_each_stand_alone(database: Database) -> None:
    """In `statements()`, a failing statement does not undo the one before it."""
    with pytest.raises(ConstraintViolated):
        async with database.statements() as statements:
            await statements.execute(
                "INSERT INTO contest_managers (guild_id, role_id, set_at) VALUES (1, 2, 'x')"
            )
            await statements.execute(
                "INSERT INTO contest_managers (guild_id, role_id, set_at) VALUES (1, 3, 'x')"
            )
    async with database.snapshot() as transaction:
        assert await transaction.fetch_value("SELECT role_id FROM contest_managers") == 2


async def test_a_notification_reaches_another_process_listening(postgres_url: str) -> None:
    """On PostgreSQL, one connection's NOTIFY reaches another's listener with its payload."""
    heard: asyncio.Queue[str] = asyncio.Queue()
    async with Database.open(postgres_url) as listener, Database.open(postgres_url) as other:
        assert await listener.listen("soundverse_test", heard.put_nowait)
        await other.notify("soundverse_test", "job 7")
        assert await heard.get() == "job 7"


async def test_sqlite_says_it_cannot_listen(database_path: Path) -> None:
    """On SQLite, listening is refused (the caller polls) and notifying does nothing."""
    async with Database.open(database_path) as database:
        assert not await database.listen("soundverse_test", print)
        await database.notify("soundverse_test", "ignored")
