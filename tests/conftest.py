"""Suite-wide checks (CI must validate traffic against Discord's OpenAPI description) and the
throwaway PostgreSQL server that the tests on that backend share."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.storage import Database
from sandbox.discord.openapi import default_spec_path, spec_available
from sandbox.postgres import PostgresServer, PostgresUnavailable


def pytest_configure(config: pytest.Config) -> None:
    """Without the spec a run cannot prove fidelity to Discord: refuse that in CI."""
    if os.environ.get("CI") == "true" and not spec_available():
        raise pytest.UsageError(
            f"Discord's OpenAPI description is missing at {default_spec_path()}: CI validates "
            "every request and response against it (set DISCORD_OPENAPI_SPEC)."
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """This test's database on each backend in turn: a new SQLite file (its folder not made
    yet), or a new database on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return tmp_path / "data" / "bot.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole run (CI must have one: no skipping there)."""
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as missing:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(missing))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A database migrated once, which each test's database is copied from."""
    _blocking(_migrated_template(postgres_server))
    return TEMPLATE


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> str:
    """A fresh, migrated PostgreSQL database of this test's own."""
    name = f"test_{next(_DATABASE_NUMBERS)}"
    _blocking(_admin(postgres_server, f"CREATE DATABASE {name} TEMPLATE {postgres_template}"))
    return postgres_server.url(name)


TEMPLATE = "bot_template"
_DATABASE_NUMBERS = itertools.count(1)


def _blocking(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` to its end on a loop of its own, in a thread: also from inside a test whose
    loop is running (a fixture asked for with `request.getfixturevalue`)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, work).result()


async def _admin(server: PostgresServer, statement: str) -> None:
    connection = await asyncpg.connect(server.url())
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _migrated_template(server: PostgresServer) -> None:
    await _admin(server, f"CREATE DATABASE {TEMPLATE}")
    async with Database.open(server.url(TEMPLATE)):
        pass
