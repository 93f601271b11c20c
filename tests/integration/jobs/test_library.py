"""The track library over a real SQLite file: deleting a result with its files, history pages,
the tracks a member may build on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.audio import stored_opus_path
from bot.errors import InvalidInput
from bot.jobs.library import HistoryScope, TrackGone, TrackLibrary
from bot.jobs.models import Requester
from bot.storage import AudioFile, Database, JobRepository, NewJob, NewTrack, Track, TrackRepository

GUILD = 10
ALICE = Requester(1, GUILD)
BOB = Requester(2, GUILD)
AUDIO = b"audio"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "bot.db") as opened:
        yield opened


@pytest.fixture
def library(database: Database) -> TrackLibrary:
    return TrackLibrary(database)


async def add(
    database: Database,
    *,
    user_id: int = 1,
    guild_id: int | None = GUILD,
    job_id: int | None = None,
    file: Path | None = None,
) -> Track:
    audio = None if file is None else AudioFile(file, len(AUDIO), 1.0, "mp3")
    return await TrackRepository(database).add(
        NewTrack(
            channel_id=5,
            user_id=user_id,
            operation="song",
            guild_id=guild_id,
            prompt="rain",
            audio_file=audio,
            job_id=job_id,
        )
    )


async def test_deleting_a_result_removes_every_take_and_its_file(
    database: Database, library: TrackLibrary, tmp_path: Path
) -> None:
    """Both takes of one job go, with their files; another job's track stays."""
    job = await JobRepository(database).create(
        NewJob(channel_id=5, user_id=1, operation="song", request={})
    )
    files = [tmp_path / f"take-{n}.mp3" for n in (1, 2)]
    for file in files:
        file.write_bytes(AUDIO)
    first = await add(database, job_id=job.id, file=files[0])
    await add(database, job_id=job.id, file=files[1])
    other = await add(database)
    assert await library.delete_result(first) == 2
    assert [file.exists() for file in files] == [False, False]
    assert await library.find(other.id) == other


async def test_deleting_a_result_removes_its_voice_copy(
    database: Database, library: TrackLibrary, tmp_path: Path
) -> None:
    """The Opus copy kept beside a take for voice goes with the take."""
    take = tmp_path / "take.mp3"
    take.write_bytes(AUDIO)
    copy = stored_opus_path(take)
    copy.write_bytes(b"OggS")
    await library.delete_result(await add(database, file=take))
    assert not copy.exists()


async def test_a_deleted_track_is_gone(library: TrackLibrary, database: Database) -> None:
    """Asking for a deleted track raises TrackGone, which a member reads as such."""
    track = await add(database)
    await library.delete_result(track)
    with pytest.raises(TrackGone, match="This track has been deleted"):
        await library.track(track.id)


async def test_a_page_past_the_end_shows_the_last(
    library: TrackLibrary, database: Database
) -> None:
    """Page 9 of a three-track listing of two per page is page 2."""
    for _ in range(3):
        await add(database)
    page = await library.history_page(HistoryScope(1, GUILD), 9, per_page=2)
    assert (page.page, page.page_count, len(page.items)) == (2, 2, 1)


async def test_server_history_is_refused_in_dms() -> None:
    """A whole-server listing has no meaning in DMs and says so."""
    with pytest.raises(InvalidInput, match="no server history in direct messages"):
        HistoryScope(1, None, whole_server=True)


async def test_a_member_may_build_on_tracks_of_their_server(
    library: TrackLibrary, database: Database
) -> None:
    """Bob may use Alice's track made in their server, not her track from DMs."""
    shared = await add(database, user_id=1)
    private = await add(database, user_id=1, guild_id=None)
    assert await library.usable_track(shared.id, BOB) == shared
    with pytest.raises(InvalidInput, match="someone else's private history"):
        await library.usable_track(private.id, BOB)


async def test_a_missing_track_is_named_when_refused(library: TrackLibrary) -> None:
    """An id no track has is refused naming it."""
    with pytest.raises(InvalidInput, match="Track #404 does not exist"):
        await library.usable_track(404, ALICE)


async def test_matching_by_id_offers_only_usable_tracks(
    library: TrackLibrary, database: Database
) -> None:
    """`#id` finds a server's track for its members there; a DM track only in its owner's DMs."""
    shared = await add(database, user_id=1)
    private = await add(database, user_id=1, guild_id=None)
    assert await library.matching(BOB, "", track_id=shared.id) == (shared,)
    assert await library.matching(Requester(1, None), "", track_id=private.id) == (private,)
    assert await library.matching(ALICE, "", track_id=private.id) == ()
    assert await library.matching(BOB, "", track_id=private.id) == ()


async def test_typed_matches_are_the_members_tracks_made_here(
    library: TrackLibrary, database: Database
) -> None:
    """What a member types matches their own tracks of this server only."""
    here = await add(database, user_id=1)
    await add(database, user_id=1, guild_id=99)
    await add(database, user_id=1, guild_id=None)
    await add(database, user_id=2)
    assert await library.matching(ALICE, "rain") == (here,)


async def test_a_members_own_track_from_elsewhere_is_refused_saying_so(
    library: TrackLibrary, database: Database
) -> None:
    """A member's track of another server cannot be built on here, and the refusal says why."""
    elsewhere = await add(database, user_id=1, guild_id=99)
    with pytest.raises(InvalidInput, match="was made in another server"):
        await library.usable_track(elsewhere.id, ALICE)
