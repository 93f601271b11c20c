"""Quota as members and managers meet it (`bot.jobs.quota`), over a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Period, QuotaSettings
from bot.errors import InvalidInput
from bot.jobs.models import Requester
from bot.jobs.operations import Operation
from bot.jobs.quota import PolicyChange, QuotaService
from bot.storage import Database

GUILD = 10
ALICE = Requester(1, GUILD)


@pytest.fixture
async def quota(tmp_path: Path) -> AsyncIterator[QuotaService]:
    settings = QuotaSettings(costs={**QuotaSettings().costs, "lyrics": 1})
    async with Database.open(tmp_path / "bot.db") as database:
        yield QuotaService(database, settings)


async def test_a_billed_call_that_succeeds_is_charged(quota: QuotaService) -> None:
    """A paid quick call leaves its units spent."""

    async def write() -> str:
        return "la la"

    assert await quota.billed(Operation.LYRICS, ALICE, write) == "la la"
    assert (await quota.usage(ALICE)).member_used == 1


async def test_a_billed_call_that_fails_is_refunded(quota: QuotaService) -> None:
    """A paid quick call that raises gives its units back and lets the error through."""

    async def broken() -> str:
        raise RuntimeError("soundverse is down")

    with pytest.raises(RuntimeError):
        await quota.billed(Operation.LYRICS, ALICE, broken)
    assert (await quota.usage(ALICE)).member_used == 0


async def test_changing_a_policy_keeps_what_was_not_given(quota: QuotaService) -> None:
    """Setting the units leaves the period and the cap as they were."""
    policy = await quota.change_policy(GUILD, PolicyChange(units=40), actor_id=1)
    assert (policy.units_per_period, policy.period, policy.member_cap) == (40, Period.DAY, 20)
    assert await quota.policy(GUILD) == policy


async def test_giving_an_exempt_role_again_removes_it(quota: QuotaService) -> None:
    """The exempt role option toggles."""
    await quota.change_policy(GUILD, PolicyChange(exempt_role_id=77), actor_id=1)
    assert (await quota.policy(GUILD)).exempt_role_ids == {77}
    await quota.change_policy(GUILD, PolicyChange(exempt_role_id=77), actor_id=1)
    assert (await quota.policy(GUILD)).exempt_role_ids == frozenset()


async def test_a_cap_above_the_units_is_refused_with_both(quota: QuotaService) -> None:
    """A member cap larger than the server's units is refused and nothing changes."""
    with pytest.raises(
        InvalidInput, match=r"member cap \(6\) cannot be above the server's units \(5\)"
    ):
        await quota.change_policy(GUILD, PolicyChange(units=5, member_cap=6), actor_id=1)
    assert (await quota.policy(GUILD)).units_per_period == 100
