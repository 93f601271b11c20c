"""A Soundverse that misbehaves: every wait bounded, every event bounded, no redirect followed,
and every error said in a sentence. Against the local Soundverse and its faults."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import EndpointSettings, SoundverseSettings
from bot.soundverse import (
    GenerationFailed,
    JobDeadlineExceeded,
    SongRequest,
    SoundverseClient,
    SoundverseError,
    UpstreamError,
)
from bot.soundverse.client import MAX_RETRY_WAIT
from sandbox.soundverse import SoundverseStandIn
from tests.integration.soundverse.conftest import API_KEY, ClientFactory, FakeTime

SONG = "/v5/generate/song"
STATUS = "/v5/status"


def real_time_client(standin: SoundverseStandIn, **settings: Any) -> SoundverseClient:
    """A client on the real clock, for faults that play out in real time."""
    values: dict[str, Any] = {"api_key": SecretStr(API_KEY), "base_url": standin.url}
    values.update(settings)
    return SoundverseClient(SoundverseSettings(**values), EndpointSettings())


async def test_keep_alive_comments_do_not_keep_a_job_past_its_deadline(
    standin: SoundverseStandIn,
) -> None:
    """A stream that sends only keep-alive comments after its id ends at the job deadline."""
    standin.inject("keepalive:2", path=SONG)
    async with real_time_client(standin, job_deadline=0.5, idle_timeout=30) as client:
        started = time.monotonic()
        with pytest.raises(JobDeadlineExceeded):
            await client.stream_song(SongRequest(prompt="trains")).wait()
    assert time.monotonic() - started < 5


async def test_a_day_of_retry_after_is_not_slept(
    make_client: ClientFactory, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """Status polls answered 429 with a Retry-After of a day wait at most MAX_RETRY_WAIT each,
    and never past the job deadline."""
    client = make_client(job_deadline=100.0, retries=10)
    standin.inject("drop:2", path=SONG)
    standin.inject("status:429:86400", count=100, path=STATUS)
    with pytest.raises(SoundverseError):
        await client.stream_song(SongRequest(prompt="trains")).wait()
    assert fake_time.sleeps and max(fake_time.sleeps) <= MAX_RETRY_WAIT
    assert sum(fake_time.sleeps) <= 100.0


async def test_a_status_poll_never_outlasts_the_job_deadline(standin: SoundverseStandIn) -> None:
    """A status endpoint that takes 5 s to answer cannot hold a job with 1 s left."""
    standin.inject("drop:2", path=SONG)
    standin.inject("drip:5000", count=10, path=STATUS)
    async with real_time_client(standin, job_deadline=1.0) as client:
        async with asyncio.timeout(4):
            with pytest.raises(SoundverseError):
                await client.stream_song(SongRequest(prompt="trains")).wait()


async def test_an_event_that_never_ends_is_cut_and_the_job_recovered(
    client: SoundverseClient, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """`data:` lines without an end are refused past the event limit; the job is then
    followed through status and completes, posted once."""
    standin.inject("flood:2", path=SONG)
    stream = client.stream_song(SongRequest(prompt="trains"))

    async def job_done() -> None:
        assert stream.message_id is not None
        await standin.wait_for_job_terminal(stream.message_id)

    fake_time.wake_on = job_done
    result = await stream.wait()
    assert result.takes
    assert standin.counters.posts == {SONG: 1}


@pytest.mark.parametrize("status", [301, 307, 308])
async def test_a_redirected_generation_is_not_sent_again(
    client: SoundverseClient, standin: SoundverseStandIn, status: int
) -> None:
    """A redirect answering a generation POST is refused, never followed: one POST."""
    standin.inject(f"redirect:{status}", path=SONG)
    with pytest.raises(UpstreamError, match="instead of starting the job; it was not sent again"):
        await client.stream_song(SongRequest(prompt="trains")).wait()
    assert standin.counters.posts == {SONG: 1}


async def test_a_redirected_sync_call_is_not_sent_again(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """The same for a sync generation: refused, one POST."""
    standin.inject("redirect:307", path="/v5/generate/song/sync")
    with pytest.raises(UpstreamError, match="redirects are not followed"):
        await client.song_sync(SongRequest(prompt="trains"))
    assert standin.counters.posts == {"/v5/generate/song/sync": 1}


async def test_an_error_body_in_a_200_stream_is_told_as_such(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """A 200 whose body is a JSON error, not a stream, says the upstream reason."""
    standin.inject("error-body", path=SONG)
    with pytest.raises(UpstreamError) as caught:
        await client.stream_song(SongRequest(prompt="trains")).wait()
    assert str(caught.value) == (
        "Soundverse did not start the job: The generation service is temporarily unavailable"
    )


async def test_an_error_event_after_the_id_fails_the_job_with_its_reason(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """`event: error` once the job has an id is a failed generation with the upstream reason."""
    standin.inject("error-event:3", path=SONG)
    stream = client.stream_song(SongRequest(prompt="trains"))
    with pytest.raises(GenerationFailed, match="temporarily unavailable") as caught:
        await stream.wait()
    assert caught.value.message_id == stream.message_id is not None


async def test_an_html_error_page_is_summarised_by_its_status(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """A proxy's HTML 502 page becomes "502 Bad Gateway", without any of its markup."""
    standin.inject("html:502", path=SONG)
    with pytest.raises(UpstreamError) as caught:
        await client.stream_song(SongRequest(prompt="trains")).wait()
    assert str(caught.value) == "Soundverse error 502 Bad Gateway"


async def test_a_job_completed_without_audio_is_a_failure(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """`completed` with no audio at all is not a success with no takes."""
    standin.inject("empty", path=SONG)
    with pytest.raises(GenerationFailed, match="without any audio"):
        await client.stream_song(SongRequest(prompt="trains")).wait()
