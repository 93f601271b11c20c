"""Posting a contest to Discord and keeping what was posted up to date.

`Announcer.sync` makes Discord show a contest as it is now: the card (posted once, then
edited), the anonymous entries with their Vote buttons while voting, the results once closed
(giving the winner role the first time). Everything posted is recorded
(`bot.storage.contests.ContestPost`), so a sync after a restart edits instead of posting
again, and posts what a crash interrupted. Syncs of one contest run one at a time.

A text channel gets the card and the results, and a thread under the card for the entries; a
forum channel gets a post per contest, with the entries and results in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from bot.jobs.contests import BallotEntry, ContestResults, ContestService
from bot.storage import Contest, ContestCounts, ContestPhase, ContestPost, PostKind, Track
from bot.ui.application import Application
from cogs.contests.cards import contest_embed, entry_embed, results_embed
from cogs.contests.components import SubmitButton, vote_button

log = logging.getLogger(__name__)

RESULT_PHASES = (ContestPhase.CLOSED, ContestPhase.ARCHIVED)


@dataclass(frozen=True)
class _ShownCard:
    """What a contest card was built from, but its counts."""

    contest: Contest
    source: Track | None
    stems: Sequence[Track]
    stems_settled: bool
    winners: Sequence[int]
    post: ContestPost | None

    def parts_with(self, counts: ContestCounts) -> dict[str, Any]:
        """The card's embed and buttons with these counts."""
        embed = contest_embed(
            self.contest,
            counts,
            source=self.source,
            stems=self.stems,
            stems_settled=self.stems_settled,
            winners=self.winners,
        )
        view = discord.ui.View(timeout=None)
        if self.contest.phase in (ContestPhase.DRAFT, ContestPhase.SUBMISSIONS):
            view.add_item(SubmitButton(self.contest.id))
        return {"embed": embed, "view": view}


class Announcer:
    """Shows contests in Discord (see the module's notes)."""

    def __init__(
        self, app: Application, spawn: Callable[[Coroutine[Any, Any, None]], None]
    ) -> None:
        """`spawn` runs the delayed card edits (the feature cancels them when it unloads)."""
        self.app = app
        self._spawn = spawn
        self._locks: dict[int, asyncio.Lock] = {}
        self._refreshing: set[int] = set()
        self._last_refresh: dict[int, float] = {}
        self._shown: dict[int, _ShownCard] = {}

    @property
    def _service(self) -> ContestService:
        return self.app.services.contests

    # --- the whole contest -------------------------------------------------------------

    async def sync(self, contest_id: int) -> None:
        """Show the contest as it is now (posting what is missing, editing the rest)."""
        lock = self._locks.setdefault(contest_id, asyncio.Lock())
        async with lock:
            contest = await self._service.find(contest_id)
            if contest is None:
                return
            results = None
            if contest.phase in RESULT_PHASES:
                results = await self._service.results_of(contest)
            await self._card(contest, results)
            if contest.phase is ContestPhase.VOTING:
                await self._entries(contest)
            if results is not None:
                await self._results(results)

    def refresh_soon(self, contest_id: int) -> None:
        """Edit the card's counts soon: at most once per `CONTESTS_CARD_REFRESH` seconds,
        however many entries and votes arrive meanwhile."""
        if contest_id in self._refreshing:
            return
        self._refreshing.add(contest_id)
        self._spawn(self._refresh_later(contest_id))

    async def _refresh_later(self, contest_id: int) -> None:
        try:
            gap = self.app.settings.contests.card_refresh
            since = time.monotonic() - self._last_refresh.get(contest_id, -gap)
            if since < gap:
                await asyncio.sleep(gap - since)
        finally:
            self._refreshing.discard(contest_id)
        await self.refresh(contest_id)

    async def refresh(self, contest_id: int) -> None:
        """Edit the card's counts now (nothing is posted). What else the card shows changes
        only through `sync`, which rebuilds it; a card not built since the start is rebuilt
        here."""
        self._last_refresh[contest_id] = time.monotonic()
        shown = self._shown.get(contest_id)
        if shown is not None and shown.post is not None:
            counts = await self._service.counts_of(contest_id)
            await self._edit(shown.post, **shown.parts_with(counts))
            return
        contest = await self._service.find(contest_id)
        if contest is None:
            return
        results = None
        if contest.phase in RESULT_PHASES:
            results = await self._service.results_of(contest)
        cards = await self._service.posts(contest.id, PostKind.CARD)
        if cards:
            await self._edit(cards[0], **await self._card_parts(contest, results, cards[0]))

    async def card_parts(self, contest: Contest) -> dict[str, Any]:
        """The card's embed and buttons as the contest is now (to show it privately too)."""
        results = None
        if contest.phase in RESULT_PHASES:
            results = await self._service.results_of(contest)
        return await self._card_parts(contest, results)

    async def strike_entry(self, contest: Contest, number: int) -> None:
        """Mark a disqualified entry's post, without its Vote button."""
        for post in await self._service.posts(contest.id, PostKind.ENTRY):
            if post.number == number:
                embed = discord.Embed(
                    title=f"Entry {number} (disqualified)",
                    description="The organisers took this entry out of the contest.",
                )
                await self._edit(post, embed=embed, view=None, attachments=[])

    # --- the card --------------------------------------------------------------------

    async def _card_parts(
        self, contest: Contest, results: ContestResults | None, post: ContestPost | None = None
    ) -> dict[str, Any]:
        """The card as the contest is now; remembered with its message (`post`) so that the
        counts alone can be brought up to date (`refresh`)."""
        library = self.app.services.library
        source = (
            await library.find(contest.source_track_id)
            if contest.source_track_id is not None
            else None
        )
        stems = await self._service.stems(contest.id)
        shown = _ShownCard(
            contest,
            source,
            stems,
            stems_settled=not stems and await self._service.stems_settled(contest.id),
            winners=[s.entry.user_id for s in results.winners] if results is not None else [],
            post=post,
        )
        if post is not None:
            self._shown[contest.id] = shown
        return shown.parts_with(await self._service.counts_of(contest.id))

    async def _card(self, contest: Contest, results: ContestResults | None) -> None:
        cards = await self._service.posts(contest.id, PostKind.CARD)
        parts = await self._card_parts(contest, results, cards[0] if cards else None)
        if cards:
            await self._edit(cards[0], **parts)
            return
        channel = self._channel(contest.channel_id)
        if channel is None:
            log.warning("contest #%s: its channel %s is gone", contest.id, contest.channel_id)
            return
        if isinstance(channel, discord.ForumChannel):
            made = await channel.create_thread(name=contest.title[:100], **parts)
            await self._record(contest, PostKind.THREAD, made.thread.id, made.thread.id)
            await self._record(contest, PostKind.CARD, made.thread.id, made.message.id)
            return
        assert isinstance(channel, discord.abc.Messageable)
        message = await channel.send(**parts)
        await self._record(contest, PostKind.CARD, message.channel.id, message.id)

    # --- entries and results ---------------------------------------------------------

    async def _entries(self, contest: Contest) -> None:
        posted = {post.number for post in await self._service.posts(contest.id, PostKind.ENTRY)}
        ballot: Sequence[BallotEntry] = await self._service.ballot_of(contest)
        missing = [entry for entry in ballot if entry.number not in posted]
        if not missing:
            return
        where = await self._thread(contest, f"Entries: {contest.title}")
        if where is None:
            return
        for entry in missing:
            parts = await self._entry_parts(contest, entry)
            message = await where.send(**parts)
            parts["view"].stop()  # its clicks are routed by `route_vote`, not by the view
            await self._record(
                contest, PostKind.ENTRY, message.channel.id, message.id, entry.number
            )

    async def _entry_parts(self, contest: Contest, entry: BallotEntry) -> dict[str, Any]:
        track: Track | None = None
        if entry.track_id is not None:
            track = await self.app.services.library.find(entry.track_id)
        parts: dict[str, Any] = {}
        link = entry.upload.url if entry.upload is not None else None
        file = track.audio_file if track is not None else None
        if file is not None and file.path.exists() and file.bytes <= self._upload_limit(contest):
            suffix = Path(file.path).suffix or ".mp3"
            parts["file"] = discord.File(file.path, filename=f"entry-{entry.number}{suffix}")
        elif track is not None:
            link = track.audio_url
        view = discord.ui.View(timeout=None)
        view.add_item(vote_button(contest.id, entry.number))
        parts.update(embed=entry_embed(contest, entry, link), view=view)
        return parts

    async def _results(self, results: ContestResults) -> None:
        contest = results.contest
        posted = await self._service.posts(contest.id, PostKind.RESULTS)
        if posted:
            await self._edit(posted[0], embed=results_embed(results))
            return
        role_note = await self._give_winner_role(results)
        where = await self._card_channel(contest)
        if where is None:
            return
        message = await where.send(embed=results_embed(results, role_note))
        await self._record(contest, PostKind.RESULTS, message.channel.id, message.id)
        self.app.keep_task(self._close_ballot(contest))

    async def _close_ballot(self, contest: Contest) -> None:
        """Take the Vote buttons off the entries (the audio stays)."""
        for post in await self._service.posts(contest.id, PostKind.ENTRY):
            await self._edit(post, view=None)

    async def _give_winner_role(self, results: ContestResults) -> str | None:
        contest = results.contest
        if contest.winner_role_id is None or not results.winners:
            return None
        guild = self.app.client.get_guild(contest.guild_id)
        role = guild.get_role(contest.winner_role_id) if guild is not None else None
        if guild is None or role is None:
            return "The winner role no longer exists; no role was given."
        given = []
        for standing in results.winners:
            try:
                member = guild.get_member(standing.entry.user_id) or await guild.fetch_member(
                    standing.entry.user_id
                )
                await member.add_roles(role, reason=f"Won contest #{contest.id}")
                given.append(member.mention)
            except discord.NotFound:
                continue
            except discord.Forbidden:
                return (
                    f"Could not give {role.mention}: the bot needs Manage Roles, and its highest "
                    "role must be above that one."
                )
        return f"{' and '.join(given)} now {'has' if len(given) == 1 else 'have'} {role.mention}."

    # --- plumbing --------------------------------------------------------------------

    async def _thread(self, contest: Contest, name: str) -> discord.abc.Messageable | None:
        """Where entries go: the contest's thread (made under the card in a text channel, if
        the bot may), else its channel."""
        threads = await self._service.posts(contest.id, PostKind.THREAD)
        if threads:
            return self.app.client.get_partial_messageable(threads[0].channel_id)
        cards = await self._service.posts(contest.id, PostKind.CARD)
        channel = self._channel(contest.channel_id)
        if cards and isinstance(channel, discord.TextChannel):
            try:
                thread = await channel.get_partial_message(cards[0].message_id).create_thread(
                    name=name[:100]
                )
            except discord.HTTPException as error:
                log.info("contest #%s: no thread for its entries (%s)", contest.id, error)
            else:
                await self._record(contest, PostKind.THREAD, thread.id, thread.id)
                return thread
        if channel is None or not isinstance(channel, discord.abc.Messageable):
            return None
        return channel

    async def _card_channel(self, contest: Contest) -> discord.abc.Messageable | None:
        """Where the card is: the contest's channel, or its forum post."""
        cards = await self._service.posts(contest.id, PostKind.CARD)
        if cards:
            return self.app.client.get_partial_messageable(cards[0].channel_id)
        channel = self._channel(contest.channel_id)
        return channel if isinstance(channel, discord.abc.Messageable) else None

    def _channel(self, channel_id: int | None) -> Any:
        return None if channel_id is None else self.app.client.get_channel(channel_id)

    def _upload_limit(self, contest: Contest) -> int:
        guild = self.app.client.get_guild(contest.guild_id)
        return guild.filesize_limit if guild is not None else 10 * 2**20

    async def _edit(self, post: ContestPost, **parts: Any) -> None:
        message = self.app.client.get_partial_messageable(post.channel_id).get_partial_message(
            post.message_id
        )
        with contextlib.suppress(discord.NotFound):
            await message.edit(**parts)

    async def _record(
        self, contest: Contest, kind: PostKind, channel_id: int, message_id: int, number: int = 0
    ) -> None:
        await self._service.record_post(
            ContestPost(contest.id, kind, number, channel_id, message_id)
        )
