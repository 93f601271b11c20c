"""Streaming audio to disk for the Soundverse client: host allow-list and size cap (section 11.5).

A file is written under a temporary name and renamed only when complete, so a refused or
broken transfer never leaves a partial file at the destination.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.soundverse.errors import DownloadRefusal, DownloadRefused


@dataclass(frozen=True, slots=True)
class DownloadedFile:
    """A file written to disk: where, how many bytes, and the server's content type."""

    path: Path
    bytes: int
    content_type: str | None


def allowed_hosts(configured: Iterable[str], base_url: str) -> frozenset[str]:
    """The download allow-list: the configured hosts plus the host of the API base URL."""
    hosts = {host.strip().lower() for host in configured if host.strip()}
    base_host = urlsplit(base_url).hostname
    if base_host:
        hosts.add(base_host.lower())
    return frozenset(hosts)


def check_download_url(url: str, hosts: frozenset[str]) -> None:
    """Raise `DownloadRefused` unless `url` is http(s) on an allowed host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or host not in hosts:
        shown = host or url[:80]
        raise DownloadRefused(
            DownloadRefusal.HOST, f"Refused to download from {shown}: not an allowed audio host"
        )


def refuse_size(size: int, max_bytes: int) -> DownloadRefused:
    """The refusal for a file of `size` bytes over the `max_bytes` cap."""
    return DownloadRefused(
        DownloadRefusal.SIZE,
        f"Refused to download a file of {size} bytes or more: the limit is {max_bytes} bytes",
    )


def _partial_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


async def idle_guarded(
    chunks: AsyncIterable[bytes], idle_timeout: float
) -> AsyncGenerator[bytes, None]:
    """`chunks`, raising `TimeoutError` when the next one takes longer than `idle_timeout`."""
    iterator = aiter(chunks)
    while True:
        try:
            async with asyncio.timeout(idle_timeout):
                chunk = await anext(iterator)
        except StopAsyncIteration:
            return
        yield chunk


async def write_capped(chunks: AsyncIterable[bytes], dest: Path, max_bytes: int) -> int:
    """Write `chunks` to `dest` and return the byte count; over `max_bytes`, nothing is kept."""
    partial = _partial_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        # Chunks are small (tens of KiB) local-disk writes; a thread hop per chunk costs more.
        with partial.open("wb") as file:
            async for chunk in chunks:
                written += len(chunk)
                if written > max_bytes:
                    raise refuse_size(written, max_bytes)
                file.write(chunk)
        partial.replace(dest)
    except BaseException:
        with suppress(FileNotFoundError):
            partial.unlink()
        raise
    return written
