"""Which message events the bot keeps (`bot.gateway.addressed_to`): a person's message to it."""

from __future__ import annotations

from typing import Any

from bot.gateway import addressed_to, bot_intents

BOT_ID = 1001


def message(**fields: Any) -> dict[str, Any]:
    """A MESSAGE_CREATE payload from a member in a guild, with `fields` changed."""
    return {
        "guild_id": "5",
        "author": {"id": "42", "bot": False},
        "mentions": [],
        **fields,
    }


def test_a_guild_message_mentioning_the_bot_is_kept() -> None:
    """A member's message whose mentions include the bot is addressed to it."""
    assert addressed_to(message(mentions=[{"id": str(BOT_ID)}]), BOT_ID)


def test_a_guild_message_without_the_bot_is_dropped() -> None:
    """Members' talk that does not mention the bot is not for it."""
    assert not addressed_to(message(mentions=[{"id": "43"}]), BOT_ID)


def test_a_direct_message_is_kept() -> None:
    """A message without a guild (a DM) is addressed to the bot."""
    data = message()
    del data["guild_id"]
    assert addressed_to(data, BOT_ID)


def test_messages_of_bots_and_webhooks_are_dropped() -> None:
    """The bot's own posts, other bots' and interaction responses (webhooks) are not kept."""
    mentioned = [{"id": str(BOT_ID)}]
    assert not addressed_to(message(author={"id": "7", "bot": True}, mentions=mentioned), BOT_ID)
    assert not addressed_to(message(webhook_id="9", mentions=mentioned), BOT_ID)


def test_nothing_is_kept_before_the_bot_knows_who_it_is() -> None:
    """Before READY (no bot id) no message is kept."""
    assert not addressed_to(message(mentions=[{"id": str(BOT_ID)}]), None)


def test_the_intents_include_messages_but_not_their_content() -> None:
    """Guild and DM messages are received; the privileged message-content intent is not asked."""
    intents = bot_intents()
    assert intents.guild_messages and intents.dm_messages
    assert not intents.message_content
