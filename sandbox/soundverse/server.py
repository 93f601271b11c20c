"""The local Soundverse: an aiohttp server that answers like the Soundverse API (contract 11)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.holds import CLIENT_CLOSED_REQUEST, ClientGone, Hold, HoldPoint, Holds
from sandbox.soundverse.endpoints import (
    CHAT_FIELDS,
    CHAT_PATHS,
    ENDPOINTS,
    LYRICS_FIELDS,
    LYRICS_PATH,
    STATUS_PATHS,
    VOICE_FIELDS,
    VOICE_PATHS,
    Endpoint,
    Transport,
)
from sandbox.soundverse.faults import (
    STREAM_ONLY,
    Fault,
    FaultKind,
    FaultQueue,
    InvalidFault,
    parse_fault,
)
from sandbox.soundverse.files import FileStore
from sandbox.soundverse.inputs import InputAudio, InputRejected, fetch_input
from sandbox.soundverse.jobs import STREAM_PATH, Job, JobRunner, Sleep
from sandbox.soundverse.media import (
    mp3_frame_ends,
    released_end,
    render_speech,
    voice_reply_seconds,
)
from sandbox.soundverse.plans import JobRequest, plan_job
from sandbox.soundverse.replies import (
    FAULT_FAILURE,
    MALFORMED_AUTH,
    OUTAGE,
    detail,
    fault_reply,
    generation_failed,
    moderation_refusal,
    sync_reply,
    validation_error,
    without_audio,
)
from sandbox.soundverse.texts import chat_reply, seed_of, write_lyrics
from sandbox.soundverse.validation import (
    AtLeastOne,
    Body,
    Field,
    ValidationFailed,
    decode_json,
    field_error,
    validate,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

FAULT_HEADER = "X-Sandbox-Fault"
DEFAULT_API_KEY = "sandbox-key"
# Seconds at time scale 1.0.
PING_INTERVAL = 10.0
# The length of each line a `flood` fault writes.
FLOOD_LINE = 64 * 1024
QUICK_REPLY_DELAY = 1.0
MIN_PING_INTERVAL = 0.005
VOICE_CHUNK_BYTES = 8 * 1024
_NSFW = re.compile(r"\bnsfw\b", re.IGNORECASE)
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


@dataclass
class Counters:
    """What tests assert on to prove nothing was billed twice."""

    posts: dict[str, int] = field(default_factory=dict)
    jobs_started: int = 0
    running: set[Job] = field(default_factory=set, repr=False)

    @property
    def in_flight(self) -> int:
        """Jobs started and not yet completed or failed."""
        return sum(1 for job in self.running if not job.finished.is_set())

    def as_json(self) -> dict[str, Any]:
        """The `/_sandbox/counters` body."""
        return {
            "posts": dict(self.posts),
            "in_flight": self.in_flight,
            "jobs_started": self.jobs_started,
        }


class SoundverseStandIn:
    """A local, strict Soundverse API with controllable timing, faults and counters."""

    def __init__(
        self,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
        time_scale: float = 1.0,
        seed: int = 0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.api_keys = frozenset(api_keys)
        self.time_scale = time_scale
        self.seed = seed
        self.counters = Counters()
        self.files = FileStore()
        self._faults = FaultQueue()
        self.holds = Holds()
        self._jobs: dict[str, Job] = {}
        self._jobs_by_job_id: dict[str, Job] = {}
        self._asked: Counter[str] = Counter()
        """How many jobs each request (endpoint and body) has started."""
        self.chat_asked: list[tuple[str, str]] = []
        """The prompt and action of every chat request answered, oldest first (what a client
        sent, for tests to read)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._job_runner = JobRunner(self.files, lambda: self.time_scale, sleep)
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._url = ""

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:41234` (set by `start`)."""
        return self._url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on `host:port` (0 picks a free port) and return the base URL."""
        self._closing.clear()
        self._session = aiohttp.ClientSession()
        self._runner = web.AppRunner(self._build_app(), shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._url = f"http://{bound_host}:{bound_port}"
        return self._url

    async def stop(self) -> None:
        """Stop serving: end open streams, cancel running jobs, drop files."""
        self._closing.set()
        self.holds.release_all()
        await self._cancel_jobs()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.files.clear()

    def hold(
        self,
        method: str,
        path_prefix: str,
        point: HoldPoint = HoldPoint.BEFORE,
        skip: int = 0,
    ) -> Hold:
        """Keep the requests of `method` under `path_prefix` waiting at `point` until the
        returned hold is released (`GET /storage/`: the bot is downloading; `POST
        /v1/assistant/voice` at `STREAMING`: the answer's first chunk is out, the rest waits)."""
        return self.holds.add(method, path_prefix, point, skip)

    def inject(self, fault: str, count: int = 1, path: str | None = None) -> None:
        """Apply `fault` to the next `count` requests (only those under `path`, if given)."""
        self._faults.inject(fault, count, path)

    def job(self, message_id: str) -> Job:
        """The job with this `message_id` (or v7 `job_id`); KeyError if unknown."""
        found = self._jobs.get(message_id) or self._jobs_by_job_id.get(message_id)
        if found is None:
            raise KeyError(message_id)
        return found

    @property
    def jobs(self) -> list[Job]:
        """Every job started since the last reset, oldest first."""
        return list(self._jobs.values())

    async def wait_for_job_terminal(self, message_id: str) -> Job:
        """Wait until the job has completed or failed, and return it."""
        job = self.job(message_id)
        await job.finished.wait()
        return job

    async def reset(self) -> None:
        """Forget counters, faults, jobs, files and the chat requests answered."""
        await self._cancel_jobs()
        self.counters = Counters()
        self._faults.clear()
        self._jobs.clear()
        self._jobs_by_job_id.clear()
        self._asked.clear()
        self.chat_asked.clear()
        self.files.clear()

    async def _cancel_jobs(self) -> None:
        """Cancel running job tasks and wake the streams that follow them."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for job in self._jobs.values():
            job.finished.set()
            await job.wake()

    def _build_app(self) -> web.Application:
        """Every route of contract section 11.1 plus `/storage` and `/_sandbox`."""
        app = web.Application(
            middlewares=[self._held, _json_not_found], client_max_size=2 * 1024 * 1024
        )
        routes = app.router
        for endpoint in ENDPOINTS:
            routes.add_post(endpoint.path, partial(self._generation, endpoint))
        routes.add_post(LYRICS_PATH, self._lyrics)
        for path in CHAT_PATHS:
            routes.add_post(path, self._chat)
        for path in VOICE_PATHS:
            routes.add_post(path, self._voice)
        for path, parameter in STATUS_PATHS.items():
            routes.add_get(path, partial(self._status, parameter))
        routes.add_get("/storage/{tail:.+}", self._storage)
        routes.add_get(STREAM_PATH.format(message_id="{message_id:[0-9a-f]+}"), self._live_audio)
        routes.add_get("/_sandbox/counters", self._control_counters)
        routes.add_post("/_sandbox/faults", self._control_faults)
        routes.add_post("/_sandbox/reset", self._control_reset)
        routes.add_post("/_sandbox/time-scale", self._control_time_scale)
        return app

    # Request gatekeeping

    @web.middleware
    async def _held(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Requests wait at the holds they match, before and after they are handled."""
        try:
            await self.holds.pass_point(request, HoldPoint.BEFORE)
        except ClientGone:
            return web.Response(status=CLIENT_CLOSED_REQUEST)  # nobody is left to read it
        response = await handler(request)
        await self.holds.pass_point(request, HoldPoint.AFTER)
        return response

    def _authorization_refusal(self, request: web.Request) -> web.Response | None:
        """401 when the bearer key is missing, malformed or unknown."""
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key or " " in key:
            return detail(401, MALFORMED_AUTH)
        if key not in self.api_keys:
            return detail(401, "Invalid API key")
        return None

    def _fault_for(
        self, request: web.Request, applies: Callable[[Fault], bool], is_api_route: bool = True
    ) -> Fault | None:
        """The fault of this request: its header, else the first queued one that applies."""
        spec = request.headers.get(FAULT_HEADER)
        if spec is not None:
            fault = parse_fault(spec)
            return fault if applies(fault) else None
        return self._faults.take(request.path, is_api_route, applies)

    def _gate(
        self, request: web.Request, applies: Callable[[Fault], bool]
    ) -> tuple[Fault | None, web.Response | None]:
        """Auth then faults: the fault to apply later, or the answer to give at once."""
        refusal = self._authorization_refusal(request)
        if refusal is not None:
            return None, refusal
        try:
            fault = self._fault_for(request, applies)
        except InvalidFault as error:
            return None, detail(400, f"Invalid {FAULT_HEADER}: {error}")
        return fault, self._immediate_reply(request, fault)

    def _immediate_reply(self, request: web.Request, fault: Fault | None) -> web.Response | None:
        """What a fault answers at once, if anything; a redirect sends the client to the same
        path on `localhost` (this server, named by a loopback name)."""
        if fault is not None and fault.kind is FaultKind.REDIRECT:
            location = f"http://localhost:{request.url.port}{request.path_qs}"
            return web.Response(status=fault.amount, headers={"Location": location})
        return fault_reply(fault) if fault is not None else None

    async def _read_body(
        self, request: web.Request, fields: tuple[Field, ...], rules: tuple[AtLeastOne, ...] = ()
    ) -> Body:
        """Decode and validate the JSON body (ValidationFailed on any problem)."""
        return validate(decode_json(await request.read()), fields, rules)

    def _count_post(self, request: web.Request) -> None:
        """Count a POST that reached a generation route."""
        self.counters.posts[request.path] = self.counters.posts.get(request.path, 0) + 1

    # Generation

    async def _generation(self, endpoint: Endpoint, request: web.Request) -> web.StreamResponse:
        """A song/music/extend/remix/legacy/stems/loop request: validate, start, answer."""
        self._count_post(request)
        sse = endpoint.transport is Transport.SSE
        fault, immediate = self._gate(request, lambda f: sse or f.kind not in STREAM_ONLY)
        if immediate is not None:
            return immediate
        try:
            body = await self._read_body(request, endpoint.fields, endpoint.rules)
            refusal = _moderation(body)
            if refusal is not None:
                return refusal
            inputs = await self._fetch_inputs(body, endpoint.url_fields)
            job = self._start_job(endpoint, body, inputs, fault)
        except ValidationFailed as error:
            return validation_error(error.errors)
        except InputRejected as error:
            return validation_error([error.entry])
        if sse:
            return await self._stream(request, job, fault)
        return await self._answer_when_done(endpoint, job, fault)

    async def _fetch_inputs(self, body: Body, names: tuple[str, ...]) -> dict[str, InputAudio]:
        """Fetch and probe every audio URL given in the body."""
        assert self._session is not None, "the stand-in is not started"
        given = {name: url for name in names if (url := body.text(name))}
        results = await asyncio.gather(
            *(fetch_input(self._session, name, url) for name, url in given.items())
        )
        return dict(zip(given, results, strict=True))

    def _start_job(
        self, endpoint: Endpoint, body: Body, inputs: dict[str, InputAudio], fault: Fault | None
    ) -> Job:
        """Plan the job and run it as a task of its own."""
        message_id = secrets.token_hex(12)
        fail_after = fault.amount if fault is not None and fault.kind is FaultKind.FAIL else None
        body_text = json.dumps(body.as_dict(), sort_keys=True)
        asked = f"{endpoint.path} {body_text}"
        request = JobRequest(
            endpoint=endpoint,
            body=body,
            inputs=inputs,
            seed=seed_of(self.seed, body_text),
            user_folder=self._user_folder(),
            message_id=message_id,
            fail_after=fail_after,
            repeat=self._asked[asked],
        )
        plan = plan_job(request)
        self._asked[asked] += 1
        job_id = str(uuid.uuid4()) if endpoint.issues_job_id else None
        job = Job(message_id=message_id, job_id=job_id, plan=plan, base_url=self._url)
        self._jobs[message_id] = job
        if job_id is not None:
            self._jobs_by_job_id[job_id] = job
        self.counters.jobs_started += 1
        self.counters.running.add(job)
        task = asyncio.create_task(self._job_runner.run(job))
        self._tasks.add(task)
        task.add_done_callback(partial(self._job_task_done, job))
        return job

    def _job_task_done(self, job: Job, task: asyncio.Task[None]) -> None:
        """Forget the task and the job's place among the running ones."""
        self._tasks.discard(task)
        self.counters.running.discard(job)

    def _user_folder(self) -> str:
        """The 24-hex storage folder of the account (fixed per stand-in seed)."""
        return hashlib.sha256(f"user-{self.seed}".encode()).hexdigest()[:24]

    async def _stream(
        self, request: web.Request, job: Job, fault: Fault | None
    ) -> web.StreamResponse:
        """Send the job's chunks as SSE, with keep-alives, applying a stream fault if any."""
        response = web.StreamResponse(headers=_SSE_HEADERS)
        await response.prepare(request)
        cut_at = fault.amount if fault is not None and fault.kind in STREAM_ONLY else None
        drip = fault.amount / 1000 if fault is not None and fault.kind is FaultKind.DRIP else 0.0
        sent = 0
        try:
            while not self._closing.is_set():
                if cut_at is not None and sent >= cut_at:
                    assert fault is not None
                    return await self._cut_stream(fault.kind, request, response)
                if sent < len(job.chunks):
                    chunk = job.chunks[sent]
                    if fault is not None and fault.kind is FaultKind.EMPTY:
                        chunk = without_audio(chunk)
                    if drip:
                        await asyncio.sleep(drip)
                    await response.write(_sse_event(chunk))
                    sent += 1
                    if chunk.get("isComplete"):
                        break
                    continue
                if job.finished.is_set():
                    break
                await self._wait_or_ping(job, sent, response)
            await response.write_eof()
        except ConnectionResetError:
            pass
        return response

    async def _wait_or_ping(self, job: Job, index: int, response: web.StreamResponse) -> None:
        """Wait for chunk `index`; send a keep-alive comment if it is slow to come."""
        try:
            await asyncio.wait_for(job.wait_for_chunk(index), self._ping_interval())
        except TimeoutError:
            await response.write(b": ping\n\n")

    def _ping_interval(self) -> float:
        """How often a quiet stream gets a keep-alive comment (real ones: every 10 s)."""
        return max(MIN_PING_INTERVAL, PING_INTERVAL * self.time_scale)

    async def _cut_stream(
        self, kind: FaultKind, request: web.Request, response: web.StreamResponse
    ) -> web.StreamResponse:
        """End a stream early as the fault says: abort, go silent, keep it alive with comments
        only, flood it with an event that never ends, send an error event, or finish cleanly."""
        if kind is FaultKind.DROP:
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("dropped by sandbox fault")
        if kind is FaultKind.STALL:
            await self._until_gone(request, response, b"", 0.2)
            return response
        if kind is FaultKind.KEEPALIVE:
            await self._until_gone(request, response, b": ping\n\n", self._ping_interval())
            return response
        if kind is FaultKind.FLOOD:
            await self._until_gone(request, response, b"data: " + b"x" * FLOOD_LINE + b"\n", 0)
            return response
        if kind is FaultKind.ERROR_EVENT:
            await response.write(b"event: error\ndata: " + json.dumps({"detail": OUTAGE}).encode())
            await response.write(b"\n\n")
        await response.write_eof()
        return response

    async def _until_gone(
        self, request: web.Request, response: web.StreamResponse, each: bytes, pause: float
    ) -> None:
        """Write `each` every `pause` seconds (nothing, when empty) until the client leaves."""
        while not self._closing.is_set():
            if request.transport is None or request.transport.is_closing():
                return
            if each:
                await response.write(each)
            try:
                await asyncio.wait_for(self._closing.wait(), pause)
            except TimeoutError:
                continue

    async def _answer_when_done(
        self, endpoint: Endpoint, job: Job, fault: Fault | None
    ) -> web.StreamResponse:
        """The sync answer: wait for the job, then its reply (or 500 when it failed)."""
        await job.finished.wait()
        await _drip(fault)
        if job.error is not None or not job.state.is_terminal:
            return generation_failed(job.error or FAULT_FAILURE)
        reply = sync_reply(endpoint.reply, job)
        if fault is not None and fault.kind is FaultKind.EMPTY:
            reply = without_audio(reply)
        return web.json_response(reply)

    # Quick endpoints

    async def _lyrics(self, request: web.Request) -> web.StreamResponse:
        """`{prompt, lyrics}` written from the prompt, mood, section and genre."""
        return await self._quick(request, LYRICS_FIELDS, _lyrics_reply)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        """`{"aiReply": ...}` that reflects the `action`."""
        return await self._quick(request, CHAT_FIELDS, self._chat_reply)

    def _chat_reply(self, body: Body) -> dict[str, Any]:
        """The chat assistant's answer, noting what was asked."""
        prompt, action = body.text("prompt") or "", body.text("action") or "other"
        self.chat_asked.append((prompt, action))
        return {"aiReply": chat_reply(prompt, action)}

    async def _quick(
        self,
        request: web.Request,
        fields: tuple[Field, ...],
        answer: Callable[[Body], dict[str, Any]],
    ) -> web.StreamResponse:
        """A sync text endpoint: gate, validate, moderate, think a moment, answer."""
        self._count_post(request)
        fault, immediate = self._gate(request, lambda f: f.kind not in STREAM_ONLY)
        if immediate is not None:
            return immediate
        try:
            body = await self._read_body(request, fields)
        except ValidationFailed as error:
            return validation_error(error.errors)
        refusal = _moderation(body)
        if refusal is not None:
            return refusal
        await self._job_runner.pause(QUICK_REPLY_DELAY)
        await _drip(fault)
        if fault is not None and fault.kind is FaultKind.FAIL:
            return generation_failed(FAULT_FAILURE)
        return web.json_response(answer(body))

    async def _voice(self, request: web.Request) -> web.StreamResponse:
        """The spoken answer to `speech_url`, as a chunked `audio/mpeg` body."""
        self._count_post(request)
        fault, immediate = self._gate(request, lambda f: f.kind not in STREAM_ONLY)
        if immediate is not None:
            return immediate
        try:
            body = await self._read_body(request, VOICE_FIELDS)
            inputs = await self._fetch_inputs(body, ("speech_url",))
        except ValidationFailed as error:
            return validation_error(error.errors)
        except InputRejected as error:
            return validation_error([error.entry])
        if fault is not None and fault.kind is FaultKind.FAIL:
            return generation_failed(FAULT_FAILURE)
        speech = inputs["speech_url"]
        seconds = voice_reply_seconds(speech.seconds)
        audio = await asyncio.to_thread(render_speech, seed_of(speech.digest), seconds)
        return await self._send_chunked(request, audio, fault)

    async def _send_chunked(
        self, request: web.Request, audio: bytes, fault: Fault | None
    ) -> web.StreamResponse:
        """Write `audio` in chunks with chunked transfer encoding; after the first chunk, the
        rest waits at the holds of `HoldPoint.STREAMING`."""
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(audio), VOICE_CHUNK_BYTES):
                await _drip(fault)
                await response.write(audio[start : start + VOICE_CHUNK_BYTES])
                if start == 0:
                    await self.holds.pass_point(request, HoldPoint.STREAMING)
            await response.write_eof()
        except ConnectionResetError:
            pass
        return response

    # Status and files

    async def _status(self, parameter: str, request: web.Request) -> web.StreamResponse:
        """`GET /v5/status?message_id=` and `GET /v7/status?job_id=`."""
        fault, immediate = self._gate(request, _status_or_drip)
        if immediate is not None:
            return immediate
        key = request.query.get(parameter)
        if not key:
            entry = field_error(["query", parameter], "Field required", "missing", None)
            return validation_error([entry])
        jobs = self._jobs_by_job_id if parameter == "job_id" else self._jobs
        job = jobs.get(key)
        await _drip(fault)
        if job is None:
            return detail(404, "Not found")
        return web.json_response(job.status_body())

    async def _storage(self, request: web.Request) -> web.StreamResponse:
        """A generated file; public like real storage URLs (GET and HEAD)."""
        try:
            fault = self._fault_for(request, _status_or_drip, is_api_route=False)
        except InvalidFault as error:
            return detail(400, f"Invalid {FAULT_HEADER}: {error}")
        immediate = self._immediate_reply(request, fault)
        if immediate is not None:
            return immediate
        stored = self.files.get(request.path)
        await _drip(fault)
        if stored is None:
            return detail(404, "Not found")
        return web.Response(body=stored.body, content_type=stored.content_type)

    async def _live_audio(self, request: web.Request) -> web.StreamResponse:
        """`stream_url`: the job's first take as it is made, from its start. A chunked
        `audio/mpeg` body sends at once whatever the job has made, more (in whole MP3 frames)
        with each step, and ends when the job completes, fails or is cancelled."""
        try:
            fault = self._fault_for(request, _status_or_drip, is_api_route=False)
        except InvalidFault as error:
            return detail(400, f"Invalid {FAULT_HEADER}: {error}")
        immediate = self._immediate_reply(request, fault)
        if immediate is not None:
            return immediate
        job = self._jobs.get(request.match_info["message_id"])
        if job is None or not job.plan.outputs or job.plan.outputs[0].audio_format != "mp3":
            return detail(404, "Not found")
        if request.method == "HEAD":
            return web.Response(content_type="audio/mpeg", headers={"Cache-Control": "no-cache"})
        return await self._send_as_made(request, job, fault)

    async def _send_as_made(
        self, request: web.Request, job: Job, fault: Fault | None
    ) -> web.StreamResponse:
        """Write the first take from its start as far as the job has made it, then more after
        each chunk the job publishes, until the job ends (or the stand-in stops)."""
        response = web.StreamResponse(
            headers={"Content-Type": "audio/mpeg", "Cache-Control": "no-cache"}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        take = _MadeAudio(self.files, job.plan.outputs[0].path)
        sent = 0
        try:
            while True:
                seen = len(job.chunks)
                ended = job.finished.is_set() or self._closing.is_set()
                end = take.end_of(job.audio_made)
                if end > sent:
                    await _drip(fault)
                    await response.write(take.body[sent:end])
                    sent = end
                if ended:
                    break
                await job.wait_for_chunk(seen)
            await response.write_eof()
        except ConnectionResetError:
            pass
        return response

    # Control endpoints

    async def _control_counters(self, request: web.Request) -> web.StreamResponse:
        """`GET /_sandbox/counters`."""
        return web.json_response(self.counters.as_json())

    async def _control_faults(self, request: web.Request) -> web.StreamResponse:
        """`POST /_sandbox/faults` with `{"fault", "count", "path"}`."""
        try:
            document = json.loads(await request.read())
            count = int(document.get("count", 1))
            self.inject(str(document["fault"]), count, document.get("path"))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return detail(400, f"Invalid fault request: {error}")
        return web.json_response({"injected": document["fault"], "count": count})

    async def _control_reset(self, request: web.Request) -> web.StreamResponse:
        """`POST /_sandbox/reset`."""
        await self.reset()
        return web.json_response({"reset": True})

    async def _control_time_scale(self, request: web.Request) -> web.StreamResponse:
        """`POST /_sandbox/time-scale` with `{"scale": 0.01}`."""
        try:
            scale = float(json.loads(await request.read())["scale"])
        except (ValueError, KeyError, TypeError) as error:
            return detail(400, f"Invalid time scale request: {error}")
        if scale < 0:
            return detail(400, "Invalid time scale request: scale must not be negative")
        self.time_scale = scale
        return web.json_response({"scale": scale})


class _MadeAudio:
    """A take being streamed: its bytes (once the job has rendered them) and where its MP3
    frames end, kept from the first look so a reset or eviction does not cut a stream short."""

    def __init__(self, files: FileStore, path: str) -> None:
        self._files = files
        self._path = path
        self.body = b""
        self._frame_ends: list[int] = []

    def end_of(self, fraction: float) -> int:
        """How many bytes make up the first `fraction` of the take, in whole frames."""
        if not self.body and (stored := self._files.get(self._path)) is not None:
            self.body, self._frame_ends = stored.body, mp3_frame_ends(stored.body)
        return released_end(self._frame_ends, len(self.body), fraction)


def _status_or_drip(fault: Fault) -> bool:
    """Faults that make sense on a GET: error statuses, HTML pages, redirects and slowness."""
    return fault.kind in (FaultKind.STATUS, FaultKind.DRIP, FaultKind.HTML, FaultKind.REDIRECT)


def _moderation(body: Body) -> web.Response | None:
    """The refusal the real service gives for NSFW words or artist names, if any."""
    text = " ".join(filter(None, (body.text("prompt"), body.text("lyrics"))))
    if _NSFW.search(text):
        return moderation_refusal("nsfw")
    if "artist:" in text.lower():
        return moderation_refusal("artist")
    return None


async def _drip(fault: Fault | None) -> None:
    """The extra real-time delay a `drip:MS` fault asks for."""
    if fault is not None and fault.kind is FaultKind.DRIP:
        await asyncio.sleep(fault.amount / 1000)


def _sse_event(chunk: dict[str, Any]) -> bytes:
    """One SSE event: a `data:` line and a blank line."""
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _lyrics_reply(body: Body) -> dict[str, Any]:
    """The lyrics endpoint's answer."""
    prompt = body.text("prompt") or ""
    lyrics = write_lyrics(prompt, body.text("mood"), body.text("section"), body.text("genre"))
    return {"prompt": prompt, "lyrics": lyrics}


@web.middleware
async def _json_not_found(request: web.Request, handler: Handler) -> web.StreamResponse:
    """FastAPI answers unknown routes and methods with JSON, so the stand-in does too."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return detail(404, "Not Found")
    except web.HTTPMethodNotAllowed:
        return detail(405, "Method Not Allowed")
