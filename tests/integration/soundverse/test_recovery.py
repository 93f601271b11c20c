"""Streams cut short by the stand-in's faults are recovered through status, never re-posted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.soundverse import (
    GenerationFailed,
    GenerationStream,
    JobDeadlineExceeded,
    JobNotStarted,
    JobState,
    SongRequest,
    SongVersion,
    SoundverseClient,
    nothing_billed,
)
from sandbox.soundverse import SoundverseStandIn
from tests.integration.soundverse.conftest import FakeTime

SONG = "/v5/generate/song"
SONG_V7 = "/v7/generate/song"
ClientFactory = Callable[..., SoundverseClient]
RECOVERY_LOG = "following it through status"


def recovered(caplog: pytest.LogCaptureFixture) -> bool:
    """Whether the client logged that it switched from the stream to status polling."""
    return any(RECOVERY_LOG in record.getMessage() for record in caplog.records)


def wake_when_done(
    fake_time: FakeTime, standin: SoundverseStandIn, stream: GenerationStream
) -> None:
    """Make the fake sleep return once the stream's job is terminal on the stand-in."""

    async def job_done() -> None:
        assert stream.message_id is not None
        await standin.wait_for_job_terminal(stream.message_id)

    fake_time.wake_on = job_done


async def states_of(stream: GenerationStream) -> list[JobState]:
    """Every state a stream yields."""
    return [state async for state in stream]


@pytest.mark.parametrize("fault", ["drop:2", "early-end:2"])
async def test_cut_stream_recovers_through_status_with_one_post(
    client: SoundverseClient,
    standin: SoundverseStandIn,
    fake_time: FakeTime,
    fault: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A dropped or early-ended stream completes through v5 status; the song was POSTed once."""
    standin.inject(fault, path=SONG)
    stream = client.stream_song(SongRequest(prompt="trains"))
    wake_when_done(fake_time, standin, stream)
    await stream.wait()
    assert len(stream.result.takes) == 2
    assert recovered(caplog)
    assert standin.counters.posts == {SONG: 1}
    assert standin.counters.jobs_started == 1


async def test_stalled_stream_recovers_after_the_idle_timeout(
    make_client: ClientFactory,
    standin: SoundverseStandIn,
    fake_time: FakeTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stream silent for longer than `idle_timeout` is followed through status, one POST."""
    client = make_client(idle_timeout=0.2)
    standin.inject("stall:2", path=SONG)
    stream = client.stream_song(SongRequest(prompt="trains"))
    wake_when_done(fake_time, standin, stream)
    result = await stream.wait()
    assert result.message_id == stream.message_id
    assert any("no data for 0.2 s" in record.getMessage() for record in caplog.records)
    assert standin.counters.posts == {SONG: 1}


async def test_recovered_states_come_from_status_polls(
    client: SoundverseClient, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """After a drop, the states yielded continue to a completed one with takes."""
    standin.inject("drop:2", path=SONG)
    stream = client.stream_song(SongRequest(prompt="trains"))
    wake_when_done(fake_time, standin, stream)
    states = await states_of(stream)
    assert states[-1].stage == "completed"
    assert states[-1].takes


async def test_v7_stream_drop_recovers_by_job_id(
    client: SoundverseClient,
    standin: SoundverseStandIn,
    fake_time: FakeTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A dropped v7 stream is recovered through /v7/status by its job id, one POST."""
    standin.inject("drop:1", path=SONG_V7)
    stream = client.stream_song(SongRequest(prompt="trains"), SongVersion.V7)
    states: list[JobState] = []

    async def job_done() -> None:
        await standin.wait_for_job_terminal(states[0].message_id or stream.state.message_id or "")

    fake_time.wake_on = job_done
    async for state in stream:
        states.append(state)
    assert states[0].job_id is not None
    assert stream.result.job_id == states[0].job_id
    assert recovered(caplog)
    assert standin.counters.posts == {SONG_V7: 1}


async def test_backoff_doubles_and_is_capped(
    make_client: ClientFactory, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """Status polls wait 1, 2, 4 ... seconds, capped at `poll_backoff_max`."""
    client = make_client(poll_backoff_max=3.0, job_deadline=10_000)
    standin.inject("drop:2", path=SONG)
    stream = client.stream_song(SongRequest(prompt="trains"))
    polls = 0

    async def finish_after_four_polls() -> None:
        nonlocal polls
        polls += 1
        if polls == 4:
            assert stream.message_id is not None
            standin.time_scale = 0.001
            await standin.wait_for_job_terminal(stream.message_id)

    standin.time_scale = 0.05
    fake_time.wake_on = finish_after_four_polls
    await stream.wait()
    assert fake_time.sleeps[:4] == [1.0, 2.0, 3.0, 3.0]


async def test_deadline_ends_recovery(
    make_client: ClientFactory, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """Polling stops with `JobDeadlineExceeded` once `job_deadline` has passed on the clock."""
    client = make_client(job_deadline=5.0)
    standin.time_scale = 0.05
    standin.inject("drop:2", path=SONG)
    stream = client.stream_song(SongRequest(prompt="trains"))
    with pytest.raises(JobDeadlineExceeded) as caught:
        await stream.wait()
    assert caught.value.message_id == stream.message_id is not None
    assert sum(fake_time.sleeps) == pytest.approx(5.0)
    assert standin.counters.posts == {SONG: 1}


async def test_drop_before_the_id_is_not_started(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """A stream dropped before any id arrives is `JobNotStarted` (nothing billed), no retry."""
    standin.inject("drop:1", path=SONG)
    with pytest.raises(JobNotStarted) as caught:
        await client.stream_song(SongRequest(prompt="trains")).wait()
    assert nothing_billed(caught.value)
    assert "not started, not billed" in str(caught.value)
    assert standin.counters.posts == {SONG: 1}


async def test_unreachable_server_is_not_started(make_client: ClientFactory) -> None:
    """A stream to a closed port is `JobNotStarted`."""
    client = make_client(base_url="http://127.0.0.1:9")
    with pytest.raises(JobNotStarted, match="could not connect"):
        await client.stream_song(SongRequest(prompt="trains")).wait()


async def test_failed_event_raises_generation_failed(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """A `failed` terminal event raises `GenerationFailed` with the error text and the id."""
    standin.inject("fail:2", path=SONG)
    stream = client.stream_song(SongRequest(prompt="trains"))
    with pytest.raises(GenerationFailed) as caught:
        await stream.wait()
    assert caught.value.error_text == "Generation failed (sandbox fault)"
    assert caught.value.message_id == stream.message_id is not None
    assert not nothing_billed(caught.value)


async def test_failed_state_is_yielded_before_the_error(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """The failed state itself is observable before `GenerationFailed` is raised."""
    standin.inject("fail:3", path=SONG)
    states: list[JobState] = []
    with pytest.raises(GenerationFailed):
        async for state in client.stream_song(SongRequest(prompt="trains")):
            states.append(state)
    assert states[-1].is_failed and states[-1].stage == "failed"


async def test_drip_delays_events_but_completes_without_recovery(
    client: SoundverseClient, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """A slow (dripping) stream still completes on the stream itself: no status poll."""
    standin.inject("drip:20", path=SONG)
    result = await client.stream_song(SongRequest(prompt="trains")).wait()
    assert len(result.takes) == 2
    assert fake_time.sleeps == []


async def test_drip_slower_than_idle_timeout_before_the_id_is_not_started(
    make_client: ClientFactory, standin: SoundverseStandIn
) -> None:
    """A first event slower than `idle_timeout` ends the stream before any id: `JobNotStarted`."""
    client = make_client(idle_timeout=0.05)
    standin.inject("drip:150", path=SONG)
    with pytest.raises(JobNotStarted, match=r"no data for 0\.05 s"):
        await client.stream_song(SongRequest(prompt="trains")).wait()
    assert standin.counters.posts == {SONG: 1}
