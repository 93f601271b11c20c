"""The life of a job: reserve, queue, stream, deliver, record, settle; and resume after a restart.

`JobService` is the one place that decides what a job costs, when it is billed,
when units are refunded and what is recorded. Front ends give it an order and a
`JobObserver`; it tells the observer what to show.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.audio import AudioError, fit_to_size_async, probe_async
from bot.config import Settings
from bot.errors import UserFacingError
from bot.jobs.coalescer import ProgressCoalescer
from bot.jobs.events import job_event
from bot.jobs.failures import describe_failure
from bot.jobs.inputs import megabytes
from bot.jobs.live import LiveView
from bot.jobs.models import (
    MESSAGE_REQUEST_CAP,
    NOTHING_HELD,
    CancelOutcome,
    DeliveredTake,
    Delivery,
    JobFailure,
    JobObserver,
    JobOrder,
    JobView,
    PostedMessage,
    Settlement,
)
from bot.jobs.operations import OneCall, Operation, Streamed, runner_for
from bot.jobs.queue import JobQueue
from bot.soundverse import (
    DownloadRefusal,
    DownloadRefused,
    GenerationResult,
    GenerationStream,
    SoundverseClient,
    SoundverseError,
    Take,
)
from bot.soundverse import (
    JobState as StreamState,
)
from bot.storage import (
    AudioFile,
    Database,
    Job,
    JobRepository,
    JobState,
    NewJob,
    NewTrack,
    QuotaLedger,
    Reservation,
    ReservationClosed,
    ReservationState,
    Track,
    TrackRepository,
)
from bot.storage.clock import Clock
from bot.storage.jobs import LeaseLost
from bot.storage.leases import Lease

log = logging.getLogger(__name__)

ObserverFactory = Callable[[Job, JobOrder], Awaitable[JobObserver]]

UNFOLLOWABLE = (
    "The bot restarted while this job was being sent and Soundverse had not yet given it an "
    "id, so it could not be followed. Please run the command again."
)
UNDELIVERABLE = (
    "The bot restarted while delivering this job, and this kind of job cannot be fetched "
    "again from Soundverse. Please run the command again."
)

# Room kept in a message create for the album art and the JSON part.
_ART_ALLOWANCE = 1024 * 1024
# Waits between tries at recording a posted result while the database refuses (about 30 s).
BOOKKEEPING_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


@dataclass(frozen=True)
class _Tracked:
    """A job queued or running in this process, with what shows it."""

    job: Job
    order: JobOrder
    observer: JobObserver
    coalescer: ProgressCoalescer[JobView]


def settlement_of(reservation: Reservation) -> Settlement:
    """What a closed reservation did with its units (none counted for an exempt member)."""
    units = 0 if reservation.exempt else reservation.units
    return Settlement(units, refunded=reservation.state is ReservationState.REFUNDED)


def cancelled_how(where: str, by_user_id: int | None) -> str:
    """The `cancelled` event's text: at which stage, and by whom when known."""
    return where if by_user_id is None else f"{where}, by member {by_user_id}"


@dataclass
class _Progress:
    """What the pipeline learned about one running job."""

    state: JobState
    billed: bool
    started_at: float
    last_stage: str | None = None
    settlement: Settlement | None = None
    preview_url: str | None = None


class JobService:
    """Runs generation jobs from order to delivered, recorded, settled track."""

    def __init__(
        self,
        *,
        client: SoundverseClient,
        database: Database,
        settings: Settings,
        storage_clock: Clock | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._settings = settings
        self._jobs = JobRepository(database, storage_clock)
        self._tracks = TrackRepository(database, storage_clock)
        self._ledger = QuotaLedger(database, settings.quota, storage_clock)
        self._queue = JobQueue(settings.jobs.guild_concurrency, clock=clock)
        self._clock = clock
        self._sleep = sleep
        self._tracked: dict[int, _Tracked] = {}
        # Jobs whose result is being delivered: they can no longer be cancelled.
        self._delivering: set[int] = set()
        # Who asked to cancel each job whose task is being cancelled.
        self._cancelled_by: dict[int, int | None] = {}
        # Jobs being cancelled: asking again must not cut short how they end.
        self._cancelling: set[int] = set()
        self._closing = False
        self.closing = asyncio.Event()
        """Set once `close` has begun."""
        # Shared jobs (JOBS_WORKER=shared): the fencing token each job held here was claimed
        # with, and until when (on `clock`) its lease is known to hold.
        self._held: dict[int, int] = {}
        self._held_until: dict[int, float] = {}
        # Jobs held by another worker now: they stop here without another write.
        self._dropped: set[int] = set()
        self.on_finished: Callable[[], None] | None = None
        """Called whenever a job queued or running here ends (a shared worker has room)."""

    # --- what front ends call ---------------------------------------------------------------

    async def submit(
        self, order: JobOrder, observer: JobObserver, *, card_message_id: int | None = None
    ) -> Job:
        """Reserve the order's units, persist it as queued and queue it here.

        Raises `QuotaExceeded` (nothing stored, nothing sent) or `UnknownOperation`.
        """
        job = await self.admit(order, card_message_id=card_message_id)
        self._enqueue(job, order, observer)
        return job

    async def admit(
        self, order: JobOrder, *, card_message_id: int | None = None, note: str | None = None
    ) -> Job:
        """Reserve the order's units and persist it as queued (with the message of its card,
        in the order's channel), in one transaction, for whichever process runs it.

        Raises `QuotaExceeded` (nothing stored, nothing sent), `UnknownOperation`, or
        `OrderAlreadyDecided` when its interaction already has a job (admitted, or given up
        by the bot: then nothing is stored).
        """
        runner_for(order.operation, order.version)
        job, reservation = await self._ledger.reserve_for_job(
            new_job(order, card_message_id, note),
            self._settings.quota.cost_of(order.operation.cost_key),
            role_ids=order.role_ids,
        )
        job_event(
            job,
            "admitted",
            f"{order.operation.value} ({order.version}), {reservation.units} units held",
            operation=order.operation.value,
            version=order.version,
            units=reservation.units,
        )
        return job

    async def give_up(self, order: JobOrder, *, card_message_id: int | None = None) -> bool:
        """Record that the bot stopped waiting for `order` to be admitted, so it never will be;
        False when it was admitted first (then it runs as usual)."""
        return await self._jobs.give_up(
            new_job(order, card_message_id), "not admitted in time; the member was told"
        )

    def queue_admitted(self, job: Job, order: JobOrder, observer: JobObserver) -> None:
        """Queue a job just admitted (by `admit`) in this process."""
        self._enqueue(job, order, observer)

    def is_idle(self) -> bool:
        """No job is queued or running in this process."""
        return self._queue.is_idle()

    async def wait_until_idle(self) -> None:
        """Until no job is queued or running in this process."""
        await self._queue.wait_until_idle()

    async def find(self, job_id: int) -> Job | None:
        """One job as stored, or None."""
        return await self._jobs.find(job_id)

    async def record_card_move(self, job_id: int, *, channel_id: int, message_id: int) -> None:
        """Remember where a job's card lives now that it moved to a channel message."""
        await self._jobs.set_card(job_id, channel_id=channel_id, message_id=message_id)

    async def order_to_vary(self, track: Track) -> JobOrder:
        """The stored order that made `track`, to run again as a variation of it."""
        job = await self._jobs.find(track.job_id) if track.job_id is not None else None
        if job is None:
            raise UserFacingError("This track's request is no longer known, so it can't be varied.")
        return order_from_job(job)

    async def cancel(self, job_id: int, by_user_id: int | None = None) -> CancelOutcome:
        """Cancel a queued or running job, unless its result is already being delivered;
        `by_user_id` is who asked (shown on the card and kept in the quota ledger).

        A running job settles itself as it stops; a waiting one never started, so it is
        settled here: nothing was sent for it, so its units are refunded. Once delivery has
        begun the job always ends delivered: a cancel then changes nothing.
        """
        if job_id in self._delivering:
            return CancelOutcome.DELIVERING
        if job_id in self._cancelling:
            return CancelOutcome.CANCELLED
        tracked = self._tracked.get(job_id)
        place = self._queue.place(job_id)
        if tracked is None or place is None:
            return CancelOutcome.NOT_RUNNING
        self._cancelled_by[job_id] = by_user_id
        self._cancelling.add(job_id)
        if not self._queue.cancel(job_id):
            self._cancelling.discard(job_id)
            self._cancelled_by.pop(job_id, None)
            return CancelOutcome.NOT_RUNNING
        if place.position > 0:
            self._tracked.pop(job_id, None)
            self._cancelled_by.pop(job_id, None)
            await tracked.coalescer.close()
            job = tracked.job
            progress = _Progress(job.state, job_billed(job), self._clock())
            settlement = await self._settle_unfinished(job, progress, "cancelled", by_user_id)
            await self._transition_quietly(job_id, JobState.CANCELLED, error="cancelled")
            job_event(job, "cancelled", cancelled_how("while queued", by_user_id))
            await tracked.observer.on_cancelled(job_id, settlement, by_user_id)
            self._cancelling.discard(job_id)
            if job_id in self._held:
                self._let_go(job_id)
        return CancelOutcome.CANCELLED

    async def resume_unfinished(self, observer_for: ObserverFactory) -> list[int]:
        """Pick up every job a previous process left unfinished; returns their ids.

        A job Soundverse already answered is delivered from the answer kept for it (charged,
        never sent again); jobs Soundverse already has are followed through status (never
        posted again); queued jobs that were never sent are queued again; a job whose request
        may have been sent but whose id was never learned cannot be followed, so it fails and,
        as nothing proves it was billed, its units are refunded.
        """
        resumed = []
        for job in await self._jobs.unfinished():
            order = order_from_job(job)
            observer = await observer_for(job, order)
            if await self._resume(job, order, observer):
                resumed.append(job.id)
        return resumed

    async def _resume(self, job: Job, order: JobOrder, observer: JobObserver) -> bool:
        """Queue a job another process left unfinished, unless it cannot be followed (then it
        fails, refunded); True when it was queued."""
        if job.result is None and job.state is JobState.QUEUED and job.attempts > 0:
            await self._fail_interrupted(job, observer, UNFOLLOWABLE)
            return False
        if job.state is JobState.DELIVERING and not job_billed(job):
            await self._fail_interrupted(job, observer, UNDELIVERABLE)
            return False
        self._enqueue(job, order, observer)
        return True

    # --- shared jobs (JOBS_WORKER=shared) -------------------------------------------------

    async def take(self, lease: Lease, observer: JobObserver, *, expires: float) -> None:
        """Run a job this worker claimed, as a restarted worker resumes one; every write about
        it carries the claim's fencing token. A cancel asked before it started settles it at
        once; one asked while it ran (before another worker's lease ran out) is applied."""
        job = lease.job
        self._jobs.fence(job.id, lease.token)
        self._held[job.id] = lease.token
        self._held_until[job.id] = expires
        by_user_id = job.cancel_requested_by
        never_started = job.state is JobState.QUEUED and job.attempts == 0
        if job.cancel_requested_at is not None and never_started:
            await self._cancel_unstarted(job, observer, by_user_id)
            self._let_go(job.id)
            return
        if not await self._resume(job, order_from_job(job), observer):
            self._let_go(job.id)
            return
        if job.cancel_requested_at is not None:
            await self.cancel(job.id, by_user_id)

    def held_tokens(self) -> dict[int, int]:
        """The jobs this worker holds, with the fencing token of each claim."""
        return dict(self._held)

    def extend(self, job_id: int, until: float) -> None:
        """Its lease was renewed: the job is known to be held until `until` (on `clock`)."""
        if job_id in self._held:
            self._held_until[job_id] = until

    def expired(self, now: float) -> list[int]:
        """The held jobs whose lease may have run out by `now` (renewals failed meanwhile)."""
        return [job_id for job_id, until in self._held_until.items() if until <= now]

    async def drop(self, job_id: int, why: str) -> None:
        """Stop a job another worker may hold now, writing nothing more about it: the holder
        goes on from what is stored, and the fencing token refuses a late write from here."""
        if job_id not in self._held or job_id in self._dropped:
            return
        self._dropped.add(job_id)
        tracked = self._tracked.get(job_id)
        if tracked is not None:
            job_event(tracked.job, "interrupted", f"dropped here: {why}", level=logging.WARNING)
        place = self._queue.place(job_id)
        self._queue.cancel(job_id)
        if place is None or place.position > 0:
            # Never started here (or already ended): no task will let it go.
            tracked = self._tracked.pop(job_id, None)
            if tracked is not None:
                await tracked.coalescer.close()
            self._let_go(job_id)

    def _let_go(self, job_id: int) -> None:
        self._held.pop(job_id, None)
        self._held_until.pop(job_id, None)
        self._dropped.discard(job_id)
        self._jobs.unfence(job_id)
        if self.on_finished is not None:
            self.on_finished()

    async def _cancel_unstarted(
        self, job: Job, observer: JobObserver, by_user_id: int | None
    ) -> None:
        progress = _Progress(job.state, job_billed(job), self._clock())
        settlement = await self._settle_unfinished(job, progress, "cancelled", by_user_id)
        await self._transition_quietly(job.id, JobState.CANCELLED, error="cancelled")
        job_event(job, "cancelled", cancelled_how("while queued", by_user_id))
        await observer.on_cancelled(job.id, settlement, by_user_id)

    async def close(self) -> None:
        """Stop following every job; their state stays in the database for the next start.

        A result being posted is given `JOBS_SHUTDOWN_GRACE` seconds to arrive first, so a
        stop does not cut an upload Discord may already have taken.
        """
        self._closing = True
        self.closing.set()
        await self._queue.close(
            finish=frozenset(self._delivering), grace=self._settings.jobs.shutdown_grace
        )

    # --- the pipeline ----------------------------------------------------------------------

    def _enqueue(self, job: Job, order: JobOrder, observer: JobObserver) -> None:
        coalescer: ProgressCoalescer[JobView] = ProgressCoalescer(
            observer.on_progress,
            lambda view: repr(view.visible_key()),
            interval=self._settings.jobs.progress_interval,
            clock=self._clock,
            sleep=self._sleep,
        )
        self._tracked[job.id] = _Tracked(job, order, observer, coalescer)

        async def announce(position: int, eta: float | None) -> None:
            coalescer.update(JobView(job.id, "queued", position=position, eta_seconds=eta))

        async def run() -> None:
            try:
                await self._run(job, order, observer, coalescer)
            finally:
                self._tracked.pop(job.id, None)
                self._delivering.discard(job.id)
                self._cancelling.discard(job.id)
                if job.id in self._held:
                    self._let_go(job.id)

        done = self._queue.submit(order.queue_group, job.id, run, on_position=announce)
        done.add_done_callback(_consume_outcome)

    async def _run(
        self,
        job: Job,
        order: JobOrder,
        observer: JobObserver,
        coalescer: ProgressCoalescer[JobView],
    ) -> None:
        progress = _Progress(job.state, billed=job_billed(job), started_at=self._clock())
        live = LiveView(
            coalescer,
            refresh=self._settings.jobs.card_refresh,
            started_at=progress.started_at,
            clock=self._clock,
            sleep=self._sleep,
            typical=self._queue.typical_duration,
        )
        if job.state is JobState.DELIVERING:
            self._delivering.add(job.id)
        try:
            result = await self._generate(job, order, live, progress)
            # From here the job ends delivered (or failed): no cancel may cut the upload short.
            self._delivering.add(job.id)
            if progress.state is not JobState.DELIVERING:
                await self._move(job.id, progress, JobState.DELIVERING, percent=100)
            # Shown before anything is posted: the card stops offering Cancel.
            await live.show_now(
                JobView(job.id, "delivering", 100, result.song_name, result.album_art)
            )
            posted, tracks = await self._post_once(job, order, observer, result, progress, live)
            await live.close()
        except asyncio.CancelledError:
            await live.close()
            if job.id in self._dropped:
                raise  # another worker holds it now and goes on from what is stored
            if self._closing:
                job_event(job, "interrupted", f"left {progress.state.value} for the next start")
                raise  # shutting down: the job stays unfinished and resumes at the next start
            by_user_id = self._cancelled_by.pop(job.id, None)
            settlement = await self._settle_unfinished(job, progress, "cancelled", by_user_id)
            await self._transition_quietly(job.id, JobState.CANCELLED, error="cancelled")
            job_event(job, "cancelled", cancelled_how(f"while {progress.state.value}", by_user_id))
            await observer.on_cancelled(job.id, settlement, by_user_id)
            raise
        except LeaseLost:
            await live.close()
            job_event(job, "interrupted", "another worker holds it now", level=logging.WARNING)
            return
        except Exception as error:
            await live.close()
            settlement = await self._settle_unfinished(job, progress, "failed")
            text, error_id = describe_failure(error)
            await self._transition_quietly(job.id, JobState.FAILED, error=str(error)[:500])
            job_event(
                job,
                "failed",
                f"{text} (error id {error_id})" if error_id else text,
                level=logging.WARNING,
                error_id=error_id,
                reason=str(error)[:300],
                stage=progress.state.value,
            )
            await observer.on_failed(JobFailure(job.id, text, settlement, error_id))
            return
        # The result is out: from here nothing fails the job.
        await self._record_delivered(job, progress, tracks, posted)
        elapsed = self._clock() - progress.started_at
        job_event(
            job,
            "delivered",
            f"message {posted.message_id} in channel {posted.channel_id}, {elapsed:.1f} s",
            message_id=posted.message_id,
            seconds=round(elapsed, 3),
            takes=len(tracks),
        )
        await self._tell_done(observer, posted, progress.settlement)

    async def _post_once(
        self,
        job: Job,
        order: JobOrder,
        observer: JobObserver,
        result: GenerationResult,
        progress: _Progress,
        live: LiveView,
    ) -> tuple[PostedMessage, list[Track]]:
        """Post the result, unless an earlier run of this job already did: a job that began
        posting before a restart may be in Discord already, so it is looked for first."""
        # A job that had never started when it was queued here has recorded no track yet.
        never_started = job.state is JobState.QUEUED and job.attempts == 0
        earlier = [] if never_started else list(await self._tracks.of_job(job.id))
        if job.posting_at is not None and earlier:
            track_ids = [track.id for track in sorted(earlier, key=lambda t: t.take_index)]
            found = await observer.find_posted(job.id, track_ids, job.posting_at)
            if found is not None:
                log.info("Job %s was already posted as message %s", job.id, found.message_id)
                return found, earlier
        delivery = await self._prepare_delivery(job.id, order, result, progress, live.detail)
        tracks = await self._record_tracks(job, order, delivery, earlier)
        delivery = replace(delivery, track_ids=tuple(track.id for track in tracks))
        await self._jobs.begin_posting(job.id)
        try:
            posted = await observer.on_delivered(delivery)
        except Exception:
            for track in tracks:
                await self._tracks.delete(track.id)
            raise
        return posted, tracks

    async def _record_delivered(
        self, job: Job, progress: _Progress, tracks: list[Track], posted: PostedMessage
    ) -> None:
        """Link the tracks to their message, charge, and end the job done. Retried while the
        database refuses; should it still refuse, the job stays unfinished and the next start
        finds its message instead of posting again."""
        pending = [
            *(partial(self._attach, track.id, posted) for track in tracks),
            partial(self._charge, job, progress),
            partial(self._move, job.id, progress, JobState.DONE),
        ]
        delays = iter(BOOKKEEPING_RETRY_DELAYS)
        while pending:
            try:
                await pending[0]()
            except Exception as error:
                delay = next(delays, None)
                if delay is None:
                    log.exception("Job %s was posted but could not be recorded", job.id)
                    return
                log.warning(
                    "Could not record the delivery of job %s (%s); retrying in %g s",
                    job.id,
                    error,
                    delay,
                )
                await self._sleep(delay)
            else:
                pending.pop(0)

    async def _attach(self, track_id: int, posted: PostedMessage) -> None:
        await self._tracks.attach_message(
            track_id, channel_id=posted.channel_id, message_id=posted.message_id
        )

    async def _charge(self, job: Job, progress: _Progress) -> None:
        """Commit the job's units (once: a reservation already committed is left as it is)."""
        if job.reservation_id is None:
            progress.settlement = NOTHING_HELD
            return
        try:
            charged = await self._ledger.commit(job.reservation_id)
        except ReservationClosed as closed:
            if closed.reservation.state is not ReservationState.COMMITTED:
                raise
            progress.settlement = settlement_of(closed.reservation)
            return
        progress.settlement = settlement_of(charged)
        job_event(job, "charged", f"{charged.units} units", units=charged.units)

    async def _tell_done(
        self, observer: JobObserver, posted: PostedMessage, settlement: Settlement | None
    ) -> None:
        """Show the job as done; it is, whatever showing it meets."""
        try:
            await observer.on_done(posted, settlement)
        except Exception:
            log.exception("A job is done but its card could not say so")

    async def _generate(
        self,
        job: Job,
        order: JobOrder,
        live: LiveView,
        progress: _Progress,
    ) -> GenerationResult:
        """What Soundverse answered: kept from before a restart, followed through status, or
        asked for now. Once it has answered, the answer is kept until the job ends."""
        kept = job.result
        if kept is not None:
            progress.billed = True
            return GenerationResult.model_validate(kept)
        runner = runner_for(order.operation, order.version)
        if job.resumes_by_polling:
            stream = self._client.resume(
                message_id=job.soundverse_message_id, job_id=job.soundverse_job_id
            )
            result = await self._follow(job, stream, live, progress)
        else:
            await self._jobs.record_attempt(job.id)
            live.show(JobView(job.id, "submitting"))
            if isinstance(runner, Streamed):
                stream = runner.start(self._client, order.request)
                result = await self._follow(job, stream, live, progress)
            else:
                assert isinstance(runner, OneCall)
                result = await runner.call(self._client, order.request)
                progress.billed = True
                submitted(job, result.message_id, result.job_id)
        await self._jobs.record_result(
            job.id,
            result.model_dump(mode="json"),
            soundverse_message_id=result.message_id,
            soundverse_job_id=result.job_id,
        )
        if progress.state is JobState.QUEUED:
            progress.state = JobState.SUBMITTED
        return result

    async def _move(
        self,
        job_id: int,
        tracked: _Progress,
        state: JobState,
        *,
        percent: int | None = None,
        status_text: str | None = None,
    ) -> None:
        await self._jobs.transition(job_id, state, progress=percent, status_text=status_text)
        tracked.state = state

    async def _follow(
        self,
        job: Job,
        stream: GenerationStream,
        live: LiveView,
        progress: _Progress,
    ) -> GenerationResult:
        async for state in stream:
            if not progress.billed and (state.message_id or state.job_id):
                progress.billed = True
                if progress.state is JobState.QUEUED:
                    # The ids and the move to submitted in one write.
                    await self._jobs.submit_with_ids(
                        job.id,
                        soundverse_message_id=state.message_id,
                        soundverse_job_id=state.job_id,
                    )
                    progress.state = JobState.SUBMITTED
                else:
                    await self._jobs.set_ids(
                        job.id,
                        soundverse_message_id=state.message_id,
                        soundverse_job_id=state.job_id,
                    )
                submitted(job, state.message_id, state.job_id)
            if progress.state is JobState.QUEUED and progress.billed:
                await self._move(job.id, progress, JobState.SUBMITTED)
            stage = state.stage or "submitting"
            if (
                stage in {"streaming", "uploading"}
                and stage != progress.last_stage
                and progress.state in {JobState.SUBMITTED, JobState.STREAMING}
            ):
                await self._move(
                    job.id, progress, JobState.STREAMING, percent=state.progress, status_text=stage
                )
            progress.last_stage = stage
            preview = self._preview_of(state)
            view = JobView(
                job.id,
                stage,
                state.progress,
                state.song_name,
                state.album_art,
                preview_url=preview,
            )
            if preview is not None and preview != progress.preview_url:
                # A new way to listen is shown at once, not at the next allowed edit.
                await self._jobs.set_preview(job.id, preview)
                progress.preview_url = preview
                await live.show_now(view)
            else:
                live.show(view)
        return stream.result

    def _preview_of(self, state: StreamState) -> str | None:
        """The audio as it is made, once Soundverse says it can be streamed from a host audio
        may come from; else None."""
        url = state.stream_url
        if url is None or state.raw.get("streaming_ready") is not True:
            return None
        return url if self._client.is_audio_host(url) else None

    async def _prepare_delivery(
        self,
        job_id: int,
        order: JobOrder,
        result: GenerationResult,
        progress: _Progress,
        say: Callable[[str], None],
    ) -> Delivery:
        """Download every take and the art, and fit each take under the upload limit, saying
        what is being done (`say`)."""
        timings = {"download": 0.0, "fit": 0.0}
        folder = self._settings.audio.directory / str(job_id)
        takes = result.takes
        per_file = min(
            order.upload_limit, (MESSAGE_REQUEST_CAP - _ART_ALLOWANCE) // max(1, len(takes))
        )
        delivered = []
        for index, take in enumerate(takes, start=1):
            name = attachment_name(take.song_name or result.song_name, index, take.audio_url)
            which = f"take {index} of {len(takes)}" if len(takes) > 1 else "the audio"
            say(f"Downloading {which}")
            began = self._clock()
            try:
                downloaded = await self._client.download(
                    take.audio_url, folder / f"take-{index}{suffix_of(take.audio_url)}"
                )
            except (SoundverseError, OSError) as error:
                # Billed all the same: the member gets the take as a link instead.
                log.warning("Take %s of job %s not downloaded: %s", index, job_id, error)
                delivered.append(link_only(index, take, name, not_downloaded(error)))
                continue
            finally:
                timings["download"] += self._clock() - began
            began = self._clock()
            if downloaded.path.stat().st_size > per_file:
                say(f"Re-encoding {which} to fit the {megabytes(per_file)} limit")
            delivered.append(await self._fit(index, take, name, downloaded.path, folder, per_file))
            timings["fit"] += self._clock() - began
        art_path = await self._download_art(result.album_art, folder)
        return Delivery(
            job_id=job_id,
            order=order,
            takes=tuple(delivered),
            song_name=result.song_name,
            album_art_url=result.album_art,
            album_art_path=art_path,
            soundverse_message_id=result.message_id,
            elapsed_seconds=self._clock() - progress.started_at,
            timings=timings,
        )

    async def _fit(
        self, index: int, take: Take, name: str, path: Path, folder: Path, limit: int
    ) -> DeliveredTake:
        base = link_only(index, take, name, None)
        try:
            info = await probe_async(path)
        except AudioError as error:
            return replace(base, not_attached_reason=f"the audio could not be read ({error})")
        try:
            fit = await fit_to_size_async(
                path, limit, folder, self._settings.audio.fallback_bitrates_kbps, info=info
            )
        except OSError as error:
            log.warning("Take %s could not be fitted: %s", index, error)
            return replace(base, not_attached_reason=not_downloaded(error))
        if fit.path is None:
            return replace(
                base,
                duration=info.duration,
                format_name=info.format_name,
                not_attached_reason=fit.reason,
            )
        filename = name if not fit.transcoded else str(Path(name).with_suffix(".mp3"))
        return replace(
            base,
            path=fit.path,
            filename=filename,
            size=fit.size,
            duration=info.duration,
            format_name="mp3" if fit.transcoded else info.format_name,
            transcoded_kbps=fit.bitrate_kbps,
        )

    async def _download_art(self, url: str | None, folder: Path) -> Path | None:
        if not url:
            return None
        try:
            art = await self._client.download(
                url, folder / f"cover{suffix_of(url, '.png')}", max_bytes=_ART_ALLOWANCE
            )
        except (SoundverseError, OSError) as error:
            log.warning("Album art not delivered: %s", error)
            return None
        return art.path

    async def _record_tracks(
        self, job: Job, order: JobOrder, delivery: Delivery, earlier: list[Track]
    ) -> list[Track]:
        """One track per take, with its lineage; the message is attached once posted. Tracks
        an earlier run of the job recorded are kept when they match its takes, never doubled."""
        if earlier and len(earlier) == len(delivery.takes):
            return sorted(earlier, key=lambda track: track.take_index)
        for track in earlier:
            await self._tracks.delete(track.id)
        recorded = []
        for take in delivery.takes:
            audio_file = None
            if take.path is not None and take.size is not None:
                audio_file = AudioFile(
                    path=take.path,
                    bytes=take.size,
                    duration_seconds=take.duration,
                    format=take.format_name or "mp3",
                )
            recorded.append(
                await self._tracks.add(
                    NewTrack(
                        channel_id=order.channel_id,
                        user_id=order.user_id,
                        operation=order.operation,
                        guild_id=order.guild_id,
                        prompt=order.prompt,
                        lyrics=order.lyrics,
                        song_name=take.song_name or delivery.song_name,
                        soundverse_message_id=delivery.soundverse_message_id,
                        take_index=take.index,
                        audio_url=take.audio_url,
                        audio_file=audio_file,
                        album_art_url=delivery.album_art_url,
                        license=take.license,
                        parent_id=order.parent_track_id,
                        job_id=job.id,
                    )
                )
            )
        return recorded

    async def _settle_unfinished(
        self, job: Job, progress: _Progress, why: str, by_user_id: int | None = None
    ) -> Settlement:
        """Refund when nothing was billed, else commit; `by_user_id` is who ended the job.

        Once Soundverse gave the job an id it is running (and billing) it: no later error, not
        even a refused status poll, makes it unbilled.
        """
        if job.reservation_id is None:
            return NOTHING_HELD
        try:
            # A worker whose lease was taken over leaves the units to the job's new holder.
            await self._jobs.check_fence(job.id)
        except LeaseLost:
            return NOTHING_HELD
        try:
            if progress.billed:
                charged = await self._ledger.commit(job.reservation_id, actor_id=by_user_id)
                job_event(job, "charged", f"{charged.units} units", units=charged.units)
                return settlement_of(charged)
            refunded = await self._ledger.refund(
                job.reservation_id, reason=why, actor_id=by_user_id
            )
            job_event(job, "refunded", f"{refunded.units} units ({why})", units=refunded.units)
            return settlement_of(refunded)
        except Exception:
            log.exception("Could not settle the reservation of job %s", job.id)
            return NOTHING_HELD

    async def _fail_interrupted(self, job: Job, observer: JobObserver, why: str) -> None:
        progress = _Progress(job.state, billed=False, started_at=self._clock())
        settlement = await self._settle_unfinished(job, progress, "interrupted by a restart")
        await self._transition_quietly(job.id, JobState.FAILED, error="interrupted by a restart")
        job_event(job, "failed", why, level=logging.WARNING, stage=job.state.value)
        await observer.on_failed(JobFailure(job.id, why, settlement))

    async def _transition_quietly(self, job_id: int, state: JobState, **fields: Any) -> None:
        try:
            await self._jobs.transition(job_id, state, **fields)
        except Exception:
            log.exception("Could not record job %s as %s", job_id, state.value)


def _consume_outcome(future: asyncio.Future[None]) -> None:
    """Errors are handled inside the job; this only keeps asyncio from warning about them."""
    if not future.cancelled():
        future.exception()


def submitted(job: Job, message_id: str | None, soundverse_job_id: str | None) -> None:
    """The event of Soundverse taking the job, with the ids it gave it."""
    ids = ", ".join(
        f"{name} {value}"
        for name, value in (("message", message_id), ("job", soundverse_job_id))
        if value
    )
    job_event(
        job,
        "submitted",
        f"Soundverse {ids}" if ids else "Soundverse answered",
        soundverse_message_id=message_id,
        soundverse_job_id=soundverse_job_id,
    )


def link_only(index: int, take: Take, name: str, reason: str | None) -> DeliveredTake:
    """A take delivered as its URL only, saying why it is not attached."""
    return DeliveredTake(
        index=index,
        audio_url=take.audio_url,
        song_name=take.song_name,
        license=take.license,
        path=None,
        filename=name,
        size=None,
        duration=None,
        format_name=None,
        not_attached_reason=reason,
        role=take.role,
    )


def not_downloaded(error: SoundverseError | OSError) -> str:
    """Why a take could not be fetched, for the member."""
    if isinstance(error, OSError):
        if error.errno == errno.ENOSPC:
            return "the bot's disk is full"
        return f"it could not be saved ({error.strerror or 'a file system error'})"
    if isinstance(error, DownloadRefused):
        if error.reason is DownloadRefusal.SIZE:
            return "it is larger than the bot downloads"
        return "its address is not one the bot downloads from"
    return f"it could not be downloaded ({error})"


def job_billed(job: Job) -> bool:
    """Whether Soundverse is known to have taken the job: it gave it an id, or answered."""
    return job.resumes_by_polling or job.result is not None


def new_job(order: JobOrder, card_message_id: int | None, note: str | None = None) -> NewJob:
    """The job row of `order` (its card in the order's channel, when there is one)."""
    return NewJob(
        channel_id=order.channel_id,
        user_id=order.user_id,
        operation=order.operation,
        request=stored_request(order),
        guild_id=order.guild_id,
        interaction_token=order.interaction_token,
        token_expires_at=order.token_expires_at,
        parent_track_id=order.parent_track_id,
        card_channel_id=order.channel_id if card_message_id is not None else None,
        card_message_id=card_message_id,
        note=note,
    )


def stored_request(order: JobOrder) -> dict[str, Any]:
    """What the jobs table keeps of an order so that a restart can rebuild it."""
    return {
        "version": order.version,
        "params": order.request,
        "upload_limit": order.upload_limit,
        "role_ids": list(order.role_ids),
        "app_permissions": order.app_permissions,
        "source_name": order.source_name,
    }


def order_from_job(job: Job) -> JobOrder:
    """The order of a stored job, rebuilt after a restart."""
    stored = job.request
    return JobOrder(
        operation=Operation(job.operation),
        version=str(stored["version"]),
        request=dict(stored["params"]),
        channel_id=job.channel_id,
        user_id=job.user_id,
        guild_id=job.guild_id,
        role_ids=tuple(int(role) for role in stored.get("role_ids", [])),
        upload_limit=int(stored.get("upload_limit", 10 * 1024 * 1024)),
        interaction_token=job.interaction_token,
        token_expires_at=job.token_expires_at,
        parent_track_id=job.parent_track_id,
        app_permissions=stored.get("app_permissions"),
        source_name=stored.get("source_name"),
    )


def suffix_of(url: str, default: str = ".mp3") -> str:
    """The file extension of a URL's path (`.mp3`, `.wav`, ...), or `default`."""
    suffix = Path(urlsplit(url).path).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else default


def attachment_name(song_name: str | None, index: int, url: str) -> str:
    """A readable attachment file name: `rainy-trains-2.mp3`."""
    slug = re.sub(r"[^a-z0-9]+", "-", (song_name or "track").lower()).strip("-")[:60] or "track"
    return f"{slug}-{index}{suffix_of(url)}"
