"""Choice lists built from the API's enumerations (`bot.ui.choices`)."""

from __future__ import annotations

from bot.soundverse.enums import (
    ExtendMusicVersion,
    ExtendSongVersion,
    LegacyDuration,
    LegacyVersion,
    MusicVersion,
    SongVersion,
)
from bot.ui.choices import duration_choices, version_choices


def test_song_versions_list_the_default_then_newer_then_deprecated() -> None:
    """/song offers v5 (default), v6, v7 (newest), then v4 and v1 as deprecated."""
    choices = version_choices([*SongVersion, *LegacyVersion], default="v5")
    assert [(c.name, c.value) for c in choices] == [
        ("v5 (default)", "v5"),
        ("v6", "v6"),
        ("v7 (newest)", "v7"),
        ("v4 (deprecated)", "v4"),
        ("v1 (deprecated)", "v1"),
    ]


def test_a_new_version_in_the_enum_reaches_the_command() -> None:
    """The choices are the enum's members: every music version is offered once."""
    choices = version_choices([*MusicVersion, *LegacyVersion], default="v5")
    assert sorted(c.value for c in choices) == sorted(
        v.value for v in [*MusicVersion, *LegacyVersion]
    )


def test_a_note_is_added_to_a_version_name() -> None:
    """Extend's v1 says it only continues instrumentals, and that it is deprecated."""
    choices = version_choices(
        [*ExtendSongVersion, *ExtendMusicVersion], default="v5", notes={"v1": "instrumental only"}
    )
    assert choices[-1].name == "v1 (instrumental only, deprecated)"


def test_durations_are_named_in_seconds() -> None:
    """Legacy durations read `15 s`, with the number of seconds as value."""
    choices = duration_choices(LegacyDuration)
    assert [(c.name, c.value) for c in choices][:2] == [("15 s", 15), ("30 s", 30)]
