"""Contests awaiting their creator's confirmation.

`/contest create` checks everything, then shows a summary with what the stem pack will cost;
the contest is created only when its creator presses Create. The summary is held here for as
long as the interaction that made it can still be answered (15 minutes), so its source upload
can still be read; after that, or after a restart, Create says to run the command again.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.jobs.contests import ContestDraft

HOLD_SECONDS = 14 * 60.0
LAPSED = "This contest summary has lapsed (it lasts 14 minutes); run `/contest create` again."


@dataclass
class HeldDraft:
    """A checked contest and what its stem pack costs, held until its creator confirms."""

    key: str
    user_id: int
    guild_id: int | None
    draft: ContestDraft
    cost: int
    interaction: discord.Interaction[Any]
    """The `/contest create` that made the summary: its upload, and the summary to edit."""
    source_upload: discord.Attachment | None = None
    party_channel: discord.VoiceChannel | None = None
    held_at: float = field(default_factory=time.monotonic)


class HeldDrafts:
    """The summaries awaiting confirmation, each for `HOLD_SECONDS`."""

    def __init__(self) -> None:
        self._held: dict[str, HeldDraft] = {}

    def hold(self, **details: Any) -> HeldDraft:
        self._forget_lapsed()
        held = HeldDraft(key=secrets.token_hex(8), **details)
        self._held[held.key] = held
        return held

    def get(self, key: str) -> HeldDraft:
        self._forget_lapsed()
        held = self._held.get(key)
        if held is None:
            raise UserFacingError(LAPSED)
        return held

    def take(self, key: str) -> HeldDraft:
        """The summary, forgotten so that a second press creates nothing more."""
        held = self.get(key)
        del self._held[key]
        return held

    def drop(self, key: str) -> None:
        self._held.pop(key, None)

    def _forget_lapsed(self) -> None:
        now = time.monotonic()
        for key in [k for k, held in self._held.items() if now - held.held_at > HOLD_SECONDS]:
            del self._held[key]
