"""What can follow each take of a result, not only the first.

The buttons under a result act on its first file; each other file gets a menu of the same
follow-ups ("Take 2: Extend, Loop, …"). Picking one runs that follow-up's button for that
take, with the button's own rules on who may use it. Like every component it works after a
restart: its custom_id names the take's track, and the follow-up is found by name.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.errors import UserFacingError
from bot.jobs.operations import Operation
from bot.storage import Track
from bot.ui.application import app_of
from bot.ui.components import Restartable, RestartProofButton, RestartProofSelect, TrackSubject
from bot.ui.follow_ups import FollowUpRegistry, ResultTrack
from bot.ui.text import BUTTON_LABEL_LIMIT, clip

PLACEHOLDER_LIMIT = 150


class TakeActions(TrackSubject, RestartProofSelect[Track], prefix="track:more"):
    """A menu of the follow-ups of one take (its track), beside a result's buttons."""

    placeholder = "More for this take…"
    options = (discord.SelectOption(label="…", value="-"),)

    def __init__(
        self,
        key: str | int,
        *,
        placeholder: str | None = None,
        options: list[discord.SelectOption] | None = None,
    ) -> None:
        super().__init__(key)
        if placeholder is not None:
            self.item.placeholder = clip(placeholder, PLACEHOLDER_LIMIT)
        if options:
            self.item.options = options

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        registry = app_of(interaction).follow_ups
        name = self.chosen[0] if self.chosen else ""
        item = registry.item_named(name, ResultTrack(track.id, Operation(track.operation)))
        if not isinstance(item, Restartable):
            raise UserFacingError("That can no longer be done with this take.")
        await item.run(interaction)


def take_menu(
    registry: FollowUpRegistry, track_id: int, operation: Operation, label: str
) -> TakeActions | None:
    """The menu of `label`'s take (track `track_id`): its button follow-ups, or None."""
    options = [
        discord.SelectOption(
            label=clip(str(item.label), BUTTON_LABEL_LIMIT), value=name, emoji=item.emoji
        )
        for name, item in registry.per_take_items_for(ResultTrack(track_id, operation))
        if isinstance(item, RestartProofButton)
    ]
    if not options:
        return None
    words = ", ".join(option.label for option in options[:3])
    return TakeActions(track_id, placeholder=f"{label}: {words}…", options=options)
