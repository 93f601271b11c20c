"""Restart-proof forms: modal submissions routed by their `custom_id`, not by a modal in memory.

discord.py only delivers a modal's submission to the modal object that opened it, so a form
left open across a restart would fail. Features register their form classes here instead;
the router reads each submission's `custom_id` and hands it to the form whose template
matches. The form base (`bot.ui.components.RestartProofForm`) does the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Protocol, cast

import discord


class SubmittedForm(Protocol):
    """A form class the router can hand a submission to."""

    template: ClassVar[re.Pattern[str]]

    @classmethod
    async def submitted(cls, interaction: discord.Interaction[Any], match: re.Match[str]) -> None:
        """Handle one submission whose custom_id matched `template`."""


def submitted_values(components: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The text inputs of a modal submission by custom_id, inside action rows or labels."""
    values: dict[str, str] = {}
    for component in components:
        nested = list(component.get("components") or [])
        if isinstance(component.get("component"), Mapping):
            nested.append(component["component"])
        values.update(submitted_values(nested))
        if "custom_id" in component and isinstance(component.get("value"), str):
            values[str(component["custom_id"])] = component["value"]
    return values


def form_values(interaction: discord.Interaction[Any]) -> dict[str, str]:
    """What a member typed into a submitted form, by field custom_id."""
    data = cast("Mapping[str, Any]", interaction.data or {})
    return submitted_values(data.get("components") or [])


class FormRouter:
    """Hands each modal submission to the registered form its custom_id names."""

    def __init__(self) -> None:
        self._forms: dict[str, type[SubmittedForm]] = {}

    def add(self, *forms: type[SubmittedForm]) -> None:
        for form in forms:
            self._forms[form.template.pattern] = form

    def remove(self, *forms: type[SubmittedForm]) -> None:
        for form in forms:
            self._forms.pop(form.template.pattern, None)

    async def dispatch(self, interaction: discord.Interaction[Any]) -> None:
        """The `on_interaction` listener: route a modal submission to its form, if any."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        custom_id = str(cast("Mapping[str, Any]", interaction.data or {}).get("custom_id", ""))
        for form in list(self._forms.values()):
            match = form.template.fullmatch(custom_id)
            if match is not None:
                await form.submitted(interaction, match)
                return
