"""Remix contests under load: how soon a vote is answered, and how soon a big contest closes.

Run: ``PYTHONPATH=. .venv/bin/python bench/contests.py`` (about three minutes on 2 cores) or
``--quick``; ``--parts a`` or ``--parts b`` runs one part.

(a) Vote acknowledgement latency while 1,000 votes a second arrive, spread over 10 contests
    that are voting, each with 20 anonymous entries. The bot runs as its own process
    (`python -m bot`, configured only by environment variables) against the local Discord,
    which runs in this process, and the local Soundverse, in its own process at the lowest
    CPU priority (votes never reach it). Before the bot starts, its SQLite database is filled
    through the core (`TrackRepository.add`, `ContestService` on a `ManualClock`): 10
    contests, each from a source track, entered by 20 members with tracks derived from it,
    moved to voting with `advance_due`, and closing a day later. At start-up the bot posts
    each contest's card, a thread, and its entries with their Vote buttons; the local
    Discord's per-channel message limit is raised for the run so that this takes seconds.
    The voters are members added to the local Discord's server (one for every ten votes),
    each voting once in each contest, so every click is a new vote: the click on "Vote for
    Entry N" (`contest:vote:<contest>:<N>`) goes through the local Discord's component
    interaction path on a fixed schedule, a contest after another. Timed: from the instant
    the local Discord has written INTERACTION_CREATE to the gateway to the instant the
    callback POST's bytes reach its REST server's socket (the kernel's receive timestamp),
    for the votes after a 2 s warm-up (10 s of them; 4 s after 1 s with `--quick`). Every
    click is waited for until its callback comes, however late (the local Discord
    answers one later than Discord's 3 s with 404 Unknown interaction, as Discord does); the
    table shows how many callbacks a second came from the first click to the last callback.
    Every vote must be answered privately (type 4, ephemeral) with "Your vote: Entry N."
    and a 200; once the bot has stopped, its database must hold every vote once (each
    contest's votes and voters, and, after closing the contests, each entry's tally, as
    clicked). The floor is a bare discord.py bot (`bench/_baselines.py bare`) that answers
    every click at once with a private message, clicked on the same schedule on Vote
    buttons made by the bot's own `vote_button` (put straight into the local Discord's
    #general, as it posts none). The bots take turns for two rounds (one with `--quick`),
    each with a fresh process and database; each one's rounds are pooled.
    This process's collector is paused during a round, and how late its loop ran is shown.
(b) Closing a contest with 10,000 votes, in this process on a temporary SQLite file: 40
    entries, 10,000 distinct voters (written in one transaction, as the votes table holds
    them), then `ContestService.advance_due` moving it voting -> closed (the tally frozen)
    and `ContestService.results` reading its ranked standings, timed apart and together.
    Repeated on five such contests in one database, closing one after another; each tally
    must be the votes cast.

Prints one Markdown table per part, with the target and whether it was met.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _stack import ProbedDiscord

from bench._cli import run_benchmark
from bench.jobs import (
    BARE_BOT,
    REAL_BOT,
    LoopLag,
    collector_paused,
    met,
    ms,
    on_schedule,
    percentile,
    print_table,
    running,
    wait_for,
    wait_for_quiet,
)
from bot.jobs.contests import ContestDraft, ContestService
from bot.jobs.models import Requester
from bot.storage import (
    Contest,
    ContestPhase,
    ContestRepository,
    Database,
    ManualClock,
    NewTrack,
    TrackRepository,
)
from bot.storage.clock import to_stored
from cogs.contests.components import VoteButton, vote_button
from sandbox.discord import LocalDiscord, Rules
from sandbox.discord.rules import EPHEMERAL
from sandbox.discord.state import Member, Message, User

VOTE_PREFIX = VoteButton.prefix + ":"
BARE = "bare discord.py (answers at once)"
REAL = "soundverse bot"
POSTS_TIMEOUT = 60.0
"""How long the bot may take after start-up to post every entry with its Vote button."""
DRAIN_TIMEOUT = 180.0
"""How long after the last click the bot may take to answer (or try to answer) every vote."""
SEEDED_BEFORE = timedelta(hours=1)
"""How long before the run the contests of (a) were created (their submissions window)."""
CLOSE_TARGET = 0.100
AUTHORS = 1_000
"""User ids of the members who entered (voters are the local Discord's snowflakes)."""
VOTERS = 50_000
"""User ids of the voters of (b)."""


@dataclass(frozen=True)
class Plan:
    """How much load each part applies; `--quick` shrinks the windows and the repetitions."""

    rate: float = 1000.0
    warmup: float = 2.0
    window: float = 10.0
    rounds: int = 2
    contests: int = 10
    entries: int = 20
    close_entries: int = 40
    close_voters: int = 10_000
    close_runs: int = 5

    @property
    def clicks(self) -> int:
        """Votes sent in one round, the warm-up's included."""
        return round(self.rate * (self.warmup + self.window))

    @property
    def voters(self) -> int:
        """Members enough that nobody votes twice in a contest."""
        return math.ceil(self.clicks / self.contests)


QUICK = Plan(warmup=1.0, window=4.0, rounds=1, close_runs=3)


# --- contests as the core makes them ----------------------------------------------------------


async def contest_with_entries(
    service: ContestService,
    tracks: TrackRepository,
    admin: Requester,
    *,
    channel_id: int,
    entries: int,
    voting_opens_at: datetime,
    closes_at: datetime,
) -> Contest:
    """A contest from a new source track of `admin`'s, taking submissions from now, with
    `entries` members' tracks derived from the source entered."""
    assert admin.guild_id is not None
    source = await tracks.add(
        NewTrack(
            channel_id=channel_id, user_id=admin.user_id, operation="song", guild_id=admin.guild_id
        )
    )
    contest = await service.create(
        admin,
        ContestDraft(
            title=f"Bench remix {source.id}",
            theme="Make the rain dance",
            voting_opens_at=voting_opens_at,
            closes_at=closes_at,
            source_track_id=source.id,
            channel_id=channel_id,
        ),
    )
    await service.advance_due()  # draft -> submissions: they open at once
    for n in range(entries):
        author = Requester(AUTHORS + n, admin.guild_id)
        remix = await tracks.add(
            NewTrack(
                channel_id=channel_id,
                user_id=author.user_id,
                operation="extend_song",
                guild_id=admin.guild_id,
                parent_id=source.id,
            )
        )
        await service.submit(author, contest.id, track_id=remix.id)
    return contest


# --- (a) vote acknowledgement ------------------------------------------------------------------


@dataclass(frozen=True)
class Click:
    """One vote of the schedule: the contest's place among the contests, who, which entry."""

    contest: int
    voter: int
    number: int


def schedule(plan: Plan) -> list[Click]:
    """A contest after another; each voter once per contest, the entries chosen unevenly."""
    clicks = []
    for index in range(plan.clicks):
        contest, voter = index % plan.contests, index // plan.contests
        clicks.append(Click(contest, voter, 1 + (voter * voter + contest) % plan.entries))
    return clicks


def add_members(local: LocalDiscord, count: int) -> list[User]:
    """`count` new members of the local Discord's server, and members found by id at once
    (the local Discord scans the server's list for each interaction)."""
    guild = local.guild
    users = [local.world.add_user(f"voter{n}") for n in range(count)]
    guild.members.extend(Member(user, []) for user in users)
    by_id = {member.user.id: member for member in guild.members}
    scan = guild.member
    guild.member = lambda user_id: by_id.get(user_id) or scan(user_id)  # type: ignore[method-assign]
    return users


async def seed_voting(path: Path, local: LocalDiscord, plan: Plan) -> list[int]:
    """The bot's database with `plan.contests` contests voting now in the local Discord's
    server (posted in #general), each with `plan.entries` numbered entries; their ids."""
    now = datetime.now(UTC)
    clock = ManualClock(now - SEEDED_BEFORE)
    admin = Requester(int(local.user("alice").id), int(local.guild.id), manages_guild=True)
    async with Database.open(path, clock=clock) as database:
        service = ContestService(database, clock)
        tracks = TrackRepository(database, clock)
        contests = [
            await contest_with_entries(
                service,
                tracks,
                admin,
                channel_id=int(local.channel("general").id),
                entries=plan.entries,
                voting_opens_at=clock.now() + SEEDED_BEFORE / 2,
                closes_at=now + timedelta(days=1),
            )
            for _ in range(plan.contests)
        ]
        clock.set(now)
        moved = await service.advance_due()
    if len(moved) != plan.contests or any(t.after is not ContestPhase.VOTING for t in moved):
        raise RuntimeError(f"the contests did not all move to voting: {moved}")
    return [contest.id for contest in contests]


def post_ballots(local: LocalDiscord, contest_ids: Sequence[int], entries: int) -> None:
    """Entries with the bot's Vote buttons, put straight into #general (for a bot that posts
    none)."""
    channel = local.channel("general")
    for contest_id in contest_ids:
        for number in range(1, entries + 1):
            button = vote_button(contest_id, number).to_component_dict()
            message = Message(
                local.world.ids.next(),
                channel.id,
                channel.guild_id,
                local.bot_user,
                embeds=[{"title": f"Entry {number}", "type": "rich"}],
                components=[{"type": 1, "components": [button]}],
            )
            local.world.messages[message.id] = message


def vote_buttons(local: LocalDiscord) -> dict[tuple[int, int], tuple[Message, str]]:
    """The bot's messages with a Vote button, by (contest id, entry number), with its
    custom_id."""
    found: dict[tuple[int, int], tuple[Message, str]] = {}
    for message in list(local.world.messages.values()):
        if message.deleted or message.author.id != local.bot_user.id:
            continue
        for component in message.all_components():
            custom_id = str(component.get("custom_id") or "")
            if custom_id.startswith(VOTE_PREFIX):
                contest, number = custom_id[len(VOTE_PREFIX) :].split(":")
                found[(int(contest), int(number))] = (message, custom_id)
    return found


async def send_votes(
    discord: ProbedDiscord,
    clicks: Sequence[Click],
    buttons: dict[tuple[int, int], tuple[Message, str]],
    voters: Sequence[User],
    contest_ids: Sequence[int],
    rate: float,
) -> list[str]:
    """Each click at its instant of a fixed schedule of `rate` per second (late ones at
    once); their interaction ids."""
    ids: list[str] = []
    async for index in on_schedule(len(clicks), rate):
        click = clicks[index]
        message, custom_id = buttons[(contest_ids[click.contest], click.number)]
        handle = await discord.local.click(message, custom_id, user=voters[click.voter])
        ids.append(handle.id)
    return ids


def callback_statuses(discord: ProbedDiscord, since: int) -> dict[str, int]:
    """The status of each interaction's first callback, by interaction id."""
    statuses: dict[str, int] = {}
    for record in discord.local.requests[since:]:
        if record.method == "POST" and record.path.endswith("/callback"):
            # /api/v10/interactions/{id}/{token}/callback
            statuses.setdefault(record.path.split("/")[4], record.status)
    return statuses


def answered_privately(discord: ProbedDiscord, interaction_id: str, text: str) -> bool:
    """The interaction was answered with a private message (type 4) starting with `text`."""
    interaction = discord.local.world.interactions[interaction_id]
    data = interaction.response_data or {}
    return (
        interaction.response_type == 4
        and bool(int(data.get("flags") or 0) & EPHEMERAL)
        and str(data.get("content") or "").startswith(text)
    )


@dataclass(frozen=True)
class StoredVotes:
    """What the bot's database held once it stopped."""

    clicked: int
    votes: int
    voters: int
    tallies_match: bool

    @property
    def exact(self) -> bool:
        return self.votes == self.voters == self.clicked and self.tallies_match


async def stored_votes(
    path: Path, contest_ids: Sequence[int], clicks: Sequence[Click]
) -> StoredVotes:
    """Each contest's votes and voters, then (closing them) each entry's tally, against the
    clicks."""
    clicked = Counter((contest_ids[click.contest], click.number) for click in clicks)
    clock = ManualClock(datetime.now(UTC) + timedelta(days=2))  # past every contest's close
    async with Database.open(path, clock=clock) as database:
        counts = [await ContestRepository(database).counts(i) for i in contest_ids]
        service = ContestService(database, clock)
        await service.advance_due()
        tallies: Counter[tuple[int, int]] = Counter()
        for contest_id in contest_ids:
            contest = await service.find(contest_id)
            assert contest is not None
            for standing in (await service.results_of(contest)).standings:
                tallies[(contest_id, standing.entry.number or 0)] = standing.votes
    return StoredVotes(
        clicked=len(clicks),
        votes=sum(c.votes for c in counts),
        voters=sum(c.voters for c in counts),
        tallies_match=tallies == clicked,
    )


@dataclass
class VoteRound:
    """One round of one bot: latencies of the votes sent after the warm-up, and checks."""

    bot: str
    latencies: list[float]
    measured: int
    answered: int  # 200 and the expected private answer
    statuses: Counter[int]
    send_seconds: float
    answer_seconds: float  # from the first vote dispatched to the last one's callback
    clicks: int
    harness_lag: list[float]
    other_requests: Counter[int]  # statuses of the bot's other REST requests meanwhile
    stored: StoredVotes | None = None

    @property
    def unanswered(self) -> int:
        return self.measured - len(self.latencies)


async def measure_votes(label: str, args: Sequence[str], plan: Plan, data_dir: Path) -> VoteRound:
    """One bot, `plan.clicks` votes at `plan.rate` per second."""
    real = args == REAL_BOT
    clicks = schedule(plan)
    voters: list[User] = []
    contest_ids: list[int] = []

    async def prepare(discord: ProbedDiscord, folder: Path) -> None:
        voters.extend(add_members(discord.local, plan.voters))
        if real:
            contest_ids.extend(await seed_voting(folder / "bot.db", discord.local, plan))
        else:
            contest_ids.extend(range(1, plan.contests + 1))
            post_ballots(discord.local, contest_ids, plan.entries)

    rules = Rules()
    rules.message_limit = (100_000, 1.0)  # the entries posted at start-up, at once
    async with running(args, 1.0, data_dir, rules, soundverse_apart=True, prepare=prepare) as run:
        discord = run.discord
        wanted = plan.contests * plan.entries
        if not await wait_for(lambda: len(vote_buttons(discord.local)) >= wanted, POSTS_TIMEOUT):
            raise RuntimeError(f"{label}: the entries with their Vote buttons were not posted")
        buttons = vote_buttons(discord.local)
        await wait_for_quiet(discord)  # the rest of the start-up's posts and edits
        since = len(discord.local.requests)
        with collector_paused():
            async with LoopLag() as lag:
                began = time.monotonic()
                ids = await send_votes(discord, clicks, buttons, voters, contest_ids, plan.rate)
                send_seconds = time.monotonic() - began
                # Every vote's callback, however late: each one the bot handled is stored.
                await wait_for(lambda: all(i in discord.acked for i in ids), DRAIN_TIMEOUT)
        await wait_for_quiet(discord)
        statuses = callback_statuses(discord, since)
        others = [r for r in discord.rest_requests(since) if not r.path.endswith("/callback")]
        first = round(plan.rate * plan.warmup)
        measured = ids[first:]
        expected = [f"Your vote: Entry {c.number}." if real else "Noted: " for c in clicks]
        figures = VoteRound(
            bot=label,
            latencies=[
                discord.acked[i] - discord.dispatched[i] for i in measured if i in discord.acked
            ],
            measured=len(measured),
            answered=sum(
                1
                for i, text in zip(ids, expected, strict=True)
                if statuses.get(i) == 200 and answered_privately(discord, i, text)
            ),
            statuses=Counter(statuses.get(i, 0) for i in ids),
            send_seconds=send_seconds,
            answer_seconds=max(
                (discord.acked[i] for i in ids if i in discord.acked), default=math.nan
            )
            - discord.dispatched[ids[0]],
            clicks=len(ids),
            harness_lag=lag.samples,
            other_requests=Counter(r.status for r in others),
        )
    if real:
        figures.stored = await stored_votes(data_dir / "bot.db", contest_ids, clicks)
    return figures


def pooled(rounds: Sequence[VoteRound]) -> VoteRound:
    """The rounds of one bot as one set of figures."""
    stored = [r.stored for r in rounds if r.stored is not None]
    return VoteRound(
        bot=rounds[0].bot,
        latencies=[value for r in rounds for value in r.latencies],
        measured=sum(r.measured for r in rounds),
        answered=sum(r.answered for r in rounds),
        statuses=sum((r.statuses for r in rounds), Counter()),
        send_seconds=sum(r.send_seconds for r in rounds),
        answer_seconds=sum(r.answer_seconds for r in rounds),
        clicks=sum(r.clicks for r in rounds),
        harness_lag=[value for r in rounds for value in r.harness_lag],
        other_requests=sum((r.other_requests for r in rounds), Counter()),
        stored=(
            StoredVotes(
                clicked=sum(s.clicked for s in stored),
                votes=sum(s.votes for s in stored),
                voters=sum(s.voters for s in stored),
                tallies_match=all(s.tallies_match for s in stored),
            )
            if stored
            else None
        ),
    )


def vote_table(bare: Sequence[VoteRound], real: Sequence[VoteRound], plan: Plan) -> list[str]:
    floor, bot = pooled(bare), pooled(real)
    target = 2 * percentile(floor.latencies, 99)
    per_round = round(plan.rate * plan.window)
    lines = [
        f"(a) Vote acknowledgement latency, votes arriving at {plan.rate:.0f}/s spread over "
        f"{plan.contests} voting contests of {plan.entries} entries ({plan.rounds} "
        f"round{'s' if plan.rounds > 1 else ''}, the bots taking turns; in each, the "
        f"{per_round} votes sent after a {plan.warmup:.0f} s warm-up are measured, and the "
        "rounds are pooled)",
        "",
        "| Bot | Votes sent (rate reached) | Callbacks/s (first vote → last callback) "
        "| Answered: 200, private, as expected | p50 | p99 | p99 of each round | max "
        "| Harness loop lag p99 | Target: p99 ≤ 2× floor p99 | Met |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for row, rounds in ((floor, bare), (bot, real)):
        is_floor = row is floor
        p99 = percentile(row.latencies, 99)
        reached = row.clicks / row.send_seconds
        answered = row.clicks / row.answer_seconds
        ok = p99 <= target and row.answered == row.clicks and row.unanswered == 0
        ok = ok and row.stored is not None and row.stored.exact
        lines.append(
            f"| {row.bot} | {row.clicks} ({reached:.0f}/s) | {answered:.0f}/s "
            f"| {row.answered}/{row.clicks} "
            f"| {ms(percentile(row.latencies, 50))} | {ms(p99)} "
            f"| {', '.join(ms(percentile(r.latencies, 99)) for r in rounds)} "
            f"| {ms(max(row.latencies, default=math.nan))} "
            f"| {ms(percentile(row.harness_lag, 99))} "
            f"| {'floor' if is_floor else '≤ ' + ms(target)} | {'—' if is_floor else met(ok)} |"
        )
    return [*lines, "", *vote_notes(floor, bot)]


def vote_notes(floor: VoteRound, bot: VoteRound) -> list[str]:
    """Callback statuses, acknowledgements never seen, and what the database held."""
    notes = []
    for row in (floor, bot):
        statuses = ", ".join(
            f"{count} × {status or 'no callback'}" for status, count in sorted(row.statuses.items())
        )
        others = sum(row.other_requests.values())
        notes.append(
            f"{row.bot}: callbacks {statuses}; {row.unanswered} of {row.measured} measured "
            f"votes never acknowledged; {others} other REST requests meanwhile "
            f"({row.other_requests[429]} answered 429)."
        )
    stored = bot.stored
    if stored is not None:
        notes.append(
            f"Stored by the bot (read once it stopped): {stored.votes} votes from "
            f"{stored.voters} voters (per contest) for {stored.clicked} clicks, each entry's "
            f"tally {'as clicked' if stored.tallies_match else '**not** as clicked'} once "
            f"the contests closed: {met(stored.exact)}."
        )
    return [" ".join(notes)]


async def run_votes(plan: Plan, workdir: Path) -> None:
    bare: list[VoteRound] = []
    real: list[VoteRound] = []
    try:
        for turn in range(plan.rounds):
            bare.append(await measure_votes(BARE, BARE_BOT, plan, workdir / f"a-bare-{turn}"))
            real.append(await measure_votes(REAL, REAL_BOT, plan, workdir / f"a-bot-{turn}"))
    except RuntimeError as error:  # a bot never got ready, or did not post the entries
        print(f"(a) failed: {error}\n", flush=True)
        return
    print_table(vote_table(bare, real, plan))


# --- (b) closing a contest of 10,000 votes -------------------------------------------------------


@dataclass
class CloseFigures:
    closing: list[float] = field(default_factory=list)
    results: list[float] = field(default_factory=list)
    exact: list[bool] = field(default_factory=list)

    @property
    def total(self) -> list[float]:
        return [c + r for c, r in zip(self.closing, self.results, strict=True)]


async def cast_votes(
    database: Database, contest_id: int, entry_ids: Sequence[int], voters: int, at: datetime
) -> Counter[int]:
    """`voters` distinct members' votes for the entries, chosen unevenly, in one
    transaction; how many each entry got."""
    chosen = [entry_ids[(n * n) % len(entry_ids)] for n in range(voters)]
    async with database.transaction() as transaction:
        await transaction.execute_many(
            "INSERT INTO contest_votes (contest_id, voter_id, slot, entry_id, cast_at)"
            " VALUES (?, ?, 0, ?, ?)",
            [(contest_id, VOTERS + n, e, to_stored(at)) for n, e in enumerate(chosen)],
        )
    return Counter(chosen)


async def measure_closing(plan: Plan, workdir: Path) -> CloseFigures:
    """`plan.close_runs` contests voting with `plan.close_voters` votes each, closed one
    after another: `advance_due`, then `results`."""
    start = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    clock = ManualClock(start)
    admin = Requester(1, 1000, manages_guild=True)
    figures = CloseFigures()
    async with Database.open(workdir / "bot.db", clock=clock) as database:
        service = ContestService(database, clock)
        tracks = TrackRepository(database, clock)
        contests = [
            await contest_with_entries(
                service,
                tracks,
                admin,
                channel_id=5,
                entries=plan.close_entries,
                voting_opens_at=start + timedelta(hours=1),
                closes_at=start + timedelta(days=1, minutes=run),
            )
            for run in range(plan.close_runs)
        ]
        clock.set(start + timedelta(hours=1))
        await service.advance_due()  # submissions -> voting, every entry numbered
        cast: dict[int, Counter[int]] = {}
        for contest in contests:
            entry_ids = [entry.id for entry in await service.entries(admin, contest.id)]
            cast[contest.id] = await cast_votes(
                database, contest.id, entry_ids, plan.close_voters, clock.now()
            )
        for contest in contests:
            clock.set(contest.closes_at)
            began = time.perf_counter()
            moved = await service.advance_due()
            closed = time.perf_counter()
            results = await service.results(admin, contest.id)
            ended = time.perf_counter()
            figures.closing.append(closed - began)
            figures.results.append(ended - closed)
            tallies = Counter({s.entry.id: s.votes for s in results.standings})
            figures.exact.append(
                [(t.contest.id, t.after) for t in moved] == [(contest.id, ContestPhase.CLOSED)]
                and tallies == cast[contest.id]
                and sum(tallies.values()) == plan.close_voters
            )
    return figures


def close_table(figures: CloseFigures, plan: Plan) -> list[str]:
    lines = [
        f"(b) Closing a contest of {plan.close_voters:,} votes ({plan.close_entries} entries, "
        f"{plan.close_voters:,} distinct voters), SQLite file, {len(figures.closing)} contests "
        "closed one after another",
        "",
        "| Step | median | max | Target | Met |",
        "|---|---:|---:|---|---|",
    ]
    rows: list[tuple[str, list[float]]] = [
        ("`advance_due`: voting → closed, the tally frozen", figures.closing),
        ("`results`: the ranked standings read", figures.results),
        ("**close + results**", figures.total),
    ]
    for name, values in rows:
        judged = values is rows[-1][1]
        worst = max(values, default=math.nan)
        median = statistics.median(values) if values else math.nan
        ok = worst < CLOSE_TARGET and all(figures.exact)
        lines.append(
            f"| {name} | {ms(median)} | {ms(worst)} "
            f"| {f'< {CLOSE_TARGET * 1000:.0f} ms, median and max' if judged else '—'} "
            f"| {met(ok) if judged else '—'} |"
        )
    exact = sum(figures.exact)
    lines += [
        "",
        f"Each close moved only its contest, and its standings held every vote as cast: "
        f"{exact} of {len(figures.exact)}.",
    ]
    return lines


async def run_closing(plan: Plan, workdir: Path) -> None:
    print_table(close_table(await measure_closing(plan, workdir / "b"), plan))


# --- the whole run ---------------------------------------------------------------------------


PARTS: dict[str, Callable[[Plan, Path], Awaitable[None]]] = {
    "a": run_votes,
    "b": run_closing,
}


async def run_all(plan: Plan, parts: str, workdir: Path) -> None:
    for part, run in PARTS.items():
        if part in parts:
            await run(plan, workdir)


def main() -> None:
    run_benchmark(
        __doc__.splitlines()[0],
        name="contests",
        parts="ab",
        parts_help="which parts to run: a (vote acknowledgements), b (closing a contest)",
        quick_help=f"{QUICK.warmup + QUICK.window:.0f} s rounds, one each; "
        f"{QUICK.close_runs} closes",
        plans=(Plan(), QUICK),
        run_all=run_all,
    )


if __name__ == "__main__":
    main()
