"""The chat assistant end to end: `/ask`, follow-ups (form, replies, mentions, DMs), the buttons
from talk to music, Discord's limits, the cooldown, quota and restarts."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Settings
from sandbox.discord.local import InteractionHandle
from sandbox.discord.state import EMBED_LINKS, JSON, Message
from sandbox.soundverse.texts import chat_reply
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, embed_text, member_usage, result_for

CHAT_PATH = "/assistant/chat"
SONG_PATH = "/v5/generate/song"
TITLE_PREFIX = "💬 "


# --- settings ---------------------------------------------------------------------------------


def no_cooldown(settings: Settings) -> None:
    """Members may ask again at once (the cooldown has its own test)."""
    settings.quota.call_cooldown = 0


def chat_costs_a_unit_of_one(settings: Settings) -> None:
    """A chat costs 1 unit and a member may spend 1 unit a day; no cooldown."""
    no_cooldown(settings)
    settings.quota.costs = {**settings.quota.costs, "chat": 1}
    settings.quota.member_cap = 1


# --- what a member does and sees ----------------------------------------------------------------


@pytest.fixture
async def stack(make_stack: StackFactory) -> SandboxStack:
    """Here, a stack whose members may ask again at once (the cooldown test starts its own)."""
    return await make_stack(tweak=no_cooldown)


def is_card(message: Message) -> bool:
    return bool(message.embeds) and str(message.embeds[0].get("title", "")).startswith(TITLE_PREFIX)


async def answer_card(stack: SandboxStack, interaction: InteractionHandle) -> Message:
    """The answer card an interaction (a slash command or a submitted form) was answered with."""
    return await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and not m.ephemeral and is_card(m), timeout=10
    )


async def card_answering(stack: SandboxStack, message: Message) -> Message:
    """The answer card the bot posted after a member's message, where it was sent."""
    bot_id = stack.discord.bot_user.id

    def answers(card: Message) -> bool:
        return (
            is_card(card)
            and card.author.id == bot_id
            and card.channel_id == message.channel_id
            and int(card.id) > int(message.id)
        )

    return await stack.discord.wait_for_message(answers, timeout=10)


async def ask(stack: SandboxStack, prompt: str, user: str = "alice", **options: str) -> Message:
    interaction = await stack.discord.slash("ask", user=user, prompt=prompt, **options)
    return await answer_card(stack, interaction)


async def private_reply(stack: SandboxStack, interaction: InteractionHandle) -> str:
    reply = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and m.ephemeral, timeout=10
    )
    return embed_text(reply)


async def member_says(
    stack: SandboxStack,
    content: str,
    *,
    user: str = "alice",
    reply_to: Message | None = None,
    in_dms: bool = False,
) -> Message:
    """A member posts `content` in #general (or in their DMs with the bot); as a reply to
    `reply_to`, with the reply's mention left on, as Discord sends it by default."""
    world = stack.discord.world
    author = stack.discord.user(user)
    place = world.dm_with(author) if in_dms else stack.discord.channel("general")
    message = Message(world.ids.next(), place.id, place.guild_id, author, content=content)
    world.resolve_mentions(message, content, None)
    if reply_to is not None:
        message.message_reference = {"message_id": reply_to.id, "channel_id": reply_to.channel_id}
        if all(user.id != reply_to.author.id for user in message.mentions):
            message.mentions.append(reply_to.author)
    await stack.discord.rest.store_message(message)
    return message


def mention(stack: SandboxStack) -> str:
    return f"<@{stack.discord.bot_user.id}>"


def footer(card: Message) -> str:
    return str(card.embeds[-1].get("footer", {}).get("text", ""))


def labels(message: Message) -> list[str]:
    return [str(c["label"]) for c in message.all_components() if c.get("type") == 2]


def form_values(modal: JSON) -> dict[str, str]:
    """The prefilled text inputs of a modal, by custom_id."""
    values: dict[str, str] = {}
    for component in modal.get("components") or []:
        inner: list[Any] = list(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            inner.append(component["component"])
        for item in inner:
            if item.get("type") == 4:
                values[str(item["custom_id"])] = str(item.get("value") or "")
    return values


async def open_form(
    stack: SandboxStack, card: Message, label: str, user: str = "alice"
) -> InteractionHandle:
    """Press `label` on `card` and return the click, answered with a modal."""
    click = await stack.discord.click(card, label, user=user)
    assert await click.wait_for_ack() == 9
    assert click.modal is not None
    return click


async def follow_up(
    stack: SandboxStack, card: Message, question: str, user: str = "alice"
) -> Message:
    """Ask `question` through the card's "Ask a follow-up" form; returns the new card."""
    click = await open_form(stack, card, "Ask a follow-up", user)
    submit = await stack.discord.submit_modal(click, {"question": question})
    return await answer_card(stack, submit)


def last_prompt(stack: SandboxStack) -> str:
    return stack.soundverse.chat_asked[-1][0]


# --- /ask -------------------------------------------------------------------------------------


async def test_ask_with_a_topic_sends_that_action_and_shows_the_answer(stack: SandboxStack) -> None:
    """`/ask topic:` sends that action; the card shows the question, the answer and the topic."""
    prompt = "how do I make the drop hit harder?"
    card = await ask(stack, prompt, topic="edit_music")
    assert stack.soundverse.chat_asked == [(prompt, "edit_music")]
    assert card.embeds[0]["title"] == TITLE_PREFIX + prompt
    assert card.embeds[0]["description"] == chat_reply(prompt, "edit_music")
    assert footer(card) == "Topic: Editing music"


async def test_ask_without_a_topic_picks_one_from_the_words(stack: SandboxStack) -> None:
    """Without a topic, "loop" in the question makes it `loop_audio`, and the card says so."""
    card = await ask(stack, "how do I loop this bass line cleanly?")
    assert stack.soundverse.chat_asked[-1][1] == "loop_audio"
    assert footer(card) == "Topic: Loops (picked from the question)"


async def test_a_general_question_is_other_and_offers_only_a_follow_up(stack: SandboxStack) -> None:
    """A question with no music keyword goes as `other`; its card has no button to make music."""
    card = await ask(stack, "who are you?")
    assert stack.soundverse.chat_asked[-1][1] == "other"
    assert labels(card) == ["Ask a follow-up"]


async def test_mentions_in_the_question_ping_nobody(stack: SandboxStack) -> None:
    """A question naming a member and @everyone, echoed in the card, pings no one."""
    bob = stack.discord.user("bob")
    card = await ask(stack, f"a song idea for <@{bob.id}> and @everyone?")
    assert f"<@{bob.id}>" in embed_text(card)
    assert card.mentions == [] and not card.mention_everyone


async def test_upstream_failure_is_explained_privately(stack: SandboxStack) -> None:
    """A 500 from Soundverse leaves no card and tells the member, privately, what happened."""
    stack.soundverse.inject("status:500", path=CHAT_PATH)
    interaction = await stack.discord.slash("ask", user="alice", prompt="who are you?")
    assert "Soundverse could not answer (Soundverse error 500" in await private_reply(
        stack, interaction
    )
    original = await interaction.original()
    assert original is not None and original.deleted


# --- conversations --------------------------------------------------------------------------


async def test_the_follow_up_form_carries_the_previous_turn(stack: SandboxStack) -> None:
    """A follow-up sent through the form carries the first question and answer in its prompt."""
    first = await ask(stack, "what tempo suits lofi?")
    second = await follow_up(stack, first, "and for drum and bass?")
    prompt = last_prompt(stack)
    assert "User: what tempo suits lofi?\nAssistant: " in prompt
    assert prompt.endswith("User: and for drum and bass?")
    assert second.embeds[0]["title"] == TITLE_PREFIX + "and for drum and bass?"
    assert footer(second) == "Topic: Anything else · Turn 2 · 1 earlier turn sent along"


async def test_the_follow_up_form_asks_for_the_question(stack: SandboxStack) -> None:
    """The "Ask a follow-up" button opens a form with one empty field for the question."""
    card = await ask(stack, "what tempo suits lofi?")
    click = await open_form(stack, card, "Ask a follow-up", user="bob")
    assert click.modal is not None and click.modal["title"] == "Ask a follow-up"
    assert form_values(click.modal) == {"question": ""}


async def test_a_reply_that_mentions_the_bot_continues_the_conversation(
    stack: SandboxStack,
) -> None:
    """Replying to an answer card (mention on) is answered carrying that conversation."""
    card = await ask(stack, "what tempo suits lofi?")
    question = await member_says(stack, "and for house music?", reply_to=card)
    answer = await card_answering(stack, question)
    assert "User: what tempo suits lofi?" in last_prompt(stack)
    assert answer.embeds[0]["title"] == TITLE_PREFIX + "and for house music?"


async def test_the_answer_to_a_message_pings_only_its_author(stack: SandboxStack) -> None:
    """The card answering a mention pings the member who asked, not those their text names."""
    bob = stack.discord.user("bob")
    question = await member_says(stack, f"{mention(stack)} a song idea for <@{bob.id}>?")
    card = await card_answering(stack, question)
    assert [user.id for user in card.mentions] == [stack.discord.user("alice").id]
    assert not card.mention_everyone


async def test_a_message_is_asked_with_names_for_mentions(stack: SandboxStack) -> None:
    """The bot's mention is left out of the question, and a member's becomes their name."""
    bob = stack.discord.user("bob")
    question = await member_says(stack, f"{mention(stack)} a song idea for <@{bob.id}>?")
    await card_answering(stack, question)
    assert last_prompt(stack) == "a song idea for @Bob?"  # the name Discord shows for bob


async def test_a_reply_to_an_old_card_continues_that_conversation(stack: SandboxStack) -> None:
    """A reply goes on with the conversation of the card it replies to, not the latest one."""
    older = await ask(stack, "what tempo suits lofi?")
    await ask(stack, "who are you?")
    question = await member_says(stack, f"{mention(stack)} and for house?", reply_to=older)
    await card_answering(stack, question)
    prompt = last_prompt(stack)
    assert "what tempo suits lofi?" in prompt and "who are you?" not in prompt


async def test_a_mention_continues_the_members_latest_conversation(stack: SandboxStack) -> None:
    """A message that mentions the bot (not a reply) goes on with the member's conversation."""
    await ask(stack, "what tempo suits lofi?")
    question = await member_says(stack, f"{mention(stack)} and for house music?")
    await card_answering(stack, question)
    assert stack.soundverse.chat_asked[-1][0].endswith("User: and for house music?")
    assert "User: what tempo suits lofi?" in last_prompt(stack)


async def test_a_mention_with_no_conversation_starts_one(stack: SandboxStack) -> None:
    """A first mention is asked on its own, without the mention, on the topic its words pick."""
    question = await member_says(stack, f"{mention(stack)} can you split the vocals from a song?")
    card = await card_answering(stack, question)
    assert stack.soundverse.chat_asked == [
        ("can you split the vocals from a song?", "separate_stems")
    ]
    assert footer(card) == "Topic: Stems (picked from the question)"


async def test_a_mention_with_no_question_gets_a_hint_by_dm(stack: SandboxStack) -> None:
    """A bare mention asks nothing of Soundverse; the member is told by DM how to ask."""
    await member_says(stack, mention(stack))
    dm = await stack.discord.wait_until(lambda: next(iter(stack.discord.dms_of("alice")), None))
    assert "Ask me something after the mention" in embed_text(dm)
    assert stack.soundverse.chat_asked == []


async def test_a_mention_where_the_bot_cannot_post_cards_is_told_by_dm(
    stack: SandboxStack,
) -> None:
    """Without Embed Links in the channel, nothing is asked and the member learns why by DM."""
    await stack.discord.set_permissions("general", "bot", deny=EMBED_LINKS)
    await member_says(stack, f"{mention(stack)} who are you?")
    dm = await stack.discord.wait_until(lambda: next(iter(stack.discord.dms_of("alice")), None))
    assert "I need the Embed Links permission there" in embed_text(dm)
    assert stack.soundverse.chat_asked == []


async def test_messages_not_for_the_bot_reach_no_listener(stack: SandboxStack) -> None:
    """Of two messages, only the one mentioning the bot reaches discord.py's message event."""
    seen: list[str] = []

    async def on_message(message: Any) -> None:
        seen.append(message.content)

    stack.bot.add_listener(on_message)
    await member_says(stack, "just talking among ourselves")
    addressed = await member_says(stack, f"{mention(stack)} who are you?")
    await card_answering(stack, addressed)
    assert seen == [addressed.content]


async def test_dms_are_answered_and_go_on_as_a_conversation(stack: SandboxStack) -> None:
    """In DMs the answer comes in the DMs, and the next message carries the first as context."""
    # Discord gives an app the text of DMs without the message-content intent; the local
    # Discord only gives it for messages that mention the bot, so these mention it.
    first = await member_says(stack, f"{mention(stack)} what tempo suits lofi?", in_dms=True)
    await card_answering(stack, first)
    second = await member_says(stack, f"{mention(stack)} and for house?", in_dms=True)
    card = await card_answering(stack, second)
    assert card.guild_id is None and card.content == ""
    assert "User: what tempo suits lofi?" in last_prompt(stack)


async def test_a_conversation_goes_on_after_a_restart(stack: SandboxStack) -> None:
    """A card posted before a restart takes a follow-up after it, with the earlier turn carried."""
    card = await ask(stack, "what tempo suits lofi?")
    await stack.stop_bot()
    await stack.start_bot()
    await follow_up(stack, card, "and for drum and bass?")
    assert "User: what tempo suits lofi?" in last_prompt(stack)


async def test_a_reply_after_a_restart_finds_its_conversation(stack: SandboxStack) -> None:
    """Which card answers which turn is stored: a reply after a restart continues it."""
    card = await ask(stack, "what tempo suits lofi?")
    await stack.stop_bot()
    await stack.start_bot()
    question = await member_says(stack, "and for house?", reply_to=card)
    await card_answering(stack, question)
    assert "User: what tempo suits lofi?" in last_prompt(stack)


async def test_a_follow_up_form_opened_before_a_restart_is_accepted(stack: SandboxStack) -> None:
    """A follow-up form opened before a restart and submitted after it is answered in context."""
    card = await ask(stack, "what tempo suits lofi?")
    click = await open_form(stack, card, "Ask a follow-up")
    await stack.stop_bot()
    await stack.start_bot()
    submit = await stack.discord.submit_modal(click, {"question": "and for house?"})
    await answer_card(stack, submit)
    assert "User: what tempo suits lofi?" in last_prompt(stack)


# --- from talk to music -------------------------------------------------------------------


async def test_make_this_song_opens_the_song_form_prefilled(stack: SandboxStack) -> None:
    """An answer about making music offers "Make this song": the song form, with the request."""
    card = await ask(stack, "make a rainy lofi song about trains")
    assert labels(card) == ["Ask a follow-up", "Make this song"]
    click = await open_form(stack, card, "Make this song", user="bob")
    assert click.modal is not None and click.modal["title"] == "Make this song"
    assert form_values(click.modal) == {
        "prompt": "make a rainy lofi song about trains",
        "lyrics": "",
    }


async def test_the_song_form_gathers_the_questions_on_that_topic(stack: SandboxStack) -> None:
    """After a follow-up on the same topic, the form's prompt holds both requests, not the
    unrelated question before them."""
    first = await ask(stack, "who are you?")
    second = await follow_up(stack, first, "make a rainy lofi song about trains")
    third = await follow_up(stack, second, "slower, with a piano")
    assert footer(third).startswith("Topic: Making music (as before in this conversation)")
    click = await open_form(stack, third, "Make this song")
    assert click.modal is not None
    assert (
        form_values(click.modal)["prompt"]
        == "make a rainy lofi song about trains\nslower, with a piano"
    )


async def test_submitting_the_song_form_starts_the_song(stack: SandboxStack) -> None:
    """The prefilled song form, submitted, runs `/song` and delivers the member's result."""
    bob = stack.discord.user("bob")
    card = await ask(stack, "make a rainy lofi song about trains")
    click = await open_form(stack, card, "Make this song", user="bob")
    assert click.modal is not None
    submit = await stack.discord.submit_modal(click, form_values(click.modal))
    assert await submit.wait_for_ack() == 5
    await stack.discord.wait_for_message(result_for(bob.id), timeout=20)
    assert stack.soundverse.counters.posts[SONG_PATH] == 1


async def test_a_lyrics_answer_opens_the_lyrics_form_prefilled(stack: SandboxStack) -> None:
    """An answer about lyrics offers "Write these lyrics": the lyrics form, with the request."""
    card = await ask(stack, "write a chorus about night trains")
    click = await open_form(stack, card, "Write these lyrics")
    assert click.modal is not None and click.modal["title"] == "Write lyrics"
    assert form_values(click.modal) == {
        "prompt": "write a chorus about night trains",
        "mood": "",
        "genre": "",
    }


async def test_a_topic_that_needs_a_track_says_how_to_give_one(stack: SandboxStack) -> None:
    """The "Separate stems" button opens no form: it says, privately, how to give a track."""
    card = await ask(stack, "tips for stems?", topic="separate_stems")
    click = await stack.discord.click(card, "Separate stems", user="alice")
    assert await click.wait_for_ack() == 4
    assert click.modal is None
    text = await private_reply(stack, click)
    assert "Separating stems needs a track or an audio file" in text and "`/stems`" in text


# --- Discord's limits -----------------------------------------------------------------------


async def test_a_long_answer_is_split_and_trimmed_within_one_message(stack: SandboxStack) -> None:
    """An answer of about 19,000 characters is cut to fit one message within Discord's limits,
    ends with "…", and the footer says it was cut short."""
    prompt = "tra" * 300
    card = await ask(stack, prompt, topic="lyric_writing")
    assert len(chat_reply(prompt, "lyric_writing")) > 6000
    descriptions = [str(e.get("description", "")) for e in card.embeds]
    assert all(len(d) <= 4096 for d in descriptions)
    total = sum(len(embed_text_of(e)) for e in card.embeds)
    assert total <= 6000
    assert descriptions[-1].endswith("…")
    assert "The answer was cut short" in footer(card)


async def test_a_long_question_is_shown_whole_below_a_clipped_title(stack: SandboxStack) -> None:
    """A 1000-character question makes a title of at most 256 characters and shows in full."""
    prompt = "why " + "so " * 332
    card = await ask(stack, prompt.strip())
    title = str(card.embeds[0]["title"])
    assert len(title) <= 256 and title.endswith("…")
    assert card.embeds[0]["fields"] == [
        {"name": "Question", "value": prompt.strip(), "inline": True}
    ]


def embed_text_of(embed: JSON) -> str:
    """What Discord counts of an embed against the 6,000 characters of a message."""
    parts = [str(embed.get("title", "")), str(embed.get("description", ""))]
    parts += [f"{f.get('name')}{f.get('value')}" for f in embed.get("fields", [])]
    parts.append(str(embed.get("footer", {}).get("text", "")))
    return "".join(parts)


# --- billing and limits ---------------------------------------------------------------------


async def test_a_second_question_within_the_cooldown_is_refused_privately(
    make_stack: StackFactory,
) -> None:
    """With the default 3 s cooldown, asking again at once is refused, saying how long to wait."""
    stack = await make_stack()
    await ask(stack, "who are you?")
    again = await stack.discord.slash("ask", user="alice", prompt="and what can you do?")
    assert "Slow down: try again in 3 s." in await private_reply(stack, again)
    assert len(stack.soundverse.chat_asked) == 1


async def test_chat_is_billed_as_chat(make_stack: StackFactory) -> None:
    """When chat costs a unit, an answered question spends it under the `chat` cost key."""
    stack = await make_stack(tweak=chat_costs_a_unit_of_one)
    await ask(stack, "who are you?")
    assert await member_usage(stack, "alice") == 1
    async with stack.bot.database.snapshot() as transaction:
        rows = await transaction.fetch_all("SELECT operation, state FROM quota_reservations")
    assert [tuple(row) for row in rows] == [("chat", "committed")]


async def test_a_member_over_quota_is_refused_privately(make_stack: StackFactory) -> None:
    """Out of units, `/ask` is refused privately with the quota left and nothing is asked."""
    stack = await make_stack(tweak=chat_costs_a_unit_of_one)
    await ask(stack, "who are you?")
    again = await stack.discord.slash("ask", user="alice", prompt="and what can you do?")
    text = await private_reply(stack, again)
    assert "Not enough quota: this needs 1 unit(s) and you have 0 of 1 left." in text
    assert len(stack.soundverse.chat_asked) == 1


async def test_a_mention_over_quota_is_refused_by_dm(make_stack: StackFactory) -> None:
    """Out of units, a mention is not answered in the channel; the member is told by DM."""
    stack = await make_stack(tweak=chat_costs_a_unit_of_one)
    await ask(stack, "who are you?")
    await member_says(stack, f"{mention(stack)} and what can you do?")
    dm = await stack.discord.wait_until(lambda: next(iter(stack.discord.dms_of("alice")), None))
    assert "Not enough quota" in embed_text(dm)
    assert len(stack.soundverse.chat_asked) == 1
