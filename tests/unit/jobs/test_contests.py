"""The rules of contests (`bot.jobs.contests`) without a database: drafts, who may run a
contest, descent from the source, when entries and votes are taken, ranking with its tie rule,
points, the season table and the CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import InvalidInput
from bot.jobs.contests import (
    POINTS_BY_RANK,
    ContestDraft,
    ContestResults,
    Descent,
    check_draft,
    descent,
    joined_too_late,
    latest_states,
    may_manage,
    moment,
    points_for,
    rank,
    results_csv,
    season_table,
    submission_refusal,
    voting_refusal,
    when,
    windows,
)
from bot.jobs.models import Requester
from bot.storage import Contest, ContestPhase, Entry, Track, Transition, Upload

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 1000, 2000
ROLE = 77
OPENS, VOTING, CLOSES = windows(NOW, timedelta(days=3), timedelta(days=2))


def draft(**changes: object) -> ContestDraft:
    base = ContestDraft(
        title="Rainy remix",
        theme="Make it rain",
        voting_opens_at=VOTING,
        closes_at=CLOSES,
        source_track_id=1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def contest(phase: ContestPhase = ContestPhase.SUBMISSIONS, **changes: object) -> Contest:
    base = Contest(
        id=5,
        guild_id=GUILD,
        channel_id=None,
        creator_id=1,
        title="Rainy remix",
        theme="Make it rain",
        rules="",
        source_track_id=1,
        source_upload=None,
        phase=phase,
        submissions_open_at=OPENS,
        voting_opens_at=VOTING,
        closes_at=CLOSES,
        archive_at=CLOSES + timedelta(days=30),
        entries_per_member=1,
        derived_only=True,
        uploads_allowed=False,
        winner_role_id=None,
        votes_per_member=1,
        voters_joined_before_voting=False,
        season=None,
        shuffle_seed=42,
        created_at=NOW,
        updated_at=NOW,
        ended_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def track(track_id: int, operation: str = "song", parent_id: int | None = None) -> Track:
    return Track(
        id=track_id,
        guild_id=GUILD,
        channel_id=5,
        user_id=2,
        operation=operation,
        prompt="rain",
        lyrics=None,
        song_name=None,
        soundverse_message_id=None,
        soundverse_job_id=None,
        take_index=0,
        audio_url=None,
        audio_file=None,
        album_art_url=None,
        license=None,
        message_channel_id=None,
        message_id=None,
        parent_id=parent_id,
        job_id=None,
        created_at=NOW,
        updated_at=NOW,
    )


def entry(
    entry_id: int,
    votes: int | None,
    *,
    user_id: int | None = None,
    minute: int | None = None,
    disqualified: str | None = None,
) -> Entry:
    return Entry(
        id=entry_id,
        contest_id=5,
        user_id=entry_id if user_id is None else user_id,
        track_id=100 + entry_id,
        upload=None,
        submitted_at=NOW + timedelta(minutes=entry_id if minute is None else minute),
        number=entry_id,
        final_votes=votes,
        disqualified_at=None if disqualified is None else NOW,
        disqualified_by=None if disqualified is None else 1,
        disqualified_reason=disqualified,
    )


# --- drafts -------------------------------------------------------------------------------------


def test_a_draft_within_every_rule_passes() -> None:
    """The defaults with a title, a theme, a source and two windows are accepted."""
    check_draft(draft(), NOW)


def test_a_draft_defaults_to_one_entry_derived_no_uploads_one_vote() -> None:
    """Entries per member 1, derived only, no uploads, 1 vote, no join rule, no role."""
    made = draft()
    assert (made.entries_per_member, made.derived_only, made.uploads_allowed) == (1, True, False)
    assert (made.votes_per_member, made.voters_joined_before_voting) == (1, False)
    assert made.winner_role_id is None


def test_windows_are_built_from_durations() -> None:
    """Voting opens when the submission window ends and closes when the voting window ends."""
    assert windows(NOW, timedelta(hours=2), timedelta(hours=1)) == (
        NOW,
        NOW + timedelta(hours=2),
        NOW + timedelta(hours=3),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "  "}, "The title cannot be empty."),
        ({"title": "x" * 101}, "The title is 101 characters long; at most 100."),
        ({"theme": ""}, "The theme cannot be empty."),
        ({"rules": "x" * 2001}, "The rules is 2001 characters long; at most 2000."),
        ({"season": " "}, "The season name cannot be empty."),
        ({"entries_per_member": 0}, "Entries per member must be between 1 and 10 (not 0)."),
        ({"votes_per_member": 11}, "Votes per member must be between 1 and 10 (not 11)."),
    ],
)
def test_a_draft_with_a_bad_field_is_refused_precisely(
    changes: dict[str, object], message: str
) -> None:
    """Each field's rule names the field and the limit."""
    with pytest.raises(InvalidInput) as refused:
        check_draft(draft(**changes), NOW)
    assert str(refused.value) == message


def test_a_draft_without_a_source_is_refused() -> None:
    """Neither a track nor an upload: one source is asked for."""
    with pytest.raises(InvalidInput, match="Choose one source"):
        check_draft(draft(source_track_id=None), NOW)


def test_a_draft_with_two_sources_is_refused() -> None:
    """A track and an upload at once: one source is asked for."""
    with pytest.raises(InvalidInput, match="Choose one source"):
        check_draft(draft(source_upload=Upload("https://cdn/a.mp3", "a.mp3")), NOW)


def test_submissions_cannot_open_in_the_past() -> None:
    """An opening a minute ago is refused with its time."""
    with pytest.raises(InvalidInput) as refused:
        check_draft(draft(submissions_open_at=NOW - timedelta(minutes=1)), NOW)
    assert str(refused.value) == "Submissions cannot open in the past (2026-03-11 11:59 UTC)."


def test_submissions_must_open_within_a_year() -> None:
    """An opening more than a year ahead is refused."""
    later = NOW + timedelta(days=366)
    with pytest.raises(InvalidInput, match="within a year"):
        check_draft(
            draft(
                submissions_open_at=later,
                voting_opens_at=later + timedelta(days=1),
                closes_at=later + timedelta(days=2),
            ),
            NOW,
        )


def test_voting_must_open_after_submissions_open() -> None:
    """A submission window that ends before it starts is refused, with both times."""
    with pytest.raises(InvalidInput) as refused:
        check_draft(draft(submissions_open_at=VOTING + timedelta(hours=1)), NOW)
    assert str(refused.value).startswith("Submissions must close after they open")


def test_voting_must_close_after_it_opens() -> None:
    """A voting window of zero length is refused."""
    with pytest.raises(InvalidInput, match="Voting must close after they open"):
        check_draft(draft(closes_at=VOTING), NOW)


def test_a_window_shorter_than_a_minute_is_refused() -> None:
    """Thirty seconds of voting is too short."""
    with pytest.raises(InvalidInput, match="Voting must stay open for at least a minute"):
        check_draft(draft(closes_at=VOTING + timedelta(seconds=30)), NOW)


def test_a_window_longer_than_ninety_days_is_refused() -> None:
    """A submission window of 91 days is too long."""
    with pytest.raises(InvalidInput, match="at most 90 days"):
        check_draft(
            draft(voting_opens_at=NOW + timedelta(days=91), closes_at=NOW + timedelta(days=92)),
            NOW,
        )


def test_archiving_more_than_a_year_after_closing_is_refused() -> None:
    """The archive delay is at most 365 days."""
    with pytest.raises(InvalidInput, match="archived between 0 and 365 days"):
        check_draft(draft(archive_after=timedelta(days=366)), NOW)


def test_instants_read_as_utc_minutes() -> None:
    """Messages show `YYYY-MM-DD HH:MM UTC`."""
    assert when(NOW) == "2026-03-11 12:00 UTC"


# --- who runs contests --------------------------------------------------------------------------


def test_a_member_with_manage_server_may_run_contests() -> None:
    """Manage Server is enough, with or without a manager role."""
    assert may_manage(Requester(1, GUILD, manages_guild=True), GUILD, None)


def test_a_member_with_the_manager_role_may_run_contests() -> None:
    """The server's contest-manager role is enough without Manage Server."""
    assert may_manage(Requester(1, GUILD, role_ids=(ROLE,)), GUILD, ROLE)


def test_a_plain_member_may_not_run_contests() -> None:
    """Neither the permission nor the role: refused."""
    assert not may_manage(Requester(1, GUILD, role_ids=(3,)), GUILD, ROLE)


def test_a_manager_of_another_server_may_not_run_contests_here() -> None:
    """Manage Server elsewhere does not count."""
    assert not may_manage(Requester(1, OTHER_GUILD, manages_guild=True), GUILD, None)


# --- descent --------------------------------------------------------------------------------------

SOURCE = track(1)
STEM = track(2, "stems", 1)


def test_an_extension_of_the_source_is_derived() -> None:
    """Extended from the source itself."""
    assert descent(track(3, "extend_song", 1), [SOURCE], {1}) is Descent.DERIVED


def test_the_source_itself_is_not_derived() -> None:
    """The source is reported as the source."""
    assert descent(SOURCE, [], {1}) is Descent.SOURCE


def test_a_stem_of_the_source_is_only_separated() -> None:
    """Stems split from the source, with nothing made of them, do not count."""
    assert descent(STEM, [SOURCE], {1}) is Descent.SEPARATED


def test_stems_of_a_stem_are_only_separated() -> None:
    """Separating twice is still only separating."""
    assert descent(track(3, "stems", 2), [STEM, SOURCE], {1}) is Descent.SEPARATED


def test_a_loop_of_a_stem_of_the_source_is_derived() -> None:
    """Something made from one of the source's stems counts."""
    assert descent(track(3, "loop", 2), [STEM, SOURCE], {1}) is Descent.DERIVED


def test_stems_of_a_variation_of_the_source_are_derived() -> None:
    """A separation below a remix still comes from something made of the source."""
    variation = track(3, "song", 1)
    assert descent(track(4, "stems", 3), [variation, SOURCE], {1}) is Descent.DERIVED


def test_a_track_many_generations_below_the_source_is_derived() -> None:
    """Descent counts at any depth."""
    chain = [track(n, "extend_music", n - 1) for n in range(10, 1, -1)]
    assert descent(track(11, "loop", 10), [*chain, SOURCE], {1}) is Descent.DERIVED


def test_a_track_of_another_lineage_is_unrelated() -> None:
    """A track whose ancestors do not include a source is unrelated."""
    assert descent(track(3, "extend_song", 9), [track(9)], {1}) is Descent.UNRELATED


def test_a_track_made_from_a_recorded_stem_of_an_uploaded_source_is_derived() -> None:
    """An uploaded source has no track; its stems are the sources."""
    upload_stem = track(2, "stems", None)
    assert descent(track(3, "loop", 2), [upload_stem], {2}) is Descent.DERIVED


# --- phases -------------------------------------------------------------------------------------


def test_submissions_are_taken_inside_the_window() -> None:
    """Submissions phase, between opening and the deadline: no refusal."""
    assert submission_refusal(contest(), OPENS) is None


def test_submissions_are_refused_in_a_draft_with_the_opening_time() -> None:
    """A draft says when submissions open."""
    refusal = submission_refusal(contest(ContestPhase.DRAFT), NOW)
    assert (
        refusal == "Contest #5 is not taking entries yet: submissions open at 2026-03-11 12:00 UTC."
    )


def test_submissions_are_refused_at_the_deadline_before_the_scheduler_runs() -> None:
    """Still in its submissions phase, but the deadline has passed."""
    refusal = submission_refusal(contest(), VOTING)
    assert refusal == "Submissions to contest #5 closed at 2026-03-14 12:00 UTC."


def test_submissions_are_refused_while_voting() -> None:
    """Voting says so."""
    assert submission_refusal(contest(ContestPhase.VOTING), VOTING) == (
        "Submissions to contest #5 closed at 2026-03-14 12:00 UTC; voting is open."
    )


def test_submissions_are_refused_after_a_cancel() -> None:
    """A cancelled contest says it was cancelled."""
    assert submission_refusal(contest(ContestPhase.CANCELLED), NOW) == "Contest #5 was cancelled."


def test_votes_are_taken_while_voting() -> None:
    """Voting phase, between opening and close: no refusal."""
    assert voting_refusal(contest(ContestPhase.VOTING), VOTING) is None


def test_votes_are_refused_before_voting_with_its_opening() -> None:
    """During submissions, the refusal says when voting opens."""
    assert voting_refusal(contest(), NOW) == "Voting in contest #5 opens at 2026-03-14 12:00 UTC."


def test_votes_are_refused_at_the_close_before_the_scheduler_runs() -> None:
    """Still voting, but the close time has passed."""
    refusal = voting_refusal(contest(ContestPhase.VOTING), CLOSES)
    assert refusal == "Voting in contest #5 closed at 2026-03-16 12:00 UTC."


def test_votes_are_refused_once_closed() -> None:
    """A closed contest has ended."""
    assert voting_refusal(contest(ContestPhase.CLOSED), CLOSES) == "Contest #5 has ended."


# --- joining before voting ----------------------------------------------------------------------


def test_without_the_join_rule_anyone_may_vote() -> None:
    """The rule is off: a member who joined after voting opened may vote."""
    assert joined_too_late(contest(), VOTING + timedelta(hours=1)) is None


def test_a_member_who_joined_before_voting_opened_may_vote() -> None:
    """Joined a second before voting opened: allowed."""
    rules = contest(voters_joined_before_voting=True)
    assert joined_too_late(rules, VOTING - timedelta(seconds=1)) is None


def test_a_member_who_joined_as_voting_opened_may_not_vote() -> None:
    """Joining at the very instant voting opened is too late."""
    rules = contest(voters_joined_before_voting=True)
    refusal = joined_too_late(rules, VOTING)
    assert refusal is not None and refusal.endswith("you joined at 2026-03-14 12:00 UTC.")


def test_a_member_whose_join_time_is_unknown_may_not_vote_under_the_rule() -> None:
    """No join time: the rule cannot be met."""
    refusal = joined_too_late(contest(voters_joined_before_voting=True), None)
    assert refusal is not None and refusal.endswith("when you joined is not known.")


# --- ranking and points -------------------------------------------------------------------------


def test_the_points_table_is_ten_six_four_two_one() -> None:
    """Ranks 1 to 5 score 10, 6, 4, 2, 1."""
    assert [points_for(n, 1) for n in range(1, 6)] == list(POINTS_BY_RANK) == [10, 6, 4, 2, 1]


def test_a_rank_after_five_scores_nothing() -> None:
    """Rank 6 is out of the points."""
    assert points_for(6, 3) == 0


def test_an_entry_without_votes_scores_nothing() -> None:
    """Even ranked first, no votes means no points."""
    assert points_for(1, 0) == 0


def test_entries_are_ranked_by_votes_most_first() -> None:
    """3, 7 and 5 votes rank as 7, 5, 3."""
    standings = rank([entry(1, 3), entry(2, 7), entry(3, 5)])
    assert [(s.rank, s.entry.id, s.votes) for s in standings] == [(1, 2, 7), (2, 3, 5), (3, 1, 3)]


def test_equal_votes_share_a_rank_and_the_next_rank_skips() -> None:
    """5, 5, 3 rank 1, 1, 3."""
    standings = rank([entry(1, 5), entry(2, 5), entry(3, 3)])
    assert [s.rank for s in standings] == [1, 1, 3]


def test_among_equal_votes_the_earlier_submission_comes_first() -> None:
    """Entry 2 was submitted before entry 1, so it is listed first in their shared rank."""
    standings = rank([entry(1, 4, minute=30), entry(2, 4, minute=10)])
    assert [s.entry.id for s in standings] == [2, 1]


def test_among_equal_votes_and_times_the_lower_id_comes_first() -> None:
    """Same votes and same submission time: the lower entry id first."""
    standings = rank([entry(2, 4, minute=1), entry(1, 4, minute=1)])
    assert [s.entry.id for s in standings] == [1, 2]


def test_a_shared_rank_gives_each_entry_its_points() -> None:
    """Two entries tied first score 10 each; the next, ranked 3, scores 4."""
    standings = rank([entry(1, 5), entry(2, 5), entry(3, 3)])
    assert [s.points for s in standings] == [10, 10, 4]


def test_disqualified_entries_are_not_ranked() -> None:
    """The disqualified entry with the most votes is left out."""
    standings = rank([entry(1, 9, disqualified="stolen"), entry(2, 1)])
    assert [(s.rank, s.entry.id) for s in standings] == [(1, 2)]


def test_winners_are_the_first_ranked_with_votes() -> None:
    """Both tied first are winners; a contest without votes has none."""
    tied = ContestResults(contest(ContestPhase.CLOSED), rank([entry(1, 2), entry(2, 2)]), ())
    silent = ContestResults(contest(ContestPhase.CLOSED), rank([entry(1, 0)]), ())
    assert [w.entry.id for w in tied.winners] == [1, 2] and silent.winners == ()


# --- the season ---------------------------------------------------------------------------------


def test_a_season_adds_up_points_across_contests() -> None:
    """Winning one contest and coming second in another gives 16 points and one win."""
    first = [entry(1, 5, user_id=10), entry(2, 2, user_id=20)]
    second = [entry(3, 1, user_id=10), entry(4, 4, user_id=20)]
    table = season_table([first, second])
    assert [(r.user_id, r.points, r.wins, r.contests) for r in table] == [
        (10, 16, 1, 2),
        (20, 16, 1, 2),
    ]


def test_a_member_scores_only_their_best_entry_in_a_contest() -> None:
    """Ranked first and third in one contest: 10 points, not 14."""
    entries = [entry(1, 5, user_id=10), entry(2, 3, user_id=20), entry(3, 1, user_id=10)]
    table = season_table([entries])
    assert [(r.user_id, r.points) for r in table] == [(10, 10), (20, 6)]


def test_equal_points_are_ordered_by_wins_then_user_id() -> None:
    """Three winners (10 points, one win each) by id, then 10 and 20 (10 points, no win)."""
    one = [entry(1, 9, user_id=30), entry(2, 5, user_id=20), entry(3, 4, user_id=10)]
    two = [entry(4, 9, user_id=40), entry(5, 5, user_id=10), entry(6, 4, user_id=20)]
    three = [entry(7, 9, user_id=50), entry(8, 5, user_id=60)]
    table = season_table([one, two, three])
    assert [r.user_id for r in table][:5] == [30, 40, 50, 10, 20]


# --- the CSV export -----------------------------------------------------------------------------


def exported(results: ContestResults, names: dict[int, str]) -> list[list[str]]:
    return list(csv.reader(io.StringIO(results_csv(results, names))))


def test_the_csv_lists_ranked_entries_with_authors_and_votes() -> None:
    """Header, then each standing: rank, number, author, track, time, votes, points."""
    results = ContestResults(contest(ContestPhase.CLOSED), rank([entry(1, 2), entry(2, 5)]), ())
    rows = exported(results, {1: "alice", 2: "bob"})
    assert rows[0] == [
        "rank",
        "entry",
        "author_id",
        "author",
        "track_id",
        "upload",
        "submitted_at",
        "votes",
        "points",
        "disqualified",
    ]
    assert rows[1] == ["1", "2", "2", "bob", "102", "", "2026-03-11T12:02:00+00:00", "5", "10", ""]
    assert rows[2][:4] == ["2", "1", "1", "alice"]


def test_the_csv_lists_disqualified_entries_last_with_their_reason() -> None:
    """A disqualified entry has no rank and no points, and says why."""
    out = entry(3, 4, disqualified="not a remix")
    results = ContestResults(contest(ContestPhase.CLOSED), rank([entry(1, 1), out]), (out,))
    last = exported(results, {})[-1]
    assert (last[0], last[2], last[8], last[9]) == ("", "3", "", "not a remix")


def test_the_csv_defuses_cells_a_spreadsheet_would_run() -> None:
    """An author named like a formula is written with a leading quote."""
    results = ContestResults(contest(ContestPhase.CLOSED), rank([entry(1, 1)]), ())
    assert exported(results, {1: "=HYPERLINK(1)"})[1][3] == "'=HYPERLINK(1)"


# --- when a member types a time, and announcing after downtime --------------------------------


@pytest.mark.parametrize(
    ("typed", "after"),
    [
        ("3d", timedelta(days=3)),
        ("1d 12h", timedelta(days=1, hours=12)),
        ("90m", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
        ("1D12H", timedelta(days=1, hours=12)),
    ],
)
def test_a_length_is_read_after_the_given_instant(typed: str, after: timedelta) -> None:
    """`3d`, `1d 12h`, `90m`, `2w` (any case) are lengths after the instant given."""
    assert moment(typed, after=NOW, what="voting") == NOW + after


@pytest.mark.parametrize(
    ("typed", "instant"),
    [
        ("2026-12-05 18:00", datetime(2026, 12, 5, 18, 0, tzinfo=UTC)),
        ("2026-12-05T18:00", datetime(2026, 12, 5, 18, 0, tzinfo=UTC)),
        ("2026-12-05", datetime(2026, 12, 5, tzinfo=UTC)),
    ],
)
def test_a_date_is_read_in_utc(typed: str, instant: datetime) -> None:
    """A date, with or without a time, is an instant in UTC, whatever `after` is."""
    assert moment(typed, after=NOW, what="voting") == instant


@pytest.mark.parametrize("typed", ["soon", "3x", "3d tomorrow", "2026-13-01", "-3d"])
def test_what_is_neither_a_length_nor_a_date_is_refused_by_name(typed: str) -> None:
    """The refusal names the option and shows both accepted forms."""
    with pytest.raises(InvalidInput, match=r"`voting: .*` is neither a length .* nor a UTC date"):
        moment(typed, after=NOW, what="voting")


def test_an_empty_time_is_refused() -> None:
    """Nothing typed is refused with what to type."""
    with pytest.raises(InvalidInput, match="Say when for `voting`"):
        moment("  ", after=NOW, what="voting")


def transition(contest_id: int, after: ContestPhase) -> Transition:
    before = contest(id=contest_id)
    return Transition(contest(id=contest_id), before.phase, after, NOW, NOW)


def test_latest_states_keep_each_contests_last_transition() -> None:
    """Contest 1 went to voting then closed, contest 2 opened: one each, the last of each."""
    found = latest_states(
        [
            transition(1, ContestPhase.VOTING),
            transition(2, ContestPhase.SUBMISSIONS),
            transition(1, ContestPhase.CLOSED),
        ]
    )
    assert [(t.contest.id, t.after) for t in found] == [
        (2, ContestPhase.SUBMISSIONS),
        (1, ContestPhase.CLOSED),
    ]
