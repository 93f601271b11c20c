"""`/privacy export` and `/privacy delete`, whose confirmation is a restart-proof button."""

from __future__ import annotations

import io
import json
from typing import Any

import discord
from discord import app_commands

from bot.jobs.models import Requester
from bot.ui.application import app_of
from bot.ui.components import MemberSubject, RestartProofButton
from bot.ui.feature import FeatureCog
from bot.words import counted, listed

EXPORT_NAME = "my-soundverse-data.json"


class DeleteMyDataButton(MemberSubject, RestartProofButton[Requester], prefix="privacy:delete"):
    """Confirms `/privacy delete`: deletes the data of whoever presses it (it is shown to them
    alone)."""

    label = "Delete my data"
    emoji = "🗑️"
    style = discord.ButtonStyle.danger

    async def act(self, interaction: discord.Interaction[Any], member: Requester) -> None:
        report = await app_of(interaction).services.privacy.delete_member(member.user_id)
        deleted = [
            f"{counted(report.tracks_deleted, 'track')} with their files",
            counted(report.jobs_deleted, "job"),
        ]
        if report.chat_turns_deleted:
            deleted.append(counted(report.chat_turns_deleted, "chat question"))
        await interaction.response.edit_message(
            content=(
                f"Deleted: {listed(deleted)}. Your quota history is kept without "
                "your name, so servers' totals stay right."
            ),
            view=None,
        )


class Privacy(FeatureCog):
    """A member's data: theirs to take and to delete."""

    privacy = app_commands.Group(name="privacy", description="Your data kept by this bot")
    components = (DeleteMyDataButton,)

    @privacy.command(
        name="export",
        description="Everything this bot keeps about you, as JSON",
        extras={"example": "/privacy export"},
    )
    async def export(self, interaction: discord.Interaction[Any]) -> None:
        data = await self.app.services.privacy.export(interaction.user.id)
        body = json.dumps(data, indent=2, ensure_ascii=False).encode()
        kept = [counted(len(data["tracks"]), "track"), counted(len(data["jobs"]), "job")]
        if data["chat"]:
            kept.append(counted(len(data["chat"]), "chat question"))
        await interaction.response.send_message(
            f"Your data: {listed(kept)}.",
            file=discord.File(io.BytesIO(body), filename=EXPORT_NAME),
            ephemeral=True,
        )

    @privacy.command(
        name="delete",
        description="Delete everything this bot keeps about you",
        extras={"example": "/privacy delete"},
    )
    async def delete(self, interaction: discord.Interaction[Any]) -> None:
        confirm = discord.ui.View(timeout=None)
        confirm.add_item(DeleteMyDataButton(""))
        await interaction.response.send_message(
            "This deletes all your tracks (with their files, in every server), your jobs and "
            "your conversations with the chat assistant; it cannot be undone. Your quota "
            "history stays, without your name.",
            view=confirm,
            ephemeral=True,
        )
