"""The track history listing: pages of tracks with buttons, and re-posting one of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import discord

from bot.storage import Track
from bot.ui.text import clip
from bot.ui.track_card import format_duration, message_link, track_actions

PER_PAGE = 5
HISTORY_COLOUR = discord.Colour.from_rgb(120, 86, 255)

PageLoader = Callable[[int], Awaitable[tuple[list[Track], int]]]


def history_embed(title: str, tracks: list[Track], page: int, pages: int) -> discord.Embed:
    """One page of tracks, newest first."""
    embed = discord.Embed(title=title, colour=HISTORY_COLOUR)
    if not tracks:
        embed.description = "No tracks yet. Make one with `/song` or `/music`."
        return embed
    lines = []
    for track in tracks:
        when = discord.utils.format_dt(track.created_at, style="R")
        length = format_duration(track.audio_file.duration_seconds if track.audio_file else None)
        where = f" · [message]({message_link(track)})" if message_link(track) else ""
        lines.append(
            f"**#{track.id} {clip(track.title, 80)}** ({track.operation}, {length}) {when}{where}"
        )
    embed.description = "\n".join(lines)
    embed.set_footer(text=f"Page {page} of {pages}")
    return embed


def repost_message(
    track: Track, limit: int
) -> tuple[str, discord.Embed, list[discord.File], discord.ui.View]:
    """A track posted again: its file when it is still here and fits, else a link."""
    embed = discord.Embed(title=track.title, colour=HISTORY_COLOUR)
    if track.prompt:
        embed.add_field(name="Prompt", value=clip(track.prompt, 1024), inline=False)
    if track.license:
        embed.add_field(name="License", value=track.license)
    embed.set_footer(text=f"Track #{track.id}")
    view = track_actions(discord.ui.View(timeout=None), track.id)
    files = []
    audio = track.audio_file
    if audio is not None and audio.path.is_file() and audio.bytes <= limit:
        files.append(discord.File(audio.path, filename=f"track-{track.id}{audio.path.suffix}"))
    elif track.audio_url and track.audio_url.startswith(("https://", "http://")):
        view.add_item(discord.ui.Button(label="Audio (link)", url=track.audio_url[:512], row=2))
    return f"🎵 Track #{track.id}", embed, files, view


class HistoryView(discord.ui.View):
    """Previous / Next, and a menu to post one of the page's tracks again."""

    def __init__(self, title: str, load: PageLoader, owner_id: int, upload_limit: int) -> None:
        super().__init__(timeout=600)
        self.title = title
        self.load = load
        self.owner_id = owner_id
        self.upload_limit = upload_limit
        self.page = 1
        self.pages = 1
        self.tracks: list[Track] = []

    async def render(self) -> discord.Embed:
        """Load the current page and update the controls."""
        self.tracks, self.pages = await self.load(self.page)
        self.previous.disabled = self.page <= 1
        self.next.disabled = self.page >= self.pages
        menu = cast("discord.ui.Select[Any]", self.repost)
        menu.options = [
            discord.SelectOption(label=clip(f"#{t.id} {t.title}", 100), value=str(t.id))
            for t in self.tracks
        ] or [discord.SelectOption(label="No tracks", value="0")]
        menu.disabled = not self.tracks
        return history_embed(self.title, self.tracks, self.page, self.pages)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            "This listing belongs to someone else.", ephemeral=True
        )
        return False

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.page = max(1, self.page - 1)
        await interaction.response.edit_message(embed=await self.render(), view=self)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.page = min(self.pages, self.page + 1)
        await interaction.response.edit_message(embed=await self.render(), view=self)

    @discord.ui.select(placeholder="Post a track again…", min_values=1, max_values=1)
    async def repost(
        self, interaction: discord.Interaction[Any], select: discord.ui.Select[Any]
    ) -> None:
        chosen = next((t for t in self.tracks if str(t.id) == select.values[0]), None)
        if chosen is None:
            await interaction.response.send_message(
                "That track is no longer listed.", ephemeral=True
            )
            return
        content, embed, files, view = repost_message(chosen, self.upload_limit)
        await interaction.response.send_message(
            content,
            embed=embed,
            files=files,
            view=view,
            allowed_mentions=discord.AllowedMentions.none(),
        )
