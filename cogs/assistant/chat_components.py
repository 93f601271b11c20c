"""The answer card's buttons and the follow-up form, and answering through an interaction.

"Ask a follow-up" carries the conversation's id and opens a form that carries it too; the
next-step button ("🎵 Make this song", …) carries the turn's id and opens the form another
feature registered for that work (`bot.ui.forms.StartForm`), prefilled from the conversation.
All of them are restart-proof.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.jobs.assistant import QUESTION_MAX_CHARS, ChatAnswer
from bot.soundverse import ChatAction
from bot.storage import Conversation, Turn
from bot.ui.application import Application, app_of, requester_of
from bot.ui.components import (
    FormField,
    Restartable,
    RestartProofButton,
    RestartProofForm,
)
from bot.ui.errors import refuse, report_for
from bot.ui.forms import Prefill
from bot.ui.text import BUTTON_LABEL_LIMIT
from cogs.assistant.chat_card import card_embeds

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
FOLLOW_UP_FIELDS = [
    FormField(
        "question",
        "Your follow-up",
        f"Up to {QUESTION_MAX_CHARS} characters; the last turns go along with it",
        paragraph=True,
        max_length=QUESTION_MAX_CHARS,
    )
]


# --- answering --------------------------------------------------------------------------------


async def answer_interaction(
    interaction: discord.Interaction[Any],
    question: str,
    *,
    conversation_id: int | None = None,
    topic: ChatAction | None = None,
) -> None:
    """Acknowledge at once, ask, and post the answer card as the response; a refusal or a
    failure is told privately instead."""
    await interaction.response.defer(thinking=True)
    app = app_of(interaction)
    assert interaction.channel_id is not None
    try:
        answer = await app.services.chat.ask(
            question,
            requester_of(interaction),
            interaction.channel_id,
            conversation_id=conversation_id,
            topic=topic,
        )
        card = await interaction.edit_original_response(
            embeds=card_embeds(answer), view=answer_view(app, answer), allowed_mentions=QUIET
        )
    except Exception as error:
        await refuse(interaction, report_for(error))
        return
    await remember_card(app, answer, card.id)


async def remember_card(app: Application, answer: ChatAnswer, message_id: int) -> None:
    """Record which message shows the answer, so replies to it go on with its conversation."""
    try:
        await app.services.chat.answered_in(answer.turn.id, message_id)
    except Exception:
        log.exception(
            "Could not record message %s as the answer of turn %s", message_id, answer.turn.id
        )


def answer_view(app: Application, answer: ChatAnswer) -> discord.ui.View:
    """The card's buttons: Ask a follow-up, and the next step its topic leads to (when the
    feature that does that work is loaded). They keep no state in memory."""
    view = discord.ui.View(timeout=None)
    view.add_item(FollowUpButton(answer.turn.conversation_id))
    step = answer.next_step
    start = app.forms.start_for(step) if step is not None else None
    if start is not None:
        view.add_item(NextStepButton.labelled(answer.turn.id, start.label, start.emoji))
    return view


# --- subjects ---------------------------------------------------------------------------------


class ConversationSubject(Restartable[Conversation]):
    """A component about a conversation (the key is its id): in a server any member may go on
    with it, in DMs only its owner."""

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> Conversation:
        return await app.services.chat.conversation(int(self.key))


class TurnSubject(Restartable[Turn]):
    """A component about one answered turn (the key is its id), for any member where it was
    asked (in DMs, only its asker)."""

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> Turn:
        return await app.services.chat.turn(int(self.key))


# --- the card's buttons and the follow-up form -------------------------------------------------


class FollowUpButton(
    ConversationSubject, RestartProofButton[Conversation], prefix="chat:follow-up"
):
    """Opens the follow-up form of the conversation."""

    label = "Ask a follow-up"
    emoji = "💬"
    style = discord.ButtonStyle.primary

    async def act(self, interaction: discord.Interaction[Any], conversation: Conversation) -> None:
        await interaction.response.send_modal(FollowUpForm.modal(conversation.id, FOLLOW_UP_FIELDS))


class FollowUpForm(
    ConversationSubject, RestartProofForm[Conversation], prefix="chat:follow-up-form"
):
    """Asks the follow-up submitted, in the conversation, and posts its answer card."""

    title = "Ask a follow-up"

    async def act(self, interaction: discord.Interaction[Any], conversation: Conversation) -> None:
        await answer_interaction(
            interaction, self.values.get("question", ""), conversation_id=conversation.id
        )


class NextStepButton(TurnSubject, RestartProofButton[Turn], prefix="chat:next"):
    """Opens the form that starts the work the answer's topic leads to, prefilled from the
    conversation; where that work needs audio, says how to give it instead."""

    label = "Make this"

    @classmethod
    def labelled(cls, turn_id: int, label: str, emoji: str) -> NextStepButton:
        """The button for turn `turn_id`, showing `label` and `emoji` (restarts need neither)."""
        button = cls(turn_id)
        button.item.label = label[:BUTTON_LABEL_LIMIT]
        button.item.emoji = emoji
        return button

    async def act(self, interaction: discord.Interaction[Any], turn: Turn) -> None:
        app = app_of(interaction)
        step = await app.services.chat.next_step(turn.id)
        start = app.forms.start_for(step.operation)
        if start is None:
            raise UserFacingError(
                f"Starting {step.operation.noun} from here is not available right now."
            )
        if start.open is not None:
            await interaction.response.send_modal(start.open(Prefill(prompt=step.prompt)))
            return
        await interaction.response.send_message(
            start.needs_audio, ephemeral=True, allowed_mentions=QUIET
        )
