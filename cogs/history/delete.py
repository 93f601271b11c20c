"""The Delete button under a result, and under a track posted again from `/history`.

Delete asks first, privately, and then removes what the message it was pressed on shows:

* on a job's result: the message, every take of that result with its files, and the job card's
  link to it (the card says the result was deleted). The message goes first: where Discord
  refuses to delete it, nothing is deleted and the member is told why.
* on a track posted again: that post only; the track stays in history, and its result stays.

Its requester may, or a member with Manage Server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.jobs.access import Access
from bot.storage import Track
from bot.ui.application import Application, app_of
from bot.ui.components import Restartable, RestartProofButton, TrackSubject
from bot.ui.result_card import message_link
from bot.ui.text import TITLE_LIMIT, shown

log = logging.getLogger(__name__)

REFUSAL = "Only the member who made this track, or someone with Manage Server, can delete it."
DELETED_COLOUR = discord.Colour.dark_grey()
CANT_SEE = (
    "I can't delete messages in this channel: I need the View Channel permission here. "
    "Nothing was deleted."
)
CANT_DELETE = (
    "I can't delete that message here: I need View Channel and Manage Messages, or the message "
    "was posted where I can no longer see. Nothing was deleted."
)


class DeleteTrackButton(TrackSubject, RestartProofButton[Track], prefix="track:delete"):
    """Ask, privately, before deleting what the message shows."""

    label = "Delete"
    emoji = "🗑️"
    style = discord.ButtonStyle.danger
    access = Access.REQUESTER_OR_MANAGER
    refusal = REFUSAL

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        message = interaction.message
        if message is None:
            raise UserFacingError("This button is no longer on a message.")
        if interaction.guild_id is not None and not interaction.app_permissions.view_channel:
            raise UserFacingError(CANT_SEE)
        post = Post(track.id, message.channel.id, message.id)
        title = shown(track.title, TITLE_LIMIT)
        if post.is_result_of(track):
            question = (
                f"Delete **{title}** for good? This removes the result message and every take "
                "of it, with their files, from your history. It can't be undone."
            )
        else:
            original = message_link(track)
            where = f" ([its result]({original}))" if original else ""
            question = (
                f"Remove this post of **{title}**? The track stays in your history and its "
                f"result{where} stays; to delete the track itself, use Delete on its result."
            )
        await interaction.response.send_message(
            embed=discord.Embed(description=question, colour=DELETED_COLOUR),
            view=confirmation_view(post, post.is_result_of(track)),
            ephemeral=True,
        )


@dataclass(frozen=True, slots=True)
class Post:
    """A message that shows a track: its result, or a post of it from `/history`."""

    track_id: int
    channel_id: int
    message_id: int

    def key(self) -> str:
        return f"{self.track_id}-{self.channel_id}-{self.message_id}"

    @classmethod
    def from_key(cls, key: str) -> Post:
        track_id, channel_id, message_id = (int(part) for part in key.split("-"))
        return cls(track_id, channel_id, message_id)

    def is_result_of(self, track: Track) -> bool:
        """Whether this is the job's result message (a track not yet linked to its message
        counts as shown by the result it was pressed on)."""
        return track.message_id is None or track.message_id == self.message_id


class PostSubject(Restartable[Track]):
    """A component about one message showing a track: `<track>-<channel>-<message>`."""

    KEY = r"\d+-\d+-\d+"
    access = Access.REQUESTER_OR_MANAGER
    refusal = REFUSAL

    @property
    def post(self) -> Post:
        return Post.from_key(self.key)

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> Track:
        return await app.services.library.track(self.post.track_id)


class ConfirmDeleteButton(PostSubject, RestartProofButton[Track], prefix="track:delete-for-good"):
    """Delete the result the confirmation was asked about."""

    label = "Delete for good"
    emoji = "🗑️"
    style = discord.ButtonStyle.danger

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        post = self.post
        if not post.is_result_of(track):
            raise UserFacingError("This post no longer shows the result; nothing was deleted.")
        await interaction.response.defer()
        await delete_message(interaction.client, post)
        app = app_of(interaction)
        deleted = await app.services.library.delete_result(track)
        title = shown(track.title, TITLE_LIMIT)
        if deleted:
            await mark_card_deleted(app, track, interaction.user.id)
            takes = "take" if deleted == 1 else "takes"
            answer = f"🗑️ Deleted **{title}** ({deleted} {takes})."
        else:
            answer = f"**{title}** had already been deleted."
        await interaction.edit_original_response(
            embed=discord.Embed(description=answer, colour=DELETED_COLOUR), view=None
        )


class ConfirmRemovePostButton(PostSubject, RestartProofButton[Track], prefix="track:unpost"):
    """Remove a post of a track made from `/history`; the track stays."""

    label = "Remove this post"
    emoji = "🗑️"
    style = discord.ButtonStyle.danger

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        await interaction.response.defer()
        await delete_message(interaction.client, self.post)
        await interaction.edit_original_response(
            embed=discord.Embed(
                description="🗑️ Removed the post. The track is still in your history.",
                colour=DELETED_COLOUR,
            ),
            view=None,
        )


def confirmation_view(post: Post, result: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    button = ConfirmDeleteButton(post.key()) if result else ConfirmRemovePostButton(post.key())
    view.add_item(button)
    return view


async def delete_message(client: discord.Client, post: Post) -> None:
    """Delete the message; gone already is fine, refused is told and stops everything."""
    message = client.get_partial_messageable(post.channel_id).get_partial_message(post.message_id)
    try:
        await message.delete()
    except discord.NotFound:
        log.info("Message %s was already deleted", post.message_id)
    except discord.Forbidden as error:
        raise UserFacingError(CANT_DELETE) from error


async def mark_card_deleted(app: Application, track: Track, deleter_id: int) -> None:
    """Make the job card that linked to the result say it was deleted (best effort: the card
    may be gone, or no longer the bot's to edit)."""
    job = await app.services.jobs.find(track.job_id) if track.job_id is not None else None
    if job is None or job.card_channel_id is None or job.card_message_id is None:
        return
    channel = app.client.get_partial_messageable(job.card_channel_id)
    card = channel.get_partial_message(job.card_message_id)
    try:
        shown_card = await card.fetch()
        embed = shown_card.embeds[0] if shown_card.embeds else discord.Embed()
        # The card's last paragraph is its status line; what comes before it stays.
        paragraphs = (embed.description or "").split("\n\n")
        kept = "\n\n".join(paragraphs[:-1])
        status = f"🗑️ The result was deleted by <@{deleter_id}>."
        embed.description = f"{kept}\n\n{status}" if kept else status
        embed.colour = DELETED_COLOUR
        await card.edit(embed=embed, view=None, allowed_mentions=discord.AllowedMentions.none())
    except discord.HTTPException as error:
        log.info("Could not mark the card of job %s as deleted: %s", job.id, error)
