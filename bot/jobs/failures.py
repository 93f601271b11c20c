"""Why a job failed, in words a member understands; unexpected errors get an id for the log."""

from __future__ import annotations

import logging
import secrets

from bot.audio import AudioError
from bot.soundverse import (
    GenerationFailed,
    JobDeadlineExceeded,
    JobNotStarted,
    SoundverseError,
)

log = logging.getLogger(__name__)


def new_error_id() -> str:
    """A short id a member can quote and an operator can find in the log."""
    return secrets.token_hex(4)


def describe_failure(error: BaseException) -> tuple[str, str | None]:
    """The member-facing text for `error`, and an error id when the error was unexpected."""
    if isinstance(error, GenerationFailed):
        said = error.error_text.strip().rstrip(".")
        if not said or said.casefold() == "generation failed":
            return "Soundverse could not finish this track.", None
        return f"Soundverse could not finish this track: {said}.", None
    if isinstance(error, JobNotStarted):
        return f"The job never started at Soundverse, so nothing was billed ({error}).", None
    if isinstance(error, JobDeadlineExceeded):
        minutes = max(1, round(error.deadline / 60))
        return (
            f"Soundverse did not finish this within {minutes} min, so it was given up.",
            None,
        )
    if isinstance(error, SoundverseError):
        return str(error), None
    if isinstance(error, AudioError):
        return f"The audio Soundverse returned could not be read: {error}", None
    error_id = new_error_id()
    log.error("Job failed unexpectedly (error id %s)", error_id, exc_info=error)
    return (
        f"Something went wrong on our side (error id `{error_id}`); it has been logged.",
        error_id,
    )
