"""What one job costs the job worker, and how fast quota is reserved, on SQLite and PostgreSQL.

Run: ``PYTHONPATH=. .venv/bin/python bench/scale.py`` (about eight minutes on 2 cores), or
``--quick``; ``--parts cpu,quota,workers,takeover`` (or ``c``/``q``/``w``/``t``) to choose.
For (cpu) while working on the worker: ``--storage sqlite|postgresql`` runs one backend only
(and no baseline), ``--jobs N`` sets the count, and ``--profile DIR`` runs the job worker
under cProfile (timed by its main thread's CPU time) and writes its profile to DIR (the
figures then include its overhead).

(cpu) CPU per job. The real bot runs as its own process (``python -m bot``, configured by
      environment only, with its job worker process) against the local Discord (in this
      process) and the local Soundverse (its own process at the lowest priority), once with
      its database in SQLite and once in PostgreSQL (a throwaway server, ``STORAGE_URL``).
      `/song` arrives at a steady rate the worker keeps up with; the job worker's CPU time
      (user + system, from /proc/<pid>/stat, every thread) is read just before the first job
      and once the last one is delivered and the bot has gone quiet (its last card edits and
      bookkeeping done), and divided by the jobs delivered. The bot process's CPU per job is
      shown for context. The baseline is a naive discord.py + aiohttp bot in one process,
      streaming and posting each job with no database (it edits its response on every event),
      under the same load. The floor is the same one-process bot making only this bot's
      requests for a job (`_baselines.py lean`: the same edits, downloads and post, nothing
      else): what those requests cost in discord.py and aiohttp alone. Every job is checked
      to be delivered exactly once: one result message per interaction, every job done,
      every reservation committed once.
(quota) Reservations per second: reserve + commit of 1 unit through `QuotaLedger`, with 1 and
      4 connections (a `Database` each, as separate processes would have), on one SQLite file
      and on one PostgreSQL database; the limit is half the attempts, so refusals run too and
      the number granted shows whether it held. The baseline is bench/quota.py's naive
      read-then-insert (a fresh SQLite connection per attempt, no transaction).
(workers) Jobs per second with 1, 2 and 4 shared job workers (JOBS_WORKER=shared) on one
      throwaway PostgreSQL server (a fresh database each): the bot (``python -m bot``) and
      each worker (``python -m bot worker``, JOBS_WORKER_PRIORITY=normal) run as their own
      processes with the same environment, the local Soundverse as its own process (lowest
      priority, as in bench/jobs.py), the local Discord in this process. `/song` is sent
      whenever fewer than `workers_backlog` jobs are undelivered, so work always waits; quota
      and JOBS_GUILD_CONCURRENCY are unlimited (`bot_environment`), so only the workers (and
      what they share) limit. Time scale 0.01 (a job streams for 0.22 s instead of 22 s) and
      5 s takes, the shortest `/song` allows: a job is short and its cost is the pipeline's
      own work, not waiting on Soundverse nor moving big files. Jobs delivered are counted in
      a window that starts a warm-up after the first delivery (the local Soundverse renders
      its first tunes meanwhile); over the window, each process's CPU (/proc, all threads;
      PostgreSQL as its postmaster and backends), how often the database's write lock (the
      advisory lock every write transaction takes) was held and how many sessions waited
      for it (pg_locks, every 50 ms), and the transactions committed per job delivered. The
      baseline is 1 worker. After the window the load stops, every job is awaited and
      checked: each result posted once, every job done, every reservation committed once,
      and the local Soundverse asked for each generation once (its counters).
(takeover) Two shared workers with JOBS_LEASE=3 s: a `/song` (time scale 0.3, so it streams
      for 6.6 s) is started; once a worker streams it, after a delay that lands the kill at
      a different point of the heartbeat each run, the worker named in `jobs.lease_owner`
      (host:pid:random) gets SIGKILL. Timed from the kill: until `lease_owner` names the
      other worker (polled every 10 ms), and until the result message. The killed worker's
      lease left at the kill is read from `lease_expires_at`. Each job must be delivered
      once, the local Soundverse asked to generate it once (its counters: the takeover
      resumes through status), its job done and its reservation committed once. A new
      worker replaces the killed one before the next run.

Prints one Markdown table per part, with the target and whether it was met.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
from _process import BotProcess, SoundverseProcess, bot_environment, children
from _stack import API_KEY, ProbedDiscord

from bench._sampling import WhileInside
from bench.jobs import USERS, collector_paused, on_schedule, wait_for, wait_for_quiet
from bench.quota import bench_naive, generous_settings
from bot.config import Period
from bot.storage import Database, QuotaExceeded, QuotaLedger, QuotaPolicy
from bot.storage.clock import from_stored
from sandbox.postgres import PostgresServer, PostgresUnavailable

BENCH = Path(__file__).resolve().parent
REAL_BOT = ("-m", "bot")
PROFILED_BOT = (str(BENCH / "_profiled_bot.py"),)
NAIVE_BOT = (str(BENCH / "_baselines.py"), "naive")
LEAN_BOT = (str(BENCH / "_baselines.py"), "lean")
CPU_TARGET_MS = 5.0
TICKS = os.sysconf("SC_CLK_TCK")
GUILD = 1


@dataclass(frozen=True)
class Plan:
    """How much load each part applies; `--quick` shrinks the counts."""

    jobs: int = 1500
    rate: float = 20.0
    time_scale: float = 0.1
    take_seconds: int = 5
    results_timeout: float = 120.0
    quota_attempts: int = 2000
    quota_connections: tuple[int, ...] = (1, 4)
    worker_counts: tuple[int, ...] = (1, 2, 4)
    workers_time_scale: float = 0.01
    workers_take_seconds: int = 5
    workers_backlog: int = 60
    workers_warmup: float = 5.0
    workers_window: float = 15.0
    takeover_runs: int = 5
    takeover_lease: float = 3.0
    takeover_time_scale: float = 0.3


QUICK = Plan(jobs=200, quota_attempts=400, workers_warmup=4.0, workers_window=6.0, takeover_runs=2)


# --- figures ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` (all its threads), from /proc/<pid>/stat."""
    return stat_cpu(Path(f"/proc/{pid}/stat"))


def stat_cpu(path: Path) -> float:
    """User + system CPU seconds from a /proc `stat` file."""
    text = path.read_text()
    fields = text[text.rindex(")") + 2 :].split()
    # utime and stime are the 14th and 15th fields; the split starts at the 3rd.
    return (int(fields[11]) + int(fields[12])) / TICKS


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of `pid`'s main thread (its event loop) and of its other threads."""
    found = {"main": 0.0, "others": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found["main" if task.name == str(pid) else "others"] += stat_cpu(task / "stat")
    return found


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def print_table(lines: list[str]) -> None:
    print("\n".join(lines), end="\n\n", flush=True)


# --- (cpu) worker CPU per job ----------------------------------------------------------------


@dataclass
class CpuFigures:
    label: str
    jobs: int
    delivered: int
    worker_cpu: float | None  # seconds; None for a bot without a worker
    bot_cpu: float
    seconds: float
    requests: int
    exactly_once: str


@contextlib.asynccontextmanager
async def postgres_database(name: str) -> AsyncIterator[str]:
    """A fresh database on a throwaway PostgreSQL server; its URL."""
    server = await asyncio.to_thread(PostgresServer.start)
    try:
        connection = await asyncpg.connect(server.url())
        try:
            await connection.execute(f"CREATE DATABASE {name}")
        finally:
            await connection.close()
        yield server.url(name)
    finally:
        await asyncio.to_thread(server.stop)


def delivered_once(discord: ProbedDiscord, ids: Sequence[str]) -> tuple[int, int]:
    """How many interactions got exactly one result message, and how many got more than one."""
    posts: Counter[str] = Counter()
    for record in discord.rest_requests():
        parts = record.path.split("/")
        # POST /api/v10/webhooks/{application}/{token}: a follow-up, how results are posted
        is_result = record.method == "POST" and len(parts) == 6 and parts[3] == "webhooks"
        if is_result and record.status == 200:
            posts[parts[5]] += 1
    counts = [posts[discord.tokens.get(i, "")] for i in ids]
    return sum(1 for count in counts if count == 1), sum(1 for count in counts if count > 1)


async def stored_outcomes(target: Path | str) -> tuple[Counter[str], Counter[str], int]:
    """The jobs by state, the reservations by state, and how many reservations were committed
    more than once in the ledger."""
    async with Database.open(target, migrate=False) as database, database.snapshot() as read:
        jobs = Counter(
            {
                row[0]: int(row[1])
                for row in await read.fetch_all("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            }
        )
        reservations = Counter(
            {
                row[0]: int(row[1])
                for row in await read.fetch_all(
                    "SELECT state, COUNT(*) FROM quota_reservations GROUP BY state"
                )
            }
        )
        doubled = await read.fetch_value(
            "SELECT COUNT(*) FROM (SELECT reservation_id FROM quota_ledger WHERE event = ?"
            " GROUP BY reservation_id HAVING COUNT(*) > 1) AS twice",
            ("commit",),
        )
    return jobs, reservations, int(doubled or 0)


async def measure_cpu(
    label: str,
    args: Sequence[str],
    plan: Plan,
    data_dir: Path,
    storage_url: str | None = None,
    profile: Path | None = None,
) -> CpuFigures:
    """`plan.jobs` songs at `plan.rate` per second; CPU of the bot and its worker per job."""
    soundverse = SoundverseProcess(plan.time_scale, API_KEY)
    discord = ProbedDiscord()
    await soundverse.start()
    await discord.start()
    environment = bot_environment(discord, soundverse.url, data_dir)
    if storage_url is not None:
        environment["STORAGE_URL"] = storage_url
    if profile is not None:
        environment["BENCH_WORKER_PROFILE"] = str(profile)
    bot = BotProcess(args, environment, data_dir)
    try:
        await bot.start()
        runs_worker = args not in (NAIVE_BOT, LEAN_BOT)
        worker = None
        if runs_worker:
            await wait_for(lambda: bool(children(bot.pid)), 30.0)
            worker = children(bot.pid)[0]
            await asyncio.sleep(1.0)  # the worker picks up nothing and settles after its start
        worker_before = cpu_seconds(worker) if worker else 0.0
        threads_before = thread_cpu(worker) if worker else {}
        bot_before = cpu_seconds(bot.pid)
        began = time.monotonic()
        ids: list[str] = []
        async for index in on_schedule(plan.jobs, plan.rate):
            handle = await discord.local.slash(
                "song",
                user=USERS[index % len(USERS)],
                prompt=f"scale {index}",
                duration=plan.take_seconds,
            )
            ids.append(handle.id)
        await wait_for(lambda: all(discord.ended(i) for i in ids), plan.results_timeout)
        await wait_for_quiet(discord)
        worker_cpu = cpu_seconds(worker) - worker_before if worker else None
        if worker:
            split = {
                name: f"{spent - threads_before[name]:.2f} s"
                for name, spent in thread_cpu(worker).items()
            }
            print(f"  {label}: the worker's CPU by thread {split}", file=sys.stderr, flush=True)
        bot_cpu = cpu_seconds(bot.pid) - bot_before
        seconds = time.monotonic() - began
        delivered = sum(1 for i in ids if i in discord.results)
        once, doubled = delivered_once(discord, ids)
        requests = len(discord.rest_requests())
    finally:
        await bot.stop()
        await discord.stop()
        await soundverse.stop()
    checks = [f"{once}/{len(ids)} results posted once, {doubled} twice or more"]
    if runs_worker:
        jobs, reservations, commits_twice = await stored_outcomes(
            storage_url if storage_url is not None else data_dir / "bot.db"
        )
        checks.append(
            f"jobs {dict(jobs)}, reservations {dict(reservations)}, {commits_twice} committed twice"
        )
        all_once = (
            once == len(ids)
            and jobs == Counter({"done": len(ids)})
            and reservations == Counter({"committed": len(ids)})
            and commits_twice == 0
        )
    else:
        all_once = once == len(ids)
    verdict = ("yes: " if all_once else "**NO**: ") + "; ".join(checks)
    return CpuFigures(label, len(ids), delivered, worker_cpu, bot_cpu, seconds, requests, verdict)


def per_job_ms(cpu: float | None, jobs: int) -> str:
    return "—" if cpu is None else f"{cpu * 1000 / max(1, jobs):.1f} ms"


def cpu_table(rows: list[CpuFigures], plan: Plan) -> list[str]:
    lines = [
        f"(cpu) CPU per job: {plan.jobs:,} `/song` at {plan.rate:.0f}/s, time scale "
        f"{plan.time_scale}, {plan.take_seconds} s takes; CPU from just before the first job "
        "until the last was delivered and the bot went quiet",
        "",
        "| Bot | Delivered | Job worker CPU per job | Bot process CPU per job "
        "| Discord requests per job | Wall time "
        "| Target: worker ≤ 5 ms per job on SQLite | Met | Delivered exactly once |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for row in rows:
        judged = "SQLite" in row.label
        per_job = (row.worker_cpu or 0.0) * 1000 / max(1, row.delivered)
        lines.append(
            f"| {row.label} | {row.delivered:,}/{row.jobs:,} "
            f"| {per_job_ms(row.worker_cpu, row.delivered)} "
            f"| {per_job_ms(row.bot_cpu, row.delivered)} "
            f"| {row.requests / max(1, row.jobs):.1f} | {row.seconds:.0f} s "
            f"| {'≤ 5 ms' if judged else ('baseline' if row.worker_cpu is None else '—')} "
            f"| {met(per_job <= CPU_TARGET_MS and row.delivered == row.jobs) if judged else '—'} "
            f"| {row.exactly_once} |"
        )
    return lines


async def run_cpu(plan: Plan, workdir: Path, profile: Path | None, storage: str) -> list[str]:
    args = PROFILED_BOT if profile is not None else REAL_BOT
    if profile is not None:
        await asyncio.to_thread(profile.mkdir, parents=True, exist_ok=True)
    rows = []
    if storage in ("sqlite", "both"):
        rows.append(
            await measure_cpu(
                "this bot, SQLite",
                args,
                plan,
                workdir / "cpu-sqlite",
                profile=profile / "worker-sqlite.prof" if profile else None,
            )
        )
    if storage == "sqlite":
        return cpu_table(rows, plan)
    try:
        async with postgres_database("scale_cpu") as url:
            rows.append(
                await measure_cpu(
                    "this bot, PostgreSQL",
                    args,
                    plan,
                    workdir / "cpu-postgres",
                    storage_url=url,
                    profile=profile / "worker-postgres.prof" if profile else None,
                )
            )
    except PostgresUnavailable as missing:
        print(f"PostgreSQL rows skipped: {missing}", flush=True)
    if storage == "postgresql":
        return cpu_table(rows, plan)
    rows.append(
        await measure_cpu(
            "naive discord.py bot, no database (baseline)", NAIVE_BOT, plan, workdir / "cpu-naive"
        )
    )
    rows.append(
        await measure_cpu(
            "this bot's requests alone, no database (floor)", LEAN_BOT, plan, workdir / "cpu-lean"
        )
    )
    return cpu_table(rows, plan)


# --- (quota) reservations per second ---------------------------------------------------------


@dataclass
class QuotaFigures:
    label: str
    connections: int
    attempts: int
    limit: int
    granted: int
    stored: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.attempts / self.seconds


async def measure_ledger(
    label: str, target: Path | str, connections: int, attempts: int
) -> QuotaFigures:
    """`attempts` reserve+commit over `connections` databases, each attempt a new member."""
    limit = attempts // 2
    settings = generous_settings(limit)
    async with contextlib.AsyncExitStack() as stack:
        # The first opening migrates; the others find the schema done.
        databases = [
            await stack.enter_async_context(Database.open(target, pool_size=1))
            for _ in range(connections)
        ]
        await QuotaLedger(databases[0], settings).set_policy(
            QuotaPolicy(
                units_per_period=limit, period=Period.DAY, member_cap=limit, member_concurrent=1000
            ),
            guild_id=GUILD,
        )
        next_user = iter(range(attempts))
        granted = 0
        errors = 0

        async def reserver(ledger: QuotaLedger) -> None:
            nonlocal granted, errors
            for user_id in next_user:
                try:
                    reservation = await ledger.reserve(GUILD, user_id, "music", 1)
                    await ledger.commit(reservation.id)
                except QuotaExceeded:
                    continue
                except (sqlite3.OperationalError, asyncpg.PostgresError):
                    errors += 1
                    continue
                granted += 1

        began = time.perf_counter()
        await asyncio.gather(*(reserver(QuotaLedger(db, settings)) for db in databases))
        seconds = time.perf_counter() - began
        async with databases[0].snapshot() as read:
            stored = await read.fetch_value(
                "SELECT COUNT(*) FROM quota_reservations WHERE state = ?", ("committed",)
            )
    return QuotaFigures(label, connections, attempts, limit, granted, int(stored), errors, seconds)


def quota_table(rows: list[QuotaFigures], plan: Plan) -> list[str]:
    lines = [
        f"(quota) Reservations per second: {plan.quota_attempts:,} attempts per row, each a "
        "reserve + commit of 1 unit (a new member each), against a guild limit of half of them "
        "(so half the attempts are a refused reserve)",
        "",
        "| Implementation | Storage | Connections | Attempts/s | vs naive, SQLite, same "
        "connections | Granted (stored) / limit | Errors | Target: never over the limit | Met |",
        "|---|---|---:|---:|---:|---|---:|---|---|",
    ]
    naive = {row.connections: row for row in rows if row.label.startswith("naive")}
    for row in rows:
        storage = "PostgreSQL" if "PostgreSQL" in row.label else "SQLite"
        implementation = "naive (baseline)" if row.label.startswith("naive") else "QuotaLedger"
        base = naive.get(row.connections)
        ratio = f"{row.per_second / base.per_second:.2f}×" if base is not None else "—"
        over = max(row.granted, row.stored) - row.limit
        lines.append(
            f"| {implementation} | {storage} | {row.connections} | {row.per_second:,.0f} "
            f"| {ratio} | {row.granted} ({row.stored}) / {row.limit}"
            f"{f' (**{over} over**)' if over > 0 else ''} | {row.errors} | ≤ {row.limit} "
            f"| {'—' if implementation.startswith('naive') else met(over <= 0)} |"
        )
    return lines


async def run_quota(plan: Plan, workdir: Path) -> list[str]:
    rows: list[QuotaFigures] = []
    for connections in plan.quota_connections:
        result = await bench_naive(workdir, connections, plan.quota_attempts)
        rows.append(
            QuotaFigures(
                "naive",
                connections,
                result.attempts,
                result.limit,
                result.tally.granted,
                result.tally.granted,
                result.tally.errors,
                result.seconds,
            )
        )
        rows.append(
            await measure_ledger(
                "SQLite", workdir / f"quota-{connections}.db", connections, plan.quota_attempts
            )
        )
    try:
        server = await asyncio.to_thread(PostgresServer.start)
    except PostgresUnavailable as missing:
        print(f"PostgreSQL rows skipped: {missing}", flush=True)
        return quota_table(rows, plan)
    try:
        admin = await asyncpg.connect(server.url())
        try:
            for connections in plan.quota_connections:
                await admin.execute(f"CREATE DATABASE quota_{connections}")
        finally:
            await admin.close()
        for connections in plan.quota_connections:
            rows.append(
                await measure_ledger(
                    "PostgreSQL",
                    server.url(f"quota_{connections}"),
                    connections,
                    plan.quota_attempts,
                )
            )
    finally:
        await asyncio.to_thread(server.stop)
    return quota_table(rows, plan)


# --- shared workers: the stack ---------------------------------------------------------------


SONG_PATH = "/v5/generate/song"
WORKER = ("-m", "bot", "worker")
WORKER_READY = "takes shared jobs"
SCALING_TARGET = 1.7
DEFAULT_LEASE = 30.0
TAKEOVER_SLACK = 1.0
TAKEOVER_TAKE_SECONDS = 5
BENCH_PROCESS = "local Discord (this process)"


def shared_environment(
    discord: ProbedDiscord, soundverse_url: str, data_dir: Path, storage_url: str, lease: float
) -> dict[str, str]:
    """The bot's settings with jobs in shared workers at normal priority over `storage_url`;
    quota and the guild's concurrency stay unlimited (`bot_environment`), so that nothing
    but the workers holds a job back. The bot and every worker get the same."""
    environment = bot_environment(discord, soundverse_url, data_dir)
    environment.update(
        {
            "STORAGE_URL": storage_url,
            "JOBS_WORKER": "shared",
            "JOBS_WORKER_PRIORITY": "normal",
            "JOBS_LEASE": str(lease),
        }
    )
    return environment


@dataclass
class SharedStack:
    """The bot, its shared workers, the local Soundverse (own process) and the local Discord."""

    discord: ProbedDiscord
    soundverse: SoundverseProcess
    bot: BotProcess
    environment: dict[str, str]
    data_dir: Path
    workers: list[BotProcess]
    started: int = 0

    async def add_worker(self) -> BotProcess:
        """One more `python -m bot worker`, returned once it takes jobs."""
        self.started += 1
        worker = BotProcess(
            WORKER,
            self.environment,
            self.data_dir / f"worker-{self.started}",
            ready_marker=WORKER_READY,
        )
        await worker.start()
        self.workers.append(worker)
        return worker

    async def soundverse_posts(self) -> int:
        """How many `/song` generations the local Soundverse was asked for (its counters)."""
        address = f"{self.soundverse.url.rstrip('/')}/_sandbox/counters"
        async with aiohttp.ClientSession() as session, session.get(address) as response:
            body = await response.json()
        return int(body["posts"].get(SONG_PATH, 0))


@contextlib.asynccontextmanager
async def shared_stack(
    time_scale: float, data_dir: Path, storage_url: str, lease: float, workers: int
) -> AsyncIterator[SharedStack]:
    """Start everything (the bot first: it migrates the database); stop all, whatever happens."""
    soundverse = SoundverseProcess(time_scale, API_KEY)
    discord = ProbedDiscord()
    await soundverse.start()
    await discord.start()
    environment = shared_environment(discord, soundverse.url, data_dir, storage_url, lease)
    bot = BotProcess(REAL_BOT, environment, data_dir)
    stack = SharedStack(discord, soundverse, bot, environment, data_dir, [])
    try:
        await bot.start()
        for _ in range(workers):
            await stack.add_worker()
        yield stack
    finally:
        await asyncio.gather(*(worker.stop() for worker in stack.workers))
        await bot.stop()
        await discord.stop()
        await soundverse.stop()


async def fresh_database(server: PostgresServer, name: str) -> str:
    """A new database on `server`; its URL."""
    connection = await asyncpg.connect(server.url())
    try:
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return server.url(name)


def postgres_pids(server: PostgresServer) -> list[int]:
    """The server's processes: the postmaster (first line of postmaster.pid) and its children,
    the backends of every connection among them."""
    postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    return [postmaster, *children(postmaster)]


def cpu_by_pid(groups: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """CPU seconds of every process of each group, by pid (a process gone is left out)."""
    found: dict[str, dict[int, float]] = {}
    for name, pids in groups.items():
        found[name] = {}
        for pid in pids:
            with contextlib.suppress(OSError):
                found[name][pid] = cpu_seconds(pid)
    return found


def cpu_between(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """CPU seconds each group spent between two readings (a process started in between counts
    from zero; one that ended in between is lost: PostgreSQL's backends are pooled, so few)."""
    return {
        name: sum(spent - before.get(name, {}).get(pid, 0.0) for pid, spent in pids.items())
        for name, pids in after.items()
    }


def result_posts(discord: ProbedDiscord, interaction_id: str) -> int:
    """How many result messages the interaction got (follow-ups answered 200)."""
    token = discord.tokens.get(interaction_id, "")
    count = 0
    for record in discord.rest_requests():
        parts = record.path.split("/")
        # POST /api/v10/webhooks/{application}/{token}: a follow-up, how results are posted
        if record.method == "POST" and record.status == 200 and parts[3:4] == ["webhooks"]:
            count += len(parts) == 6 and parts[5] == token
    return count


# --- (workers) jobs per second with 1, 2 and 4 shared workers --------------------------------


@dataclass
class WorkerFigures:
    workers: int
    sent: int
    delivered: int
    in_window: int
    window: float
    cores: dict[str, float]  # CPU seconds per second of the window, by process
    jobs_by_worker: str
    posts: int
    lock_held: float  # share of samples in which a session held the write lock
    lock_waiting: float  # sessions waiting for it, on average
    commits_per_job: float  # transactions committed in the window per job delivered in it
    exactly_once: bool
    checks: str

    @property
    def per_second(self) -> float:
        return self.in_window / self.window


async def keep_backlog(
    discord: ProbedDiscord, backlog: int, take_seconds: int, ids: list[str], stop: asyncio.Event
) -> None:
    """Send `/song` whenever fewer than `backlog` jobs are undelivered, until `stop`."""
    index = 0
    while not stop.is_set():
        if discord.in_flight >= backlog:
            await asyncio.sleep(0.005)
            continue
        handle = await discord.local.slash(
            "song",
            user=USERS[index % len(USERS)],
            prompt=f"workers {index}",
            duration=take_seconds,
        )
        ids.append(handle.id)
        index += 1


class WriteLockSampler(WhileInside):
    """How busy the database's write lock is (the advisory lock every write transaction of
    every process takes, one at a time): every 50 ms, whether some session holds it and how
    many wait for it, from pg_locks."""

    def __init__(self, url: str, period: float = 0.05) -> None:
        super().__init__()
        self.url = url
        self.period = period
        self.held = 0
        self.waiting = 0
        self.samples = 0

    async def _run(self) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            while True:
                row = await connection.fetchrow(
                    "SELECT COUNT(*) FILTER (WHERE granted) AS held,"
                    " COUNT(*) FILTER (WHERE NOT granted) AS waiting"
                    " FROM pg_locks WHERE locktype = 'advisory'"
                )
                assert row is not None
                self.held += int(row["held"] > 0)
                self.waiting += int(row["waiting"])
                self.samples += 1
                await asyncio.sleep(self.period)
        finally:
            await connection.close()

    @property
    def held_share(self) -> float:
        return self.held / max(1, self.samples)

    @property
    def mean_waiting(self) -> float:
        return self.waiting / max(1, self.samples)


async def committed_transactions(url: str) -> int:
    """Transactions committed in the database so far (pg_stat_database)."""
    connection = await asyncpg.connect(url)
    try:
        value = await connection.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await connection.close()
    return int(value)


async def jobs_by_owner(url: str) -> str:
    """How many jobs each worker ended up holding (the lease owner stays on a finished job),
    and how many have no owner left."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT lease_owner, COUNT(*) FROM jobs GROUP BY lease_owner")
    finally:
        await connection.close()
    held = sorted((int(row[1]) for row in rows if row[0] is not None), reverse=True)
    unowned = sum(int(row[1]) for row in rows if row[0] is None)
    return " + ".join(map(str, held)) + (f" (and {unowned} with no owner)" if unowned else "")


async def measure_workers(
    count: int, plan: Plan, data_dir: Path, server: PostgresServer
) -> WorkerFigures:
    """Keep `plan.workers_backlog` jobs undelivered; jobs delivered per second over a window
    after a warm-up, and the CPU every process used in that window."""
    url = await fresh_database(server, f"workers_{count}")
    async with shared_stack(plan.workers_time_scale, data_dir, url, DEFAULT_LEASE, count) as stack:
        discord = stack.discord
        groups = {
            **{f"worker {n + 1}": [w.pid] for n, w in enumerate(stack.workers)},
            "bot": [stack.bot.pid],
            BENCH_PROCESS: [os.getpid()],
            "local Soundverse": [stack.soundverse.pid],
        }
        ids: list[str] = []
        stop = asyncio.Event()
        with collector_paused():
            driver = asyncio.create_task(
                keep_backlog(discord, plan.workers_backlog, plan.workers_take_seconds, ids, stop)
            )
            try:
                # The warm-up counts from the first delivery: the first burst of jobs takes
                # the workers a few seconds (claims, first cards) before any is delivered.
                if not await wait_for(lambda: bool(discord.results), 30.0):
                    raise RuntimeError(
                        "no job delivered; the first worker said:\n" + stack.workers[0].output()
                    )
                await asyncio.sleep(plan.workers_warmup)
                commits_before = await committed_transactions(url)
                before = cpu_by_pid({**groups, "PostgreSQL": postgres_pids(server)})
                began = time.monotonic()
                async with WriteLockSampler(url) as lock:
                    await asyncio.sleep(plan.workers_window)
                ended = time.monotonic()
                after = cpu_by_pid({**groups, "PostgreSQL": postgres_pids(server)})
                commits = await committed_transactions(url) - commits_before
            finally:
                stop.set()
                await driver
        seconds = ended - began
        cores = {name: spent / seconds for name, spent in cpu_between(before, after).items()}
        in_window = sum(1 for at in discord.results.values() if began <= at < ended)
        await wait_for(lambda: all(discord.ended(i) for i in ids), plan.results_timeout)
        # The last cards' final edits come up to JOBS_PROGRESS_INTERVAL (2 s) after their
        # results: a worker stopped before then would give those jobs back.
        await wait_for_quiet(discord, quiet=2.5, timeout=20.0)
        delivered = sum(1 for i in ids if i in discord.results)
        once, doubled = delivered_once(discord, ids)
        posts = await stack.soundverse_posts()
    jobs, reservations, commits_twice = await stored_outcomes(url)
    exactly_once = (
        once == len(ids)
        and jobs == Counter({"done": len(ids)})
        and reservations == Counter({"committed": len(ids)})
        and commits_twice == 0
        and posts == len(ids)
    )
    checks = (
        f"{once:,}/{len(ids):,} results posted once, {doubled} twice or more; "
        f"jobs {dict(jobs)}; reservations {dict(reservations)}, {commits_twice} committed twice; "
        f"{posts:,} generations asked of Soundverse"
    )
    return WorkerFigures(
        workers=count,
        sent=len(ids),
        delivered=delivered,
        in_window=in_window,
        window=seconds,
        cores=cores,
        jobs_by_worker=await jobs_by_owner(url),
        posts=posts,
        lock_held=lock.held_share,
        lock_waiting=lock.mean_waiting,
        commits_per_job=commits / max(1, in_window),
        exactly_once=exactly_once,
        checks=checks,
    )


def workers_table(rows: list[WorkerFigures], plan: Plan) -> list[str]:
    lines = [
        f"(workers) Jobs per second with shared workers on PostgreSQL: `/song` kept "
        f"{plan.workers_backlog} undelivered at all times, time scale "
        f"{plan.workers_time_scale} (a job streams for "
        f"{22 * plan.workers_time_scale:.2f} s), {plan.workers_take_seconds} s takes; jobs "
        f"delivered in a {plan.workers_window:.0f} s window after {plan.workers_warmup:.0f} s "
        "of warm-up; CPU of each process over the window, in cores (2 in all)",
        "",
        "| Shared workers | Jobs delivered in window | Jobs/s | vs 1 worker "
        "| CPU: each worker | CPU: bot | CPU: local Discord (benchmark) | CPU: local Soundverse "
        "| CPU: PostgreSQL | CPU: total | Write lock held | Waiting for it (mean) "
        "| Transactions per job | Jobs per worker (whole run) "
        "| Target: 2 workers ≥ 1.7× one | Met | Delivered exactly once |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|",
    ]
    base = next((row for row in rows if row.workers == 1), None)
    for row in rows:
        ratio = row.per_second / base.per_second if base is not None and base.per_second else 0.0
        workers = ", ".join(
            f"{spent:.2f}" for name, spent in row.cores.items() if name.startswith("worker")
        )
        judged = row.workers == 2 and base is not None
        lines.append(
            f"| {row.workers} | {row.in_window:,} | {row.per_second:.1f} "
            f"| {'baseline' if row is base else f'{ratio:.2f}×'} | {workers} "
            f"| {row.cores['bot']:.2f} | {row.cores[BENCH_PROCESS]:.2f} "
            f"| {row.cores['local Soundverse']:.2f} | {row.cores['PostgreSQL']:.2f} "
            f"| {sum(row.cores.values()):.2f} | {row.lock_held:.0%} | {row.lock_waiting:.1f} "
            f"| {row.commits_per_job:.1f} "
            f"| {row.jobs_by_worker} "
            f"| {'≥ 1.70×' if judged else '—'} "
            f"| {met(ratio >= SCALING_TARGET) if judged else '—'} "
            f"| {'yes' if row.exactly_once else '**NO**'}: {row.checks} |"
        )
    return lines


async def run_workers(plan: Plan, workdir: Path) -> list[str]:
    try:
        server = await asyncio.to_thread(PostgresServer.start)
    except PostgresUnavailable as missing:
        return [f"(workers) skipped: {missing}"]
    rows = []
    try:
        for count in plan.worker_counts:
            rows.append(await measure_workers(count, plan, workdir / f"workers-{count}", server))
            print(
                f"  {count} worker(s): {rows[-1].per_second:.1f} jobs/s",
                file=sys.stderr,
                flush=True,
            )
    finally:
        await asyncio.to_thread(server.stop)
    return workers_table(rows, plan)


# --- (takeover) a killed worker's job taken over ---------------------------------------------


@dataclass
class TakeoverFigures:
    run: int
    lease_left: float  # seconds the killed worker's lease still ran at the kill
    claimed: float | None  # seconds from the kill to the other worker's claim
    delivered: float | None  # seconds from the kill to the result message
    results: int
    generations: int
    state: str


async def poll_row(
    connection: asyncpg.Connection,
    query: str,
    *args: object,
    timeout: float = 30.0,  # noqa: ASYNC109
) -> asyncpg.Record | None:
    """The first row `query` returns within `timeout` seconds, polled every 10 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await connection.fetchrow(query, *args)
        if row is not None:
            return row
        await asyncio.sleep(0.01)
    return None


async def one_takeover(
    stack: SharedStack, connection: asyncpg.Connection, plan: Plan, run: int, last_job: int
) -> tuple[TakeoverFigures, int, str]:
    """Start a job, kill -9 the worker streaming it, time the takeover and the delivery."""
    discord = stack.discord
    generations_before = await stack.soundverse_posts()
    handle = await discord.local.slash(
        "song",
        user=USERS[run % len(USERS)],
        prompt=f"takeover {run}",
        duration=TAKEOVER_TAKE_SECONDS,
    )
    streaming = await poll_row(
        connection,
        "SELECT id FROM jobs WHERE id > $1 AND state = 'streaming' AND lease_owner IS NOT NULL",
        last_job,
    )
    if streaming is None:
        raise RuntimeError("no worker streamed the job")
    job_id = int(streaming["id"])
    # Kills land at different points of the heartbeat (renewed every third of the lease).
    await asyncio.sleep(0.3 + (run % 4) * plan.takeover_lease / 12)
    owner = str(await connection.fetchval("SELECT lease_owner FROM jobs WHERE id = $1", job_id))
    pid = int(owner.split(":")[1])
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    killed_wall = datetime.now(UTC)
    # Read after the kill: a renewal the worker had under way either committed or never will.
    expires = await connection.fetchval("SELECT lease_expires_at FROM jobs WHERE id = $1", job_id)
    lease_left = (from_stored(str(expires)) - killed_wall).total_seconds()
    taken = await poll_row(
        connection,
        "SELECT lease_owner FROM jobs WHERE id = $1 AND lease_owner IS DISTINCT FROM $2",
        job_id,
        owner,
        timeout=plan.takeover_lease + 10.0,
    )
    claimed = time.monotonic() - killed_at if taken is not None else None
    await wait_for(lambda: handle.id in discord.results, 60.0)
    delivered_at = discord.results.get(handle.id)
    await wait_for_quiet(discord)
    state = str(await connection.fetchval("SELECT state FROM jobs WHERE id = $1", job_id))
    generations = await stack.soundverse_posts() - generations_before
    # The killed worker is replaced, so that two run again for the next job.
    killed = next(worker for worker in stack.workers if worker.pid == pid)
    await killed.stop()
    stack.workers.remove(killed)
    await stack.add_worker()
    figures = TakeoverFigures(
        run=run + 1,
        lease_left=lease_left,
        claimed=claimed,
        delivered=None if delivered_at is None else delivered_at - killed_at,
        results=result_posts(discord, handle.id),
        generations=generations,
        state=state,
    )
    return figures, job_id, handle.id


def seconds_text(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f} s"


def takeover_table(
    rows: list[TakeoverFigures], plan: Plan, checks: str, all_once: bool
) -> list[str]:
    limit = plan.takeover_lease + TAKEOVER_SLACK
    lines = [
        f"(takeover) Two shared workers, JOBS_LEASE={plan.takeover_lease:g} s (renewed every "
        f"{plan.takeover_lease / 3:g} s; the others look for jobs every second); a `/song` at "
        f"time scale {plan.takeover_time_scale} (it streams for "
        f"{22 * plan.takeover_time_scale:.1f} s) is killed with SIGKILL in the worker holding "
        "it, while it streams; times from the kill",
        "",
        "| Run | Lease left at the kill | → claimed by the other worker | → delivered "
        f"| Target: claimed ≤ lease + 1 s ({limit:g} s) | Met | Result messages "
        "| Generations asked of Soundverse | Job |",
        "|---:|---:|---:|---:|---|---|---:|---:|---|",
    ]
    for row in rows:
        ok = row.claimed is not None and row.claimed <= limit
        lines.append(
            f"| {row.run} | {row.lease_left:.2f} s | {seconds_text(row.claimed)} "
            f"| {seconds_text(row.delivered)} | ≤ {limit:g} s | {met(ok)} | {row.results} "
            f"| {row.generations} | {row.state} |"
        )
    claims = [row.claimed for row in rows if row.claimed is not None]
    deliveries = [row.delivered for row in rows if row.delivered is not None]
    if claims and deliveries:
        worst = max(claims) if len(claims) == len(rows) else None
        lines.append(
            f"| median / max | — | {statistics.median(claims):.2f} s / {seconds_text(worst)} "
            f"| {statistics.median(deliveries):.2f} s / {max(deliveries):.2f} s "
            f"| ≤ {limit:g} s | {met(worst is not None and worst <= limit)} "
            f"| {sum(row.results for row in rows)} / {len(rows)} "
            f"| {sum(row.generations for row in rows)} / {len(rows)} | — |"
        )
    lines += ["", f"Delivered exactly once: {'yes' if all_once else '**NO**'}: {checks}"]
    return lines


async def run_takeover(plan: Plan, workdir: Path) -> list[str]:
    try:
        server = await asyncio.to_thread(PostgresServer.start)
    except PostgresUnavailable as missing:
        return [f"(takeover) skipped: {missing}"]
    rows = []
    interactions = []
    try:
        url = await fresh_database(server, "takeover")
        async with shared_stack(
            plan.takeover_time_scale, workdir / "takeover", url, plan.takeover_lease, 2
        ) as stack:
            connection = await asyncpg.connect(url)
            try:
                last_job = 0
                for run in range(plan.takeover_runs):
                    figures, last_job, interaction = await one_takeover(
                        stack, connection, plan, run, last_job
                    )
                    rows.append(figures)
                    interactions.append(interaction)
            finally:
                await connection.close()
            once, doubled = delivered_once(stack.discord, interactions)
        jobs, reservations, commits_twice = await stored_outcomes(url)
    finally:
        await asyncio.to_thread(server.stop)
    runs = len(interactions)
    all_once = (
        once == runs
        and jobs == Counter({"done": runs})
        and reservations == Counter({"committed": runs})
        and commits_twice == 0
        and all(row.generations == 1 for row in rows)
    )
    checks = (
        f"{once}/{runs} results posted once, {doubled} twice or more; jobs {dict(jobs)}; "
        f"reservations {dict(reservations)}, {commits_twice} committed twice"
    )
    return takeover_table(rows, plan, checks, all_once)


# --- the whole run ---------------------------------------------------------------------------


PARTS = {
    "cpu": "c",
    "quota": "q",
    "workers": "w",
    "takeover": "t",
    "c": "c",
    "q": "q",
    "w": "w",
    "t": "t",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short run: 200 jobs, 400 attempts, 6 s windows, 2 takeovers",
    )
    parser.add_argument(
        "--parts",
        default="cpu,quota,workers,takeover",
        help="any of cpu, quota, workers, takeover, comma-separated",
    )
    parser.add_argument("--profile", type=Path, help="write the job worker's cProfile here")
    parser.add_argument(
        "--storage",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="(cpu) the bot's database; the naive baseline runs only with both",
    )
    parser.add_argument("--jobs", type=int, help="(cpu) how many jobs, instead of the plan's")
    arguments = parser.parse_args()
    wanted = set()
    for name in arguments.parts.split(","):
        if name.strip() not in PARTS:
            parser.error(f"unknown part {name!r}; parts: cpu, quota, workers, takeover")
        wanted.add(PARTS[name.strip()])
    plan = QUICK if arguments.quick else Plan()
    if arguments.jobs is not None:
        plan = replace(plan, jobs=arguments.jobs)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"SQLite {sqlite3.sqlite_version}; plan: {'quick' if arguments.quick else 'full'}\n",
        flush=True,
    )
    began = time.monotonic()

    async def run_all(workdir: Path) -> None:
        if "c" in wanted:
            print_table(await run_cpu(plan, workdir, arguments.profile, arguments.storage))
        if "q" in wanted:
            print_table(await run_quota(plan, workdir))
        if "w" in wanted:
            print_table(await run_workers(plan, workdir))
        if "t" in wanted:
            print_table(await run_takeover(plan, workdir))

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as workdir:
        asyncio.run(run_all(Path(workdir)))
    print(f"Finished in {time.monotonic() - began:.0f} s.")


if __name__ == "__main__":
    main()
