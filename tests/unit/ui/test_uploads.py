"""Uploads held between a message menu and the form it opens (`bot.ui.uploads`)."""

from __future__ import annotations

from typing import cast

import discord
import pytest

from bot.ui.uploads import HOLD_SECONDS, HeldUploads, UploadForgotten


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


ATTACHMENT = cast(discord.Attachment, object())


def test_a_held_upload_is_found_by_its_key() -> None:
    """`get` returns what `hold` kept, with who picked it where."""
    uploads = HeldUploads(Clock())
    held = uploads.hold(ATTACHMENT, user_id=5, guild_id=9)
    found = uploads.get(held.key)
    assert (found.attachment, found.user_id, found.guild_id) == (ATTACHMENT, 5, 9)


def test_an_upload_is_forgotten_after_the_hold_time() -> None:
    """Past HOLD_SECONDS the key is unknown, and the member is told to use the menu again."""
    clock = Clock()
    uploads = HeldUploads(clock)
    held = uploads.hold(ATTACHMENT, user_id=5, guild_id=9)
    clock.now += HOLD_SECONDS + 1
    with pytest.raises(UploadForgotten, match="Use the menu on the message again"):
        uploads.get(held.key)
    assert len(uploads) == 0


def test_keys_fit_the_custom_id_pattern_of_upload_components() -> None:
    """A key is 16 hex digits, what `UploadSubject.KEY` accepts."""
    held = HeldUploads(Clock()).hold(ATTACHMENT, user_id=5, guild_id=None)
    assert len(held.key) == 16 and int(held.key, 16) >= 0
