"""Tests of `plan_fit`, the pure decision of how to deliver a file under an upload limit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.audio import (
    MP3_BITRATES_KBPS,
    AudioInfo,
    FitAction,
    estimate_mp3_size,
    plan_fit,
)

MIB = 1024 * 1024
DEFAULT_BITRATES = [192, 128, 96, 64]


def song(minutes: float, size: int) -> AudioInfo:
    """An MP3 song of the given length and file size."""
    return AudioInfo(minutes * 60, "mp3", "mp3", 44100, 2, 320_000, size)


def test_keeps_a_file_under_the_limit() -> None:
    """A 3-minute 320 kbps song (7.2 MB) is kept as is under 10 MiB."""
    plan = plan_fit(song(3, 7_200_000), 10 * MIB, DEFAULT_BITRATES)
    assert (plan.action, plan.bitrate_kbps) == (FitAction.KEEP, None)


def test_keeps_a_file_exactly_at_the_limit() -> None:
    """A file whose size equals the limit fits."""
    assert plan_fit(song(3, 10 * MIB), 10 * MIB, DEFAULT_BITRATES).action is FitAction.KEEP


def test_picks_the_highest_bitrate_that_fits() -> None:
    """A 6-minute 320 kbps song (14.4 MB) becomes 192 kbps under 10 MiB."""
    plan = plan_fit(song(6, 14_400_000), 10 * MIB, DEFAULT_BITRATES)
    assert (plan.action, plan.bitrate_kbps) == (FitAction.TRANSCODE, 192)


def test_drops_to_a_lower_bitrate_for_a_smaller_limit() -> None:
    """The same 6-minute song becomes 128 kbps under 8 MiB, where 192 kbps would not fit."""
    assert plan_fit(song(6, 14_400_000), 8 * MIB, DEFAULT_BITRATES).bitrate_kbps == 128


def test_lists_every_lower_bitrate_as_a_fallback() -> None:
    """The plan tries the chosen bitrate, then each lower one, highest first."""
    plan = plan_fit(song(6, 14_400_000), 10 * MIB, [64, 192, 96, 128, 96])
    assert plan.bitrates_kbps == (192, 128, 96, 64)


def test_estimate_of_the_plan_is_the_chosen_bitrate_s() -> None:
    """The plan carries the size estimate of its first bitrate."""
    plan = plan_fit(song(6, 14_400_000), 10 * MIB, DEFAULT_BITRATES)
    assert plan.estimated_size == estimate_mp3_size(360, 192)


def test_links_when_nothing_fits() -> None:
    """A 30-minute mix does not fit 10 MiB even at 32 kbps, so the plan is a link."""
    plan = plan_fit(song(30, 72_000_000), 10 * MIB, [64, 48])
    assert (plan.action, plan.bitrates_kbps, plan.estimated_size) == (FitAction.LINK, (), None)


def test_links_when_no_bitrate_is_allowed() -> None:
    """An empty bitrate list leaves only a link for a file over the limit."""
    assert plan_fit(song(6, 14_400_000), 10 * MIB, []).action is FitAction.LINK


def test_refuses_a_bitrate_mp3_cannot_have() -> None:
    """100 kbps is not an MP3 bitrate; planning with it is a configuration error."""
    with pytest.raises(ValueError, match="100"):
        plan_fit(song(3, 7_200_000), 10 * MIB, [192, 100])


def test_estimate_covers_the_payload_and_overhead() -> None:
    """The estimate exceeds the bare payload (duration x bitrate / 8) by the margins."""
    assert estimate_mp3_size(180, 128) > 180 * 128_000 / 8 * 1.02 + 8000


infos = st.builds(
    AudioInfo,
    duration=st.floats(min_value=0.1, max_value=4 * 3600, allow_nan=False),
    format_name=st.just("mp3"),
    codec=st.just("mp3"),
    sample_rate=st.just(44100),
    channels=st.just(2),
    bit_rate=st.none(),
    size=st.integers(min_value=1, max_value=2**34),
)
limits = st.integers(min_value=0, max_value=2**31)
bitrate_lists = st.lists(st.sampled_from(sorted(MP3_BITRATES_KBPS)), max_size=8)
deterministic = settings(derandomize=True, max_examples=300)


@deterministic
@given(infos, limits, bitrate_lists)
def test_chosen_bitrate_estimate_is_under_the_limit(info, limit, bitrates) -> None:
    """Every bitrate a transcode plan lists has an estimate within the limit."""
    plan = plan_fit(info, limit, bitrates)
    assert all(estimate_mp3_size(info.duration, kbps) <= limit for kbps in plan.bitrates_kbps)


@deterministic
@given(infos, limits, bitrate_lists)
def test_no_higher_bitrate_would_have_fitted(info, limit, bitrates) -> None:
    """No allowed bitrate above the chosen one has an estimate within the limit."""
    plan = plan_fit(info, limit, bitrates)
    if plan.action is FitAction.TRANSCODE:
        assert plan.bitrate_kbps is not None
        higher = [kbps for kbps in bitrates if kbps > plan.bitrate_kbps]
        assert all(estimate_mp3_size(info.duration, kbps) > limit for kbps in higher)


@deterministic
@given(infos, limits, bitrate_lists)
def test_keeps_exactly_the_files_that_fit(info, limit, bitrates) -> None:
    """The plan keeps a file if and only if its size is within the limit."""
    assert (plan_fit(info, limit, bitrates).action is FitAction.KEEP) == (info.size <= limit)


@deterministic
@given(infos, limits, bitrate_lists)
def test_links_only_when_no_bitrate_fits(info, limit, bitrates) -> None:
    """A link is planned only for a file over the limit that no allowed bitrate brings under."""
    plan = plan_fit(info, limit, bitrates)
    fits_somehow = info.size <= limit or any(
        estimate_mp3_size(info.duration, kbps) <= limit for kbps in bitrates
    )
    assert (plan.action is FitAction.LINK) == (not fits_somehow)


@deterministic
@given(infos, limits, bitrate_lists)
def test_fallbacks_are_strictly_descending(info, limit, bitrates) -> None:
    """The bitrates to try are distinct and go from highest to lowest."""
    tried = plan_fit(info, limit, bitrates).bitrates_kbps
    assert list(tried) == sorted(set(tried), reverse=True)
