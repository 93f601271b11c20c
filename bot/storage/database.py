"""The SQLite connection of one process: pragmas, explicit transactions, numbered migrations."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.clock import Clock, SystemClock, to_stored
from bot.storage.errors import StorageError

Row = sqlite3.Row
Parameters = Sequence[Any]

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class DatabaseTooNew(StorageError):
    """The database was written by a newer version of the bot; opening it could corrupt it."""

    def __init__(self, path: Path, found: int, known: int) -> None:
        super().__init__(
            f"{path} has schema version {found}, but this version of the bot knows only up to "
            f"{known}. Upgrade the bot, or point STORAGE_PATH at another database."
        )
        self.path = path
        self.found = found
        self.known = known


@dataclass(frozen=True)
class Migration:
    """One numbered SQL script from `bot/storage/migrations/`.

    A script whose comments say `-- requires: foreign_keys off` rebuilds tables: it runs with
    foreign keys off (dropping a table would otherwise fire ON DELETE actions on the tables
    that point at it), and its transaction commits only if `PRAGMA foreign_key_check` then
    finds every reference intact.
    """

    version: int
    name: str
    sql: str

    @property
    def needs_foreign_keys_off(self) -> bool:
        return "-- requires: foreign_keys off" in self.sql


@dataclass(frozen=True)
class MigrationReport:
    """What opening (or upgrading) a database did to its schema."""

    path: Path
    version_before: int
    version_after: int
    applied: tuple[Migration, ...]

    @property
    def changed(self) -> bool:
        """Whether any migration ran."""
        return bool(self.applied)

    def describe(self) -> str:
        """One line for a person: the versions and the migrations applied."""
        if not self.applied:
            return f"{self.path}: schema is up to date (version {self.version_after})."
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in self.applied)
        return (
            f"{self.path}: upgraded schema from version {self.version_before} to "
            f"{self.version_after} ({names})."
        )


def bundled_migrations() -> tuple[Migration, ...]:
    """The migrations shipped with the code, in version order."""
    folder = resources.files("bot.storage").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return tuple(found)


def split_statements(script: str) -> list[str]:
    """The complete SQL statements of `script`, so each runs inside our own transaction.

    `executescript` would commit first, which would break the one-transaction-per-migration rule.
    """
    statements = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if not _is_only_comments(statement):
                statements.append(statement)
            pending = ""
    if pending.strip() and not _is_only_comments(pending):
        raise ValueError(f"incomplete SQL statement at the end of the script: {pending.strip()!r}")
    return statements


def _is_only_comments(text: str) -> bool:
    lines = (line.strip() for line in text.splitlines())
    return all(not line or line.startswith("--") or line == ";" for line in lines)


class Transaction:
    """Statements run inside one open transaction; obtained from `Database.transaction()`."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    # One round trip to the connection's thread per call: cursors are not kept open, since
    # every query here reads a handful of rows at most.

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        cursor = await self._connection.execute(sql, parameters)
        return cursor.rowcount

    async def execute_many(self, sql: str, rows: Iterable[Parameters]) -> None:
        """Run one statement once per parameter row."""
        await self._connection.executemany(sql, rows)

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> Row | None:
        """The first row of a query, or None."""
        rows = await self.fetch_all(sql, parameters)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Every row of a query."""
        return list(await self._connection.execute_fetchall(sql, parameters))

    async def fetch_value(self, sql: str, parameters: Parameters = ()) -> Any:
        """The first column of the first row of a query (None when there is no row)."""
        row = await self.fetch_one(sql, parameters)
        return None if row is None else row[0]


class Database:
    """The one database connection of a process.

    Statements of different tasks never interleave: every access goes through a transaction
    that holds an in-process lock, and writes start with BEGIN IMMEDIATE so that another
    process writing the same file is serialized by SQLite's own lock.
    """

    def __init__(self, connection: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[object] | None = None
        self.path = path
        self.clock = clock
        self.migration_report: MigrationReport | None = None

    @classmethod
    async def connect(
        cls,
        path: Path,
        *,
        busy_timeout_ms: int = 5000,
        clock: Clock | None = None,
        migrate: bool = True,
    ) -> Database:
        """Open `path` (creating its folder), set the pragmas, and apply pending migrations."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            await _set_pragmas(connection, busy_timeout_ms)
            database = cls(connection, path, clock or SystemClock())
            if migrate:
                database.migration_report = await database.apply_migrations(bundled_migrations())
            else:
                await database.refuse_if_too_new(bundled_migrations())
        except BaseException:
            await connection.close()
            raise
        return database

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        path: Path,
        *,
        busy_timeout_ms: int = 5000,
        clock: Clock | None = None,
        migrate: bool = True,
    ) -> AsyncIterator[Database]:
        """`connect`, and close on leaving the block."""
        database = await cls.connect(
            path, busy_timeout_ms=busy_timeout_ms, clock=clock, migrate=migrate
        )
        try:
            yield database
        finally:
            await database.close()

    async def close(self) -> None:
        """Close the connection once every running transaction has finished."""
        async with self._lock:
            await self._connection.close()

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction (BEGIN IMMEDIATE): committed on success, rolled back on error.

        Transactions do not nest: opening one inside another in the same task raises.
        """
        return self._begun("BEGIN IMMEDIATE")

    def snapshot(self) -> AbstractAsyncContextManager[Transaction]:
        """A read transaction: several queries that see one consistent state."""
        return self._begun("BEGIN")

    def statements(self) -> AbstractAsyncContextManager[Transaction]:
        """Statements each atomic on its own (no transaction around them), for a hot path
        whose every write checks in its own WHERE what it depends on: two round trips to the
        connection's thread fewer than a transaction."""
        return self._begun(None)

    @asynccontextmanager
    async def _begun(self, begin: str | None) -> AsyncIterator[Transaction]:
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            # The lock is not re-entrant: waiting for it here would wait forever.
            raise RuntimeError("a transaction is already open in this task; they do not nest")
        async with self._lock:
            self._holder = task
            try:
                if begin is None:
                    yield Transaction(self._connection)
                else:
                    async with self._statements(begin) as transaction:
                        yield transaction
            finally:
                self._holder = None

    @asynccontextmanager
    async def _statements(self, begin: str) -> AsyncIterator[Transaction]:
        await self._connection.execute(begin)
        try:
            yield Transaction(self._connection)
        except BaseException:
            await self._roll_back()
            raise
        try:
            await self._connection.execute("COMMIT")
        except sqlite3.Error:
            await self._roll_back()
            raise

    async def _roll_back(self) -> None:
        # A cancelled COMMIT may already have ended the transaction in the worker thread.
        try:
            await self._connection.execute("ROLLBACK")
        except sqlite3.OperationalError:
            if self._connection.in_transaction:
                raise

    async def schema_version(self) -> int:
        """The highest migration applied to this database (0 for an empty file)."""
        async with self.transaction() as transaction:
            await _create_version_table(transaction)
            return await _read_version(transaction)

    async def refuse_if_too_new(self, migrations: Sequence[Migration]) -> None:
        """Raise `DatabaseTooNew` when the file is ahead of `migrations`."""
        found = await self.schema_version()
        known = migrations[-1].version if migrations else 0
        if found > known:
            raise DatabaseTooNew(self.path, found, known)

    async def apply_migrations(self, migrations: Sequence[Migration]) -> MigrationReport:
        """Apply each migration newer than the file, one transaction per migration."""
        before = await self.schema_version()
        known = migrations[-1].version if migrations else 0
        if before > known:
            raise DatabaseTooNew(self.path, before, known)
        applied = []
        for migration in migrations:
            if await self._apply_if_pending(migration):
                applied.append(migration)
        return MigrationReport(self.path, before, max(before, known), tuple(applied))

    async def _apply_if_pending(self, migration: Migration) -> bool:
        if migration.needs_foreign_keys_off:
            # A pragma that has no effect inside a transaction: set around it.
            await self._connection.execute("PRAGMA foreign_keys = OFF")
        try:
            async with self.transaction() as transaction:
                # Re-read inside the write lock: another process may have migrated meanwhile.
                if await _read_version(transaction) >= migration.version:
                    return False
                for statement in split_statements(migration.sql):
                    await transaction.execute(statement)
                broken = await transaction.fetch_all("PRAGMA foreign_key_check")
                if broken:
                    raise StorageError(
                        f"migration {migration.version:04d}_{migration.name} would leave "
                        f"{len(broken)} broken reference(s), e.g. {tuple(broken[0])}"
                    )
                await transaction.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, to_stored(self.clock.now())),
                )
                return True
        finally:
            if migration.needs_foreign_keys_off:
                await self._connection.execute("PRAGMA foreign_keys = ON")


def guild_filter(guild_id: int | None) -> tuple[str, tuple[int, ...]]:
    """A WHERE condition on `guild_id` and its parameters; None means DMs (a NULL guild)."""
    if guild_id is None:
        return "guild_id IS NULL", ()
    return "guild_id = ?", (guild_id,)


async def _set_pragmas(connection: aiosqlite.Connection, busy_timeout_ms: int) -> None:
    # busy_timeout first, so that switching to WAL waits for another process instead of failing.
    await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    await connection.execute("PRAGMA journal_mode = WAL")
    await connection.execute("PRAGMA foreign_keys = ON")
    await connection.execute("PRAGMA synchronous = NORMAL")


async def _create_version_table(transaction: Transaction) -> None:
    await transaction.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )


async def _read_version(transaction: Transaction) -> int:
    version = await transaction.fetch_value("SELECT MAX(version) FROM schema_migrations")
    return int(version or 0)


async def upgrade_database(
    path: Path, *, busy_timeout_ms: int = 5000, clock: Clock | None = None
) -> MigrationReport:
    """Apply pending migrations to the database at `path` and close it (`python -m bot db upgrade`).

    Raises `DatabaseTooNew` when the file is ahead of this code.
    """
    database = await Database.connect(
        path, busy_timeout_ms=busy_timeout_ms, clock=clock, migrate=False
    )
    try:
        return await database.apply_migrations(bundled_migrations())
    finally:
        await database.close()
