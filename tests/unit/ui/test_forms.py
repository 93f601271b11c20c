"""Reading a form's submission (`bot.ui.forms`), whatever layout the modal used."""

from __future__ import annotations

from bot.ui.forms import submitted_values


def test_submitted_values_read_labels_and_action_rows() -> None:
    """Text inputs are found inside labels and inside legacy action rows alike."""
    components = [
        {"type": 18, "component": {"type": 4, "custom_id": "prompt", "value": "p"}},
        {"type": 1, "components": [{"type": 4, "custom_id": "lyrics", "value": "l"}]},
    ]
    assert submitted_values(components) == {"prompt": "p", "lyrics": "l"}
