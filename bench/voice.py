"""Voice playback through the local Discord and its voice server, with baselines.

Run: ``PYTHONPATH=. .venv/bin/python bench/voice.py`` (about 3 minutes on 2 cores), or
``--quick``; ``--parts`` picks parts, e.g. ``--parts c``.

The local Discord and its voice server run in this process; every bot runs as its own
process, so the CPU time it reports is its own, not the local Discord's. The voice server is
made with `kernel_timestamps=True`, so each RTP packet is stamped with the kernel's receive
time of its datagram (SO_TIMESTAMPNS) and a busy loop here does not shift arrival times, and
with `decode=False`: it does not decode the Opus it hears (only arrival times are read).

(a) CPU per concurrent stream and the spacing of packets as they arrive, with 1, 10 and 50
    streams at once. A stream is one discord.py `VoiceClient` in the voice channel of its own
    guild, playing a 3 s clip (a 192 kbps MP3). The bot side (`_voice_bots.py player`) joins
    all 50 channels first, then plays the runs, the kinds taking turns, each level several
    times (the median is shown). A run's CPU is the bot process's time (`process_time`:
    every thread) plus that of the ffmpeg processes it started and reaped
    (`RUSAGE_CHILDREN`), less what the 50 connected clients use doing nothing over as long
    (measured first, in the same process), per second of audio per stream. Rows: the stored
    Opus copy (ours, at 100 % volume); our PCM path (PyAV decodes, scales and encodes, for any
    other volume); discord.py's `FFmpegPCMAudio` in a `PCMVolumeTransformer` (the baseline;
    needs ffmpeg and libopus, skipped with a note without them); and the floor, packets
    already in memory: what discord.py's voice client costs with no source at all.
(b) Time from `/play` to the first packet heard: from the instant the local Discord has
    written INTERACTION_CREATE to the gateway to the kernel's receive time of the first RTP
    packet, with the real bot (`python -m bot`) and with a bare discord.py bot whose `/play`
    joins and plays the upload through `FFmpegPCMAudio` (the baseline). A member in a voice
    channel plays an uploaded 3 s MP3; `/leave` between runs, so each run joins the channel
    afresh. The first run after each bot starts is shown apart from the others.
(c) Preview in voice, from `streaming_ready` to the first packet heard, with the real bot: a
    member in Lounge starts `/song` (5 s, at a time scale that makes the streaming phase
    3.75 s long) and clicks "Preview in voice" on the job's card as soon as the card offers
    it (when the local Discord has applied the edit that adds it). Timed: from the instant the
    local Soundverse (in this process) published the job's first chunk with
    `streaming_ready: true` to that edit; from the click (INTERACTION_CREATE written) to the
    first RTP packet; and the whole. `/leave` and the job's result between runs; the first
    run after the bot starts is shown apart.

Prints one Markdown table per part, with the targets and whether they were met.
"""

from __future__ import annotations

import array
import asyncio
import json
import math
import os
import shutil
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from _process import BotProcess, bot_environment
from _stack import (
    API_KEY,
    ProbedDiscord,
    TimedSoundverse,
    stamped_discord,
    write_authority,
)
from _voice_bots import VOLUME, libopus_loaded

from bench._cli import run_benchmark
from bench._sampling import WhileInside
from bot.audio import transcode_to_mp3
from sandbox.discord.state import Message
from sandbox.discord.voice import VoiceServer
from sandbox.soundverse import SoundverseStandIn

BENCH = Path(__file__).resolve().parent
PLAYER = (str(BENCH / "_voice_bots.py"), "player")
BARE_PLAY_BOT = (str(BENCH / "_voice_bots.py"), "play-bot")
REAL_BOT = ("-m", "bot")
CLIP_SECONDS = 3
CLIP_KBPS = 192
FRAME = 0.020
CPU_TARGET = 1.0  # % of one core per stored-Opus stream
SPACING_TARGET = 0.005  # interval p99 within this of 20 ms at the most streams
FIRST_PACKET_TARGET = 0.5
PLAY_TIMEOUT = 10.0
PREVIEW_TARGET = 1.0  # streaming_ready to the first packet, median and max
PREVIEW_SONG_SECONDS = 5  # the shortest /song
# Each of the 10 streaming steps takes 1.5 s at time scale 1: 3.75 s of streaming at 0.25.
PREVIEW_TIME_SCALE = 0.25
PREVIEW_BUTTON = "Preview in voice"
OFFER_TIMEOUT = 20.0
JOB_TIMEOUT = 30.0
KINDS = {
    "memory": "floor: discord.py's send loop alone (packets from memory)",
    "stored": "ours: stored Opus copy (`StoredOpusStream`)",
    "pcm": f"ours: PCM path at {VOLUME:.0%} volume (`OpusPacketStream`: PyAV decodes, scales, "
    "encodes)",
    "ffmpeg": f"baseline: `FFmpegPCMAudio` + `PCMVolumeTransformer` at {VOLUME:.0%} volume",
}


@dataclass(frozen=True)
class Plan:
    """How much each part does; `--quick` shrinks it."""

    levels: tuple[int, ...] = (1, 10, 50)
    # How many times each level is played, the kinds taking turns; each row shows the median.
    # One stream's 3 s costs 30-60 ms of CPU, and a run's figure swings by a quarter.
    rounds: tuple[int, ...] = (3, 2, 2)
    first_packet_runs: int = 10
    preview_runs: int = 5


QUICK = Plan(levels=(1, 10), rounds=(1, 1), first_packet_runs=3, preview_runs=2)


# --- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


async def wait_for(done: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
    """Poll `done` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def print_table(lines: list[str]) -> None:
    print("\n".join(lines), end="\n\n", flush=True)


# --- the local stack -------------------------------------------------------------------------


def write_clip(path: Path, seconds: int) -> Path:
    """A stereo 44.1 kHz WAV: a chord, one synthesised second repeated."""
    rate = 44100
    one_second = array.array("h")
    for index in range(rate):
        t = index / rate
        chord = sum(math.sin(2 * math.pi * f * t) for f in (220.0, 277.2, 329.6, 440.0)) / 4
        sample = round(0.6 * chord * 32767)
        one_second.extend([sample, sample])
    with wave.open(str(path), "wb") as output:
        output.setnchannels(2)
        output.setsampwidth(2)
        output.setframerate(rate)
        output.writeframes(one_second.tobytes() * seconds)
    return path


def baseline_available() -> str | None:
    """Why the FFmpeg baseline cannot run here, or None when it can."""
    if shutil.which("ffmpeg") is None:
        return "no `ffmpeg` on PATH"
    if not libopus_loaded():
        return "libopus is not loadable (discord.opus)"
    return None


# --- (a) CPU and packet spacing --------------------------------------------------------------


@dataclass
class StreamRow:
    """One kind of playback at one number of streams, its rounds pooled."""

    kind: str
    streams: int
    cpu_per_round: list[float] = field(default_factory=list)  # % of one core per stream
    harness_cpu: list[float] = field(default_factory=list)  # % of one core, this process
    intervals: list[float] = field(default_factory=list)
    heard: int = 0
    expected: int = 0

    @property
    def cpu_per_stream(self) -> float:
        return percentile(self.cpu_per_round, 50)


@dataclass
class StreamFigures:
    rows: dict[tuple[str, int], StreamRow] = field(default_factory=dict)
    idle_cpu: float = math.nan  # % of one core, every connected client together
    connect_seconds: float = math.nan
    encode_seconds: float = math.nan
    failure: str | None = None

    def add(
        self, run: dict[str, Any], channels: list[str], voice: VoiceServer, harness: CpuSampler
    ) -> None:
        """One run's figures: CPU less the idle rate, and the spacing of its sound packets."""
        streams = int(run["streams"])
        row = self.rows.setdefault((run["kind"], streams), StreamRow(run["kind"], streams))
        window = run["ended"] - run["began"]
        cpu = run["cpu_own"] + run["cpu_children"] - self.idle_cpu / 100 * window
        row.cpu_per_round.append(100 * cpu / (streams * CLIP_SECONDS))
        row.harness_cpu.append(harness.share(run["began"], run["ended"]))
        row.expected += streams * round(CLIP_SECONDS / FRAME)
        for channel in channels[:streams]:
            times = [
                packet.at
                for packet in voice.heard_in(channel).audio_packets
                if run["began"] <= packet.at <= run["ended"] + 0.2
            ]
            row.heard += len(times)
            row.intervals += [later - earlier for earlier, later in pairwise(times)]


class CpuSampler(WhileInside):
    """This process's CPU time, sampled on its loop, to tell how busy the local Discord was."""

    def __init__(self, period: float = 0.1) -> None:
        super().__init__()
        self.period = period
        self.samples: list[tuple[float, float]] = []

    async def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), time.process_time()))
            await asyncio.sleep(self.period)

    def share(self, began: float, ended: float) -> float:
        """% of one core this process used between the samples nearest inside the window."""
        inside = [sample for sample in self.samples if began <= sample[0] <= ended]
        if len(inside) < 2:
            return math.nan
        (first, first_cpu), (last, last_cpu) = inside[0], inside[-1]
        return 100 * (last_cpu - first_cpu) / (last - first)


def stream_runs(plan: Plan, kinds: Sequence[str]) -> list[tuple[str, int]]:
    """Idle first (its rate is subtracted), one warm-up run, then the rounds."""
    runs: list[tuple[str, int]] = [("idle", 0), ("warm-up", 1)]
    for round_ in range(max(plan.rounds)):
        for level, rounds in zip(plan.levels, plan.rounds, strict=True):
            if round_ < rounds:
                runs += [(kind, level) for kind in kinds]
    return runs


async def measure_streams(
    plan: Plan, kinds: Sequence[str], clip: Path, workdir: Path
) -> StreamFigures:
    discord, voice = stamped_discord()
    for index in range(max(plan.levels)):
        discord.local.add_guild(f"bench-{index + 1:02d}")
    runs = stream_runs(plan, kinds)
    data_dir = workdir / "a"
    data_dir.mkdir()
    player_plan = {"clip": str(clip), "seconds": CLIP_SECONDS, "runs": runs}
    await discord.start()
    environment = bot_environment(discord, "http://127.0.0.1:9", data_dir)
    environment["SSL_CERT_FILE"] = str(write_authority(voice, workdir / "voice-ca.pem"))
    bot = BotProcess([*PLAYER, json.dumps(player_plan)], environment, data_dir)
    figures = StreamFigures()
    try:
        async with CpuSampler() as harness:
            await bot.start()
            ended = await wait_for(
                lambda: any(t["step"] in ("done", "failed") for t in bot.timings),
                60 + len(runs) * (CLIP_SECONDS + 5),
            )
        steps = {t["step"]: t for t in bot.timings}
        if not ended or "done" not in steps:
            figures.failure = steps.get("failed", {}).get("error") or bot.output()[-2000:]
            return figures
    finally:
        await bot.stop()
        await discord.stop()
    connected = steps["connected"]
    figures.connect_seconds = connected["connect_seconds"]
    figures.encode_seconds = connected["encode_seconds"]
    done = [t for t in bot.timings if t["step"] == "run"]
    idle = next(t for t in done if t["kind"] == "idle")
    figures.idle_cpu = (
        100 * (idle["cpu_own"] + idle["cpu_children"]) / (idle["ended"] - idle["began"])
    )
    for run in done:
        if run["kind"] in KINDS:
            figures.add(run, connected["channels"], voice, harness)
    return figures


def stream_target(row: StreamRow, most: int) -> tuple[str, bool | None]:
    """The targets of a row (stored Opus only) and whether they were met."""
    if row.kind != "stored":
        return "—", None
    target = f"CPU ≤ {CPU_TARGET:.0f} %"
    ok = row.cpu_per_stream <= CPU_TARGET
    if row.streams == most:
        target += f", p99 within {SPACING_TARGET * 1000:.0f} ms of 20 ms"
        ok = ok and abs(percentile(row.intervals, 99) - FRAME) <= SPACING_TARGET
    return target, ok


def stream_table(figures: StreamFigures, plan: Plan) -> list[str]:
    most = max(plan.levels)
    lines = [
        f"(a) CPU per stream and packet spacing: 1–{most} discord.py voice clients, one per "
        f"guild, each playing a {CLIP_SECONDS} s clip at once (median of "
        f"{'/'.join(map(str, plan.rounds))} rounds; intervals pooled)",
        "",
        "| Playback | Streams | CPU per stream (% of one core) | Above the floor "
        "| Interval p50 | Interval p99 | Interval max | Packets heard | Target | Met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for (kind, streams), row in sorted(
        figures.rows.items(), key=lambda item: (item[0][1], list(KINDS).index(item[0][0]))
    ):
        floor = figures.rows.get(("memory", streams))
        above = (
            "—"
            if floor is None or kind == "memory"
            else f"{row.cpu_per_stream - floor.cpu_per_stream:+.2f}"
        )
        target, ok = stream_target(row, most)
        lines.append(
            f"| {KINDS[kind]} | {streams} | {row.cpu_per_stream:.2f} | {above} "
            f"| {ms(percentile(row.intervals, 50))} | {ms(percentile(row.intervals, 99))} "
            f"| {ms(max(row.intervals, default=math.nan))} | {row.heard}/{row.expected} "
            f"| {target} | {'—' if ok is None else met(ok)} |"
        )
    busiest = [
        value
        for (_, streams), row in figures.rows.items()
        if streams == most
        for value in row.harness_cpu
    ]
    lines += [
        "",
        f"CPU: the bot process's time (every thread, and the ffmpeg processes it started) per "
        f"second of audio per stream, less the {figures.idle_cpu:.3f} % of a core its {most} "
        f"connected, silent clients use; the floor is discord.py's voice client sending "
        f"packets it is handed from memory (encrypt, RTP, UDP, pacing). Every stream's first "
        f"interval is 40 ms: discord.py's player waits twice its 20 ms after the first packet "
        f"(its pacing formula), hence the max. Joining the {most} "
        f"channels took {figures.connect_seconds:.1f} s; encoding the stored Opus copy once "
        f"took {figures.encode_seconds * 1000:.0f} ms. The local Discord and its voice server "
        f"(the harness, decrypting every packet) used up to "
        f"{max(busiest, default=math.nan):.0f} % of a core during the {most}-stream runs, on "
        f"the same {os.cpu_count()} cores.",
    ]
    return lines


# --- (b) /play to the first packet -----------------------------------------------------------


@dataclass
class FirstPacketFigures:
    bot: str
    first: float
    latencies: list[float]
    failures: int


async def one_play(discord: ProbedDiscord, voice: VoiceServer, clip: bytes) -> float | None:
    """bob plays an upload in Lounge; seconds from the dispatch to the first packet heard,
    or None when none came. Then bob says `/leave` and the bot is out of voice again."""
    local = discord.local
    heard = voice.heard_in(local.channel("Lounge").id)
    seen = len(heard.packets)
    attachment = local.upload("clip.mp3", clip, "audio/mpeg")
    handle = await local.slash("play", user="bob", audio=attachment)
    came = await wait_for(lambda: len(heard.packets) > seen, PLAY_TIMEOUT)
    latency = heard.packets[seen].at - discord.dispatched[handle.id] if came else None
    await local.slash("leave", user="bob")
    await wait_for(lambda: local.world.bot.id not in local.guild.voice_channels, PLAY_TIMEOUT)
    await asyncio.sleep(0.3)  # the last packets of this run arrive before the next one
    return latency


async def measure_first_packet(
    label: str, args: Sequence[str], plan: Plan, clip: bytes, workdir: Path
) -> FirstPacketFigures:
    discord, voice = stamped_discord()
    soundverse = SoundverseStandIn(api_keys={API_KEY})
    data_dir = workdir / f"b-{args[-1]}"
    await soundverse.start()
    await discord.start()
    environment = bot_environment(discord, soundverse.url, data_dir)
    environment["SSL_CERT_FILE"] = str(write_authority(voice, workdir / "voice-ca-b.pem"))
    bot = BotProcess(args, environment, data_dir)
    latencies: list[float | None] = []
    try:
        await bot.start()
        await discord.local.move_to_voice("bob", "Lounge")
        await asyncio.sleep(0.5)  # the bot has seen bob join
        for _ in range(plan.first_packet_runs + 1):
            latencies.append(await one_play(discord, voice, clip))
    finally:
        await bot.stop()
        await discord.stop()
        await soundverse.stop()
    first, rest = latencies[0], latencies[1:]
    return FirstPacketFigures(
        bot=label,
        first=math.nan if first is None else first,
        latencies=[value for value in rest if value is not None],
        failures=sum(1 for value in latencies if value is None),
    )


def first_packet_table(rows: list[FirstPacketFigures], plan: Plan) -> list[str]:
    lines = [
        f"(b) From `/play` (an uploaded {CLIP_SECONDS} s MP3) to the first packet heard, "
        f"{plan.first_packet_runs} runs after a first one, leaving voice between runs",
        "",
        "| Bot | First after start | Runs | Median | Max | No packet "
        f"| Target: < {FIRST_PACKET_TARGET * 1000:.0f} ms | Met |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        median = percentile(row.latencies, 50)
        worst = max(row.latencies, default=math.nan)
        is_baseline = row.bot.startswith("baseline")
        if is_baseline:
            verdict = "—"
        elif worst < FIRST_PACKET_TARGET and row.failures == 0:
            verdict = "yes"
        elif median < FIRST_PACKET_TARGET and row.failures == 0:
            verdict = "median only"
        else:
            verdict = "**no**"
        lines.append(
            f"| {row.bot} | {ms(row.first)} | {len(row.latencies)} | {ms(median)} | {ms(worst)} "
            f"| {row.failures} | {'baseline' if is_baseline else 'median and max'} "
            f"| {verdict} |"
        )
    return [
        *lines,
        "",
        "Our bot plays an upload from its address through the PCM path (a stored track's Opus "
        "copy is made the first time it plays); the baseline starts an ffmpeg process per play.",
    ]


# --- (c) Preview in voice: streaming_ready to the first packet -------------------------------


@dataclass(frozen=True)
class PreviewRun:
    """One Preview in voice, as instants of the monotonic clock."""

    ready: float  # the local Soundverse published the job's first `streaming_ready` chunk
    previous_edit: float  # the card's edit before the one that adds the button
    offered: float  # the local Discord applied the card edit that adds the button
    clicked: float  # the click's INTERACTION_CREATE was written to the gateway
    first_packet: float  # the kernel received the first RTP packet in Lounge

    @property
    def since_edit(self) -> float:
        return self.ready - self.previous_edit

    @property
    def to_offer(self) -> float:
        return self.offered - self.ready

    @property
    def to_click(self) -> float:
        return self.clicked - self.offered

    @property
    def click_to_packet(self) -> float:
        return self.first_packet - self.clicked

    @property
    def total(self) -> float:
        return self.first_packet - self.ready


@dataclass
class PreviewFigures:
    first: PreviewRun | None = None
    runs: list[PreviewRun] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class NoPreview(Exception):
    """A run that did not get as far as a packet heard; the message says where it stopped."""


def offers_preview(message: Message) -> bool:
    return any(c.get("label") == PREVIEW_BUTTON for c in message.all_components())


async def offered(discord: ProbedDiscord, interaction_id: str) -> tuple[Message, float, float]:
    """The job card of `interaction_id` once it offers the button, the instant the local
    Discord applied the edit that added it (checked after every request it handles), and
    that of the card's edit before (NaN if none)."""
    local = discord.local
    found: list[tuple[Message, float, float]] = []
    offer = asyncio.Event()

    def watch() -> None:
        if found:
            return
        card = next((m for m in local.messages if m.interaction_id == interaction_id), None)
        if card is not None and offers_preview(card):
            previous = card.edits[-2].at if len(card.edits) > 1 else math.nan
            found.append((card, previous, time.monotonic()))
            offer.set()

    discord.watchers.append(watch)
    try:
        watch()
        await asyncio.wait_for(offer.wait(), OFFER_TIMEOUT)
    except TimeoutError:
        raise NoPreview(
            f"the card did not offer {PREVIEW_BUTTON!r} within {OFFER_TIMEOUT:.0f} s"
        ) from None
    finally:
        discord.watchers.remove(watch)
    return found[0]


async def one_preview(
    discord: ProbedDiscord, voice: VoiceServer, soundverse: TimedSoundverse
) -> PreviewRun:
    """bob, in Lounge, starts `/song` and clicks "Preview in voice" once its card offers it;
    the instants of the run. Then `/leave`, and the job's result is awaited."""
    local = discord.local
    heard = voice.heard_in(local.channel("Lounge").id)
    seen = len(heard.packets)
    jobs = len(soundverse.jobs)
    song = await local.slash("song", user="bob", prompt="lofi rain", duration=PREVIEW_SONG_SECONDS)
    try:
        card, previous_edit, offered_at = await offered(discord, song.id)
        click = await local.click(card, PREVIEW_BUTTON, user="bob")
        if not await wait_for(lambda: len(heard.packets) > seen, PLAY_TIMEOUT):
            raise NoPreview(f"no packet within {PLAY_TIMEOUT:.0f} s of the click")
        return PreviewRun(
            ready=soundverse.streaming_at[soundverse.jobs[jobs].message_id],
            previous_edit=previous_edit,
            offered=offered_at,
            clicked=discord.dispatched[click.id],
            first_packet=heard.packets[seen].at,
        )
    finally:
        await local.slash("leave", user="bob")
        await wait_for(lambda: local.world.bot.id not in local.guild.voice_channels, PLAY_TIMEOUT)
        await wait_for(lambda: discord.ended(song.id), JOB_TIMEOUT)
        await asyncio.sleep(0.3)  # the last packets of this run arrive before the next one


async def measure_previews(plan: Plan, workdir: Path) -> PreviewFigures:
    discord, voice = stamped_discord()
    soundverse = TimedSoundverse(PREVIEW_TIME_SCALE)
    data_dir = workdir / "c"
    await soundverse.start()
    await discord.start()
    environment = bot_environment(discord, soundverse.url, data_dir)
    environment["SSL_CERT_FILE"] = str(write_authority(voice, workdir / "voice-ca-c.pem"))
    bot = BotProcess(REAL_BOT, environment, data_dir)
    figures = PreviewFigures()
    try:
        await bot.start()
        await discord.local.move_to_voice("bob", "Lounge")
        await asyncio.sleep(0.5)  # the bot has seen bob join
        for index in range(plan.preview_runs + 1):
            try:
                run = await one_preview(discord, voice, soundverse)
            except NoPreview as failure:
                figures.failures.append(str(failure))
                continue
            if index == 0:
                figures.first = run
            else:
                figures.runs.append(run)
    finally:
        await bot.stop()
        await discord.stop()
        await soundverse.stop()
    return figures


def preview_table(figures: PreviewFigures, plan: Plan) -> list[str]:
    streaming = 10 * 1.5 * PREVIEW_TIME_SCALE
    lines = [
        f"(c) Preview in voice: from `streaming_ready` to the first packet heard (`/song`, "
        f"{PREVIEW_SONG_SECONDS} s, time scale {PREVIEW_TIME_SCALE}: {streaming:.2f} s of "
        f"streaming; {plan.preview_runs} runs after a first one, leaving voice between runs)",
        "",
        "| Interval | First after start | Runs | Median | Max | Target | Met |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    steps: list[tuple[str, Callable[[PreviewRun], float]]] = [
        (
            "(context) the card's previous edit → `streaming_ready` published",
            lambda r: r.since_edit,
        ),
        (f'`streaming_ready` published → the card offers "{PREVIEW_BUTTON}"', lambda r: r.to_offer),
        ("the card offers it → the click is dispatched (the harness)", lambda r: r.to_click),
        ("click → first packet heard", lambda r: r.click_to_packet),
        ("**`streaming_ready` → first packet heard**", lambda r: r.total),
    ]
    failed = len(figures.failures)
    gaps = [run.offered - run.previous_edit for run in figures.runs]
    for name, interval in steps:
        values = [interval(run) for run in figures.runs]
        median = percentile(values, 50)
        worst = max(values, default=math.nan)
        first = math.nan if figures.first is None else interval(figures.first)
        target, verdict = "—", "—"
        if interval is steps[-1][1]:
            target = f"< {PREVIEW_TARGET * 1000:.0f} ms, median and max"
            if worst < PREVIEW_TARGET and failed == 0:
                verdict = "yes"
            elif median < PREVIEW_TARGET and failed == 0:
                verdict = "median only"
            else:
                verdict = "**no**"
        lines.append(
            f"| {name} | {ms(first)} | {len(values)} | {ms(median)} | {ms(worst)} "
            f"| {target} | {verdict} |"
        )
    lines += [
        "",
        f"Runs without a packet: {failed}"
        + (f" ({'; '.join(sorted(set(figures.failures)))})." if failed else ".")
        + " Each click joins Lounge afresh (the bot left after the previous run). The card "
        "offers the preview as soon as the bot reads `streaming_ready` (other progress waits "
        "for `JOBS_PROGRESS_INTERVAL`, 2 s by default, as run here): from the card's previous "
        f"edit to the one adding the button, {ms(percentile(gaps, 50))} (median). The stream "
        "is opened from its first bytes rather than probed. The first packet is stamped with "
        "the kernel's receive time.",
    ]
    return lines


# --- the whole run ---------------------------------------------------------------------------


async def run_streams(plan: Plan, missing: str | None, mp3: Path, workdir: Path) -> None:
    kinds = [kind for kind in KINDS if kind != "ffmpeg" or missing is None]
    try:
        figures = await measure_streams(plan, kinds, mp3, workdir)
    except RuntimeError as error:  # the player never got ready
        figures = StreamFigures(failure=str(error))
    if figures.failure is not None:
        print(f"(a) failed: {figures.failure}\n", flush=True)
    else:
        print_table(stream_table(figures, plan))


async def run_first_packet(plan: Plan, missing: str | None, mp3: Path, workdir: Path) -> None:
    bots = [("soundverse bot", REAL_BOT)]
    if missing is None:
        bots.append(("baseline: bare discord.py, `FFmpegPCMAudio`", BARE_PLAY_BOT))
    clip = await asyncio.to_thread(mp3.read_bytes)
    rows = []
    for label, args in bots:
        try:
            rows.append(await measure_first_packet(label, args, plan, clip, workdir))
        except RuntimeError as error:  # the bot never got ready
            print(f"(b) {label} failed: {error}\n", flush=True)
    print_table(first_packet_table(rows, plan))


async def run_previews(plan: Plan, workdir: Path) -> None:
    try:
        previews = await measure_previews(plan, workdir)
    except RuntimeError as error:  # the bot never got ready
        print(f"(c) failed: {error}\n", flush=True)
    else:
        print_table(preview_table(previews, plan))


async def run_all(plan: Plan, parts: str, workdir: Path) -> None:
    missing = baseline_available()
    if missing is not None and ("a" in parts or "b" in parts):
        print(f"The FFmpeg baseline rows are skipped: {missing}.\n", flush=True)
    clip = write_clip(workdir / "clip.wav", CLIP_SECONDS)
    mp3 = workdir / "clip.mp3"
    transcode_to_mp3(clip, mp3, CLIP_KBPS)
    if "a" in parts:
        await run_streams(plan, missing, mp3, workdir)
    if "b" in parts:
        await run_first_packet(plan, missing, mp3, workdir)
    if "c" in parts:
        await run_previews(plan, workdir)


def main() -> None:
    run_benchmark(
        __doc__.splitlines()[0],
        name="voice",
        parts="abc",
        parts_help="which parts to run, e.g. 'c' or 'bc'",
        quick_help="short run: 1 and 10 streams",
        plans=(Plan(), QUICK),
        run_all=run_all,
    )


if __name__ == "__main__":
    main()
