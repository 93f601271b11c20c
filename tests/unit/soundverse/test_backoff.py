"""The backoff schedule shared by retries of idempotent calls and status polling."""

from __future__ import annotations

from itertools import islice

from bot.soundverse.stream import backoff_delays


def test_backoff_doubles_from_one_second_up_to_the_cap() -> None:
    """Delays are 1, 2, 4, 8 s, then stay at the 15 s cap."""
    assert list(islice(backoff_delays(15.0), 7)) == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]


def test_backoff_cap_below_one_second_caps_the_first_delay() -> None:
    """A cap under 1 s bounds every delay, the first included."""
    assert list(islice(backoff_delays(0.5), 3)) == [0.5, 0.5, 0.5]
