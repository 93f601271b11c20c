"""Buttons that survive restarts: the job or track id lives in the `custom_id`.

Registered once with `bot.add_dynamic_items`; discord.py rebuilds each button from
the `custom_id` of the click, so no view has to be kept in memory.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserFacingError
from bot.jobs.service import order_from_job
from bot.storage import Track
from bot.ui.errors import report_for, send_error
from bot.ui.id_button import IdButton
from bot.ui.launch import JobPlan, defer_and_launch
from bot.ui.text import bot_of

if TYPE_CHECKING:
    from bot.app import SoundverseBot

log = logging.getLogger(__name__)


def may_manage(interaction: discord.Interaction[Any], owner_id: int) -> bool:
    """The owner of a job or track, or a member with Manage Server, may act on it."""
    if interaction.user.id == owner_id:
        return True
    permissions = interaction.permissions
    return permissions.manage_guild


class CancelJobButton(IdButton, prefix="job:cancel"):
    """Cancel a queued or running job (its requester, or a member with Manage Server)."""

    label = "Cancel"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.cancel(interaction)
        except Exception as error:
            await send_error(interaction, report_for(error))

    async def cancel(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        job = await bot.job_service.jobs.find(self.item_id)
        if job is None or job.state.is_final:
            raise UserFacingError("This job has already ended.")
        if not may_manage(interaction, job.user_id):
            raise UserFacingError(
                "Only the member who started this job, or someone with Manage Server, "
                "can cancel it."
            )
        if not await bot.cancel_job(self.item_id):
            raise UserFacingError("This job is not running on this bot instance any more.")
        await interaction.response.send_message("Cancelling…", ephemeral=True)


class VariationButton(IdButton, prefix="track:variation"):
    """Run the same request again as a new job (quota applies); its parent is this track."""

    label = "Variation"
    emoji = "🔁"
    style = discord.ButtonStyle.primary

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)

        async def make_plan() -> JobPlan:
            track = await find_track(bot, self.item_id)
            if track.job_id is None:
                raise UserFacingError(
                    "This track's request is no longer known, so it can't be varied."
                )
            stored = order_from_job(await bot.job_service.jobs.get(track.job_id))
            return JobPlan(
                stored.operation, stored.version, stored.request, parent_track_id=track.id
            )

        await defer_and_launch(bot, interaction, make_plan)


class DeleteTrackButton(IdButton, prefix="track:delete"):
    """Delete a result message and its tracks (its requester, or a member with Manage Server)."""

    label = "Delete"
    emoji = "🗑️"
    style = discord.ButtonStyle.danger

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await self.delete(interaction)
        except Exception as error:
            await send_error(interaction, report_for(error))

    async def delete(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        track = await find_track(bot, self.item_id)
        if not may_manage(interaction, track.user_id):
            raise UserFacingError(
                "Only the member who made this track, or someone with Manage Server, can delete it."
            )
        tracks = bot.job_service.tracks
        siblings = await tracks.of_job(track.job_id) if track.job_id is not None else (track,)
        for sibling in siblings:
            removed = await tracks.delete(sibling.id)
            if removed is not None and removed.audio_file is not None:
                removed.audio_file.path.unlink(missing_ok=True)
        await interaction.response.defer()
        if interaction.message is not None:
            await interaction.message.delete()


async def find_track(bot: SoundverseBot, track_id: int) -> Track:
    track = await bot.job_service.tracks.get(track_id)
    if track is None:
        raise UserFacingError("This track has been deleted.")
    return track


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    CancelJobButton,
    VariationButton,
    DeleteTrackButton,
)
