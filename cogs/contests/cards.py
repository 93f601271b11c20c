"""What a contest looks like in Discord: its card, an anonymous entry, the results and a
season's leaderboard. Pure functions of what the core returns; nothing here posts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import discord

from bot.jobs.contests import (
    POINTS_BY_RANK,
    BallotEntry,
    ContestResults,
    LeaderboardRow,
)
from bot.storage import Contest, ContestCounts, ContestPhase, Track
from bot.ui.result_card import message_link
from bot.ui.text import shown
from bot.words import counted

CONTEST_COLOUR = discord.Colour.from_rgb(255, 176, 32)
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
PHASE_WORDS = {
    ContestPhase.DRAFT: "📝 Opens soon",
    ContestPhase.SUBMISSIONS: "🎛️ Taking entries",
    ContestPhase.VOTING: "🗳️ Voting",
    ContestPhase.CLOSED: "🏁 Closed",
    ContestPhase.ARCHIVED: "📦 Archived",
    ContestPhase.CANCELLED: "✖️ Cancelled",
}
TIE_RULE = "Equal votes share a rank (1, 1, 3); among them the earlier submission is listed first."
POINTS_RULE = "Season points by rank: " + ", ".join(
    f"{rank}. {points}" for rank, points in enumerate(POINTS_BY_RANK, start=1)
)
STANDINGS_SHOWN = 20
STEMS_SHOWN = 8


def stamp(instant: datetime, style: str = "f") -> str:
    """A Discord timestamp: each member reads it in their own time zone."""
    return f"<t:{int(instant.timestamp())}:{style}>"


class ContestRules(Protocol):
    """What a contest allows, as a contest and the draft of one both say it."""

    @property
    def entries_per_member(self) -> int: ...
    @property
    def derived_only(self) -> bool: ...
    @property
    def uploads_allowed(self) -> bool: ...
    @property
    def votes_per_member(self) -> int: ...
    @property
    def voters_joined_before_voting(self) -> bool: ...


def rules_line(contest: ContestRules) -> str:
    """`1 entry per member · made from the source · no uploads · 1 vote per member`."""
    parts = [
        counted(contest.entries_per_member, "entry", "entries") + " per member",
        "made from the source" if contest.derived_only else "any track made here",
        "uploads accepted" if contest.uploads_allowed else "no uploads",
        counted(contest.votes_per_member, "vote") + " per member",
    ]
    if contest.voters_joined_before_voting:
        parts.append("voters must have joined before voting opened")
    return " · ".join(parts)


def source_text(contest: Contest, source: Track | None) -> str:
    if contest.source_upload is not None:
        return f"`{contest.source_upload.filename}` (uploaded)"
    if source is None:
        return "the source track was deleted"
    link = message_link(source)
    name = f"#{source.id} {shown(source.title, 80)}"
    return f"[{name}]({link})" if link else name


def stems_text(contest: Contest, stems: Sequence[Track], *, settled: bool = False) -> str:
    if stems:
        names = []
        for track in stems[:STEMS_SHOWN]:
            link = message_link(track)
            name = f"#{track.id} {shown(track.title, 40)}"
            names.append(f"[{name}]({link})" if link else name)
        more = len(stems) - STEMS_SHOWN
        return " · ".join(names) + (f" and {more} more" if more > 0 else "")
    if contest.stems_key is None:
        return "none"
    if settled:
        return "not made (the stem pack's job did not finish)"
    return "being made (they appear here when ready)"


def contest_embed(
    contest: Contest,
    counts: ContestCounts,
    *,
    source: Track | None,
    stems: Sequence[Track],
    stems_settled: bool = False,
    winners: Sequence[int] = (),
) -> discord.Embed:
    """The contest card: theme, rules, source and stems, deadlines, counts and phase."""
    embed = discord.Embed(
        title=f"🏆 {shown(contest.title, 200)}",
        description=contest.theme,
        colour=CONTEST_COLOUR,
    )
    if contest.rules:
        embed.add_field(
            name="Rules", value=shown(contest.rules, 1024, one_line=False), inline=False
        )
    embed.add_field(name="How it works", value=rules_line(contest), inline=False)
    embed.add_field(name="Source", value=source_text(contest, source), inline=True)
    embed.add_field(
        name="Stems", value=stems_text(contest, stems, settled=stems_settled), inline=True
    )
    schedule = [
        f"Entries: {stamp(contest.submissions_open_at)} to {stamp(contest.voting_opens_at)}",
        f"Voting: until {stamp(contest.closes_at)}",
    ]
    upcoming = contest.next_transition
    if upcoming is not None and contest.phase in (
        ContestPhase.DRAFT,
        ContestPhase.SUBMISSIONS,
        ContestPhase.VOTING,
    ):
        schedule.append(f"Next change {stamp(upcoming[1], 'R')}")
    embed.add_field(name="Deadlines", value="\n".join(schedule), inline=False)
    tally = counted(counts.entries, "entry", "entries")
    if contest.phase is not ContestPhase.SUBMISSIONS and contest.phase is not ContestPhase.DRAFT:
        tally += f" · {counted(counts.voters, 'voter')}"
    embed.add_field(name="So far", value=tally, inline=True)
    embed.add_field(name="Now", value=PHASE_WORDS[contest.phase], inline=True)
    if winners:
        embed.add_field(
            name="Winner" if len(winners) == 1 else "Winners (tied)",
            value=" ".join(f"<@{user_id}>" for user_id in winners),
            inline=False,
        )
    season = f" · season {contest.season}" if contest.season else ""
    embed.set_footer(text=f"Contest #{contest.id}{season}")
    return embed


def entry_embed(contest: Contest, entry: BallotEntry, audio_link: str | None) -> discord.Embed:
    """An anonymous entry as voters see it: its number, never its author or its votes."""
    embed = discord.Embed(
        title=f"Entry {entry.number}",
        description=f"In **{shown(contest.title, 200)}**. Listen, then vote with the button.",
        colour=CONTEST_COLOUR,
    )
    if audio_link:
        embed.add_field(name="Audio", value=f"[Listen]({audio_link})", inline=False)
    embed.set_footer(text=f"Contest #{contest.id} · votes are secret until voting closes")
    return embed


def results_embed(results: ContestResults, role_note: str | None = None) -> discord.Embed:
    """The results: ranks, authors revealed, votes and points, then disqualifications."""
    contest = results.contest
    lines = []
    for standing in results.standings[:STANDINGS_SHOWN]:
        medal = MEDALS.get(standing.rank, f"{standing.rank}.")
        lines.append(
            f"{medal} **Entry {standing.entry.number}** by <@{standing.entry.user_id}>: "
            f"{counted(standing.votes, 'vote')}"
            + (f" · {standing.points} pts" if standing.points else "")
        )
    if len(results.standings) > STANDINGS_SHOWN:
        lines.append(f"… and {len(results.standings) - STANDINGS_SHOWN} more (`/contest export`)")
    if not lines:
        lines.append("No entries were ranked.")
    embed = discord.Embed(
        title=f"🏁 Results: {shown(contest.title, 200)}",
        description="\n".join(lines),
        colour=CONTEST_COLOUR,
    )
    winners = results.winners
    if winners:
        names = " and ".join(f"<@{s.entry.user_id}>" for s in winners)
        verb = "wins" if len(winners) == 1 else "share first place"
        embed.add_field(name="Winner", value=f"{names} {verb}!", inline=False)
    else:
        embed.add_field(name="Winner", value="No entry got a vote: no winner.", inline=False)
    if results.disqualified:
        embed.add_field(
            name="Disqualified",
            value="\n".join(
                f"Entry {entry.number or '–'} by <@{entry.user_id}>"
                for entry in results.disqualified
            )[:1024],
            inline=False,
        )
    if role_note:
        embed.add_field(name="Winner role", value=role_note, inline=False)
    embed.set_footer(text=f"Contest #{contest.id} · {TIE_RULE}")
    return embed


def leaderboard_embed(season: str, rows: Sequence[LeaderboardRow]) -> discord.Embed:
    """A season's table: points, wins and contests placed in, per member."""
    lines = [
        f"{MEDALS.get(place, f'{place}.')} <@{row.user_id}>: {row.points} pts · "
        f"{counted(row.wins, 'win')} · {counted(row.contests, 'contest')}"
        for place, row in enumerate(rows[:STANDINGS_SHOWN], start=1)
    ]
    embed = discord.Embed(
        title=f"🏆 Leaderboard: {shown(season, 100)}",
        description="\n".join(lines) or "No closed contest in this season has results yet.",
        colour=CONTEST_COLOUR,
    )
    embed.set_footer(text=f"{POINTS_RULE}; each member's best entry per contest counts.")
    return embed
