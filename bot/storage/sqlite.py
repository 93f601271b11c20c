"""The SQLite backend (aiosqlite): one connection per process, its pragmas, and BEGIN IMMEDIATE
so that writers of several processes on one file are serialized by SQLite's own lock."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import cast

import aiosqlite

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

_BEGIN = {
    Mode.WRITE: "BEGIN IMMEDIATE",
    Mode.READ: "BEGIN",
    Mode.STATEMENTS: None,
    Mode.ROW: None,
}


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


class SqliteTransaction(Transaction):
    """Statements on the one connection, which the caller holds the lock of."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.violated = False

    # One round trip to the connection's thread per call: cursors are not kept open, since
    # every query here reads a handful of rows at most.

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        try:
            cursor = await self._connection.execute(sql, parameters)
        except sqlite3.IntegrityError as failure:
            self.violated = True
            raise ConstraintViolated(str(failure)) from failure
        return cursor.rowcount

    async def execute_many(self, sql: str, rows: Iterable[Parameters]) -> None:
        try:
            await self._connection.executemany(sql, rows)
        except sqlite3.IntegrityError as failure:
            self.violated = True
            raise ConstraintViolated(str(failure)) from failure

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        try:
            rows = await self._connection.execute_fetchall(sql, parameters)
        except sqlite3.IntegrityError as failure:
            self.violated = True
            raise ConstraintViolated(str(failure)) from failure
        return cast(list[Row], list(rows))


class SqliteEngine(Engine):
    """The one connection of a process to a database file.

    Statements of different tasks never interleave: every block holds an in-process lock, and
    writes start with BEGIN IMMEDIATE so that another process writing the same file waits.
    """

    dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self.path = path
        self.where = str(path)

    @classmethod
    async def connect(cls, path: Path, *, busy_timeout_ms: int) -> SqliteEngine:
        """Open `path` (creating its folder) and set the pragmas."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            # busy_timeout first, so that switching to WAL waits for another process.
            await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            await connection.close()
            raise
        return cls(connection, path)

    async def close(self) -> None:
        async with self._lock:
            await self._connection.close()

    @asynccontextmanager
    async def begin(self, mode: Mode) -> AsyncIterator[Transaction]:
        async with self._lock:
            begin = _BEGIN[mode]
            if begin is None:
                yield SqliteTransaction(self._connection)
                return
            try:
                await self._connection.execute(begin)
            except BaseException:
                # Cancelled while SQLite's thread runs the BEGIN (waiting for another process's
                # write lock, say), it begins all the same: the ROLLBACK queued behind it ends
                # that transaction. After a BEGIN that failed there is none to end.
                await self._roll_back()
                raise
            transaction = SqliteTransaction(self._connection)
            try:
                yield transaction
                if transaction.violated:
                    # As on PostgreSQL, where a failed statement ends its transaction.
                    raise StorageError("a statement of the transaction failed; it was rolled back")
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

    def migrating(self, migration: Migration) -> AbstractAsyncContextManager[Transaction]:
        return self._migrating(migration)

    @asynccontextmanager
    async def _migrating(self, migration: Migration) -> AsyncIterator[Transaction]:
        if migration.needs_foreign_keys_off:
            # A pragma that has no effect inside a transaction: set around it.
            await self._connection.execute("PRAGMA foreign_keys = OFF")
        try:
            async with self.begin(Mode.WRITE) as transaction:
                yield transaction
        finally:
            if migration.needs_foreign_keys_off:
                await self._connection.execute("PRAGMA foreign_keys = ON")

    async def run_script(self, transaction: Transaction, migration: Migration) -> None:
        for statement in split_statements(migration.sql):
            await transaction.execute(statement)
        broken = await transaction.fetch_all("PRAGMA foreign_key_check")
        if broken:
            raise StorageError(
                f"migration {migration.version:04d}_{migration.name} would leave "
                f"{len(broken)} broken reference(s), e.g. {tuple(broken[0])}"
            )
