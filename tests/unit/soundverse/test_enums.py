"""The enumerations of `bot.soundverse.enums` hold every documented value."""

from __future__ import annotations

from bot.soundverse.enums import (
    ChatAction,
    MusicStyle,
    SingingStyle,
)


def test_music_style_enum_has_the_64_documented_values() -> None:
    """Section 5.1 lists 64 styles of music."""
    assert len(MusicStyle) == 64
    assert MusicStyle("Hip Hop") is MusicStyle.HIP_HOP
    assert MusicStyle("80s") is MusicStyle.EIGHTIES


def test_singing_style_enum_has_the_24_documented_values() -> None:
    """Section 5.2 lists 24 singing styles, spelled as published."""
    assert len(SingingStyle) == 24
    assert SingingStyle("Hyperpop (Female)") is SingingStyle.HYPERPOP_FEMALE


def test_chat_action_enum_has_the_8_documented_values() -> None:
    """Section 5.3 lists 8 chat actions."""
    assert len(ChatAction) == 8
