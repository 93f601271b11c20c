"""Community remix contests as stored: contests with their phase and transition times, entries,
votes, the audit of people's actions, and the scheduler that moves contests from phase to phase.

Every change that depends on a contest's phase is made by a compare-and-set on that phase
inside one write transaction, so two processes (or a restart in the middle) never apply a
transition twice, never take an entry after submissions closed, and never count a vote cast
after voting closed. The rules a member reads are worded in `bot.jobs.contests`; here, a write
that finds the contest changed under it raises `ContestConflict` with the reason.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from bot.storage.clock import from_stored, from_stored_or_none, to_stored
from bot.storage.database import ConstraintViolated, Database, GuildScope, Row, Transaction
from bot.storage.errors import StorageError


class ContestPhase(StrEnum):
    """Where a contest is in its life; its value is what the database stores."""

    DRAFT = "draft"  # announced, not yet taking entries (theme and rules may still change)
    SUBMISSIONS = "submissions"
    VOTING = "voting"
    CLOSED = "closed"  # results are final
    ARCHIVED = "archived"  # results kept; no longer among the server's current contests
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        """Whether nothing more happens to the contest but archiving."""
        return self in _ENDED


_ENDED = frozenset({ContestPhase.CLOSED, ContestPhase.ARCHIVED, ContestPhase.CANCELLED})
RUNNING_PHASES = (ContestPhase.DRAFT, ContestPhase.SUBMISSIONS, ContestPhase.VOTING)
"""The phases a contest can be cancelled in, and that `/contest` lists as current."""
RESULT_PHASES = (ContestPhase.CLOSED, ContestPhase.ARCHIVED)
"""The phases whose results are final and may be shown."""

# The scheduled path: each phase, the phase after it, and the column that says when.
SCHEDULE: dict[ContestPhase, tuple[ContestPhase, str]] = {
    ContestPhase.DRAFT: (ContestPhase.SUBMISSIONS, "submissions_open_at"),
    ContestPhase.SUBMISSIONS: (ContestPhase.VOTING, "voting_opens_at"),
    ContestPhase.VOTING: (ContestPhase.CLOSED, "closes_at"),
    ContestPhase.CLOSED: (ContestPhase.ARCHIVED, "archive_at"),
}

# When the contest in each scheduled phase is next due, as one SQL expression.
_DUE_AT = (
    "CASE phase"
    + "".join(f" WHEN '{phase}' THEN {column}" for phase, (_, column) in SCHEDULE.items())
    + " END"
)


class AuditAction(StrEnum):
    """What a person did to a contest."""

    CREATE = "create"
    EDIT = "edit"
    EXTEND = "extend"
    CLOSE = "close"
    DISQUALIFY = "disqualify"
    CANCEL = "cancel"
    ADD_STEMS = "add_stems"


class PostKind(StrEnum):
    """What the bot posted for a contest (`ContestPost`)."""

    CARD = "card"  # the contest card, edited as the contest moves on
    THREAD = "thread"  # the thread or forum post its entries and results go to
    ENTRY = "entry"  # an anonymous entry with its Vote button
    RESULTS = "results"  # the results card


@dataclass(frozen=True)
class ContestPost:
    """A message the bot posted for a contest; `number` is the entry's, 0 for other kinds."""

    contest_id: int
    kind: PostKind
    number: int
    channel_id: int
    message_id: int


class Conflict(StrEnum):
    """Why a write found the contest no longer allowing it."""

    NOT_TAKING_SUBMISSIONS = "not_taking_submissions"
    TRACK_ALREADY_ENTERED = "track_already_entered"
    ENTRY_LIMIT = "entry_limit"
    MEMBER_DISQUALIFIED = "member_disqualified"
    NOT_VOTING = "not_voting"
    ENTRY_NOT_VOTABLE = "entry_not_votable"
    SELF_VOTE = "self_vote"
    NO_VOTES_LEFT = "no_votes_left"


class ContestConflict(StorageError):
    """A write refused because the contest (or the member's standing in it) does not allow it;
    `entry` is the entry concerned, when there is one."""

    def __init__(self, reason: Conflict, entry: Entry | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.entry = entry


@dataclass(frozen=True)
class Upload:
    """An audio file posted in Discord, used instead of a track made with the bot."""

    url: str
    filename: str


@dataclass(frozen=True)
class NewContest:
    """A contest to be recorded, in its draft phase."""

    guild_id: int
    creator_id: int
    title: str
    theme: str
    rules: str
    submissions_open_at: datetime
    voting_opens_at: datetime
    closes_at: datetime
    archive_at: datetime
    shuffle_seed: int
    source_track_id: int | None = None
    source_upload: Upload | None = None
    channel_id: int | None = None
    entries_per_member: int = 1
    derived_only: bool = True
    uploads_allowed: bool = False
    winner_role_id: int | None = None
    votes_per_member: int = 1
    voters_joined_before_voting: bool = False
    season: str | None = None
    stems_key: str | None = None
    """The interaction key of the job making the source's stem pack (its tracks are sources)."""


@dataclass(frozen=True)
class Contest:
    """A stored contest."""

    id: int
    guild_id: int
    channel_id: int | None
    creator_id: int | None
    title: str
    theme: str
    rules: str
    source_track_id: int | None
    source_upload: Upload | None
    phase: ContestPhase
    submissions_open_at: datetime
    voting_opens_at: datetime
    closes_at: datetime
    archive_at: datetime
    entries_per_member: int
    derived_only: bool
    uploads_allowed: bool
    winner_role_id: int | None
    votes_per_member: int
    voters_joined_before_voting: bool
    season: str | None
    shuffle_seed: int
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    stems_key: str | None = None
    """When it closed or was cancelled."""

    @property
    def next_transition(self) -> tuple[ContestPhase, datetime] | None:
        """The phase the scheduler moves it to next and when; None once it is final."""
        step = SCHEDULE.get(self.phase)
        if step is None:
            return None
        after, column = step
        return after, getattr(self, column)


@dataclass(frozen=True)
class Entry:
    """A member's entry in a contest: a track made with the bot, or an upload."""

    id: int
    contest_id: int
    user_id: int
    track_id: int | None
    upload: Upload | None
    submitted_at: datetime
    """When its current track was submitted (replacing an entry dates it anew)."""
    number: int | None
    """The anonymous "Entry 3" shown to voters, given when voting opens."""
    final_votes: int | None
    """The votes it received, frozen when the contest closed (None before)."""
    disqualified_at: datetime | None
    disqualified_by: int | None
    disqualified_reason: str | None

    @property
    def disqualified(self) -> bool:
        """Whether an admin took it out of the contest."""
        return self.disqualified_at is not None


@dataclass(frozen=True)
class Vote:
    """One of a member's votes in a contest."""

    contest_id: int
    voter_id: int
    slot: int
    entry_id: int
    cast_at: datetime


@dataclass(frozen=True)
class SubmitOutcome:
    """An entry as recorded, and the entry it replaced (when the member may have only one)."""

    entry: Entry
    replaced: Entry | None


@dataclass(frozen=True)
class QuickVote:
    """A vote recorded by the quick path: its slot, the number of the entry it replaced, and
    whether it was already cast as is."""

    slot: int
    replaced_number: int | None
    unchanged: bool


@dataclass(frozen=True)
class VoteOutcome:
    """A vote as recorded, the vote it replaced, and whether it was already cast as is."""

    vote: Vote
    replaced: Vote | None
    unchanged: bool


@dataclass(frozen=True)
class Transition:
    """A phase change that happened: the contest after it, the phases, when it was due and
    when it was applied, and who made it (None: the scheduler, at a stored time)."""

    contest: Contest
    before: ContestPhase
    after: ContestPhase
    due_at: datetime
    at: datetime
    actor_id: int | None = None


@dataclass(frozen=True)
class ContestCounts:
    """What may be shown of a contest at any time: how many entries, voters and votes."""

    entries: int
    voters: int
    votes: int


@dataclass(frozen=True)
class AuditRecord:
    """One person's action on a contest."""

    id: int
    contest_id: int
    actor_id: int | None
    action: AuditAction
    detail: str
    at: datetime


def _ballot_insert(count: int, slot: str) -> str:
    """The start of an INSERT of `count` ballots (each a row of six parameters: contest id,
    guild id, voter id, entry number, joined at, now) into vote `slot` (SQL), keeping only
    those every rule allows; the voting phase follows as a parameter. Callers add the
    votes-per-member condition, the conflict clause and RETURNING."""
    # The first row's casts give the columns their types (PostgreSQL would take text).
    first = "(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS INTEGER), ?, ?)"
    rows = ", ".join([first, *("(?, ?, ?, ?, ?, ?)" for _ in range(count - 1))])
    return (
        f"WITH ballots(contest, guild, voter, number, joined, stamp) AS (VALUES {rows})"
        " INSERT INTO contest_votes (contest_id, voter_id, slot, entry_id, cast_at)"
        f" SELECT contests.id, ballots.voter, {slot}, contest_entries.id, ballots.stamp"
        " FROM ballots JOIN contests ON contests.id = ballots.contest"
        " JOIN contest_entries ON contest_entries.contest_id = contests.id"
        " AND contest_entries.number = ballots.number"
        " WHERE contests.guild_id = ballots.guild AND contests.phase = ?"
        " AND contests.voting_opens_at <= ballots.stamp"
        " AND contests.closes_at > ballots.stamp"
        " AND contest_entries.disqualified_at IS NULL"
        " AND contest_entries.user_id <> ballots.voter"
        " AND (contests.voters_joined_before_voting = 0"
        " OR (ballots.joined IS NOT NULL AND ballots.joined < contests.voting_opens_at))"
    )


BATCH_MOST = 200
"""The most votes one statement writes (each takes 6 of SQLite's 32,766 parameters)."""


@dataclass(frozen=True)
class _Ballot:
    """A vote waiting to be written: times as stored text."""

    contest_id: int
    guild_id: int | None
    voter_id: int
    number: int
    joined: str | None
    stamp: str

    @property
    def row(self) -> tuple[int | str | None, ...]:
        """Its parameters in `_ballot_insert`."""
        return (self.contest_id, self.guild_id, self.voter_id, self.number, self.joined, self.stamp)


class _VoteBatches:
    """Writes the one-vote-per-member votes that arrive together in one statement: while one
    batch is being written, the next gathers, so under load each write carries many votes and
    the database commits once for them all. A voter's second vote in a contest waits for the
    next batch, so the last click counts."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._waiting: list[tuple[_Ballot, asyncio.Future[QuickVote | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def cast(self, ballot: _Ballot) -> QuickVote | None:
        """The vote as written, or None when a rule (or votes per member) stands in the way."""
        done: asyncio.Future[QuickVote | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((ballot, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all(), name="contest-votes")
        return await done

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch: list[tuple[_Ballot, asyncio.Future[QuickVote | None]]] = []
                later: list[tuple[_Ballot, asyncio.Future[QuickVote | None]]] = []
                seen: set[tuple[int, int]] = set()
                for waiting in self._waiting:
                    key = (waiting[0].contest_id, waiting[0].voter_id)
                    if key in seen or len(batch) == BATCH_MOST:
                        later.append(waiting)
                    else:
                        seen.add(key)
                        batch.append(waiting)
                self._waiting = later
                try:
                    written = await self._write([ballot for ballot, _ in batch])
                except Exception as error:  # each voter is told; the next batch goes on
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
                for ballot, done in batch:
                    if not done.done():
                        done.set_result(written.get((ballot.contest_id, ballot.voter_id)))
        finally:
            self._writer = None
            for _, done in self._waiting:  # only when cancelled (the bot closing)
                done.cancel()
            self._waiting = []

    async def _write(self, batch: Sequence[_Ballot]) -> dict[tuple[int, int], QuickVote]:
        async with self._database.statements() as statements:
            found = await statements.fetch_all(
                _ballot_insert(len(batch), "0") + " AND contests.votes_per_member = 1"
                " ON CONFLICT (contest_id, voter_id, slot) DO UPDATE SET"
                " replaced_number = (SELECT number FROM contest_entries"
                " WHERE id = contest_votes.entry_id),"
                " entry_id = excluded.entry_id, cast_at = excluded.cast_at"
                " RETURNING contest_id, voter_id, replaced_number",
                (*(value for ballot in batch for value in ballot.row), ContestPhase.VOTING.value),
            )
        numbers = {(b.contest_id, b.voter_id): b.number for b in batch}
        written = {}
        for row in found:
            key = (row["contest_id"], row["voter_id"])
            unchanged = row["replaced_number"] == numbers[key]
            replaced = None if unchanged else row["replaced_number"]
            written[key] = QuickVote(0, replaced, unchanged)
        return written


def anonymous_numbers(seed: int, entry_ids: Iterable[int]) -> dict[int, int]:
    """Entry numbers 1..n for `entry_ids`, shuffled by the contest's stored seed.

    The same seed and entries always give the same numbers, and the order says nothing about
    when each entry was submitted.
    """
    ordered = sorted(entry_ids)
    random.Random(seed).shuffle(ordered)
    return {entry_id: number for number, entry_id in enumerate(ordered, start=1)}


class ContestRepository:
    """Records contests, entries, votes and the audit; applies transitions exactly once.

    Every write takes the instant it happens at (`now`), so one clock drives all of it.
    """

    def __init__(self, database: Database, scope: GuildScope | None = None) -> None:
        """`scope`: the guilds whose transitions this process applies (all without it)."""
        self._database = database
        self._batches = _VoteBatches(database)
        self._scope = scope

    # --- contests -------------------------------------------------------------------------

    async def create(self, new: NewContest, now: datetime) -> Contest:
        """Record a contest in its draft phase, its source among the tracks entries may come
        from, and who created it in the audit."""
        stamp = to_stored(now)
        upload = new.source_upload
        async with self._database.transaction() as transaction:
            row = await transaction.fetch_one(
                "INSERT INTO contests (guild_id, channel_id, creator_id, title, theme, rules,"
                " source_track_id, source_upload_url, source_upload_name, phase,"
                " submissions_open_at, voting_opens_at, closes_at, archive_at,"
                " entries_per_member, derived_only, uploads_allowed, winner_role_id,"
                " votes_per_member, voters_joined_before_voting, season, shuffle_seed,"
                " created_at, updated_at, stems_key)"
                f" VALUES ({', '.join('?' * 25)}) RETURNING *",
                (
                    new.guild_id,
                    new.channel_id,
                    new.creator_id,
                    new.title,
                    new.theme,
                    new.rules,
                    new.source_track_id,
                    None if upload is None else upload.url,
                    None if upload is None else upload.filename,
                    ContestPhase.DRAFT.value,
                    to_stored(new.submissions_open_at),
                    to_stored(new.voting_opens_at),
                    to_stored(new.closes_at),
                    to_stored(new.archive_at),
                    new.entries_per_member,
                    int(new.derived_only),
                    int(new.uploads_allowed),
                    new.winner_role_id,
                    new.votes_per_member,
                    int(new.voters_joined_before_voting),
                    new.season,
                    new.shuffle_seed,
                    stamp,
                    stamp,
                    new.stems_key,
                ),
            )
            assert row is not None  # INSERT ... RETURNING always yields the new row
            contest = _contest(row)
            if new.source_track_id is not None:
                await transaction.execute(
                    "INSERT INTO contest_sources (contest_id, track_id) VALUES (?, ?)",
                    (contest.id, new.source_track_id),
                )
            await _audit(transaction, contest.id, new.creator_id, AuditAction.CREATE, "", now)
        return contest

    async def get(self, contest_id: int) -> Contest | None:
        """One contest, or None."""
        async with self._database.snapshot() as transaction:
            return await _find_contest(transaction, contest_id)

    async def in_guild(
        self, guild_id: int, phases: Collection[ContestPhase], *, limit: int = 25
    ) -> tuple[Contest, ...]:
        """A guild's contests in any of `phases`, newest first."""
        if not phases:
            return ()
        marks = ", ".join("?" for _ in phases)
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                f"SELECT * FROM contests WHERE guild_id = ? AND phase IN ({marks})"
                " ORDER BY id DESC LIMIT ?",
                (guild_id, *(phase.value for phase in phases), limit),
            )
        return tuple(_contest(row) for row in rows)

    async def edit_text(
        self, contest_id: int, *, theme: str, rules: str, actor_id: int, now: datetime
    ) -> Contest | None:
        """Change the theme and rules while the contest is a draft whose submissions have not
        opened; None (and nothing changed) otherwise."""
        stamp = to_stored(now)
        async with self._database.transaction() as transaction:
            changed = await transaction.execute(
                "UPDATE contests SET theme = ?, rules = ?, updated_at = ?"
                " WHERE id = ? AND phase = ? AND submissions_open_at > ?",
                (theme, rules, stamp, contest_id, ContestPhase.DRAFT.value, stamp),
            )
            if not changed:
                return None
            await _audit(transaction, contest_id, actor_id, AuditAction.EDIT, "theme, rules", now)
            return await _find_contest(transaction, contest_id)

    async def reschedule(
        self,
        contest: Contest,
        *,
        deadline: Literal["voting_opens_at", "closes_at"],
        phases: Collection[ContestPhase],
        voting_opens_at: datetime,
        closes_at: datetime,
        archive_at: datetime,
        actor_id: int,
        now: datetime,
    ) -> Contest | None:
        """Move the contest's later times, provided the `deadline` column (`voting_opens_at` or
        `closes_at`) still holds what `contest` read and has not passed, and the contest is in
        one of `phases`; None (and nothing changed) otherwise."""
        if deadline not in ("voting_opens_at", "closes_at"):
            raise ValueError(f"not a deadline: {deadline}")
        before = getattr(contest, deadline)
        stamp = to_stored(now)
        marks = ", ".join("?" for _ in phases)
        async with self._database.transaction() as transaction:
            changed = await transaction.execute(
                "UPDATE contests SET voting_opens_at = ?, closes_at = ?, archive_at = ?,"
                f" updated_at = ? WHERE id = ? AND phase IN ({marks}) AND {deadline} = ?"
                f" AND {deadline} > ?",
                (
                    to_stored(voting_opens_at),
                    to_stored(closes_at),
                    to_stored(archive_at),
                    stamp,
                    contest.id,
                    *(phase.value for phase in phases),
                    to_stored(before),
                    stamp,
                ),
            )
            if not changed:
                return None
            after = getattr(await _find_contest(transaction, contest.id), deadline)
            detail = f"{deadline}: {to_stored(before)} -> {to_stored(after)}"
            await _audit(transaction, contest.id, actor_id, AuditAction.EXTEND, detail, now)
            return await _find_contest(transaction, contest.id)

    async def add_sources(
        self, contest_id: int, track_ids: Sequence[int], *, actor_id: int, now: datetime
    ) -> frozenset[int]:
        """Count `track_ids` (the stems of the source) among the tracks entries may descend
        from; returns every such track of the contest."""
        async with self._database.transaction() as transaction:
            await transaction.execute_many(
                "INSERT INTO contest_sources (contest_id, track_id) VALUES (?, ?)"
                " ON CONFLICT (contest_id, track_id) DO NOTHING",
                [(contest_id, track_id) for track_id in track_ids],
            )
            detail = "tracks " + ", ".join(f"#{track_id}" for track_id in track_ids)
            await _audit(transaction, contest_id, actor_id, AuditAction.ADD_STEMS, detail, now)
            return await _sources(transaction, contest_id)

    async def sources(self, contest_id: int) -> frozenset[int]:
        """The tracks entries may descend from: the source track and its recorded stems."""
        async with self._database.snapshot() as transaction:
            return await _sources(transaction, contest_id)

    async def stem_tracks(self, contest_id: int) -> tuple[int, ...]:
        """The tracks of the contest's stem pack, once made (none before, or if it failed)."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(f"{_STEM_TRACKS} ORDER BY tracks.id", (contest_id,))
        return tuple(int(row["id"]) for row in rows)

    async def stems_job_state(self, contest_id: int) -> str | None:
        """The state of the job making the contest's stem pack (None: no such job)."""
        async with self._database.snapshot() as transaction:
            state = await transaction.fetch_value(
                "SELECT jobs.state FROM jobs JOIN contests"
                " ON jobs.interaction_key = contests.stems_key WHERE contests.id = ?",
                (contest_id,),
            )
        return None if state is None else str(state)

    # --- what the bot posted --------------------------------------------------------------

    async def record_post(self, post: ContestPost) -> None:
        """Remember a message posted for a contest (replacing the one of the same kind and
        number)."""
        async with self._database.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO contest_posts (contest_id, kind, number, channel_id, message_id)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (contest_id, kind, number) DO UPDATE SET"
                " channel_id = excluded.channel_id, message_id = excluded.message_id",
                (post.contest_id, post.kind.value, post.number, post.channel_id, post.message_id),
            )

    async def posts(self, contest_id: int, kind: PostKind) -> tuple[ContestPost, ...]:
        """The messages of one kind posted for a contest, by number."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT * FROM contest_posts WHERE contest_id = ? AND kind = ? ORDER BY number",
                (contest_id, kind.value),
            )
        return tuple(
            ContestPost(
                row["contest_id"],
                PostKind(row["kind"]),
                row["number"],
                row["channel_id"],
                row["message_id"],
            )
            for row in rows
        )

    # --- the scheduler --------------------------------------------------------------------

    async def advance_due(self, now: datetime) -> list[Transition]:
        """Apply every transition due at `now`, the earliest first, one transaction each;
        returns those this call applied (a transition applied by another process, or before
        a restart, is not applied again and not returned).

        A contest several deadlines late goes through each phase in turn, so numbering
        entries and freezing the tally happen as they would have on time.
        """
        due = await self.next_due_at()
        if due is None or due > now:
            return []  # nothing due: no write lock taken
        applied = []
        while (transition := await self._apply_next_due(now)) is not None:
            applied.append(transition)
        return applied

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending transition of any contest (of the scope) is due (None:
        none pending)."""
        scoped, scope_parameters = self._scoped()
        async with self._database.snapshot() as transaction:
            value = await transaction.fetch_value(
                f"SELECT MIN({_DUE_AT}) FROM contests WHERE phase IN ({_scheduled_marks()})"
                f"{scoped}",
                (*_scheduled_phases(), *scope_parameters),
            )
        return from_stored_or_none(value)

    def _scoped(self) -> tuple[str, tuple[int, ...]]:
        if self._scope is None:
            return "", ()
        condition, parameters = self._scope.condition()
        return f" AND {condition}", parameters

    async def _apply_next_due(self, now: datetime) -> Transition | None:
        async with self._database.transaction() as transaction:
            # Chosen inside the write lock, so another process cannot pick the same one.
            scoped, scope_parameters = self._scoped()
            row = await transaction.fetch_one(
                f"SELECT * FROM contests WHERE phase IN ({_scheduled_marks()})"
                f" AND {_DUE_AT} <= ?{scoped} ORDER BY {_DUE_AT}, id LIMIT 1",
                (*_scheduled_phases(), to_stored(now), *scope_parameters),
            )
            if row is None:
                return None
            contest = _contest(row)
            step = contest.next_transition
            assert step is not None  # only scheduled phases were selected
            after, due_at = step
            return await _move(transaction, contest, after, due_at=due_at, now=now)

    async def close_now(
        self, contest_id: int, *, actor_id: int, now: datetime
    ) -> Transition | None:
        """Close a contest that is voting, now (`ended_at` says when; `closes_at` keeps the time
        it was scheduled for); None when it is not voting any more."""
        async with self._database.transaction() as transaction:
            contest = await _find_contest(transaction, contest_id)
            if contest is None or contest.phase is not ContestPhase.VOTING:
                return None
            detail = f"scheduled for {to_stored(contest.closes_at)}"
            await _audit(transaction, contest.id, actor_id, AuditAction.CLOSE, detail, now)
            return await _move(
                transaction, contest, ContestPhase.CLOSED, due_at=now, now=now, actor_id=actor_id
            )

    async def cancel(
        self, contest_id: int, *, actor_id: int, reason: str, now: datetime
    ) -> Transition | None:
        """Cancel a contest that has not closed; None when it already ended."""
        async with self._database.transaction() as transaction:
            contest = await _find_contest(transaction, contest_id)
            if contest is None or contest.phase not in RUNNING_PHASES:
                return None
            await _audit(transaction, contest.id, actor_id, AuditAction.CANCEL, reason, now)
            return await _move(
                transaction,
                contest,
                ContestPhase.CANCELLED,
                due_at=now,
                now=now,
                actor_id=actor_id,
            )

    # --- entries --------------------------------------------------------------------------

    async def submit(
        self,
        contest_id: int,
        user_id: int,
        *,
        track_id: int | None = None,
        upload: Upload | None = None,
        now: datetime,
    ) -> SubmitOutcome:
        """Record a member's entry (a track or an upload) while the contest takes submissions.

        With one entry per member, a new submission replaces the member's entry; with more,
        a submission beyond the limit is refused. Raises `ContestConflict` when the contest is
        not taking submissions at `now`, the track is entered already, the limit is reached,
        or one of the member's entries was disqualified.
        """
        if (track_id is None) == (upload is None):
            raise ValueError("an entry is a track or an upload, not both and not neither")
        async with self._database.transaction() as transaction:
            contest = await _find_contest(transaction, contest_id)
            if contest is None or not _takes_submissions(contest, now):
                raise ContestConflict(Conflict.NOT_TAKING_SUBMISSIONS)
            if track_id is not None:
                taken = await transaction.fetch_one(
                    "SELECT * FROM contest_entries WHERE contest_id = ? AND track_id = ?",
                    (contest_id, track_id),
                )
                if taken is not None:
                    raise ContestConflict(Conflict.TRACK_ALREADY_ENTERED, _entry(taken))
            mine = await _entries_of(transaction, contest_id, user_id)
            disqualified = next((entry for entry in mine if entry.disqualified), None)
            if disqualified is not None:
                raise ContestConflict(Conflict.MEMBER_DISQUALIFIED, disqualified)
            fields = (
                track_id,
                None if upload is None else upload.url,
                None if upload is None else upload.filename,
                to_stored(now),
            )
            if contest.entries_per_member == 1 and mine:
                row = await transaction.fetch_one(
                    "UPDATE contest_entries SET track_id = ?, upload_url = ?, upload_name = ?,"
                    " submitted_at = ? WHERE id = ? RETURNING *",
                    (*fields, mine[0].id),
                )
                assert row is not None  # the member's entry, read in this transaction
                return SubmitOutcome(_entry(row), replaced=mine[0])
            if len(mine) >= contest.entries_per_member:
                raise ContestConflict(Conflict.ENTRY_LIMIT)
            row = await transaction.fetch_one(
                "INSERT INTO contest_entries (track_id, upload_url, upload_name, submitted_at,"
                " contest_id, user_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                (*fields, contest_id, user_id),
            )
            assert row is not None  # INSERT ... RETURNING always yields the new row
            return SubmitOutcome(_entry(row), replaced=None)

    async def withdraw(self, entry_id: int, *, now: datetime) -> Entry | None:
        """Remove an entry that is not disqualified while its contest takes submissions;
        None (and nothing removed) otherwise."""
        async with self._database.transaction() as transaction:
            entry = await _find_entry(transaction, entry_id)
            if entry is None or entry.disqualified:
                return None
            contest = await _find_contest(transaction, entry.contest_id)
            if contest is None or not _takes_submissions(contest, now):
                return None
            await transaction.execute("DELETE FROM contest_entries WHERE id = ?", (entry_id,))
        return entry

    async def entry(self, entry_id: int) -> Entry | None:
        """One entry, or None."""
        async with self._database.snapshot() as transaction:
            return await _find_entry(transaction, entry_id)

    async def entry_numbered(self, contest_id: int, number: int) -> Entry | None:
        """The entry shown to voters as "Entry `number`", or None."""
        async with self._database.snapshot() as transaction:
            row = await transaction.fetch_one(
                "SELECT * FROM contest_entries WHERE contest_id = ? AND number = ?",
                (contest_id, number),
            )
        return None if row is None else _entry(row)

    async def entries(self, contest_id: int) -> tuple[Entry, ...]:
        """Every entry of a contest, in the order they were first submitted."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT * FROM contest_entries WHERE contest_id = ? ORDER BY id", (contest_id,)
            )
        return tuple(_entry(row) for row in rows)

    async def entries_of(self, contest_id: int, user_id: int) -> tuple[Entry, ...]:
        """A member's entries in a contest, in the order they were first submitted."""
        async with self._database.snapshot() as transaction:
            return await _entries_of(transaction, contest_id, user_id)

    async def disqualify(
        self, entry_id: int, *, actor_id: int, reason: str, now: datetime
    ) -> tuple[Entry, tuple[int, ...]] | None:
        """Take an entry out of its contest, with the reason; returns it and the members whose
        votes for it were voided (while voting, so they may vote again), or None when it is
        gone, already disqualified, or its contest was cancelled or archived."""
        async with self._database.transaction() as transaction:
            entry = await _find_entry(transaction, entry_id)
            if entry is None or entry.disqualified:
                return None
            contest = await _find_contest(transaction, entry.contest_id)
            allowed = (ContestPhase.SUBMISSIONS, ContestPhase.VOTING, ContestPhase.CLOSED)
            if contest is None or contest.phase not in allowed:
                return None
            voters: tuple[int, ...] = ()
            if contest.phase is ContestPhase.VOTING:
                rows = await transaction.fetch_all(
                    "DELETE FROM contest_votes WHERE entry_id = ? RETURNING voter_id", (entry_id,)
                )
                voters = tuple(sorted(int(row["voter_id"]) for row in rows))
            row = await transaction.fetch_one(
                "UPDATE contest_entries SET disqualified_at = ?, disqualified_by = ?,"
                " disqualified_reason = ? WHERE id = ? RETURNING *",
                (to_stored(now), actor_id, reason, entry_id),
            )
            assert row is not None  # read in this transaction
            detail = f"entry #{entry_id}: {reason}"
            await _audit(transaction, contest.id, actor_id, AuditAction.DISQUALIFY, detail, now)
        return _entry(row), voters

    # --- votes ----------------------------------------------------------------------------

    async def cast_vote(
        self, contest_id: int, voter_id: int, entry_id: int, *, slot: int | None, now: datetime
    ) -> VoteOutcome:
        """Record a vote while the contest is voting at `now`.

        A vote for an entry the voter already chose changes nothing. Otherwise it goes into
        `slot` (replacing the vote there), or with `slot` None into the first free slot, or,
        with one vote per member, replaces that vote. Raises `ContestConflict` when voting is
        not open, the entry cannot be voted for, it is the voter's own, or every slot is taken.
        """
        async with self._database.transaction() as transaction:
            contest = await _find_contest(transaction, contest_id)
            if contest is None or not _takes_votes(contest, now):
                raise ContestConflict(Conflict.NOT_VOTING)
            entry = await _find_entry(transaction, entry_id)
            if entry is None or entry.contest_id != contest_id or entry.disqualified:
                raise ContestConflict(Conflict.ENTRY_NOT_VOTABLE, entry)
            if entry.user_id == voter_id:
                raise ContestConflict(Conflict.SELF_VOTE, entry)
            mine = await _votes_of(transaction, contest_id, voter_id)
            same = next((vote for vote in mine if vote.entry_id == entry_id), None)
            if same is not None:
                return VoteOutcome(same, replaced=None, unchanged=True)
            if slot is None:
                slot = _free_slot(mine, contest.votes_per_member)
            if not 0 <= slot < contest.votes_per_member:
                raise ValueError(f"slot {slot} is not one of {contest.votes_per_member}")
            replaced = next((vote for vote in mine if vote.slot == slot), None)
            row = await transaction.fetch_one(
                "INSERT INTO contest_votes (contest_id, voter_id, slot, entry_id, cast_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (contest_id, voter_id, slot)"
                " DO UPDATE SET entry_id = excluded.entry_id, cast_at = excluded.cast_at"
                " RETURNING *",
                (contest_id, voter_id, slot, entry_id, to_stored(now)),
            )
            assert row is not None  # an upsert with RETURNING always yields the row
        return VoteOutcome(_vote(row), replaced=replaced, unchanged=False)

    async def quick_vote(
        self,
        contest_id: int,
        guild_id: int | None,
        voter_id: int,
        number: int,
        *,
        joined_at: datetime | None,
        now: datetime,
    ) -> QuickVote | None:
        """Record a vote for "Entry `number`" when every rule allows it; None when a rule does
        not (or something changed meanwhile), for the caller to find out which through the
        full checks.

        Each write checks all the rules in its own WHERE (the contest in `guild_id` is voting
        at `now`, the entry is numbered, not disqualified and not the voter's, the voter
        joined in time when that is required, the slot exists), so it needs no transaction.
        With one vote per member (the default) the votes that arrive together are written by
        one statement (`_VoteBatches`); with more, two or three statements choose the slot.
        A slot free when read but taken when written (a second click at the same moment) is
        left as it is: DO NOTHING, and the full checks run.
        """
        stamp = to_stored(now)
        joined = None if joined_at is None else to_stored(joined_at)
        ballot = _Ballot(contest_id, guild_id, voter_id, number, joined, stamp)
        single = await self._batches.cast(ballot)
        if single is not None:
            return single
        async with self._database.statements() as statements:
            rows = await statements.fetch_all(
                "SELECT contests.votes_per_member, contest_votes.slot, contest_entries.number"
                " FROM contests LEFT JOIN contest_votes"
                " ON contest_votes.contest_id = contests.id AND contest_votes.voter_id = ?"
                " LEFT JOIN contest_entries ON contest_entries.id = contest_votes.entry_id"
                " WHERE contests.id = ? AND contests.guild_id = ?",
                (voter_id, contest_id, guild_id),
            )
            if not rows or int(rows[0]["votes_per_member"]) == 1:
                return None  # a rule stands in the way: the full checks say which
            allowed = int(rows[0]["votes_per_member"])
            mine = {row["slot"]: row["number"] for row in rows if row["slot"] is not None}
            same = next((slot for slot, chosen in mine.items() if chosen == number), None)
            if same is not None:
                return QuickVote(same, None, unchanged=True)
            free = [slot for slot in range(allowed) if slot not in mine]
            if not free:
                return None  # every vote is used: the full checks say so
            try:
                row = await statements.fetch_one(
                    _ballot_insert(1, "?") + " AND ? < contests.votes_per_member"
                    " ON CONFLICT (contest_id, voter_id, slot) DO NOTHING RETURNING slot",
                    (*ballot.row, free[0], ContestPhase.VOTING.value, free[0]),
                )
            except ConstraintViolated:
                return None  # the same entry was voted for meanwhile
        return None if row is None else QuickVote(free[0], None, unchanged=False)

    async def take_back_vote(
        self, contest_id: int, voter_id: int, entry_id: int, *, now: datetime
    ) -> bool:
        """Remove the voter's vote for an entry while voting is open; False when there was none
        (or voting is not open)."""
        async with self._database.transaction() as transaction:
            contest = await _find_contest(transaction, contest_id)
            if contest is None or not _takes_votes(contest, now):
                return False
            removed = await transaction.execute(
                "DELETE FROM contest_votes WHERE contest_id = ? AND voter_id = ? AND entry_id = ?",
                (contest_id, voter_id, entry_id),
            )
        return removed > 0

    async def votes_of(self, contest_id: int, voter_id: int) -> tuple[Vote, ...]:
        """A member's votes in a contest, by slot."""
        async with self._database.snapshot() as transaction:
            return await _votes_of(transaction, contest_id, voter_id)

    async def counts(self, contest_id: int) -> ContestCounts:
        """How many entries (disqualified ones left out), voters and votes a contest has."""
        async with self._database.snapshot() as transaction:
            entries = await transaction.fetch_value(
                "SELECT COUNT(*) FROM contest_entries"
                " WHERE contest_id = ? AND disqualified_at IS NULL",
                (contest_id,),
            )
            row = await transaction.fetch_one(
                "SELECT COUNT(DISTINCT voter_id), COUNT(*) FROM contest_votes WHERE contest_id = ?",
                (contest_id,),
            )
        assert row is not None  # an aggregate always yields one row
        return ContestCounts(entries=int(entries), voters=int(row[0]), votes=int(row[1]))

    # --- results --------------------------------------------------------------------------

    async def season_entries(
        self, guild_id: int, season: str
    ) -> tuple[tuple[Contest, tuple[Entry, ...]], ...]:
        """The closed (or archived) contests of a guild's season, oldest first, each with its
        entries."""
        async with self._database.snapshot() as transaction:
            contest_rows = await transaction.fetch_all(
                "SELECT * FROM contests WHERE guild_id = ? AND season = ? AND phase IN (?, ?)"
                " ORDER BY id",
                (guild_id, season, *(phase.value for phase in RESULT_PHASES)),
            )
            entry_rows = await transaction.fetch_all(
                "SELECT e.* FROM contest_entries e JOIN contests c ON c.id = e.contest_id"
                " WHERE c.guild_id = ? AND c.season = ? AND c.phase IN (?, ?) ORDER BY e.id",
                (guild_id, season, *(phase.value for phase in RESULT_PHASES)),
            )
        by_contest: dict[int, list[Entry]] = {}
        for row in entry_rows:
            by_contest.setdefault(row["contest_id"], []).append(_entry(row))
        return tuple(
            (contest, tuple(by_contest.get(contest.id, ())))
            for contest in map(_contest, contest_rows)
        )

    async def seasons(self, guild_id: int) -> tuple[str, ...]:
        """The season names a guild's contests were given, in alphabetical order."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT DISTINCT season FROM contests WHERE guild_id = ? AND season IS NOT NULL"
                " ORDER BY season",
                (guild_id,),
            )
        return tuple(row["season"] for row in rows)

    async def audit(self, contest_id: int) -> tuple[AuditRecord, ...]:
        """What people did to a contest, oldest first."""
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                "SELECT * FROM contest_audit WHERE contest_id = ? ORDER BY id", (contest_id,)
            )
        return tuple(
            AuditRecord(
                id=row["id"],
                contest_id=row["contest_id"],
                actor_id=row["actor_id"],
                action=AuditAction(row["action"]),
                detail=row["detail"],
                at=from_stored(row["at"]),
            )
            for row in rows
        )

    # --- who runs contests ----------------------------------------------------------------

    async def set_manager_role(
        self, guild_id: int, role_id: int | None, *, actor_id: int, now: datetime
    ) -> None:
        """The role whose members may run the guild's contests (None: only Manage Server)."""
        async with self._database.transaction() as transaction:
            if role_id is None:
                await transaction.execute(
                    "DELETE FROM contest_managers WHERE guild_id = ?", (guild_id,)
                )
                return
            await transaction.execute(
                "INSERT INTO contest_managers (guild_id, role_id, set_by, set_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
                " role_id = excluded.role_id, set_by = excluded.set_by, set_at = excluded.set_at",
                (guild_id, role_id, actor_id, to_stored(now)),
            )

    async def manager_role(self, guild_id: int) -> int | None:
        """The guild's contest-manager role, or None."""
        async with self._database.snapshot() as transaction:
            value = await transaction.fetch_value(
                "SELECT role_id FROM contest_managers WHERE guild_id = ?", (guild_id,)
            )
        return None if value is None else int(value)


# --- privacy (called by `bot.storage.privacy` inside its own transaction) ----------------------


async def delete_user_contests(transaction: Transaction, user_id: int) -> tuple[int, int]:
    """Delete a user's entries (with the votes cast for them) and their votes; forget them as
    the creator of contests, as an admin in the audit and as the one who disqualified an
    entry. The contests they created stay with their server. Returns (entries, votes) deleted.
    """
    votes = await transaction.execute("DELETE FROM contest_votes WHERE voter_id = ?", (user_id,))
    entries = await transaction.execute("DELETE FROM contest_entries WHERE user_id = ?", (user_id,))
    await transaction.execute(
        "UPDATE contests SET creator_id = NULL WHERE creator_id = ?", (user_id,)
    )
    await transaction.execute(
        "UPDATE contest_entries SET disqualified_by = NULL WHERE disqualified_by = ?", (user_id,)
    )
    await transaction.execute(
        "UPDATE contest_audit SET actor_id = NULL WHERE actor_id = ?", (user_id,)
    )
    await transaction.execute(
        "UPDATE contest_managers SET set_by = NULL WHERE set_by = ?", (user_id,)
    )
    return entries, votes


async def purge_guild_contests(transaction: Transaction, guild_id: int) -> tuple[int, int, int]:
    """Delete a guild's contests with their entries, votes, sources and audit, and its
    contest-manager role. Returns (contests, entries, votes) deleted."""
    counted = await transaction.fetch_one(
        "SELECT (SELECT COUNT(*) FROM contest_entries e JOIN contests c ON c.id = e.contest_id"
        " WHERE c.guild_id = ?), (SELECT COUNT(*) FROM contest_votes v"
        " JOIN contests c ON c.id = v.contest_id WHERE c.guild_id = ?)",
        (guild_id, guild_id),
    )
    assert counted is not None  # a SELECT without FROM always yields one row
    contests = await transaction.execute("DELETE FROM contests WHERE guild_id = ?", (guild_id,))
    await transaction.execute("DELETE FROM contest_managers WHERE guild_id = ?", (guild_id,))
    return contests, int(counted[0]), int(counted[1])


async def user_contest_data(transaction: Transaction, user_id: int) -> dict[str, Any]:
    """A user's contest entries and votes, as JSON-ready data."""
    entries = await transaction.fetch_all(
        "SELECT contest_id, track_id, upload_name, submitted_at, number, final_votes,"
        " disqualified_reason FROM contest_entries WHERE user_id = ? ORDER BY id",
        (user_id,),
    )
    votes = await transaction.fetch_all(
        "SELECT v.contest_id, v.slot, e.number AS entry_number, v.cast_at"
        " FROM contest_votes v JOIN contest_entries e ON e.id = v.entry_id"
        " WHERE v.voter_id = ? ORDER BY v.contest_id, v.slot",
        (user_id,),
    )
    return {"entries": [dict(row) for row in entries], "votes": [dict(row) for row in votes]}


# --- transitions --------------------------------------------------------------------------------


async def _move(
    transaction: Transaction,
    contest: Contest,
    after: ContestPhase,
    *,
    due_at: datetime,
    now: datetime,
    actor_id: int | None = None,
) -> Transition | None:
    """Compare-and-set `contest` from the phase it was read in to `after`, doing what entering
    `after` requires; None when its phase had changed meanwhile."""
    stamp = to_stored(now)
    ended_at = stamp if after in (ContestPhase.CLOSED, ContestPhase.CANCELLED) else None
    changed = await transaction.execute(
        "UPDATE contests SET phase = ?, updated_at = ?, ended_at = COALESCE(?, ended_at)"
        " WHERE id = ? AND phase = ?",
        (after.value, stamp, ended_at, contest.id, contest.phase.value),
    )
    if not changed:
        return None
    if after is ContestPhase.VOTING:
        await _number_entries(transaction, contest)
    elif after is ContestPhase.CLOSED:
        await _freeze_tally(transaction, contest.id)
    moved = await _find_contest(transaction, contest.id)
    assert moved is not None  # updated just above, in the same transaction
    return Transition(moved, contest.phase, after, due_at=due_at, at=now, actor_id=actor_id)


async def _number_entries(transaction: Transaction, contest: Contest) -> None:
    rows = await transaction.fetch_all(
        "SELECT id FROM contest_entries WHERE contest_id = ? AND disqualified_at IS NULL",
        (contest.id,),
    )
    numbers = anonymous_numbers(contest.shuffle_seed, (int(row["id"]) for row in rows))
    await transaction.execute_many(
        "UPDATE contest_entries SET number = ? WHERE id = ?",
        [(number, entry_id) for entry_id, number in numbers.items()],
    )


async def _freeze_tally(transaction: Transaction, contest_id: int) -> None:
    # One statement: every entry's votes counted through the index on contest_votes(entry_id).
    await transaction.execute(
        "UPDATE contest_entries SET final_votes = ("
        " SELECT COUNT(*) FROM contest_votes v WHERE v.entry_id = contest_entries.id)"
        " WHERE contest_id = ?",
        (contest_id,),
    )


def _takes_submissions(contest: Contest, now: datetime) -> bool:
    return (
        contest.phase is ContestPhase.SUBMISSIONS
        and contest.submissions_open_at <= now < contest.voting_opens_at
    )


def _takes_votes(contest: Contest, now: datetime) -> bool:
    return (
        contest.phase is ContestPhase.VOTING and contest.voting_opens_at <= now < contest.closes_at
    )


def _free_slot(votes: Sequence[Vote], allowed: int) -> int:
    used = {vote.slot for vote in votes}
    free = next((slot for slot in range(allowed) if slot not in used), None)
    if free is not None:
        return free
    if allowed == 1:
        return 0  # the one vote is replaced
    raise ContestConflict(Conflict.NO_VOTES_LEFT)


def _scheduled_phases() -> tuple[str, ...]:
    return tuple(phase.value for phase in SCHEDULE)


def _scheduled_marks() -> str:
    return ", ".join("?" for _ in SCHEDULE)


# --- rows -----------------------------------------------------------------------------------


async def _audit(
    transaction: Transaction,
    contest_id: int,
    actor_id: int | None,
    action: AuditAction,
    detail: str,
    now: datetime,
) -> None:
    await transaction.execute(
        "INSERT INTO contest_audit (contest_id, actor_id, action, detail, at)"
        " VALUES (?, ?, ?, ?, ?)",
        (contest_id, actor_id, action.value, detail, to_stored(now)),
    )


async def _find_contest(transaction: Transaction, contest_id: int) -> Contest | None:
    row = await transaction.fetch_one("SELECT * FROM contests WHERE id = ?", (contest_id,))
    return None if row is None else _contest(row)


async def _find_entry(transaction: Transaction, entry_id: int) -> Entry | None:
    row = await transaction.fetch_one("SELECT * FROM contest_entries WHERE id = ?", (entry_id,))
    return None if row is None else _entry(row)


async def _entries_of(transaction: Transaction, contest_id: int, user_id: int) -> tuple[Entry, ...]:
    rows = await transaction.fetch_all(
        "SELECT * FROM contest_entries WHERE contest_id = ? AND user_id = ? ORDER BY id",
        (contest_id, user_id),
    )
    return tuple(_entry(row) for row in rows)


async def _votes_of(transaction: Transaction, contest_id: int, voter_id: int) -> tuple[Vote, ...]:
    rows = await transaction.fetch_all(
        "SELECT * FROM contest_votes WHERE contest_id = ? AND voter_id = ? ORDER BY slot",
        (contest_id, voter_id),
    )
    return tuple(_vote(row) for row in rows)


async def _sources(transaction: Transaction, contest_id: int) -> frozenset[int]:
    rows = await transaction.fetch_all(
        f"SELECT track_id FROM contest_sources WHERE contest_id = ? UNION {_STEM_TRACKS}",
        (contest_id, contest_id),
    )
    return frozenset(int(row["track_id"]) for row in rows)


# The tracks of the job that made a contest's stem pack (named by its interaction key).
_STEM_TRACKS = (
    "SELECT tracks.id FROM tracks JOIN jobs ON tracks.job_id = jobs.id"
    " JOIN contests ON jobs.interaction_key = contests.stems_key WHERE contests.id = ?"
)


def _upload(url: str | None, filename: str | None) -> Upload | None:
    return None if url is None else Upload(url, filename or "")


def _contest(row: Row) -> Contest:
    return Contest(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        creator_id=row["creator_id"],
        title=row["title"],
        theme=row["theme"],
        rules=row["rules"],
        source_track_id=row["source_track_id"],
        source_upload=_upload(row["source_upload_url"], row["source_upload_name"]),
        phase=ContestPhase(row["phase"]),
        submissions_open_at=from_stored(row["submissions_open_at"]),
        voting_opens_at=from_stored(row["voting_opens_at"]),
        closes_at=from_stored(row["closes_at"]),
        archive_at=from_stored(row["archive_at"]),
        entries_per_member=row["entries_per_member"],
        derived_only=bool(row["derived_only"]),
        uploads_allowed=bool(row["uploads_allowed"]),
        winner_role_id=row["winner_role_id"],
        votes_per_member=row["votes_per_member"],
        voters_joined_before_voting=bool(row["voters_joined_before_voting"]),
        season=row["season"],
        shuffle_seed=row["shuffle_seed"],
        created_at=from_stored(row["created_at"]),
        updated_at=from_stored(row["updated_at"]),
        ended_at=from_stored_or_none(row["ended_at"]),
        stems_key=row["stems_key"],
    )


def _entry(row: Row) -> Entry:
    return Entry(
        id=row["id"],
        contest_id=row["contest_id"],
        user_id=row["user_id"],
        track_id=row["track_id"],
        upload=_upload(row["upload_url"], row["upload_name"]),
        submitted_at=from_stored(row["submitted_at"]),
        number=row["number"],
        final_votes=row["final_votes"],
        disqualified_at=from_stored_or_none(row["disqualified_at"]),
        disqualified_by=row["disqualified_by"],
        disqualified_reason=row["disqualified_reason"],
    )


def _vote(row: Row) -> Vote:
    return Vote(
        contest_id=row["contest_id"],
        voter_id=row["voter_id"],
        slot=row["slot"],
        entry_id=row["entry_id"],
        cast_at=from_stored(row["cast_at"]),
    )
