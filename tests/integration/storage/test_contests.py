"""Contests as stored (`bot.storage.contests`) on a real SQLite file: the scheduler's
transitions (once each, in order, across processes and restarts), numbering and tallies, the
guards on entries and votes, the audit, and privacy."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.storage import (
    AuditAction,
    ConstraintViolated,
    ContestConflict,
    ContestPhase,
    ContestPost,
    ContestRepository,
    Database,
    JobRepository,
    ManualClock,
    NewContest,
    NewJob,
    NewTrack,
    PostKind,
    Track,
    TrackRepository,
    Upload,
    delete_user_data,
    purge_guild,
)
from bot.storage.contests import Conflict, anonymous_numbers
from bot.storage.database import GuildScope
from bot.storage.jobs import interaction_key
from bot.storage.privacy import departed_before, reconcile_departures, user_data
from tests.integration.storage.conftest import START

GUILD, OTHER_GUILD = 1000, 2000
ADMIN, ALICE, BOB, CAROL = 1, 2, 3, 4
OPENS = START + timedelta(hours=1)
VOTING = START + timedelta(days=1)
CLOSES = START + timedelta(days=2)
ARCHIVE = START + timedelta(days=32)


def new_contest(**changes: object) -> NewContest:
    base = NewContest(
        guild_id=GUILD,
        creator_id=ADMIN,
        title="Rainy remix",
        theme="Make it rain",
        rules="Be kind",
        submissions_open_at=OPENS,
        voting_opens_at=VOTING,
        closes_at=CLOSES,
        archive_at=ARCHIVE,
        shuffle_seed=7,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def contests(database: Database) -> ContestRepository:
    """The contest repository over the test database."""
    return ContestRepository(database)


async def song(tracks: TrackRepository, user_id: int, guild_id: int = GUILD) -> Track:
    return await tracks.add(
        NewTrack(channel_id=5, user_id=user_id, operation="song", guild_id=guild_id)
    )


async def enter(contests: ContestRepository, contest_id: int, track: Track) -> int:
    outcome = await contests.submit(contest_id, track.user_id, track_id=track.id, now=OPENS)
    return outcome.entry.id


async def voting_contest(
    contests: ContestRepository, tracks: TrackRepository, **changes: object
) -> tuple[int, list[int]]:
    """A contest with entries by alice, bob and carol, voting open; its id and entry ids."""
    contest = await contests.create(new_contest(**changes), START)
    await contests.advance_due(OPENS)
    entries = [
        await enter(contests, contest.id, await song(tracks, u)) for u in (ALICE, BOB, CAROL)
    ]
    await contests.advance_due(VOTING)
    return contest.id, entries


# --- creating --------------------------------------------------------------------------------


async def test_a_new_contest_is_a_draft_with_its_times(contests: ContestRepository) -> None:
    """Stored as a draft with the four transition times and its settings."""
    contest = await contests.create(new_contest(season="Spring"), START)
    stored = await contests.get(contest.id)
    assert stored == contest and contest.phase is ContestPhase.DRAFT
    assert (contest.submissions_open_at, contest.voting_opens_at) == (OPENS, VOTING)
    assert (contest.closes_at, contest.archive_at, contest.season) == (CLOSES, ARCHIVE, "Spring")


async def test_the_source_track_is_among_the_sources(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Entries may descend from the source track as soon as the contest exists."""
    source = await song(tracks, ADMIN)
    contest = await contests.create(new_contest(source_track_id=source.id), START)
    assert await contests.sources(contest.id) == {source.id}


async def test_recorded_stems_join_the_sources(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """An uploaded source's stems become what entries may descend from."""
    upload = Upload("https://cdn.example/source.mp3", "source.mp3")
    contest = await contests.create(new_contest(source_upload=upload), START)
    stems = [await song(tracks, ADMIN), await song(tracks, ADMIN)]
    found = await contests.add_sources(contest.id, [t.id for t in stems], actor_id=ADMIN, now=START)
    assert found == {t.id for t in stems}
    assert (await contests.get(contest.id)).source_upload == upload  # type: ignore[union-attr]


async def test_a_contest_whose_voting_closes_before_it_opens_is_refused(
    contests: ContestRepository,
) -> None:
    """The table refuses times out of order, whatever the caller checked."""
    with pytest.raises(ConstraintViolated):
        await contests.create(new_contest(closes_at=VOTING), START)


# --- the scheduler ---------------------------------------------------------------------------


async def test_nothing_is_due_before_submissions_open(contests: ContestRepository) -> None:
    """A minute before opening, the scheduler changes nothing."""
    await contests.create(new_contest(), START)
    assert await contests.advance_due(OPENS - timedelta(minutes=1)) == []


async def test_submissions_open_at_their_time(contests: ContestRepository) -> None:
    """At the opening time the draft takes submissions, and the transition says when."""
    contest = await contests.create(new_contest(), START)
    [transition] = await contests.advance_due(OPENS)
    assert (transition.contest.id, transition.before, transition.after) == (
        contest.id,
        ContestPhase.DRAFT,
        ContestPhase.SUBMISSIONS,
    )
    assert (transition.due_at, transition.at, transition.actor_id) == (OPENS, OPENS, None)


async def test_a_transition_is_applied_once(contests: ContestRepository) -> None:
    """Asking again at the same time finds nothing left to do."""
    await contests.create(new_contest(), START)
    await contests.advance_due(OPENS)
    assert await contests.advance_due(OPENS) == []


async def test_a_contest_several_deadlines_late_goes_through_each_phase_in_order(
    contests: ContestRepository,
) -> None:
    """Down past every deadline: all four transitions, in order, each with its due time."""
    await contests.create(new_contest(), START)
    late = ARCHIVE + timedelta(days=1)
    transitions = await contests.advance_due(late)
    assert [(t.after, t.due_at) for t in transitions] == [
        (ContestPhase.SUBMISSIONS, OPENS),
        (ContestPhase.VOTING, VOTING),
        (ContestPhase.CLOSED, CLOSES),
        (ContestPhase.ARCHIVED, ARCHIVE),
    ]
    assert all(t.at == late for t in transitions)


async def test_transitions_of_several_contests_come_in_due_order(
    contests: ContestRepository,
) -> None:
    """The earliest due transition first, whichever contest it belongs to."""
    early = await contests.create(new_contest(), START)
    later = await contests.create(
        new_contest(submissions_open_at=OPENS - timedelta(minutes=30)), START
    )
    transitions = await contests.advance_due(VOTING)
    assert [(t.contest.id, t.after) for t in transitions] == [
        (later.id, ContestPhase.SUBMISSIONS),
        (early.id, ContestPhase.SUBMISSIONS),
        (early.id, ContestPhase.VOTING),
        (later.id, ContestPhase.VOTING),
    ]


async def test_two_processes_advancing_at_once_apply_each_transition_once(
    contests: ContestRepository, storage_target: Path | str, clock: ManualClock
) -> None:
    """Two connections racing through three late contests apply twelve transitions, none twice."""
    for _ in range(3):
        await contests.create(new_contest(), START)
    async with Database.open(storage_target, clock=clock) as other:
        first, second = await asyncio.gather(
            contests.advance_due(ARCHIVE), ContestRepository(other).advance_due(ARCHIVE)
        )
    applied = [(t.contest.id, t.after) for t in (*first, *second)]
    assert len(applied) == len(set(applied)) == 12


async def test_a_restart_does_not_apply_a_transition_again(
    storage_target: Path | str, clock: ManualClock
) -> None:
    """After reopening the database, the transitions made before are not made again."""
    async with Database.open(storage_target, clock=clock) as before:
        await ContestRepository(before).create(new_contest(), START)
        await ContestRepository(before).advance_due(VOTING)
    async with Database.open(storage_target, clock=clock) as after:
        transitions = await ContestRepository(after).advance_due(VOTING)
        assert transitions == []


async def test_next_due_is_the_earliest_pending_transition(contests: ContestRepository) -> None:
    """A draft is next due at its opening; once open, at its deadline."""
    await contests.create(new_contest(), START)
    before = await contests.next_due_at()
    await contests.advance_due(OPENS)
    assert (before, await contests.next_due_at()) == (OPENS, VOTING)


async def test_nothing_is_due_once_every_contest_ended(contests: ContestRepository) -> None:
    """Archived and cancelled contests have no next transition."""
    await contests.create(new_contest(), START)
    cancelled = await contests.create(new_contest(), START)
    await contests.cancel(cancelled.id, actor_id=ADMIN, reason="", now=START)
    await contests.advance_due(ARCHIVE)
    assert await contests.next_due_at() is None


# --- numbers and tallies ---------------------------------------------------------------------


async def test_entries_are_numbered_one_to_n_when_voting_opens(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Three entries get the numbers 1, 2 and 3, as the contest's seed shuffles them."""
    contest_id, entry_ids = await voting_contest(contests, tracks)
    numbers = {e.id: e.number for e in await contests.entries(contest_id)}
    assert numbers == anonymous_numbers(7, entry_ids)
    assert set(numbers.values()) == {1, 2, 3}


async def test_entries_have_no_number_before_voting(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """While submissions are open nothing reveals an order."""
    contest = await contests.create(new_contest(), START)
    await contests.advance_due(OPENS)
    await enter(contests, contest.id, await song(tracks, ALICE))
    assert [e.number for e in await contests.entries(contest.id)] == [None]


async def test_an_entry_disqualified_before_voting_gets_no_number(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Only the entries still in the contest are numbered."""
    contest = await contests.create(new_contest(), START)
    await contests.advance_due(OPENS)
    out = await enter(contests, contest.id, await song(tracks, ALICE))
    kept = await enter(contests, contest.id, await song(tracks, BOB))
    await contests.disqualify(out, actor_id=ADMIN, reason="copied", now=OPENS)
    await contests.advance_due(VOTING)
    numbers = {e.id: e.number for e in await contests.entries(contest.id)}
    assert numbers == {out: None, kept: 1}


def test_anonymous_numbers_depend_only_on_the_seed_and_the_entries() -> None:
    """The same seed and entries, in any order, give the same numbers."""
    assert anonymous_numbers(99, [5, 1, 9, 3]) == anonymous_numbers(99, [3, 9, 1, 5])


def test_anonymous_numbers_do_not_follow_submission_order() -> None:
    """With this seed, the first entry submitted is not Entry 1, and seeds differ."""
    numbers = anonymous_numbers(7, range(1, 11))
    assert numbers[1] != 1
    assert [numbers[entry_id] for entry_id in range(1, 11)] != list(range(1, 11))
    assert numbers != anonymous_numbers(8, range(1, 11))


async def test_closing_freezes_each_entry_s_tally(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Two votes for alice's entry, one for bob's, none for carol's: frozen at close."""
    contest_id, (alice, bob, _) = await voting_contest(contests, tracks)
    for voter, entry_id in ((10, alice), (11, alice), (12, bob)):
        await contests.cast_vote(contest_id, voter, entry_id, slot=None, now=VOTING)
    before = [e.final_votes for e in await contests.entries(contest_id)]
    await contests.advance_due(CLOSES)
    after = [e.final_votes for e in await contests.entries(contest_id)]
    assert (before, after) == ([None, None, None], [2, 1, 0])


async def test_a_voter_s_data_deleted_after_the_close_leaves_the_tally(
    contests: ContestRepository, tracks: TrackRepository, database: Database
) -> None:
    """The frozen count stays when a voter's votes are deleted with their data."""
    contest_id, (alice, _, _) = await voting_contest(contests, tracks)
    await contests.cast_vote(contest_id, 10, alice, slot=None, now=VOTING)
    await contests.advance_due(CLOSES)
    await delete_user_data(database, 10)
    assert (await contests.entry(alice)).final_votes == 1  # type: ignore[union-attr]


# --- guards on entries and votes -------------------------------------------------------------


async def test_an_entry_after_the_deadline_is_refused_before_the_scheduler_runs(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Still in its submissions phase, but the write is past the deadline."""
    contest = await contests.create(new_contest(), START)
    await contests.advance_due(OPENS)
    track = await song(tracks, ALICE)
    with pytest.raises(ContestConflict) as refused:
        await contests.submit(contest.id, ALICE, track_id=track.id, now=VOTING)
    assert refused.value.reason is Conflict.NOT_TAKING_SUBMISSIONS


async def test_a_second_submission_replaces_the_only_entry(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """One entry per member: the same row now holds the new track, dated anew."""
    contest = await contests.create(new_contest(), START)
    await contests.advance_due(OPENS)
    first = await enter(contests, contest.id, await song(tracks, ALICE))
    newer = await song(tracks, ALICE)
    later = OPENS + timedelta(hours=2)
    outcome = await contests.submit(contest.id, ALICE, track_id=newer.id, now=later)
    assert outcome.replaced is not None and outcome.replaced.id == first
    assert (outcome.entry.id, outcome.entry.track_id, outcome.entry.submitted_at) == (
        first,
        newer.id,
        later,
    )


async def test_an_entry_beyond_the_limit_is_refused(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Two entries allowed: the third is refused."""
    contest = await contests.create(new_contest(entries_per_member=2), START)
    await contests.advance_due(OPENS)
    for _ in range(2):
        await enter(contests, contest.id, await song(tracks, ALICE))
    with pytest.raises(ContestConflict) as refused:
        await enter(contests, contest.id, await song(tracks, ALICE))
    assert refused.value.reason is Conflict.ENTRY_LIMIT


async def test_withdrawing_removes_the_entry(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Withdrawn while submissions are open: the contest has no entry left."""
    contest = await contests.create(new_contest(), START)
    await contests.advance_due(OPENS)
    entry_id = await enter(contests, contest.id, await song(tracks, ALICE))
    withdrawn = await contests.withdraw(entry_id, now=OPENS)
    assert withdrawn is not None and await contests.entries(contest.id) == ()


async def test_deleting_an_entry_s_track_withdraws_the_entry(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """An entry is its track: the entry goes with it."""
    contest = await contests.create(new_contest(), START)
    await contests.advance_due(OPENS)
    track = await song(tracks, ALICE)
    await enter(contests, contest.id, track)
    await tracks.delete(track.id)
    assert await contests.entries(contest.id) == ()


async def test_a_vote_in_the_same_slot_replaces_the_earlier_one(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """One vote per member: voting again moves it; the contest still counts one vote."""
    contest_id, (alice, bob, _) = await voting_contest(contests, tracks)
    await contests.cast_vote(contest_id, 10, alice, slot=None, now=VOTING)
    outcome = await contests.cast_vote(contest_id, 10, bob, slot=None, now=VOTING)
    assert outcome.replaced is not None and outcome.replaced.entry_id == alice
    assert [v.entry_id for v in await contests.votes_of(contest_id, 10)] == [bob]
    assert (await contests.counts(contest_id)).votes == 1


async def test_the_table_refuses_two_votes_of_one_member_for_one_entry(
    contests: ContestRepository, tracks: TrackRepository, database: Database
) -> None:
    """Even written directly, a second slot for the same entry breaks the key."""
    contest_id, (alice, _, _) = await voting_contest(contests, tracks, votes_per_member=2)
    await contests.cast_vote(contest_id, 10, alice, slot=None, now=VOTING)
    with pytest.raises(ConstraintViolated):
        async with database.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO contest_votes (contest_id, voter_id, slot, entry_id, cast_at)"
                " VALUES (?, 10, 1, ?, 'x')",
                (contest_id, alice),
            )


async def test_a_vote_after_the_close_time_is_refused_before_the_scheduler_runs(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Still voting in the table, but the write is past the close."""
    contest_id, (alice, _, _) = await voting_contest(contests, tracks)
    with pytest.raises(ContestConflict) as refused:
        await contests.cast_vote(contest_id, 10, alice, slot=None, now=CLOSES)
    assert refused.value.reason is Conflict.NOT_VOTING


async def test_a_self_vote_is_refused_by_the_write(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """The guard holds whatever the caller checked."""
    contest_id, (alice, _, _) = await voting_contest(contests, tracks)
    with pytest.raises(ContestConflict) as refused:
        await contests.cast_vote(contest_id, ALICE, alice, slot=None, now=VOTING)
    assert refused.value.reason is Conflict.SELF_VOTE


async def test_a_vote_beyond_the_slots_is_refused(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Two votes per member, both used: a third entry needs a slot named."""
    contest_id, (alice, bob, carol) = await voting_contest(contests, tracks, votes_per_member=2)
    for entry_id in (alice, bob):
        await contests.cast_vote(contest_id, 10, entry_id, slot=None, now=VOTING)
    with pytest.raises(ContestConflict) as refused:
        await contests.cast_vote(contest_id, 10, carol, slot=None, now=VOTING)
    assert refused.value.reason is Conflict.NO_VOTES_LEFT


async def test_disqualifying_while_voting_returns_the_votes(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """The two voters for the entry get their votes back; the entry keeps its number."""
    contest_id, (alice, bob, _) = await voting_contest(contests, tracks)
    for voter in (11, 10):
        await contests.cast_vote(contest_id, voter, alice, slot=None, now=VOTING)
    await contests.cast_vote(contest_id, 12, bob, slot=None, now=VOTING)
    done = await contests.disqualify(alice, actor_id=ADMIN, reason="stolen", now=VOTING)
    assert done is not None
    entry, voters = done
    assert (entry.disqualified_reason, entry.number is not None, voters) == (
        "stolen",
        True,
        (10, 11),
    )
    assert (await contests.counts(contest_id)).votes == 1


async def test_a_closed_contest_cannot_be_cancelled(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Cancelling after the close changes nothing."""
    contest_id, _ = await voting_contest(contests, tracks)
    await contests.advance_due(CLOSES)
    assert await contests.cancel(contest_id, actor_id=ADMIN, reason="", now=CLOSES) is None


async def test_close_now_and_the_scheduler_close_a_contest_once(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """An admin closes at the close time; the scheduler then finds nothing to close."""
    contest_id, _ = await voting_contest(contests, tracks)
    closed = await contests.close_now(contest_id, actor_id=ADMIN, now=CLOSES)
    assert closed is not None and closed.actor_id == ADMIN
    assert [t.after for t in await contests.advance_due(CLOSES)] == []


async def test_the_theme_cannot_change_once_submissions_opened(
    contests: ContestRepository,
) -> None:
    """At the opening time the edit is refused, even before the scheduler ran."""
    contest = await contests.create(new_contest(), START)
    edited = await contests.edit_text(contest.id, theme="Snow", rules="", actor_id=ADMIN, now=OPENS)
    assert edited is None and (await contests.get(contest.id)).theme == "Make it rain"  # type: ignore[union-attr]


async def test_a_deadline_that_passed_cannot_be_moved(contests: ContestRepository) -> None:
    """Rescheduling after the deadline changes nothing."""
    contest = await contests.create(new_contest(), START)
    moved = await contests.reschedule(
        contest,
        deadline="voting_opens_at",
        phases=(ContestPhase.DRAFT, ContestPhase.SUBMISSIONS),
        voting_opens_at=VOTING + timedelta(days=1),
        closes_at=CLOSES + timedelta(days=1),
        archive_at=ARCHIVE + timedelta(days=1),
        actor_id=ADMIN,
        now=VOTING,
    )
    assert moved is None


async def test_people_s_actions_are_audited_with_who_and_when(
    contests: ContestRepository, tracks: TrackRepository
) -> None:
    """Create, disqualify and close each leave a record naming the admin and the time."""
    contest_id, (alice, _, _) = await voting_contest(contests, tracks)
    await contests.disqualify(alice, actor_id=9, reason="stolen", now=VOTING)
    await contests.close_now(contest_id, actor_id=ADMIN, now=CLOSES - timedelta(hours=1))
    records = await contests.audit(contest_id)
    assert [(r.action, r.actor_id, r.at) for r in records] == [
        (AuditAction.CREATE, ADMIN, START),
        (AuditAction.DISQUALIFY, 9, VOTING),
        (AuditAction.CLOSE, ADMIN, CLOSES - timedelta(hours=1)),
    ]
    assert records[1].detail == f"entry #{alice}: stolen"


# --- privacy ---------------------------------------------------------------------------------


async def test_deleting_a_user_removes_their_entries_and_votes(
    contests: ContestRepository, tracks: TrackRepository, database: Database
) -> None:
    """Alice's entry (with bob's vote for it) and her vote go; bob's entry stays."""
    contest_id, (alice, bob, carol) = await voting_contest(contests, tracks)
    await contests.cast_vote(contest_id, ALICE, bob, slot=None, now=VOTING)
    await contests.cast_vote(contest_id, BOB, alice, slot=None, now=VOTING)
    report = await delete_user_data(database, ALICE)
    assert (report.contest_entries_deleted, report.contest_votes_deleted) == (1, 1)
    assert [e.id for e in await contests.entries(contest_id)] == [bob, carol]
    assert (await contests.counts(contest_id)).votes == 0


async def test_deleting_a_creator_keeps_their_contest_without_their_name(
    contests: ContestRepository, database: Database
) -> None:
    """The contest stays with its server; nothing names its creator any more."""
    contest = await contests.create(new_contest(), START)
    await delete_user_data(database, ADMIN)
    kept = await contests.get(contest.id)
    assert kept is not None and kept.creator_id is None
    assert [r.actor_id for r in await contests.audit(contest.id)] == [None]


async def test_purging_a_guild_removes_its_contests(
    contests: ContestRepository, tracks: TrackRepository, database: Database
) -> None:
    """The guild's contest, entries and votes go; another guild's contest stays."""
    contest_id, (alice, _, _) = await voting_contest(contests, tracks)
    await contests.cast_vote(contest_id, 10, alice, slot=None, now=VOTING)
    other = await contests.create(new_contest(guild_id=OTHER_GUILD), START)
    await contests.set_manager_role(GUILD, 55, actor_id=ADMIN, now=START)
    report = await purge_guild(database, GUILD)
    assert (report.contests_deleted, report.contest_entries_deleted) == (1, 3)
    assert report.contest_votes_deleted == 1
    assert await contests.get(contest_id) is None and await contests.get(other.id) is not None
    assert await contests.manager_role(GUILD) is None


async def test_a_guild_known_only_by_its_contests_is_due_for_purging_once_left(
    contests: ContestRepository, database: Database, clock: ManualClock
) -> None:
    """At start, a guild with only a contest and without the bot counts as left."""
    await contests.create(new_contest(guild_id=OTHER_GUILD), START)
    await reconcile_departures(database, [GUILD], clock.now())
    assert await departed_before(database, clock.now() + timedelta(days=1)) == (OTHER_GUILD,)


async def test_a_user_s_export_lists_their_entries_and_votes(
    contests: ContestRepository, tracks: TrackRepository, database: Database
) -> None:
    """Alice's export has her entry and her vote, by entry number."""
    contest_id, (_, bob, _) = await voting_contest(contests, tracks)
    await contests.cast_vote(contest_id, ALICE, bob, slot=None, now=VOTING)
    exported = (await user_data(database, ALICE))["contests"]
    number = (await contests.entry(bob)).number  # type: ignore[union-attr]
    assert [e["contest_id"] for e in exported["entries"]] == [contest_id]
    assert [(v["contest_id"], v["entry_number"]) for v in exported["votes"]] == [
        (contest_id, number)
    ]


async def test_the_manager_role_is_set_and_cleared(contests: ContestRepository) -> None:
    """A role is remembered per guild and forgotten when cleared."""
    await contests.set_manager_role(GUILD, 55, actor_id=ADMIN, now=START)
    chosen = await contests.manager_role(GUILD)
    await contests.set_manager_role(GUILD, None, actor_id=ADMIN, now=START)
    assert (chosen, await contests.manager_role(GUILD)) == (55, None)


# --- the stem pack and what the bot posted ---------------------------------------------------


async def stems_job(jobs: JobRepository, token: str) -> int:
    job = await jobs.create(
        NewJob(
            channel_id=5,
            user_id=ADMIN,
            operation="stems",
            request={},
            guild_id=GUILD,
            interaction_token=token,
        )
    )
    return job.id


async def test_the_stem_packs_tracks_count_among_the_sources(
    contests: ContestRepository, tracks: TrackRepository, jobs: JobRepository
) -> None:
    """The tracks of the job named by `stems_key` are sources, beside the source track."""
    source = await song(tracks, ADMIN)
    contest = await contests.create(
        new_contest(source_track_id=source.id, stems_key=interaction_key("tok")), START
    )
    job_id = await stems_job(jobs, "tok")
    stem = await tracks.add(
        NewTrack(channel_id=5, user_id=ADMIN, operation="stems", guild_id=GUILD, job_id=job_id)
    )
    assert await contests.sources(contest.id) == {source.id, stem.id}
    assert await contests.stem_tracks(contest.id) == (stem.id,)


async def test_another_jobs_tracks_are_not_sources(
    contests: ContestRepository, tracks: TrackRepository, jobs: JobRepository
) -> None:
    """Tracks of a job with another interaction key are not the contest's stems."""
    contest = await contests.create(new_contest(stems_key=interaction_key("tok")), START)
    other = await stems_job(jobs, "another")
    await tracks.add(
        NewTrack(channel_id=5, user_id=ADMIN, operation="stems", guild_id=GUILD, job_id=other)
    )
    assert await contests.stem_tracks(contest.id) == ()


async def test_the_stem_packs_job_state_is_read(
    contests: ContestRepository, jobs: JobRepository
) -> None:
    """Before its job exists the state is None; then the job's state."""
    contest = await contests.create(new_contest(stems_key=interaction_key("tok")), START)
    assert await contests.stems_job_state(contest.id) is None
    await stems_job(jobs, "tok")
    assert await contests.stems_job_state(contest.id) == "queued"


async def test_a_post_of_the_same_kind_and_number_replaces_the_old(
    contests: ContestRepository,
) -> None:
    """Recording a contest's card twice keeps the latest message; entries stay by number."""
    contest = await contests.create(new_contest(), START)
    await contests.record_post(ContestPost(contest.id, PostKind.CARD, 0, 10, 11))
    await contests.record_post(ContestPost(contest.id, PostKind.CARD, 0, 10, 12))
    await contests.record_post(ContestPost(contest.id, PostKind.ENTRY, 2, 20, 22))
    await contests.record_post(ContestPost(contest.id, PostKind.ENTRY, 1, 20, 21))
    assert [p.message_id for p in await contests.posts(contest.id, PostKind.CARD)] == [12]
    assert [p.number for p in await contests.posts(contest.id, PostKind.ENTRY)] == [1, 2]


async def test_each_gateway_process_moves_only_its_own_guilds_contests(
    database: Database,
) -> None:
    """With the gateway split over two processes, each applies the transitions of its shard's
    guilds only, and sees only their next deadline."""
    on_shard = {shard: (1 << 22) * (10 + shard) for shard in (0, 1)}  # (id >> 22) % 2 == shard
    await ContestRepository(database).create(new_contest(guild_id=on_shard[0]), START)
    await ContestRepository(database).create(
        new_contest(guild_id=on_shard[1], submissions_open_at=OPENS + timedelta(minutes=5)),
        START,
    )
    first = ContestRepository(database, GuildScope(2, (0,)))
    second = ContestRepository(database, GuildScope(2, (1,)))
    assert await second.next_due_at() == OPENS + timedelta(minutes=5)
    moved = await first.advance_due(VOTING - timedelta(hours=1))
    assert [t.contest.guild_id for t in moved] == [on_shard[0]]
    moved = await second.advance_due(VOTING - timedelta(hours=1))
    assert [t.contest.guild_id for t in moved] == [on_shard[1]]
