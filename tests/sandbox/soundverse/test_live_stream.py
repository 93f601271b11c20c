"""`stream_url`: the first take as the job makes it, a chunked MP3 body that grows with the
job's streaming steps and ends with the job (contract 11.2 and 11.5)."""

from __future__ import annotations

import asyncio
import io
import json
import math
from collections.abc import AsyncIterator, Callable

import aiohttp
import av
import pytest

from sandbox.soundverse import SoundverseStandIn
from sandbox.soundverse.jobs import Job
from sandbox.soundverse.media import mp3_frame_ends, released_end
from tests.sandbox.soundverse.conftest import API_KEY, AUTH, Api, SleepGate

SECONDS = 30
SONG = {"prompt": "lofi rain", "duration": SECONDS}


async def announced_stream_url(response: aiohttp.ClientResponse) -> str:
    """Read a generation's SSE events until one announces `stream_url`."""
    async for line in response.content:
        if line.startswith(b"data: "):
            event = json.loads(line.removeprefix(b"data: "))
            if "stream_url" in event:
                return str(event["stream_url"])
    raise AssertionError("the stream ended without a stream_url")


async def read_at_least(response: aiohttp.ClientResponse, size: int) -> bytes:
    """Read the body until `size` bytes have arrived (or it ended)."""
    data = b""
    async with asyncio.timeout(5):
        while len(data) < size and (chunk := await response.content.readany()):
            data += chunk
    return data


def made_part(standin: SoundverseStandIn, job: Job, fraction: float) -> bytes:
    """The first `fraction` of the job's first take, cut after a whole MP3 frame."""
    stored = standin.files.get(job.plan.outputs[0].path)
    assert stored is not None
    body = stored.body
    return body[: released_end(mp3_frame_ends(body), len(body), fraction)]


def decoded_seconds(
    source: str | bytes, enough: float = math.inf, opened: Callable[[], object] = lambda: None
) -> float:
    """Seconds of audio PyAV decodes from a URL or from bytes (stopping past `enough`);
    `opened` is called once the container is open."""
    readable = source if isinstance(source, str) else io.BytesIO(source)
    with av.open(readable, "r", timeout=5) as container:
        opened()
        seconds = 0.0
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            seconds += frame.samples / frame.sample_rate
            if seconds >= enough:
                break
    return seconds


@pytest.fixture
async def held_later() -> AsyncIterator[tuple[SoundverseStandIn, SleepGate]]:
    """A stand-in whose jobs stop at their sixth pause: four streaming steps made (40 %)."""
    gate = SleepGate(hold_at=6)
    server = SoundverseStandIn(api_keys={API_KEY}, time_scale=0.001, sleep=gate)
    await server.start()
    yield server, gate
    gate.release.set()
    await server.stop()


async def test_first_audio_arrives_before_the_job_completes(
    gated_standin: SoundverseStandIn, gate: SleepGate
) -> None:
    """While the job is held, the first tenth of the take arrives as chunked audio/mpeg."""
    async with aiohttp.ClientSession() as session:
        url = gated_standin.url + "/v5/generate/song"
        async with session.post(url, json=SONG, headers=AUTH) as events:
            stream_url = await announced_stream_url(events)
            (job,) = gated_standin.jobs
            async with session.get(stream_url) as audio:
                expected = made_part(gated_standin, job, 0.1)
                first = await read_at_least(audio, len(expected))
                finished = job.finished.is_set()
                gate.release.set()
                headers = (audio.content_type, audio.headers.get("Transfer-Encoding"))
                await audio.read()
            await events.read()
    assert (first, finished, headers) == (expected, False, ("audio/mpeg", "chunked"))


async def test_pyav_decodes_the_start_while_the_job_runs(
    gated_standin: SoundverseStandIn, gate: SleepGate
) -> None:
    """av.open(stream_url) plays the first two seconds while the job is still held."""
    async with aiohttp.ClientSession() as session:
        url = gated_standin.url + "/v5/generate/song"
        async with session.post(url, json=SONG, headers=AUTH) as events:
            stream_url = await announced_stream_url(events)
            seconds = await asyncio.to_thread(decoded_seconds, stream_url, 2.0)
            (job,) = gated_standin.jobs
            finished = job.finished.is_set()
            gate.release.set()
            await events.read()
    assert seconds >= 2.0 and not finished


async def test_a_reader_from_the_start_gets_the_whole_track(
    gated_standin: SoundverseStandIn, gate: SleepGate
) -> None:
    """A PyAV reader that joined mid-job decodes, once the job completes, the whole track."""
    async with aiohttp.ClientSession() as session:
        url = gated_standin.url + "/v5/generate/song"
        async with session.post(url, json=SONG, headers=AUTH) as events:
            stream_url = await announced_stream_url(events)
            (job,) = gated_standin.jobs
            loop = asyncio.get_running_loop()
            opened = asyncio.Event()
            reading = asyncio.create_task(
                asyncio.to_thread(
                    decoded_seconds,
                    stream_url,
                    opened=lambda: loop.call_soon_threadsafe(opened.set),
                )
            )
            await opened.wait()
            finished = job.finished.is_set()
            gate.release.set()
            await events.read()
        streamed = await reading
        async with session.get(job.takes[0]["audio_url"]) as response:
            whole = decoded_seconds(await response.read())
    assert (finished, job.state) == (False, "completed")
    assert abs(streamed - whole) < 1e-6 and abs(whole - SECONDS) < 0.05


async def test_a_late_reader_starts_from_the_beginning(
    held_later: tuple[SoundverseStandIn, SleepGate],
) -> None:
    """A reader joining after four streaming steps gets the first 40 % at once, from byte 0."""
    standin, gate = held_later
    async with aiohttp.ClientSession() as session:
        url = standin.url + "/v5/generate/song"
        async with session.post(url, json=SONG, headers=AUTH) as events:
            stream_url = await announced_stream_url(events)
            await gate.reached.wait()
            (job,) = standin.jobs
            async with session.get(stream_url) as audio:
                expected = made_part(standin, job, 0.4)
                first = await read_at_least(audio, len(expected))
                gate.release.set()
                await audio.read()
            await events.read()
    assert first == expected


async def test_after_completion_the_stream_is_the_whole_file(api: Api) -> None:
    """Once the job has completed, stream_url serves the finished file byte for byte."""
    _, events = await api.stream("/v5/generate/song", SONG)
    stream_urls = {event["stream_url"] for event in events if "stream_url" in event}
    (stream_url,) = stream_urls
    streamed = await api.download(stream_url)
    stored = await api.download(events[-1]["audio_url"])
    assert stream_url != events[-1]["audio_url"]
    assert streamed == (200, "audio/mpeg", stored[2])


async def test_a_failed_job_ends_the_stream_cleanly(
    gated_standin: SoundverseStandIn, gate: SleepGate
) -> None:
    """A job failing after three streaming steps ends the stream with its 30 %, in whole frames."""
    async with aiohttp.ClientSession() as session:
        url = gated_standin.url + "/v5/generate/song"
        fail = {**AUTH, "X-Sandbox-Fault": "fail:5"}
        async with session.post(url, json=SONG, headers=fail) as events:
            stream_url = await announced_stream_url(events)
            (job,) = gated_standin.jobs
            async with session.get(stream_url) as audio:
                first = await read_at_least(audio, 1)
                gate.release.set()
                body = first + await audio.read()
            await events.read()
    assert job.state == "failed"
    assert body == made_part(gated_standin, job, 0.3)
    assert abs(decoded_seconds(body) - 0.3 * SECONDS) < 0.1


async def test_a_cancelled_job_ends_the_stream_cleanly(
    gated_standin: SoundverseStandIn, gate: SleepGate
) -> None:
    """Cancelling the running job (a reset) ends the stream with what was made so far."""
    async with aiohttp.ClientSession() as session:
        url = gated_standin.url + "/v5/generate/song"
        async with session.post(url, json=SONG, headers=AUTH) as events:
            stream_url = await announced_stream_url(events)
            (job,) = gated_standin.jobs
            expected = made_part(gated_standin, job, 0.1)
            async with session.get(stream_url) as audio:
                first = await read_at_least(audio, len(expected))
                await gated_standin.reset()
                body = first + await audio.read()
            await events.read()
    assert job.state == "streaming"
    assert body == expected and decoded_seconds(body) > 0


async def test_stream_of_an_unknown_job_is_not_found(api: Api) -> None:
    """A stream URL naming no job is 404 {"detail": "Not found"}."""
    status, body = await api.get("/stream/" + "0" * 24 + ".mp3")
    assert (status, body) == (404, {"detail": "Not found"})
