"""`/admin quota`: show or change the server's quota policy (Manage Server, checked again here)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.config import Period
from bot.errors import UserFacingError
from bot.jobs.quota import PolicyChange
from bot.storage import QuotaPolicy
from bot.ui.feature import FeatureCog

ADMIN_COLOUR = discord.Colour.from_rgb(120, 86, 255)


def policy_embed(policy: QuotaPolicy, costs: dict[str, int]) -> discord.Embed:
    """A server's quota policy and what each operation costs."""
    embed = discord.Embed(title="Quota policy of this server", colour=ADMIN_COLOUR)
    embed.add_field(name="Units", value=f"{policy.units_per_period} per {policy.period.value}")
    embed.add_field(name="Per member", value=f"{policy.member_cap} per {policy.period.value}")
    embed.add_field(name="Jobs at once per member", value=str(policy.member_concurrent))
    exempt = ", ".join(f"<@&{role}>" for role in sorted(policy.exempt_role_ids)) or "none"
    embed.add_field(name="Exempt roles", value=exempt, inline=False)
    prices = ", ".join(f"{name} {cost}" for name, cost in sorted(costs.items()))
    embed.add_field(name="Costs (units)", value=prices, inline=False)
    return embed


class Admin(FeatureCog):
    """Server settings of the bot, for members with Manage Server."""

    admin = app_commands.Group(
        name="admin",
        description="Server settings of the bot",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    @admin.command(name="quota", description="Show or change this server's quota policy")
    @app_commands.describe(
        units="Units the whole server may spend per period",
        period="How often the units reset (UTC)",
        member_cap="Units one member may spend per period",
        jobs_at_once="Jobs one member may run at the same time",
        exempt_role="A role to exempt from the unit limits (toggles)",
    )
    async def admin_quota(
        self,
        interaction: discord.Interaction[Any],
        units: app_commands.Range[int, 0, 1_000_000] | None = None,
        period: Period | None = None,
        member_cap: app_commands.Range[int, 0, 1_000_000] | None = None,
        jobs_at_once: app_commands.Range[int, 1, 20] | None = None,
        exempt_role: discord.Role | None = None,
    ) -> None:
        if not interaction.permissions.manage_guild:
            raise UserFacingError("You need the Manage Server permission to change the quota.")
        assert interaction.guild_id is not None
        change = PolicyChange(
            units=units,
            period=period,
            member_cap=member_cap,
            jobs_at_once=jobs_at_once,
            exempt_role_id=exempt_role.id if exempt_role is not None else None,
        )
        quota = self.app.services.quota
        policy = await quota.change_policy(
            interaction.guild_id, change, actor_id=interaction.user.id
        )
        await interaction.response.send_message(
            embed=policy_embed(policy, quota.costs), ephemeral=True
        )
