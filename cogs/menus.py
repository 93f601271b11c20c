"""Message context menus on any message with audio: "Separate stems", "Extend", "Make a loop"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidInput
from bot.ui.audio_input import check_upload
from bot.ui.errors import report_for, send_error
from bot.ui.followups import ExtendModal, LoopModal, StemsMenu, from_upload

if TYPE_CHECKING:
    from bot.app import SoundverseBot

AUDIO_SUFFIXES = (".mp3", ".wav", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac", ".webm")


def audio_attachment(message: discord.Message) -> discord.Attachment:
    """The message's first audio attachment; a precise refusal when it has none."""
    for attachment in message.attachments:
        kind = (attachment.content_type or "").lower()
        if kind.startswith("audio/") or attachment.filename.lower().endswith(AUDIO_SUFFIXES):
            check_upload(attachment)
            return attachment
    if message.attachments:
        names = ", ".join(f"`{a.filename}`" for a in message.attachments[:3])
        raise InvalidInput(f"That message has no audio attachment ({names} are not audio).")
    raise InvalidInput("That message has no audio attachment: use this on a message with a song.")


class Menus(commands.Cog):
    """The three message context menus."""

    def __init__(self, bot: SoundverseBot) -> None:
        self.bot = bot
        self.menus = [
            app_commands.ContextMenu(name="Separate stems", callback=self.separate_stems),
            app_commands.ContextMenu(name="Extend", callback=self.extend),
            app_commands.ContextMenu(name="Make a loop", callback=self.make_loop),
        ]

    async def cog_load(self) -> None:
        for menu in self.menus:
            self.bot.tree.add_command(menu)

    async def cog_unload(self) -> None:
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)

    async def separate_stems(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        try:
            attachment = audio_attachment(message)
        except InvalidInput as error:
            await send_error(interaction, report_for(error))
            return
        await interaction.response.send_message(
            f"Separate the stems of `{attachment.filename}`:",
            view=StemsMenu(from_upload(attachment)),
            ephemeral=True,
        )

    async def extend(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        try:
            attachment = audio_attachment(message)
        except InvalidInput as error:
            await send_error(interaction, report_for(error))
            return
        await interaction.response.send_modal(ExtendModal(from_upload(attachment), song=False))

    async def make_loop(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        try:
            attachment = audio_attachment(message)
        except InvalidInput as error:
            await send_error(interaction, report_for(error))
            return
        await interaction.response.send_modal(LoopModal(from_upload(attachment)))


async def setup(bot: SoundverseBot) -> None:
    await bot.add_cog(Menus(bot))
