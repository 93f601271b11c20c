"""The arithmetic of quota, apart from where it is stored: periods, limits, refusals, usage cards.

`QuotaLedger` reads what was used from the database and asks this module whether a
reservation fits; everything here is pure, so it is tested without a database.
A limit of 0 units means nothing may be spent (operations that cost 0 units stay available).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.config import Period, QuotaSettings
from bot.storage.errors import StorageError
from bot.words import counted


class RefusalReason(StrEnum):
    """Why a reservation was refused."""

    GUILD_LIMIT = "guild_limit"
    MEMBER_CAP = "member_cap"
    DM_LIMIT = "dm_limit"
    CONCURRENT_JOBS = "concurrent_jobs"


@dataclass(frozen=True)
class QuotaPolicy:
    """The limits of one guild (or of one user in DMs) per period."""

    units_per_period: int
    period: Period
    member_cap: int
    member_concurrent: int
    exempt_role_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.units_per_period < 0 or self.member_cap < 0:
            raise ValueError("quota limits must not be negative")
        if self.member_concurrent < 1:
            raise ValueError("member_concurrent must be at least 1")

    @classmethod
    def guild_default(cls, settings: QuotaSettings) -> QuotaPolicy:
        """The policy of a guild that has not set its own."""
        return cls(
            units_per_period=settings.units_per_period,
            period=settings.period,
            member_cap=settings.member_cap,
            member_concurrent=settings.member_concurrent,
        )

    @classmethod
    def dm_default(cls, settings: QuotaSettings) -> QuotaPolicy:
        """The policy of a user in DMs who has not been given their own."""
        return cls(
            units_per_period=settings.dm_units_per_period,
            period=settings.period,
            member_cap=settings.dm_units_per_period,
            member_concurrent=settings.member_concurrent,
        )

    def describe(self) -> str:
        """One line for the ledger's record of a policy change."""
        roles = ",".join(str(role) for role in sorted(self.exempt_role_ids)) or "none"
        return (
            f"units_per_period={self.units_per_period} period={self.period.value}"
            f" member_cap={self.member_cap} member_concurrent={self.member_concurrent}"
            f" exempt_roles={roles}"
        )


class QuotaError(StorageError):
    """Base class of quota errors."""


class QuotaExceeded(QuotaError):
    """A reservation was refused; says why, what is left and when the period resets."""

    def __init__(
        self,
        reason: RefusalReason,
        *,
        requested: int,
        left: int,
        limit: int,
        reset_at: datetime,
    ) -> None:
        self.reason = reason
        self.requested = requested
        self.left = left
        self.limit = limit
        self.reset_at = reset_at
        super().__init__(self._describe())

    def _describe(self) -> str:
        if self.reason is RefusalReason.CONCURRENT_JOBS:
            return f"already has {counted(self.limit, 'job')} in progress, the most allowed"
        scope = {
            RefusalReason.GUILD_LIMIT: "this server",
            RefusalReason.MEMBER_CAP: "you in this server",
            RefusalReason.DM_LIMIT: "you in DMs",
        }[self.reason]
        return (
            f"needs {self.requested} unit(s) but {scope} has {self.left} of {self.limit} left; "
            f"resets at {self.reset_at.isoformat()}"
        )


def period_bounds(period: Period, now: datetime) -> tuple[datetime, datetime]:
    """The start of the period containing `now` and the instant it resets (both UTC)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return midnight, midnight + timedelta(days=1)
    if period is Period.WEEK:
        start = midnight - timedelta(days=midnight.weekday())
        return start, start + timedelta(days=7)
    start = midnight.replace(day=1)
    if start.month == 12:
        return start, start.replace(year=start.year + 1, month=1)
    return start, start.replace(month=start.month + 1)


@dataclass(frozen=True)
class Scope:
    """Who a reservation is counted against: a guild member, or a user in DMs."""

    guild_id: int | None
    user_id: int

    @property
    def in_dm(self) -> bool:
        return self.guild_id is None


def policy_key(guild_id: int | None, user_id: int | None) -> tuple[str, int]:
    """The policy of a guild, or of `user_id` in DMs when `guild_id` is None."""
    if guild_id is not None:
        return "guild", guild_id
    if user_id is None:
        raise ValueError("a DM policy needs the user id")
    return "user", user_id


def is_exempt(scope: Scope, policy: QuotaPolicy, role_ids: Collection[int]) -> bool:
    """Members holding an exempt role pass the unit limits (never in DMs)."""
    return not scope.in_dm and not policy.exempt_role_ids.isdisjoint(role_ids)


@dataclass(frozen=True)
class Usage:
    """What a scope has used in the current period, and how many reservations it holds open."""

    member_used: int
    guild_used: int
    member_open: int
    start: datetime
    reset_at: datetime
    exempt: bool


def unit_limits(
    scope: Scope, policy: QuotaPolicy, usage: Usage
) -> list[tuple[RefusalReason, int, int]]:
    """The unit limits that apply, each with what has been used against it."""
    if usage.exempt:
        return []
    if scope.in_dm:
        return [(RefusalReason.DM_LIMIT, policy.units_per_period, usage.member_used)]
    return [
        (RefusalReason.GUILD_LIMIT, policy.units_per_period, usage.guild_used),
        (RefusalReason.MEMBER_CAP, policy.member_cap, usage.member_used),
    ]


def refusal(scope: Scope, policy: QuotaPolicy, usage: Usage, units: int) -> QuotaExceeded | None:
    """Why a reservation of `units` must be refused, or None when it fits."""
    for reason, limit, used in unit_limits(scope, policy, usage):
        if used + units > limit:
            return QuotaExceeded(
                reason,
                requested=units,
                left=max(0, limit - used),
                limit=limit,
                reset_at=usage.reset_at,
            )
    if usage.member_open >= policy.member_concurrent:
        return QuotaExceeded(
            RefusalReason.CONCURRENT_JOBS,
            requested=units,
            left=0,
            limit=policy.member_concurrent,
            reset_at=usage.reset_at,
        )
    return None


@dataclass(frozen=True)
class JobCounts:
    """Jobs of a member and of their guild (or DM user) by whether they run or wait."""

    member_running: int
    member_queued: int
    guild_running: int
    guild_queued: int


@dataclass(frozen=True)
class QuotaCard:
    """What a member (or a DM user) has used and has left, for a usage command.

    In DMs the guild figures are None and the member figures are the user's own limit.
    """

    guild_id: int | None
    user_id: int
    period: Period
    period_start: datetime
    reset_at: datetime
    exempt: bool
    member_used: int
    member_cap: int
    member_left: int
    guild_used: int | None
    guild_limit: int | None
    guild_left: int | None
    member_concurrent: int
    member_running: int
    member_queued: int
    guild_running: int
    guild_queued: int

    @classmethod
    def of(cls, scope: Scope, policy: QuotaPolicy, usage: Usage, jobs: JobCounts) -> QuotaCard:
        """The card of `scope`: in DMs the user's own limit is their cap and there is no guild."""
        member_cap = policy.units_per_period if scope.in_dm else policy.member_cap
        guild = None if scope.in_dm else policy.units_per_period
        return cls(
            guild_id=scope.guild_id,
            user_id=scope.user_id,
            period=policy.period,
            period_start=usage.start,
            reset_at=usage.reset_at,
            exempt=usage.exempt,
            member_used=usage.member_used,
            member_cap=member_cap,
            member_left=max(0, member_cap - usage.member_used),
            guild_used=None if guild is None else usage.guild_used,
            guild_limit=guild,
            guild_left=None if guild is None else max(0, guild - usage.guild_used),
            member_concurrent=policy.member_concurrent,
            member_running=jobs.member_running,
            member_queued=jobs.member_queued,
            guild_running=jobs.guild_running,
            guild_queued=jobs.guild_queued,
        )
