"""Throughput of our SSE parser against httpx-sse's decoder on a Soundverse-like stream.

Run: ``.venv/bin/python bench/sse.py`` (needs the ``bench`` extra: httpx, httpx-sse).
Both parsers get the same chunks: random sizes (as a busy socket delivers them) and one event
per chunk (as a server that flushes each event does). Prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from typing import Any

from httpx._decoders import TextDecoder
from httpx_sse import ServerSentEvent as HttpxEvent
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

from bot.soundverse.sse import ServerSentEvent, SSEParser

EventTuple = tuple[str, str, str, int | None]
Parse = Callable[[list[bytes]], list[Any]]

KEEP_ALIVE = b": ping\n\n"
SONG_NAMES = ["Midnight Drive", "Café del Mar ♫", "Neon Rain", "Sakura 桜", "Lo-fi Study Beats"]


def _hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def _job_chunks(rng: random.Random, v7: bool) -> Iterator[dict[str, Any]]:
    """The JSON chunks of one generation, stage by stage (soundverse-api.md 11.2)."""
    message_id = _hex_id(rng)
    index = 0
    if v7:
        yield {"type": "job_created", "job_id": _hex_id(rng), "chunkIndex": index}
        index += 1
    yield {"isComplete": False, "status": "initializing", "chunkIndex": index}
    song = rng.choice(SONG_NAMES)
    art = f"https://storage.soundverse.ai/soundverse-album-art/{message_id}.png"
    yield {
        "message_id": message_id,
        "isComplete": False,
        "status": "validated",
        "album_art": art,
        "song_name": song,
        "chunkIndex": index + 1,
    }
    index += 2
    for progress in range(0, 91, rng.choice([2, 3, 5])):
        yield {
            "message_id": message_id,
            "isComplete": False,
            "status": "streaming",
            "progress": progress,
            "streaming_ready": True,
            "stream_url": f"https://stream.soundverse.ai/live/{message_id}.m3u8",
            "chunkIndex": index,
        }
        index += 1
    for progress in (90, 95, 99):
        yield {
            "message_id": message_id,
            "isComplete": False,
            "status": "uploading",
            "progress": progress,
            "chunkIndex": index,
        }
        index += 1
    audio_url = f"https://storage.soundverse.ai/x-one/{message_id}/{message_id}.mp3"
    yield {
        "message_id": message_id,
        "isComplete": True,
        "status": "completed",
        "progress": 100,
        "audio_url": audio_url,
        "audio_data": [
            {"audio_url": audio_url, "song_name": song, "licenses": "CC-BY-4.0"}
            for _ in range(rng.randint(1, 2))
        ],
        "version": 1,
        "chunkIndex": index,
    }


def build_events(target_bytes: int, seed: int) -> list[bytes]:
    """Soundverse-like SSE, one entry per event: a data line of JSON, keep-alives, some CRLF."""
    rng = random.Random(seed)
    events: list[bytes] = []
    size = 0
    while size < target_bytes:
        for chunk in _job_chunks(rng, v7=rng.random() < 0.5):
            if rng.random() < 0.1:
                events.append(KEEP_ALIVE)
            ending = "\r\n" if rng.random() < 0.05 else "\n"
            event = f"data: {json.dumps(chunk, ensure_ascii=False)}{ending}{ending}".encode()
            events.append(event)
            size += len(event)
    return events


def split_stream(stream: bytes, seed: int, smallest: int, largest: int) -> list[bytes]:
    """Cut the stream into chunks of random sizes, as a socket would deliver it."""
    rng = random.Random(seed)
    chunks: list[bytes] = []
    position = 0
    while position < len(stream):
        size = rng.randint(smallest, largest)
        chunks.append(stream[position : position + size])
        position += size
    return chunks


def parse_ours(chunks: list[bytes]) -> list[ServerSentEvent]:
    parser = SSEParser()
    events = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.close())
    return events


def parse_httpx_sse(chunks: list[bytes]) -> list[HttpxEvent]:
    """The pipeline of ``httpx_sse.EventSource.aiter_sse``: text decoder, line decoder, SSE."""
    text_decoder = TextDecoder("utf-8")
    line_decoder = SSELineDecoder()
    decoder = SSEDecoder()
    events: list[HttpxEvent] = []

    def decode_lines(lines: list[str]) -> None:
        for line in lines:
            sse = decoder.decode(line.rstrip("\n"))
            if sse is not None:
                events.append(sse)

    for chunk in chunks:
        text = text_decoder.decode(chunk)
        if text:
            decode_lines(line_decoder.decode(text))
    text = text_decoder.flush()
    if text:
        decode_lines(line_decoder.decode(text))
    decode_lines(line_decoder.flush())
    return events


def as_tuples(events: list[ServerSentEvent] | list[HttpxEvent]) -> list[EventTuple]:
    return [(event.event, event.data, event.id, event.retry) for event in events]


def best_times(parsers: dict[str, Parse], chunks: list[bytes], runs: int) -> dict[str, float]:
    """Best wall time of each parser; runs alternate so that machine load hits both alike."""
    best = dict.fromkeys(parsers, float("inf"))
    for _ in range(runs):
        for name, parse in parsers.items():
            start = time.perf_counter()
            parse(chunks)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def compare(label: str, chunks: list[bytes], runs: int) -> list[str]:
    """Table rows for one way of cutting the stream; both parsers must agree on the events."""
    ours = as_tuples(parse_ours(chunks))
    if ours != as_tuples(parse_httpx_sse(chunks)):
        raise SystemExit(f"the two parsers disagree on the events ({label})")
    reference = f"httpx-sse {version('httpx-sse')}"
    results = best_times(
        {"bot.soundverse.sse": parse_ours, reference: parse_httpx_sse}, chunks, runs
    )
    megabytes = sum(map(len, chunks)) / 1e6
    return [
        f"| {name} | {label} | {megabytes / seconds:,.1f} | {len(ours) / seconds:,.0f} "
        f"| {results[reference] / seconds:.2f}× |"
        for name, seconds in results.items()
    ]


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--megabytes", type=float, default=4.0, help="stream size (MB)")
    arguments.add_argument("--runs", type=int, default=15, help="timed runs; the best counts")
    arguments.add_argument("--min-chunk", type=int, default=1024, help="smallest chunk (bytes)")
    arguments.add_argument("--max-chunk", type=int, default=16 * 1024, help="largest chunk (bytes)")
    arguments.add_argument("--seed", type=int, default=2026)
    options = arguments.parse_args()

    events = build_events(int(options.megabytes * 1_000_000), options.seed)
    stream = b"".join(events)
    random_chunks = split_stream(stream, options.seed, options.min_chunk, options.max_chunk)
    keep_alives = events.count(KEEP_ALIVE)
    print(
        f"Python {platform.python_version()}, {len(stream) / 1e6:.2f} MB of Soundverse-like SSE: "
        f"{len(events) - keep_alives} events, {keep_alives} keep-alives; "
        f"best of {options.runs} runs"
    )
    print()
    print("| Parser | Chunks | MB/s | events/s | vs httpx-sse |")
    print("|---|---|---:|---:|---:|")
    sizes = f"{options.min_chunk / 1024:g}-{options.max_chunk / 1024:g} KiB"
    for row in compare(f"random {sizes} ({len(random_chunks)})", random_chunks, options.runs):
        print(row)
    for row in compare(f"one event each ({len(events)})", events, options.runs):
        print(row)


if __name__ == "__main__":
    main()
