"""Figures for the audio package: probe, fit under upload limits, waveform, voice encoding.

Each measurement runs in a fresh process so its peak RSS is its own; a bare process that
only imports the package gives the baseline RSS, and naive versions (decode everything
up front) run beside the real ones. Run: `python bench/audio.py`.
"""

from __future__ import annotations

import array
import asyncio
import math
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av

from bot.audio import (
    OpusPacketStream,
    PCMFrameStream,
    fit_to_size,
    fit_to_size_async,
    probe,
    transcode_to_mp3,
    waveform,
)

MIB = 1024 * 1024
BITRATES = [192, 128, 96, 64]
PROBE_RUNS = 20
TICK = 0.005


@dataclass(frozen=True)
class Figure:
    """One row of the table."""

    operation: str
    detail: str
    seconds: float
    audio_seconds: float
    peak_rss_mib: float


def write_song(path: Path, seconds: int) -> None:
    """A stereo 44.1 kHz WAV: a chord with a little noise, one synthesised second repeated."""
    rate = 44100
    noise = random.Random(7)
    one_second = array.array("h")
    for index in range(rate):
        t = index / rate
        chord = sum(math.sin(2 * math.pi * f * t) for f in (220.0, 277.2, 329.6, 440.0)) / 4
        left = 0.6 * chord + 0.1 * noise.uniform(-1, 1)
        right = 0.6 * chord + 0.1 * noise.uniform(-1, 1)
        one_second.extend([round(left * 32767), round(right * 32767)])
    with wave.open(str(path), "wb") as output:
        output.setnchannels(2)
        output.setsampwidth(2)
        output.setframerate(rate)
        output.writeframes(one_second.tobytes() * seconds)


def peak_rss_mib() -> float:
    """Peak resident memory of this process; VmHWM, since ru_maxrss survives exec on Linux."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(work: Callable[[], str]) -> tuple[float, str, float]:
    start = time.perf_counter()
    detail = work()
    return time.perf_counter() - start, detail, peak_rss_mib()


def bare() -> tuple[float, str, float]:
    return 0.0, "import only", peak_rss_mib()


def probe_metadata(path: str) -> tuple[float, str, float]:
    durations = []
    for _ in range(PROBE_RUNS):
        start = time.perf_counter()
        info = probe(path)
        durations.append(time.perf_counter() - start)
    detail = f"median of {PROBE_RUNS}, {info.duration:.2f} s found"
    return statistics.median(durations), detail, peak_rss_mib()


def probe_by_decoding(path: str) -> tuple[float, str, float]:
    def work() -> str:
        with av.open(path) as container:
            samples = sum(frame.samples for frame in container.decode(audio=0))
        return f"naive: decode all, {samples / 44100:.2f} s found"

    return timed(work)


def fit(path: str, limit: int, out: str) -> tuple[float, str, float]:
    def work() -> str:
        result = fit_to_size(Path(path), limit, Path(out), BITRATES)
        if not result.transcoded:
            return f"to {limit / MIB:.0f} MiB: kept ({result.size} B)"
        return f"to {limit / MIB:.0f} MiB: {result.bitrate_kbps} kbps, {result.size} B"

    return timed(work)


def loop_lag_during_fit(path: str, limit: int, out: str) -> tuple[float, str, float]:
    """fit_to_size_async while a ticker on the event loop records how late it wakes."""

    async def run() -> str:
        lags: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                before = time.perf_counter()
                await asyncio.sleep(TICK)
                lags.append(time.perf_counter() - before - TICK)

        ticking = asyncio.create_task(ticker())
        result = await fit_to_size_async(Path(path), limit, Path(out), BITRATES)
        done.set()
        await ticking
        lags.sort()
        p50, p99 = lags[len(lags) // 2], lags[int(len(lags) * 0.99)]
        return (
            f"to {limit / MIB:.0f} MiB async ({result.bitrate_kbps} kbps): event-loop lag "
            f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms"
        )

    return timed(lambda: asyncio.run(run()))


def render_waveform(path: str) -> tuple[float, str, float]:
    return timed(lambda: f"{len(waveform(path, 64))} points")


def opus_stream(path: str) -> tuple[float, str, float]:
    def work() -> str:
        count = size = 0
        with OpusPacketStream(path) as stream:
            while packet := stream.read():
                count += 1
                size += len(packet)
        return f"lazy, {count} packets, {size * 8 / (count * 0.02) / 1000:.0f} kbps"

    return timed(work)


def opus_eager(path: str) -> tuple[float, str, float]:
    def work() -> str:
        with av.open(path) as container:
            decoded = list(container.decode(audio=0))
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000, frame_size=960)
        frames = [out for frame in [*decoded, None] for out in resampler.resample(frame)]
        encoder = av.CodecContext.create("libopus", "w")
        encoder.sample_rate = 48000
        encoder.layout = "stereo"
        encoder.format = "s16"
        encoder.bit_rate = 128000
        encoder.open()
        packets = [bytes(packet) for frame in frames for packet in encoder.encode(frame)]
        return f"naive: decode all first, {len(packets)} packets"

    return timed(work)


def pcm_stream(path: str) -> tuple[float, str, float]:
    def work() -> str:
        count = 0
        with PCMFrameStream(path) as stream:
            while stream.read():
                count += 1
        return f"lazy, {count} frames"

    return timed(work)


def measure(
    pool_context: multiprocessing.context.SpawnContext,
    job: Callable[..., tuple[float, str, float]],
    *args: str | int,
) -> tuple[float, str, float]:
    with pool_context.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(job, args)


def main() -> None:
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        print("synthesising songs...", file=sys.stderr)
        songs: dict[str, tuple[str, float]] = {}
        for minutes in (3, 6):
            wav = root / f"song{minutes}.wav"
            write_song(wav, minutes * 60)
            mp3 = root / f"song{minutes}-320k.mp3"
            transcode_to_mp3(wav, mp3, 320)
            songs[f"{minutes} min WAV"] = (str(wav), minutes * 60.0)
            songs[f"{minutes} min 320k MP3"] = (str(mp3), minutes * 60.0)
        mp3_3, seconds_3 = songs["3 min 320k MP3"]
        out = str(root / "out")
        runs: list[
            tuple[str, str, float, Callable[..., tuple[float, str, float]], tuple[str | int, ...]]
        ] = [
            ("baseline", "-", 0.0, bare, ()),
            ("probe", "3 min 320k MP3", seconds_3, probe_metadata, (mp3_3,)),
            ("probe", "3 min 320k MP3", seconds_3, probe_by_decoding, (mp3_3,)),
        ]
        for name in ("3 min 320k MP3", "6 min 320k MP3", "3 min WAV"):
            path, seconds = songs[name]
            for limit in (10 * MIB, 8 * MIB, 5 * MIB):
                runs.append(("fit_to_size", name, seconds, fit, (path, limit, out)))
        wav_3, _ = songs["3 min WAV"]
        runs += [
            (
                "fit_to_size_async",
                "3 min WAV",
                seconds_3,
                loop_lag_during_fit,
                (wav_3, 5 * MIB, out),
            ),
            ("waveform", "3 min 320k MP3", seconds_3, render_waveform, (mp3_3,)),
            ("Opus 20 ms packets", "3 min 320k MP3", seconds_3, opus_stream, (mp3_3,)),
            ("Opus 20 ms packets", "3 min 320k MP3", seconds_3, opus_eager, (mp3_3,)),
            ("PCM 20 ms frames", "3 min 320k MP3", seconds_3, pcm_stream, (mp3_3,)),
        ]
        figures = []
        for operation, source, audio_seconds, job, args in runs:
            print(f"{operation} {source} {job.__name__}...", file=sys.stderr)
            seconds, detail, rss = measure(context, job, *args)
            figures.append(Figure(operation, f"{source}: {detail}", seconds, audio_seconds, rss))
    print_table(figures)


def print_table(figures: list[Figure]) -> None:
    print("| operation | input and result | time (s) | x realtime | peak RSS (MiB) |")
    print("|---|---|---:|---:|---:|")
    for figure in figures:
        speed = (
            f"{figure.audio_seconds / figure.seconds:.0f}"
            if figure.seconds > 0 and figure.audio_seconds > 0
            else "-"
        )
        print(
            f"| {figure.operation} | {figure.detail} | {figure.seconds:.4f} | {speed} "
            f"| {figure.peak_rss_mib:.0f} |"
        )


if __name__ == "__main__":
    main()
