"""The job pipeline end to end through the local Discord and the local Soundverse, with baselines.

Run: ``.venv/bin/python bench/jobs.py`` (a few minutes on 2 cores) or ``--quick``.

The stand-ins run in this process; every bot runs as its own process, configured only by
environment variables, in a temporary directory: the real bot (``python -m bot``, with its
job worker), a bare discord.py bot whose ``/song`` only defers, and a naive discord.py +
aiohttp bot that edits its response on every SSE event. Each part compares against its
baseline in the same run:

(a) acknowledgement latency while jobs are in flight and new ``/song`` arrive at a fixed rate,
    from the instant the local Discord has written INTERACTION_CREATE to the gateway to the
    instant the callback POST's bytes reach its REST server's socket (the kernel's receive
    timestamp), against the bare bot;
(b) Discord REST requests and 429s per job, against the naive bot;
(c) resident memory of the bot and its job worker (VmRSS, VmHWM) with 1, 200 and 1,000 jobs
    in flight;
(d) time from the stream's last event to the result message, split into its steps, with takes
    that fit the upload limit and with takes that must be re-encoded.

Prints one Markdown table per part, with the target and whether it was met. In (a) this
process is the measuring instrument, so it holds only the local Discord: the local Soundverse
runs as its own process at the lowest CPU priority (it stands in for a remote service), and
this process's collector is paused during the window. (a) also shows how late this process's
loop ran (harness loop lag).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _process import BotProcess, Memory, SoundverseProcess, bot_environment
from _stack import API_KEY, ProbedDiscord, TimedSoundverse

from bench._cli import run_benchmark
from bench._sampling import WhileInside
from sandbox.discord import Rules

BENCH = Path(__file__).resolve().parent
REAL_BOT = ("-m", "bot")
TIMED_BOT = (str(BENCH / "_timed_bot.py"),)
BARE_BOT = (str(BENCH / "_baselines.py"), "bare")
NAIVE_BOT = (str(BENCH / "_baselines.py"), "naive")
USERS = ("alice", "bob", "carol")
MB = 1000 * 1000
ACK_DEADLINE = 3.0
PEAK_TARGET = 300 * MB
TRANSCODE_LIMIT = 300_000


@dataclass(frozen=True)
class Plan:
    """How much load each part applies; `--quick` shrinks every count and window."""

    rate: float = 100.0
    warmup: float = 3.0
    window: float = 12.0
    ack_time_scale: float = 0.1
    # A p99 of one window is its 12th-worst value and swings by a fifth between runs; the
    # bots take turns for several windows and each one's acknowledgements are pooled.
    ack_rounds: int = 3
    compare_jobs: int = 60
    compare_rate: float = 10.0
    compare_time_scale: float = 0.1
    memory_levels: tuple[int, ...] = (1, 200, 1000)
    memory_rate: float = 200.0
    memory_time_scale: float = 0.5
    delivery_jobs: int = 10
    delivery_rate: float = 2.0
    delivery_time_scale: float = 0.1
    take_seconds: int = 5
    delivery_take_seconds: int = 30
    results_timeout: float = 90.0


QUICK = Plan(
    warmup=2.0,
    window=4.0,
    ack_rounds=1,
    compare_jobs=20,
    memory_levels=(1, 200),
    delivery_jobs=4,
    results_timeout=60.0,
)


# --- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def megabytes(size: float) -> str:
    return f"{size / MB:.1f} MB"


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


class LoopLag(WhileInside):
    """How late this process's own event loop wakes up: the harness's share of any latency."""

    def __init__(self, period: float = 0.01) -> None:
        super().__init__()
        self.period = period
        self.samples: list[float] = []

    async def _run(self) -> None:
        while True:
            began = time.monotonic()
            await asyncio.sleep(self.period)
            self.samples.append(time.monotonic() - began - self.period)


# --- running a bot against the stand-ins -----------------------------------------------------


@dataclass
class Run:
    """One bot process with its own local Discord and local Soundverse."""

    discord: ProbedDiscord
    soundverse: TimedSoundverse | None  # None when it runs in its own process
    bot: BotProcess

    @property
    def timed_soundverse(self) -> TimedSoundverse:
        assert self.soundverse is not None, "this part runs the local Soundverse in-process"
        return self.soundverse


@contextlib.asynccontextmanager
async def running(
    args: Sequence[str],
    time_scale: float,
    data_dir: Path,
    rules: Rules | None = None,
    *,
    soundverse_apart: bool = False,
    prepare: Callable[[ProbedDiscord, Path], Awaitable[None]] | None = None,
) -> AsyncIterator[Run]:
    """Start the stand-ins and the bot; stop all three, whatever happens.

    `soundverse_apart`: the local Soundverse runs as its own process, leaving this one to the
    local Discord, whose stamps are the measurement. `prepare(discord, data_dir)` runs before
    the bot starts (members to add, the bot's database to fill).
    """
    soundverse: TimedSoundverse | SoundverseProcess = (
        SoundverseProcess(time_scale, API_KEY) if soundverse_apart else TimedSoundverse(time_scale)
    )
    discord = ProbedDiscord(rules)
    await soundverse.start()
    await discord.start()
    bot = BotProcess(args, bot_environment(discord, soundverse.url, data_dir), data_dir)
    try:
        if prepare is not None:
            await prepare(discord, data_dir)
        await bot.start()
        timed = soundverse if isinstance(soundverse, TimedSoundverse) else None
        yield Run(discord, timed, bot)
    finally:
        await bot.stop()
        await discord.stop()
        await soundverse.stop()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection in this process (the harness) for the duration: its full passes
    over every recorded message and request take 50-600 ms, during which no stamp is taken."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def on_schedule(count: int, rate: float) -> AsyncIterator[int]:
    """0, 1, … `count` − 1, each at its instant of a fixed schedule of `rate` per second (one
    that comes late, at once)."""
    began = time.monotonic()
    for index in range(count):
        delay = began + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        yield index


async def send_songs(
    discord: ProbedDiscord,
    count: int,
    rate: float,
    take_seconds: int,
    on_sent: Callable[[int, str], None] | None = None,
) -> list[str]:
    """`count` members' `/song` at `rate` per second on a fixed schedule; their interaction ids."""
    ids: list[str] = []
    async for index in on_schedule(count, rate):
        handle = await discord.local.slash(
            "song", user=USERS[index % len(USERS)], prompt=f"bench {index}", duration=take_seconds
        )
        ids.append(handle.id)
        if on_sent is not None:
            on_sent(index, handle.id)
    return ids


async def wait_for(done: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
    """Poll `done` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def wait_for_results(discord: ProbedDiscord, ids: Sequence[str], timeout: float) -> int:  # noqa: ASYNC109
    """Wait until every job delivered or failed (or the timeout); how many delivered."""
    await wait_for(lambda: all(discord.ended(i) for i in ids), timeout)
    return sum(1 for i in ids if i in discord.results)


async def wait_for_quiet(discord: ProbedDiscord, quiet: float = 0.5, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until no request reached the local Discord for `quiet` seconds (final edits)."""
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline and len(discord.local.requests) != seen:
        seen = len(discord.local.requests)
        await asyncio.sleep(quiet)


# --- (a) acknowledgement latency -------------------------------------------------------------


@dataclass
class AckFigures:
    bot: str
    latencies: list[float]
    in_flight: list[int]
    sent: int
    unanswered: int
    late: int
    delivered: int | None
    failed: int
    harness_lag: list[float]
    round_p99s: list[float] = field(default_factory=list)


def pooled(rows: Sequence[AckFigures]) -> AckFigures:
    """The rounds of one bot as one set of figures, keeping each round's p99."""
    delivered = [row.delivered for row in rows if row.delivered is not None]
    return AckFigures(
        bot=rows[0].bot,
        latencies=[value for row in rows for value in row.latencies],
        in_flight=[value for row in rows for value in row.in_flight],
        sent=sum(row.sent for row in rows),
        unanswered=sum(row.unanswered for row in rows),
        late=sum(row.late for row in rows),
        delivered=sum(delivered) if delivered else None,
        failed=sum(row.failed for row in rows),
        harness_lag=[value for row in rows for value in row.harness_lag],
        round_p99s=[percentile(row.latencies, 99) for row in rows],
    )


async def measure_acks(label: str, args: Sequence[str], plan: Plan, data_dir: Path) -> AckFigures:
    """`/song` at `plan.rate` per second; latency of the ones sent after the warm-up."""
    runs_jobs = args != BARE_BOT
    async with running(args, plan.ack_time_scale, data_dir, soundverse_apart=True) as run:
        discord = run.discord
        total = round(plan.rate * (plan.warmup + plan.window))
        first_measured = round(plan.rate * plan.warmup)
        in_flight: list[int] = []

        def note(index: int, interaction_id: str) -> None:
            if index >= first_measured and runs_jobs:
                in_flight.append(discord.in_flight)

        with collector_paused():
            async with LoopLag() as lag:
                ids = await send_songs(discord, total, plan.rate, plan.take_seconds, note)
                await wait_for(lambda: all(i in discord.acked for i in ids), 2 * ACK_DEADLINE)
        measured = ids[first_measured:]
        latencies = [
            discord.acked[i] - discord.dispatched[i] for i in measured if i in discord.acked
        ]
        delivered = None
        if runs_jobs:
            delivered = await wait_for_results(discord, ids, plan.results_timeout)
        return AckFigures(
            bot=label,
            latencies=latencies,
            in_flight=in_flight,
            sent=len(measured),
            unanswered=len(measured) - len(latencies),
            late=sum(1 for value in latencies if value > ACK_DEADLINE),
            delivered=delivered,
            failed=sum(1 for i in ids if i in discord.failures),
            harness_lag=lag.samples,
        )


def ack_table(rows: list[AckFigures], plan: Plan) -> list[str]:
    floor = next(row for row in rows if row.delivered is None)
    target = 2 * percentile(floor.latencies, 99)
    per_round = round(plan.rate * plan.window)
    lines = [
        f"(a) Acknowledgement latency, `/song` arriving at {plan.rate:.0f}/s "
        f"({plan.ack_rounds} rounds, the bots taking turns; in each, the {per_round} sent "
        f"after a {plan.warmup:.0f} s warm-up are measured, and the rounds are pooled)",
        "",
        "| Bot | Jobs in flight (min–max) | Acks | p50 | p99 | p99 of each round | max "
        "| Harness loop lag p99 | Target: p99 ≤ 2× floor p99 | Met |",
        "|---|---|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for row in rows:
        p99 = percentile(row.latencies, 99)
        span = f"{min(row.in_flight)}–{max(row.in_flight)}" if row.in_flight else "0 (no jobs)"
        is_floor = row is floor
        acks = f"{len(row.latencies)}/{row.sent}"
        lines.append(
            f"| {row.bot} | {span} | {acks} | {ms(percentile(row.latencies, 50))} | {ms(p99)} "
            f"| {', '.join(ms(value) for value in row.round_p99s)} "
            f"| {ms(max(row.latencies, default=math.nan))} | {ms(percentile(row.harness_lag, 99))} "
            f"| {'floor' if is_floor else '≤ ' + ms(target)} "
            f"| {'—' if is_floor else met(p99 <= target and row.unanswered == 0)} |"
        )
    notes = [
        f"{row.bot}: {row.unanswered} unanswered, {row.late} later than 3 s; of "
        f"{row.sent + plan.ack_rounds * round(plan.rate * plan.warmup)} jobs, "
        f"{row.delivered} delivered and "
        f"{row.failed} failed"
        for row in rows
        if row.delivered is not None
    ]
    return [*lines, "", *notes]


# --- (b) requests and 429s per job -----------------------------------------------------------


@dataclass
class RequestFigures:
    bot: str
    jobs: int
    delivered: int
    failed: int
    requests: int
    edits: int
    rate_limited: int
    job_times: list[float] = field(default_factory=list)


async def measure_requests(
    label: str, args: Sequence[str], plan: Plan, data_dir: Path
) -> RequestFigures:
    """`plan.compare_jobs` songs; every REST request the bot made for them, by status."""
    async with running(args, plan.compare_time_scale, data_dir) as run:
        discord = run.discord
        start = len(discord.local.requests)
        ids = await send_songs(discord, plan.compare_jobs, plan.compare_rate, plan.take_seconds)
        delivered = await wait_for_results(discord, ids, plan.results_timeout)
        await wait_for_quiet(discord)
        records = discord.rest_requests(start)
        return RequestFigures(
            bot=label,
            jobs=len(ids),
            delivered=delivered,
            failed=sum(1 for i in ids if i in discord.failures),
            requests=len(records),
            edits=sum(1 for r in records if r.method == "PATCH"),
            rate_limited=sum(1 for r in records if r.status == 429),
            job_times=[
                discord.results[i] - discord.dispatched[i] for i in ids if i in discord.results
            ],
        )


def request_table(rows: list[RequestFigures], plan: Plan) -> list[str]:
    lines = [
        f"(b) Discord REST requests per job: {plan.compare_jobs} `/song` at "
        f"{plan.compare_rate:.0f}/s, time scale {plan.compare_time_scale}",
        "",
        "| Bot | Delivered | Failed | Requests/job | Edits/job | 429s | 429s/job "
        "| Job time p50 (command → result) | Target: zero 429s | Met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        per_job = max(1, row.jobs)
        is_baseline = row.bot.startswith("naive")
        lines.append(
            f"| {row.bot} | {row.delivered}/{row.jobs} | {row.failed} "
            f"| {row.requests / per_job:.1f} "
            f"| {row.edits / per_job:.1f} | {row.rate_limited} | {row.rate_limited / per_job:.2f} "
            f"| {ms(percentile(row.job_times, 50))} | {'baseline' if is_baseline else '0'} "
            f"| {'—' if is_baseline else met(row.rate_limited == 0 and row.failed == 0)} |"
        )
    return lines


# --- (c) memory ------------------------------------------------------------------------------


@dataclass
class MemoryFigures:
    jobs: int
    delivered: int
    failed: int
    idle: Memory
    most_in_flight: int
    most_streaming: int
    rss_in_flight: int
    peak: int


async def measure_memory(level: int, plan: Plan, data_dir: Path) -> MemoryFigures:
    """RSS of a fresh bot before, and while `level` jobs stream at once, and its peak."""
    async with running(REAL_BOT, plan.memory_time_scale, data_dir) as run:
        await asyncio.sleep(1.0)  # lets start-up allocations settle before the idle figure
        idle = run.bot.memory()
        samples: list[tuple[int, int, int]] = []

        async def sample() -> None:
            while True:
                streaming = run.timed_soundverse.counters.in_flight
                samples.append((run.discord.in_flight, streaming, run.bot.memory().rss))
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample())
        try:
            ids = await send_songs(run.discord, level, plan.memory_rate, plan.take_seconds)
            delivered = await wait_for_results(run.discord, ids, plan.results_timeout)
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        most = max((count for count, _, _ in samples), default=0)
        at_most = max((rss for count, _, rss in samples if count == most), default=idle.rss)
        return MemoryFigures(
            jobs=level,
            delivered=delivered,
            failed=sum(1 for i in ids if i in run.discord.failures),
            idle=idle,
            most_in_flight=most,
            most_streaming=max((streaming for _, streaming, _ in samples), default=0),
            rss_in_flight=at_most,
            peak=run.bot.memory().peak,
        )


def memory_table(rows: list[MemoryFigures], plan: Plan) -> list[str]:
    lines = [
        f"(c) Memory of the bot and its job worker (`python -m bot`), time scale "
        f"{plan.memory_time_scale}, "
        f"{plan.take_seconds} s takes",
        "",
        "| Jobs | Most in flight at once | Most streaming at once | Delivered | Failed | RSS idle "
        "| RSS with most in flight | Peak RSS (VmHWM) | RSS per in-flight job "
        "| Target: peak < 300 MB at 1,000, none failed | Met |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        per_job = (row.rss_in_flight - row.idle.rss) / max(1, row.most_in_flight)
        judged = row.jobs >= 1000
        lines.append(
            f"| {row.jobs} | {row.most_in_flight} | {row.most_streaming} "
            f"| {row.delivered}/{row.jobs} | {row.failed} "
            f"| {megabytes(row.idle.rss)} | {megabytes(row.rss_in_flight)} | {megabytes(row.peak)} "
            f"| {per_job / 1024:.0f} KiB | {'< 300 MB' if judged else '—'} "
            f"| {met(row.peak < PEAK_TARGET and row.failed == 0) if judged else '—'} |"
        )
    return lines


# --- (d) from the last event to the result ---------------------------------------------------


@dataclass
class DeliverySplit:
    """Seconds per step of one delivery; they add up to `total`."""

    stream_to_bot: float
    hand_off: float
    download: float
    fit: float
    record: float
    upload: float

    @property
    def total(self) -> float:
        return (
            self.stream_to_bot
            + self.hand_off
            + self.download
            + self.fit
            + self.record
            + self.upload
        )


STEP_NAMES: dict[str, Callable[[DeliverySplit], float]] = {
    "stream to bot": lambda split: split.stream_to_bot,
    "card + DB": lambda split: split.hand_off,
    "download": lambda split: split.download,
    "fit-to-size": lambda split: split.fit,
    "record": lambda split: split.record,
    "upload": lambda split: split.upload,
    "total": lambda split: split.total,
}


def delivery_splits(run: Run, ids: Sequence[str]) -> list[DeliverySplit]:
    """Joins the stand-in's, the bot's and the local Discord's stamps of each delivered job."""
    stamps: dict[tuple[str, str], dict[str, Any]] = {
        (stamp["token"], stamp["step"]): stamp for stamp in run.bot.timings
    }
    splits = []
    for interaction_id in ids:
        token = run.discord.tokens.get(interaction_id, "")
        ended = stamps.get((token, "stream_end"))
        prepared = stamps.get((token, "prepared"))
        posted = stamps.get((token, "posted"))
        result = run.discord.results.get(interaction_id)
        if ended is None or prepared is None or posted is None or result is None:
            continue
        last_event = run.timed_soundverse.completed_at[ended["message_id"]]
        preparing = prepared["ended"] - prepared["began"]
        splits.append(
            DeliverySplit(
                stream_to_bot=ended["at"] - last_event,
                hand_off=prepared["began"] - ended["at"],
                download=preparing - prepared["fit"],
                fit=prepared["fit"],
                record=posted["began"] - prepared["ended"],
                upload=result - posted["began"],
            )
        )
    return splits


async def measure_delivery(plan: Plan, data_dir: Path) -> dict[str, list[DeliverySplit]]:
    """The same songs with takes that fit the upload limit, then with takes that must shrink."""
    cases: dict[str, list[DeliverySplit]] = {}
    async with running(TIMED_BOT, plan.delivery_time_scale, data_dir) as run:
        for case, limit in (("fit as is", None), ("re-encoded", TRANSCODE_LIMIT)):
            if limit is not None:
                run.discord.local.rules.attachment_limits = dict.fromkeys(range(4), limit)
            ids = await send_songs(
                run.discord, plan.delivery_jobs, plan.delivery_rate, plan.delivery_take_seconds
            )
            await wait_for_results(run.discord, ids, plan.results_timeout)
            await wait_for(lambda: len(run.bot.timings) >= 3 * len(run.discord.results), 5.0)
            cases[case] = delivery_splits(run, ids)
    return cases


def delivery_table(cases: dict[str, list[DeliverySplit]], plan: Plan) -> list[str]:
    lines = [
        f"(d) From the stream's last event to the result message (p50 of each step), "
        f"{plan.delivery_jobs} songs of two {plan.delivery_take_seconds} s takes each, "
        f"time scale {plan.delivery_time_scale}",
        "",
        "| Takes | Jobs | Stream → bot | Card + DB | Download | Fit-to-size | Record "
        "| Upload | Total p50 | Total max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, splits in cases.items():
        steps = [STEP_NAMES[name](split) for split in splits for name in STEP_NAMES]
        medians = [
            ms(percentile(steps[offset :: len(STEP_NAMES)], 50))
            for offset in range(len(STEP_NAMES))
        ]
        worst = ms(max((split.total for split in splits), default=math.nan))
        lines.append(f"| {case} | {len(splits)} | {' | '.join(medians)} | {worst} |")
    return lines


# --- the whole run ---------------------------------------------------------------------------


async def run_all(plan: Plan, parts: str, workdir: Path) -> list[list[str]]:
    tables: list[list[str]] = []
    if "a" in parts:
        bare: list[AckFigures] = []
        real: list[AckFigures] = []
        for turn in range(plan.ack_rounds):
            bare.append(
                await measure_acks(
                    "bare discord.py (defer only)", BARE_BOT, plan, workdir / f"a-bare-{turn}"
                )
            )
            real.append(
                await measure_acks("soundverse bot", REAL_BOT, plan, workdir / f"a-bot-{turn}")
            )
        tables.append(ack_table([pooled(bare), pooled(real)], plan))
        print_table(tables[-1])
    if "b" in parts:
        requests = [
            await measure_requests("naive (edit per event)", NAIVE_BOT, plan, workdir / "b-naive"),
            await measure_requests("soundverse bot", REAL_BOT, plan, workdir / "b-bot"),
        ]
        tables.append(request_table(requests, plan))
        print_table(tables[-1])
    if "c" in parts:
        memory = [
            await measure_memory(level, plan, workdir / f"c-{level}")
            for level in plan.memory_levels
        ]
        tables.append(memory_table(memory, plan))
        print_table(tables[-1])
    if "d" in parts:
        tables.append(delivery_table(await measure_delivery(plan, workdir / "d"), plan))
        print_table(tables[-1])
    return tables


def print_table(lines: list[str]) -> None:
    print("\n".join(lines), end="\n\n", flush=True)


def main() -> None:
    run_benchmark(
        __doc__.splitlines()[0],
        name="jobs",
        parts="abcd",
        parts_help="which parts to run, e.g. 'ad'",
        quick_help="short run: smaller counts, no 1,000",
        plans=(Plan(), QUICK),
        run_all=run_all,
    )


if __name__ == "__main__":
    main()
