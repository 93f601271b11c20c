"""Errors raised by the Soundverse client, one class per case of the API contract (section 11.4).

Every message is written to be shown to a user as is; none ever contains the API key.
`nothing_billed` tells the job pipeline whether it may refund without asking Soundverse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from http import HTTPStatus
from typing import Any

import aiohttp


class SoundverseError(Exception):
    """Base class of every error the Soundverse client raises.

    `nothing_billed` is True only when the request certainly started no billed job
    (refused before a job existed); False means "may have been billed".
    """

    nothing_billed: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthenticationError(SoundverseError):
    """The API key is missing, malformed or not accepted (401)."""

    nothing_billed = True


class RequestValidationError(SoundverseError):
    """A request field breaks a documented rule: found by our pre-send checks or a server 422."""

    nothing_billed = True

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class ModerationKind(StrEnum):
    """Why Soundverse's content moderation refused a prompt."""

    NSFW = "nsfw"
    ARTIST = "artist"
    OTHER = "other"


class ModerationRejected(SoundverseError):
    """Soundverse refused the prompt (NSFW words, an artist name, ...) before starting a job."""

    nothing_billed = True

    def __init__(self, kind: ModerationKind, reason: str) -> None:
        super().__init__(f"Soundverse refused the prompt: {reason}")
        self.kind = kind
        self.reason = reason


class RateLimited(SoundverseError):
    """Soundverse answered 429; `retry_after` is its Retry-After in seconds, when given."""

    nothing_billed = True

    def __init__(self, retry_after: float | None) -> None:
        when = f"try again in {retry_after:g} s" if retry_after is not None else "try again later"
        super().__init__(f"Soundverse rate limit reached; {when}")
        self.retry_after = retry_after


class UpstreamError(SoundverseError):
    """Soundverse failed (5xx, an unreadable reply) or could not be reached.

    `nothing_billed` is set when the request never reached Soundverse (connection refused).
    """

    def __init__(self, message: str, *, status: int | None = None, reached: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.nothing_billed = not reached


class UpstreamTimeout(SoundverseError):
    """Soundverse did not answer in time (504, or our own sync timeout)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(SoundverseError):
    """Soundverse knows no such resource (404), e.g. an unknown job id on the status endpoint."""


class GenerationFailed(SoundverseError):
    """The job started but ended in failure; `error_text` is Soundverse's own explanation."""

    def __init__(self, error_text: str, message_id: str | None, job_id: str | None = None) -> None:
        said = error_text.strip().rstrip(".")
        generic = not said or said.casefold() == "generation failed"
        super().__init__("Generation failed" if generic else f"Generation failed: {said}")
        self.error_text = error_text
        self.message_id = message_id
        self.job_id = job_id


class JobNotStarted(SoundverseError):
    """The stream ended before Soundverse gave a job id: nothing started, nothing billed."""

    nothing_billed = True

    def __init__(self, cause: str) -> None:
        super().__init__(f"Generation not started, not billed: {cause}")
        self.cause = cause


class JobDeadlineExceeded(SoundverseError):
    """The job did not finish within the overall deadline; it may still finish later."""

    def __init__(self, deadline: float, message_id: str | None, job_id: str | None) -> None:
        ident = job_id or message_id or "unknown"
        super().__init__(f"Job {ident} did not finish within {deadline:g} s")
        self.deadline = deadline
        self.message_id = message_id
        self.job_id = job_id


class DownloadRefusal(StrEnum):
    """Why a download was refused."""

    HOST = "host"
    SIZE = "size"


class DownloadRefused(SoundverseError):
    """A download was refused: its host is not allowed, or the file exceeds the size cap."""

    nothing_billed = True

    def __init__(self, reason: DownloadRefusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def nothing_billed(error: BaseException) -> bool:
    """True when `error` proves that no billed Soundverse job was started."""
    return isinstance(error, SoundverseError) and error.nothing_billed


# The most of an upstream error text a member is shown.
DETAIL_CHARS = 200


def detail_text(body: Any) -> str | None:
    """The human text of an error body in any of the API's three styles, on one line and
    short; None for a markup page (a proxy's HTML), which says nothing a member can use."""
    if isinstance(body, Mapping):
        for key in ("detail", "Detail", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return _one_line(value)
    if isinstance(body, str) and body.strip() and not body.lstrip().startswith("<"):
        return _one_line(body)
    return None


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= DETAIL_CHARS else flat[: DETAIL_CHARS - 1] + "…"


def status_words(status: int) -> str:
    """`502 Bad Gateway`: the status and its standard phrase."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _validation_error(body: Any) -> RequestValidationError:
    """A 422 body, FastAPI's list form or a plain detail, as one `RequestValidationError`."""
    detail = body.get("detail") if isinstance(body, Mapping) else None
    if isinstance(detail, Sequence) and not isinstance(detail, str) and detail:
        problems = [item for item in detail if isinstance(item, Mapping)]
        if problems:
            first = problems[0]
            location = [str(part) for part in first.get("loc", []) if part != "body"]
            field = ".".join(location) or "request"
            messages = [str(item.get("msg", "invalid value")) for item in problems]
            return RequestValidationError(field, "; ".join(messages))
    return RequestValidationError("request", detail_text(body) or "rejected by Soundverse")


def _moderation_kind(message: str) -> ModerationKind:
    lowered = message.lower()
    if "nsfw" in lowered:
        return ModerationKind.NSFW
    if "artist" in lowered:
        return ModerationKind.ARTIST
    return ModerationKind.OTHER


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds; None when absent or not a number."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)


def error_for_response(status: int, body: Any, retry_after: str | None = None) -> SoundverseError:
    """The client error for an HTTP error reply (`body` is the decoded JSON, or the raw text)."""
    detail = detail_text(body)
    if status in (401, 403):
        return AuthenticationError(f"Soundverse refused the API key: {detail or 'unauthorized'}")
    if status == 422:
        return _validation_error(body)
    if status == 400:
        if isinstance(body, Mapping) and body.get("success") is False:
            message = detail or "content refused"
            return ModerationRejected(_moderation_kind(message), message)
        return RequestValidationError("request", detail or "bad request")
    if status == 404:
        return NotFound(f"Soundverse: not found ({detail or 'no such resource'})")
    if status == 429:
        return RateLimited(parse_retry_after(retry_after))
    if status == 504:
        return UpstreamTimeout("Soundverse timed out (504); try again later", status=status)
    reason = f": {detail}" if detail else ""
    return UpstreamError(f"Soundverse error {status_words(status)}{reason}", status=status)


def connection_trouble(error: BaseException) -> str:
    """What went wrong with a connection, in words (never a class name)."""
    if isinstance(error, aiohttp.ClientPayloadError):
        return "the response was cut off"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(error, aiohttp.ClientResponseError):
        return f"the server answered {error.status}"
    if isinstance(error, aiohttp.ClientOSError | ConnectionError):
        return "the connection was lost"
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return "no answer came in time"
    return "the connection broke"
