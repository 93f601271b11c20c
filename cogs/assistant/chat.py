"""Chat with the Soundverse assistant: `/ask`, the answer card's follow-ups, and messages that
mention the bot (or are sent to it in DMs), all without the message-content intent.

A message to the bot goes on with the conversation whose answer it replies to; otherwise with
the member's latest conversation in that channel if they asked in it within
`ASSISTANT_CONTINUE_WITHIN`; otherwise it starts one. `/ask` always starts one. Refusals
(quota, cooldown, an empty question) reach the member privately: as the interaction's
ephemeral reply, or for a message by DM (in the channel when their DMs are shut).
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.jobs.assistant import QUESTION_MAX_CHARS
from bot.soundverse import ChatAction
from bot.ui.application import requester_of_message
from bot.ui.errors import ErrorReport, error_embed, report_for
from bot.ui.feature import FeatureCog
from cogs.assistant.chat_card import TOPIC_NAMES, card_embeds
from cogs.assistant.chat_components import (
    FollowUpButton,
    FollowUpForm,
    NextStepButton,
    answer_interaction,
    answer_view,
    remember_card,
)

log = logging.getLogger(__name__)

TOPIC_CHOICES = [
    app_commands.Choice(name=TOPIC_NAMES[action], value=action.value) for action in ChatAction
]
HOW_TO_ASK = (
    "Ask me something after the mention, e.g. “@{name} what tempo suits lofi?”, or use `/ask`."
)


def mentions_of(user_id: int) -> re.Pattern[str]:
    """The ways a message's text mentions the user `user_id`."""
    return re.compile(rf"<@!?{user_id}>")


def is_for_the_bot(message: discord.Message, bot_user: discord.abc.User) -> bool:
    """A person's message sent to the bot in DMs, or mentioning it (a reply that pings it
    included)."""
    if message.author.bot or message.author.id == bot_user.id:
        return False
    if message.type not in (discord.MessageType.default, discord.MessageType.reply):
        return False  # a pin, a join, a thread created...
    if message.guild is None:
        return True
    return any(user.id == bot_user.id for user in message.mentions)


def question_of(message: discord.Message, bot_id: int) -> str:
    """The message's text without the mentions of the bot, other mentions as the names members
    read (`@bob`, `@moderators`), not as ids."""
    text = mentions_of(bot_id).sub(" ", message.content)
    for user in message.mentions:
        text = mentions_of(user.id).sub(f"@{user.display_name}", text)
    for role in message.role_mentions:
        text = text.replace(f"<@&{role.id}>", f"@{role.name}")
    return text.strip()


def bot_permissions(message: discord.Message) -> discord.Permissions | None:
    """What the bot may do in the message's channel (None in DMs, where it may answer)."""
    channel = message.channel
    if message.guild is None or not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return None
    return channel.permissions_for(message.guild.me)


def missing_permissions(message: discord.Message) -> list[str]:
    """What the bot lacks to answer in the message's channel (nothing in DMs)."""
    granted = bot_permissions(message)
    if granted is None:
        return []
    in_thread = isinstance(message.channel, discord.Thread)
    needed = {
        "Send Messages in Threads" if in_thread else "Send Messages": (
            granted.send_messages_in_threads if in_thread else granted.send_messages
        ),
        "Embed Links": granted.embed_links,
    }
    return [name for name, allowed in needed.items() if not allowed]


class ChatCog(FeatureCog, name="Chat"):
    """Chat with the Soundverse assistant."""

    components = (FollowUpButton, FollowUpForm, NextStepButton)

    @app_commands.command(
        name="ask",
        description="Ask the Soundverse assistant about music; reply to its answer to go on",
        extras={"example": "/ask prompt: what tempo suits a rainy lofi track?"},
    )
    @app_commands.describe(
        prompt=f"Your question (up to {QUESTION_MAX_CHARS} characters)",
        topic="What it is about; left out, picked from your words",
    )
    @app_commands.choices(topic=TOPIC_CHOICES)
    async def ask(
        self,
        interaction: discord.Interaction[Any],
        prompt: app_commands.Range[str, 1, QUESTION_MAX_CHARS],
        topic: str | None = None,
    ) -> None:
        chosen = ChatAction(topic) if topic is not None else None
        await answer_interaction(interaction, prompt, topic=chosen)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message to the bot in its conversation (see the module docstring)."""
        bot_user = self.app.client.user
        if bot_user is None or not is_for_the_bot(message, bot_user):
            return
        try:
            await self.answer_message(message, bot_user)
        except Exception as error:
            await tell_privately(message, report_for(error))

    async def answer_message(self, message: discord.Message, bot_user: discord.ClientUser) -> None:
        question = question_of(message, bot_user.id)
        if not question:
            await tell_privately(
                message, ErrorReport(HOW_TO_ASK.format(name=bot_user.display_name))
            )
            return
        missing = missing_permissions(message)
        if missing:
            where = getattr(message.channel, "mention", "this channel")
            needed = " and ".join(missing)
            await tell_privately(
                message,
                ErrorReport(
                    f"I can't answer in {where}: I need the {needed} permission there. "
                    "`/ask` answers here without them."
                ),
            )
            return
        chat = self.app.services.chat
        asker = requester_of_message(message)
        replied_to = message.reference.message_id if message.reference is not None else None
        with contextlib.suppress(discord.HTTPException):
            await message.channel.typing()
        conversation_id = await chat.conversation_to_continue(asker, message.channel.id, replied_to)
        answer = await chat.ask(
            question, asker, message.channel.id, conversation_id=conversation_id
        )
        card = await answer_author(
            message, embeds=card_embeds(answer), view=answer_view(self.app, answer)
        )
        await remember_card(self.app, answer, card.id)


async def answer_author(
    message: discord.Message,
    *,
    embeds: list[discord.Embed],
    view: discord.ui.View = discord.utils.MISSING,
) -> discord.Message:
    """Post `embeds` where `message` was sent; in a server, mentioning (and pinging) its author
    and nobody else, so they see it is for them among the channel's talk."""
    if message.guild is None:
        return await message.channel.send(
            embeds=embeds, view=view, allowed_mentions=discord.AllowedMentions.none()
        )
    author = message.author
    return await message.channel.send(
        author.mention,
        embeds=embeds,
        view=view,
        allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=[author]),
    )


async def tell_privately(message: discord.Message, report: ErrorReport) -> None:
    """Tell the author of `message` what went wrong: in DMs where it was a DM, else by DM
    (saying which channel it is about), else, when their DMs are shut, in the channel."""
    embed = error_embed(report)
    if message.guild is not None:
        embed.set_footer(
            text=f"About your message in #{getattr(message.channel, 'name', 'a channel')}"
        )
        try:
            await message.author.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
            return
        except discord.HTTPException:
            log.info("Could not DM %s; telling them in the channel instead", message.author.id)
    try:
        await answer_author(message, embeds=[embed])
    except discord.HTTPException:
        log.warning("Could not tell member %s: %s", message.author.id, report.text)
