"""Streaming audio to disk for the Soundverse client: host allow-list and size cap (section 11.5).

Every hop of a download (redirects are followed one at a time) must be on an allowed host,
and no host but the API's own may lead to a loopback, private or link-local address: not by
an address in the URL, and not by what its name resolves to (`PublicAddressResolver`). A file
is written under a temporary name and renamed only when complete, so a refused or broken
transfer never leaves a partial file at the destination.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncGenerator, AsyncIterable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

from bot.soundverse.errors import DownloadRefusal, DownloadRefused

MAX_REDIRECTS = 5


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


def check_download_url(url: str, hosts: frozenset[str], trusted: frozenset[str]) -> None:
    """Raise `DownloadRefused` unless `url` is http(s) on an allowed host, and, when that host
    is an address, a public one (or a `trusted` host: the API's own)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or host not in hosts:
        shown = host or url[:80]
        raise DownloadRefused(
            DownloadRefusal.HOST, f"Refused to download from {shown}: not an allowed audio host"
        )
    if host not in trusted and not is_public_address(host, default=True):
        raise refuse_address(host)


def is_public_address(text: str, *, default: bool) -> bool:
    """Whether `text` is a globally routable address; `default` when it is not an address."""
    try:
        return ipaddress.ip_address(text).is_global
    except ValueError:
        return default


def refuse_address(host: str) -> DownloadRefused:
    """The refusal for a host that leads to a loopback, private or link-local address."""
    return DownloadRefused(
        DownloadRefusal.HOST,
        f"Refused to download from {host}: it leads to a private or local address",
    )


class NonPublicAddress(OSError):
    """A name resolved only to addresses a download must not reach."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} resolves only to private or local addresses")
        self.host = host


class PublicAddressResolver(ThreadedResolver):
    """aiohttp's resolver, keeping only public addresses, except for `trusted` hosts (the API's
    own, which an operator may well run on a private network or on this machine)."""

    def __init__(self, trusted: frozenset[str]) -> None:
        super().__init__()
        self._trusted = trusted

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await super().resolve(host, port, family)
        if host.lower() in self._trusted:
            return results
        public = [result for result in results if is_public_address(result["host"], default=False)]
        if not public:
            raise NonPublicAddress(host)
        return public


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
