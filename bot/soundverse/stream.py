"""A generation followed to its end: the SSE stream, then status polls if the stream is cut.

`GenerationStream` needs only a `StreamTransport` (the client implements it), so this module
does not depend on the client that creates streams.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import aclosing
from typing import Any, Protocol

import aiohttp

from bot.config import SoundverseSettings
from bot.soundverse.download import idle_guarded
from bot.soundverse.enums import TERMINAL_STAGES
from bot.soundverse.errors import (
    GenerationFailed,
    JobDeadlineExceeded,
    JobNotStarted,
    UpstreamError,
    connection_trouble,
    detail_text,
    error_for_response,
    status_words,
)
from bot.soundverse.results import GenerationResult, JobState, canonical_keys
from bot.soundverse.sse import ServerSentEvent, SSEParser, SSEProtocolError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

_FIRST_BACKOFF = 1.0
# One event of a Soundverse stream is a few kilobytes; a stream that piles more into one event
# (or one line) is broken, and is followed through the status endpoint instead.
EVENT_LIMIT = 1024 * 1024
NO_AUDIO = "Soundverse finished the job without any audio"


def backoff_delays(cap: float) -> Iterator[float]:
    """Seconds to wait before each retry or poll: 1, 2, 4 ... capped at `cap`."""
    delay = _FIRST_BACKOFF
    while True:
        yield min(delay, cap)
        delay *= 2


def decode_json(text: str) -> Any:
    """`text` as JSON, or the text itself when it is not JSON (an error page, say)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class StreamTransport(Protocol):
    """What a stream needs from the client: its session, addresses, headers and status polls."""

    settings: SoundverseSettings
    clock: Clock
    sleep: Sleep

    def session(self) -> aiohttp.ClientSession: ...

    def api_url(self, path: str) -> str: ...

    def headers(self, accept: str = "application/json") -> dict[str, str]: ...

    def stream_timeout(self) -> aiohttp.ClientTimeout: ...

    async def status_payload(
        self,
        *,
        message_id: str | None = None,
        job_id: str | None = None,
        within: float | None = None,
    ) -> Mapping[str, Any]: ...


class _StreamInterrupted(Exception):
    """The event stream stopped before a terminal event; `cause` says how."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class GenerationStream:
    """A streamed (or resumed) job: an async iterator of merged `JobState`s.

    Each SSE event and each status poll yields the state merged so far; `message_id` and
    `job_id` are on the yielded state from the event that first carries them, so a caller can
    persist them at once. If the stream drops, stalls or ends early once an id is known, the
    job is followed through the status endpoint (never re-posted). Iteration ends after the
    terminal state; `result` is then set, or `GenerationFailed` is raised for a failed job.
    """

    def __init__(
        self,
        client: StreamTransport,
        path: str | None,
        body: Mapping[str, Any] | None,
        known: Mapping[str, Any],
    ) -> None:
        self._client = client
        self._path = path
        self._body = body
        self._merged: dict[str, Any] = dict(known)
        self._state = JobState.from_merged(self._merged)
        self._result: GenerationResult | None = None
        self._interruption: str | None = None
        self._iterator: AsyncGenerator[JobState, None] | None = None

    @property
    def message_id(self) -> str | None:
        """The job's message id, once known."""
        return self._state.message_id

    @property
    def job_id(self) -> str | None:
        """The v7 job id, once known."""
        return self._state.job_id

    @property
    def state(self) -> JobState:
        """The latest merged state."""
        return self._state

    @property
    def result(self) -> GenerationResult:
        """The finished generation; only after iteration has ended successfully."""
        if self._result is None:
            raise RuntimeError("the generation has not finished yet")
        return self._result

    def __aiter__(self) -> AsyncIterator[JobState]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def wait(self) -> GenerationResult:
        """Follow the job to its end and return the result."""
        async for _ in self:
            pass
        return self.result

    async def aclose(self) -> None:
        """Stop following the job (the job itself keeps running at Soundverse)."""
        if self._iterator is not None:
            await self._iterator.aclose()

    async def _run(self) -> AsyncGenerator[JobState, None]:
        started = self._client.clock()
        if self._path is not None:
            async with aclosing(self._events(self._path, started)) as states:
                async for state in states:
                    yield state
                    if state.is_complete:
                        self._finish(state)
                        return
            if not (self.message_id or self.job_id):
                raise JobNotStarted(self._interruption or "the stream ended without a job id")
            log.warning(
                "stream of job %s interrupted: %s; following it through status",
                self.job_id or self.message_id,
                self._interruption,
            )
        async with aclosing(self._poll(started)) as states:
            async for state in states:
                yield state

    async def _events(self, path: str, started: float) -> AsyncGenerator[JobState, None]:
        """States from the event stream; stops quietly (recording why) when it is cut short."""
        try:
            async with aclosing(self._stream_states(path, started)) as states:
                async for state in states:
                    yield state
                    if state.is_complete:
                        return
            self._interruption = "the stream ended before the job finished"
        except _StreamInterrupted as interruption:
            self._interruption = interruption.cause

    async def _stream_states(self, path: str, started: float) -> AsyncGenerator[JobState, None]:
        client = self._client
        idle = client.settings.idle_timeout
        try:
            async with client.session().post(
                client.api_url(path),
                json=self._body,
                headers=client.headers("text/event-stream"),
                timeout=client.stream_timeout(),
                allow_redirects=False,
            ) as response:
                await _refuse_unless_a_stream(response)
                parser = SSEParser(max_line_bytes=EVENT_LIMIT, max_event_bytes=EVENT_LIMIT)
                async with aclosing(idle_guarded(response.content.iter_any(), idle)) as chunks:
                    async for chunk in chunks:
                        for event in parser.feed(chunk):
                            yield self._state_of(event)
                        # Keep-alive comments keep the connection open, never the job alive.
                        self._check_deadline(started)
                parser.close()
        except aiohttp.ConnectionTimeoutError:
            raise _StreamInterrupted(
                f"could not connect within {client.settings.connect_timeout:g} s"
            ) from None
        except TimeoutError:
            raise _StreamInterrupted(f"no data for {idle:g} s") from None
        except aiohttp.ClientConnectorError as error:
            raise _StreamInterrupted(f"could not connect ({error.host}:{error.port})") from None
        except (aiohttp.ClientError, SSEProtocolError) as error:
            raise _StreamInterrupted(connection_trouble(error)) from None

    def _state_of(self, event: ServerSentEvent) -> JobState:
        """The merged state after `event`; an `error` event ends the job with its reason."""
        fields = decode_json(event.data)
        if event.event == "error":
            reason = detail_text(fields) or "no reason given"
            if self.message_id or self.job_id:
                raise GenerationFailed(reason, self.message_id, self.job_id)
            raise UpstreamError(f"Soundverse refused to start the job: {reason}")
        if isinstance(fields, Mapping):
            return self._merge(fields)
        return self._state

    async def _poll(self, started: float) -> AsyncGenerator[JobState, None]:
        """States from the status endpoint, with backoff, until terminal or the deadline."""
        client = self._client
        delays = backoff_delays(client.settings.poll_backoff_max)
        while True:
            payload = await client.status_payload(
                message_id=self.message_id,
                job_id=self.job_id,
                within=self._check_deadline(started),
            )
            state = self._merge(payload)
            yield state
            if state.is_complete:
                self._finish(state)
                return
            remaining = self._check_deadline(started)
            await client.sleep(min(next(delays), remaining))

    def _check_deadline(self, started: float) -> float:
        """Seconds left before the job deadline; raises `JobDeadlineExceeded` at zero."""
        deadline = self._client.settings.job_deadline
        remaining = started + deadline - self._client.clock()
        if remaining <= 0:
            raise JobDeadlineExceeded(deadline, self.message_id, self.job_id)
        return remaining

    def _merge(self, chunk: Mapping[str, Any]) -> JobState:
        # A null (e.g. a status reply's `song_name` before validation) never erases a known value.
        known = {key: value for key, value in canonical_keys(chunk).items() if value is not None}
        self._merged.update(known)
        if self._merged.get("status") in TERMINAL_STAGES:
            # Status replies have no `isComplete`; keep the merged payload consistent.
            self._merged["isComplete"] = True
        self._state = JobState.from_merged(self._merged)
        return self._state

    def _finish(self, state: JobState) -> None:
        if state.is_failed:
            raise GenerationFailed(
                state.error or "Soundverse reported a failure", state.message_id, state.job_id
            )
        result = state.result()
        if not result.takes:
            raise GenerationFailed(NO_AUDIO, state.message_id, state.job_id)
        self._result = result


async def _refuse_unless_a_stream(response: aiohttp.ClientResponse) -> None:
    """Raise the error an answer that is not an event stream stands for: an error status, a
    redirect (never followed: it would send the generation again), or a 200 with a body."""
    if response.status < 300 and response.content_type == "text/event-stream":
        return
    payload = decode_json(await response.text())
    if response.status >= 400:
        raise error_for_response(response.status, payload, response.headers.get("Retry-After"))
    if response.status >= 300:
        raise UpstreamError(
            f"Soundverse answered {status_words(response.status)} instead of starting the job; "
            "it was not sent again",
            status=response.status,
        )
    reason = detail_text(payload) or f"a {response.content_type or 'body'} instead of a stream"
    raise UpstreamError(f"Soundverse did not start the job: {reason}", status=response.status)
