"""`python -m bot worker`: a process that runs the bot's generation jobs.

With JOBS_WORKER=process the bot starts and supervises one (`--link-fd`), and hands it each
order over their link. With JOBS_WORKER=shared, any number run on any hosts, started by
hand or by a service manager, and claim the jobs the bot stores (`bot/jobs/shared.py`).
Either way it reaches Discord over REST only,
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

from bot.app import SoundverseBot, create_bot, freeze_startup_objects
from bot.config import Settings, WorkerMode, WorkerPriority
from bot.errors import UserFacingError
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


def started_worker(settings: Settings) -> tuple[SoundverseBot, asyncio.Event]:
    """A job worker's client (REST only, not yet logged in) at the priority its settings
    give, and the event SIGTERM / SIGINT set."""
    lower_priority(settings.jobs.worker_priority)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # platforms without signal handlers
            loop.add_signal_handler(signum, stop.set)
    return create_bot(settings, job_worker=True), stop


async def log_in(bot: SoundverseBot, settings: Settings) -> None:
    """Log in over REST only, which opens the database and the Soundverse client."""
    token = settings.discord.token
    assert token is not None
    await bot.login(token.get_secret_value())


async def run_worker(settings: Settings, link_fd: int) -> None:
    """Run jobs for the bot until it closes the link or SIGTERM / SIGINT arrives."""
    sock = link_socket(link_fd)
    bot, stop = started_worker(settings)
    lock = None
    try:
        await log_in(bot, settings)
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


async def run_shared_worker(settings: Settings) -> None:
    """Claim and run the bot's jobs with the other workers until SIGTERM / SIGINT arrives;
    then give back the unfinished ones, so that another worker resumes them at once."""
    if settings.jobs.worker is not WorkerMode.SHARED:
        raise SettingsMismatch(
            "`python -m bot worker` without --link-fd takes shared jobs: set JOBS_WORKER=shared "
            "here and in the bot (and STORAGE_URL to the database they share)"
        )
    bot, stop = started_worker(settings)
    try:
        await log_in(bot, settings)
        freeze_startup_objects()
        worker = bot.services.shared_jobs.worker(
            lambda job, order: card_for_stored_job(bot, job, order, job.note)
        )
        await worker.run(stop)
    finally:
        await bot.close()


class SettingsMismatch(UserFacingError):
    """The worker was started in a way its settings do not allow."""
