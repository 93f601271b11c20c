"""Uploads a member picked through a message menu, held while they fill in the rest.

A message menu ("Extend", "Make a loop", "Separate stems") on someone's audio gives the bot
the attachment once; the form or picker it opens comes back later with only its
`custom_id`, which holds the key of the upload here. Nothing about an upload is stored in
the database, so after a restart (or after `HOLD_SECONDS`) the member is asked to use the
menu again instead of seeing "This interaction failed".
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import discord

from bot.errors import UserFacingError

HOLD_SECONDS = 15 * 60.0
"""As long as Discord lets the member answer the menu's interaction."""


class UploadForgotten(UserFacingError):
    """The upload behind a form or picker is no longer held."""

    def __init__(self) -> None:
        super().__init__(
            "I no longer have that file (the bot restarted, or it was picked more than "
            "15 minutes ago). Use the menu on the message again."
        )


@dataclass(frozen=True, slots=True)
class HeldUpload:
    """An attachment a member picked, and who picked it where."""

    key: str
    attachment: discord.Attachment
    user_id: int
    guild_id: int | None
    held_at: float


class HeldUploads:
    """Uploads by key, each forgotten `HOLD_SECONDS` after it was picked."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._held: dict[str, HeldUpload] = {}

    def hold(
        self, attachment: discord.Attachment, *, user_id: int, guild_id: int | None
    ) -> HeldUpload:
        """Keep `attachment` for a while; its key goes into the custom_id of what comes next."""
        self._forget_expired()
        upload = HeldUpload(secrets.token_hex(8), attachment, user_id, guild_id, self._clock())
        self._held[upload.key] = upload
        return upload

    def get(self, key: str) -> HeldUpload:
        """The upload held under `key`; `UploadForgotten` when there is none any more."""
        self._forget_expired()
        upload = self._held.get(key)
        if upload is None:
            raise UploadForgotten()
        return upload

    def __len__(self) -> int:
        return len(self._held)

    def _forget_expired(self) -> None:
        cutoff = self._clock() - HOLD_SECONDS
        for key in [key for key, upload in self._held.items() if upload.held_at < cutoff]:
            del self._held[key]
