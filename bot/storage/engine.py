"""What the repositories see of a database, whichever backend holds it: transactions of
statements written once, in SQLite's dialect with `?` parameters, and rows read by column
name or position.

Each backend (`bot/storage/sqlite.py`, `bot/storage/postgres.py`) implements `Engine` and
`Transaction`; the places where the SQL must differ live in those two modules.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.storage.errors import StorageError

Parameters = Sequence[Any]


class Row(Protocol):
    """One result row: by column name or position (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> Any: ...


class ConstraintViolated(StorageError):
    """A statement broke a constraint (unique, foreign key, check, not null).

    `str()` names the constraint as the backend reported it: SQLite says "UNIQUE constraint
    failed: jobs.interaction_key", PostgreSQL names the index, "jobs_by_interaction_key".
    """


class Mode(enum.Enum):
    """How a block of statements runs."""

    WRITE = "write"  # one transaction; writers are serialized across every process
    READ = "read"  # one read-only transaction that sees one consistent state
    STATEMENTS = "statements"  # each statement atomic on its own, writers still serialized
    # Each statement changes one row and checks in its own WHERE all it depends on: the row's
    # lock serializes it on PostgreSQL (no write lock); on SQLite as STATEMENTS.
    ROW = "row"


class Transaction(ABC):
    """Statements run inside one block obtained from `Database.transaction()` (or `snapshot()`,
    `statements()`).

    A statement that raises `ConstraintViolated` inside a transaction ends it on both
    backends: if the block goes on regardless, leaving it rolls everything back and raises
    `StorageError`. Only `statements()` lets a block carry on after a failed statement.
    """

    @abstractmethod
    async def execute(self, sql: str, parameters: Parameters = ()) -> int:
        """Run one statement; returns the number of rows it changed (or returned)."""

    @abstractmethod
    async def execute_many(self, sql: str, rows: Iterable[Parameters]) -> None:
        """Run one statement once per parameter row."""

    @abstractmethod
    async def fetch_all(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Every row of a query."""

    async def fetch_one(self, sql: str, parameters: Parameters = ()) -> Row | None:
        """The first row of a query, or None."""
        rows = await self.fetch_all(sql, parameters)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, parameters: Parameters = ()) -> Any:
        """The first column of the first row of a query (None when there is no row)."""
        row = await self.fetch_one(sql, parameters)
        return None if row is None else row[0]


@dataclass(frozen=True)
class Migration:
    """One numbered SQL script from `bot/storage/migrations/` (SQLite) or
    `bot/storage/migrations/postgresql/`.

    A SQLite script whose comments say `-- requires: foreign_keys off` rebuilds tables: it runs
    with foreign keys off (dropping a table would otherwise fire ON DELETE actions on the
    tables that point at it), and its transaction commits only if `PRAGMA foreign_key_check`
    then finds every reference intact.
    """

    version: int
    name: str
    sql: str

    @property
    def needs_foreign_keys_off(self) -> bool:
        return "-- requires: foreign_keys off" in self.sql


class Engine(ABC):
    """One backend's connection(s) in one process."""

    #: "sqlite" or "postgresql": which folder of migrations applies.
    dialect: str
    #: The database file, for SQLite; None for a server.
    path: Path | None
    #: Where the data lives, for messages (a server's URL without its password).
    where: str

    @abstractmethod
    def begin(self, mode: Mode) -> AbstractAsyncContextManager[Transaction]:
        """A block of statements in `mode`."""

    @abstractmethod
    def migrating(self, migration: Migration) -> AbstractAsyncContextManager[Transaction]:
        """The write transaction that applies `migration`, with whatever the backend needs
        around it."""

    @abstractmethod
    async def run_script(self, transaction: Transaction, migration: Migration) -> None:
        """Run every statement of `migration` inside `transaction` and check the result."""

    @abstractmethod
    async def close(self) -> None:
        """Close once every running block has finished."""

    async def notify(self, channel: str, payload: str = "") -> None:
        """Wake the processes listening on `channel` (PostgreSQL's NOTIFY); nothing where the
        backend cannot, whose listeners poll instead."""
        del channel, payload

    async def listen(self, channel: str, heard: Callable[[str], None]) -> bool:
        """Call `heard` with the payload of each notification on `channel` from now on;
        False when the backend cannot (then the caller polls)."""
        del channel, heard
        return False
