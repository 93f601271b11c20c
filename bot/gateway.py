"""The bot's side of Discord's gateway: which message events it keeps (only those addressed to
it), and when each shard may identify.

The chat assistant answers messages that mention the bot (a mention, or a reply to one of its
answers with the mention left on) and messages sent to it in DMs; Discord includes the text of
exactly those without the privileged message-content intent. Receiving them takes the guild and
DM message intents, which also bring every other message: members' talk (without its text),
and every card, result and edit the bot posts itself, many per job. Those are dropped here,
before discord.py builds objects from them, so they cost the bot's event loop (which must
acknowledge interactions within milliseconds) no more than reading them off the socket.

Discord lets `max_concurrency` shards identify in any 5 seconds, one per rate-limit key
(`shard_id % max_concurrency`); an identify beyond that is refused with INVALID_SESSION.
`IdentifyPacing` spaces the identifies of each key that far apart and no further (discord.py
waits 5 s before every identify but the first, whatever the concurrency).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from discord.state import AutoShardedConnectionState

IDENTIFY_WINDOW = 5.0
"""Seconds in which each rate-limit key may identify once (Discord's gateway docs)."""


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


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives the events of `guild_id` (Discord's sharding formula)."""
    return (guild_id >> 22) % shard_count


class IdentifyPacing:
    """Waits before each IDENTIFY until its shard's rate-limit key is free: each key identifies
    at most once per `window` seconds, refused identifies included (Discord counted the one
    before, perhaps another process's)."""

    def __init__(
        self,
        max_concurrency: int,
        *,
        window: float = IDENTIFY_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._last: dict[int, float] = {}
        self._turns: dict[int, asyncio.Lock] = {}

    def key_of(self, shard_id: int) -> int:
        return shard_id % self.max_concurrency

    async def wait_turn(self, shard_id: int) -> None:
        """Return when `shard_id` may identify (at once for a key that has not identified)."""
        key = self.key_of(shard_id)
        async with self._turns.setdefault(key, asyncio.Lock()):
            last = self._last.get(key)
            if last is not None:
                wait = last + self._window - self._clock()
                if wait > 0:
                    await self._sleep(wait)
            self._last[key] = self._clock()


class AddressedMessagesOnly(AutoShardedConnectionState[Any]):
    """discord.py's connection state (of a sharded client), keeping only the messages addressed
    to the bot: created messages that `addressed_to` accepts. Edits and deletions are dropped
    (nothing here acts on them)."""

    def parse_message_create(self, data: Any) -> None:
        if addressed_to(data, self.self_id):
            super().parse_message_create(data)

    def parse_message_update(self, data: Any) -> None:
        """Dropped: the bot acts on no edit."""

    def parse_message_delete(self, data: Any) -> None:
        """Dropped: the bot acts on no deletion it did not make."""

    def parse_message_delete_bulk(self, data: Any) -> None:
        """Dropped: the bot acts on no deletion it did not make."""
