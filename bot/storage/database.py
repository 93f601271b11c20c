"""The database of one process, on SQLite (the default) or PostgreSQL: transactions,
numbered migrations per backend, and the target a `STORAGE_URL` names."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yarl

from bot.storage.clock import Clock, SystemClock, to_stored
from bot.storage.engine import (
    ConstraintViolated,
    Engine,
    Migration,
    Mode,
    Parameters,
    Row,
    Transaction,
)
from bot.storage.errors import StorageError
from bot.storage.sqlite import SqliteEngine, split_statements

__all__ = [
    "ConstraintViolated",
    "Database",
    "DatabaseTooNew",
    "GuildScope",
    "Migration",
    "MigrationReport",
    "Parameters",
    "Row",
    "Target",
    "Transaction",
    "bundled_migrations",
    "describe_target",
    "guild_filter",
    "split_statements",
    "upgrade_database",
]

#: A SQLite file, or a `postgresql://` URL.
Target = Path | str

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def is_postgres_url(target: Target) -> bool:
    """Whether `target` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def describe_target(target: Target) -> str:
    """`target` for a message: a file's path, or a server's URL without its password."""
    if isinstance(target, Path):
        return str(target)
    url = yarl.URL(target)
    return str(url.with_password(None)) if url.password else target


class DatabaseTooNew(StorageError):
    """The database was written by a newer version of the bot; opening it could corrupt it."""

    def __init__(self, where: str, found: int, known: int) -> None:
        super().__init__(
            f"{where} has schema version {found}, but this version of the bot knows only up to "
            f"{known}. Upgrade the bot, or point STORAGE_URL at another database."
        )
        self.where = where
        self.found = found
        self.known = known


@dataclass(frozen=True)
class MigrationReport:
    """What opening (or upgrading) a database did to its schema."""

    where: str
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
            return f"{self.where}: schema is up to date (version {self.version_after})."
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in self.applied)
        return (
            f"{self.where}: upgraded schema from version {self.version_before} to "
            f"{self.version_after} ({names})."
        )


def bundled_migrations(dialect: str = "sqlite") -> tuple[Migration, ...]:
    """The migrations shipped with the code for `dialect`, in version order.

    PostgreSQL's start at the schema SQLite had reached when PostgreSQL came (one baseline
    script); from then on every migration exists for both, with the same number.
    """
    folder = resources.files("bot.storage").joinpath("migrations")
    if dialect == "postgresql":
        folder = folder.joinpath("postgresql")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    first = versions[0] if versions else 1
    if versions != list(range(first, first + len(found))):
        raise RuntimeError(f"migrations must be numbered without gaps, found {versions}")
    return tuple(found)


class Database:
    """The database of a process, through one backend (`bot/storage/sqlite.py`,
    `bot/storage/postgres.py`).

    Every write runs in a transaction that no other writer, in this process or another,
    interleaves with. Transactions do not nest: opening one inside another in the same task
    raises.
    """

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._holders: set[asyncio.Task[object]] = set()
        self.clock = clock
        self.migration_report: MigrationReport | None = None

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._engine.dialect

    @property
    def path(self) -> Path | None:
        """The SQLite file; None on PostgreSQL."""
        return self._engine.path

    @property
    def where(self) -> str:
        """Where the data lives, for messages (a server's URL without its password)."""
        return self._engine.where

    @classmethod
    async def connect(
        cls,
        target: Target,
        *,
        busy_timeout_ms: int = 5000,
        pool_size: int = 10,
        clock: Clock | None = None,
        migrate: bool = True,
    ) -> Database:
        """Open `target` (a SQLite file, its folder created; or a `postgresql://` URL) and apply
        pending migrations."""
        engine: Engine
        if is_postgres_url(target):
            from bot.storage.postgres import PostgresEngine

            engine = await PostgresEngine.connect(
                str(target), pool_size=pool_size, connect_timeout=busy_timeout_ms / 1000 or 5.0
            )
        else:
            engine = await SqliteEngine.connect(Path(target), busy_timeout_ms=busy_timeout_ms)
        try:
            database = cls(engine, clock or SystemClock())
            migrations = bundled_migrations(engine.dialect)
            if migrate:
                database.migration_report = await database.apply_migrations(migrations)
            else:
                await database.refuse_if_too_new(migrations)
        except BaseException:
            await engine.close()
            raise
        return database

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        target: Target,
        *,
        busy_timeout_ms: int = 5000,
        pool_size: int = 10,
        clock: Clock | None = None,
        migrate: bool = True,
    ) -> AsyncIterator[Database]:
        """`connect`, and close on leaving the block."""
        database = await cls.connect(
            target,
            busy_timeout_ms=busy_timeout_ms,
            pool_size=pool_size,
            clock=clock,
            migrate=migrate,
        )
        try:
            yield database
        finally:
            await database.close()

    async def close(self) -> None:
        """Close once every running transaction has finished."""
        await self._engine.close()

    async def notify(self, channel: str, payload: str = "") -> None:
        """Wake the processes listening on `channel` (PostgreSQL); nothing on SQLite."""
        await self._engine.notify(channel, payload)

    async def listen(self, channel: str, heard: Callable[[str], None]) -> bool:
        """Call `heard` with each notification's payload on `channel`; False on SQLite, whose
        listeners poll instead."""
        return await self._engine.listen(channel, heard)

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction: committed on success, rolled back on error."""
        return self._begun(Mode.WRITE)

    def snapshot(self) -> AbstractAsyncContextManager[Transaction]:
        """A read transaction: several queries that see one consistent state."""
        return self._begun(Mode.READ)

    def row_statements(self) -> AbstractAsyncContextManager[Transaction]:
        """Statements that each change one row and check in their own WHERE everything they
        depend on (a job's state move, guarded by its current state and fencing token): on
        PostgreSQL the row's own lock orders them, so they skip the write lock that
        serializes every other writer; on SQLite they are `statements()`."""
        return self._begun(Mode.ROW)

    def statements(self) -> AbstractAsyncContextManager[Transaction]:
        """Statements each atomic on its own (no transaction around them), for a hot path
        whose every write checks in its own WHERE what it depends on: fewer round trips
        than a transaction. Other writers still wait for the block to end."""
        return self._begun(Mode.STATEMENTS)

    @asynccontextmanager
    async def _begun(self, mode: Mode) -> AsyncIterator[Transaction]:
        task = asyncio.current_task()
        if task is not None and task in self._holders:
            # The write lock is not re-entrant: waiting for it here would wait forever.
            raise RuntimeError("a transaction is already open in this task; they do not nest")
        if task is not None:
            self._holders.add(task)
        try:
            async with self._engine.begin(mode) as transaction:
                yield transaction
        finally:
            if task is not None:
                self._holders.discard(task)

    async def schema_version(self) -> int:
        """The highest migration applied to this database (0 for an empty one)."""
        async with self.transaction() as transaction:
            await _create_version_table(transaction)
            return await _read_version(transaction)

    async def refuse_if_too_new(self, migrations: Sequence[Migration]) -> None:
        """Raise `DatabaseTooNew` when the database is ahead of `migrations`."""
        found = await self.schema_version()
        known = migrations[-1].version if migrations else 0
        if found > known:
            raise DatabaseTooNew(self.where, found, known)

    async def apply_migrations(self, migrations: Sequence[Migration]) -> MigrationReport:
        """Apply each migration newer than the database, one transaction per migration."""
        before = await self.schema_version()
        known = migrations[-1].version if migrations else 0
        if before > known:
            raise DatabaseTooNew(self.where, before, known)
        applied = []
        for migration in migrations:
            if await self._apply_if_pending(migration):
                applied.append(migration)
        return MigrationReport(self.where, before, max(before, known), tuple(applied))

    async def _apply_if_pending(self, migration: Migration) -> bool:
        task = asyncio.current_task()
        if task is not None:
            self._holders.add(task)
        try:
            async with self._engine.migrating(migration) as transaction:
                # Re-read inside the write lock: another process may have migrated meanwhile.
                if await _read_version(transaction) >= migration.version:
                    return False
                await self._engine.run_script(transaction, migration)
                await transaction.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, to_stored(self.clock.now())),
                )
                return True
        finally:
            if task is not None:
                self._holders.discard(task)


@dataclass(frozen=True)
class GuildScope:
    """The guilds one bot process serves when the gateway is split over processes: those on
    its shards, by Discord's formula `(guild_id >> 22) % shard_count`."""

    shard_count: int
    shard_ids: tuple[int, ...]

    def condition(self, column: str = "guild_id") -> tuple[str, tuple[int, ...]]:
        """A WHERE condition on `column` (SQL shared by both backends) and its parameters."""
        marks = ", ".join("?" for _ in self.shard_ids)
        return f"(({column} >> 22) % ?) IN ({marks})", (self.shard_count, *self.shard_ids)


def guild_filter(guild_id: int | None) -> tuple[str, tuple[int, ...]]:
    """A WHERE condition on `guild_id` and its parameters; None means DMs (a NULL guild)."""
    if guild_id is None:
        return "guild_id IS NULL", ()
    return "guild_id = ?", (guild_id,)


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
    target: Target, *, busy_timeout_ms: int = 5000, clock: Clock | None = None
) -> MigrationReport:
    """Apply pending migrations to the database at `target` and close it
    (`python -m bot db upgrade`).

    Raises `DatabaseTooNew` when the database is ahead of this code.
    """
    database = await Database.connect(
        target, busy_timeout_ms=busy_timeout_ms, clock=clock, migrate=False
    )
    try:
        return await database.apply_migrations(bundled_migrations(database.dialect))
    finally:
        await database.close()
