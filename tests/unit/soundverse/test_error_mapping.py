"""Mapping of Soundverse error replies to client errors (section 11.4)."""

from __future__ import annotations

from pydantic import SecretStr

from bot.config import EndpointSettings, SoundverseSettings
from bot.soundverse.client import SoundverseClient
from bot.soundverse.errors import (
    AuthenticationError,
    GenerationFailed,
    JobNotStarted,
    ModerationKind,
    ModerationRejected,
    NotFound,
    RateLimited,
    RequestValidationError,
    UpstreamError,
    UpstreamTimeout,
    error_for_response,
    nothing_billed,
    parse_retry_after,
)


def test_401_maps_to_authentication_error_with_the_detail() -> None:
    """A 401 becomes `AuthenticationError` quoting Soundverse's detail."""
    error = error_for_response(401, {"detail": "Invalid API key"})
    assert isinstance(error, AuthenticationError)
    assert "Invalid API key" in str(error)


def test_422_list_form_names_the_field() -> None:
    """FastAPI's 422 list form becomes `RequestValidationError` on the field of `loc`."""
    body = {"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "missing"}]}
    error = error_for_response(422, body)
    assert isinstance(error, RequestValidationError)
    assert (error.field, error.reason) == ("prompt", "field required")


def test_400_nsfw_refusal_is_moderation_of_kind_nsfw() -> None:
    """The legacy moderation body with NSFW text is `ModerationRejected(nsfw)`."""
    error = error_for_response(400, {"success": False, "message": "NSFW words detected. Edit."})
    assert isinstance(error, ModerationRejected)
    assert error.kind is ModerationKind.NSFW
    assert error.reason == "NSFW words detected. Edit."


def test_400_artist_refusal_is_moderation_of_kind_artist() -> None:
    """The artist-name refusal is `ModerationRejected(artist)`."""
    error = error_for_response(400, {"success": False, "message": "Artist name detected. Edit."})
    assert isinstance(error, ModerationRejected)
    assert error.kind is ModerationKind.ARTIST


def test_429_carries_retry_after_seconds() -> None:
    """A 429 becomes `RateLimited` with the Retry-After value."""
    error = error_for_response(429, {"detail": "Rate limit exceeded"}, "3")
    assert isinstance(error, RateLimited)
    assert error.retry_after == 3.0
    assert "try again in 3 s" in str(error)


def test_500_with_capital_detail_is_upstream_error() -> None:
    """The generation-failure style `{"Detail": ...}` becomes `UpstreamError` with the text."""
    error = error_for_response(500, {"Detail": "Generation failed"})
    assert isinstance(error, UpstreamError)
    assert error.status == 500
    assert "Generation failed" in str(error)


def test_504_is_upstream_timeout_even_with_an_html_body() -> None:
    """A 504 becomes `UpstreamTimeout` whatever its body."""
    assert isinstance(error_for_response(504, "<html>Gateway</html>"), UpstreamTimeout)


def test_404_is_not_found() -> None:
    """A 404 becomes `NotFound`."""
    assert isinstance(error_for_response(404, {"detail": "Not found"}), NotFound)


def test_retry_after_ignores_non_numbers() -> None:
    """Retry-After that is not a number of seconds is treated as absent."""
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after(" 2 ") == 2.0


def test_refusals_before_a_job_mean_nothing_billed() -> None:
    """Refusals before any job started report nothing billed; failures of a job do not."""
    assert nothing_billed(error_for_response(401, {"detail": "x"}))
    assert nothing_billed(error_for_response(429, {}))
    assert nothing_billed(JobNotStarted("connection refused"))
    assert not nothing_billed(GenerationFailed("boom", "m1"))
    assert not nothing_billed(error_for_response(500, {"Detail": "x"}))
    assert not nothing_billed(ValueError("not ours"))


def test_unreached_upstream_error_means_nothing_billed() -> None:
    """A request that never reached Soundverse billed nothing."""
    assert nothing_billed(UpstreamError("refused", reached=False))


def test_client_repr_never_shows_the_api_key() -> None:
    """The client's repr names the base URL, never the key."""
    settings = SoundverseSettings(api_key=SecretStr("very-secret-key"))
    client = SoundverseClient(settings, EndpointSettings())
    assert "very-secret-key" not in repr(client)
    assert "api.soundverse.ai" in repr(client)
