"""`/quota`: the member's and the server's units used and left, the reset, and their jobs."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.storage import QuotaCard
from bot.ui.application import requester_of
from bot.ui.feature import FeatureCog

QUOTA_COLOUR = discord.Colour.from_rgb(120, 86, 255)


def quota_embed(card: QuotaCard) -> discord.Embed:
    """The quota card: what the member and the server used and have left, and the reset."""
    reset = discord.utils.format_dt(card.reset_at, style="R")
    embed = discord.Embed(title="Your Soundverse quota", colour=QUOTA_COLOUR)
    if card.exempt:
        embed.description = "Your role is exempt from the unit limits."
    mine = f"{card.member_used} used, **{card.member_left}** of {card.member_cap} left"
    embed.add_field(name="You", value=mine)
    if card.guild_limit is not None:
        server = f"{card.guild_used} used, **{card.guild_left}** of {card.guild_limit} left"
        embed.add_field(name="This server", value=server)
    embed.add_field(name="Resets", value=f"{reset} (every {card.period.value})", inline=False)
    jobs = (
        f"You: {card.member_running} running, {card.member_queued} queued "
        f"(at most {card.member_concurrent} at once)"
    )
    if card.guild_id is not None:
        jobs += f"\nServer: {card.guild_running} running, {card.guild_queued} queued"
    embed.add_field(name="Jobs", value=jobs, inline=False)
    return embed


class Quota(FeatureCog):
    """Quota for members."""

    @app_commands.command(
        name="quota",
        description="How much of your Soundverse quota is left",
        extras={"example": "/quota"},
    )
    async def quota(self, interaction: discord.Interaction[Any]) -> None:
        card = await self.app.services.quota.usage(requester_of(interaction))
        await interaction.response.send_message(embed=quota_embed(card), ephemeral=True)
