"""The `/help` card, built from what is registered: every feature's slash commands and message
menus, grouped by feature, each with its example. A command without an example is a bug
(a test says so), so the card is never stale."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.ui.feature import FeatureCog

HELP_COLOUR = discord.Colour.from_rgb(120, 86, 255)
# Discord's limit on an embed field's value.
FIELD_VALUE_LIMIT = 1024


def usage(command: app_commands.Command[Any, ..., Any]) -> str:
    """`/song prompt [lyrics] [duration]`: required options bare, optional in brackets."""
    options = [
        parameter.name if parameter.required else f"[{parameter.name}]"
        for parameter in command.parameters
    ]
    return " ".join([f"/{command.qualified_name}", *options])


def example_of(item: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu) -> str:
    """The example the command was declared with (`extras={"example": …}`)."""
    return str(item.extras.get("example", ""))


def feature_lines(cog: FeatureCog) -> list[str]:
    """One entry per slash command and message menu of `cog`."""
    lines = []
    for command in cog.walk_app_commands():
        if isinstance(command, app_commands.Command):
            lines.append(
                f"`{usage(command)}`\n{command.description}\n*e.g.* `{example_of(command)}`"
            )
    for menu in cog.message_menus:
        lines.append(f"**{menu.name}** (message menu)\n*e.g.* {example_of(menu)}")
    return lines


def features(cogs: Iterable[commands.Cog]) -> list[FeatureCog]:
    """The features that have something to show, in the order they were loaded."""
    return [
        cog
        for cog in cogs
        if isinstance(cog, FeatureCog) and (cog.get_app_commands() or cog.message_menus)
    ]


def packed(entries: list[str], limit: int) -> list[str]:
    """The entries joined by blank lines into as few texts of at most `limit` as they fit."""
    texts: list[str] = []
    for entry in entries:
        if texts and len(texts[-1]) + 2 + len(entry) <= limit:
            texts[-1] += "\n\n" + entry
        else:
            texts.append(entry[:limit])
    return texts


def help_embed(cogs: Iterable[commands.Cog]) -> discord.Embed:
    """The card: the features in the order they were loaded, each with its commands."""
    embed = discord.Embed(
        title="Soundverse for Discord: what you can do",
        description=(
            "Songs, instrumentals, lyrics, singing, stems and loops from Soundverse. Every "
            "command answers at once; results arrive below with buttons to go on. Positions "
            "and lengths take seconds or m:ss. The buttons below explain quota and history."
        ),
        colour=HELP_COLOUR,
    )
    for cog in features(cogs):
        for index, text in enumerate(packed(feature_lines(cog), FIELD_VALUE_LIMIT)):
            name = cog.qualified_name if index == 0 else f"{cog.qualified_name} (more)"
            embed.add_field(name=name, value=text, inline=False)
    return embed
