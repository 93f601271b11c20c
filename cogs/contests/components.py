"""The contests' restart-proof components: Submit on the card, the private picker of a member's
eligible tracks, Vote on each anonymous entry, "Submit to contest" under results (with a
chooser when several contests take entries), and Create/Cancel on a new contest's summary."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

import discord

from bot.errors import UserFacingError
from bot.jobs.access import Access
from bot.jobs.contests import SubmitReceipt, VoteReceipt
from bot.storage import Contest, Track
from bot.ui.application import Application, app_of, requester_of
from bot.ui.audio_input import track_label
from bot.ui.components import (
    Restartable,
    RestartProofButton,
    RestartProofSelect,
    TrackSubject,
)
from bot.ui.text import shown

if TYPE_CHECKING:
    from cogs.contests.drafts import HeldDraft

CONTESTS_COG = "Contests"
NO_CONTEST_OPEN = "No contest in this server is taking entries now."


class ContestActions(Protocol):
    """What the components need of the contests cog."""

    async def after_submit(self, contest: Contest) -> None:
        """An entry changed: the card's counts are refreshed (soon, coalesced)."""

    async def after_vote(self, contest_id: int) -> None:
        """A vote changed: the card's counts are refreshed (soon, coalesced)."""

    async def confirm_create(self, interaction: discord.Interaction[Any], held: HeldDraft) -> None:
        """Create the contest held for confirmation and make its stem pack."""

    def held_draft(self, key: str) -> HeldDraft:
        """A contest summary awaiting confirmation (a refusal once it has lapsed)."""

    def drop_draft(self, key: str) -> None:
        """Forget a contest summary."""


def actions(interaction: discord.Interaction[Any]) -> ContestActions:
    cog = app_of(interaction).client.get_cog(CONTESTS_COG)
    if cog is None:
        raise UserFacingError("Contests are turned off in this bot.")
    return cog  # type: ignore[return-value]


@dataclass(frozen=True)
class ContestRef:
    """A contest as components see it: it belongs to its server (any member may use it)."""

    contest: Contest

    @property
    def user_id(self) -> int:
        return self.contest.creator_id or 0

    @property
    def guild_id(self) -> int | None:
        return self.contest.guild_id


class ContestSubject(Restartable[ContestRef]):
    """A component about one contest: the key starts with its id."""

    access = Access.MEMBER

    @property
    def contest_id(self) -> int:
        return int(self.key.split(":")[0])

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> ContestRef:
        contest = await app.services.contests.find(self.contest_id)
        if contest is None:
            raise UserFacingError(f"Contest #{self.contest_id} no longer exists.")
        return ContestRef(contest)


def submitted_text(contest: Contest, receipt: SubmitReceipt) -> str:
    """What a member is told when their entry is recorded."""
    entry = receipt.entry
    what = f"track #{entry.track_id}" if entry.track_id is not None else "your upload"
    text = f"✅ Entered {what} in **{shown(contest.title, 100)}** (contest #{contest.id})."
    if receipt.replaced is not None:
        old = receipt.replaced
        before = f"track #{old.track_id}" if old.track_id is not None else "your upload"
        text += f" It replaces {before}."
    return text + " You can change or withdraw it until submissions close."


def vote_text(receipt: VoteReceipt) -> str:
    """What a voter is told privately: "Your vote: Entry 3"."""
    if receipt.unchanged:
        return f"Your vote: Entry {receipt.number} (unchanged)."
    if receipt.replaced_number is not None:
        return f"Your vote: Entry {receipt.number} (instead of Entry {receipt.replaced_number})."
    return f"Your vote: Entry {receipt.number}."


async def submit_track(
    interaction: discord.Interaction[Any], contest: Contest, track_id: int
) -> None:
    """Enter a track and tell the member privately."""
    service = app_of(interaction).services.contests
    receipt = await service.submit(requester_of(interaction), contest.id, track_id=track_id)
    await interaction.response.send_message(submitted_text(contest, receipt), ephemeral=True)
    await actions(interaction).after_submit(contest)


class SubmitButton(ContestSubject, RestartProofButton[ContestRef], prefix="contest:submit"):
    """On the contest card: pick one of your eligible tracks to enter."""

    label = "Submit an entry"
    emoji = "🎛️"
    style = discord.ButtonStyle.primary

    async def act(self, interaction: discord.Interaction[Any], subject: ContestRef) -> None:
        contest = subject.contest
        service = app_of(interaction).services.contests
        found = await service.entry_candidates(requester_of(interaction), contest.id)
        if not found:
            # Submitting nothing runs every rule and says which one stands in the way.
            refusal = await service.why_not_taking(requester_of(interaction), contest.id)
            raise UserFacingError(refusal or how_to_enter(contest))
        view = discord.ui.View(timeout=None)
        view.add_item(EntryPicker(contest.id, found))
        await interaction.response.send_message(
            f"Which of your tracks do you enter in **{shown(contest.title, 100)}**?",
            view=view,
            ephemeral=True,
        )


def how_to_enter(contest: Contest) -> str:
    """What to do when a member has nothing they could enter yet."""
    made = (
        "an extension, loop or variation of the source or of its stems (the buttons under "
        "their results)"
        if contest.derived_only
        else "a track with this bot here"
    )
    upload = " or attach a file with `/contest submit audio:`" if contest.uploads_allowed else ""
    return (
        f"You have no track that contest #{contest.id} accepts yet: make {made} while "
        f"submissions are open, then press Submit again{upload}."
    )


class EntryPicker(ContestSubject, RestartProofSelect[ContestRef], prefix="contest:pick"):
    """The member's eligible tracks; the one picked is entered."""

    placeholder = "Pick a track to enter…"
    options: ClassVar[list[discord.SelectOption]] = []

    def __init__(self, key: str | int, tracks: list[Track] | tuple[Track, ...] = ()) -> None:
        super().__init__(key)
        self.item.options = [
            discord.SelectOption(label=track_label(track), value=str(track.id)) for track in tracks
        ] or [discord.SelectOption(label="(none)", value="0")]

    async def act(self, interaction: discord.Interaction[Any], subject: ContestRef) -> None:
        await submit_track(interaction, subject.contest, int(self.chosen[0]))


@dataclass(frozen=True)
class Ballot:
    """A Vote button's subject, read from its custom_id alone: votes come by the thousand, so
    the contest is checked by the vote's own write (in the member's server, voting)."""

    contest_id: int
    guild_id: int | None
    user_id: int = 0


class BallotSubject(Restartable[Ballot]):
    """A component about one entry of a contest: the key is `<contest id>:<number>`."""

    KEY = r"\d+:\d+"
    access = Access.MEMBER

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> Ballot:
        if interaction.guild_id is None:
            raise UserFacingError("Contests run in a server, not in direct messages.")
        return Ballot(int(self.key.split(":")[0]), interaction.guild_id)


class VoteButton(BallotSubject, RestartProofButton[Ballot], prefix="contest:vote"):
    """Vote for one anonymous entry; the confirmation is private.

    Votes come by the thousand when a contest is popular, so their clicks are routed by
    `route_vote` straight from the interaction, not through discord.py's dynamic items (which
    rebuild the whole message's view for every click).
    """

    label = "Vote"
    emoji = "🗳️"
    style = discord.ButtonStyle.success

    def __init__(self, key: str | int) -> None:
        super().__init__(key)
        self.item.label = f"Vote for Entry {self.number}"

    @property
    def number(self) -> int:
        return int(self.key.split(":")[1])

    async def act(self, interaction: discord.Interaction[Any], subject: Ballot) -> None:
        member = interaction.user
        joined = member.joined_at if isinstance(member, discord.Member) else None
        service = app_of(interaction).services.contests
        receipt = await service.vote(
            requester_of(interaction), subject.contest_id, self.number, joined_at=joined
        )
        await interaction.response.send_message(vote_text(receipt), ephemeral=True)
        await actions(interaction).after_vote(subject.contest_id)


def vote_button(contest_id: int, number: int) -> discord.ui.Button[Any]:
    """The Vote button of "Entry `number`", to post: a plain button with the Vote custom_id
    (a click on it is routed by `route_vote`, never by discord.py's views)."""
    return VoteButton(f"{contest_id}:{number}").item


VOTE_ID = re.compile(rf"{re.escape(VoteButton.prefix)}:(?P<key>{VoteButton.KEY})")


async def route_vote(interaction: discord.Interaction[Any]) -> None:
    """The `on_interaction` listener: a click on a Vote button votes."""
    if interaction.type is not discord.InteractionType.component:
        return
    data = cast("Mapping[str, Any]", interaction.data or {})
    match = VOTE_ID.fullmatch(str(data.get("custom_id", "")))
    if match is not None:
        await VoteButton(match["key"]).run(interaction)


class SubmitToContest(TrackSubject, RestartProofButton[Track], prefix="track:contest"):
    """Under a result: enter this track in the server's contest taking entries (choosing
    among several)."""

    label = "Submit to contest"
    emoji = "🏆"
    access = Access.REQUESTER
    refusal = "Only the member who made this track can enter it in a contest."

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        if interaction.guild_id is None:
            raise UserFacingError("Contests run in a server, not in direct messages.")
        open_now = await app_of(interaction).services.contests.taking_entries(interaction.guild_id)
        if not open_now:
            raise UserFacingError(NO_CONTEST_OPEN)
        if len(open_now) == 1:
            await submit_track(interaction, open_now[0], track.id)
            return
        view = discord.ui.View(timeout=None)
        view.add_item(ContestChooser(track.id, open_now))
        await interaction.response.send_message(
            f"Which contest do you enter track #{track.id} in?", view=view, ephemeral=True
        )


class ContestChooser(TrackSubject, RestartProofSelect[Track], prefix="track:contest-pick"):
    """The contests taking entries, when there are several; the track goes in the one picked."""

    placeholder = "Pick a contest…"
    options: ClassVar[list[discord.SelectOption]] = []
    access = Access.REQUESTER
    refusal = SubmitToContest.refusal

    def __init__(self, key: str | int, contests: tuple[Contest, ...] = ()) -> None:
        super().__init__(key)
        self.item.options = [
            discord.SelectOption(label=shown(f"#{c.id} {c.title}", 100), value=str(c.id))
            for c in contests[:25]
        ] or [discord.SelectOption(label="(none)", value="0")]

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        service = app_of(interaction).services.contests
        contest = await service.contest(requester_of(interaction), int(self.chosen[0]))
        await submit_track(interaction, contest, track.id)


class DraftSubject(Restartable["HeldDraft"]):
    """A contest summary awaiting its creator's confirmation: the key is its key."""

    KEY = r"[0-9a-f]{16}"
    access = Access.REQUESTER
    refusal = "Only the member who set up this contest can create it."

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> HeldDraft:
        return actions(interaction).held_draft(self.key)


class CreateButton(DraftSubject, RestartProofButton["HeldDraft"], prefix="contest:create"):
    """Create the contest as summarised, and make its stem pack (charged as shown)."""

    label = "Create contest"
    emoji = "🏆"
    style = discord.ButtonStyle.success

    async def act(self, interaction: discord.Interaction[Any], held: HeldDraft) -> None:
        await actions(interaction).confirm_create(interaction, held)


class CancelDraftButton(DraftSubject, RestartProofButton["HeldDraft"], prefix="contest:drop"):
    """Forget the contest summary; nothing was created or charged."""

    label = "Cancel"
    style = discord.ButtonStyle.secondary

    async def act(self, interaction: discord.Interaction[Any], held: HeldDraft) -> None:
        actions(interaction).drop_draft(self.key)
        await interaction.response.edit_message(
            content="Cancelled: no contest was created and nothing was charged.",
            embed=None,
            view=None,
        )
