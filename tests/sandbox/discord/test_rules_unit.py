"""The rule checks and rate-limit buckets on their own, without a server or a bot."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.discord.clock import Clock
from sandbox.discord.rules import (
    FormErrors,
    RateLimiter,
    Rules,
    check_commands,
    check_components,
    check_message,
    check_modal,
)


def _command_errors(**command: Any) -> dict[str, Any]:
    errors = FormErrors()
    check_commands([{"type": 1, "description": "d", **command}], errors)
    return errors.tree


@pytest.mark.parametrize("name", ["song", "räuber", "नमस्ते", "it's-a_1"])
def test_valid_command_names_accepted(name: str) -> None:
    """Lower-case names of letters, digits, Devanagari marks, `-`, `_` and `'` pass."""
    assert _command_errors(name=name) == {}


@pytest.mark.parametrize("name", ["Song", "two words", "", "x" * 33, "emoji🎵"])
def test_invalid_command_names_rejected(name: str) -> None:
    """Upper case, spaces, empty, over 32 characters and symbols are refused."""
    assert "name" in _command_errors(name=name)["0"]


def test_required_option_after_optional_rejected() -> None:
    """A required option may not follow an optional one."""
    options = [
        {"name": "a", "description": "d", "type": 3},
        {"name": "b", "description": "d", "type": 3, "required": True},
    ]
    assert "options" in _command_errors(name="x", options=options)["0"]


def test_choices_and_autocomplete_exclusive() -> None:
    """An option cannot have both choices and autocomplete."""
    option = {
        "name": "a",
        "description": "d",
        "type": 3,
        "autocomplete": True,
        "choices": [{"name": "n", "value": "v"}],
    }
    assert _command_errors(name="x", options=[option]) != {}


def test_six_action_rows_rejected() -> None:
    """More than 5 action rows is refused."""
    rows = [
        {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": f"c{i}"}]}
        for i in range(6)
    ]
    errors = FormErrors()
    check_components(rows, 0, errors)
    assert "components" in errors.tree


def test_custom_id_over_100_rejected() -> None:
    """A custom_id of 101 characters is refused."""
    button = {"type": 2, "style": 1, "label": "b", "custom_id": "c" * 101}
    errors = FormErrors()
    check_components([{"type": 1, "components": [button]}], 0, errors)
    assert errors


def test_embed_total_over_6000_rejected() -> None:
    """Embeds whose texts add up to more than 6000 characters are refused."""
    embeds = [{"description": "d" * 4000}, {"description": "d" * 2001}]
    errors = FormErrors()
    check_message({"embeds": embeds}, Rules(), errors)
    assert "embeds" in errors.tree


def test_modal_needs_one_to_five_components() -> None:
    """A modal without components is refused."""
    errors = FormErrors()
    check_modal({"title": "t", "custom_id": "m", "components": []}, errors)
    assert "components" in errors.tree["data"]


def test_clock_advances_without_sleeping() -> None:
    """advance() moves now() forward by at least the amount given."""
    clock = Clock()
    before = clock.now()
    clock.advance(900)
    assert clock.now() - before >= 900


def test_bucket_reports_remaining_and_reset() -> None:
    """A fresh bucket counts down and reports the window's reset."""
    clock = Clock()
    limiter = RateLimiter(Rules(edit_limit=(2, 5.0)), clock)
    first = limiter.check("message_edit", "c1", "PATCH", "/channels/c1/messages/1")
    second = limiter.check("message_edit", "c1", "PATCH", "/channels/c1/messages/1")
    third = limiter.check("message_edit", "c1", "PATCH", "/channels/c1/messages/1")
    assert [v.headers["X-RateLimit-Remaining"] for v in (first, second)] == ["1", "0"]
    assert not third.allowed and 0 < third.retry_after <= 5.0
