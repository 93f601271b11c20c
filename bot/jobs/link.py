"""Running jobs in a second process: the link between the bot and its job worker.

The bot admits a job (units reserved, job stored as queued) and sends the worker its id; the
worker reads the job from the database and runs it the way jobs are resumed at startup. Each
message is one JSON object on a line, over a socket pair made when the worker is started:

    bot → worker   {"run": 12, "note": "…"}        run admitted job 12
                   {"cancel": 12, "ref": 3}         cancel job 12; answer under ref 3
    worker → bot   {"ready": true}                  jobs left unfinished are picked up
                   {"ref": 3, "cancelled": true}

A job is never lost to the link: one sent while the worker is down stays queued in the
database, and the next worker picks it up at its start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bot.jobs.models import JobObserver, JobOrder
from bot.jobs.service import JobService
from bot.storage import Job

log = logging.getLogger(__name__)

# Waits before starting a worker again after it died; reset once one has run for a minute.
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
STABLE_RUN = 60.0
# A cancel is answered within the 3 s Discord gives the button press.
REPLY_TIMEOUT = 2.0
STOP_TIMEOUT = 30.0

NotedObserverFactory = Callable[[Job, JobOrder, str | None], Awaitable[JobObserver]]


def encode(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


class WorkerLink:
    """The bot's side: starts the worker, keeps it running, and sends it jobs and cancels."""

    def __init__(
        self,
        command: Sequence[str],
        environment: Mapping[str, str],
        *,
        restart_delays: Sequence[float] = RESTART_DELAYS,
        reply_timeout: float = REPLY_TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.command = tuple(command)
        self.environment = dict(environment)
        self.restart_delays = tuple(restart_delays)
        self.reply_timeout = reply_timeout
        self.starts = 0
        self._sleep = sleep
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ready = asyncio.Event()
        self._replies: dict[int, asyncio.Future[bool]] = {}
        self._next_ref = 0
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The running worker's process id."""
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the worker and keep it running until `close`."""
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise(), name="job-worker-supervisor")

    async def wait_ready(self) -> None:
        """Until the current worker has picked up what was left unfinished and takes jobs."""
        await self._ready.wait()

    async def run(self, job_id: int, note: str | None = None) -> None:
        """Have the worker run admitted job `job_id`; `note` is shown on its card."""
        await self._send({"run": job_id, "note": note})

    async def cancel(self, job_id: int) -> bool:
        """Cancel a job in the worker; False when it is not queued or running there (or the
        worker could not answer)."""
        self._next_ref += 1
        ref = self._next_ref
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._replies[ref] = answer
        try:
            if not await self._send({"cancel": job_id, "ref": ref}):
                return False
            async with asyncio.timeout(self.reply_timeout):
                return await answer
        except TimeoutError:
            log.warning("The job worker did not answer a cancel of job %d in time", job_id)
            return False
        finally:
            self._replies.pop(ref, None)

    async def close(self, timeout: float = STOP_TIMEOUT) -> None:  # noqa: ASYNC109
        """Stop the worker the way SIGTERM stops the bot: its jobs stay for the next start."""
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        process = self._process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(timeout):
                    await process.wait()
            except TimeoutError:
                log.error("The job worker did not stop within %g s; killing it", timeout)
                process.kill()
                await process.wait()
        if self._writer is not None:
            self._writer.close()
        self._fail_replies()

    # --- inside ----------------------------------------------------------------------------

    async def _spawn(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command,
                "--link-fd",
                str(theirs.fileno()),
                env=self.environment,
                stdin=asyncio.subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.starts += 1
        reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        self._reader = asyncio.create_task(self._read(reader), name="job-worker-reader")
        log.info("Started the job worker (pid %d)", self._process.pid)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            try:
                message = json.loads(line)
            except ValueError:
                log.error("Unreadable message from the job worker: %r", line[:200])
                continue
            if message.get("ready"):
                self._ready.set()
            answer = self._replies.get(message.get("ref", -1))
            if answer is not None and not answer.done():
                answer.set_result(bool(message.get("cancelled")))

    async def _send(self, message: Mapping[str, Any]) -> bool:
        writer = self._writer
        if writer is None or writer.is_closing():
            return False
        try:
            writer.write(encode(message))
            await writer.drain()
        except (ConnectionError, OSError):
            return False  # the worker died; the next one picks the job up from the database
        return True

    async def _supervise(self) -> None:
        failures = 0
        while True:
            process = self._process
            assert process is not None
            began = time.monotonic()
            code = await process.wait()
            self._ready.clear()
            self._fail_replies()
            if self._writer is not None:
                self._writer.close()
            if time.monotonic() - began >= STABLE_RUN:
                failures = 0
            delay = self.restart_delays[min(failures, len(self.restart_delays) - 1)]
            failures += 1
            log.error("The job worker exited with code %s; starting it again in %g s", code, delay)
            await self._sleep(delay)
            await self._spawn()

    def _fail_replies(self) -> None:
        for answer in self._replies.values():
            if not answer.done():
                answer.set_result(False)


async def serve_link(
    sock: socket.socket,
    service: JobService,
    observer_for: NotedObserverFactory,
) -> None:
    """The worker's side: take jobs and cancels from the bot until it closes the link.

    The caller picks up the jobs a previous worker left unfinished before serving, so a
    job sent again over the link is recognised as already running.
    """
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    running: set[asyncio.Task[None]] = set()

    async def run(job_id: int, note: str | None) -> None:
        try:
            await service.run_admitted(job_id, lambda job, order: observer_for(job, order, note))
        except Exception:
            log.exception("Could not start job %d", job_id)

    async def cancel(job_id: int, ref: int) -> None:
        try:
            cancelled = await service.cancel(job_id)
        except Exception:
            log.exception("Could not cancel job %d", job_id)
            cancelled = False
        writer.write(encode({"ref": ref, "cancelled": cancelled}))

    def spawn(work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        running.add(task)
        task.add_done_callback(running.discard)

    writer.write(encode({"ready": True}))
    try:
        while line := await reader.readline():
            try:
                message = json.loads(line)
                if "run" in message:
                    spawn(run(int(message["run"]), message.get("note")))
                elif "cancel" in message:
                    spawn(cancel(int(message["cancel"]), int(message["ref"])))
            except (ValueError, TypeError, KeyError):
                log.error("Unreadable message from the bot: %r", line[:200])
    finally:
        for task in running:
            task.cancel()
        writer.close()


def link_socket(fd: int) -> socket.socket:
    """The worker's end of the link, from the descriptor the bot passed it."""
    os.set_inheritable(fd, False)
    return socket.socket(fileno=fd)
