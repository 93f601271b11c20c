"""What members read: progress lines, quota refusals, and error reports."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.errors import UserFacingError
from bot.jobs.models import JobView
from bot.soundverse import ModerationKind, ModerationRejected
from bot.storage import QuotaExceeded, RefusalReason
from bot.ui.errors import ErrorReport, error_embed, report_for
from bot.ui.progress import describe_eta, progress_bar, stage_line


def test_progress_bar_fills_in_proportion() -> None:
    """Half the progress fills half the bar and shows the number."""
    assert progress_bar(50, width=10) == "▰▰▰▰▰▱▱▱▱▱ 50%"


def test_progress_bar_clamps_and_handles_unknown() -> None:
    """Out-of-range values are clamped; unknown progress is an empty bar with no number."""
    assert progress_bar(140, width=4) == "▰▰▰▰ 100%"
    assert progress_bar(None, width=4) == "▱▱▱▱"


def test_queued_line_gives_position_and_eta() -> None:
    """A queued job says where it stands and roughly when it will be ready."""
    line = stage_line(JobView(1, "queued", position=3, eta_seconds=150))
    assert line == "⏳ Queued: number 3 in line, ready in about 2 min"


def test_a_running_line_gives_elapsed_time_left_and_silence() -> None:
    """A running card says how long it has run, about how long is left, and Soundverse's
    silence, on one small line under the bar."""
    view = JobView(1, "streaming", 40, elapsed_seconds=75, eta_seconds=130, quiet_seconds=30)
    assert stage_line(view) == (
        "🎛️ Composing\n▰▰▰▰▱▱▱▱▱▱▱▱ 40%\n"
        "-# 1:15 elapsed · about 2 min left · no news from Soundverse for 0:30"
    )


def test_a_job_past_the_usual_time_says_so() -> None:
    """With no time left by the estimate, the card says it takes longer than usual."""
    view = JobView(1, "validated", elapsed_seconds=90, eta_seconds=0)
    assert stage_line(view).endswith("-# 1:30 elapsed · taking longer than usual")


def test_a_delivery_detail_follows_the_stage() -> None:
    """What delivery is doing is read after the stage's name."""
    view = JobView(1, "delivering", 100, detail="Re-encoding take 2 of 4 to fit the 10.0 MB limit")
    assert stage_line(view).startswith(
        "🎛️ Preparing your files: re-encoding take 2 of 4 to fit the 10.0 MB limit\n"
    )


def test_eta_without_history_is_unknown() -> None:
    """Before any job ended, the ETA is not made up."""
    assert describe_eta(None) == "unknown"


def test_quota_refusal_names_what_is_left_and_the_reset() -> None:
    """A guild-limit refusal says what is needed, what is left, and a relative reset time."""
    reset = datetime(2026, 11, 25, tzinfo=UTC)
    error = QuotaExceeded(RefusalReason.GUILD_LIMIT, requested=2, left=1, limit=100, reset_at=reset)
    text = report_for(error).text
    assert "needs 2 unit(s) and this server has 1 of 100 left" in text
    assert f"<t:{int(reset.timestamp())}:R>" in text


def test_user_facing_error_is_shown_as_is() -> None:
    """A member-fixable error keeps its exact text and has no error id."""
    fixable = report_for(UserFacingError("Lyrics are required for extend"))
    assert fixable.text == "Lyrics are required for extend" and fixable.error_id is None


def test_soundverse_moderation_reason_reaches_the_member() -> None:
    """A moderation refusal shows Soundverse's reason."""
    error = ModerationRejected(ModerationKind.NSFW, "NSFW words detected.")
    assert "NSFW words detected." in report_for(error).text


def test_unexpected_error_gets_an_id_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """An unexpected error shows only an id; the traceback is logged under the same id."""
    with caplog.at_level(logging.ERROR):
        report = report_for(RuntimeError("database on fire"))
    assert report.error_id is not None
    assert report.error_id in report.text and "database on fire" not in report.text
    assert report.error_id in caplog.text and "database on fire" in caplog.text


def test_an_error_that_echoes_a_long_value_fits_an_embed() -> None:
    """A report of 5,000 characters is clipped to Discord's 4,096 so it can still be sent."""
    embed = error_embed(ErrorReport("x" * 5000))
    assert embed.description is not None and len(embed.description) == 4096
    assert embed.description.endswith("…")
