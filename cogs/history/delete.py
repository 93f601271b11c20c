"""The Delete button under a result: removes the message and every take of that result, with
their files (its requester, or a member with Manage Server)."""

from __future__ import annotations

from typing import Any

import discord

from bot.jobs.access import Access
from bot.storage import Track
from bot.ui.application import app_of
from bot.ui.components import RestartProofButton, TrackSubject


class DeleteTrackButton(TrackSubject, RestartProofButton[Track], prefix="track:delete"):
    """Delete a result message and its tracks."""

    label = "Delete"
    emoji = "🗑️"
    style = discord.ButtonStyle.danger
    access = Access.REQUESTER_OR_MANAGER
    refusal = "Only the member who made this track, or someone with Manage Server, can delete it."

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        await app_of(interaction).services.library.delete_result(track)
        await interaction.response.defer()
        if interaction.message is not None:
            await interaction.message.delete()
