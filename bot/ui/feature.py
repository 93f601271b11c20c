"""The base of every feature's cog.

Besides its slash commands (which discord.py adds with the cog), a feature may bring
restart-proof components, follow-ups under results, message context menus and the forms that
start its work from elsewhere (`bot.ui.forms.StartForm`). A
`FeatureCog` registers them when it loads and removes them when it unloads, so the
application wires no feature by name.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.ui.application import Application
from bot.ui.components import RestartProofForm
from bot.ui.follow_ups import FollowUpEntry, WhileRunning
from bot.ui.forms import StartForm

MessageMenuCallback = Callable[
    [discord.Interaction[Any], discord.Message], Coroutine[Any, Any, None]
]


class FeatureCog(commands.Cog):
    """A feature of the bot; set `components` and `follow_ups`, add menus in `__init__`."""

    components: ClassVar[tuple[type[Any], ...]] = ()
    """Restart-proof buttons, selects and forms (`bot.ui.components`) of the feature."""
    follow_ups: ClassVar[tuple[FollowUpEntry, ...]] = ()
    """What the feature offers under results (`bot.ui.follow_ups`)."""
    while_running: ClassVar[tuple[WhileRunning, ...]] = ()
    """What the feature offers on a running job's card (`bot.ui.follow_ups`)."""
    starts: ClassVar[tuple[StartForm, ...]] = ()
    """How other features may start the feature's work, prefilled (`bot.ui.forms`)."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self._menus: list[app_commands.ContextMenu] = []

    def add_message_menu(self, name: str, callback: MessageMenuCallback, *, example: str) -> None:
        """A message context menu of the feature, registered with the cog; `example` is how
        `/help` shows it used."""
        self._menus.append(
            app_commands.ContextMenu(name=name, callback=callback, extras={"example": example})
        )

    @property
    def message_menus(self) -> tuple[app_commands.ContextMenu, ...]:
        """The feature's message context menus."""
        return tuple(self._menus)

    def _forms(self) -> list[type[RestartProofForm[Any]]]:
        return [item for item in self.components if issubclass(item, RestartProofForm)]

    def _dynamic_items(self) -> list[type[discord.ui.DynamicItem[Any]]]:
        return [item for item in self.components if issubclass(item, discord.ui.DynamicItem)]

    async def cog_load(self) -> None:
        client = self.app.client
        client.add_dynamic_items(*self._dynamic_items())
        self.app.forms.add(*self._forms())
        self.app.forms.add_starts(*self.starts)
        self.app.follow_ups.add(*self.follow_ups)
        self.app.follow_ups.add_while_running(*self.while_running)
        for menu in self._menus:
            client.tree.add_command(menu)

    async def cog_unload(self) -> None:
        client = self.app.client
        for menu in self._menus:
            client.tree.remove_command(menu.name, type=menu.type)
        self.app.follow_ups.remove(*self.follow_ups)
        self.app.follow_ups.remove_while_running(*self.while_running)
        self.app.forms.remove_starts(*self.starts)
        self.app.forms.remove(*self._forms())
        client.remove_dynamic_items(*self._dynamic_items())
