"""What contest messages say: the card's rules line and stems, anonymous entries, and the
results with ties, no winner, disqualifications and the winner role."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import discord

from bot.jobs.contests import BallotEntry, ContestResults, LeaderboardRow, rank
from bot.storage import ContestCounts, ContestPhase, Entry
from cogs.contests.cards import (
    contest_embed,
    entry_embed,
    leaderboard_embed,
    results_embed,
    rules_line,
    stems_text,
)
from tests.unit.jobs.test_contests import contest

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)


def entry(entry_id: int, user_id: int, votes: int, number: int) -> Entry:
    return Entry(
        id=entry_id,
        contest_id=5,
        user_id=user_id,
        track_id=entry_id,
        upload=None,
        submitted_at=NOW + timedelta(minutes=entry_id),
        number=number,
        final_votes=votes,
        disqualified_at=None,
        disqualified_by=None,
        disqualified_reason=None,
    )


def results(*entries: Entry) -> ContestResults:
    closed = contest(phase=ContestPhase.CLOSED)
    kept = [e for e in entries if not e.disqualified]
    return ContestResults(closed, rank(kept), tuple(e for e in entries if e.disqualified))


def text_of(embed: discord.Embed) -> str:
    data = embed.to_dict()
    parts = [str(data.get("title", "")), str(data.get("description", ""))]
    parts += [f"{f['name']} {f['value']}" for f in data.get("fields", [])]
    parts.append(str(data.get("footer", {}).get("text", "")))
    return "\n".join(parts)


def test_the_rules_line_says_each_setting() -> None:
    """Two entries, any track, uploads, three votes and the join rule are all spelled out."""
    line = rules_line(
        contest(
            entries_per_member=2,
            derived_only=False,
            uploads_allowed=True,
            votes_per_member=3,
            voters_joined_before_voting=True,
        )
    )
    assert line == (
        "2 entries per member · any track made here · uploads accepted · 3 votes per member · "
        "voters must have joined before voting opened"
    )


def test_a_stem_pack_whose_job_ended_without_stems_says_so() -> None:
    """No stems and a settled job: "not made", never "being made" forever."""
    assert stems_text(contest(stems_key="k"), (), settled=True).startswith("not made")
    assert stems_text(contest(stems_key="k"), ()).startswith("being made")
    assert stems_text(contest(), ()) == "none"


def test_the_card_shows_deadlines_as_discord_timestamps() -> None:
    """The deadlines are `<t:…>` timestamps each member reads in their own time zone."""
    embed = contest_embed(contest(), ContestCounts(2, 0, 0), source=None, stems=())
    text = text_of(embed)
    assert f"<t:{int(contest().closes_at.timestamp())}:f>" in text
    assert "2 entries" in text and "Taking entries" in text


def test_an_entry_shows_its_number_and_no_author() -> None:
    """An entry is "Entry 3": no mention, no tally."""
    text = text_of(entry_embed(contest(), BallotEntry(3, 7, None), None))
    assert "Entry 3" in text and "<@" not in text and "vote" not in text.split("\n")[0]


def test_a_three_way_tie_shares_first_place() -> None:
    """Equal votes: each is 🥇, they share first place, and the footer states the tie rule."""
    text = text_of(
        results_embed(results(entry(1, 11, 1, 1), entry(2, 12, 1, 2), entry(3, 13, 1, 3)))
    )
    assert text.count("🥇") == 3 and "share first place" in text
    assert "Equal votes share a rank (1, 1, 3)" in text


def test_no_votes_means_no_winner() -> None:
    """Entries without a vote rank, but nobody wins."""
    assert "No entry got a vote: no winner." in text_of(results_embed(results(entry(1, 11, 0, 1))))


def test_a_disqualified_entry_is_listed_apart() -> None:
    """A disqualified entry is not ranked and is named under Disqualified."""
    out = replace(entry(2, 12, 0, 2), disqualified_at=NOW, disqualified_reason="copied")
    text = text_of(results_embed(results(entry(1, 11, 2, 1), out)))
    assert "🥇 **Entry 1** by <@11>: 2 votes · 10 pts" in text
    assert "Disqualified Entry 2 by <@12>" in text


def test_the_winner_roles_outcome_is_shown() -> None:
    """What happened with the winner role is its own field."""
    embed = results_embed(results(entry(1, 11, 2, 1)), "<@11> now has <@&9>.")
    assert "Winner role <@11> now has <@&9>." in text_of(embed)


def test_an_empty_leaderboard_says_why() -> None:
    """A season without results says so, and the points rule is in the footer."""
    text = text_of(leaderboard_embed("Winter", ()))
    assert "No closed contest in this season" in text and "1. 10" in text


def test_a_leaderboard_row_shows_points_wins_and_contests() -> None:
    """Each row: the member, their points, wins and contests placed in."""
    text = text_of(leaderboard_embed("Winter", (LeaderboardRow(11, 16, 1, 2),)))
    assert "🥇 <@11>: 16 pts · 1 win · 2 contests" in text
