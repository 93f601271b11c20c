"""A server's quota policy as members see it (`/admin quota`, and `/help`'s Quota topic)."""

from __future__ import annotations

import discord

from bot.storage import QuotaPolicy

POLICY_COLOUR = discord.Colour.from_rgb(120, 86, 255)


def policy_embed(policy: QuotaPolicy, costs: dict[str, int]) -> discord.Embed:
    """A server's quota policy and what each operation costs."""
    embed = discord.Embed(title="Quota policy of this server", colour=POLICY_COLOUR)
    embed.add_field(name="Units", value=f"{policy.units_per_period} per {policy.period.value}")
    embed.add_field(name="Per member", value=f"{policy.member_cap} per {policy.period.value}")
    embed.add_field(name="Jobs at once per member", value=str(policy.member_concurrent))
    exempt = ", ".join(f"<@&{role}>" for role in sorted(policy.exempt_role_ids)) or "none"
    embed.add_field(name="Exempt roles", value=exempt, inline=False)
    prices = ", ".join(f"{name} {cost}" for name, cost in sorted(costs.items()))
    embed.add_field(name="Costs (units)", value=prices, inline=False)
    return embed
