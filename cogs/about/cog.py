"""`/about`: the bot's version, whether Soundverse answers, and how long the bot has been up."""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Any

import discord
from discord import app_commands

from bot import __version__
from bot.errors import UserFacingError
from bot.soundverse.health import ApiHealth
from bot.ui.application import requester_of
from bot.ui.errors import refuse, report_for
from bot.ui.feature import FeatureCog


def format_uptime(seconds: float) -> str:
    """`3d 4h 5m` style, dropping leading zero units; under a minute shows seconds."""
    delta = timedelta(seconds=int(seconds))
    days, rest = divmod(int(delta.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if not (days or hours or minutes):
        return f"{secs}s"
    parts = [(days, "d"), (hours, "h"), (minutes, "m")]
    while parts and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{value}{unit}" for value, unit in parts)


def health_line(health: ApiHealth) -> str:
    """One line for the API field of the card."""
    mark = "🟢" if health.ok else "🔴"
    return f"{mark} {health.summary} ({health.latency_ms:.0f} ms)"


class About(FeatureCog):
    """The `/about` command."""

    @app_commands.command(
        name="about",
        description="What this bot is, its version, and status",
        extras={"example": "/about"},
    )
    async def about(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            health = await self.app.services.api_health(requester_of(interaction))
        except UserFacingError as error:
            await refuse(interaction, report_for(error))
            return
        client = self.app.client
        embed = discord.Embed(
            title="Soundverse for Discord",
            description="Songs, instrumentals, lyrics, stems and loops from the Soundverse API.",
            colour=discord.Colour.blurple(),
        )
        embed.add_field(name="Version", value=__version__)
        embed.add_field(name="Uptime", value=format_uptime(time.monotonic() - self.app.started_at))
        embed.add_field(name="Servers", value=str(len(client.guilds)))
        embed.add_field(name="Soundverse API", value=health_line(health), inline=False)
        embed.add_field(name="Gateway latency", value=gateway_latency(interaction))
        await interaction.followup.send(embed=embed, ephemeral=True)


def gateway_latency(interaction: discord.Interaction[Any]) -> str:
    """The heartbeat latency of the shard this server's events come through (DMs: shard 0),
    and which shard it is when there are several."""
    client = interaction.client
    count = client.shard_count or 1
    shard_id = 0 if interaction.guild_id is None else (interaction.guild_id >> 22) % count
    shard = client.get_shard(shard_id) if isinstance(client, discord.AutoShardedClient) else None
    latency = shard.latency if shard is not None else client.latency
    shown = f"{latency * 1000:.0f} ms" if math.isfinite(latency) else "–"
    return f"{shown} (shard {shard_id} of {count})" if count > 1 else shown
