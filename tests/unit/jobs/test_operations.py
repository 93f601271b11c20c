"""The facts of each operation (`bot.jobs.operations`): one place, consistent with the runners
and the quota costs."""

from __future__ import annotations

from bot.config import QuotaSettings
from bot.jobs.operations import RUNNERS, FollowUp, Operation, Streamed, runner_for

JOB_OPERATIONS = sorted({operation for operation, _ in RUNNERS})


def test_every_job_operation_runs_at_its_default_version() -> None:
    """Each operation that runs as a job has a runner at the version used when none is chosen."""
    assert all(runner_for(op, op.default_version) for op in JOB_OPERATIONS)


def test_only_lyrics_chat_and_voice_are_billed_without_being_jobs() -> None:
    """Every operation but lyrics, chat and the voice assistant runs as a job."""
    assert set(Operation) - set(JOB_OPERATIONS) == {
        Operation.LYRICS,
        Operation.CHAT,
        Operation.VOICE,
    }


def test_every_operation_has_a_configured_cost() -> None:
    """The default quota costs name every operation by its cost key."""
    costs = QuotaSettings().costs
    assert [op for op in Operation if op.cost_key not in costs] == []


def test_no_lyrics_follow_up_on_instrumentals_or_stems() -> None:
    """Lyrics follow only results that were sung."""
    sung = {op for op in JOB_OPERATIONS if FollowUp.LYRICS in op.follow_ups}
    assert sung == {op for op in JOB_OPERATIONS if op.vocals}
    assert FollowUp.LYRICS not in Operation.MUSIC.follow_ups
    assert FollowUp.LYRICS not in Operation.STEMS.follow_ups


def test_stems_are_not_offered_on_stems() -> None:
    """Separating the stems of a stem is not offered."""
    assert FollowUp.STEMS not in Operation.STEMS.follow_ups


def test_streaming_depends_on_the_version() -> None:
    """A v5 song streams; the deprecated v4 song answers in one call."""
    assert isinstance(runner_for(Operation.SONG, "v5"), Streamed)
    assert not isinstance(runner_for(Operation.SONG, "v4"), Streamed)


def test_job_cards_have_distinct_titles() -> None:
    """No two job operations share a card title."""
    titles = [op.card_title for op in JOB_OPERATIONS]
    assert len(set(titles)) == len(titles)
