"""Fixtures for the Soundverse client tests: the local Soundverse on loopback, a client built
against it, a virtual clock/sleep pair, and an audio probe for downloaded files."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import pytest
from pydantic import SecretStr

from bot.config import EndpointSettings, SoundverseSettings
from bot.soundverse import SoundverseClient
from sandbox.soundverse import SoundverseStandIn

API_KEY = "test-key"


@dataclass
class FakeTime:
    """A virtual clock; `sleep` records the duration, advances the clock, then awaits `wake_on`
    (e.g. "the job is terminal on the stand-in") instead of real time."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    wake_on: Callable[[], Awaitable[Any]] | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.wake_on is not None:
            await self.wake_on()


@dataclass(frozen=True)
class AudioProbe:
    """What PyAV decodes from a file."""

    format_names: frozenset[str]
    duration: float


def probe(path: Path) -> AudioProbe:
    """Decode the whole first audio stream of `path`, counting samples for the duration."""
    with av.open(str(path)) as container:
        names = frozenset(container.format.name.split(","))
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return AudioProbe(names, samples / stream.rate)


@pytest.fixture
async def standin() -> AsyncIterator[SoundverseStandIn]:
    """The local Soundverse, fast (time scale 0.001), on a random loopback port."""
    server = SoundverseStandIn(api_keys={API_KEY}, time_scale=0.001)
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    """A virtual clock and sleep for the client under test."""
    return FakeTime()


ClientFactory = Callable[..., SoundverseClient]


@pytest.fixture
async def make_client(
    standin: SoundverseStandIn, fake_time: FakeTime
) -> AsyncIterator[ClientFactory]:
    """Build clients against the stand-in; keyword arguments override `SoundverseSettings`."""
    clients: list[SoundverseClient] = []

    def build(**overrides: Any) -> SoundverseClient:
        values: dict[str, Any] = {"api_key": SecretStr(API_KEY), "base_url": standin.url}
        values.update(overrides)
        client = SoundverseClient(
            SoundverseSettings(**values),
            EndpointSettings(),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> SoundverseClient:
    """A client with default settings against the stand-in."""
    return make_client()


@pytest.fixture
def audio_probe() -> Callable[[Path], AudioProbe]:
    """Decode a downloaded file with PyAV."""
    return probe
