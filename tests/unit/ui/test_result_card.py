"""How a result card describes its files."""

from __future__ import annotations

from pathlib import Path

from bot.jobs.models import DeliveredTake
from bot.ui.result_card import describe_take


def take(**changes: object) -> DeliveredTake:
    fields: dict[str, object] = {
        "index": 2,
        "audio_url": "https://storage.soundverse.ai/a/vocals.wav",
        "song_name": "Rain",
        "license": None,
        "path": Path("/tmp/vocals.mp3"),
        "filename": "vocals-2.mp3",
        "size": 100,
        "duration": 31.0,
        "format_name": "mp3",
    }
    fields.update(changes)
    return DeliveredTake(**fields)  # type: ignore[arg-type]


def test_a_take_with_its_own_title_shows_it() -> None:
    """The second take's title is on the card, not only in its file name."""
    assert describe_take(take(song_name="Tin Roof"), card_title="Rain") == (
        "**Take 2** · Tin Roof: 0:31"
    )


def test_a_take_named_like_the_card_is_not_repeated() -> None:
    """A take whose title is the card's shows its label and length only."""
    assert describe_take(take(), card_title="Rain") == "**Take 2**: 0:31"


def test_a_stem_is_named_by_what_it_is() -> None:
    """A stem reads as its name, never as a take."""
    assert describe_take(take(role="vocals", song_name="vocals")).startswith("**Vocals**: 0:31")


def test_a_re_encoded_file_points_at_its_original() -> None:
    """A take re-encoded to fit says so and that its original (WAV) is linked."""
    line = describe_take(take(role="vocals", transcoded_kbps=128))
    assert line.endswith(
        "re-encoded at 128 kbps to fit Discord's upload limit (the WAV original is linked below)"
    )


def test_each_file_shows_its_public_id() -> None:
    """A take's line carries the #id members type into track options."""
    assert describe_take(take(), card_title="Rain", track_id=35) == "**Take 2** #35: 0:31"
