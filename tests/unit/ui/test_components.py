"""The restart-proof component base (`bot.ui.components`): custom_ids made and read back."""

from __future__ import annotations

from typing import Any

import discord

from bot.jobs.models import Requester
from bot.storage import Track
from bot.ui.components import (
    FormField,
    MemberSubject,
    RestartProofButton,
    RestartProofForm,
    TrackSubject,
    UploadSubject,
)
from bot.ui.uploads import HeldUpload

DISCORD_CUSTOM_ID_LIMIT = 100


class TrackProbe(TrackSubject, RestartProofButton[Track], prefix="test:track"):
    label = "Probe"

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        """Nothing: only its custom_id is tested."""


class PlainProbe(MemberSubject, RestartProofButton[Requester], prefix="test:plain"):
    label = "Plain"

    async def act(self, interaction: discord.Interaction[Any], member: Requester) -> None:
        """Nothing: only its custom_id is tested."""


class UploadForm(UploadSubject, RestartProofForm[HeldUpload], prefix="test:upload-form"):
    title = "Probe"

    async def act(self, interaction: discord.Interaction[Any], upload: HeldUpload) -> None:
        """Nothing: only its custom_id is tested."""


def test_a_button_keeps_its_subject_in_the_custom_id() -> None:
    """`<prefix>:<id>`, read back by the class's template."""
    probe = TrackProbe(42)
    match = probe.template.fullmatch(probe.custom_id)
    assert probe.custom_id == "test:track:42"
    assert match is not None and match["key"] == "42"


def test_a_template_refuses_other_shapes() -> None:
    """A key that is not a track id, or extra parts, do not match."""
    template = TrackProbe(1).template
    assert template.fullmatch("test:track:abc") is None
    assert template.fullmatch("test:track:1:2") is None
    assert template.fullmatch("test:track") is None


def test_a_keyless_component_is_its_prefix() -> None:
    """A component with no subject of its own has the prefix alone as custom_id."""
    probe = PlainProbe("")
    assert probe.custom_id == "test:plain"
    assert probe.template.fullmatch("test:plain") is not None


def test_a_form_opens_with_its_custom_id_and_fields() -> None:
    """The modal carries `<prefix>:<key>` and a labelled text input per field."""
    modal = UploadForm.modal("0123456789abcdef", [FormField("count", "Repeats", default="4")])
    shown = modal.to_dict()
    assert shown["custom_id"] == "test:upload-form:0123456789abcdef"
    assert UploadForm.template.fullmatch(shown["custom_id"]) is not None
    field = shown["components"][0]["component"]
    assert (field["custom_id"], field["value"]) == ("count", "4")


def test_custom_ids_fit_discord_even_for_the_largest_ids() -> None:
    """A snowflake-sized id keeps the custom_id within Discord's 100 characters."""
    assert len(TrackProbe(2**63 - 1).custom_id) <= DISCORD_CUSTOM_ID_LIMIT
