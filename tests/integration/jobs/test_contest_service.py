"""Contests as members and admins meet them (`bot.jobs.contests.ContestService`), over a real
SQLite file and a clock that moves only when a test says so: the lifecycle, each rule of
entries and votes with its refusal, results with the tie rule, the season, the admin actions
and their audit, and closing a contest of 10,000 votes."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import InvalidInput, UserFacingError
from bot.jobs.contests import (
    BallotEntry,
    ContestDraft,
    ContestNotFound,
    ContestService,
    Deadline,
    EntryRefused,
    EntryRule,
    NotAllowed,
    VoteReceipt,
    VoteRefused,
    VoteRule,
)
from bot.jobs.models import Requester
from bot.storage import (
    AuditAction,
    Contest,
    ContestPhase,
    Database,
    ManualClock,
    NewTrack,
    Track,
    TrackRepository,
    Transition,
    Upload,
)

START = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
OPENS = START + timedelta(hours=1)
VOTING = START + timedelta(days=1)
CLOSES = START + timedelta(days=2)
GUILD, OTHER_GUILD = 1000, 2000
ROLE = 77
ADMIN = Requester(1, GUILD, manages_guild=True)
ALICE, BOB, CAROL, DAVE = (Requester(n, GUILD) for n in (2, 3, 4, 5))
OLD_MEMBER = START - timedelta(days=100)
UPLOAD = Upload("https://cdn.example/remix.mp3", "remix.mp3")


@pytest.fixture
def clock() -> ManualClock:
    """A clock at START that moves only when a test says so."""
    return ManualClock(START)


@pytest.fixture
async def database(storage_target: Path | str, clock: ManualClock) -> AsyncIterator[Database]:
    """A migrated, empty database, on each backend."""
    async with Database.open(storage_target, clock=clock) as opened:
        yield opened


@pytest.fixture
def service(database: Database, clock: ManualClock) -> ContestService:
    """The contest service over the test database and clock."""
    return ContestService(database, clock)


@pytest.fixture
def tracks(database: Database, clock: ManualClock) -> TrackRepository:
    """Tracks, dated by the test clock."""
    return TrackRepository(database, clock)


@pytest.fixture
async def source(tracks: TrackRepository) -> Track:
    """The admin's song, made before the contest: its source."""
    return await make(tracks, ADMIN)


async def make(
    tracks: TrackRepository,
    member: Requester,
    parent: Track | None = None,
    operation: str = "extend_song",
    guild_id: int | None = GUILD,
) -> Track:
    """A track the member made now, from `parent` when given (else a new song)."""
    return await tracks.add(
        NewTrack(
            channel_id=5,
            user_id=member.user_id,
            operation=operation if parent is not None else "song",
            guild_id=guild_id,
            parent_id=None if parent is None else parent.id,
        )
    )


def draft(source: Track | None, **changes: object) -> ContestDraft:
    fields: dict[str, object] = {
        "title": "Rainy remix",
        "theme": "Make it rain",
        "rules": "One track each",
        "submissions_open_at": OPENS,
        "voting_opens_at": VOTING,
        "closes_at": CLOSES,
        "source_track_id": None if source is None else source.id,
        **changes,
    }
    return ContestDraft(**fields)  # type: ignore[arg-type]


async def open_contest(
    service: ContestService, clock: ManualClock, source: Track | None, **changes: object
) -> Contest:
    """A contest created now and taking submissions (the clock at its opening)."""
    contest = await service.create(ADMIN, draft(source, **changes))
    clock.set(OPENS)
    await service.advance_due()
    return contest


async def enter_remix(
    service: ContestService, tracks: TrackRepository, contest: Contest, member: Requester
) -> int:
    """The member extends the source now and enters it; the entry id."""
    parent = await tracks.get(contest.source_track_id or 0)
    receipt = await service.submit(
        member, contest.id, track_id=(await make(tracks, member, parent)).id
    )
    return receipt.entry.id


async def to_voting(service: ContestService, clock: ManualClock) -> None:
    clock.set(VOTING)
    await service.advance_due()


async def to_close(service: ContestService, clock: ManualClock) -> None:
    clock.set(CLOSES)
    await service.advance_due()


async def number_of(service: ContestService, contest: Contest, member: Requester) -> int:
    [entry] = await service.my_entries(member, contest.id)
    assert entry.number is not None
    return entry.number


async def vote(service: ContestService, contest: Contest, voter: Requester, number: int) -> None:
    await service.vote(voter, contest.id, number, joined_at=OLD_MEMBER)


async def voting_with_three(
    service: ContestService,
    tracks: TrackRepository,
    clock: ManualClock,
    source: Track,
    **changes: object,
) -> Contest:
    """A contest with remixes by alice, bob and carol (in that order), voting open."""
    contest = await open_contest(service, clock, source, **changes)
    for member in (ALICE, BOB, CAROL):
        await enter_remix(service, tracks, contest, member)
        clock.advance(timedelta(minutes=1))
    await to_voting(service, clock)
    return contest


# --- creating ----------------------------------------------------------------------------------


async def test_a_manager_creates_a_draft_with_the_defaults(
    service: ContestService, source: Track
) -> None:
    """One entry and one vote per member, derived entries only, no uploads, no join rule."""
    contest = await service.create(ADMIN, draft(source))
    assert (contest.phase, contest.creator_id, contest.guild_id) == (
        ContestPhase.DRAFT,
        ADMIN.user_id,
        GUILD,
    )
    assert (contest.entries_per_member, contest.votes_per_member) == (1, 1)
    assert (contest.derived_only, contest.uploads_allowed) == (True, False)
    assert (contest.voters_joined_before_voting, contest.winner_role_id) == (False, None)


async def test_a_contest_opens_at_once_without_an_opening_time(
    service: ContestService, source: Track
) -> None:
    """No opening time: submissions open when the contest is created."""
    contest = await service.create(ADMIN, draft(source, submissions_open_at=None))
    [transition] = await service.advance_due()
    assert contest.submissions_open_at == START and transition.after is ContestPhase.SUBMISSIONS


async def test_stems_cannot_be_added_once_voting_opened(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """What entries may descend from is fixed when entries are closed."""
    contest = await voting_with_three(service, tracks, clock, source)
    stem = await make(tracks, ADMIN, source, operation="stems")
    with pytest.raises(UserFacingError, match="only before voting opens"):
        await service.add_source_stems(ADMIN, contest.id, [stem.id])


async def test_a_plain_member_cannot_create_a_contest(
    service: ContestService, source: Track
) -> None:
    """Without Manage Server or the manager role: refused."""
    with pytest.raises(NotAllowed):
        await service.create(ALICE, draft(source))


async def test_a_member_with_the_manager_role_can_create_a_contest(
    service: ContestService, source: Track
) -> None:
    """Once a manager chose the role, its members run contests."""
    await service.set_manager_role(ADMIN, ROLE)
    contest = await service.create(Requester(6, GUILD, role_ids=(ROLE,)), draft(source))
    assert contest.creator_id == 6


async def test_only_manage_server_chooses_the_manager_role(service: ContestService) -> None:
    """A holder of the role cannot hand it on."""
    await service.set_manager_role(ADMIN, ROLE)
    with pytest.raises(NotAllowed):
        await service.set_manager_role(Requester(6, GUILD, role_ids=(ROLE,)), 78)


async def test_creating_in_direct_messages_is_refused(
    service: ContestService, source: Track
) -> None:
    """Contests run in a server."""
    with pytest.raises(InvalidInput, match="not in direct messages"):
        await service.create(Requester(1, None, manages_guild=True), draft(source))


async def test_a_source_track_of_another_server_is_refused(
    service: ContestService, tracks: TrackRepository
) -> None:
    """The source comes from this server's history."""
    elsewhere = await make(tracks, ADMIN, guild_id=OTHER_GUILD)
    with pytest.raises(InvalidInput, match=f"Track #{elsewhere.id} was not made in this server"):
        await service.create(ADMIN, draft(elsewhere))


async def test_an_uploaded_source_needs_no_track(service: ContestService) -> None:
    """An upload reference is a source of its own."""
    contest = await service.create(ADMIN, draft(None, source_upload=UPLOAD))
    assert (contest.source_track_id, contest.source_upload) == (None, UPLOAD)


async def test_an_invalid_draft_stores_nothing(service: ContestService, source: Track) -> None:
    """Voting closing before it opens is refused, and no contest exists afterwards."""
    with pytest.raises(InvalidInput, match="Voting must close after they open"):
        await service.create(ADMIN, draft(source, closes_at=VOTING - timedelta(hours=1)))
    assert await service.current(GUILD) == ()


# --- the lifecycle -----------------------------------------------------------------------------


async def test_the_whole_lifecycle_runs_on_the_clock(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """Each stored time moves the contest one phase on, and nothing moves in between."""
    contest = await service.create(ADMIN, draft(source))
    phases = []
    for instant in (OPENS, VOTING - timedelta(seconds=1), VOTING, CLOSES, contest.archive_at):
        clock.set(instant)
        phases.append([t.after for t in await service.advance_due()])
    assert phases == [
        [ContestPhase.SUBMISSIONS],
        [],
        [ContestPhase.VOTING],
        [ContestPhase.CLOSED],
        [ContestPhase.ARCHIVED],
    ]


async def test_a_closed_contest_is_archived_thirty_days_later(
    service: ContestService, source: Track
) -> None:
    """By default the archive is due thirty days after the close."""
    contest = await service.create(ADMIN, draft(source))
    assert contest.archive_at == CLOSES + timedelta(days=30)


async def test_phases_due_while_the_bot_was_down_happen_at_start(
    storage_target: Path | str, clock: ManualClock
) -> None:
    """Down from before the opening until after the close: the next start catches up."""
    path = storage_target
    async with Database.open(path, clock=clock) as before:
        contest = await ContestService(before, clock).create(
            ADMIN, draft(None, source_upload=UPLOAD)
        )
    clock.set(CLOSES + timedelta(hours=3))
    async with Database.open(path, clock=clock) as after:
        restarted = ContestService(after, clock)
        transitions = await restarted.advance_due()
        results = await restarted.results(ADMIN, contest.id)
    assert [t.after for t in transitions] == [
        ContestPhase.SUBMISSIONS,
        ContestPhase.VOTING,
        ContestPhase.CLOSED,
    ]
    assert results.standings == ()


async def test_the_scheduler_knows_when_to_wake_up(service: ContestService, source: Track) -> None:
    """The next transition is the draft's opening."""
    await service.create(ADMIN, draft(source))
    assert await service.next_due() == OPENS


# --- editing -----------------------------------------------------------------------------------


async def test_the_theme_and_rules_change_before_submissions_open(
    service: ContestService, source: Track
) -> None:
    """A draft's theme and rules are edited, and the edit is audited."""
    contest = await service.create(ADMIN, draft(source))
    edited = await service.edit(ADMIN, contest.id, theme="Snow", rules="Two minutes at most")
    assert (edited.theme, edited.rules) == ("Snow", "Two minutes at most")
    assert (await service.audit(ADMIN, contest.id))[-1].action is AuditAction.EDIT


async def test_the_theme_cannot_change_once_submissions_opened(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """After the opening the edit is refused, saying when they opened."""
    contest = await open_contest(service, clock, source)
    with pytest.raises(UserFacingError) as refused:
        await service.edit(ADMIN, contest.id, theme="Snow")
    assert str(refused.value) == (
        f"The theme and rules of contest #{contest.id} can change only before submissions "
        "open (they opened at 2026-03-11 13:00 UTC)."
    )


# --- entries -----------------------------------------------------------------------------------


async def test_a_remix_of_the_source_is_entered(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Alice extends the source during the window and enters it."""
    contest = await open_contest(service, clock, source)
    remix = await make(tracks, ALICE, source)
    receipt = await service.submit(ALICE, contest.id, track_id=remix.id)
    assert (receipt.entry.user_id, receipt.entry.track_id, receipt.replaced) == (
        ALICE.user_id,
        remix.id,
        None,
    )


async def refusal(call: Awaitable[object]) -> EntryRefused:
    with pytest.raises(EntryRefused) as refused:
        await call
    return refused.value


async def test_an_entry_before_submissions_open_is_refused(
    service: ContestService, tracks: TrackRepository, source: Track
) -> None:
    """A draft takes no entries, and says when it will."""
    contest = await service.create(ADMIN, draft(source))
    remix = await make(tracks, ALICE, source)
    refused = await refusal(service.submit(ALICE, contest.id, track_id=remix.id))
    assert refused.rule is EntryRule.NOT_TAKING_SUBMISSIONS
    assert str(refused).endswith("submissions open at 2026-03-11 13:00 UTC.")


async def test_an_entry_after_the_deadline_is_refused_before_the_scheduler_runs(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """At the deadline, entries stop, whether or not voting was announced yet."""
    contest = await open_contest(service, clock, source)
    remix = await make(tracks, ALICE, source)
    clock.set(VOTING)
    refused = await refusal(service.submit(ALICE, contest.id, track_id=remix.id))
    assert refused.rule is EntryRule.NOT_TAKING_SUBMISSIONS


async def test_a_missing_track_is_refused(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """A track id that names nothing."""
    contest = await open_contest(service, clock, source)
    refused = await refusal(service.submit(ALICE, contest.id, track_id=999))
    assert (refused.rule, str(refused)) == (
        EntryRule.TRACK_MISSING,
        "Track #999 does not exist (it may have been deleted).",
    )


async def test_someone_else_s_track_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Bob cannot enter alice's remix."""
    contest = await open_contest(service, clock, source)
    remix = await make(tracks, ALICE, source)
    refused = await refusal(service.submit(BOB, contest.id, track_id=remix.id))
    assert refused.rule is EntryRule.NOT_YOURS


async def test_a_track_made_in_another_server_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Alice's remix made elsewhere does not count here."""
    contest = await open_contest(service, clock, source)
    remix = await make(tracks, ALICE, source, guild_id=OTHER_GUILD)
    refused = await refusal(service.submit(ALICE, contest.id, track_id=remix.id))
    assert refused.rule is EntryRule.OTHER_SERVER


async def test_a_track_made_before_submissions_opened_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """A remix made before the window is refused, naming the window."""
    early = await make(tracks, ALICE, source)
    contest = await open_contest(service, clock, source)
    refused = await refusal(service.submit(ALICE, contest.id, track_id=early.id))
    assert refused.rule is EntryRule.OUTSIDE_WINDOW
    assert "outside the submission window (2026-03-11 13:00 UTC to 2026-03-12 12:00 UTC)" in str(
        refused
    )


async def test_the_source_itself_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock
) -> None:
    """The admin's source, made as submissions opened, is not an entry."""
    fresh = await make(tracks, ADMIN)
    contest = await open_contest(service, clock, fresh, submissions_open_at=None)
    refused = await refusal(service.submit(ADMIN, contest.id, track_id=fresh.id))
    assert refused.rule is EntryRule.SOURCE_ITSELF


async def test_a_track_not_derived_from_the_source_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """A new song of alice's does not come from the source."""
    contest = await open_contest(service, clock, source)
    song = await make(tracks, ALICE)
    refused = await refusal(service.submit(ALICE, contest.id, track_id=song.id))
    assert (refused.rule, str(refused)) == (
        EntryRule.NOT_DERIVED,
        f"Track #{song.id} does not come from this contest's source; enter an extension, loop, "
        "remix or variation of the source or of its stems.",
    )


async def test_bare_stems_of_the_source_are_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Splitting the source into stems is not making something from it."""
    contest = await open_contest(service, clock, source)
    stem = await make(tracks, ALICE, source, operation="stems")
    refused = await refusal(service.submit(ALICE, contest.id, track_id=stem.id))
    assert refused.rule is EntryRule.NOT_DERIVED and "only stems" in str(refused)


async def test_a_loop_of_a_stem_of_the_source_is_entered(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """A loop of the admin's stem of the source descends from it."""
    stem = await make(tracks, ADMIN, source, operation="stems")
    contest = await open_contest(service, clock, source)
    loop = await make(tracks, ALICE, stem, operation="loop")
    receipt = await service.submit(ALICE, contest.id, track_id=loop.id)
    assert receipt.entry.track_id == loop.id


async def test_a_remix_of_an_uploaded_source_s_stems_is_entered(
    service: ContestService, tracks: TrackRepository, clock: ManualClock
) -> None:
    """The stems made of an uploaded source are recorded; a remix of one counts."""
    contest = await open_contest(service, clock, None, source_upload=UPLOAD)
    stem = await make(tracks, ADMIN, operation="stems")
    await service.add_source_stems(ADMIN, contest.id, [stem.id])
    remix = await make(tracks, ALICE, stem, operation="loop")
    receipt = await service.submit(ALICE, contest.id, track_id=remix.id)
    assert receipt.entry.track_id == remix.id


async def test_any_track_made_here_is_entered_when_derivation_is_not_required(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """With `derived_only` off, a new song of alice's is an entry."""
    contest = await open_contest(service, clock, source, derived_only=False)
    song = await make(tracks, ALICE)
    assert (await service.submit(ALICE, contest.id, track_id=song.id)).entry.track_id == song.id


async def test_an_upload_is_refused_unless_allowed(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """By default only tracks made with the bot are entered."""
    contest = await open_contest(service, clock, source)
    refused = await refusal(service.submit(ALICE, contest.id, upload=UPLOAD))
    assert refused.rule is EntryRule.UPLOADS_NOT_ALLOWED


async def test_an_upload_is_entered_when_allowed(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """With uploads allowed, a posted file is an entry."""
    contest = await open_contest(service, clock, source, uploads_allowed=True)
    receipt = await service.submit(ALICE, contest.id, upload=UPLOAD)
    assert (receipt.entry.upload, receipt.entry.track_id) == (UPLOAD, None)


async def test_resubmitting_replaces_the_member_s_entry(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """One entry per member: the second remix takes the first one's place."""
    contest = await open_contest(service, clock, source)
    first = await enter_remix(service, tracks, contest, ALICE)
    second = await make(tracks, ALICE, source)
    receipt = await service.submit(ALICE, contest.id, track_id=second.id)
    assert receipt.replaced is not None and receipt.replaced.id == first
    assert [e.track_id for e in await service.my_entries(ALICE, contest.id)] == [second.id]


async def test_an_entry_beyond_the_limit_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Two entries per member: the third is refused, saying the limit."""
    contest = await open_contest(service, clock, source, entries_per_member=2)
    for _ in range(2):
        await enter_remix(service, tracks, contest, ALICE)
    third = await make(tracks, ALICE, source)
    refused = await refusal(service.submit(ALICE, contest.id, track_id=third.id))
    assert (refused.rule, str(refused)) == (
        EntryRule.ENTRY_LIMIT,
        f"You already have 2 entries in contest #{contest.id}, the most it allows; withdraw "
        "one to enter another.",
    )


async def test_a_track_entered_twice_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """With room for more entries, the same track still counts once."""
    contest = await open_contest(service, clock, source, entries_per_member=2)
    remix = await make(tracks, ALICE, source)
    await service.submit(ALICE, contest.id, track_id=remix.id)
    refused = await refusal(service.submit(ALICE, contest.id, track_id=remix.id))
    assert refused.rule is EntryRule.ALREADY_ENTERED


async def test_withdrawing_removes_the_member_s_entry(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Alice withdraws her only entry; she has none left."""
    contest = await open_contest(service, clock, source)
    entry_id = await enter_remix(service, tracks, contest, ALICE)
    withdrawn = await service.withdraw(ALICE, contest.id)
    assert withdrawn.id == entry_id and await service.my_entries(ALICE, contest.id) == ()


async def test_withdrawing_one_of_several_entries_needs_it_named(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """With two entries, withdrawing asks which; naming one withdraws only it."""
    contest = await open_contest(service, clock, source, entries_per_member=2)
    first = await enter_remix(service, tracks, contest, ALICE)
    second = await enter_remix(service, tracks, contest, ALICE)
    with pytest.raises(InvalidInput, match="say which one to withdraw"):
        await service.withdraw(ALICE, contest.id)
    await service.withdraw(ALICE, contest.id, first)
    assert [e.id for e in await service.my_entries(ALICE, contest.id)] == [second]


async def test_a_disqualified_entry_cannot_be_withdrawn(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Withdrawing would let its author enter again."""
    contest = await open_contest(service, clock, source)
    entry_id = await enter_remix(service, tracks, contest, ALICE)
    await service.disqualify(ADMIN, contest.id, entry_id, "stolen")
    refused = await refusal(service.withdraw(ALICE, contest.id))
    assert refused.rule is EntryRule.DISQUALIFIED


async def test_an_upload_without_its_file_is_refused(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """An upload reference must name a file."""
    contest = await open_contest(service, clock, source, uploads_allowed=True)
    with pytest.raises(InvalidInput, match="attach an audio file"):
        await service.submit(ALICE, contest.id, upload=Upload("", ""))


async def test_withdrawing_without_an_entry_is_refused(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """Nothing to withdraw."""
    contest = await open_contest(service, clock, source)
    refused = await refusal(service.withdraw(ALICE, contest.id))
    assert refused.rule is EntryRule.NO_ENTRY


async def test_withdrawing_once_voting_opened_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """After the deadline the entry stays in the contest."""
    contest = await voting_with_three(service, tracks, clock, source)
    refused = await refusal(service.withdraw(ALICE, contest.id))
    assert refused.rule is EntryRule.NOT_TAKING_SUBMISSIONS


async def test_a_disqualified_member_cannot_enter_again(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Alice's disqualified entry cannot be replaced by a new one."""
    contest = await open_contest(service, clock, source)
    entry_id = await enter_remix(service, tracks, contest, ALICE)
    await service.disqualify(ADMIN, contest.id, entry_id, "copied a published song")
    again = await make(tracks, ALICE, source)
    refused = await refusal(service.submit(ALICE, contest.id, track_id=again.id))
    assert refused.rule is EntryRule.DISQUALIFIED
    assert "(copied a published song)" in str(refused)


async def test_entries_are_shown_anonymously_by_number_once_voting_opens(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """The ballot numbers three entries 1 to 3 and names no author."""
    contest = await voting_with_three(service, tracks, clock, source)
    ballot = await service.ballot(DAVE, contest.id)
    assert [b.number for b in ballot] == [1, 2, 3]
    assert {f.name for f in fields(BallotEntry)} == {"number", "track_id", "upload"}


async def test_the_ballot_is_hidden_before_voting_opens(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """While submissions are open no one sees the entries."""
    contest = await open_contest(service, clock, source)
    await enter_remix(service, tracks, contest, ALICE)
    with pytest.raises(UserFacingError, match="shown when voting opens"):
        await service.ballot(DAVE, contest.id)


# --- votes -------------------------------------------------------------------------------------


async def vote_refusal(call: Awaitable[object]) -> VoteRefused:
    with pytest.raises(VoteRefused) as refused:
        await call
    return refused.value


async def test_a_vote_is_confirmed_with_its_entry_number(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Dave votes for alice's entry; the receipt and his votes name only its number."""
    contest = await voting_with_three(service, tracks, clock, source)
    number = await number_of(service, contest, ALICE)
    receipt = await service.vote(DAVE, contest.id, number, joined_at=OLD_MEMBER)
    assert (receipt.number, receipt.replaced_number, receipt.unchanged) == (number, None, False)
    assert await service.my_votes(DAVE, contest.id) == (number,)


async def test_a_self_vote_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Alice cannot vote for her own entry."""
    contest = await voting_with_three(service, tracks, clock, source)
    number = await number_of(service, contest, ALICE)
    refused = await vote_refusal(service.vote(ALICE, contest.id, number, joined_at=OLD_MEMBER))
    assert (refused.rule, str(refused)) == (
        VoteRule.SELF_VOTE,
        f"Entry {number} is yours; you cannot vote for your own entry.",
    )


async def test_a_changed_vote_is_counted_once(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Dave votes for alice, then bob: bob has his one vote, alice none."""
    contest = await voting_with_three(service, tracks, clock, source)
    alice, bob = [await number_of(service, contest, m) for m in (ALICE, BOB)]
    await vote(service, contest, DAVE, alice)
    receipt = await service.vote(DAVE, contest.id, bob, joined_at=OLD_MEMBER)
    await to_close(service, clock)
    votes = {s.entry.user_id: s.votes for s in (await service.results(DAVE, contest.id)).standings}
    assert receipt.replaced_number == alice
    assert (votes[BOB.user_id], votes[ALICE.user_id]) == (1, 0)


async def test_voting_again_for_the_same_entry_changes_nothing(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """A second click on the same entry is reported as unchanged."""
    contest = await voting_with_three(service, tracks, clock, source)
    alice = await number_of(service, contest, ALICE)
    await vote(service, contest, DAVE, alice)
    receipt = await service.vote(DAVE, contest.id, alice, joined_at=OLD_MEMBER)
    assert receipt.unchanged and (await service.counts(DAVE, contest.id)).votes == 1


async def test_n_votes_per_member_go_to_distinct_entries(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """With two votes, dave votes for alice and bob; both count."""
    contest = await voting_with_three(service, tracks, clock, source, votes_per_member=2)
    alice, bob = [await number_of(service, contest, m) for m in (ALICE, BOB)]
    await vote(service, contest, DAVE, alice)
    await vote(service, contest, DAVE, bob)
    assert await service.my_votes(DAVE, contest.id) == (alice, bob)


async def test_a_vote_beyond_n_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Two votes used: a third entry is refused, naming the two chosen."""
    contest = await voting_with_three(service, tracks, clock, source, votes_per_member=2)
    alice, bob, carol = [await number_of(service, contest, m) for m in (ALICE, BOB, CAROL)]
    await vote(service, contest, DAVE, alice)
    await vote(service, contest, DAVE, bob)
    refused = await vote_refusal(service.vote(DAVE, contest.id, carol, joined_at=OLD_MEMBER))
    assert (refused.rule, str(refused)) == (
        VoteRule.NO_VOTES_LEFT,
        f"You have used all 2 votes (entries {alice} and {bob}); take one back to vote for "
        f"Entry {carol}.",
    )


async def test_a_named_vote_is_replaced(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """With both votes used, dave moves his second vote to carol."""
    contest = await voting_with_three(service, tracks, clock, source, votes_per_member=2)
    alice, bob, carol = [await number_of(service, contest, m) for m in (ALICE, BOB, CAROL)]
    await vote(service, contest, DAVE, alice)
    await vote(service, contest, DAVE, bob)
    receipt = await service.vote(DAVE, contest.id, carol, joined_at=OLD_MEMBER, slot=1)
    assert receipt.replaced_number == bob
    assert await service.my_votes(DAVE, contest.id) == (alice, carol)


async def test_a_vote_slot_out_of_range_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """One vote per member: there is no second vote to change."""
    contest = await voting_with_three(service, tracks, clock, source)
    alice = await number_of(service, contest, ALICE)
    with pytest.raises(InvalidInput, match="1 to 1"):
        await service.vote(DAVE, contest.id, alice, joined_at=OLD_MEMBER, slot=1)


async def test_taking_back_a_vote_frees_it(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """After taking his vote back, dave has none."""
    contest = await voting_with_three(service, tracks, clock, source)
    alice = await number_of(service, contest, ALICE)
    await vote(service, contest, DAVE, alice)
    assert await service.take_back_vote(DAVE, contest.id, alice)
    assert await service.my_votes(DAVE, contest.id) == ()


async def test_a_member_who_joined_after_voting_opened_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Under the join rule, dave who joined an hour into voting cannot vote."""
    contest = await voting_with_three(
        service, tracks, clock, source, voters_joined_before_voting=True
    )
    alice = await number_of(service, contest, ALICE)
    joined = VOTING + timedelta(hours=1)
    refused = await vote_refusal(service.vote(DAVE, contest.id, alice, joined_at=joined))
    assert refused.rule is VoteRule.JOINED_TOO_LATE


async def test_a_member_who_joined_before_voting_opened_votes_under_the_join_rule(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Dave, a member for months, votes."""
    contest = await voting_with_three(
        service, tracks, clock, source, voters_joined_before_voting=True
    )
    alice = await number_of(service, contest, ALICE)
    receipt = await service.vote(DAVE, contest.id, alice, joined_at=OLD_MEMBER)
    assert receipt.number == alice


async def test_a_late_joiner_votes_without_the_join_rule(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """By default, joining during voting does not matter."""
    contest = await voting_with_three(service, tracks, clock, source)
    alice = await number_of(service, contest, ALICE)
    receipt = await service.vote(DAVE, contest.id, alice, joined_at=VOTING + timedelta(hours=1))
    assert receipt.number == alice


async def test_a_vote_before_voting_opens_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """During submissions, votes wait for voting to open."""
    contest = await open_contest(service, clock, source)
    await enter_remix(service, tracks, contest, ALICE)
    refused = await vote_refusal(service.vote(DAVE, contest.id, 1, joined_at=OLD_MEMBER))
    assert refused.rule is VoteRule.NOT_VOTING


async def test_a_vote_at_the_close_is_refused_before_the_scheduler_runs(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """At the close time votes stop, whether or not the close was announced yet."""
    contest = await voting_with_three(service, tracks, clock, source)
    alice = await number_of(service, contest, ALICE)
    clock.set(CLOSES)
    refused = await vote_refusal(service.vote(DAVE, contest.id, alice, joined_at=OLD_MEMBER))
    assert refused.rule is VoteRule.NOT_VOTING


async def test_a_vote_for_a_missing_entry_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Three entries: there is no Entry 4."""
    contest = await voting_with_three(service, tracks, clock, source)
    refused = await vote_refusal(service.vote(DAVE, contest.id, 4, joined_at=OLD_MEMBER))
    assert (refused.rule, str(refused)) == (
        VoteRule.NO_SUCH_ENTRY,
        f"Contest #{contest.id} has no Entry 4.",
    )


async def test_a_vote_for_a_disqualified_entry_is_refused(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Once alice's entry is out, it takes no votes."""
    contest = await voting_with_three(service, tracks, clock, source)
    [entry] = await service.my_entries(ALICE, contest.id)
    await service.disqualify(ADMIN, contest.id, entry.id, "stolen")
    refused = await vote_refusal(
        service.vote(DAVE, contest.id, entry.number or 0, joined_at=OLD_MEMBER)
    )
    assert refused.rule is VoteRule.DISQUALIFIED_ENTRY


async def test_counts_show_totals_but_no_tally(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """During voting: three entries, two voters, two votes, and results are refused."""
    contest = await voting_with_three(service, tracks, clock, source)
    alice = await number_of(service, contest, ALICE)
    await vote(service, contest, DAVE, alice)
    await vote(service, contest, BOB, alice)
    counts = await service.counts(DAVE, contest.id)
    assert (counts.entries, counts.voters, counts.votes) == (3, 2, 2)
    with pytest.raises(UserFacingError, match="shown once voting closes"):
        await service.results(DAVE, contest.id)


# --- results -----------------------------------------------------------------------------------


async def test_results_rank_entries_by_votes_with_their_authors(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Two votes for bob, one for carol, none for alice: bob wins with 10 points."""
    contest = await voting_with_three(service, tracks, clock, source)
    bob, carol = [await number_of(service, contest, m) for m in (BOB, CAROL)]
    await vote(service, contest, DAVE, bob)
    await vote(service, contest, ALICE, bob)
    await vote(service, contest, BOB, carol)
    await to_close(service, clock)
    results = await service.results(DAVE, contest.id)
    assert [(s.rank, s.entry.user_id, s.votes, s.points) for s in results.standings] == [
        (1, BOB.user_id, 2, 10),
        (2, CAROL.user_id, 1, 6),
        (3, ALICE.user_id, 0, 0),
    ]
    assert [w.entry.number for w in results.winners] == [bob]


async def test_a_tie_shares_first_place_and_lists_the_earlier_entry_first(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Alice (entered first) and bob one vote each: both rank 1, alice listed first."""
    contest = await voting_with_three(service, tracks, clock, source)
    alice, bob = [await number_of(service, contest, m) for m in (ALICE, BOB)]
    await vote(service, contest, DAVE, bob)
    await vote(service, contest, CAROL, alice)
    await to_close(service, clock)
    results = await service.results(DAVE, contest.id)
    assert [(s.rank, s.entry.user_id) for s in results.standings] == [
        (1, ALICE.user_id),
        (1, BOB.user_id),
        (3, CAROL.user_id),
    ]
    assert len(results.winners) == 2


async def test_a_disqualified_entry_is_out_of_the_results(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Bob's entry, disqualified after the close, is listed apart with its reason."""
    contest = await voting_with_three(service, tracks, clock, source)
    bob = await number_of(service, contest, BOB)
    await vote(service, contest, DAVE, bob)
    await to_close(service, clock)
    [entry] = await service.my_entries(BOB, contest.id)
    await service.disqualify(ADMIN, contest.id, entry.id, "used a commercial sample")
    results = await service.results(DAVE, contest.id)
    assert BOB.user_id not in {s.entry.user_id for s in results.standings}
    assert [e.disqualified_reason for e in results.disqualified] == ["used a commercial sample"]


async def test_disqualifying_while_voting_returns_votes_to_their_voters(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Dave's vote for bob's disqualified entry is returned; he votes for carol instead."""
    contest = await voting_with_three(service, tracks, clock, source)
    bob, carol = [await number_of(service, contest, m) for m in (BOB, CAROL)]
    await vote(service, contest, DAVE, bob)
    [entry] = await service.my_entries(BOB, contest.id)
    done = await service.disqualify(ADMIN, contest.id, entry.id, "stolen")
    await vote(service, contest, DAVE, carol)
    assert done.voters_returned == (DAVE.user_id,)
    assert await service.my_votes(DAVE, contest.id) == (carol,)


async def test_a_cancelled_contest_has_no_results(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Cancelled while voting: its results are refused and it is no longer current."""
    contest = await voting_with_three(service, tracks, clock, source)
    transition = await service.cancel(ADMIN, contest.id, "the source was taken down")
    assert transition.after is ContestPhase.CANCELLED
    with pytest.raises(UserFacingError, match="was cancelled; it has no results"):
        await service.results(DAVE, contest.id)
    assert await service.current(GUILD) == ()


async def test_the_season_leaderboard_adds_points_across_contests(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Bob wins one contest (10) and comes second in the other (6): 16, ahead of alice."""
    for favourite in (BOB, ALICE):
        clock.set(START)
        contest = await voting_with_three(service, tracks, clock, source, season="Spring")
        first = await number_of(service, contest, favourite)
        runner_up = await number_of(service, contest, BOB if favourite is ALICE else CAROL)
        await vote(service, contest, DAVE, first)
        await vote(service, contest, CAROL if favourite is ALICE else ALICE, first)
        await vote(service, contest, ADMIN, runner_up)
        await to_close(service, clock)
    table = await service.leaderboard(GUILD, "Spring")
    assert [(r.user_id, r.points, r.wins) for r in table] == [
        (BOB.user_id, 16, 1),
        (ALICE.user_id, 10, 1),
        (CAROL.user_id, 6, 0),
    ]


async def test_the_seasons_of_a_server_are_listed(service: ContestService, source: Track) -> None:
    """Each season name once, in order; contests without a season add none."""
    for season in ("Summer", "Spring", None, "Spring"):
        await service.create(ADMIN, draft(source, season=season))
    assert await service.seasons(GUILD) == ("Spring", "Summer")


async def test_another_season_s_contests_do_not_count(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """A closed contest of the Spring season is not on the Summer leaderboard."""
    contest = await voting_with_three(service, tracks, clock, source, season="Spring")
    await vote(service, contest, DAVE, await number_of(service, contest, ALICE))
    await to_close(service, clock)
    assert await service.leaderboard(GUILD, "Summer") == ()


async def test_the_csv_export_lists_entries_authors_votes_and_ranks(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """One row per entry, winner first, with the author's name as given."""
    contest = await voting_with_three(service, tracks, clock, source)
    await vote(service, contest, DAVE, await number_of(service, contest, CAROL))
    await to_close(service, clock)
    text = await service.export_csv(ADMIN, contest.id, {CAROL.user_id: "carol"})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3
    assert (rows[0]["rank"], rows[0]["author"], rows[0]["votes"], rows[0]["points"]) == (
        "1",
        "carol",
        "1",
        "10",
    )


async def test_the_csv_export_waits_for_the_close(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """During voting the export would show the tally: refused."""
    contest = await voting_with_three(service, tracks, clock, source)
    with pytest.raises(UserFacingError, match="shown once voting closes"):
        await service.export_csv(ADMIN, contest.id)


# --- admin actions -----------------------------------------------------------------------------


async def test_extending_submissions_moves_voting_along(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """A day more for entries: voting opens and closes a day later."""
    contest = await open_contest(service, clock, source)
    moved = await service.extend(ADMIN, contest.id, Deadline.SUBMISSIONS, timedelta(days=1))
    assert (moved.voting_opens_at, moved.closes_at) == (
        VOTING + timedelta(days=1),
        CLOSES + timedelta(days=1),
    )


async def test_extending_voting_moves_only_the_close(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Six more hours of voting; the close waits for them."""
    contest = await voting_with_three(service, tracks, clock, source)
    moved = await service.extend(ADMIN, contest.id, Deadline.VOTING, timedelta(hours=6))
    clock.set(CLOSES)
    assert (moved.voting_opens_at, moved.closes_at) == (VOTING, CLOSES + timedelta(hours=6))
    assert await service.advance_due() == ()


async def test_a_passed_deadline_cannot_be_extended(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Once voting opened, the submission deadline is history."""
    contest = await voting_with_three(service, tracks, clock, source)
    with pytest.raises(UserFacingError, match=r"submissions deadline .* has passed"):
        await service.extend(ADMIN, contest.id, Deadline.SUBMISSIONS, timedelta(days=1))


async def test_a_cancelled_contest_s_deadline_cannot_be_extended(
    service: ContestService, source: Track
) -> None:
    """A cancelled contest says so, rather than that its deadline passed."""
    contest = await service.create(ADMIN, draft(source))
    await service.cancel(ADMIN, contest.id)
    with pytest.raises(UserFacingError) as refused:
        await service.extend(ADMIN, contest.id, Deadline.VOTING, timedelta(hours=1))
    assert str(refused.value) == (
        f"Contest #{contest.id} was cancelled. Its deadlines can no longer be extended."
    )


async def test_an_extension_past_ninety_days_of_window_is_refused(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """A window cannot grow beyond its limit."""
    contest = await open_contest(service, clock, source)
    with pytest.raises(InvalidInput, match="more than 90 days"):
        await service.extend(ADMIN, contest.id, Deadline.SUBMISSIONS, timedelta(days=90))


async def test_close_now_ends_voting_at_once(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Closed early, the results are final and the scheduler does not close it again."""
    contest = await voting_with_three(service, tracks, clock, source)
    await vote(service, contest, DAVE, await number_of(service, contest, BOB))
    transition = await service.close_now(ADMIN, contest.id)
    clock.set(CLOSES)
    assert (transition.after, transition.actor_id, transition.contest.ended_at) == (
        ContestPhase.CLOSED,
        ADMIN.user_id,
        VOTING,
    )
    assert [t.after for t in await service.advance_due()] == []
    assert (await service.results(DAVE, contest.id)).winners[0].entry.user_id == BOB.user_id


async def test_close_now_is_refused_before_voting(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """A contest taking submissions cannot be closed early."""
    contest = await open_contest(service, clock, source)
    with pytest.raises(UserFacingError, match="Only a contest that is voting"):
        await service.close_now(ADMIN, contest.id)


async def test_a_closed_contest_cannot_be_cancelled(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """After the close, cancelling is refused."""
    contest = await voting_with_three(service, tracks, clock, source)
    await to_close(service, clock)
    with pytest.raises(UserFacingError, match=r"has ended\. It can no longer be cancelled"):
        await service.cancel(ADMIN, contest.id)


async def test_every_admin_action_is_audited_with_who_and_when(
    service: ContestService, tracks: TrackRepository, clock: ManualClock, source: Track
) -> None:
    """Create, edit, extend, disqualify, close: each recorded with the admin and the time."""
    contest = await service.create(ADMIN, draft(source))
    await service.edit(ADMIN, contest.id, theme="Snow")
    clock.set(OPENS)
    await service.advance_due()
    entry_id = await enter_remix(service, tracks, contest, ALICE)
    await service.extend(ADMIN, contest.id, Deadline.VOTING, timedelta(hours=1))
    await service.disqualify(ADMIN, contest.id, entry_id, "stolen")
    await to_voting(service, clock)
    await service.close_now(ADMIN, contest.id)
    records = await service.audit(ADMIN, contest.id)
    assert [(r.action, r.actor_id, r.at) for r in records] == [
        (AuditAction.CREATE, ADMIN.user_id, START),
        (AuditAction.EDIT, ADMIN.user_id, START),
        (AuditAction.EXTEND, ADMIN.user_id, OPENS),
        (AuditAction.DISQUALIFY, ADMIN.user_id, OPENS),
        (AuditAction.CLOSE, ADMIN.user_id, VOTING),
    ]


async def test_a_cancel_is_audited_with_its_reason(service: ContestService, source: Track) -> None:
    """The reason given is kept in the audit."""
    contest = await service.create(ADMIN, draft(source))
    await service.cancel(ADMIN, contest.id, "wrong source")
    record = (await service.audit(ADMIN, contest.id))[-1]
    assert (record.action, record.detail) == (AuditAction.CANCEL, "wrong source")


ADMIN_ACTIONS: dict[str, Callable[[ContestService, int], Awaitable[object]]] = {
    "edit": lambda s, c: s.edit(ALICE, c, theme="Snow"),
    "extend": lambda s, c: s.extend(ALICE, c, Deadline.VOTING, timedelta(hours=1)),
    "close": lambda s, c: s.close_now(ALICE, c),
    "cancel": lambda s, c: s.cancel(ALICE, c),
    "disqualify": lambda s, c: s.disqualify(ALICE, c, 1, "no"),
    "export": lambda s, c: s.export_csv(ALICE, c),
    "audit": lambda s, c: s.audit(ALICE, c),
    "entries": lambda s, c: s.entries(ALICE, c),
    "stems": lambda s, c: s.add_source_stems(ALICE, c, []),
}


@pytest.mark.parametrize("action", sorted(ADMIN_ACTIONS))
async def test_a_plain_member_cannot_run_an_admin_action(
    service: ContestService, source: Track, action: str
) -> None:
    """Alice, without Manage Server or the role, is refused every admin action."""
    contest = await service.create(ADMIN, draft(source))
    with pytest.raises(NotAllowed):
        await ADMIN_ACTIONS[action](service, contest.id)


async def test_another_server_s_contest_is_not_found(
    service: ContestService, source: Track
) -> None:
    """A member of another server cannot see the contest, even with Manage Server."""
    contest = await service.create(ADMIN, draft(source))
    with pytest.raises(ContestNotFound):
        await service.contest(Requester(9, OTHER_GUILD, manages_guild=True), contest.id)


# --- scale -------------------------------------------------------------------------------------


async def test_closing_a_contest_with_10000_votes_counts_every_vote(
    service: ContestService,
    tracks: TrackRepository,
    clock: ManualClock,
    source: Track,
    database: Database,
) -> None:
    """Forty entries, 10,000 voters: every entry's tally is exact and ranked after the close."""
    contest = await open_contest(service, clock, source)
    entry_ids = [
        await enter_remix(service, tracks, contest, Requester(100 + n, GUILD)) for n in range(40)
    ]
    await to_voting(service, clock)
    chosen = [entry_ids[(voter * voter) % 40] for voter in range(10_000)]
    async with database.transaction() as transaction:
        await transaction.execute_many(
            "INSERT INTO contest_votes (contest_id, voter_id, slot, entry_id, cast_at)"
            " VALUES (?, ?, 0, ?, ?)",
            [
                (contest.id, 50_000 + n, e, "2026-03-12T12:00:00.000000Z")
                for n, e in enumerate(chosen)
            ],
        )
    await to_close(service, clock)
    results = await service.results(ADMIN, contest.id)
    expected = Counter(chosen)
    assert {s.entry.id: s.votes for s in results.standings} == {e: expected[e] for e in entry_ids}
    assert [s.votes for s in results.standings] == sorted(expected.values(), reverse=True) + [0] * (
        40 - len(expected)
    )


# --- the scheduler and what the front end asks -----------------------------------------------


class Announced:
    """What a scheduler announced, batch by batch, with an event per batch."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[int, ContestPhase]]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, transitions: Sequence[Transition]) -> None:
        self.batches.append([(t.contest.id, t.after) for t in transitions])
        self.arrived.set()

    async def next_batch(self) -> list[tuple[int, ContestPhase]]:
        await asyncio.wait_for(self.arrived.wait(), 5)
        self.arrived.clear()
        return self.batches[-1]


async def test_a_tick_after_downtime_announces_each_contest_once_as_it_is_now(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """Three deadlines passed while down: one announcement, the contest's latest phase."""
    contest = await service.create(ADMIN, draft(source))
    announced = Announced()
    clock.set(CLOSES + timedelta(minutes=1))
    await service.scheduler(announced).tick()
    assert announced.batches == [[(contest.id, ContestPhase.CLOSED)]]


async def test_a_tick_with_nothing_due_announces_nothing(
    service: ContestService, source: Track
) -> None:
    """Before any deadline, a tick neither changes nor announces anything."""
    await service.create(ADMIN, draft(source))
    announced = Announced()
    assert await service.scheduler(announced).tick() == ()
    assert announced.batches == []


async def test_the_running_scheduler_wakes_when_the_clock_is_moved(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """A scheduler waiting for a deadline days away applies it as soon as the clock gets there."""
    contest = await service.create(ADMIN, draft(source))
    announced = Announced()
    running = asyncio.create_task(service.scheduler(announced).run())
    try:
        clock.set(OPENS)
        assert await announced.next_batch() == [(contest.id, ContestPhase.SUBMISSIONS)]
        clock.set(VOTING)
        assert await announced.next_batch() == [(contest.id, ContestPhase.VOTING)]
    finally:
        running.cancel()


async def test_a_poke_makes_the_scheduler_look_again(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """A contest created while the scheduler sleeps is opened when the scheduler is poked."""
    announced = Announced()
    scheduler = service.scheduler(announced)
    running = asyncio.create_task(scheduler.run())
    try:
        contest = await service.create(ADMIN, draft(source, submissions_open_at=None))
        scheduler.poke()
        assert await announced.next_batch() == [(contest.id, ContestPhase.SUBMISSIONS)]
    finally:
        running.cancel()


async def test_entry_candidates_are_the_members_tracks_the_contest_accepts(
    service: ContestService, clock: ManualClock, tracks: TrackRepository, source: Track
) -> None:
    """Only alice's remix made in the window is offered, not her unrelated song."""
    contest = await open_contest(service, clock, source)
    remix = await make(tracks, ALICE, source)
    await make(tracks, ALICE)
    found = await service.entry_candidates(ALICE, contest.id)
    assert [track.id for track in found] == [remix.id]


async def test_taking_entries_lists_only_contests_open_now(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """A contest whose submissions have not opened is not among those taking entries."""
    open_now = await open_contest(service, clock, source)
    await service.create(ADMIN, draft(source, submissions_open_at=VOTING - timedelta(hours=1)))
    assert [c.id for c in await service.taking_entries(GUILD)] == [open_now.id]


async def test_check_create_refuses_what_create_would_without_writing(
    service: ContestService, source: Track
) -> None:
    """A member without Manage Server is refused by the check, and nothing is created."""
    with pytest.raises(NotAllowed):
        await service.check_create(ALICE, draft(source))
    assert await service.current(GUILD) == ()


async def test_a_stem_pack_not_yet_admitted_is_not_settled_at_first(
    service: ContestService, clock: ManualClock, source: Track
) -> None:
    """With no job for its key yet, the stem pack is pending for two minutes, then settled."""
    contest = await service.create(ADMIN, draft(source, stems_key="no such job"))
    assert not await service.stems_settled(contest.id)
    clock.advance(timedelta(minutes=3))
    assert await service.stems_settled(contest.id)


async def test_simultaneous_votes_of_one_member_leave_one_vote(
    service: ContestService, clock: ManualClock, tracks: TrackRepository, source: Track
) -> None:
    """Twenty clicks of dave's at once, on two entries, store exactly one vote of his."""
    contest = await voting_with_three(service, tracks, clock, source)
    receipts = await asyncio.gather(
        *(service.vote(DAVE, contest.id, 1 + n % 2, joined_at=OLD_MEMBER) for n in range(20))
    )
    assert len(receipts) == 20
    assert len(await service.my_votes(DAVE, contest.id)) == 1
    assert (await service.counts(ADMIN, contest.id)).votes == 1


async def test_a_vote_from_another_server_finds_no_contest(
    service: ContestService, clock: ManualClock, tracks: TrackRepository, source: Track
) -> None:
    """A member of another server voting with a contest's id is told it does not exist."""
    contest = await voting_with_three(service, tracks, clock, source)
    stranger = Requester(9, OTHER_GUILD)
    with pytest.raises(ContestNotFound):
        await service.vote(stranger, contest.id, 1, joined_at=OLD_MEMBER)


async def test_votes_cast_together_are_each_counted_once(
    service: ContestService, clock: ManualClock, tracks: TrackRepository, source: Track
) -> None:
    """A hundred members voting at the same moment: a hundred votes, one each."""
    contest = await voting_with_three(service, tracks, clock, source)
    voters = [Requester(1000 + n, GUILD) for n in range(100)]
    await asyncio.gather(
        *(
            service.vote(v, contest.id, 1 + n % 3, joined_at=OLD_MEMBER)
            for n, v in enumerate(voters)
        )
    )
    counts = await service.counts(ADMIN, contest.id)
    assert (counts.voters, counts.votes) == (100, 100)


async def test_of_two_clicks_at_once_the_later_counts(
    service: ContestService, clock: ManualClock, tracks: TrackRepository, source: Track
) -> None:
    """dave clicks Entry 1 then Entry 2 at the same moment: his vote is for Entry 2."""
    contest = await voting_with_three(service, tracks, clock, source)
    first, second = await asyncio.gather(
        service.vote(DAVE, contest.id, 1, joined_at=OLD_MEMBER),
        service.vote(DAVE, contest.id, 2, joined_at=OLD_MEMBER),
    )
    assert await service.my_votes(DAVE, contest.id) == (2,)
    assert second.replaced_number == 1 and first.replaced_number is None


async def test_a_self_vote_among_others_at_once_is_refused_alone(
    service: ContestService, clock: ManualClock, tracks: TrackRepository, source: Track
) -> None:
    """alice's vote for her own entry is refused while dave's, cast with it, counts."""
    contest = await voting_with_three(service, tracks, clock, source)
    mine = await number_of(service, contest, ALICE)
    refused, counted_vote = await asyncio.gather(
        service.vote(ALICE, contest.id, mine, joined_at=OLD_MEMBER),
        service.vote(DAVE, contest.id, mine, joined_at=OLD_MEMBER),
        return_exceptions=True,
    )
    assert isinstance(refused, VoteRefused) and refused.rule is VoteRule.SELF_VOTE
    assert isinstance(counted_vote, VoteReceipt) and counted_vote.number == mine
