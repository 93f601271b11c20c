"""The PostgreSQL backend (asyncpg): a pool of connections per process, shared by any number
of processes on any hosts.

The repositories' SQL is written once, in the dialect both backends share; here it is only
renumbered (`?` becomes `$1`, `$2`, …). Writers are serialized across every process by one
transaction-scoped advisory lock, so every write transaction sees and changes the data alone,
as SQLite's BEGIN IMMEDIATE gives on one machine: the quota ledger's checks, a contest's vote
rules and a job's state transitions stay exact however many processes write.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import cast

import asyncpg
import yarl

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

#: The advisory lock every writer holds: the bot's own number, "Sndv" in ASCII.
WRITE_LOCK = 0x536E6476

_BEGIN = {
    Mode.WRITE: f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})",
    Mode.READ: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    Mode.STATEMENTS: f"SELECT pg_advisory_lock({WRITE_LOCK})",
    Mode.ROW: None,
}


@functools.lru_cache(maxsize=4096)
def numbered(sql: str) -> str:
    """`sql` with each `?` parameter (outside quotes) numbered as PostgreSQL wants: `$1`, `$2`…"""
    parts: list[str] = []
    count = 0
    quote: str | None = None
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "?":
            count += 1
            parts.append(f"${count}")
            continue
        parts.append(char)
    return "".join(parts)


def _changed(status: str) -> int:
    """The row count of a command tag such as 'UPDATE 3' or 'INSERT 0 1' (0 when none)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTransaction(Transaction):
    """Statements on one pooled connection, inside the block that acquired it."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        try:
            status = await self._connection.execute(numbered(sql), *parameters)
        except asyncpg.IntegrityConstraintViolationError as failure:
            raise ConstraintViolated(str(failure)) from failure
        return _changed(status)

    async def execute_many(self, sql: str, rows: Iterable[Parameters]) -> None:
        try:
            await self._connection.executemany(numbered(sql), [tuple(row) for row in rows])
        except asyncpg.IntegrityConstraintViolationError as failure:
            raise ConstraintViolated(str(failure)) from failure

    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        try:
            rows = await self._connection.fetch(numbered(sql), *parameters)
        except asyncpg.IntegrityConstraintViolationError as failure:
            raise ConstraintViolated(str(failure)) from failure
        return cast(list[Row], rows)

    async def run_script(self, script: str) -> None:
        """Run a whole script of statements without parameters (a migration)."""
        await self._connection.execute(script)


class PostgresEngine(Engine):
    """A pool of connections to one PostgreSQL database."""

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self._url = url
        self._listener: asyncpg.Connection | None = None
        self.path = None
        self.where = str(yarl.URL(url).with_password(None)) if yarl.URL(url).password else url

    @classmethod
    async def connect(cls, url: str, *, pool_size: int, connect_timeout: float) -> PostgresEngine:
        """Open a pool of up to `pool_size` connections to the database at `url`."""
        pool = await asyncpg.create_pool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=connect_timeout,
            server_settings={"application_name": "soundverse-bot"},
        )
        return cls(pool, url)

    async def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                await self._listener.close()
        await self._pool.close()

    async def notify(self, channel: str, payload: str = "") -> None:
        async with self._pool.acquire() as connection:
            await connection.execute("SELECT pg_notify($1, $2)", channel, payload)

    async def listen(self, channel: str, heard: Callable[[str], None]) -> bool:
        # One connection of its own: LISTEN lasts as long as the session that ran it.
        if self._listener is None:
            self._listener = await asyncpg.connect(
                self._url, server_settings={"application_name": "soundverse-bot-listener"}
            )
        await self._listener.add_listener(channel, lambda *event: heard(event[-1]))
        return True

    @asynccontextmanager
    async def begin(self, mode: Mode) -> AsyncIterator[Transaction]:
        async with self._pool.acquire() as connection:
            if mode is Mode.ROW:
                yield PostgresTransaction(connection)
                return
            await connection.execute(_BEGIN[mode])
            if mode is Mode.STATEMENTS:
                try:
                    yield PostgresTransaction(connection)
                finally:
                    # Released connections are reset, which also drops a lock left here.
                    await connection.execute(f"SELECT pg_advisory_unlock({WRITE_LOCK})")
                return
            try:
                yield PostgresTransaction(connection)
            except BaseException:
                with contextlib.suppress(asyncpg.PostgresError, OSError):
                    await connection.execute("ROLLBACK")
                raise
            if await connection.execute("COMMIT") == "ROLLBACK":
                # A statement failed and its error was handled: nothing of the block stays.
                raise StorageError("a statement of the transaction failed; it was rolled back")

    def migrating(self, migration: Migration) -> AbstractAsyncContextManager[Transaction]:
        return self.begin(Mode.WRITE)

    async def run_script(self, transaction: Transaction, migration: Migration) -> None:
        await cast(PostgresTransaction, transaction).run_script(migration.sql)
