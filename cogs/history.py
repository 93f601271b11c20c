"""`/history`: a member's (or the server's) recent tracks, page by page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.storage import Track
from bot.ui.history import PER_PAGE, HistoryView
from bot.ui.launch import upload_limit

if TYPE_CHECKING:
    from bot.app import SoundverseBot

HISTORY_DEPTH = 500


class History(commands.Cog):
    """Track history."""

    def __init__(self, bot: SoundverseBot) -> None:
        self.bot = bot

    @app_commands.command(name="history", description="Your recent tracks, or this server's")
    @app_commands.describe(server="Show every member's tracks in this server instead of yours")
    async def history(self, interaction: discord.Interaction[Any], server: bool = False) -> None:
        tracks = self.bot.job_service.tracks
        user_id = interaction.user.id
        guild_id = interaction.guild_id
        if server and guild_id is None:
            raise UserFacingError("There is no server history in direct messages.")

        async def load_server(page: int) -> tuple[list[Track], int]:
            assert guild_id is not None
            listing = await tracks.guild_history(guild_id, page=page, per_page=PER_PAGE)
            return list(listing.items), listing.page_count

        async def load_mine(page: int) -> tuple[list[Track], int]:
            mine = await tracks.user_history(user_id, guild_id, limit=HISTORY_DEPTH)
            pages = max(1, -(-len(mine) // PER_PAGE))
            start = (page - 1) * PER_PAGE
            return list(mine[start : start + PER_PAGE]), pages

        title = "Tracks made in this server" if server else "Your tracks"
        view = HistoryView(
            title, load_server if server else load_mine, user_id, upload_limit(interaction)
        )
        embed = await view.render()
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


async def setup(bot: SoundverseBot) -> None:
    await bot.add_cog(History(bot))
