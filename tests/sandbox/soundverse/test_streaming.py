"""SSE streams (contract 11.2) and the status endpoints (11.3)."""

from __future__ import annotations

import asyncio

import aiohttp

from sandbox.soundverse import SoundverseStandIn
from tests.sandbox.soundverse.conftest import AUTH, Api, SleepGate, SourceAudio


async def test_stage_order(api: Api) -> None:
    """Stages run initializing, validated, streaming..., uploading..., completed."""
    status, events = await api.stream("/v5/generate/song", {"prompt": "lofi rain", "duration": 5})
    assert status == 200
    stages = [event["status"] for event in events]
    assert stages[:2] == ["initializing", "validated"]
    assert stages[-1] == "completed"
    middle = stages[2:-1]
    assert middle == sorted(middle, key=["streaming", "uploading"].index)
    assert {"streaming", "uploading"} == set(middle)


async def test_chunk_indexes_count_up(api: Api) -> None:
    """chunkIndex numbers the events 0, 1, 2, ..."""
    _, events = await api.stream("/v5/generate/music", {"prompt": "jazz"})
    assert [event["chunkIndex"] for event in events] == list(range(len(events)))


async def test_first_chunk_is_bare_initializing(api: Api) -> None:
    """The first v5 event is {"isComplete": false, "status": "initializing", "chunkIndex": 0}."""
    _, events = await api.stream("/v5/generate/song", {"prompt": "lofi"})
    assert events[0] == {"isComplete": False, "status": "initializing", "chunkIndex": 0}


async def test_validated_carries_id_title_and_art(api: Api) -> None:
    """The validated event reveals message_id, song_name and album_art."""
    _, events = await api.stream("/v5/generate/song", {"prompt": "lofi"})
    validated = events[1]
    assert len(validated["message_id"]) == 24
    assert validated["song_name"]
    assert validated["album_art"].endswith("_album_art.png")


async def test_progress_rises_through_streaming_and_uploading(api: Api) -> None:
    """Progress never falls; streaming stays within 0-90, uploading within 90-99."""
    _, events = await api.stream("/v6/generate/song", {"prompt": "lofi"})
    progress = [e["progress"] for e in events if "progress" in e]
    assert progress == sorted(progress)
    assert all(0 <= e["progress"] <= 90 for e in events if e["status"] == "streaming")
    assert all(90 <= e["progress"] <= 99 for e in events if e["status"] == "uploading")
    assert all(
        e["streaming_ready"] and e["stream_url"] for e in events if e["status"] == "streaming"
    )


async def test_completed_event_lists_takes(api: Api) -> None:
    """The completed event has progress 100, audio_url and two takes for a v5 song."""
    _, events = await api.stream("/v5/generate/song", {"prompt": "lofi"})
    final = events[-1]
    assert final["isComplete"] is True and final["progress"] == 100
    assert len(final["audio_data"]) == 2
    assert final["audio_url"] == final["audio_data"][0]["audio_url"]


async def test_music_stream_has_one_take(api: Api) -> None:
    """A v5 instrumental finishes with a single take."""
    _, events = await api.stream("/v5/generate/music", {"prompt": "jazz"})
    assert len(events[-1]["audio_data"]) == 1


async def test_v7_stream_starts_with_job_created(api: Api) -> None:
    """v7 song streams open with {"type": "job_created", "job_id", "chunkIndex": 0}."""
    _, events = await api.stream("/v7/generate/song", {"prompt": "lofi"})
    assert set(events[0]) == {"type", "job_id", "chunkIndex"}
    assert events[0]["type"] == "job_created" and events[0]["chunkIndex"] == 0
    assert events[1]["status"] == "initializing"


async def test_remix_stream_has_no_job_created(api: Api, source_audio: SourceAudio) -> None:
    """v7 remix is SSE without the job_created event."""
    body = {"song_reference_url": source_audio(seconds=12.0), "prompt": "drum and bass"}
    _, events = await api.stream("/v7/generate/remix", body)
    assert events[0]["status"] == "initializing"
    assert events[-1]["status"] == "completed"


async def test_stream_content_type(api: Api) -> None:
    """Streams are served as text/event-stream."""
    url = api.base_url + "/v5/generate/song"
    async with api.session.post(url, json={"prompt": "x"}, headers=AUTH) as response:
        assert response.content_type == "text/event-stream"
        await response.read()


async def test_keep_alive_comments_while_job_is_slow(
    gated_standin: SoundverseStandIn, gate: SleepGate
) -> None:
    """A ': ping' comment line arrives while no event is due, and the stream then goes on."""
    url = gated_standin.url + "/v5/generate/song"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"prompt": "x"}, headers=AUTH) as response,
    ):
        while (line := await response.content.readline()) != b": ping\n":
            assert line.startswith(b"data: ") or line == b"\n"
        gate.release.set()
        rest = await response.text()
    assert '"completed"' in rest


async def test_status_reports_completed_job(api: Api) -> None:
    """/v5/status returns status, message_id, progress, song_name, album_art and audio_data."""
    _, events = await api.stream("/v5/generate/song", {"prompt": "lofi"})
    message_id = events[-1]["message_id"]
    status, body = await api.get("/v5/status", message_id=message_id)
    assert status == 200
    assert body["status"] == "completed" and body["progress"] == 100
    assert body["message_id"] == message_id
    assert body["audio_data"] == events[-1]["audio_data"]
    assert body["song_name"] == events[-1]["song_name"]


async def test_status_of_unknown_id_is_not_found(api: Api) -> None:
    """An unknown message_id is 404 {"detail": "Not found"}."""
    assert await api.get("/v5/status", message_id="0" * 24) == (404, {"detail": "Not found"})


async def test_status_without_id_is_422(api: Api) -> None:
    """A missing message_id is a FastAPI 422 on the query parameter."""
    status, body = await api.get("/v5/status")
    assert status == 422
    assert body["detail"][0]["loc"] == ["query", "message_id"]


async def test_v7_status_by_job_id(api: Api) -> None:
    """/v7/status?job_id= reports the v7 job with its job_id."""
    _, events = await api.stream("/v7/generate/song", {"prompt": "lofi"})
    job_id = events[0]["job_id"]
    status, body = await api.get("/v7/status", job_id=job_id)
    assert status == 200
    assert body["job_id"] == job_id and body["status"] == "completed"


async def test_sync_job_appears_in_status(api: Api) -> None:
    """A job started by a /sync call can be looked up in /v5/status."""
    _, reply = await api.post("/v5/generate/music/sync", {"prompt": "jazz"})
    status, body = await api.get("/v5/status", message_id=reply["message_id"])
    assert (status, body["status"]) == (200, "completed")


async def test_status_follows_a_running_job(
    gated_standin: SoundverseStandIn, gate: SleepGate
) -> None:
    """Status shows the streaming stage while the job is held, and the sync reply follows."""
    async with aiohttp.ClientSession() as session:
        api = Api(session, gated_standin.url)
        reply_task = asyncio.create_task(api.post("/v5/generate/song/sync", {"prompt": "x"}))
        await gate.reached.wait()
        (job,) = gated_standin.jobs
        status, body = await api.get("/v5/status", message_id=job.message_id)
        assert (status, body["status"], body["audio_data"]) == (200, "streaming", [])
        gate.release.set()
        _, reply = await reply_task
    assert reply["message_id"] == job.message_id


async def test_job_record_for_assertions(api: Api, standin: SoundverseStandIn) -> None:
    """standin.job() finds a job by message_id or job_id, with its state, progress and takes."""
    _, events = await api.stream("/v7/generate/song", {"prompt": "lofi"})
    job = standin.job(events[-1]["message_id"])
    assert standin.job(events[0]["job_id"]) is job
    assert (job.state, job.progress, len(job.takes)) == ("completed", 100, 2)


async def test_album_art_is_served_once_announced(
    gated_standin: SoundverseStandIn, gate: SleepGate
) -> None:
    """The album_art URL of the validated event already serves the PNG while the job runs."""
    async with aiohttp.ClientSession() as session:
        api = Api(session, gated_standin.url)
        reply_task = asyncio.create_task(api.post("/v5/generate/song/sync", {"prompt": "x"}))
        await gate.reached.wait()
        (job,) = gated_standin.jobs
        status, content_type, _ = await api.download(job.album_art)
        gate.release.set()
        await reply_task
    assert (status, content_type) == (200, "image/png")
