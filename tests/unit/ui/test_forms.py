"""Reading a form's submission (`bot.ui.forms`), whatever layout the modal used, and the forms
features register to start their work from elsewhere."""

from __future__ import annotations

import discord
import pytest

from bot.jobs.operations import Operation
from bot.ui.forms import FormRouter, Prefill, StartForm, submitted_values


def test_submitted_values_read_labels_and_action_rows() -> None:
    """Text inputs are found inside labels and inside legacy action rows alike."""
    components = [
        {"type": 18, "component": {"type": 4, "custom_id": "prompt", "value": "p"}},
        {"type": 1, "components": [{"type": 4, "custom_id": "lyrics", "value": "l"}]},
    ]
    assert submitted_values(components) == {"prompt": "p", "lyrics": "l"}


# --- forms that start an operation from elsewhere ---------------------------------------------


def song_modal(prefill: Prefill) -> discord.ui.Modal:
    return discord.ui.Modal(title=f"Song: {prefill.prompt}")


SONG_START = StartForm(frozenset({Operation.SONG}), "Make this song", "🎵", open=song_modal)
STEMS_START = StartForm(frozenset({Operation.STEMS}), "Separate stems", "🎚️", needs_audio="…")


def test_a_registered_start_form_is_found_by_its_operation() -> None:
    """Each operation finds the start form that names it; others find none."""
    router = FormRouter()
    router.add_starts(SONG_START, STEMS_START)
    assert router.start_for(Operation.SONG) is SONG_START
    assert router.start_for(Operation.STEMS) is STEMS_START
    assert router.start_for(Operation.LOOP) is None


def test_a_second_start_form_for_an_operation_is_refused() -> None:
    """Two features cannot both start the same operation."""
    router = FormRouter()
    router.add_starts(SONG_START)
    with pytest.raises(ValueError, match="already registered for song"):
        router.add_starts(StartForm(frozenset({Operation.SONG}), "Again", "🎵", needs_audio="…"))


def test_a_removed_start_form_is_no_longer_found() -> None:
    """A feature that unloads takes its start forms with it."""
    router = FormRouter()
    router.add_starts(SONG_START)
    router.remove_starts(SONG_START)
    assert router.start_for(Operation.SONG) is None


def test_a_start_form_opens_a_form_or_says_what_audio_it_needs() -> None:
    """A start form with both, or neither, a form and a note on audio is refused."""
    with pytest.raises(ValueError, match="either opens a form or says what audio it needs"):
        StartForm(frozenset({Operation.SONG}), "Both", "🎵", open=song_modal, needs_audio="…")
    with pytest.raises(ValueError, match="either opens a form or says what audio it needs"):
        StartForm(frozenset({Operation.SONG}), "Neither", "🎵")
