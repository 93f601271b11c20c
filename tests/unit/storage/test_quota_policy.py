"""The quota arithmetic of `bot.storage.quota_policy`, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import Period
from bot.storage.quota_policy import (
    JobCounts,
    QuotaCard,
    QuotaPolicy,
    RefusalReason,
    Scope,
    Usage,
    is_exempt,
    period_bounds,
    refusal,
)

NOW = datetime(2026, 3, 11, 12, tzinfo=UTC)
POLICY = QuotaPolicy(units_per_period=10, period=Period.DAY, member_cap=4, member_concurrent=2)
MEMBER = Scope(guild_id=1, user_id=2)
DM_USER = Scope(guild_id=None, user_id=2)


def usage(member: int = 0, guild: int = 0, open_: int = 0, exempt: bool = False) -> Usage:
    start, reset_at = period_bounds(Period.DAY, NOW)
    return Usage(member, guild, open_, start, reset_at, exempt)


def test_period_bounds_of_a_week_start_on_monday() -> None:
    """A week runs from Monday 00:00 UTC to the next Monday."""
    start, end = period_bounds(Period.WEEK, datetime(2026, 3, 11, 12, tzinfo=UTC))
    assert (start, end) == (
        datetime(2026, 3, 9, tzinfo=UTC),
        datetime(2026, 3, 16, tzinfo=UTC),
    )


def test_period_bounds_of_december_end_in_the_next_year() -> None:
    """A month period in December resets on the 1st of January."""
    start, end = period_bounds(Period.MONTH, datetime(2026, 12, 31, 23, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def test_a_reservation_within_every_limit_fits() -> None:
    """Units within the member cap and the guild limit, with a job slot free, are granted."""
    assert refusal(MEMBER, POLICY, usage(member=2, guild=5, open_=1), 2) is None


def test_the_guild_limit_is_checked_before_the_member_cap() -> None:
    """Over both limits, the refusal names the server and what it has left."""
    refused = refusal(MEMBER, POLICY, usage(member=4, guild=9), 2)
    assert refused is not None
    assert (refused.reason, refused.left, refused.limit) == (RefusalReason.GUILD_LIMIT, 1, 10)


def test_the_member_cap_refuses_with_what_the_member_has_left() -> None:
    """A member at 3 of 4 units cannot reserve 2."""
    refused = refusal(MEMBER, POLICY, usage(member=3, guild=3), 2)
    assert refused is not None
    assert (refused.reason, refused.left, refused.limit) == (RefusalReason.MEMBER_CAP, 1, 4)


def test_a_zero_limit_refuses_paid_work_and_allows_free_work() -> None:
    """With 0 units a period, 1 unit is refused and 0 units fit."""
    closed = QuotaPolicy(units_per_period=0, period=Period.DAY, member_cap=0, member_concurrent=1)
    assert refusal(MEMBER, closed, usage(), 1) is not None
    assert refusal(MEMBER, closed, usage(), 0) is None


def test_dm_users_are_held_to_their_own_limit_only() -> None:
    """In DMs the refusal is the DM limit, whatever the member cap says."""
    refused = refusal(DM_USER, POLICY, usage(member=9, guild=9), 2)
    assert refused is not None and refused.reason is RefusalReason.DM_LIMIT


def test_open_reservations_at_the_concurrency_limit_refuse_the_next() -> None:
    """Two open reservations refuse a third, naming the limit of jobs at once."""
    refused = refusal(MEMBER, POLICY, usage(open_=2), 1)
    assert refused is not None
    assert (refused.reason, refused.limit) == (RefusalReason.CONCURRENT_JOBS, 2)


def test_exempt_members_pass_unit_limits_but_not_concurrency() -> None:
    """An exempt member over every unit limit is granted, unless at the concurrency limit."""
    assert refusal(MEMBER, POLICY, usage(member=40, guild=40, exempt=True), 5) is None
    assert refusal(MEMBER, POLICY, usage(open_=2, exempt=True), 1) is not None


def test_exemption_needs_an_exempt_role_and_a_guild() -> None:
    """A member with an exempt role is exempt in the guild; a DM user never is."""
    policy = QuotaPolicy(10, Period.DAY, 4, 2, exempt_role_ids=frozenset({7}))
    assert is_exempt(MEMBER, policy, [3, 7])
    assert not is_exempt(MEMBER, policy, [3])
    assert not is_exempt(DM_USER, policy, [7])


def test_a_dm_card_has_no_guild_figures_and_the_dm_limit_as_cap() -> None:
    """In DMs the card's cap is the period's units and the guild fields are empty."""
    card = QuotaCard.of(DM_USER, POLICY, usage(member=3), JobCounts(1, 0, 1, 0))
    assert (card.member_cap, card.member_left) == (10, 7)
    assert (card.guild_used, card.guild_limit, card.guild_left) == (None, None, None)


def test_a_card_never_shows_negative_units_left() -> None:
    """A member over the cap (the cap was lowered) has 0 left, not a negative number."""
    card = QuotaCard.of(MEMBER, POLICY, usage(member=6, guild=12), JobCounts(0, 0, 0, 0))
    assert (card.member_left, card.guild_left) == (0, 0)


def test_a_negative_limit_is_refused() -> None:
    """A policy with negative units cannot be built."""
    with pytest.raises(ValueError, match="must not be negative"):
        QuotaPolicy(units_per_period=-1, period=Period.DAY, member_cap=0, member_concurrent=1)
