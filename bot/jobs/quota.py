"""Quota as members and server managers meet it: usage cards, policy changes, paid quick calls.

Jobs reserve and settle their units in `JobService`; this service answers `/quota`, changes a
server's policy (checked the way the settings check the defaults) and bills the calls that
are not jobs (lyrics) like jobs: reserved first, committed on success, refunded on failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.config import Period, QuotaSettings
from bot.errors import InvalidInput
from bot.jobs.models import Requester
from bot.jobs.operations import Operation
from bot.storage import Database, QuotaCard, QuotaLedger, QuotaPolicy
from bot.storage.clock import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class PolicyChange:
    """What a manager asked to change; None leaves a value as it is. A role given again is
    un-exempted."""

    units: int | None = None
    period: Period | None = None
    member_cap: int | None = None
    jobs_at_once: int | None = None
    exempt_role_id: int | None = None

    @property
    def is_empty(self) -> bool:
        return all(
            value is None
            for value in (
                self.units,
                self.period,
                self.member_cap,
                self.jobs_at_once,
                self.exempt_role_id,
            )
        )


def updated_policy(policy: QuotaPolicy, change: PolicyChange) -> QuotaPolicy:
    """`policy` with `change` applied; a member cap above the server's units is refused."""
    exempt = set(policy.exempt_role_ids)
    if change.exempt_role_id is not None:
        exempt.symmetric_difference_update({change.exempt_role_id})
    units = policy.units_per_period if change.units is None else change.units
    cap = policy.member_cap if change.member_cap is None else change.member_cap
    if cap > units:
        raise InvalidInput(f"The member cap ({cap}) cannot be above the server's units ({units}).")
    return QuotaPolicy(
        units_per_period=units,
        period=policy.period if change.period is None else change.period,
        member_cap=cap,
        member_concurrent=(
            policy.member_concurrent if change.jobs_at_once is None else change.jobs_at_once
        ),
        exempt_role_ids=frozenset(exempt),
    )


class QuotaService:
    """Usage, policies and billed quick calls, over the quota ledger."""

    def __init__(
        self, database: Database, settings: QuotaSettings, clock: Clock | None = None
    ) -> None:
        self._settings = settings
        self._ledger = QuotaLedger(database, settings, clock)

    @property
    def costs(self) -> dict[str, int]:
        """Units each operation costs, by cost key."""
        return dict(self._settings.costs)

    def cost_of(self, operation: Operation) -> int:
        """Units one run of `operation` costs."""
        return self._settings.cost_of(operation.cost_key)

    async def usage(self, requester: Requester) -> QuotaCard:
        """What the requester (and their server) used and have left, and their jobs."""
        return await self._ledger.usage(
            requester.guild_id, requester.user_id, role_ids=requester.role_ids
        )

    async def policy(self, guild_id: int) -> QuotaPolicy:
        """A server's policy (the defaults until it sets its own)."""
        return await self._ledger.get_policy(guild_id)

    async def change_policy(
        self, guild_id: int, change: PolicyChange, *, actor_id: int
    ) -> QuotaPolicy:
        """Apply `change` to a server's policy and record who did it; returns the policy now."""
        policy = await self._ledger.get_policy(guild_id)
        if change.is_empty:
            return policy
        policy = updated_policy(policy, change)
        await self._ledger.set_policy(policy, guild_id=guild_id, actor_id=actor_id)
        return policy

    async def billed(
        self, operation: Operation, requester: Requester, call: Callable[[], Awaitable[T]]
    ) -> T:
        """A quick call that is not a job (e.g. lyrics), paid like one.

        Its units are reserved first, committed when it succeeds and refunded when it fails;
        free operations reserve nothing, so running jobs never hold them up.
        """
        cost = self.cost_of(operation)
        if cost == 0:
            return await call()
        reservation = await self._ledger.reserve(
            requester.guild_id,
            requester.user_id,
            operation.cost_key,
            cost,
            role_ids=requester.role_ids,
        )
        try:
            result = await call()
        except BaseException as error:
            await self._ledger.refund(reservation.id, reason=f"{operation} failed: {error}"[:200])
            raise
        await self._ledger.commit(reservation.id)
        return result
