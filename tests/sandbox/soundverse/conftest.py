"""Fixtures for the local Soundverse's own tests: a running stand-in, a client, source audio."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from sandbox.soundverse import SoundverseStandIn
from sandbox.soundverse.media import AudioFormat, render_audio

API_KEY = "test-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
SourceAudio = Callable[..., str]


def sse_events(text: str) -> list[dict[str, Any]]:
    """The JSON objects of the `data:` lines of an SSE body."""
    lines = text.splitlines()
    return [json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: ")]


class Api:
    """Calls the stand-in over real HTTP with the test key."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def post(
        self, path: str, body: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """POST JSON; the status and the decoded JSON (or text) body."""
        async with self.session.post(
            self.base_url + path, json=body, headers={**AUTH, **(headers or {})}
        ) as response:
            return response.status, await _decoded(response)

    async def stream(
        self, path: str, body: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """POST to an SSE route and read the stream to its end; the status and the events."""
        async with self.session.post(
            self.base_url + path, json=body, headers={**AUTH, **(headers or {})}
        ) as response:
            return response.status, sse_events(await response.text())

    async def get(self, path: str, **params: str) -> tuple[int, Any]:
        """GET with query parameters; the status and the decoded body."""
        async with self.session.get(self.base_url + path, params=params, headers=AUTH) as response:
            return response.status, await _decoded(response)

    async def download(self, url: str) -> tuple[int, str, bytes]:
        """GET an absolute URL without auth; status, content type and body."""
        async with self.session.get(url) as response:
            return response.status, response.content_type, await response.read()


async def _decoded(response: aiohttp.ClientResponse) -> Any:
    """JSON bodies decoded, others as text."""
    text = await response.text()
    return json.loads(text) if response.content_type == "application/json" else text


class SleepGate:
    """A job sleep function that blocks from pause number `hold_at` on, until released."""

    def __init__(self, hold_at: int) -> None:
        self.hold_at = hold_at
        self.calls = 0
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        """Return at once before the hold point; afterwards wait for `release`."""
        self.calls += 1
        if self.calls >= self.hold_at:
            self.reached.set()
            await self.release.wait()


@pytest.fixture
def gate() -> SleepGate:
    """Holds jobs at their third pause (in the streaming stage)."""
    return SleepGate(hold_at=3)


@pytest.fixture
async def gated_standin(gate: SleepGate) -> AsyncIterator[SoundverseStandIn]:
    """A stand-in whose jobs stop at `gate` until the test releases them."""
    server = SoundverseStandIn(api_keys={API_KEY}, time_scale=0.001, sleep=gate)
    await server.start()
    yield server
    gate.release.set()
    await server.stop()


@pytest.fixture
async def standin() -> AsyncIterator[SoundverseStandIn]:
    """A stand-in on a random loopback port, running a thousand times faster than real."""
    server = SoundverseStandIn(api_keys={API_KEY}, time_scale=0.001, seed=0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def api(standin: SoundverseStandIn) -> AsyncIterator[Api]:
    """A client of the running stand-in."""
    async with aiohttp.ClientSession() as session:
        yield Api(session, standin.url)


@pytest.fixture
def source_audio(standin: SoundverseStandIn) -> SourceAudio:
    """Publish a source audio file on the stand-in's storage and return its absolute URL."""

    def publish(seconds: float = 12.0, fmt: AudioFormat = "mp3", seed: int = 7) -> str:
        path = f"/storage/x-one/{'a' * 24}/{'b' * 24}/source_{seed}_{seconds:g}.{fmt}"
        content_type = "audio/mpeg" if fmt == "mp3" else "audio/wav"
        standin.files.put(path, render_audio(seed, seconds, fmt), content_type)
        return standin.url + path

    return publish
