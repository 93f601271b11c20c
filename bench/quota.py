"""Quota reservations per second and latency, QuotaLedger against a naive check-then-insert.

Run: `.venv/bin/python bench/quota.py [--attempts N]`. Each run uses fresh temporary files.

Every attempt is one reservation of 1 unit; a granted one is committed at once, so an attempt
is reserve+commit (or a refused reserve). The guild's limit is half the attempts, so both paths
run and the number granted shows whether the limit held.

The naive baseline is what a first version often looks like: a fresh connection per
reservation, autocommit per statement, and a read of the units used followed by an insert
without a transaction around them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite

from bot.config import Period, QuotaSettings
from bot.storage import Database, QuotaExceeded, QuotaLedger, QuotaPolicy
from bot.storage.clock import to_stored
from bot.storage.quota_policy import period_bounds

GUILD = 1
CONCURRENCY_LEVELS = (1, 10, 100)

Attempt = Callable[[int], Awaitable[bool]]


class Tally:
    """Outcomes of the attempts of one row."""

    def __init__(self) -> None:
        self.granted = 0
        self.errors = 0
        self.latencies: list[float] = []


@dataclass(frozen=True)
class Result:
    """The figures of one implementation at one concurrency level."""

    implementation: str
    reservers: int
    attempts: int
    limit: int
    seconds: float
    tally: Tally

    @property
    def per_second(self) -> float:
        return self.attempts / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.tally.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    @property
    def granted_text(self) -> str:
        over = self.tally.granted - self.limit
        suffix = f" (**{over} over**)" if over > 0 else ""
        return f"{self.tally.granted} / {self.limit}{suffix}"


async def run_reservers(attempt: Attempt, reservers: int, attempts: int) -> Tally:
    """Run `attempts` attempts spread over `reservers` concurrent tasks.

    An attempt that fails with "database is locked" (busy timeout exceeded) counts as an error.
    """
    tally = Tally()
    next_user = iter(range(attempts))

    async def reserver() -> None:
        for user_id in next_user:
            started = time.perf_counter()
            try:
                granted = await attempt(user_id)
            except sqlite3.OperationalError:
                tally.errors += 1
            else:
                # Added after the await: `x += await f()` would read x before the await.
                tally.granted += granted
            tally.latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(reserver() for _ in range(reservers)))
    return tally


def generous_settings(limit: int) -> QuotaSettings:
    """Settings whose only binding limit is the guild's units."""
    return QuotaSettings(
        units_per_period=limit,
        member_cap=limit,
        member_concurrent=1000,
        period=Period.DAY,
    )


async def bench_ledger(folder: Path, reservers: int, attempts: int) -> Result:
    """QuotaLedger on one connection: BEGIN IMMEDIATE per reservation, then commit."""
    limit = attempts // 2
    path = folder / f"ledger-{reservers}.db"
    async with Database.open(path) as database:
        ledger = QuotaLedger(database, generous_settings(limit))
        await ledger.set_policy(
            QuotaPolicy(
                units_per_period=limit, period=Period.DAY, member_cap=limit, member_concurrent=1000
            ),
            guild_id=GUILD,
        )

        async def attempt(user_id: int) -> bool:
            try:
                reservation = await ledger.reserve(GUILD, user_id, "music", 1)
            except QuotaExceeded:
                return False
            await ledger.commit(reservation.id)
            return True

        started = time.perf_counter()
        tally = await run_reservers(attempt, reservers, attempts)
        seconds = time.perf_counter() - started
    return Result("QuotaLedger", reservers, attempts, limit, seconds, tally)


async def bench_naive(folder: Path, reservers: int, attempts: int) -> Result:
    """A fresh connection per reservation, autocommit, read-then-insert without a transaction."""
    limit = attempts // 2
    path = folder / f"naive-{reservers}.db"
    async with Database.open(path):
        pass  # creates the same schema as the ledger's
    start, _ = period_bounds(Period.DAY, datetime.now(UTC))

    async def attempt(user_id: int) -> bool:
        now = datetime.now(UTC)
        async with aiosqlite.connect(path, isolation_level=None) as connection:
            await connection.execute("PRAGMA busy_timeout = 5000")
            async with connection.execute(
                "SELECT COALESCE(SUM(units), 0) FROM quota_reservations"
                " WHERE guild_id = ? AND created_at >= ? AND state IN ('reserved', 'committed')",
                (GUILD, to_stored(start)),
            ) as cursor:
                row = await cursor.fetchone()
            used = 0 if row is None else int(row[0])
            if used + 1 > limit:
                return False
            async with connection.execute(
                "INSERT INTO quota_reservations (guild_id, user_id, operation, units, exempt,"
                " state, created_at, expires_at) VALUES (?, ?, 'music', 1, 0, 'reserved', ?, ?)"
                " RETURNING id",
                (GUILD, user_id, to_stored(now), to_stored(now + timedelta(minutes=30))),
            ) as cursor:
                inserted = await cursor.fetchone()
            assert inserted is not None
            await connection.execute(
                "UPDATE quota_reservations SET state = 'committed' WHERE id = ?", (inserted[0],)
            )
        return True

    started = time.perf_counter()
    tally = await run_reservers(attempt, reservers, attempts)
    seconds = time.perf_counter() - started
    return Result("naive", reservers, attempts, limit, seconds, tally)


def table(results: list[Result]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| implementation | concurrent reservers | attempts/s | p50 ms | p99 ms"
        " | granted / limit | locked errors |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.implementation} | {result.reservers} | {result.per_second:,.0f} |"
            f" {result.percentile(0.50):.2f} | {result.percentile(0.99):.2f} |"
            f" {result.granted_text} | {result.tally.errors} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1000, help="attempts per row")
    arguments = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="quota-bench-") as folder:
        for reservers in CONCURRENCY_LEVELS:
            results.append(await bench_ledger(Path(folder), reservers, arguments.attempts))
            results.append(await bench_naive(Path(folder), reservers, arguments.attempts))
    print(
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version},"
        f" {os.cpu_count()} CPUs; {arguments.attempts} attempts per row, each reserve+commit"
        " of 1 unit against a guild limit of half the attempts.\n"
    )
    print(table(results))


if __name__ == "__main__":
    asyncio.run(main())
