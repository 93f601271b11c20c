"""Restart-proof forms: modal submissions routed by their `custom_id`, not by a modal in memory.

discord.py only delivers a modal's submission to the modal object that opened it, so a form
left open across a restart would fail. Features register their form classes here instead;
the router reads each submission's `custom_id` and hands it to the form whose template
matches. The form base (`bot.ui.components.RestartProofForm`) does the rest.

The router also keeps the forms that *start* an operation (`StartForm`), so one feature can open
another's form without naming it: the chat assistant's "Make this song" opens whatever form the
song feature registered for `Operation.SONG`, prefilled from the conversation (`Prefill`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast

import discord

from bot.jobs.operations import Operation


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


@dataclass(frozen=True, slots=True)
class Prefill:
    """What a form that starts new work is opened with, suggested by where the member comes from
    (what they asked the chat assistant for)."""

    prompt: str = ""
    lyrics: str = ""


@dataclass(frozen=True, slots=True)
class StartForm:
    """A feature's way to start `operations` from elsewhere: a button `label` and `emoji`, and
    either a form opened prefilled (`open`) or, where the work needs audio that a form cannot
    take (a track, an upload), what the member is told instead (`needs_audio`)."""

    operations: frozenset[Operation]
    label: str
    emoji: str
    open: Callable[[Prefill], discord.ui.Modal] | None = None
    needs_audio: str | None = None

    def __post_init__(self) -> None:
        if (self.open is None) == (self.needs_audio is None):
            raise ValueError("a start form either opens a form or says what audio it needs")


class FormRouter:
    """Hands each modal submission to the registered form its custom_id names, and keeps the
    forms features offer to start each operation."""

    def __init__(self) -> None:
        self._forms: dict[str, type[SubmittedForm]] = {}
        self._starts: dict[Operation, StartForm] = {}

    def add(self, *forms: type[SubmittedForm]) -> None:
        for form in forms:
            self._forms[form.template.pattern] = form

    def remove(self, *forms: type[SubmittedForm]) -> None:
        for form in forms:
            self._forms.pop(form.template.pattern, None)

    def add_starts(self, *entries: StartForm) -> None:
        for entry in entries:
            taken = sorted(op.value for op in entry.operations if op in self._starts)
            if taken:
                raise ValueError(f"a start form is already registered for {', '.join(taken)}")
            self._starts.update(dict.fromkeys(entry.operations, entry))

    def remove_starts(self, *entries: StartForm) -> None:
        for entry in entries:
            for operation in entry.operations:
                if self._starts.get(operation) is entry:
                    del self._starts[operation]

    def start_for(self, operation: Operation) -> StartForm | None:
        """How a loaded feature starts `operation` from elsewhere, if one does."""
        return self._starts.get(operation)

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
