"""Generation jobs: their record, their stage timeline, and the task that drives them.

A job runs as its own asyncio task, so it keeps going (and status keeps reporting it)
whatever happens to the HTTP connection that started it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sandbox.soundverse.files import FileStore
from sandbox.soundverse.media import AudioFormat, render_album_art, render_audio

log = logging.getLogger(__name__)

Chunk = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]

# Seconds at time scale 1.0; a whole job takes about 22 s plus rendering.
VALIDATION_DELAY = 1.0
STEP_DELAY = 1.5
STREAM_PROGRESS = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90)
UPLOAD_PROGRESS = (92, 96, 99)
# Each streaming step makes one more tenth of the first take: `progress` 0 the first tenth,
# 90 the whole of it.
STREAM_STEP = STREAM_PROGRESS[1] - STREAM_PROGRESS[0]
STREAM_PATH = "/stream/{message_id}.mp3"


class JobState(StrEnum):
    """The `status` values a job goes through."""

    INITIALIZING = "initializing"
    VALIDATED = "validated"
    STREAMING = "streaming"
    UPLOADING = "uploading"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        """Whether the job has finished, one way or the other."""
        return self in (JobState.COMPLETED, JobState.FAILED)


@dataclass(frozen=True)
class OutputPlan:
    """One file a job will publish: where, what it is called and how to render it."""

    path: str
    title: str
    seed: int
    seconds: float
    audio_format: AudioFormat
    group: str = "audio"  # gen-loop splits its outputs into "generated" and "looped"
    label: str = ""  # the stem name, for stem separation


@dataclass(frozen=True)
class JobPlan:
    """Everything needed to run a job and to describe its result."""

    operation: str
    prompt: str
    song_name: str
    ai_reply: str
    art_seed: int
    art_path: str
    outputs: tuple[OutputPlan, ...]
    licenses: dict[str, str] | str | None
    announces_job: bool = False
    fail_after: int | None = None


@dataclass(eq=False)
class Job:
    """A generation job and everything it has reported so far."""

    message_id: str
    job_id: str | None
    plan: JobPlan
    base_url: str
    state: JobState = JobState.INITIALIZING
    progress: int = 0
    error: str | None = None
    chunks: list[Chunk] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def album_art(self) -> str:
        """The absolute URL of the cover art."""
        return self.base_url + self.plan.art_path

    def output_url(self, output: OutputPlan) -> str:
        """The absolute URL of one output file."""
        return self.base_url + output.path

    @property
    def stream_url(self) -> str:
        """The absolute URL of the first take as it is made (`stream_url`)."""
        return self.base_url + STREAM_PATH.format(message_id=self.message_id)

    @property
    def audio_made(self) -> float:
        """How much of the first take the job has made, from 0 to 1, as its published chunks
        tell: nothing before the streaming stage, one more tenth with each streaming chunk,
        everything from the uploading stage on. A failed job keeps what it had made."""
        for chunk in reversed(self.chunks):
            status = chunk.get("status")
            if status in (JobState.UPLOADING, JobState.COMPLETED):
                return 1.0
            if status == JobState.STREAMING:
                made = (int(chunk["progress"]) + STREAM_STEP) / (STREAM_PROGRESS[-1] + STREAM_STEP)
                return min(1.0, made)
        return 0.0

    @property
    def takes(self) -> list[dict[str, Any]]:
        """The job's audio outputs in the v5 `audio_data` shape."""
        return self.takes_in("audio")

    def takes_in(self, group: str) -> list[dict[str, Any]]:
        """The outputs of `group` in the v5 `audio_data` shape."""
        return [
            {"audio_url": self.output_url(o), "song_name": o.title, "licenses": self.plan.licenses}
            for o in self.plan.outputs
            if o.group == group
        ]

    def status_body(self) -> dict[str, Any]:
        """The `/v5/status` (and `/v7/status`) answer for this job."""
        shown = self.state is not JobState.INITIALIZING
        body: dict[str, Any] = {
            "status": self.state.value,
            "message_id": self.message_id,
            "progress": self.progress,
            "song_name": self.plan.song_name if shown else None,
            "album_art": self.album_art if shown else None,
            "audio_data": self.takes if self.state is JobState.COMPLETED else [],
        }
        if self.job_id is not None:
            body["job_id"] = self.job_id
        if self.error is not None:
            body["error"] = self.error
        return body

    async def publish(self, chunk: Chunk) -> None:
        """Append a chunk (numbered in order) and wake every stream following the job."""
        chunk["chunkIndex"] = len(self.chunks)
        self.chunks.append(chunk)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for_chunk(self, index: int) -> None:
        """Return once chunk `index` exists or `wake` is called."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.chunks) > index or self.finished.is_set())

    async def wake(self) -> None:
        """Wake every waiting stream (used when the server stops)."""
        async with self._changed:
            self._changed.notify_all()


class JobRunner:
    """Drives jobs through the stage timeline, scaled by the stand-in's time scale."""

    def __init__(self, files: FileStore, time_scale: Callable[[], float], sleep: Sleep) -> None:
        self._files = files
        self._time_scale = time_scale
        self._sleep = sleep

    async def run(self, job: Job) -> None:
        """Run `job` to a terminal state; rendering errors fail the job instead of escaping."""
        try:
            await self._run_stages(job)
        except _JobFailed:
            pass
        except Exception as error:
            log.exception("job %s failed", job.message_id)
            await self._fail(job, f"Generation failed: {error}")
        finally:
            job.finished.set()
            await job.wake()

    async def _run_stages(self, job: Job) -> None:
        """The documented stage order, one chunk per step."""
        if job.plan.announces_job:
            await self._emit(job, {"type": "job_created", "job_id": job.job_id})
        await self._emit(job, {"isComplete": False, "status": JobState.INITIALIZING.value})
        rendering = asyncio.create_task(self._render_audio(job))
        try:
            await self.pause(VALIDATION_DELAY)
            await self._publish_album_art(job)
            await self._advance(job, JobState.VALIDATED, 0, self._validated_fields(job))
            await rendering
        finally:
            rendering.cancel()
        for progress in STREAM_PROGRESS:
            await self.pause(STEP_DELAY)
            ready = {"streaming_ready": True, "stream_url": job.stream_url}
            await self._advance(job, JobState.STREAMING, progress, ready)
        for progress in UPLOAD_PROGRESS:
            await self.pause(STEP_DELAY)
            await self._advance(job, JobState.UPLOADING, progress, {})
        await self.pause(STEP_DELAY)
        await self._advance(job, JobState.COMPLETED, 100, self._completed_fields(job))

    def _validated_fields(self, job: Job) -> Chunk:
        """What the billing point reveals: the id, the title and the cover."""
        return {
            "song_name": job.plan.song_name,
            "album_art": job.album_art,
            "operation": job.plan.operation,
        }

    def _completed_fields(self, job: Job) -> Chunk:
        """The final chunk's payload: the first file and every take."""
        takes = job.takes
        return {
            "audio_url": job.output_url(job.plan.outputs[0]),
            "audio_data": takes,
            "song_name": job.plan.song_name,
            "album_art": job.album_art,
            "version": 1,
        }

    async def _advance(self, job: Job, state: JobState, progress: int, extra: Chunk) -> None:
        """Move to `state` and publish its chunk."""
        job.state = state
        job.progress = progress
        chunk: Chunk = {
            "message_id": job.message_id,
            "isComplete": state is JobState.COMPLETED,
            "status": state.value,
        }
        if state is not JobState.VALIDATED:
            chunk["progress"] = progress
        chunk.update(extra)
        await self._emit(job, chunk)

    async def _emit(self, job: Job, chunk: Chunk) -> None:
        """Publish a chunk unless an injected fault says the job fails at this point."""
        fail_after = job.plan.fail_after
        if fail_after is not None and (len(job.chunks) >= fail_after or chunk.get("isComplete")):
            await self._fail(job, "Generation failed (sandbox fault)")
            raise _JobFailed
        await job.publish(chunk)

    async def _fail(self, job: Job, message: str) -> None:
        """Mark the job failed and publish the failure chunk (with the id once it was given)."""
        revealed = job.state is not JobState.INITIALIZING
        job.state = JobState.FAILED
        job.error = message
        chunk: Chunk = {"isComplete": True, "status": JobState.FAILED.value, "error": message}
        if revealed:
            chunk = {"message_id": job.message_id, **chunk}
        await job.publish(chunk)

    async def _publish_album_art(self, job: Job) -> None:
        """Make the cover off the event loop, so its URL works as soon as it is announced."""
        art = await asyncio.to_thread(render_album_art, job.plan.art_seed)
        self._files.put(job.plan.art_path, art, "image/png")

    async def _render_audio(self, job: Job) -> None:
        """Make every output file off the event loop and publish it."""
        for output in job.plan.outputs:
            data = await asyncio.to_thread(
                render_audio, output.seed, output.seconds, output.audio_format
            )
            self._files.put(output.path, data, _content_type(output.audio_format))

    async def pause(self, seconds: float) -> None:
        """Wait `seconds` of generation time, shortened by the time scale."""
        await self._sleep(seconds * self._time_scale())


class _JobFailed(Exception):
    """An injected fault ended the job early."""


def _content_type(audio_format: AudioFormat) -> str:
    """The MIME type of an audio format."""
    return "audio/mpeg" if audio_format == "mp3" else "audio/wav"
