"""The answer card: the question, the assistant's answer laid out within Discord's message limits,
and a footer with the topic and how much of the conversation went along.

An answer longer than one embed's description continues in the next embed of the same message;
past what one message may show (6,000 characters), it is cut at a space and ends with "…", and
the footer says so. The whole answer stays stored with its conversation.
"""

from __future__ import annotations

import discord

from bot.jobs.assistant import ChatAnswer, TopicSource
from bot.soundverse import ChatAction
from bot.soundverse.limits import CHAT_PROMPT_MAX_CHARS
from bot.ui.text import (
    DESCRIPTION_LIMIT,
    FIELD_VALUE_LIMIT,
    TITLE_LIMIT,
    clip,
    plain,
    shown,
    split_text,
)
from bot.words import counted

MESSAGE_EMBEDS_LIMIT = 6000
FOOTER_LIMIT = 2048
TITLE_PREFIX = "💬 "
QUESTION_FIELD = "Question"
CHAT_COLOUR = discord.Colour.from_rgb(88, 101, 242)
CUT_SHORT = "The answer was cut short: a Discord message shows at most 6,000 characters."

TOPIC_NAMES: dict[ChatAction, str] = {
    ChatAction.GENERATE_MUSIC: "Making music",
    ChatAction.EXTEND_MUSIC: "Extending a song",
    ChatAction.AUTO_COMPLETE_MUSIC: "Completing a song",
    ChatAction.LOOP_AUDIO: "Loops",
    ChatAction.SEPARATE_STEMS: "Stems",
    ChatAction.EDIT_MUSIC: "Editing music",
    ChatAction.LYRIC_WRITING: "Lyrics",
    ChatAction.OTHER: "Anything else",
}
"""What a member reads for each chat `action` (§5.3): the `/ask topic` choices and the footer."""

_HOW_DECIDED = {
    TopicSource.CHOSEN: "",
    TopicSource.PICKED: " (picked from the question)",
    TopicSource.KEPT: " (as before in this conversation)",
    TopicSource.DEFAULT: "",
}


def footer_text(answer: ChatAnswer) -> str:
    """Topic, turn number, and the earlier turns sent along or left out."""
    topic = answer.topic
    parts = [f"Topic: {TOPIC_NAMES[topic.action]}{_HOW_DECIDED[topic.source]}"]
    turn = answer.turn
    if turn.number > 1:
        parts.append(f"Turn {turn.number}")
    if turn.carried:
        parts.append(f"{counted(turn.carried, 'earlier turn')} sent along")
    if answer.left_out:
        parts.append(
            f"{counted(answer.left_out, 'earlier turn')} left out "
            f"(Soundverse takes {CHAT_PROMPT_MAX_CHARS} characters)"
        )
    return " · ".join(parts)


def trimmed(text: str, limit: int) -> str:
    """`text` within `limit` characters: cut at the last space of its second half (else at
    the limit), ending in "…"."""
    if len(text) <= limit:
        return text
    room = limit - 1
    cut = text.rfind(" ", room // 2, room + 1)
    return text[: cut if cut > 0 else room].rstrip() + "…"


def header_embed(question: str) -> discord.Embed:
    """The first embed: the question as its title, and in full below when the title cannot
    hold it."""
    flat = " ".join(question.split())
    title = clip(flat, TITLE_LIMIT - len(TITLE_PREFIX))
    embed = discord.Embed(title=TITLE_PREFIX + title, colour=CHAT_COLOUR)
    if title != flat:
        embed.add_field(
            name=QUESTION_FIELD,
            value=shown(question.strip(), FIELD_VALUE_LIMIT, one_line=False),
        )
    return embed


def answer_embeds(question: str, answer: str, footer: str) -> list[discord.Embed]:
    """The embeds of the answer card, within Discord's limits for one message."""
    header = header_embed(question)
    room = MESSAGE_EMBEDS_LIMIT - len(header) - min(FOOTER_LIMIT, len(footer) + 1 + len(CUT_SHORT))
    text = plain(answer)
    cut_short = len(text) > room
    pieces = split_text(trimmed(text, room), DESCRIPTION_LIMIT)
    header.description = pieces[0] if pieces else None
    embeds = [
        header,
        *(discord.Embed(description=piece, colour=CHAT_COLOUR) for piece in pieces[1:]),
    ]
    note = f"{footer}\n{CUT_SHORT}" if cut_short else footer
    embeds[-1].set_footer(text=note[:FOOTER_LIMIT])
    return embeds


def card_embeds(answer: ChatAnswer) -> list[discord.Embed]:
    """The card of an answered turn."""
    return answer_embeds(answer.turn.question, answer.turn.answer, footer_text(answer))
