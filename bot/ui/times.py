"""Slash-command options for a position or a length: typed as seconds (`95`) or
minutes:seconds (`1:35`), read by the same rule as the forms (`seconds_from_text`)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.jobs.inputs import clock_time, seconds_from_text
from bot.soundverse.limits import Bounds


class SecondsOption(app_commands.Transformer):
    """A text option read as whole seconds within `bounds`; a refusal names the option."""

    def __init__(self, what: str, bounds: Bounds) -> None:
        self.what = what
        self.bounds = bounds

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def max_value(self) -> int:
        # For a text option, discord.py sends this as max_length: `7:00`, `420s`, with spaces.
        return 8

    async def transform(self, interaction: discord.Interaction[Any], value: Any) -> int | None:
        return seconds_from_text(str(value), self.what, self.bounds)


def span(bounds: Bounds) -> str:
    """`0:08 to 7:00`, for an option's description."""
    return f"{clock_time(bounds.low)} to {clock_time(bounds.high)}"
