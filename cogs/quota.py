"""`/quota` for members and `/admin quota` for server managers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Period
from bot.errors import UserFacingError
from bot.jobs.policies import updated_policy
from bot.storage import QuotaCard, QuotaLedger, QuotaPolicy
from bot.ui.launch import role_ids

if TYPE_CHECKING:
    from bot.app import SoundverseBot

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


def policy_embed(policy: QuotaPolicy, costs: dict[str, int]) -> discord.Embed:
    """A server's quota policy and what each operation costs."""
    embed = discord.Embed(title="Quota policy of this server", colour=QUOTA_COLOUR)
    embed.add_field(name="Units", value=f"{policy.units_per_period} per {policy.period.value}")
    embed.add_field(name="Per member", value=f"{policy.member_cap} per {policy.period.value}")
    embed.add_field(name="Jobs at once per member", value=str(policy.member_concurrent))
    exempt = ", ".join(f"<@&{role}>" for role in sorted(policy.exempt_role_ids)) or "none"
    embed.add_field(name="Exempt roles", value=exempt, inline=False)
    prices = ", ".join(f"{name} {cost}" for name, cost in sorted(costs.items()))
    embed.add_field(name="Costs (units)", value=prices, inline=False)
    return embed


class Quota(commands.Cog):
    """Quota for members and server managers."""

    admin = app_commands.Group(
        name="admin",
        description="Server settings of the bot",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    def __init__(self, bot: SoundverseBot) -> None:
        self.bot = bot

    @property
    def ledger(self) -> QuotaLedger:
        return self.bot.job_service.ledger

    @app_commands.command(name="quota", description="How much of your Soundverse quota is left")
    async def quota(self, interaction: discord.Interaction[Any]) -> None:
        card = await self.ledger.usage(
            interaction.guild_id, interaction.user.id, role_ids=role_ids(interaction)
        )
        await interaction.response.send_message(embed=quota_embed(card), ephemeral=True)

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
        policy = await self.ledger.get_policy(interaction.guild_id)
        changes = (units, period, member_cap, jobs_at_once, exempt_role)
        if any(value is not None for value in changes):
            exempt_id = exempt_role.id if exempt_role is not None else None
            policy = updated_policy(policy, units, period, member_cap, jobs_at_once, exempt_id)
            await self.ledger.set_policy(
                policy, guild_id=interaction.guild_id, actor_id=interaction.user.id
            )
        await interaction.response.send_message(
            embed=policy_embed(policy, self.bot.settings.quota.costs), ephemeral=True
        )


async def setup(bot: SoundverseBot) -> None:
    await bot.add_cog(Quota(bot))
