"""Which message events the bot takes from Discord's gateway: only those addressed to it.

The chat assistant answers messages that mention the bot (a mention, or a reply to one of its
answers with the mention left on) and messages sent to it in DMs; Discord includes the text of
exactly those without the privileged message-content intent. Receiving them takes the guild and
DM message intents, which also bring every other message: members' talk (without its text),
and every card, result and edit the bot posts itself, many per job. Those are dropped here,
before discord.py builds objects from them, so they cost the bot's event loop (which must
acknowledge interactions within milliseconds) no more than reading them off the socket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord
from discord.state import ConnectionState


def bot_intents() -> discord.Intents:
    """The default intents, message-content excluded (it is privileged and not needed): message
    events are received for the chat assistant, and `AddressedMessagesOnly` drops the rest."""
    return discord.Intents.default()


def addressed_to(data: Mapping[str, Any], bot_id: int | None) -> bool:
    """Whether a MESSAGE_CREATE is a person's message to the bot: sent in DMs (no guild), or
    mentioning it."""
    author = data.get("author") or {}
    if bot_id is None or author.get("bot") or data.get("webhook_id") is not None:
        return False
    if data.get("guild_id") is None:
        return True
    return any(str(user.get("id")) == str(bot_id) for user in data.get("mentions") or [])


class AddressedMessagesOnly(ConnectionState[Any]):
    """discord.py's connection state, keeping only the messages addressed to the bot: created
    messages that `addressed_to` accepts. Edits and deletions are dropped (nothing here acts
    on them)."""

    def parse_message_create(self, data: Any) -> None:
        if addressed_to(data, self.self_id):
            super().parse_message_create(data)

    def parse_message_update(self, data: Any) -> None:
        """Dropped: the bot acts on no edit."""

    def parse_message_delete(self, data: Any) -> None:
        """Dropped: the bot acts on no deletion it did not make."""

    def parse_message_delete_bulk(self, data: Any) -> None:
        """Dropped: the bot acts on no deletion it did not make."""
