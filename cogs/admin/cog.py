"""`/admin quota`: any member sees the server's quota policy; Manage Server changes it."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.config import Period
from bot.errors import UserFacingError
from bot.jobs.quota import PolicyChange
from bot.ui.feature import FeatureCog
from bot.ui.policy import policy_embed


class Admin(FeatureCog):
    """Server settings of the bot: anyone may see them, members with Manage Server change
    them."""

    admin = app_commands.Group(
        name="admin", description="Server settings of the bot", guild_only=True
    )

    @admin.command(
        name="quota",
        description="Show this server's quota policy; with options, change it",
        extras={"example": "/admin quota units: 200 period: week"},
    )
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
        assert interaction.guild_id is not None
        change = PolicyChange(
            units=units,
            period=period,
            member_cap=member_cap,
            jobs_at_once=jobs_at_once,
            exempt_role_id=exempt_role.id if exempt_role is not None else None,
        )
        quota = self.app.services.quota
        if change == PolicyChange():
            policy = await quota.policy(interaction.guild_id)
        elif not interaction.permissions.manage_guild:
            raise UserFacingError(
                "Only members with the Manage Server permission can change the quota. "
                "Anyone can see it: `/admin quota` with no options."
            )
        else:
            policy = await quota.change_policy(
                interaction.guild_id, change, actor_id=interaction.user.id
            )
        await interaction.response.send_message(
            embed=policy_embed(policy, quota.costs), ephemeral=True
        )
