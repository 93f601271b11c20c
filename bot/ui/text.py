"""Small text helpers for what members read: one-line clipping and the bot behind an interaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import discord

if TYPE_CHECKING:
    from bot.app import SoundverseBot


def clip(text: str, limit: int, *, one_line: bool = True) -> str:
    """`text` within `limit` characters, ending in `…` when cut; whitespace folded by default."""
    flat = " ".join(text.split()) if one_line else text
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def bot_of(interaction: discord.Interaction[Any]) -> SoundverseBot:
    """The bot that received `interaction`."""
    return cast("SoundverseBot", interaction.client)
