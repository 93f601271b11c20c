"""Fixtures for the storage tests: a real database per test, on each backend (a SQLite file,
and a database of the throwaway PostgreSQL server), and a clock that moves on demand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Period, QuotaSettings
from bot.storage import (
    Database,
    JobRepository,
    ManualClock,
    QuotaLedger,
    TrackRepository,
)

# A Wednesday in the middle of a month, at noon: far from every period boundary.
START = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """A clock at START that moves only when a test says so."""
    return ManualClock(START)


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    """Where this test's database file lives (its folder does not exist yet)."""
    return tmp_path / "data" / "bot.db"


@pytest.fixture
async def database(storage_target: Path | str, clock: ManualClock) -> AsyncIterator[Database]:
    """A migrated, empty database."""
    async with Database.open(storage_target, clock=clock) as opened:
        yield opened


@pytest.fixture
def quota_settings() -> QuotaSettings:
    """Quota defaults: 100 units a day per guild, 20 per member, 2 jobs at once, 10 in DMs."""
    return QuotaSettings(
        units_per_period=100,
        period=Period.DAY,
        member_cap=20,
        member_concurrent=2,
        dm_units_per_period=10,
        reservation_ttl=600,
    )


@pytest.fixture
def ledger(database: Database, quota_settings: QuotaSettings, clock: ManualClock) -> QuotaLedger:
    """The quota ledger over the test database."""
    return QuotaLedger(database, quota_settings, clock)


@pytest.fixture
def jobs(database: Database, clock: ManualClock) -> JobRepository:
    """The job repository over the test database."""
    return JobRepository(database, clock)


@pytest.fixture
def tracks(database: Database, clock: ManualClock) -> TrackRepository:
    """The track repository over the test database."""
    return TrackRepository(database, clock)
