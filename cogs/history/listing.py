"""The history listing: pages of tracks, Previous / Next, and posting one of them again.

Every control is restart-proof: its custom_id says whose listing it is, which page it shows
(`m` the member's own tracks, `s` the server's) and, for the pager, which page it leads to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import discord

from bot.errors import UserFacingError
from bot.jobs.access import Access
from bot.jobs.library import HistoryScope
from bot.jobs.operations import Operation
from bot.storage import Track, TrackPage
from bot.ui.application import Application, app_of, upload_limit
from bot.ui.components import Restartable, RestartProofButton, RestartProofSelect
from bot.ui.result_card import format_duration, message_link, track_view
from bot.ui.text import FIELD_VALUE_LIMIT, OPTION_LABEL_LIMIT, TITLE_LIMIT, clip, shown

PER_PAGE = 5
HISTORY_COLOUR = discord.Colour.from_rgb(120, 86, 255)
LISTING_KEY = r"[ms]\.\d+\.\d+"


@dataclass(frozen=True)
class Listing:
    """One page of someone's history listing, as its controls name it."""

    scope: HistoryScope
    page: int

    @property
    def user_id(self) -> int:
        return self.scope.owner_id

    @property
    def guild_id(self) -> int | None:
        return self.scope.guild_id

    @property
    def title(self) -> str:
        return "Tracks made in this server" if self.scope.whole_server else "Your tracks"

    def key(self, page: int | None = None) -> str:
        """`m.<owner>.<page>` or `s.<owner>.<page>`."""
        kind = "s" if self.scope.whole_server else "m"
        return f"{kind}.{self.scope.owner_id}.{self.page if page is None else page}"

    @classmethod
    def from_key(cls, key: str, guild_id: int | None) -> Listing:
        kind, owner, page = key.split(".")
        return cls(HistoryScope(int(owner), guild_id, whole_server=kind == "s"), int(page))


class ListingSubject(Restartable[Listing]):
    """A control of a history listing: only the member it belongs to may use it."""

    KEY = LISTING_KEY
    access = Access.REQUESTER
    refusal = "This listing belongs to someone else."

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> Listing:
        return Listing.from_key(self.key, interaction.guild_id)


def history_embed(title: str, listing: TrackPage, *, authors: bool = False) -> discord.Embed:
    """One page of tracks, newest first; `authors` adds who made each (a server's listing)."""
    embed = discord.Embed(title=title, colour=HISTORY_COLOUR)
    if not listing.items:
        embed.description = "No tracks yet. Make one with `/song` or `/music`."
        return embed
    lines = []
    for track in listing.items:
        when = discord.utils.format_dt(track.created_at, style="R")
        length = format_duration(track.audio_file.duration_seconds if track.audio_file else None)
        link = message_link(track)
        where = f" · [message]({link})" if link else ""
        by = f" by <@{track.user_id}>" if authors else ""
        lines.append(
            f"**#{track.id} {shown(track.title, 80)}** ({track.operation}, {length}){by} "
            f"{when}{where}"
        )
    embed.description = "\n".join(lines)
    embed.set_footer(text=f"Page {listing.page} of {listing.page_count}")
    return embed


class PageButton(ListingSubject, RestartProofButton[Listing]):
    """Previous or Next: shows the page its key names."""

    async def act(self, interaction: discord.Interaction[Any], listing: Listing) -> None:
        embed, view = await listing_message(interaction, listing)
        await interaction.response.edit_message(embed=embed, view=view)


class PreviousPage(PageButton, prefix="history:previous"):
    label = "Previous"
    emoji = "◀️"


class NextPage(PageButton, prefix="history:next"):
    label = "Next"
    emoji = "▶️"


class RepostSelect(ListingSubject, RestartProofSelect[Listing], prefix="history:repost"):
    """Post one of the page's tracks again, with its file when it is still here and fits."""

    placeholder = "Post a track again…"
    options: ClassVar[list[discord.SelectOption]] = [
        discord.SelectOption(label="No tracks", value="0")
    ]

    async def act(self, interaction: discord.Interaction[Any], listing: Listing) -> None:
        app = app_of(interaction)
        track = await app.services.library.find(int(self.chosen[0]))
        if track is None or not listing.scope.includes(track):
            raise UserFacingError("That track is no longer listed.")
        content, embed, files, view = repost_message(app, track, upload_limit(interaction))
        await interaction.response.send_message(
            content,
            embed=embed,
            files=files,
            view=view,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def listing_message(
    interaction: discord.Interaction[Any], listing: Listing
) -> tuple[discord.Embed, discord.ui.View]:
    """The embed and controls of a listing page (a page past the end shows the last)."""
    page = await app_of(interaction).services.library.history_page(
        listing.scope, listing.page, PER_PAGE
    )
    shown = Listing(listing.scope, page.page)
    view = discord.ui.View(timeout=None)
    previous = PreviousPage(shown.key(max(1, page.page - 1)))
    following = NextPage(shown.key(page.page + 1))
    previous.item.disabled = page.page <= 1
    following.item.disabled = page.page >= page.page_count
    repost = RepostSelect(shown.key())
    repost.item.options = [
        discord.SelectOption(label=clip(f"#{t.id} {t.title}", OPTION_LABEL_LIMIT), value=str(t.id))
        for t in page.items
    ] or list(RepostSelect.options)
    repost.item.disabled = not page.items
    for item in (previous, following, repost):
        view.add_item(item)
    return history_embed(shown.title, page, authors=shown.scope.whole_server), view


def repost_message(
    app: Application, track: Track, limit: int
) -> tuple[str, discord.Embed, list[discord.File], discord.ui.View]:
    """A track posted again: its file when it is still here and fits, else a link."""
    embed = discord.Embed(title=shown(track.title, TITLE_LIMIT), colour=HISTORY_COLOUR)
    if track.prompt:
        embed.add_field(name="Prompt", value=shown(track.prompt, FIELD_VALUE_LIMIT), inline=False)
    if track.license:
        embed.add_field(name="License", value=shown(track.license, FIELD_VALUE_LIMIT))
    embed.set_footer(text=f"Track #{track.id}")
    files = []
    links: list[discord.ui.Button[Any]] = []
    audio = track.audio_file
    if audio is not None and audio.path.is_file() and audio.bytes <= limit:
        files.append(discord.File(audio.path, filename=f"track-{track.id}{audio.path.suffix}"))
    elif track.audio_url and track.audio_url.startswith(("https://", "http://")):
        links.append(discord.ui.Button(label="Audio (link)", url=track.audio_url[:512]))
    view = track_view(app.follow_ups, track.id, Operation(track.operation), links)
    return f"🎵 Track #{track.id}", embed, files, view
