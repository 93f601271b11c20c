"""The job pipeline without Discord: a recording observer, real SQLite, the local Soundverse."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import HttpUrl, SecretStr

from bot.config import AudioSettings, Settings, SoundverseSettings, StorageSettings
from bot.jobs.models import (
    CancelOutcome,
    Delivery,
    JobFailure,
    JobOrder,
    JobView,
    PostedMessage,
    Settlement,
)
from bot.jobs.operations import Operation
from bot.jobs.requests import song_request
from bot.jobs.service import JobService, not_downloaded, stored_request
from bot.soundverse import SongRequest, SoundverseClient
from bot.storage import (
    Database,
    JobRepository,
    JobState,
    NewJob,
    OrderAlreadyDecided,
    QuotaLedger,
    TrackRepository,
)
from sandbox.soundverse import SoundverseStandIn

SONG_PATH = "/v5/generate/song"


@dataclass
class RecordingObserver:
    """Keeps everything the pipeline shows, and signals when the job has ended."""

    views: list[JobView] = field(default_factory=list)
    delivered: list[Delivery] = field(default_factory=list)
    failures: list[JobFailure] = field(default_factory=list)
    cancelled: list[tuple[Settlement, int | None]] = field(default_factory=list)
    done: list[PostedMessage] = field(default_factory=list)
    settlements: list[Settlement | None] = field(default_factory=list)
    searched: list[int] = field(default_factory=list)
    already_posted: PostedMessage | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_progress(self, view: JobView) -> None:
        self.views.append(view)

    async def on_delivered(self, delivery: Delivery) -> PostedMessage:
        self.delivered.append(delivery)
        return PostedMessage(channel_id=10, message_id=1000 + delivery.job_id)

    async def find_posted(
        self, job_id: int, track_ids: Sequence[int], since: datetime
    ) -> PostedMessage | None:
        self.searched.append(job_id)
        return self.already_posted

    async def on_done(self, posted: PostedMessage, settlement: Settlement | None) -> None:
        self.done.append(posted)
        self.settlements.append(settlement)
        self.ended.set()

    async def on_failed(self, failure: JobFailure) -> None:
        self.failures.append(failure)
        self.ended.set()

    async def on_cancelled(
        self, job_id: int, settlement: Settlement, by_user_id: int | None
    ) -> None:
        self.cancelled.append((settlement, by_user_id))
        self.ended.set()


@dataclass
class Pipeline:
    service: JobService
    standin: SoundverseStandIn
    database: Database
    settings: Settings
    client: SoundverseClient

    @property
    def jobs(self) -> JobRepository:
        """The jobs as stored, read behind the service."""
        return JobRepository(self.database)

    @property
    def tracks(self) -> TrackRepository:
        """The tracks as stored, read behind the service."""
        return TrackRepository(self.database)

    @property
    def ledger(self) -> QuotaLedger:
        """The quota ledger, read behind the service."""
        return QuotaLedger(self.database, self.settings.quota)


@pytest.fixture
async def pipeline(tmp_path: Path) -> AsyncIterator[Pipeline]:
    standin = SoundverseStandIn(api_keys={"k"}, time_scale=0.001)
    await standin.start()
    settings = Settings(
        _env_file=None,
        soundverse=SoundverseSettings(api_key=SecretStr("k"), base_url=HttpUrl(standin.url)),
        storage=StorageSettings(path=tmp_path / "bot.db"),
        audio=AudioSettings(directory=tmp_path / "audio"),
    )
    settings.jobs.progress_interval = 0.01
    database = await Database.connect(settings.storage.path)
    client = SoundverseClient(settings.soundverse, settings.endpoints)
    service = JobService(client=client, database=database, settings=settings)
    try:
        yield Pipeline(service, standin, database, settings, client)
    finally:
        await service.close()
        await client.close()
        await database.close()
        await standin.stop()


def song_order(user_id: int = 1) -> JobOrder:
    return JobOrder(
        operation=Operation.SONG,
        version="v5",
        request=song_request(version="v5", prompt="rain", duration=15),
        channel_id=10,
        user_id=user_id,
        guild_id=99,
    )


async def test_delivered_job_records_tracks_and_commits(pipeline: Pipeline) -> None:
    """A job ends delivered: two takes on disk, two tracks with the message, units committed."""
    observer = RecordingObserver()
    job = await pipeline.service.submit(song_order(), observer)
    await observer.ended.wait()
    await pipeline.service.wait_until_idle()
    delivery = observer.delivered[0]
    assert [take.path is not None and take.path.exists() for take in delivery.takes] == [True, True]
    tracks = await pipeline.tracks.of_job(job.id)
    assert [t.message_id for t in tracks] == [1000 + job.id] * 2
    assert (await pipeline.jobs.get(job.id)).state is JobState.DONE
    card = await pipeline.ledger.usage(99, 1)
    assert card.member_used == 2


async def test_progress_reaches_the_observer_in_stage_order(pipeline: Pipeline) -> None:
    """The views shown go from submitting to delivering, never backwards."""
    observer = RecordingObserver()
    await pipeline.service.submit(song_order(), observer)
    await observer.ended.wait()
    stages = [view.stage for view in observer.views]
    assert stages[0] == "submitting"
    assert stages[-1] == "delivering"
    order = ["submitting", "initializing", "validated", "streaming", "uploading", "delivering"]
    positions = [order.index(stage) for stage in stages if stage in order]
    assert positions == sorted(positions)


async def test_stream_cut_before_any_id_fails_unbilled_and_refunds(pipeline: Pipeline) -> None:
    """A stream dropped before Soundverse named the job fails as not started and refunds."""
    pipeline.standin.inject("drop:1", path=SONG_PATH)
    observer = RecordingObserver()
    job = await pipeline.service.submit(song_order(), observer)
    await observer.ended.wait()
    failure = observer.failures[0]
    assert "never started" in failure.message and failure.refunded
    assert (await pipeline.jobs.get(job.id)).state is JobState.FAILED
    assert (await pipeline.ledger.usage(99, 1)).member_used == 0


async def test_generation_failure_after_billing_keeps_the_units(pipeline: Pipeline) -> None:
    """A failure reported after the billing point is explained, and the units stay spent."""
    pipeline.standin.inject("fail:3", path=SONG_PATH)
    observer = RecordingObserver()
    await pipeline.service.submit(song_order(), observer)
    await observer.ended.wait()
    failure = observer.failures[0]
    assert failure.message.startswith("Soundverse could not finish this track")
    assert not failure.refunded
    await pipeline.service.wait_until_idle()
    assert (await pipeline.ledger.usage(99, 1)).member_used == 2


async def test_resume_follows_a_submitted_job_without_posting(pipeline: Pipeline) -> None:
    """A job stored as streaming with its id is finished through status after a restart."""
    observer = RecordingObserver()
    service = pipeline.service
    reservation = await pipeline.ledger.reserve(99, 1, "song", 2)
    # Start a real generation at the stand-in and keep only its id, as a crashed bot would.
    stream = pipeline.client.stream_song(SongRequest(prompt="rain"))
    async for state in stream:
        if state.message_id:
            break
    await stream.aclose()
    job = await pipeline.jobs.create(
        NewJob(
            channel_id=10,
            user_id=1,
            operation=Operation.SONG,
            request=stored_request(song_order()),
            guild_id=99,
            reservation_id=reservation.id,
        )
    )
    await pipeline.jobs.set_ids(job.id, soundverse_message_id=state.message_id)
    await pipeline.jobs.transition(job.id, JobState.SUBMITTED)

    async def observer_for(*_: object) -> RecordingObserver:
        return observer

    assert await service.resume_unfinished(observer_for) == [job.id]
    await observer.ended.wait()
    assert observer.delivered
    assert pipeline.standin.counters.posts[SONG_PATH] == 1


async def test_resume_fails_a_job_sent_without_an_id(pipeline: Pipeline) -> None:
    """A queued job that was attempted but never got an id cannot be followed: failed, refunded."""
    service = pipeline.service
    reservation = await pipeline.ledger.reserve(99, 1, "song", 2)
    job = await pipeline.jobs.create(
        NewJob(
            channel_id=10,
            user_id=1,
            operation=Operation.SONG,
            request=stored_request(song_order()),
            guild_id=99,
            reservation_id=reservation.id,
        )
    )
    await pipeline.jobs.record_attempt(job.id)
    observer = RecordingObserver()

    async def observer_for(*_: object) -> RecordingObserver:
        return observer

    assert await service.resume_unfinished(observer_for) == []
    assert observer.failures and observer.failures[0].refunded
    assert (await pipeline.jobs.get(job.id)).state is JobState.FAILED
    assert sum(pipeline.standin.counters.posts.values()) == 0


@dataclass
class HeldAtDelivery(RecordingObserver):
    """Holds the result's post until the test lets it go."""

    posting: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_delivered(self, delivery: Delivery) -> PostedMessage:
        self.posting.set()
        await self.release.wait()
        return await super().on_delivered(delivery)


async def test_a_cancel_once_delivery_began_changes_nothing(pipeline: Pipeline) -> None:
    """Cancel while the result is being posted is refused as too late: the job ends delivered
    once, done, with its units charged."""
    observer = HeldAtDelivery()
    job = await pipeline.service.submit(song_order(), observer)
    await observer.posting.wait()
    assert await pipeline.service.cancel(job.id) is CancelOutcome.DELIVERING
    observer.release.set()
    await observer.ended.wait()
    await pipeline.service.wait_until_idle()
    assert (len(observer.delivered), observer.cancelled) == (1, [])
    assert (await pipeline.jobs.get(job.id)).state is JobState.DONE
    assert (await pipeline.ledger.usage(99, 1)).member_used == 2


def order_of_interaction(token: str) -> JobOrder:
    return replace(song_order(), interaction_token=token)


async def test_an_order_the_bot_gave_up_is_never_admitted(pipeline: Pipeline) -> None:
    """Once the bot gave up waiting for an order (and told the member), a starved worker's
    admission of it fails and stores nothing: no job to run, no units reserved."""
    order = order_of_interaction("late-token")
    assert await pipeline.service.give_up(order) is True
    with pytest.raises(OrderAlreadyDecided):
        await pipeline.service.admit(order)
    assert await pipeline.jobs.unfinished() == ()
    assert (await pipeline.ledger.usage(99, 1)).member_running == 0
    assert (await pipeline.ledger.usage(99, 1)).member_used == 0


async def test_an_admitted_order_cannot_be_given_up(pipeline: Pipeline) -> None:
    """When the worker admitted the order first, giving it up fails: the member is not told it
    was refused, and the job runs."""
    order = order_of_interaction("on-time-token")
    job = await pipeline.service.admit(order)
    assert await pipeline.service.give_up(order) is False
    assert [unfinished.id for unfinished in await pipeline.jobs.unfinished()] == [job.id]


async def test_a_take_that_cannot_be_saved_arrives_as_its_link_and_is_charged(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """When the audio folder cannot be written, the billed song is still delivered: each take
    as its URL, saying why, with its units charged."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    pipeline.settings.audio.directory = blocker
    observer = RecordingObserver()
    await pipeline.service.submit(song_order(), observer)
    await observer.ended.wait()
    takes = observer.delivered[0].takes
    assert [take.path for take in takes] == [None, None]
    assert all(take.audio_url.startswith("http") for take in takes)
    assert all("could not be saved" in (take.not_attached_reason or "") for take in takes)
    assert (await pipeline.ledger.usage(99, 1)).member_used == 2


def test_a_full_disk_is_named_as_such() -> None:
    """A take lost to a full disk says the bot's disk is full."""
    assert not_downloaded(OSError(errno.ENOSPC, "No space left on device")) == (
        "the bot's disk is full"
    )


async def test_delivery_says_which_take_it_downloads_and_re_encodes(pipeline: Pipeline) -> None:
    """Takes over the upload limit are announced as downloaded, then re-encoded to fit it."""
    observer = RecordingObserver()
    await pipeline.service.submit(replace(song_order(), upload_limit=200_000), observer)
    await observer.ended.wait()
    details = [view.detail for view in observer.views if view.detail]
    assert "Re-encoding take 1 of 2 to fit the 0.2 MB limit" in details
    assert details.index("Downloading take 2 of 2") > details.index(
        "Re-encoding take 1 of 2 to fit the 0.2 MB limit"
    )
    assert details[-1] == "Re-encoding take 2 of 2 to fit the 0.2 MB limit"


async def test_the_done_card_is_told_the_units_used(pipeline: Pipeline) -> None:
    """A delivered job reports what it used: the units of its reservation, not refunded."""
    observer = RecordingObserver()
    await pipeline.service.submit(song_order(), observer)
    await observer.ended.wait()
    assert observer.settlements == [Settlement(2, refunded=False)]
