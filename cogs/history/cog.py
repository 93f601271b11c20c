"""`/history`, and the Delete button under results."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.jobs.library import HistoryScope
from bot.ui.feature import FeatureCog
from bot.ui.follow_ups import FollowUpEntry
from cogs.history.delete import ConfirmDeleteButton, ConfirmRemovePostButton, DeleteTrackButton
from cogs.history.listing import Listing, NextPage, PreviousPage, RepostSelect, listing_message


class History(FeatureCog):
    """Track history, and deleting a result."""

    components = (
        PreviousPage,
        NextPage,
        RepostSelect,
        DeleteTrackButton,
        ConfirmDeleteButton,
        ConfirmRemovePostButton,
    )
    # Delete removes the whole result (every take), so it is not offered per take.
    follow_ups = (
        FollowUpEntry(
            "delete", 90, lambda track: DeleteTrackButton(track.track_id), per_take=False
        ),
    )

    @app_commands.command(
        name="history",
        description="Your recent tracks, or this server's",
        extras={"example": "/history server: True"},
    )
    @app_commands.describe(server="Show every member's tracks in this server instead of yours")
    async def history(self, interaction: discord.Interaction[Any], server: bool = False) -> None:
        scope = HistoryScope(interaction.user.id, interaction.guild_id, whole_server=server)
        embed, view = await listing_message(interaction, Listing(scope, page=1))
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
