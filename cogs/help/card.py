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
# Discord's limit on an embed field's value, and on all of a message's embed text.
FIELD_VALUE_LIMIT = 1024
EMBED_TEXT_LIMIT = 6000


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


def feature_lines(cog: FeatureCog, *, brief: bool = False) -> list[str]:
    """One entry per slash command and message menu of `cog`; `brief`: the command and what it
    does on one line, without its options and example."""
    lines = []
    for command in cog.walk_app_commands():
        if isinstance(command, app_commands.Command):
            if brief:
                lines.append(f"`/{command.qualified_name}` {command.description}")
                continue
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
    shown = features(cogs)
    brief: set[str] = set()
    # Within Discord's limit on a message's embed text, the features with the most commands
    # are listed briefly (their topic buttons give examples), the biggest first.
    by_size = sorted(shown, key=lambda cog: -sum(map(len, feature_lines(cog))))
    while len(_filled(embed, shown, brief)) > EMBED_TEXT_LIMIT and len(brief) < len(shown):
        brief.add(by_size[len(brief)].qualified_name)
    return _filled(embed, shown, brief)


def _filled(embed: discord.Embed, shown: list[FeatureCog], brief: set[str]) -> discord.Embed:
    embed = embed.copy()
    embed.clear_fields()
    for cog in shown:
        lines = feature_lines(cog, brief=cog.qualified_name in brief)
        for index, text in enumerate(packed(lines, FIELD_VALUE_LIMIT)):
            name = cog.qualified_name if index == 0 else f"{cog.qualified_name} (more)"
            embed.add_field(name=name, value=text, inline=False)
    return embed
