"""The follow-ups offered under a result, as each loaded feature contributes them.

A feature's cog adds its `FollowUp` entries when it loads and removes them when it unloads,
so the result card never names a feature. Entries are shown in the order of their
`position`; the features of this bot use:

    10 Extend    20 Loop    30 Variation    40 Lyrics    50 Play in voice
    60 Submit to contest    90 Delete    100 the stems menu (a select, on its own row)

Each entry decides whether it applies to a track (no Lyrics on stems or instrumentals).

A feature may also offer a control on the card of a job while it runs (`WhileRunning`):
"Preview in voice" once Soundverse streams the audio as it is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.jobs.models import JobView
from bot.jobs.operations import FollowUp, Operation


@dataclass(frozen=True, slots=True)
class ResultTrack:
    """The track a result shows, as its follow-ups need to know it."""

    track_id: int
    operation: Operation


def offered_for(follow_up: FollowUp) -> Callable[[ResultTrack], bool]:
    """Applies where the track's operation says `follow_up` makes sense."""

    def applies(track: ResultTrack) -> bool:
        return follow_up in track.operation.follow_ups

    return applies


def always(track: ResultTrack) -> bool:
    """Applies to every track."""
    return True


@dataclass(frozen=True, slots=True)
class FollowUpEntry:
    """One follow-up a feature offers under results: where it goes, when, and how it is made."""

    name: str
    position: int
    build: Callable[[ResultTrack], discord.ui.Item[Any]]
    applies: Callable[[ResultTrack], bool] = always
    per_take: bool = True
    """Offered for each take of a result (False: it acts on the whole result message)."""


@dataclass(frozen=True, slots=True)
class WhileRunning:
    """A control a feature offers on a running job's card; `build` gives None while it does
    not apply (the card shows the others)."""

    name: str
    build: Callable[[JobView], discord.ui.Item[Any] | None]


class FollowUpRegistry:
    """The follow-ups of the features loaded now, in their documented order, and the controls
    they offer on running jobs' cards."""

    def __init__(self) -> None:
        self._entries: dict[str, FollowUpEntry] = {}
        self._running: dict[str, WhileRunning] = {}

    def add_while_running(self, *entries: WhileRunning) -> None:
        for entry in entries:
            if entry.name in self._running:
                raise ValueError(
                    f"a running-job control named {entry.name!r} is already registered"
                )
            self._running[entry.name] = entry

    def remove_while_running(self, *entries: WhileRunning) -> None:
        for entry in entries:
            self._running.pop(entry.name, None)

    def while_running(self, job: JobView) -> list[discord.ui.Item[Any]]:
        """The controls features offer on the card of `job` as it runs now."""
        built = (entry.build(job) for entry in self._running.values())
        return [item for item in built if item is not None]

    def add(self, *entries: FollowUpEntry) -> None:
        for entry in entries:
            if entry.name in self._entries:
                raise ValueError(f"a follow-up named {entry.name!r} is already registered")
            self._entries[entry.name] = entry

    def remove(self, *entries: FollowUpEntry) -> None:
        for entry in entries:
            self._entries.pop(entry.name, None)

    def names(self) -> list[str]:
        """The registered follow-ups, in order."""
        return [entry.name for entry in self._ordered()]

    def items_for(self, track: ResultTrack) -> list[discord.ui.Item[Any]]:
        """The components of every follow-up that applies to `track`, in order."""
        return [entry.build(track) for entry in self._ordered() if entry.applies(track)]

    def per_take_items_for(self, track: ResultTrack) -> list[tuple[str, discord.ui.Item[Any]]]:
        """The follow-ups offered for one take of a result, each with its name."""
        return [
            (entry.name, entry.build(track))
            for entry in self._ordered()
            if entry.per_take and entry.applies(track)
        ]

    def item_named(self, name: str, track: ResultTrack) -> discord.ui.Item[Any] | None:
        """The component of follow-up `name` for `track`, when it is loaded and applies."""
        entry = self._entries.get(name)
        if entry is None or not entry.per_take or not entry.applies(track):
            return None
        return entry.build(track)

    def _ordered(self) -> list[FollowUpEntry]:
        return sorted(self._entries.values(), key=lambda entry: (entry.position, entry.name))
