"""Community remix contests: the rules (who may run one, what may be entered, who may vote,
how entries are ranked and scored) and `ContestService`, which applies them over storage.

A contest moves draft -> submissions -> voting -> closed -> archived at stored times;
`ContestService.advance_due` applies what fell due (the front end calls it on a timer and at
start-up, and announces the transitions it returns). Every refusal a member can read is a
`UserFacingError` that says which rule failed.

Ranking (`rank`): entries are ordered by votes, most first. Entries with equal votes share a
rank (standard competition ranking: 1, 1, 3), and among them the earlier submission is listed
first (then the lower entry id). Disqualified entries are not ranked.

Points (`POINTS_BY_RANK`): rank 1 scores 10, rank 2 scores 6, rank 3 scores 4, rank 4 scores 2,
rank 5 scores 1, later ranks nothing. Entries sharing a rank each score that rank's points; an
entry without votes scores nothing. A season's leaderboard adds up, per member, the points of
their best-placed entry in each closed contest of that season.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from bot.errors import InvalidInput, UserFacingError
from bot.jobs.models import Requester
from bot.jobs.operations import Operation
from bot.storage import FINAL_STATES, Database, Track, TrackRepository
from bot.storage.clock import Clock, SystemClock
from bot.storage.contests import (
    RESULT_PHASES,
    RUNNING_PHASES,
    AuditRecord,
    Conflict,
    Contest,
    ContestConflict,
    ContestCounts,
    ContestPhase,
    ContestPost,
    ContestRepository,
    Entry,
    NewContest,
    PostKind,
    Transition,
    Upload,
)
from bot.storage.database import GuildScope
from bot.words import counted, listed

log = logging.getLogger(__name__)

TITLE_MAX = 100
THEME_MAX = 300
RULES_MAX = 2000
SEASON_MAX = 50
REASON_MAX = 500
WINDOW_MIN = timedelta(minutes=1)
WINDOW_MAX = timedelta(days=90)
OPENING_MAX_AHEAD = timedelta(days=365)
STEMS_ADMISSION_GRACE = timedelta(minutes=2)
"""How long after a contest is created its stem pack's job may take to be admitted."""
SCHEDULER_RECHECK = 60.0
"""Seconds between looks at the schedule when nothing wakes the scheduler sooner."""
ARCHIVE_AFTER = timedelta(days=30)
"""How long a closed contest stays among the server's current ones before it is archived."""
ENTRIES_MAX = 10
VOTES_MAX = 10
POINTS_BY_RANK = (10, 6, 4, 2, 1)
"""Season points for ranks 1, 2, 3, 4 and 5; later ranks score nothing."""
CSV_COLUMNS = (
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
)
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Deadline(StrEnum):
    """A deadline an admin can extend."""

    SUBMISSIONS = "submissions"  # when submissions close and voting opens
    VOTING = "voting"  # when voting closes


class EntryRule(StrEnum):
    """The rule an entry broke."""

    NOT_TAKING_SUBMISSIONS = "not_taking_submissions"
    TRACK_MISSING = "track_missing"
    NOT_YOURS = "not_yours"
    OTHER_SERVER = "other_server"
    OUTSIDE_WINDOW = "outside_window"
    SOURCE_ITSELF = "source_itself"
    NOT_DERIVED = "not_derived"
    UPLOADS_NOT_ALLOWED = "uploads_not_allowed"
    ALREADY_ENTERED = "already_entered"
    ENTRY_LIMIT = "entry_limit"
    DISQUALIFIED = "disqualified"
    NO_ENTRY = "no_entry"


class VoteRule(StrEnum):
    """The rule a vote broke."""

    NOT_VOTING = "not_voting"
    JOINED_TOO_LATE = "joined_too_late"
    NO_SUCH_ENTRY = "no_such_entry"
    DISQUALIFIED_ENTRY = "disqualified_entry"
    SELF_VOTE = "self_vote"
    NO_VOTES_LEFT = "no_votes_left"


class EntryRefused(UserFacingError):
    """An entry (or its withdrawal) was refused; `rule` says which rule failed."""

    def __init__(self, rule: EntryRule, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class VoteRefused(UserFacingError):
    """A vote was refused; `rule` says which rule failed."""

    def __init__(self, rule: VoteRule, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class ContestNotFound(UserFacingError):
    """No such contest in the member's server (another server's contests are not shown)."""

    def __init__(self, contest_id: int) -> None:
        super().__init__(f"Contest #{contest_id} does not exist in this server.")
        self.contest_id = contest_id


class NotAllowed(UserFacingError):
    """The member may not run contests in this server."""


class ContestChanged(UserFacingError):
    """The contest changed between reading it and acting on it (another admin, or a deadline)."""

    def __init__(self, contest_id: int) -> None:
        super().__init__(
            f"Contest #{contest_id} changed meanwhile (a deadline passed, or another admin acted "
            "on it); look at it again and retry."
        )


class Descent(StrEnum):
    """How a track relates to a contest's source tracks."""

    DERIVED = "derived"  # made from a source: extended, looped, remixed, varied, at any depth
    SOURCE = "source"  # a source track itself
    SEPARATED = "separated"  # only stems split from a source, with nothing made of them
    UNRELATED = "unrelated"


@dataclass(frozen=True)
class ContestDraft:
    """What an admin sets when creating a contest.

    `submissions_open_at` None opens submissions at once. Submissions close (and voting opens)
    at `voting_opens_at`; voting closes at `closes_at`. `windows` builds these from durations.
    Exactly one of `source_track_id` and `source_upload` names the source.
    """

    title: str
    theme: str
    voting_opens_at: datetime
    closes_at: datetime
    rules: str = ""
    source_track_id: int | None = None
    source_upload: Upload | None = None
    submissions_open_at: datetime | None = None
    channel_id: int | None = None
    entries_per_member: int = 1
    derived_only: bool = True
    uploads_allowed: bool = False
    """Uploads carry no lineage, so an allowed upload is accepted without the derivation check."""
    winner_role_id: int | None = None
    votes_per_member: int = 1
    voters_joined_before_voting: bool = False
    season: str | None = None
    archive_after: timedelta = ARCHIVE_AFTER
    stems_key: str | None = None
    """The interaction key of the job making the source's stem pack, whose tracks then count
    among the sources."""


def windows(
    start: datetime, submissions: timedelta, voting: timedelta
) -> tuple[datetime, datetime, datetime]:
    """(submissions open, voting opens, voting closes) for windows given as durations."""
    return start, start + submissions, start + submissions + voting


@dataclass(frozen=True)
class Standing:
    """A ranked entry in a closed contest's results."""

    rank: int
    entry: Entry
    votes: int
    points: int


@dataclass(frozen=True)
class ContestResults:
    """A closed contest's results: ranked entries with their authors, and those disqualified."""

    contest: Contest
    standings: tuple[Standing, ...]
    disqualified: tuple[Entry, ...]

    @property
    def winners(self) -> tuple[Standing, ...]:
        """The entries ranked first with at least one vote (several on a tie; none without
        votes)."""
        return tuple(s for s in self.standings if s.rank == 1 and s.votes > 0)


@dataclass(frozen=True)
class LeaderboardRow:
    """A member's standing in a season: points, contests won, contests placed in."""

    user_id: int
    points: int
    wins: int
    contests: int


@dataclass(frozen=True)
class BallotEntry:
    """An entry as voters see it: its number and its audio, never its author or its votes."""

    number: int
    track_id: int | None
    upload: Upload | None


@dataclass(frozen=True)
class SubmitReceipt:
    """A member's entry as recorded, and the entry it replaced (one entry per member)."""

    entry: Entry
    replaced: Entry | None


@dataclass(frozen=True)
class VoteReceipt:
    """A member's vote as recorded: "Your vote: Entry 3" (and the entry it replaced)."""

    number: int
    slot: int
    replaced_number: int | None
    unchanged: bool


@dataclass(frozen=True)
class Disqualification:
    """An entry taken out, and the members whose votes for it were returned to them."""

    entry: Entry
    voters_returned: tuple[int, ...] = field(default=())


# --- rules --------------------------------------------------------------------------------------


def check_draft(draft: ContestDraft, now: datetime) -> None:
    """Refuse a draft that breaks a rule, saying which (`InvalidInput`)."""
    _check_text("title", draft.title, TITLE_MAX, required=True)
    _check_text("theme", draft.theme, THEME_MAX, required=True)
    _check_text("rules", draft.rules, RULES_MAX, required=False)
    if draft.season is not None:
        _check_text("season name", draft.season, SEASON_MAX, required=True)
    if (draft.source_track_id is None) == (draft.source_upload is None):
        raise InvalidInput("Choose one source: a track from this server's history or an upload.")
    _check_count("entries per member", draft.entries_per_member, ENTRIES_MAX)
    _check_count("votes per member", draft.votes_per_member, VOTES_MAX)
    _check_schedule(draft, now)
    if not timedelta(0) <= draft.archive_after <= timedelta(days=365):
        raise InvalidInput("A closed contest is archived between 0 and 365 days after it closes.")


def _check_text(name: str, text: str, longest: int, *, required: bool) -> None:
    if required and not text.strip():
        raise InvalidInput(f"The {name} cannot be empty.")
    if len(text) > longest:
        raise InvalidInput(f"The {name} is {len(text)} characters long; at most {longest}.")


def _check_count(name: str, value: int, most: int) -> None:
    if not 1 <= value <= most:
        raise InvalidInput(f"{name.capitalize()} must be between 1 and {most} (not {value}).")


def _check_schedule(draft: ContestDraft, now: datetime) -> None:
    opens = draft.submissions_open_at or now
    if opens < now:
        raise InvalidInput(f"Submissions cannot open in the past ({when(opens)}).")
    if opens - now > OPENING_MAX_AHEAD:
        raise InvalidInput("Submissions must open within a year.")
    _check_window("Submissions", opens, draft.voting_opens_at)
    _check_window("Voting", draft.voting_opens_at, draft.closes_at)


def _check_window(what: str, start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidInput(
            f"{what} must close after they open: they would open at {when(start)} and close at "
            f"{when(end)}."
        )
    if end - start < WINDOW_MIN:
        raise InvalidInput(f"{what} must stay open for at least a minute.")
    if end - start > WINDOW_MAX:
        raise InvalidInput(f"{what} can stay open for at most {WINDOW_MAX.days} days.")


_DURATION = re.compile(r"\s*(\d{1,4})\s*(w|d|h|m)\s*", re.IGNORECASE)
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


def moment(text: str, *, after: datetime, what: str) -> datetime:
    """The instant `text` names, for the option `what`: a length of time after `after`
    (`3d`, `1d 12h`, `90m`, `2w`) or a date in UTC (`2026-12-05 18:00`, `2026-12-05`)."""
    typed = text.strip()
    if not typed:
        raise InvalidInput(f"Say when for `{what}`: a length such as `3d` or a UTC date.")
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(typed, form).replace(tzinfo=UTC)
        except ValueError:
            continue
    parts = list(_DURATION.finditer(typed))
    if not parts or "".join(part[0] for part in parts) != typed:
        raise InvalidInput(
            f"`{what}: {typed}` is neither a length (such as `3d`, `1d 12h`, `90m`, `2w`) nor a "
            "UTC date (`2026-12-05 18:00`)."
        )
    length = sum(
        (int(part[1]) * _UNITS.get(part[2].lower(), timedelta(minutes=1)) for part in parts),
        timedelta(0),
    )
    return after + length


def when(instant: datetime) -> str:
    """An instant as members read it in a message: `2026-03-11 12:00 UTC`."""
    return instant.strftime("%Y-%m-%d %H:%M UTC")


def may_manage(actor: Requester, guild_id: int, manager_role_id: int | None) -> bool:
    """Whether `actor` may run the contests of `guild_id`: in that server, with Manage Server
    or the server's contest-manager role."""
    if actor.guild_id != guild_id:
        return False
    return actor.manages_guild or (
        manager_role_id is not None and manager_role_id in actor.role_ids
    )


def descent(track: Track, ancestors: Sequence[Track], sources: Iterable[int]) -> Descent:
    """How `track` (with its `ancestors`, parent first) relates to the contest's source tracks.

    Derived means a source is among its ancestors and something other than a stem separation
    was made on the way down from it: an extension, loop, remix or variation of the source or
    of one of its stems, at any depth. A source itself, or stems split from one (and nothing
    more), is not derived.
    """
    wanted = set(sources)
    if track.id in wanted:
        return Descent.SOURCE
    found = [index for index, ancestor in enumerate(ancestors) if ancestor.id in wanted]
    if not found:
        return Descent.UNRELATED
    below_source = [track, *ancestors[: max(found)]]
    if all(step.operation == Operation.STEMS.value for step in below_source):
        return Descent.SEPARATED
    return Descent.DERIVED


def submission_refusal(contest: Contest, now: datetime) -> str | None:
    """Why the contest is not taking submissions at `now`, or None when it is."""
    opening, closing = contest.submissions_open_at, contest.voting_opens_at
    waiting = contest.phase is ContestPhase.DRAFT or (
        contest.phase is ContestPhase.SUBMISSIONS and now < opening
    )
    if waiting:
        return (
            f"Contest #{contest.id} is not taking entries yet: submissions open at {when(opening)}."
        )
    if contest.phase is ContestPhase.SUBMISSIONS and now >= closing:
        return f"Submissions to contest #{contest.id} closed at {when(closing)}."
    if contest.phase is ContestPhase.SUBMISSIONS:
        return None
    if contest.phase is ContestPhase.VOTING:
        return f"Submissions to contest #{contest.id} closed at {when(closing)}; voting is open."
    return _ended(contest)


def voting_refusal(contest: Contest, now: datetime) -> str | None:
    """Why the contest is not taking votes at `now`, or None when it is."""
    name = f"contest #{contest.id}"
    if contest.phase in (ContestPhase.DRAFT, ContestPhase.SUBMISSIONS) or (
        contest.phase is ContestPhase.VOTING and now < contest.voting_opens_at
    ):
        return f"Voting in {name} opens at {when(contest.voting_opens_at)}."
    if contest.phase is ContestPhase.VOTING and now >= contest.closes_at:
        return f"Voting in {name} closed at {when(contest.closes_at)}."
    if contest.phase is ContestPhase.VOTING:
        return None
    return _ended(contest)


def _ended(contest: Contest) -> str:
    if contest.phase is ContestPhase.CANCELLED:
        return f"Contest #{contest.id} was cancelled."
    return f"Contest #{contest.id} has ended."


def joined_too_late(contest: Contest, joined_at: datetime | None) -> str | None:
    """Why a member who joined the server at `joined_at` may not vote, or None when they may."""
    if not contest.voters_joined_before_voting:
        return None
    rule = (
        "Only members who joined this server before voting opened "
        f"({when(contest.voting_opens_at)}) may vote in this contest"
    )
    if joined_at is None:
        return f"{rule}, and when you joined is not known."
    if joined_at >= contest.voting_opens_at:
        return f"{rule}; you joined at {when(joined_at)}."
    return None


def points_for(rank: int, votes: int) -> int:
    """The season points of an entry ranked `rank` with `votes` (see `POINTS_BY_RANK`)."""
    if votes <= 0 or rank > len(POINTS_BY_RANK):
        return 0
    return POINTS_BY_RANK[rank - 1]


def rank(entries: Iterable[Entry]) -> tuple[Standing, ...]:
    """The standings of a closed contest's entries (their frozen `final_votes`).

    Most votes first. Equal votes share a rank (1, 1, 3: the next rank skips the places the
    tie took), and among them the earlier submission comes first, then the lower entry id.
    Disqualified entries are left out.
    """
    ordered = sorted(
        (entry for entry in entries if not entry.disqualified),
        key=lambda entry: (-(entry.final_votes or 0), entry.submitted_at, entry.id),
    )
    standings: list[Standing] = []
    for place, entry in enumerate(ordered, start=1):
        votes = entry.final_votes or 0
        shared = standings and standings[-1].votes == votes
        position = standings[-1].rank if shared else place
        standings.append(Standing(position, entry, votes, points_for(position, votes)))
    return tuple(standings)


def season_table(contests: Iterable[Sequence[Entry]]) -> tuple[LeaderboardRow, ...]:
    """A season's leaderboard from the entries of each of its closed contests.

    Each member scores their best-placed entry per contest. Ordered by points, then contests
    won, then user id.
    """
    totals: dict[int, list[int]] = {}  # user id -> [points, wins, contests]
    for entries in contests:
        best: dict[int, Standing] = {}
        for standing in rank(entries):
            best.setdefault(standing.entry.user_id, standing)  # standings run best first
        for user_id, standing in best.items():
            row = totals.setdefault(user_id, [0, 0, 0])
            row[0] += standing.points
            row[1] += standing.rank == 1 and standing.votes > 0
            row[2] += 1
    rows = [LeaderboardRow(user_id, *values) for user_id, values in totals.items()]
    return tuple(sorted(rows, key=lambda row: (-row.points, -row.wins, row.user_id)))


def results_csv(results: ContestResults, author_names: Mapping[int, str]) -> str:
    """The contest as CSV (`CSV_COLUMNS`): ranked entries, then disqualified ones.

    Cells that a spreadsheet would run as a formula are prefixed with `'`.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for standing in results.standings:
        writer.writerow(_csv_row(standing.entry, author_names, standing))
    for entry in results.disqualified:
        writer.writerow(_csv_row(entry, author_names, None))
    return buffer.getvalue()


def _csv_row(entry: Entry, author_names: Mapping[int, str], standing: Standing | None) -> list[str]:
    cells: list[object] = [
        "" if standing is None else standing.rank,
        "" if entry.number is None else entry.number,
        entry.user_id,
        author_names.get(entry.user_id, ""),
        "" if entry.track_id is None else entry.track_id,
        "" if entry.upload is None else entry.upload.filename,
        entry.submitted_at.isoformat(),
        "" if entry.final_votes is None else entry.final_votes,
        "" if standing is None else standing.points,
        entry.disqualified_reason or "",
    ]
    return [_safe_cell(str(cell)) for cell in cells]


def _safe_cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# --- the service --------------------------------------------------------------------------------


class ContestService:
    """Contests as members and admins use them, over one database and one clock."""

    def __init__(
        self, database: Database, clock: Clock | None = None, scope: GuildScope | None = None
    ) -> None:
        """`scope`: the guilds this process serves, whose phases it moves and announces (all
        of them without it)."""
        self._contests = ContestRepository(database, scope)
        self._tracks = TrackRepository(database, clock)
        self._clock = clock or SystemClock()

    @property
    def clock(self) -> Clock:
        """The clock contests run on."""
        return self._clock

    # --- the scheduler ------------------------------------------------------------------

    async def advance_due(self) -> tuple[Transition, ...]:
        """Apply every transition that has fallen due (several per contest if the bot was down
        past several deadlines), each exactly once; returns them, for announcing."""
        return tuple(await self._contests.advance_due(self._clock.now()))

    async def next_due(self) -> datetime | None:
        """When the next transition of any contest is due (for the scheduler to wake up)."""
        return await self._contests.next_due_at()

    # --- admins -------------------------------------------------------------------------

    async def create(self, actor: Requester, draft: ContestDraft) -> Contest:
        """Create a contest in the actor's server (Manage Server or the contest-manager role)."""
        if actor.guild_id is None:
            raise InvalidInput("Contests run in a server, not in direct messages.")
        await self._require_manager(actor, actor.guild_id)
        now = self._clock.now()
        check_draft(draft, now)
        if draft.source_track_id is not None:
            await self._server_track(draft.source_track_id, actor.guild_id)
        opens, archive = draft.submissions_open_at or now, draft.closes_at + draft.archive_after
        return await self._contests.create(
            NewContest(
                guild_id=actor.guild_id,
                creator_id=actor.user_id,
                title=draft.title.strip(),
                theme=draft.theme.strip(),
                rules=draft.rules.strip(),
                submissions_open_at=opens,
                voting_opens_at=draft.voting_opens_at,
                closes_at=draft.closes_at,
                archive_at=archive,
                shuffle_seed=secrets.randbits(62),
                source_track_id=draft.source_track_id,
                source_upload=draft.source_upload,
                channel_id=draft.channel_id,
                entries_per_member=draft.entries_per_member,
                derived_only=draft.derived_only,
                uploads_allowed=draft.uploads_allowed,
                winner_role_id=draft.winner_role_id,
                votes_per_member=draft.votes_per_member,
                voters_joined_before_voting=draft.voters_joined_before_voting,
                season=None if draft.season is None else draft.season.strip(),
                stems_key=draft.stems_key,
            ),
            now,
        )

    async def add_source_stems(
        self, actor: Requester, contest_id: int, track_ids: Sequence[int]
    ) -> frozenset[int]:
        """Count the source's stems (tracks of this server) among what entries may descend
        from, before voting opens; returns every such track."""
        contest = await self._managed(actor, contest_id)
        if contest.phase not in (ContestPhase.DRAFT, ContestPhase.SUBMISSIONS):
            raise UserFacingError(
                f"Stems can be added to contest #{contest.id} only before voting opens."
            )
        for track_id in track_ids:
            await self._server_track(track_id, contest.guild_id)
        return await self._contests.add_sources(
            contest.id, track_ids, actor_id=actor.user_id, now=self._clock.now()
        )

    async def edit(
        self,
        actor: Requester,
        contest_id: int,
        *,
        theme: str | None = None,
        rules: str | None = None,
    ) -> Contest:
        """Change the theme and/or rules, only while submissions have not opened."""
        contest = await self._managed(actor, contest_id)
        theme = contest.theme if theme is None else theme.strip()
        rules = contest.rules if rules is None else rules.strip()
        _check_text("theme", theme, THEME_MAX, required=True)
        _check_text("rules", rules, RULES_MAX, required=False)
        now = self._clock.now()
        edited = await self._contests.edit_text(
            contest.id, theme=theme, rules=rules, actor_id=actor.user_id, now=now
        )
        if edited is None:
            raise UserFacingError(
                f"The theme and rules of contest #{contest.id} can change only before "
                f"submissions open (they opened at {when(contest.submissions_open_at)})."
            )
        return edited

    async def extend(
        self, actor: Requester, contest_id: int, deadline: Deadline, by: timedelta
    ) -> Contest:
        """Move a deadline later by `by`, before it has passed. Extending submissions moves
        voting (and the archive) along, so voting keeps its length; extending voting moves
        the close (and the archive)."""
        contest = await self._managed(actor, contest_id)
        if not timedelta(0) < by <= WINDOW_MAX:
            raise InvalidInput(
                f"A deadline is extended by more than 0 and at most {WINDOW_MAX.days} days."
            )
        now = self._clock.now()
        column: Literal["voting_opens_at", "closes_at"]
        if deadline is Deadline.SUBMISSIONS:
            phases: tuple[ContestPhase, ...] = (ContestPhase.DRAFT, ContestPhase.SUBMISSIONS)
            column, start, end = (
                "voting_opens_at",
                contest.submissions_open_at,
                contest.voting_opens_at,
            )
            voting_opens_at = contest.voting_opens_at + by
            closes_at = contest.closes_at + by
        else:
            phases = RUNNING_PHASES
            column, start, end = "closes_at", contest.voting_opens_at, contest.closes_at
            voting_opens_at = contest.voting_opens_at
            closes_at = contest.closes_at + by
        if contest.phase.ended:
            raise UserFacingError(f"{_ended(contest)} Its deadlines can no longer be extended.")
        if contest.phase not in phases or now >= end:
            raise UserFacingError(
                f"The {deadline.value} deadline of contest #{contest.id} has passed "
                f"({when(end)}); it can no longer be extended."
            )
        if end + by - start > WINDOW_MAX:
            raise InvalidInput(
                f"{deadline.value.capitalize()} would then stay open for more than "
                f"{WINDOW_MAX.days} days."
            )
        moved = await self._contests.reschedule(
            contest,
            deadline=column,
            phases=phases,
            voting_opens_at=voting_opens_at,
            closes_at=closes_at,
            archive_at=contest.archive_at + by,
            actor_id=actor.user_id,
            now=now,
        )
        if moved is None:
            raise ContestChanged(contest.id)
        return moved

    async def close_now(self, actor: Requester, contest_id: int) -> Transition:
        """Close a contest that is voting, before its time; its results are final at once."""
        contest = await self._managed(actor, contest_id)
        if contest.phase is not ContestPhase.VOTING:
            raise UserFacingError(
                f"Only a contest that is voting can be closed early; contest #{contest.id} is "
                f"in its {contest.phase.value} phase."
            )
        closed = await self._contests.close_now(
            contest.id, actor_id=actor.user_id, now=self._clock.now()
        )
        if closed is None:
            raise ContestChanged(contest.id)
        return closed

    async def cancel(self, actor: Requester, contest_id: int, reason: str = "") -> Transition:
        """Cancel a contest that has not closed; it gets no results."""
        contest = await self._managed(actor, contest_id)
        _check_text("reason", reason, REASON_MAX, required=False)
        if contest.phase not in RUNNING_PHASES:
            raise UserFacingError(f"{_ended(contest)} It can no longer be cancelled.")
        cancelled = await self._contests.cancel(
            contest.id, actor_id=actor.user_id, reason=reason.strip(), now=self._clock.now()
        )
        if cancelled is None:
            raise ContestChanged(contest.id)
        return cancelled

    async def disqualify(
        self, actor: Requester, contest_id: int, entry_id: int, reason: str
    ) -> Disqualification:
        """Take an entry out of the contest with a reason (for its author to be told). While
        voting, the votes it had are returned to their voters; after the close, the results
        are ranked again without it."""
        contest = await self._managed(actor, contest_id)
        _check_text("reason", reason, REASON_MAX, required=True)
        entry = await self._contests.entry(entry_id)
        if entry is None or entry.contest_id != contest.id:
            raise InvalidInput(f"Contest #{contest.id} has no entry #{entry_id}.")
        if entry.disqualified:
            raise InvalidInput(f"Entry #{entry_id} is already disqualified.")
        if contest.phase not in (
            ContestPhase.SUBMISSIONS,
            ContestPhase.VOTING,
            ContestPhase.CLOSED,
        ):
            raise UserFacingError(
                f"Entries of contest #{contest.id} can no longer be disqualified "
                f"(it is {contest.phase.value})."
            )
        done = await self._contests.disqualify(
            entry.id, actor_id=actor.user_id, reason=reason.strip(), now=self._clock.now()
        )
        if done is None:
            raise ContestChanged(contest.id)
        return Disqualification(*done)

    async def entries(self, actor: Requester, contest_id: int) -> tuple[Entry, ...]:
        """Every entry with its author, for admins (voters see the `ballot`)."""
        contest = await self._managed(actor, contest_id)
        return await self._contests.entries(contest.id)

    async def audit(self, actor: Requester, contest_id: int) -> tuple[AuditRecord, ...]:
        """What admins did to the contest, with who and when, oldest first."""
        contest = await self._managed(actor, contest_id)
        return await self._contests.audit(contest.id)

    async def export_csv(
        self, actor: Requester, contest_id: int, author_names: Mapping[int, str] | None = None
    ) -> str:
        """The closed contest as CSV: entries, authors, votes, ranks, points, disqualifications."""
        contest = await self._managed(actor, contest_id)
        return results_csv(await self.results_of(contest), author_names or {})

    async def set_manager_role(self, actor: Requester, role_id: int | None) -> None:
        """Let the members of `role_id` run the server's contests (None: only Manage Server);
        only a member with Manage Server may choose."""
        if actor.guild_id is None or not actor.manages_guild:
            raise NotAllowed(
                "Only members with the Manage Server permission can choose who runs contests."
            )
        await self._contests.set_manager_role(
            actor.guild_id, role_id, actor_id=actor.user_id, now=self._clock.now()
        )

    # --- members ------------------------------------------------------------------------

    async def submit(
        self,
        member: Requester,
        contest_id: int,
        *,
        track_id: int | None = None,
        upload: Upload | None = None,
    ) -> SubmitReceipt:
        """Enter a track the member made (or an upload, when allowed); with one entry per
        member it replaces their entry until submissions close."""
        if (track_id is None) == (upload is None):
            raise InvalidInput("Enter one track or one upload.")
        if upload is not None and not (upload.url and upload.filename):
            raise InvalidInput("An uploaded entry needs its file: attach an audio file.")
        contest = await self._visible(member, contest_id)
        now = self._clock.now()
        refusal = submission_refusal(contest, now)
        if refusal is not None:
            raise EntryRefused(EntryRule.NOT_TAKING_SUBMISSIONS, refusal)
        if track_id is not None:
            await self._check_track_entry(contest, member, track_id)
        elif not contest.uploads_allowed:
            raise EntryRefused(
                EntryRule.UPLOADS_NOT_ALLOWED,
                f"Contest #{contest.id} does not accept uploads: enter a track you made with the "
                "bot.",
            )
        try:
            outcome = await self._contests.submit(
                contest.id, member.user_id, track_id=track_id, upload=upload, now=now
            )
        except ContestConflict as conflict:
            raise await self._entry_conflict(contest, conflict, track_id) from None
        return SubmitReceipt(outcome.entry, outcome.replaced)

    async def withdraw(
        self, member: Requester, contest_id: int, entry_id: int | None = None
    ) -> Entry:
        """Withdraw one of the member's entries (their only one when `entry_id` is None) while
        submissions are open."""
        contest = await self._visible(member, contest_id)
        mine = await self._contests.entries_of(contest.id, member.user_id)
        entry = _choose_entry(contest, mine, entry_id)
        if entry.disqualified:
            raise EntryRefused(
                EntryRule.DISQUALIFIED,
                f"Your entry #{entry.id} was disqualified; it cannot be withdrawn.",
            )
        now = self._clock.now()
        refusal = submission_refusal(contest, now)
        if refusal is not None:
            raise EntryRefused(EntryRule.NOT_TAKING_SUBMISSIONS, refusal)
        withdrawn = await self._contests.withdraw(entry.id, now=now)
        if withdrawn is None:
            raise ContestChanged(contest.id)
        return withdrawn

    async def my_entries(self, member: Requester, contest_id: int) -> tuple[Entry, ...]:
        """The member's own entries in the contest."""
        contest = await self._visible(member, contest_id)
        return await self._contests.entries_of(contest.id, member.user_id)

    async def vote(
        self,
        member: Requester,
        contest_id: int,
        number: int,
        *,
        joined_at: datetime | None,
        slot: int | None = None,
    ) -> VoteReceipt:
        """Vote for "Entry `number`" while voting is open; `joined_at` is when the member
        joined the server. With one vote per member the vote replaces theirs; with more it
        takes a free vote, or replaces vote `slot` (0-based) when given."""
        now = self._clock.now()
        if slot is None:
            # The common case in two statements; anything it does not allow goes through
            # the checks below, which say which rule stands in the way.
            quick = await self._contests.quick_vote(
                contest_id, member.guild_id, member.user_id, number, joined_at=joined_at, now=now
            )
            if quick is not None:
                return VoteReceipt(number, quick.slot, quick.replaced_number, quick.unchanged)
        contest = await self._visible(member, contest_id)
        refusal = voting_refusal(contest, now)
        if refusal is not None:
            raise VoteRefused(VoteRule.NOT_VOTING, refusal)
        late = joined_too_late(contest, joined_at)
        if late is not None:
            raise VoteRefused(VoteRule.JOINED_TOO_LATE, late)
        entry = await self._votable_entry(contest, member, number)
        if slot is not None and not 0 <= slot < contest.votes_per_member:
            raise InvalidInput(
                f"Choose which of your {counted(contest.votes_per_member, 'vote')} to change: "
                f"1 to {contest.votes_per_member}."
            )
        try:
            outcome = await self._contests.cast_vote(
                contest.id, member.user_id, entry.id, slot=slot, now=now
            )
        except ContestConflict as conflict:
            raise await self._vote_conflict(contest, member, number, conflict) from None
        replaced = None
        if outcome.replaced is not None:
            replaced_entry = await self._contests.entry(outcome.replaced.entry_id)
            replaced = None if replaced_entry is None else replaced_entry.number
        return VoteReceipt(number, outcome.vote.slot, replaced, outcome.unchanged)

    async def take_back_vote(self, member: Requester, contest_id: int, number: int) -> bool:
        """Remove the member's vote for "Entry `number`" while voting is open; False when they
        had not voted for it."""
        contest = await self._visible(member, contest_id)
        now = self._clock.now()
        refusal = voting_refusal(contest, now)
        if refusal is not None:
            raise VoteRefused(VoteRule.NOT_VOTING, refusal)
        entry = await self._contests.entry_numbered(contest.id, number)
        if entry is None:
            return False
        return await self._contests.take_back_vote(contest.id, member.user_id, entry.id, now=now)

    async def my_votes(self, member: Requester, contest_id: int) -> tuple[int, ...]:
        """The entry numbers the member voted for, by vote slot."""
        contest = await self._visible(member, contest_id)
        numbers = {entry.id: entry.number for entry in await self._contests.entries(contest.id)}
        votes = await self._contests.votes_of(contest.id, member.user_id)
        return tuple(n for vote in votes if (n := numbers.get(vote.entry_id)) is not None)

    async def why_not_taking(self, member: Requester, contest_id: int) -> str | None:
        """Why the contest takes no entries now, or None when it does."""
        contest = await self._visible(member, contest_id)
        return submission_refusal(contest, self._clock.now())

    async def check_create(self, actor: Requester, draft: ContestDraft) -> None:
        """Refuse, saying why, a contest `create` would refuse (nothing is written)."""
        if actor.guild_id is None:
            raise InvalidInput("Contests run in a server, not in direct messages.")
        await self._require_manager(actor, actor.guild_id)
        check_draft(draft, self._clock.now())
        if draft.source_track_id is not None:
            await self._server_track(draft.source_track_id, actor.guild_id)

    async def entry_candidates(
        self, member: Requester, contest_id: int, *, limit: int = 25
    ) -> tuple[Track, ...]:
        """The member's tracks that this contest would accept now, newest first (for a picker;
        `submit` still checks every rule)."""
        contest = await self._visible(member, contest_id)
        if submission_refusal(contest, self._clock.now()) is not None:
            return ()
        sources = await self._contests.sources(contest.id)
        found: list[Track] = []
        for track in await self._tracks.user_history(member.user_id, contest.guild_id, limit=100):
            if not contest.submissions_open_at <= track.created_at < contest.voting_opens_at:
                continue
            lineage = await self._tracks.lineage(track.id)
            kind = descent(track, () if lineage is None else lineage.ancestors, sources)
            if kind is Descent.DERIVED or (not contest.derived_only and kind is not Descent.SOURCE):
                found.append(track)
            if len(found) == limit:
                break
        return tuple(found)

    # --- anyone in the server -----------------------------------------------------------

    async def taking_entries(self, guild_id: int) -> tuple[Contest, ...]:
        """The server's contests taking entries now, the soonest to close first."""
        now = self._clock.now()
        running = await self._contests.in_guild(guild_id, (ContestPhase.SUBMISSIONS,))
        open_now = [c for c in running if submission_refusal(c, now) is None]
        return tuple(sorted(open_now, key=lambda contest: (contest.voting_opens_at, contest.id)))

    def scheduler(
        self, announce: Callable[[Sequence[Transition]], Awaitable[None]]
    ) -> ContestScheduler:
        """A scheduler of this service's contests that hands transitions to `announce`."""
        return ContestScheduler(self, announce)

    async def stems_settled(self, contest_id: int) -> bool:
        """Whether the contest's stem pack will not change any more: its job has ended, or
        none was admitted within `STEMS_ADMISSION_GRACE` of the contest's creation (the job
        worker admits jobs a moment after they are asked for)."""
        state = await self._contests.stems_job_state(contest_id)
        if state is not None:
            return state in {s.value for s in FINAL_STATES}
        contest = await self._contests.get(contest_id)
        return contest is None or self._clock.now() - contest.created_at > STEMS_ADMISSION_GRACE

    async def stems(self, contest_id: int) -> tuple[Track, ...]:
        """The tracks of the contest's stem pack, once it is made."""
        found = [await self._tracks.get(i) for i in await self._contests.stem_tracks(contest_id)]
        return tuple(track for track in found if track is not None)

    async def record_post(self, post: ContestPost) -> None:
        """Remember a message posted for a contest, to edit it later (after a restart too)."""
        await self._contests.record_post(post)

    async def posts(self, contest_id: int, kind: PostKind) -> tuple[ContestPost, ...]:
        """The messages of one kind posted for a contest."""
        return await self._contests.posts(contest_id, kind)

    async def find(self, contest_id: int) -> Contest | None:
        """A contest by id, in any server (for the bot's own bookkeeping)."""
        return await self._contests.get(contest_id)

    async def contest(self, viewer: Requester, contest_id: int) -> Contest:
        """A contest of the viewer's server."""
        return await self._visible(viewer, contest_id)

    async def current(self, guild_id: int) -> tuple[Contest, ...]:
        """The server's contests that have not ended (draft, submissions, voting), newest
        first."""
        return await self._contests.in_guild(guild_id, RUNNING_PHASES)

    async def past(self, guild_id: int, *, limit: int = 25) -> tuple[Contest, ...]:
        """The server's contests with results (closed or archived), newest first."""
        return await self._contests.in_guild(guild_id, RESULT_PHASES, limit=limit)

    async def counts(self, viewer: Requester, contest_id: int) -> ContestCounts:
        """How many entries, voters and votes; never which entry has how many."""
        contest = await self._visible(viewer, contest_id)
        return await self._contests.counts(contest.id)

    async def ballot(self, viewer: Requester, contest_id: int) -> tuple[BallotEntry, ...]:
        """The entries as voters see them, by number, once voting has opened: no authors, no
        votes. Disqualified entries are left out."""
        contest = await self._visible(viewer, contest_id)
        if contest.phase in (ContestPhase.DRAFT, ContestPhase.SUBMISSIONS):
            raise UserFacingError(
                f"The entries of contest #{contest.id} are shown when voting opens "
                f"({when(contest.voting_opens_at)})."
            )
        return await self.ballot_of(contest)

    async def ballot_of(self, contest: Contest) -> tuple[BallotEntry, ...]:
        """The numbered entries not disqualified, by number (for posting them)."""
        entries = [
            entry
            for entry in await self._contests.entries(contest.id)
            if entry.number is not None and not entry.disqualified
        ]
        entries.sort(key=lambda entry: entry.number or 0)
        return tuple(BallotEntry(e.number or 0, e.track_id, e.upload) for e in entries)

    async def counts_of(self, contest_id: int) -> ContestCounts:
        """How many entries, voters and votes (for the contest card)."""
        return await self._contests.counts(contest_id)

    async def results(self, viewer: Requester, contest_id: int) -> ContestResults:
        """A closed contest's ranked results with authors; refused before it closes."""
        contest = await self._visible(viewer, contest_id)
        return await self.results_of(contest)

    async def seasons(self, guild_id: int) -> tuple[str, ...]:
        """The season names used in a server (for choosing a leaderboard)."""
        return await self._contests.seasons(guild_id)

    async def leaderboard(self, guild_id: int, season: str) -> tuple[LeaderboardRow, ...]:
        """A season's leaderboard in a server (see `season_table`)."""
        closed = await self._contests.season_entries(guild_id, season.strip())
        return season_table(entries for _, entries in closed)

    # --- helpers ------------------------------------------------------------------------

    async def results_of(self, contest: Contest) -> ContestResults:
        """A closed contest's results (refused, saying why, before it closes)."""
        if contest.phase not in RESULT_PHASES:
            if contest.phase is ContestPhase.CANCELLED:
                raise UserFacingError(f"Contest #{contest.id} was cancelled; it has no results.")
            raise UserFacingError(
                f"The results of contest #{contest.id} are shown once voting closes "
                f"({when(contest.closes_at)})."
            )
        entries = await self._contests.entries(contest.id)
        return ContestResults(
            contest=contest,
            standings=rank(entries),
            disqualified=tuple(entry for entry in entries if entry.disqualified),
        )

    async def _visible(self, viewer: Requester, contest_id: int) -> Contest:
        contest = await self._contests.get(contest_id)
        if contest is None or contest.guild_id != viewer.guild_id:
            raise ContestNotFound(contest_id)
        return contest

    async def _managed(self, actor: Requester, contest_id: int) -> Contest:
        contest = await self._visible(actor, contest_id)
        await self._require_manager(actor, contest.guild_id)
        return contest

    async def _require_manager(self, actor: Requester, guild_id: int) -> None:
        if not may_manage(actor, guild_id, await self._contests.manager_role(guild_id)):
            raise NotAllowed(
                "Only members with the Manage Server permission or the contest-manager role "
                "can run contests here."
            )

    async def _server_track(self, track_id: int, guild_id: int) -> Track:
        track = await self._tracks.get(track_id)
        if track is None:
            raise InvalidInput(f"Track #{track_id} does not exist (it may have been deleted).")
        if track.guild_id != guild_id:
            raise InvalidInput(f"Track #{track_id} was not made in this server.")
        return track

    async def _check_track_entry(self, contest: Contest, member: Requester, track_id: int) -> None:
        """The rules a track must meet to be entered, in the order a member reads them."""
        track = await self._tracks.get(track_id)
        if track is None:
            raise EntryRefused(
                EntryRule.TRACK_MISSING,
                f"Track #{track_id} does not exist (it may have been deleted).",
            )
        if track.user_id != member.user_id:
            raise EntryRefused(
                EntryRule.NOT_YOURS,
                f"Track #{track.id} was made by someone else; you can enter only tracks you made.",
            )
        if track.guild_id != contest.guild_id:
            raise EntryRefused(
                EntryRule.OTHER_SERVER,
                f"Track #{track.id} was made in another server (or in DMs); entries must be "
                "made in this server.",
            )
        if not contest.submissions_open_at <= track.created_at < contest.voting_opens_at:
            raise EntryRefused(
                EntryRule.OUTSIDE_WINDOW,
                f"Track #{track.id} was made at {when(track.created_at)}, outside the submission "
                f"window ({when(contest.submissions_open_at)} to "
                f"{when(contest.voting_opens_at)}); enter a track made during it.",
            )
        await self._check_descent(contest, track)

    async def _check_descent(self, contest: Contest, track: Track) -> None:
        sources = await self._contests.sources(contest.id)
        lineage = await self._tracks.lineage(track.id)
        ancestors = () if lineage is None else lineage.ancestors
        found = descent(track, ancestors, sources)
        if found is Descent.SOURCE:
            raise EntryRefused(
                EntryRule.SOURCE_ITSELF,
                f"Track #{track.id} is this contest's source; enter something you made from it.",
            )
        if not contest.derived_only or found is Descent.DERIVED:
            return
        made_from = "an extension, loop, remix or variation of the source or of its stems"
        if found is Descent.SEPARATED:
            raise EntryRefused(
                EntryRule.NOT_DERIVED,
                f"Track #{track.id} is only stems split from the source; enter {made_from}.",
            )
        raise EntryRefused(
            EntryRule.NOT_DERIVED,
            f"Track #{track.id} does not come from this contest's source; enter {made_from}.",
        )

    async def _entry_conflict(
        self, contest: Contest, conflict: ContestConflict, track_id: int | None
    ) -> EntryRefused:
        entry = conflict.entry
        match conflict.reason:
            case Conflict.TRACK_ALREADY_ENTERED:
                return EntryRefused(
                    EntryRule.ALREADY_ENTERED,
                    f"Track #{track_id} is already entered in contest #{contest.id}.",
                )
            case Conflict.ENTRY_LIMIT:
                return EntryRefused(
                    EntryRule.ENTRY_LIMIT,
                    f"You already have {counted(contest.entries_per_member, 'entry', 'entries')} "
                    f"in contest #{contest.id}, the most it allows; withdraw one to enter another.",
                )
            case Conflict.MEMBER_DISQUALIFIED if entry is not None:
                return EntryRefused(
                    EntryRule.DISQUALIFIED,
                    f"Your entry #{entry.id} was disqualified ({entry.disqualified_reason}); you "
                    f"cannot enter contest #{contest.id} again.",
                )
        fresh = await self._contests.get(contest.id) or contest
        reason = submission_refusal(fresh, self._clock.now())
        return EntryRefused(
            EntryRule.NOT_TAKING_SUBMISSIONS, reason or str(ContestChanged(contest.id))
        )

    async def _votable_entry(self, contest: Contest, member: Requester, number: int) -> Entry:
        entry = await self._contests.entry_numbered(contest.id, number)
        if entry is None:
            raise VoteRefused(
                VoteRule.NO_SUCH_ENTRY, f"Contest #{contest.id} has no Entry {number}."
            )
        if entry.disqualified:
            raise VoteRefused(
                VoteRule.DISQUALIFIED_ENTRY,
                f"Entry {number} was disqualified; vote for another entry.",
            )
        if entry.user_id == member.user_id:
            raise VoteRefused(
                VoteRule.SELF_VOTE, f"Entry {number} is yours; you cannot vote for your own entry."
            )
        return entry

    async def _vote_conflict(
        self, contest: Contest, member: Requester, number: int, conflict: ContestConflict
    ) -> VoteRefused:
        match conflict.reason:
            case Conflict.NO_VOTES_LEFT:
                mine = await self.my_votes(member, contest.id)
                chosen = listed([str(n) for n in mine])
                return VoteRefused(
                    VoteRule.NO_VOTES_LEFT,
                    f"You have used all {counted(contest.votes_per_member, 'vote')} (entries "
                    f"{chosen}); take one back to vote for Entry {number}.",
                )
            case Conflict.SELF_VOTE:
                return VoteRefused(
                    VoteRule.SELF_VOTE,
                    f"Entry {number} is yours; you cannot vote for your own entry.",
                )
            case Conflict.ENTRY_NOT_VOTABLE:
                return VoteRefused(
                    VoteRule.DISQUALIFIED_ENTRY,
                    f"Entry {number} can no longer be voted for (it was disqualified or "
                    "withdrawn).",
                )
        fresh = await self._contests.get(contest.id) or contest
        reason = voting_refusal(fresh, self._clock.now())
        return VoteRefused(VoteRule.NOT_VOTING, reason or str(ContestChanged(contest.id)))


def latest_states(transitions: Iterable[Transition]) -> tuple[Transition, ...]:
    """The last transition of each contest, in the order of those last transitions: after
    downtime a contest that went through several phases is announced once, as it is now."""
    latest: dict[int, Transition] = {}
    for transition in transitions:
        latest.pop(transition.contest.id, None)
        latest[transition.contest.id] = transition
    return tuple(latest.values())


class ContestScheduler:
    """Moves contests from phase to phase when their times come, and hands each batch of
    transitions (the latest per contest) to `announce`.

    It runs at start-up (applying what fell due while the bot was down), then wakes at the
    next stored time, when `poke`d (a contest was created or rescheduled), when a clock moved
    by hand is moved, and at least every `recheck` seconds (another process may have changed
    the schedule). A transition is applied once however many processes run a scheduler.
    """

    def __init__(
        self,
        service: ContestService,
        announce: Callable[[Sequence[Transition]], Awaitable[None]],
        *,
        recheck: float = SCHEDULER_RECHECK,
    ) -> None:
        self._service = service
        self._announce = announce
        self._recheck = recheck
        self._poked = asyncio.Event()

    def poke(self) -> None:
        """Look at the schedule again now."""
        self._poked.set()

    async def tick(self) -> tuple[Transition, ...]:
        """Apply what is due and announce it; returns what was announced."""
        applied = latest_states(await self._service.advance_due())
        if applied:
            await self._announce(applied)
        return applied

    async def run(self) -> None:
        """Tick, then wait for the next due time (or a poke, or the clock moving), forever.
        A failed tick is logged and retried at the next wake."""
        while True:
            try:
                await self.tick()
                due = await self._service.next_due()
            except Exception:
                log.exception("contest scheduler: a tick failed")
                due = None
            await self._wait(due)

    async def _wait(self, due: datetime | None) -> None:
        clock = self._service.clock
        delay = self._recheck
        if due is not None:
            delay = min(delay, max(0.0, (due - clock.now()).total_seconds()))
        if delay <= 0 and not self._poked.is_set():
            await asyncio.sleep(0)
            return
        waits = [
            asyncio.ensure_future(self._poked.wait()),
            asyncio.ensure_future(asyncio.sleep(delay)),
        ]
        moved = getattr(clock, "moved", None)
        if moved is not None:
            waits.append(asyncio.ensure_future(moved()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        self._poked.clear()


def _choose_entry(contest: Contest, mine: Sequence[Entry], entry_id: int | None) -> Entry:
    if not mine:
        raise EntryRefused(EntryRule.NO_ENTRY, f"You have no entry in contest #{contest.id}.")
    if entry_id is None:
        if len(mine) > 1:
            raise InvalidInput(
                f"You have {counted(len(mine), 'entry', 'entries')} in contest #{contest.id}; "
                "say which one to withdraw."
            )
        return mine[0]
    chosen = next((entry for entry in mine if entry.id == entry_id), None)
    if chosen is None:
        raise EntryRefused(
            EntryRule.NO_ENTRY, f"Entry #{entry_id} is not one of yours in contest #{contest.id}."
        )
    return chosen
