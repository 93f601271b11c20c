"""Changes to a guild's quota policy, checked the way the settings check the defaults."""

from __future__ import annotations

from bot.config import Period
from bot.errors import InvalidInput
from bot.storage import QuotaPolicy


def updated_policy(
    policy: QuotaPolicy,
    units: int | None,
    period: Period | None,
    member_cap: int | None,
    jobs_at_once: int | None,
    exempt_role_id: int | None,
) -> QuotaPolicy:
    """`policy` with the given changes (a role given again is un-exempted); a member cap above
    the server's units is refused."""
    exempt = set(policy.exempt_role_ids)
    if exempt_role_id is not None:
        exempt.symmetric_difference_update({exempt_role_id})
    new_units = policy.units_per_period if units is None else units
    new_cap = policy.member_cap if member_cap is None else member_cap
    if new_cap > new_units:
        raise InvalidInput(
            f"The member cap ({new_cap}) cannot be above the server's units ({new_units})."
        )
    return QuotaPolicy(
        units_per_period=new_units,
        period=policy.period if period is None else period,
        member_cap=new_cap,
        member_concurrent=policy.member_concurrent if jobs_at_once is None else jobs_at_once,
        exempt_role_ids=frozenset(exempt),
    )
