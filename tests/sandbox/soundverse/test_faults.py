"""Injected faults (contract 11.6), the control endpoints and the counters."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from sandbox.soundverse import SoundverseStandIn
from tests.sandbox.soundverse.conftest import AUTH, Api, SleepGate


async def read_until_cut(response: aiohttp.ClientResponse) -> tuple[list[dict[str, Any]], bool]:
    """The events read before the stream ended, and whether it ended with an error."""
    events = []
    try:
        async for line in response.content:
            if line.startswith(b"data: "):
                events.append(json.loads(line[len(b"data: ") :]))
    except aiohttp.ClientPayloadError:
        return events, True
    return events, False


async def open_stream(api: Api, fault: str, path: str = "/v5/generate/song") -> Any:
    """Start a stream whose request carries `fault` in X-Sandbox-Fault."""
    headers = {**AUTH, "X-Sandbox-Fault": fault}
    return api.session.post(api.base_url + path, json={"prompt": "lofi"}, headers=headers)


async def test_drop_aborts_after_n_events(api: Api, standin: SoundverseStandIn) -> None:
    """drop:2 aborts the connection after two events; the job still completes."""
    async with await open_stream(api, "drop:2") as response:
        events, broken = await read_until_cut(response)
    assert broken
    assert [e["status"] for e in events] == ["initializing", "validated"]
    job = await standin.wait_for_job_terminal(events[1]["message_id"])
    status, body = await api.get("/v5/status", message_id=job.message_id)
    assert (status, body["status"]) == (200, "completed")


async def test_early_end_finishes_cleanly_without_terminal_event(
    api: Api, standin: SoundverseStandIn
) -> None:
    """early-end:3 ends the body cleanly after three events; the job goes on to complete."""
    async with await open_stream(api, "early-end:3") as response:
        events, broken = await read_until_cut(response)
    assert not broken
    assert len(events) == 3 and not any(e["isComplete"] for e in events)
    job = await standin.wait_for_job_terminal(events[1]["message_id"])
    assert job.state == "completed"


async def test_stall_goes_silent_but_job_completes(api: Api, standin: SoundverseStandIn) -> None:
    """stall:2 sends two events then nothing (not even pings) while the job completes."""
    async with await open_stream(api, "stall:2") as response:
        first = [await response.content.readline() for _ in range(4)]
        message_id = json.loads(first[2][len(b"data: ") :])["message_id"]
        job = await standin.wait_for_job_terminal(message_id)
        assert job.state == "completed"
        assert response.content.read_nowait() == b""
        assert not response.content.at_eof()


async def test_fail_emits_failed_event(api: Api, standin: SoundverseStandIn) -> None:
    """fail:3 ends the stream with a failed event after three events; status says failed."""
    async with await open_stream(api, "fail:3") as response:
        events, _ = await read_until_cut(response)
    assert len(events) == 4
    assert events[-1]["isComplete"] is True and events[-1]["status"] == "failed"
    assert events[-1]["error"] == "Generation failed (sandbox fault)"
    _, body = await api.get("/v5/status", message_id=events[1]["message_id"])
    assert (body["status"], body["error"]) == ("failed", "Generation failed (sandbox fault)")


async def test_fail_on_sync_is_500(api: Api) -> None:
    """fail:N on a sync endpoint answers 500 {"Detail": ...}."""
    status, body = await api.post(
        "/v5/generate/song/sync", {"prompt": "x"}, {"X-Sandbox-Fault": "fail:2"}
    )
    assert status == 500
    assert body == {"Detail": "Generation failed (sandbox fault)"}


@pytest.mark.parametrize(
    ("spec", "status", "body"),
    [
        ("status:401", 401, {"detail": "Invalid API key"}),
        ("status:429", 429, {"detail": "Rate limit exceeded"}),
        ("status:500", 500, {"Detail": "Generation failed"}),
        ("status:504", 504, {"detail": "Gateway Timeout"}),
    ],
)
async def test_status_faults(
    api: Api, standin: SoundverseStandIn, spec: str, status: int, body: dict[str, str]
) -> None:
    """status:N answers at once with the contract's body and starts no job."""
    assert await api.post("/v5/generate/song", {"prompt": "x"}, {"X-Sandbox-Fault": spec}) == (
        status,
        body,
    )
    assert standin.counters.jobs_started == 0
    assert standin.counters.posts == {"/v5/generate/song": 1}


async def test_status_422_fault_is_fastapi_list_on_prompt(api: Api) -> None:
    """status:422 answers the FastAPI list form on field prompt."""
    status, body = await api.post(
        "/v5/generate/song", {"prompt": "x"}, {"X-Sandbox-Fault": "status:422"}
    )
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "prompt"]


@pytest.mark.parametrize(("spec", "retry_after"), [("status:429", "1"), ("status:429:3", "3")])
async def test_rate_limit_fault_sets_retry_after(api: Api, spec: str, retry_after: str) -> None:
    """429 faults carry Retry-After (1 by default, or the given seconds)."""
    async with api.session.post(
        api.base_url + "/v5/generate/song/sync",
        json={"prompt": "x"},
        headers={**AUTH, "X-Sandbox-Fault": spec},
    ) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == retry_after


@pytest.mark.parametrize(
    ("spec", "start"), [("moderation:nsfw", "NSFW words"), ("moderation:artist", "Artist name")]
)
async def test_moderation_faults(api: Api, spec: str, start: str) -> None:
    """Moderation faults refuse with 400 {success: false, message}."""
    status, body = await api.post("/v5/generate/music", {"prompt": "x"}, {"X-Sandbox-Fault": spec})
    assert status == 400
    assert body["success"] is False and body["message"].startswith(start)


async def test_drip_delays_sync_reply(api: Api) -> None:
    """drip:MS holds the sync reply back at least MS milliseconds."""
    started = time.monotonic()
    status, _ = await api.post(
        "/v5/generate/music/sync", {"prompt": "x"}, {"X-Sandbox-Fault": "drip:150"}
    )
    assert status == 200
    assert time.monotonic() - started >= 0.15


async def test_drip_delays_every_event(api: Api) -> None:
    """drip:MS on a stream delays each event, so the stream lasts events x MS at least."""
    started = time.monotonic()
    _, events = await api.stream(
        "/v5/generate/music", {"prompt": "x"}, {"X-Sandbox-Fault": "drip:20"}
    )
    assert time.monotonic() - started >= len(events) * 0.02


async def test_invalid_fault_header_is_400(api: Api) -> None:
    """An unknown fault spec in the header is refused with 400."""
    status, body = await api.post("/v5/generate/song", {"prompt": "x"}, {"X-Sandbox-Fault": "boom"})
    assert status == 400
    assert "Invalid X-Sandbox-Fault" in body["detail"]


async def test_injected_fault_hits_next_requests_only(api: Api, standin: SoundverseStandIn) -> None:
    """inject(spec, count=2) hits the next two requests, then requests succeed again."""
    standin.inject("status:500", count=2)
    results = [(await api.post("/v5/generate/music/sync", {"prompt": "x"}))[0] for _ in range(3)]
    assert results == [500, 500, 200]


async def test_injected_fault_with_path(api: Api, standin: SoundverseStandIn) -> None:
    """A fault injected for a path leaves other paths alone."""
    standin.inject("status:504", path="/v5/generate/song")
    assert (await api.post("/v5/generate/music/sync", {"prompt": "x"}))[0] == 200
    assert (await api.post("/v5/generate/song/sync", {"prompt": "x"}))[0] == 504


async def test_stream_fault_skips_sync_requests(api: Api, standin: SoundverseStandIn) -> None:
    """A stream-only fault waits for a streaming request instead of hitting a sync one."""
    standin.inject("early-end:1")
    assert (await api.post("/v5/generate/music/sync", {"prompt": "x"}))[0] == 200
    _, events = await api.stream("/v5/generate/music", {"prompt": "x"})
    assert len(events) == 1


async def test_fault_on_status_endpoint(api: Api, standin: SoundverseStandIn) -> None:
    """Faults aimed at /v5/status make status polls fail, e.g. with 500."""
    standin.inject("status:500", path="/v5/status")
    status, _ = await api.get("/v5/status", message_id="x")
    assert status == 500


async def test_fault_on_storage_with_path(api: Api, standin: SoundverseStandIn) -> None:
    """A fault aimed at /storage makes a download fail once."""
    _, reply = await api.post("/v5/generate/music/sync", {"prompt": "x"})
    standin.inject("status:500", path="/storage/")
    url = reply["audio_data"][0]["audio_url"]
    assert (await api.download(url))[0] == 500
    assert (await api.download(url))[0] == 200


async def test_control_faults_endpoint(api: Api) -> None:
    """POST /_sandbox/faults queues a fault for the next request on its path."""
    async with api.session.post(
        api.base_url + "/_sandbox/faults",
        json={"fault": "status:429:2", "count": 1, "path": "/v5/generate/song"},
    ) as response:
        assert response.status == 200
    status, _ = await api.post("/v5/generate/song/sync", {"prompt": "x"})
    assert status == 429


async def test_control_faults_rejects_bad_spec(api: Api) -> None:
    """An unknown spec posted to /_sandbox/faults is 400."""
    async with api.session.post(
        api.base_url + "/_sandbox/faults", json={"fault": "explode"}
    ) as response:
        assert response.status == 400


async def test_counters_endpoint(api: Api) -> None:
    """GET /_sandbox/counters reports POSTs per path, jobs in flight and jobs started."""
    await api.post("/v5/generate/music/sync", {"prompt": "x"})
    await api.post("/v5/generate/music/sync", {"prompt": "y"})
    async with api.session.get(api.base_url + "/_sandbox/counters") as response:
        counters = await response.json()
    assert counters == {"posts": {"/v5/generate/music/sync": 2}, "in_flight": 0, "jobs_started": 2}


async def test_in_flight_counts_running_jobs(
    gated_standin: SoundverseStandIn, gate: SleepGate
) -> None:
    """A held job is in flight; once it completes nothing is."""
    async with aiohttp.ClientSession() as session:
        api = Api(session, gated_standin.url)
        reply_task = asyncio.create_task(api.post("/v5/generate/song/sync", {"prompt": "x"}))
        await gate.reached.wait()
        assert gated_standin.counters.in_flight == 1
        gate.release.set()
        await reply_task
    assert gated_standin.counters.in_flight == 0
    assert gated_standin.counters.jobs_started == 1


async def test_reset_clears_counters_and_jobs(api: Api, standin: SoundverseStandIn) -> None:
    """POST /_sandbox/reset forgets counters, faults and jobs."""
    _, reply = await api.post("/v5/generate/music/sync", {"prompt": "x"})
    standin.inject("status:500")
    async with api.session.post(api.base_url + "/_sandbox/reset") as response:
        assert response.status == 200
    assert standin.counters.posts == {} and standin.counters.jobs_started == 0
    assert (await api.get("/v5/status", message_id=reply["message_id"]))[0] == 404
    assert (await api.post("/v5/generate/music/sync", {"prompt": "x"}))[0] == 200


async def test_time_scale_endpoint(api: Api, standin: SoundverseStandIn) -> None:
    """POST /_sandbox/time-scale changes the scale at run time."""
    async with api.session.post(
        api.base_url + "/_sandbox/time-scale", json={"scale": 0.0005}
    ) as response:
        assert response.status == 200
    assert standin.time_scale == 0.0005


async def test_keepalive_sends_only_comments_after_n_events(api: Api) -> None:
    """keepalive:2 sends two events, then keep-alive comments and nothing else."""
    async with await open_stream(api, "keepalive:2") as response:
        lines: list[bytes] = []
        async for line in response.content:
            lines.append(line)
            if lines.count(b": ping\n") >= 3:
                break
    data = [line for line in lines if line.startswith(b"data: ")]
    assert len(data) == 2 and lines[-1] == b": ping\n"


async def test_error_event_names_the_outage_and_ends(api: Api) -> None:
    """error-event:2 sends two events, then `event: error` with a detail, then ends."""
    async with await open_stream(api, "error-event:2") as response:
        body = await response.read()
    assert body.count(b"data: {") == 3
    assert b'event: error\ndata: {"detail": "The generation service is temporarily' in body


async def test_flood_never_ends_its_event(api: Api) -> None:
    """flood:1 sends one event, then data lines with no blank line between them."""
    async with await open_stream(api, "flood:1") as response:
        received = b""
        async for chunk in response.content.iter_any():
            received += chunk
            if len(received) > 300_000:
                break
    after_first = received.split(b"\n\n", 1)[1]
    assert after_first.startswith(b"data: xxx") and b"\n\n" not in after_first


async def test_error_body_answers_200_with_json(api: Api) -> None:
    """error-body answers 200 with a JSON detail instead of a stream."""
    async with await open_stream(api, "error-body") as response:
        assert (response.status, response.content_type) == (200, "application/json")
        assert (await response.json())["detail"].startswith("The generation service")


async def test_html_answers_a_proxy_error_page(api: Api) -> None:
    """html:502 answers 502 with an HTML page."""
    async with await open_stream(api, "html:502") as response:
        assert (response.status, response.content_type) == (502, "text/html")
        assert "<title>502 Bad Gateway</title>" in await response.text()


async def test_redirect_points_at_localhost(api: Api) -> None:
    """redirect:307 answers 307 to the same path on `localhost`."""
    headers = {**AUTH, "X-Sandbox-Fault": "redirect:307"}
    async with api.session.post(
        api.base_url + "/v5/generate/song",
        json={"prompt": "lofi"},
        headers=headers,
        allow_redirects=False,
    ) as response:
        assert response.status == 307
        assert response.headers["Location"].startswith("http://localhost:")
        assert response.headers["Location"].endswith("/v5/generate/song")


async def test_empty_completes_without_audio(api: Api) -> None:
    """empty makes the completed event carry no audio at all."""
    async with await open_stream(api, "empty") as response:
        events, _ = await read_until_cut(response)
    final = events[-1]
    assert final["status"] == "completed"
    assert not {"audio_url", "audio_data"} & set(final)
