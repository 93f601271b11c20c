"""Running jobs in a second process: the link between the bot and its job worker.

The bot acknowledges the interaction and hands the order to the worker, which reserves its
units, stores the job and queues it, then answers; the bot's own event loop does no job work
at all, so it is free for the next interaction. Each message is one JSON object on a line,
over a socket pair made when the worker is started:

    bot → worker   {"admit": {order}, "card": 7, "note": "…", "ref": 3, "until": 1700000000.0}
                   {"cancel": 12, "by": 55, "ref": 4}
    worker → bot   {"ready": true}                  jobs left unfinished are picked up
                   {"ref": 3, "job": 12}            admitted and queued as job 12
                   {"ref": 3, "refused": {…}}       quota refused (nothing stored)
                   {"ref": 3, "failed": "…"}        not admitted (nothing stored)
                   {"ref": 4, "cancelled": true, "outcome": "cancelled"}

An order the worker has not admitted by `until` is never admitted, so a member told that
their job could not be queued never gets it later. Once admitted, a job is in the database:
if the worker dies, the next one picks it up at its start.
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
from dataclasses import asdict
from datetime import datetime
from typing import Any

from bot.errors import UserFacingError
from bot.jobs.models import CancelOutcome, JobObserver, JobOrder
from bot.jobs.operations import Operation
from bot.jobs.service import JobService
from bot.storage import Job, OrderAlreadyDecided, QuotaExceeded, RefusalReason

log = logging.getLogger(__name__)

# Waits before starting a worker again after it died; reset once one has run for a minute.
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
STABLE_RUN = 60.0
# A cancel is answered within the 3 s Discord gives the button press.
REPLY_TIMEOUT = 2.0
# A busy worker (it yields the CPU to the bot) may take a while to admit; the member sees
# the "thinking" response meanwhile.
ADMIT_TIMEOUT = 60.0
ADMIT_MARGIN = 10.0
STOP_TIMEOUT = 30.0

NotedObserverFactory = Callable[[Job, JobOrder, str | None], Awaitable[JobObserver]]


class WorkerUnavailable(UserFacingError):
    """The job worker could not take the order; nothing was reserved or stored."""


def encode(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def order_message(order: JobOrder) -> dict[str, Any]:
    """`order` as JSON for the link (the interaction token included: the worker needs it)."""
    fields = asdict(order)
    fields["role_ids"] = list(order.role_ids)
    if order.token_expires_at is not None:
        fields["token_expires_at"] = order.token_expires_at.isoformat()
    return fields


def order_from_message(fields: Mapping[str, Any]) -> JobOrder:
    expires = fields.get("token_expires_at")
    return JobOrder(
        **{
            **fields,
            "operation": Operation(fields["operation"]),
            "role_ids": tuple(fields.get("role_ids", ())),
            "token_expires_at": datetime.fromisoformat(expires) if expires else None,
        }
    )


def refusal_message(refusal: QuotaExceeded) -> dict[str, Any]:
    return {
        "reason": refusal.reason.value,
        "requested": refusal.requested,
        "left": refusal.left,
        "limit": refusal.limit,
        "reset_at": refusal.reset_at.isoformat(),
    }


def refusal_from_message(fields: Mapping[str, Any]) -> QuotaExceeded:
    return QuotaExceeded(
        RefusalReason(fields["reason"]),
        requested=int(fields["requested"]),
        left=int(fields["left"]),
        limit=int(fields["limit"]),
        reset_at=datetime.fromisoformat(fields["reset_at"]),
    )


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
        on_change: Callable[[], None] | None = None,
    ) -> None:
        """`on_change`: called when the worker starts or stops taking jobs."""
        self.command = tuple(command)
        self.environment = dict(environment)
        self.restart_delays = tuple(restart_delays)
        self.reply_timeout = reply_timeout
        self.starts = 0
        self._sleep = sleep
        self._on_change = on_change
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ready = asyncio.Event()
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_ref = 0
        self._supervisor: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The running worker's process id."""
        return self._process.pid if self._process is not None else None

    @property
    def taking_jobs(self) -> bool:
        """The current worker is up and has said it takes jobs."""
        return self._ready.is_set()

    def _set_taking_jobs(self, taking: bool) -> None:
        if taking == self._ready.is_set():
            return
        if taking:
            self._ready.set()
        else:
            self._ready.clear()
        if self._on_change is not None:
            self._on_change()

    async def start(self) -> None:
        """Start the worker and keep it running until `close`."""
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise(), name="job-worker-supervisor")

    async def wait_ready(self) -> None:
        """Until the current worker has picked up what was left unfinished and takes jobs."""
        await self._ready.wait()

    async def admit(
        self, order: JobOrder, *, card_message_id: int | None, note: str | None = None
    ) -> int:
        """Have the worker reserve, store and queue `order`; returns the job's id.

        Raises `QuotaExceeded` as the worker's ledger decided, or `WorkerUnavailable` when
        the worker is down or does not answer in time (then nothing was stored).
        """
        until = time.time() + ADMIT_TIMEOUT
        message = {
            "admit": order_message(order),
            "card": card_message_id,
            "note": note,
            "until": until,
        }
        answer = await self._ask(message, ADMIT_TIMEOUT)
        if not answer:  # no answer in time, or the worker died before answering
            raise WorkerUnavailable(
                "The bot's job worker did not take this in time (it may be restarting), so it "
                "was not queued and nothing was used. Please try again in a moment."
            )
        if "refused" in answer:
            raise refusal_from_message(answer["refused"])
        if "job" not in answer:
            raise RuntimeError(f"the job worker could not admit the job: {answer.get('failed')}")
        return int(answer["job"])

    async def cancel(self, job_id: int, by_user_id: int | None = None) -> CancelOutcome:
        """Cancel a job in the worker: what came of it (NOT_RUNNING when the worker could not
        answer)."""
        answer = await self._ask({"cancel": job_id, "by": by_user_id}, self.reply_timeout)
        if not answer:
            return CancelOutcome.NOT_RUNNING
        if "outcome" in answer:
            return CancelOutcome(answer["outcome"])
        return CancelOutcome.CANCELLED if answer.get("cancelled") else CancelOutcome.NOT_RUNNING

    async def close(self, timeout: float = STOP_TIMEOUT) -> None:  # noqa: ASYNC109
        """Stop the worker the way SIGTERM stops the bot: its jobs stay for the next start."""
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

    async def _ask(self, message: dict[str, Any], timeout: float) -> dict[str, Any] | None:  # noqa: ASYNC109
        """Send `message` with a fresh ref; the worker's answer, or None if none came."""
        self._next_ref += 1
        ref = self._next_ref
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[ref] = answer
        try:
            if not await self._send({**message, "ref": ref}):
                return None
            async with asyncio.timeout(timeout):
                return await answer
        except TimeoutError:
            log.warning("The job worker did not answer %s in time", next(iter(message)))
            return None
        finally:
            self._replies.pop(ref, None)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            try:
                message = json.loads(line)
            except ValueError:
                log.error("Unreadable message from the job worker: %r", line[:200])
                continue
            if message.get("ready"):
                self._set_taking_jobs(True)
            answer = self._replies.get(message.get("ref", -1))
            if answer is not None and not answer.done():
                answer.set_result(message)

    async def _send(self, message: Mapping[str, Any]) -> bool:
        writer = self._writer
        if writer is None or writer.is_closing():
            return False
        try:
            writer.write(encode(message))
            await writer.drain()
        except (ConnectionError, OSError):
            return False  # the worker died: the caller takes it as no answer
        return True

    async def _supervise(self) -> None:
        failures = 0
        while True:
            process = self._process
            assert process is not None
            began = time.monotonic()
            code = await process.wait()
            self._set_taking_jobs(False)
            self._fail_replies()
            if self._writer is not None:
                self._writer.close()
            if time.monotonic() - began >= STABLE_RUN:
                failures = 0
            delay = self.restart_delays[min(failures, len(self.restart_delays) - 1)]
            failures += 1
            log.error("The job worker exited with code %s; starting it again in %g s", code, delay)
            await self._sleep(delay)
            try:
                await self._spawn()
            except Exception:
                # The old, dead process stays current: the next turn waits longer and retries.
                log.exception("Could not start the job worker")

    def _fail_replies(self) -> None:
        for answer in self._replies.values():
            if not answer.done():
                answer.set_result({})


class _LinkServer:
    """The worker's side of one link: answers each order and cancel the bot sends."""

    def __init__(
        self,
        writer: asyncio.StreamWriter,
        service: JobService,
        observer_for: NotedObserverFactory,
        wall_clock: Callable[[], float],
    ) -> None:
        self._writer = writer
        self._service = service
        self._observer_for = observer_for
        self._wall_clock = wall_clock
        self._running: set[asyncio.Task[None]] = set()

    def take(self, line: bytes) -> None:
        """Start answering one line from the bot; an unreadable one is logged and skipped."""
        try:
            message = json.loads(line)
            if "admit" in message:
                self._spawn(self._admit(message))
            elif "cancel" in message:
                self._spawn(self._cancel(message))
            else:
                raise ValueError("no admit or cancel")
        except (ValueError, TypeError, KeyError):
            log.error("Unreadable message from the bot: %r", line[:200])

    def close(self) -> None:
        for task in self._running:
            task.cancel()
        self._writer.close()

    def _answer(self, ref: int, **fields: Any) -> None:
        self._writer.write(encode({"ref": ref, **fields}))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _admit(self, message: dict[str, Any]) -> None:
        ref = int(message["ref"])
        # Late orders are dropped well before the bot gives up on them, so an admission
        # never completes after the bot told the member it failed.
        if self._wall_clock() > float(message["until"]) - ADMIT_MARGIN:
            self._answer(ref, failed="the bot stopped waiting for this order")
            return
        order = order_from_message(message["admit"])
        try:
            job = await self._service.admit(order, card_message_id=message.get("card"))
        except QuotaExceeded as refusal:
            self._answer(ref, refused=refusal_message(refusal))
            return
        except OrderAlreadyDecided:
            # The bot gave up waiting (the member was told) while this worker was starved.
            self._answer(ref, failed="the bot stopped waiting for this order")
            return
        except Exception as error:
            log.exception("Could not admit an order for %s", order.operation)
            self._answer(ref, failed=str(error)[:200])
            return
        self._answer(ref, job=job.id)
        try:
            observer = await self._observer_for(job, order, message.get("note"))
            self._service.queue_admitted(job, order, observer)
        except Exception:
            log.exception("Could not queue job %d; it is picked up at the next start", job.id)

    async def _cancel(self, message: dict[str, Any]) -> None:
        ref = int(message["ref"])
        try:
            by = message.get("by")
            outcome = await self._service.cancel(
                int(message["cancel"]), int(by) if by is not None else None
            )
        except Exception:
            log.exception("Could not cancel job %s", message["cancel"])
            outcome = CancelOutcome.NOT_RUNNING
        self._answer(ref, cancelled=outcome is CancelOutcome.CANCELLED, outcome=outcome.value)


async def serve_link(
    sock: socket.socket,
    service: JobService,
    observer_for: NotedObserverFactory,
    *,
    wall_clock: Callable[[], float] = time.time,
) -> None:
    """The worker's side: take orders and cancels from the bot until it closes the link.

    The caller picks up the jobs a previous worker left unfinished before serving.
    """
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    server = _LinkServer(writer, service, observer_for, wall_clock)
    writer.write(encode({"ready": True}))
    try:
        while line := await reader.readline():
            server.take(line)
    finally:
        server.close()


def link_socket(fd: int) -> socket.socket:
    """The worker's end of the link, from the descriptor the bot passed it."""
    os.set_inheritable(fd, False)
    return socket.socket(fileno=fd)
