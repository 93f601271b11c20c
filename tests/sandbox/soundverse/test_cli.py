"""`python -m sandbox.soundverse`: prints its URL, serves, and stops cleanly on a signal."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

URL_LINE = re.compile(r"^Local Soundverse at (http://127\.0\.0\.1:\d+) \(API key: cli-key\)$")


@pytest.fixture
async def cli() -> AsyncIterator[asyncio.subprocess.Process]:
    """The stand-in running as a separate process on a free port."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sandbox.soundverse", "--port", "0", "--time-scale", "0.001",
        "--api-key", "cli-key",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    yield process
    if process.returncode is None:
        process.kill()
        await process.wait()


async def first_line(process: asyncio.subprocess.Process) -> str:
    """The first line the process prints."""
    assert process.stdout is not None
    return (await process.stdout.readline()).decode().rstrip("\n")


async def test_prints_url_and_key(cli: asyncio.subprocess.Process) -> None:
    """The one line printed names the URL and the API key."""
    assert URL_LINE.match(await first_line(cli))


async def test_serves_with_the_given_key(cli: asyncio.subprocess.Process) -> None:
    """The printed URL answers requests made with the given key."""
    match = URL_LINE.match(await first_line(cli))
    assert match is not None
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            match.group(1) + "/v1/generate/lyrics",
            json={"prompt": "trains"},
            headers={"Authorization": "Bearer cli-key"},
        ) as response,
    ):
        assert response.status == 200


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_stops_cleanly_on_signal(cli: asyncio.subprocess.Process, signum: int) -> None:
    """SIGTERM or SIGINT ends the process with exit status 0."""
    await first_line(cli)
    cli.send_signal(signum)
    assert await cli.wait() == 0
