"""Per-member limits on quick Soundverse calls (`bot.jobs.limits`)."""

from __future__ import annotations

import pytest

from bot.jobs.limits import CallLimiter, CallRefused


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_second_call_while_one_runs_is_refused() -> None:
    """With one call at a time, a member's second call during the first is refused."""
    limiter = CallLimiter(cooldown=0, at_once=1, clock=Clock())
    async with limiter.call(1):
        with pytest.raises(CallRefused, match="already have a request to Soundverse running"):
            async with limiter.call(1):
                pass


async def test_a_call_within_the_cooldown_is_refused_with_the_wait() -> None:
    """A call 1 s after the last start, with a 3 s cooldown, says to wait 2 s."""
    clock = Clock()
    limiter = CallLimiter(cooldown=3, at_once=1, clock=clock)
    async with limiter.call(1):
        pass
    clock.now += 1
    with pytest.raises(CallRefused, match="try again in 2 s"):
        async with limiter.call(1):
            pass
    clock.now += 2
    async with limiter.call(1):
        pass


async def test_members_are_limited_apart() -> None:
    """One member's running call does not hold back another member."""
    limiter = CallLimiter(cooldown=3, at_once=1, clock=Clock())
    async with limiter.call(1), limiter.call(2):
        pass


async def test_a_failed_call_frees_its_place() -> None:
    """A call that raises still ends: the member may call again after the cooldown."""
    clock = Clock()
    limiter = CallLimiter(cooldown=1, at_once=1, clock=clock)
    with pytest.raises(RuntimeError):
        async with limiter.call(1):
            raise RuntimeError("upstream broke")
    clock.now += 1
    async with limiter.call(1):
        pass
