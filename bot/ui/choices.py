"""Choice lists of slash-command options, built from the API's enumerations so a version or a
style is named once (in `bot.soundverse.enums`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum

from discord import app_commands

from bot.soundverse.enums import DEPRECATED_VERSIONS


def _version_number(version: str) -> int:
    return int(version.removeprefix("v"))


def version_choices(
    versions: Iterable[Enum], *, default: str, notes: Mapping[str, str] | None = None
) -> list[app_commands.Choice[str]]:
    """The versions a command offers: the default first, then the current ones from oldest to
    newest (the newest says so), then the deprecated ones, newest first. `notes` adds a
    word to a version's name, e.g. `{"v1": "instrumental only"}`."""
    values = sorted({str(version.value) for version in versions}, key=_version_number)
    current = [value for value in values if value not in DEPRECATED_VERSIONS]
    deprecated = [value for value in reversed(values) if value in DEPRECATED_VERSIONS]
    ordered = [default, *(value for value in current if value != default), *deprecated]
    choices = []
    for value in ordered:
        words = [(notes or {}).get(value, "")]
        if value == default:
            words.append("default")
        elif value == current[-1]:
            words.append("newest")
        if value in DEPRECATED_VERSIONS:
            words.append("deprecated")
        described = ", ".join(word for word in words if word)
        choices.append(
            app_commands.Choice(name=f"{value} ({described})" if described else value, value=value)
        )
    return choices


def enum_choices(members: Iterable[Enum]) -> list[app_commands.Choice[str]]:
    """One choice per member, named by its value (at most 25, Discord's cap)."""
    return [app_commands.Choice(name=str(m.value), value=str(m.value)) for m in members][:25]


def duration_choices(durations: Iterable[Enum]) -> list[app_commands.Choice[int]]:
    """Durations in seconds, named `15 s`."""
    return [app_commands.Choice(name=f"{d.value} s", value=int(d.value)) for d in durations]
