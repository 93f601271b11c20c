"""Jobs shared by any number of job workers on any hosts (JOBS_WORKER=shared).

The bot stores each admitted job and wakes the workers (PostgreSQL's NOTIFY on `JOBS_CHANNEL`;
on SQLite they poll). Each worker claims jobs while it has room (`JobLeases.claim`), runs
them as a restarted worker would resume them, and renews its leases from a heartbeat every
third of `JOBS_LEASE`. A job whose lease its worker lost (taken over after a stall) is
dropped without a further write; the fencing token refuses any write it still attempts. A
worker that dies simply stops renewing: once its leases run out, the others claim its jobs
and resume them through status, never posting them to Soundverse again. A cancel asked in
the bot is left on the job and passed on `CANCEL_CHANNEL` (and read at each heartbeat) to
the worker that holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.config import JobSettings
from bot.jobs.models import CancelOutcome
from bot.jobs.service import JobService, ObserverFactory, order_from_job
from bot.storage import Database, JobState
from bot.storage.clock import Clock
from bot.storage.leases import JobLeases

log = logging.getLogger(__name__)

T = TypeVar("T")

JOBS_CHANNEL = "soundverse_jobs"
"""A job was stored or given back: workers with room claim."""
CANCEL_CHANNEL = "soundverse_job_cancel"
"""A member asked to cancel the job whose id is the payload."""
POLL_SECONDS = 1.0
"""How often a worker looks for jobs when nothing wakes it (SQLite; a lost notification)."""


def worker_name() -> str:
    """This worker among all: its host, process and a random part (pids repeat)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class SharedJobs:
    """What the bot and the workers do with shared jobs, over one database."""

    def __init__(
        self,
        service: JobService,
        database: Database,
        settings: JobSettings,
        clock: Clock | None = None,
    ) -> None:
        self._service = service
        self._database = database
        self._settings = settings
        self._leases = JobLeases(database, clock)

    async def stored(self) -> None:
        """Wake the workers: a job was just stored (admitted in the bot)."""
        await self._database.notify(JOBS_CHANNEL)

    async def cancel(self, job_id: int, by_user_id: int | None) -> CancelOutcome:
        """Cancel a job that some worker runs (asked in the bot): leave the request on the
        job and wake its worker. A job not claimed yet is cancelled by whoever claims it."""
        job = await self._leases.request_cancel(job_id, by_user_id)
        if job is None or job.state.is_final:
            return CancelOutcome.NOT_RUNNING
        if job.state is JobState.DELIVERING or job.posting_at is not None:
            return CancelOutcome.DELIVERING
        await self._database.notify(CANCEL_CHANNEL, str(job_id))
        return CancelOutcome.CANCELLED

    def worker(self, observer_for: ObserverFactory, *, owner: str | None = None) -> SharedWorker:
        """This process's worker: it claims and runs jobs once `run`."""
        return SharedWorker(
            self._service,
            self._leases,
            self._database,
            self._settings,
            observer_for,
            owner=owner,
        )


class SharedWorker:
    """One worker process's share of the jobs: claims, heartbeats, cancels."""

    def __init__(
        self,
        service: JobService,
        leases: JobLeases,
        database: Database,
        settings: JobSettings,
        observer_for: ObserverFactory,
        *,
        owner: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._service = service
        self._leases = leases
        self._database = database
        self._settings = settings
        self._observer_for = observer_for
        self.owner = owner or worker_name()
        self._clock = clock
        self._wake = asyncio.Event()
        self._cancels: asyncio.Queue[int] = asyncio.Queue()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run jobs until `stop` is set; then stop following them and give back
        the unfinished ones, so that another worker takes them at once."""
        listening = await self._database.listen(JOBS_CHANNEL, lambda _: self._wake.set())
        await self._database.listen(CANCEL_CHANNEL, self._heard_cancel)
        self._service.on_finished = self._wake.set
        heartbeat = asyncio.create_task(self._beat(), name="job-leases")
        cancels = asyncio.create_task(self._apply_cancels(), name="job-cancels")
        log.info("Worker %s takes shared jobs (%s)", self.owner, "woken" if listening else "polls")
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self._claim_while_room()
                except Exception:  # the database gone for a moment: claim at the next wake
                    log.exception("Worker %s could not claim jobs", self.owner)
                await _first_of(stop.wait(), self._wake.wait(), timeout=POLL_SECONDS)
        finally:
            heartbeat.cancel()
            cancels.cancel()
            for task in (heartbeat, cancels):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            held = self._service.held_tokens()
            await self._service.close()
            await self._give_back(held)

    async def _claim_while_room(self) -> None:
        while len(self._service.held_tokens()) < self._settings.worker_capacity:
            lease = await self._leases.claim(
                self.owner,
                lease=self._settings.lease,
                group_limit=self._settings.guild_concurrency,
            )
            if lease is None:
                return
            observer = await self._observer_for(lease.job, order_from_job(lease.job))
            await self._service.take(lease, observer, expires=self._clock() + self._settings.lease)

    async def _beat(self) -> None:
        interval = self._settings.lease / 3
        while True:
            await asyncio.sleep(interval)
            await self._renew()
            for request in await _quietly(self._leases.cancel_requests(self.owner), ()):
                self._cancels.put_nowait(request.job_id)

    async def _renew(self) -> None:
        tokens = self._service.held_tokens()
        if not tokens:
            return
        # The lease runs from when the renewal was asked, at the latest: count from then.
        renewed_until = self._clock() + self._settings.lease
        try:
            held = await self._leases.renew(self.owner, tokens, lease=self._settings.lease)
        except Exception:
            log.exception("Could not renew the leases of worker %s", self.owner)
            # Past its lease, another worker may have the job: stop before it is posted twice.
            for job_id in self._service.expired(self._clock()):
                await self._service.drop(job_id, "its lease ran out unrenewed")
            return
        for job_id in tokens:
            if job_id in held:
                self._service.extend(job_id, renewed_until)
            else:
                await self._service.drop(job_id, "another worker took it over")

    def _heard_cancel(self, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self._cancels.put_nowait(int(payload))

    async def _apply_cancels(self) -> None:
        while True:
            job_id = await self._cancels.get()
            if job_id in self._service.held_tokens():
                await _quietly(self._cancel_if_asked(job_id), None)

    async def _cancel_if_asked(self, job_id: int) -> None:
        job = await self._service.find(job_id)
        if job is not None and job.cancel_requested_at is not None:
            await self._service.cancel(job_id, job.cancel_requested_by)

    async def _give_back(self, held: dict[int, int]) -> None:
        given = 0
        for job_id, token in held.items():
            if await _quietly(self._leases.release(job_id, token), False):
                given += 1
        if given:
            log.info("Worker %s gave back %d unfinished job(s)", self.owner, given)
            await _quietly(self._database.notify(JOBS_CHANNEL), None)


async def _first_of(*waits: Awaitable[object], timeout: float) -> None:  # noqa: ASYNC109
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def _quietly(work: Awaitable[T], fallback: T) -> T:
    try:
        return await work
    except Exception:
        log.exception("A shared-queue call failed")
        return fallback
