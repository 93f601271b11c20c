"""`/contest`: community remix contests, from a source track to a winner.

An admin (Manage Server, or the server's contest-manager role) creates a contest from a track
of this server or an upload; the bot shows what the source's stem pack costs, and on Create
makes it (a normal stems job, charged to the quota) and posts the contest card. Members enter
tracks they made from the source (Submit on the card, `/contest submit`, or Submit to contest
under a result). When voting opens the entries are posted anonymously with a Vote button
each; when it closes the results name the authors and the winner gets the winner role.

The phases move at their stored times (`bot.jobs.contests.ContestScheduler`), at start-up for
what fell due while the bot was down; `cogs.contests.announce.Announcer` shows each contest
as it is now.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import discord
from discord import app_commands

from bot.errors import InvalidInput, UserFacingError
from bot.jobs.contests import (
    ContestDraft,
    Deadline,
    moment,
    when,
)
from bot.jobs.operations import Operation
from bot.jobs.requests import stems_request
from bot.soundverse.enums import StemKind
from bot.storage import Contest, PostKind, Transition, Upload
from bot.storage.jobs import interaction_key
from bot.ui.application import Application, app_of, requester_of
from bot.ui.audio_input import (
    TRACK_ID,
    TrackReference,
    check_upload,
    source_of_track,
    track_choices,
    upload_source,
)
from bot.ui.errors import refuse, report_for
from bot.ui.feature import FeatureCog
from bot.ui.follow_ups import FollowUpEntry
from bot.ui.launch import JobPlan, defer_card, launch_job, order_for
from bot.ui.text import shown
from bot.ui.voice import session_for_member
from bot.voice.queue import QueuedTrack
from bot.words import counted
from cogs.contests.announce import Announcer
from cogs.contests.cards import (
    CONTEST_COLOUR,
    leaderboard_embed,
    results_embed,
    rules_line,
    stamp,
)
from cogs.contests.components import (
    CONTESTS_COG,
    NO_CONTEST_OPEN,
    CancelDraftButton,
    ContestChooser,
    CreateButton,
    EntryPicker,
    SubmitButton,
    SubmitToContest,
    how_to_enter,
    route_vote,
    submitted_text,
)
from cogs.contests.drafts import HeldDraft, HeldDrafts

log = logging.getLogger(__name__)

CHOICES_SHOWN = 25
STEMS_WATCH = (2.0, 60.0, 30 * 60.0)
"""How the card waits for the stem pack: first look, longest gap, and when to stop."""
DEADLINE_CHOICES = [
    app_commands.Choice(name="Submissions (voting moves along)", value=Deadline.SUBMISSIONS.value),
    app_commands.Choice(name="Voting", value=Deadline.VOTING.value),
]
WHEN_HELP = "A length such as 3d, 1d 12h or 90m, or a UTC date such as 2026-12-05 18:00"


class PostChannel(app_commands.Transformer):
    """A text or forum channel to post a contest in (not a media channel)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.forum]

    async def transform(self, interaction: discord.Interaction[Any], value: Any) -> Any:
        channel = interaction.guild.get_channel(value.id) if interaction.guild else None
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            raise InvalidInput("Post the contest in a text channel or a forum.")
        return channel


class Contests(FeatureCog, name=CONTESTS_COG):
    """Remix contests: create, enter, vote, results, leaderboard, listening party."""

    components = (  # the Vote button is routed by `route_vote`
        SubmitButton,
        EntryPicker,
        SubmitToContest,
        ContestChooser,
        CreateButton,
        CancelDraftButton,
    )
    follow_ups = (FollowUpEntry("contest", 60, lambda track: SubmitToContest(track.track_id)),)

    contest = app_commands.Group(
        name="contest", description="Community remix contests", guild_only=True
    )

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.drafts = HeldDrafts()
        self.announcer = Announcer(app, self._spawn)
        self.scheduler = app.services.contests.scheduler(self.announce)
        self._tasks: set[asyncio.Task[None]] = set()

    async def cog_load(self) -> None:
        await super().cog_load()
        self.app.client.add_listener(route_vote, "on_interaction")
        if not self.app.is_job_worker:
            self._spawn(self._run_schedule())

    async def cog_unload(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.app.client.remove_listener(route_vote, "on_interaction")
        await super().cog_unload()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the schedule ----------------------------------------------------------------

    async def _run_schedule(self) -> None:
        """At start-up: apply what fell due while the bot was down, show every contest as it
        is now (posting what a stop interrupted), then follow the schedule."""
        await self.app.client.wait_until_ready()
        try:
            await self.scheduler.tick()
            service = self.app.services.contests
            for guild in self.app.client.guilds:
                for contest in await service.current(guild.id):
                    await self._sync(contest.id)
                for contest in await service.past(guild.id, limit=5):
                    if not await service.posts(contest.id, PostKind.RESULTS):
                        await self._sync(contest.id)  # closed just before a stop
        except Exception:
            log.exception("contests: catching up at start-up failed")
        await self.scheduler.run()

    async def announce(self, transitions: Sequence[Transition]) -> None:
        """Show each contest that moved as it is now."""
        for transition in transitions:
            await self._sync(transition.contest.id)

    async def _sync(self, contest_id: int) -> None:
        try:
            await self.announcer.sync(contest_id)
        except discord.HTTPException:
            log.exception("contests: could not show contest #%s", contest_id)

    # --- what components call --------------------------------------------------------

    async def after_submit(self, contest: Contest) -> None:
        self.announcer.refresh_soon(contest.id)

    async def after_vote(self, contest_id: int) -> None:
        self.announcer.refresh_soon(contest_id)

    def held_draft(self, key: str) -> HeldDraft:
        return self.drafts.get(key)

    def drop_draft(self, key: str) -> None:
        self.drafts.drop(key)

    async def confirm_create(self, interaction: discord.Interaction[Any], held: HeldDraft) -> None:
        """Create the contest, make its stem pack (the job card answers the press), post the
        card, and turn the summary into a link to it."""
        held = self.drafts.take(held.key)
        card_id = await defer_card(interaction)
        service = self.app.services.contests
        draft = replace(held.draft, stems_key=interaction_key(interaction.token))
        try:
            contest = await service.create(requester_of(interaction), draft)
        except Exception as error:
            await refuse(interaction, report_for(error))
            return
        try:
            if held.source_upload is not None:
                source = await upload_source(interaction, held.source_upload)
            else:
                assert draft.source_track_id is not None
                source = source_of_track(
                    await self.app.services.library.track(draft.source_track_id)
                )
            plan = JobPlan(
                Operation.STEMS,
                stems_request(source, StemKind.ALL_STEMS.value),
                note=f"The stem pack of contest #{contest.id}.",
            ).made_from(source)
            await launch_job(
                self.app, interaction, order_for(interaction, plan), card_id, note=plan.note
            )
        except Exception as error:
            await refuse(interaction, report_for(error))
        await self.scheduler.tick()
        await self._sync(contest.id)
        self.scheduler.poke()
        self._spawn(self._watch_stems(contest.id))
        party = await self._schedule_party(contest, held.party_channel)
        link = await self._card_link(contest)
        text = f"✅ Created contest #{contest.id}" + (f": {link}" if link else ".") + party
        with contextlib.suppress(discord.HTTPException):
            await held.interaction.edit_original_response(content=text, embed=None, view=None)

    async def _watch_stems(self, contest_id: int) -> None:
        """Edit the card once the stem pack is made (or its job has ended without it)."""
        first, longest, give_up = STEMS_WATCH
        gap, waited = first, 0.0
        service = self.app.services.contests
        while waited < give_up:
            await asyncio.sleep(gap)
            waited += gap
            if await service.stems(contest_id) or await service.stems_settled(contest_id):
                await self._sync(contest_id)  # the card is rebuilt with its stems
                return
            gap = min(gap * 2, longest)

    async def _schedule_party(self, contest: Contest, channel: discord.VoiceChannel | None) -> str:
        """A Discord event for the listening party when voting opens; what to tell the admin."""
        if channel is None:
            return ""
        try:
            event = await channel.guild.create_scheduled_event(
                name=shown(f"Listening party: {contest.title}", 100),
                start_time=contest.voting_opens_at,
                end_time=contest.closes_at,
                channel=channel,
                entity_type=discord.EntityType.voice,
                privacy_level=discord.PrivacyLevel.guild_only,
                description=f"The entries of contest #{contest.id}, played with /contest play.",
            )
        except discord.HTTPException as error:
            return f" The listening party event could not be made ({error.text or error})."
        return f" Listening party: {event.url}"

    async def _card_link(self, contest: Contest) -> str | None:
        cards = await self.app.services.contests.posts(contest.id, PostKind.CARD)
        if not cards:
            return None
        channel = self.app.client.get_partial_messageable(
            cards[0].channel_id, guild_id=contest.guild_id
        )
        return channel.get_partial_message(cards[0].message_id).jump_url

    # --- choosing a contest ----------------------------------------------------------

    async def contest_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        """The server's contests, running ones first, matching what was typed."""
        if interaction.guild_id is None:
            return []
        service = app_of(interaction).services.contests
        found = [
            *await service.current(interaction.guild_id),
            *await service.past(interaction.guild_id),
        ]
        typed = current.strip().lstrip("#").lower()
        return [
            app_commands.Choice(name=shown(f"#{c.id} {c.title} ({c.phase.value})", 100), value=c.id)
            for c in found
            if not typed or typed in f"{c.id} {c.title}".lower()
        ][:CHOICES_SHOWN]

    async def _chosen(
        self, interaction: discord.Interaction[Any], contest_id: int | None, *, running: bool
    ) -> Contest:
        """The contest named, else the server's only running one (or latest with results)."""
        service = self.app.services.contests
        if contest_id is not None:
            return await service.contest(requester_of(interaction), contest_id)
        assert interaction.guild_id is not None
        if running:
            found = await service.current(interaction.guild_id)
            if len(found) == 1:
                return found[0]
            if not found:
                raise UserFacingError("No contest is running in this server.")
            raise InvalidInput(
                f"{counted(len(found), 'contest')} are running here; choose one with `contest:`."
            )
        past = await service.past(interaction.guild_id, limit=1)
        if not past:
            raise UserFacingError("No contest in this server has results yet.")
        return past[0]

    # --- creating --------------------------------------------------------------------

    @contest.command(
        name="create",
        description="Start a remix contest (Manage Server or the contest-manager role)",
        extras={
            "example": "/contest create title: Rain remix theme: Make it dance submissions: 3d "
            "voting: 2d source_track: #12"
        },
    )
    @app_commands.describe(
        title="The contest's name",
        theme="What entries should be",
        submissions=f"How long entries are taken, or until when. {WHEN_HELP}",
        voting=f"How long voting lasts after that, or until when. {WHEN_HELP}",
        source_track="The track to remix, from this server (autocomplete or #id)",
        source_audio="Or an audio file to remix",
        rules="Anything else entrants should know",
        opens=f"When entries open (default: now). {WHEN_HELP}",
        entries_per_member="Entries each member may have (default 1)",
        votes_per_member="Votes each member may cast (default 1)",
        derived_only="Entries must be made from the source or its stems (default yes)",
        uploads_allowed="Accept uploaded files as entries (default no)",
        winner_role="A role given to the winner",
        joined_before_voting="Only members who joined before voting opened may vote",
        season="A season name, for the leaderboard",
        channel="Where the contest is posted: a text channel or a forum (default: here)",
        party="A voice channel for a listening-party event when voting opens",
    )
    @app_commands.autocomplete(source_track=track_choices)
    async def create(
        self,
        interaction: discord.Interaction[Any],
        title: app_commands.Range[str, 1, 100],
        theme: app_commands.Range[str, 1, 300],
        submissions: app_commands.Range[str, 1, 40],
        voting: app_commands.Range[str, 1, 40],
        source_track: TrackReference | None = None,
        source_audio: discord.Attachment | None = None,
        rules: app_commands.Range[str, 1, 2000] | None = None,
        opens: app_commands.Range[str, 1, 40] | None = None,
        entries_per_member: app_commands.Range[int, 1, 10] = 1,
        votes_per_member: app_commands.Range[int, 1, 10] = 1,
        derived_only: bool = True,
        uploads_allowed: bool = False,
        winner_role: discord.Role | None = None,
        joined_before_voting: bool = False,
        season: app_commands.Range[str, 1, 50] | None = None,
        channel: app_commands.Transform[discord.TextChannel | discord.ForumChannel, PostChannel]
        | None = None,
        party: discord.VoiceChannel | None = None,
    ) -> None:
        service = self.app.services.contests
        now = service.clock.now()
        opens_at = moment(opens, after=now, what="opens") if opens else None
        voting_opens_at = moment(submissions, after=opens_at or now, what="submissions")
        closes_at = moment(voting, after=voting_opens_at, what="voting")
        where = channel or interaction.channel
        if not isinstance(where, discord.TextChannel | discord.ForumChannel):
            raise InvalidInput("Post the contest in a text channel or a forum: choose `channel:`.")
        self._check_can_post(where)
        if (source_track is None) == (source_audio is None):
            raise InvalidInput("Choose one source: `source_track:` or `source_audio:`.")
        track_id = None
        upload = None
        if source_track is not None:
            match = TRACK_ID.fullmatch(source_track.strip())
            if match is None:
                raise InvalidInput(
                    f"`{source_track}` is not a track; pick one from the list or type `#id`."
                )
            track_id = int(match[1])
        if source_audio is not None:
            check_upload(source_audio)
            upload = Upload(source_audio.url, source_audio.filename)
        if winner_role is not None and (winner_role.managed or winner_role.is_default()):
            raise InvalidInput(
                f"{winner_role.mention} cannot be given by a bot; choose another role."
            )
        draft = ContestDraft(
            title=title,
            theme=theme,
            rules=rules or "",
            voting_opens_at=voting_opens_at,
            closes_at=closes_at,
            submissions_open_at=opens_at,
            source_track_id=track_id,
            source_upload=upload,
            channel_id=where.id,
            entries_per_member=entries_per_member,
            derived_only=derived_only,
            uploads_allowed=uploads_allowed,
            winner_role_id=winner_role.id if winner_role else None,
            votes_per_member=votes_per_member,
            voters_joined_before_voting=joined_before_voting,
            season=season,
        )
        requester = requester_of(interaction)
        await service.check_create(requester, draft)
        cost = self.app.services.quota.cost_of(Operation.STEMS)
        usage = await self.app.services.quota.usage(requester)
        held = self.drafts.hold(
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            draft=draft,
            cost=cost,
            interaction=interaction,
            source_upload=source_audio,
            party_channel=party,
        )
        left = (
            usage.member_left
            if usage.guild_left is None
            else min(usage.member_left, usage.guild_left)
        )
        view = discord.ui.View(timeout=None)
        view.add_item(CreateButton(held.key))
        view.add_item(CancelDraftButton(held.key))
        await interaction.response.send_message(
            f"Creating this contest makes the source's stem pack, so entrants can remix its "
            f"parts: **{counted(cost, 'credit')}** of this server's quota ({left} left to you "
            f"this {usage.period.value}). Press **Create contest** to go ahead.",
            embed=summary_embed(draft, where, winner_role, now),
            view=view,
            ephemeral=True,
        )

    def _check_can_post(self, where: discord.TextChannel | discord.ForumChannel) -> None:
        allowed = where.permissions_for(where.guild.me)
        needed = {"View Channel": allowed.view_channel, "Send Messages": allowed.send_messages}
        needed["Embed Links"] = allowed.embed_links
        if isinstance(where, discord.TextChannel):
            needed["Attach Files"] = allowed.attach_files
        missing = [name for name, ok in needed.items() if not ok]
        if missing:
            raise InvalidInput(
                f"I cannot post the contest in {where.mention}: I need {', '.join(missing)} there."
            )

    # --- entering --------------------------------------------------------------------

    @contest.command(
        name="submit",
        description="Enter one of your tracks (or, where allowed, a file) in a contest",
        extras={"example": "/contest submit track: #42"},
    )
    @app_commands.describe(
        contest="Which contest (default: the one taking entries)",
        track="Your track to enter (default: your latest the contest accepts)",
        audio="An audio file, where the contest accepts uploads",
    )
    @app_commands.autocomplete(track=track_choices)
    async def submit(
        self,
        interaction: discord.Interaction[Any],
        contest: int | None = None,
        track: TrackReference | None = None,
        audio: discord.Attachment | None = None,
    ) -> None:
        service = self.app.services.contests
        member = requester_of(interaction)
        chosen = await self._taking(interaction, contest)
        if track is not None and audio is not None:
            raise InvalidInput("Enter either a track or a file, not both.")
        note = ""
        if audio is not None:
            check_upload(audio)
            receipt = await service.submit(
                member, chosen.id, upload=Upload(audio.url, audio.filename)
            )
        else:
            if track is not None:
                match = TRACK_ID.fullmatch(track.strip())
                if match is None:
                    raise InvalidInput(f"`{track}` is not a track; pick one or type `#id`.")
                track_id = int(match[1])
            else:
                found = await service.entry_candidates(member, chosen.id, limit=1)
                if not found:
                    raise UserFacingError(how_to_enter(chosen))
                track_id = found[0].id
                note = " (your latest track it accepts)"
            receipt = await service.submit(member, chosen.id, track_id=track_id)
        await interaction.response.send_message(
            submitted_text(chosen, receipt) + note, ephemeral=True
        )
        self.announcer.refresh_soon(chosen.id)

    async def _taking(
        self, interaction: discord.Interaction[Any], contest_id: int | None
    ) -> Contest:
        service = self.app.services.contests
        if contest_id is not None:
            return await service.contest(requester_of(interaction), contest_id)
        assert interaction.guild_id is not None
        found = await service.taking_entries(interaction.guild_id)
        if not found:
            raise UserFacingError(NO_CONTEST_OPEN)
        if len(found) > 1:
            raise InvalidInput(
                f"{counted(len(found), 'contest')} take entries here; choose one with `contest:`."
            )
        return found[0]

    @contest.command(
        name="withdraw",
        description="Take your entry out of a contest while submissions are open",
        extras={"example": "/contest withdraw"},
    )
    @app_commands.describe(contest="Which contest (default: the one taking entries)")
    async def withdraw(
        self, interaction: discord.Interaction[Any], contest: int | None = None
    ) -> None:
        chosen = await self._taking(interaction, contest)
        entry = await self.app.services.contests.withdraw(requester_of(interaction), chosen.id)
        what = f"track #{entry.track_id}" if entry.track_id is not None else "your upload"
        await interaction.response.send_message(
            f"Withdrew {what} from **{shown(chosen.title, 100)}**.", ephemeral=True
        )
        self.announcer.refresh_soon(chosen.id)

    @contest.command(
        name="show",
        description="A contest's card, with your entries and votes",
        extras={"example": "/contest show"},
    )
    @app_commands.describe(contest="Which contest (default: the one running)")
    async def show(self, interaction: discord.Interaction[Any], contest: int | None = None) -> None:
        chosen = await self._chosen(interaction, contest, running=True)
        service = self.app.services.contests
        member = requester_of(interaction)
        parts = await self.announcer.card_parts(chosen)
        mine = await service.my_entries(member, chosen.id)
        votes = await service.my_votes(member, chosen.id)
        lines = [
            f"Your entry: track #{e.track_id}" if e.track_id else "Your entry: an upload"
            for e in mine
        ]
        if votes:
            lines.append("Your vote: " + ", ".join(f"Entry {n}" for n in votes))
        await interaction.response.send_message("\n".join(lines) or None, ephemeral=True, **parts)

    # --- results ---------------------------------------------------------------------

    @contest.command(
        name="results",
        description="The results of a closed contest",
        extras={"example": "/contest results"},
    )
    @app_commands.describe(contest="Which contest (default: the latest with results)")
    async def results(
        self, interaction: discord.Interaction[Any], contest: int | None = None
    ) -> None:
        chosen = await self._chosen(interaction, contest, running=False)
        results = await self.app.services.contests.results(requester_of(interaction), chosen.id)
        await interaction.response.send_message(embed=results_embed(results))

    async def season_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        seasons = await app_of(interaction).services.contests.seasons(interaction.guild_id)
        typed = current.strip().lower()
        return [
            app_commands.Choice(name=season, value=season)
            for season in seasons
            if typed in season.lower()
        ][:CHOICES_SHOWN]

    @contest.command(
        name="leaderboard",
        description="Points per placement across a season's contests",
        extras={"example": "/contest leaderboard season: Winter"},
    )
    @app_commands.describe(season="Which season (default: the only one, or the latest)")
    async def leaderboard(
        self,
        interaction: discord.Interaction[Any],
        season: app_commands.Range[str, 1, 50] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        service = self.app.services.contests
        if season is None:
            seasons = await service.seasons(interaction.guild_id)
            if not seasons:
                raise UserFacingError(
                    "No contest here belongs to a season; `/contest create season:` starts one."
                )
            season = seasons[0]
        rows = await service.leaderboard(interaction.guild_id, season)
        await interaction.response.send_message(embed=leaderboard_embed(season, rows))

    # --- the listening party ---------------------------------------------------------

    @contest.command(
        name="play",
        description="Play every entry in your voice channel, in order",
        extras={"example": "/contest play"},
    )
    @app_commands.describe(contest="Which contest (default: the one voting)")
    async def play(self, interaction: discord.Interaction[Any], contest: int | None = None) -> None:
        chosen = await self._chosen(interaction, contest, running=True)
        ballot = await self.app.services.contests.ballot(requester_of(interaction), chosen.id)
        if not ballot:
            raise UserFacingError(f"Contest #{chosen.id} has no entries to play.")
        if not self.app.settings.voice.enabled:
            raise UserFacingError("Voice is turned off in this bot.")
        await interaction.response.defer(thinking=True)
        try:
            session = await session_for_member(interaction)
            items = [
                await self._party_item(chosen, entry, len(ballot), interaction.user.id)
                for entry in ballot
            ]
            for item in items:
                session.enqueue(item)
        except UserFacingError as error:
            await refuse(interaction, report_for(error))
            return
        order = ", ".join(f"Entry {entry.number}" for entry in ballot)
        await interaction.followup.send(
            f"🎧 Listening party for **{shown(chosen.title, 100)}** in {session.channel.mention}: "
            f"{order}. Each is announced by its number as it plays."
        )

    async def _party_item(
        self, contest: Contest, entry: Any, total: int, requester: int
    ) -> QueuedTrack:
        title = f"Entry {entry.number} of {total} · {contest.title}"[:100]
        if entry.upload is not None:
            return QueuedTrack(title, requester, entry.upload.url)
        track = await self.app.services.library.find(entry.track_id)
        if track is None:
            raise UserFacingError(f"Entry {entry.number}'s track was deleted.")
        file = track.audio_file
        if file is not None and file.path.exists():
            return QueuedTrack(title, requester, str(file.path), None, file.duration_seconds)
        return QueuedTrack(title, requester, str(track.audio_url))

    # --- admin -----------------------------------------------------------------------

    @contest.command(
        name="extend",
        description="Move a deadline later (admins)",
        extras={"example": "/contest extend deadline: Voting by: 1d"},
    )
    @app_commands.describe(
        contest="Which contest (default: the one running)",
        deadline="Which deadline",
        by="How much later: 1d, 12h, 90m…",
    )
    @app_commands.choices(deadline=DEADLINE_CHOICES)
    async def extend(
        self,
        interaction: discord.Interaction[Any],
        deadline: str,
        by: app_commands.Range[str, 1, 40],
        contest: int | None = None,
    ) -> None:
        chosen = await self._chosen(interaction, contest, running=True)
        start = self.app.services.contests.clock.now()
        length = moment(by, after=start, what="by") - start
        if length <= timedelta(0):
            raise InvalidInput("`by:` is a length such as `1d` or `12h`, not a date.")
        moved = await self.app.services.contests.extend(
            requester_of(interaction), chosen.id, Deadline(deadline), length
        )
        self.scheduler.poke()
        await self._sync(moved.id)
        await interaction.response.send_message(
            f"Extended: entries close {stamp(moved.voting_opens_at)}, voting closes "
            f"{stamp(moved.closes_at)}."
        )

    @contest.command(
        name="close", description="Close voting now (admins)", extras={"example": "/contest close"}
    )
    @app_commands.describe(contest="Which contest (default: the one running)")
    async def close(
        self, interaction: discord.Interaction[Any], contest: int | None = None
    ) -> None:
        chosen = await self._chosen(interaction, contest, running=True)
        await self.app.services.contests.close_now(requester_of(interaction), chosen.id)
        await interaction.response.send_message(
            f"Closed **{shown(chosen.title, 100)}**; the results follow."
        )
        await self._sync(chosen.id)

    async def entry_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[int]]:
        """The chosen contest's entries with their authors (for admins)."""
        contest_id = getattr(interaction.namespace, "contest", None)
        service = app_of(interaction).services.contests
        try:
            chosen = await self._chosen(interaction, contest_id, running=True)
            entries = await service.entries(requester_of(interaction), chosen.id)
        except UserFacingError:
            return []
        choices = []
        for entry in entries:
            if entry.disqualified:
                continue
            number = f"Entry {entry.number}" if entry.number else f"Entry #{entry.id}"
            member = interaction.guild.get_member(entry.user_id) if interaction.guild else None
            author = member.display_name if member else str(entry.user_id)
            what = f"track #{entry.track_id}" if entry.track_id else "upload"
            name = f"{number}: {what} by {author}"
            if current.strip().lower() in name.lower():
                choices.append(app_commands.Choice(name=shown(name, 100), value=entry.id))
        return choices[:CHOICES_SHOWN]

    @contest.command(
        name="disqualify",
        description="Take an entry out, telling its author why (admins)",
        extras={"example": "/contest disqualify entry: Entry 3 reason: Not made from the source"},
    )
    @app_commands.describe(
        contest="Which contest (default: the one running)",
        entry="Which entry",
        reason="Why: sent privately to its author",
    )
    @app_commands.autocomplete(entry=entry_choices)
    async def disqualify(
        self,
        interaction: discord.Interaction[Any],
        entry: int,
        reason: app_commands.Range[str, 1, 500],
        contest: int | None = None,
    ) -> None:
        chosen = await self._chosen(interaction, contest, running=True)
        done = await self.app.services.contests.disqualify(
            requester_of(interaction), chosen.id, entry, reason
        )
        told = await self._tell_author(chosen, done.entry.user_id, reason)
        returned = (
            f" {counted(len(done.voters_returned), 'vote')} for it went back to the voters."
            if done.voters_returned
            else ""
        )
        which = f"Entry {done.entry.number}" if done.entry.number else "the entry"
        await interaction.response.send_message(
            f"Disqualified {which} of <@{done.entry.user_id}>. {told}{returned}",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        if done.entry.number is not None:
            await self.announcer.strike_entry(chosen, done.entry.number)
        await self._sync(chosen.id)

    async def _tell_author(self, contest: Contest, user_id: int, reason: str) -> str:
        try:
            user = self.app.client.get_user(user_id) or await self.app.client.fetch_user(user_id)
            await user.send(
                f"Your entry in the contest **{shown(contest.title, 100)}** was disqualified by "
                f"its organisers. Reason: {reason}"
            )
        except discord.HTTPException:
            return "They could not be told privately (their DMs are closed)."
        return "They were told privately why."

    @contest.command(
        name="cancel",
        description="Cancel a contest that has not closed (admins)",
        extras={"example": "/contest cancel reason: Not enough entries"},
    )
    @app_commands.describe(
        contest="Which contest (default: the one running)", reason="Why (shown on the card)"
    )
    async def cancel(
        self,
        interaction: discord.Interaction[Any],
        contest: int | None = None,
        reason: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        chosen = await self._chosen(interaction, contest, running=True)
        await self.app.services.contests.cancel(requester_of(interaction), chosen.id, reason or "")
        why = f" Reason: {reason}" if reason else ""
        await interaction.response.send_message(
            f"Cancelled **{shown(chosen.title, 100)}**; it gets no results.{why}"
        )
        await self._sync(chosen.id)

    @contest.command(
        name="edit",
        description="Change the theme or rules before entries open (admins)",
        extras={"example": "/contest edit theme: Make it rain"},
    )
    @app_commands.describe(
        contest="Which contest (default: the one running)", theme="New theme", rules="New rules"
    )
    async def edit(
        self,
        interaction: discord.Interaction[Any],
        contest: int | None = None,
        theme: app_commands.Range[str, 1, 300] | None = None,
        rules: app_commands.Range[str, 1, 2000] | None = None,
    ) -> None:
        if theme is None and rules is None:
            raise InvalidInput("Give a new `theme:` or `rules:` (or both).")
        chosen = await self._chosen(interaction, contest, running=True)
        await self.app.services.contests.edit(
            requester_of(interaction), chosen.id, theme=theme, rules=rules
        )
        await interaction.response.send_message("Updated the contest card.", ephemeral=True)
        await self._sync(chosen.id)

    @contest.command(
        name="export",
        description="A closed contest as a CSV file (admins)",
        extras={"example": "/contest export"},
    )
    @app_commands.describe(contest="Which contest (default: the latest with results)")
    async def export(
        self, interaction: discord.Interaction[Any], contest: int | None = None
    ) -> None:
        chosen = await self._chosen(interaction, contest, running=False)
        names: dict[int, str] = {}
        if interaction.guild is not None:
            names = {m.id: m.display_name for m in interaction.guild.members}
        text = await self.app.services.contests.export_csv(
            requester_of(interaction), chosen.id, names
        )
        file = discord.File(io.BytesIO(text.encode()), filename=f"contest-{chosen.id}.csv")
        await interaction.response.send_message(
            f"Contest #{chosen.id}, **{shown(chosen.title, 100)}**:", file=file, ephemeral=True
        )

    @contest.command(
        name="managers",
        description="Let a role run contests here besides Manage Server (Manage Server)",
        extras={"example": "/contest managers role: @Events"},
    )
    @app_commands.describe(role="The role (leave empty: only Manage Server)")
    async def managers(
        self, interaction: discord.Interaction[Any], role: discord.Role | None = None
    ) -> None:
        await self.app.services.contests.set_manager_role(
            requester_of(interaction), role.id if role else None
        )
        text = (
            f"Members with {role.mention} can now run contests here."
            if role
            else "Only members with Manage Server can run contests here now."
        )
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    @contest.command(
        name="audit",
        description="What admins did to a contest, who and when (admins)",
        extras={"example": "/contest audit"},
    )
    @app_commands.describe(contest="Which contest (default: the one running)")
    async def audit(
        self, interaction: discord.Interaction[Any], contest: int | None = None
    ) -> None:
        chosen = await self._chosen(interaction, contest, running=True)
        records = await self.app.services.contests.audit(requester_of(interaction), chosen.id)
        lines = [
            f"{stamp(r.at)} {r.action.value} by "
            f"{'<@' + str(r.actor_id) + '>' if r.actor_id else 'someone whose data was deleted'}"
            + (f": {shown(r.detail, 120)}" if r.detail else "")
            for r in records[-20:]
        ]
        embed = discord.Embed(
            title=f"Audit: contest #{chosen.id}",
            description="\n".join(lines) or "Nothing recorded.",
            colour=CONTEST_COLOUR,
        )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    for _command in (
        submit,
        withdraw,
        show,
        results,
        play,
        extend,
        close,
        disqualify,
        cancel,
        edit,
        export,
        audit,
    ):
        _command.autocomplete("contest")(contest_choices)
    del _command
    leaderboard.autocomplete("season")(season_choices)


def summary_embed(
    draft: ContestDraft,
    where: discord.TextChannel | discord.ForumChannel,
    role: discord.Role | None,
    now: Any,
) -> discord.Embed:
    """The contest as it will be created, for its creator to confirm."""
    embed = discord.Embed(title=f"🏆 {draft.title}", description=draft.theme, colour=CONTEST_COLOUR)
    if draft.rules:
        embed.add_field(name="Rules", value=shown(draft.rules, 1024, one_line=False), inline=False)
    source = (
        f"track #{draft.source_track_id}"
        if draft.source_track_id is not None
        else f"`{draft.source_upload.filename if draft.source_upload else '?'}`"
    )
    opens = draft.submissions_open_at or now
    lines = [
        f"Source: {source}",
        f"Entries: {stamp(opens)} to {stamp(draft.voting_opens_at)}",
        f"Voting: until {stamp(draft.closes_at)} ({when(draft.closes_at)})",
        f"Posted in {where.mention}",
    ]
    if role is not None:
        lines.append(f"Winner role: {role.mention}")
    if draft.season:
        lines.append(f"Season: {draft.season}")
    embed.add_field(name="Set-up", value="\n".join(lines), inline=False)
    embed.add_field(name="How it works", value=rules_line(draft), inline=False)
    return embed
