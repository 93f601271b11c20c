"""A restart-proof button whose `custom_id` is `<prefix>:<id>`: the one shape of every
job and track button. discord.py rebuilds it from the `custom_id` of each click."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Self

import discord


class IdButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """Subclass with `prefix=...` and set `label`, `emoji` and `style`; `item_id` is the id."""

    prefix: ClassVar[str]
    label: ClassVar[str]
    emoji: ClassVar[str | None] = None
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(template=rf"{re.escape(prefix)}:(?P<id>\d+)", **kwargs)
        cls.prefix = prefix

    def __init__(self, item_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.label,
                emoji=self.emoji,
                style=self.style,
                custom_id=f"{self.prefix}:{item_id}",
                row=0,
            )
        )
        self.item_id = item_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["id"]))
