"""`python -m bot worker`: the process that runs the bot's generation jobs (JOBS_WORKER=process).

The bot starts and supervises it; it is not run by hand. It reaches Discord over REST only,
never the gateway: cards and results go through each job's interaction webhook, then its
channel, exactly as for jobs picked up after a restart. Keeping job work out of the bot's
process means a busy pipeline never delays the acknowledgement of a new command.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
from pathlib import Path
from typing import IO

from bot.app import create_bot, freeze_startup_objects
from bot.config import Settings, WorkerPriority
from bot.jobs.link import link_socket, serve_link
from bot.ui.launch import card_for_stored_job

log = logging.getLogger(__name__)


def lock_path(settings: Settings) -> Path:
    return settings.storage.local_dir / "job-worker.lock"


async def hold_worker_lock(path: Path) -> IO[bytes]:
    """Wait until no other worker of this database runs (one that is still shutting down
    keeps its jobs until it has stopped), then hold the lock until the process ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("ab")
    await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
    return handle


LOW_PRIORITY_NICE = 10


def lower_priority(priority: WorkerPriority) -> None:
    """Make this process yield the CPU to the bot as `priority` says; threads started later
    (the database's, audio work) inherit it. Where SCHED_IDLE is missing, nice 10 instead."""
    if priority is WorkerPriority.IDLE:
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except (AttributeError, OSError) as error:
            log.warning("SCHED_IDLE is not available (%s); running at nice 10", error)
    if priority is not WorkerPriority.NORMAL:
        os.nice(LOW_PRIORITY_NICE)


async def run_worker(settings: Settings, link_fd: int) -> None:
    """Run jobs for the bot until it closes the link or SIGTERM / SIGINT arrives."""
    lower_priority(settings.jobs.worker_priority)
    sock = link_socket(link_fd)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    bot = create_bot(settings, job_worker=True)
    token = settings.discord.token
    assert token is not None
    lock = None
    try:
        await bot.login(token.get_secret_value())  # REST only; opens the database and client
        lock = await hold_worker_lock(lock_path(settings))
        freeze_startup_objects()
        await bot.resume_unfinished_jobs()
        serving = asyncio.create_task(
            serve_link(
                sock,
                bot.services.jobs,
                lambda job, order, note: card_for_stored_job(bot, job, order, note),
            ),
            name="job-worker-link",
        )
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if serving in done:
            log.info("The bot closed the link; stopping")
            serving.result()
        else:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
        stopping.cancel()
    finally:
        await bot.close()
        if lock is not None:
            lock.close()
