"""The bot's gateway side: which message events it keeps (`addressed_to`), the sharding formula,
and how shards are paced when they identify (`IdentifyPacing`)."""

from __future__ import annotations

from typing import Any

from bot.gateway import IdentifyPacing, addressed_to, bot_intents, shard_of

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


class PacedClock:
    """A clock that moves only when the pacing sleeps; the sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


async def test_shards_of_different_keys_identify_at_once() -> None:
    """With max_concurrency 2, shards 0 and 1 (keys 0 and 1) do not wait."""
    time = PacedClock()
    pacing = IdentifyPacing(2, clock=time.clock, sleep=time.sleep)
    await pacing.wait_turn(0)
    await pacing.wait_turn(1)
    assert time.slept == []


async def test_a_key_identifies_once_per_five_seconds() -> None:
    """Shard 2 shares key 0 with shard 0 (max_concurrency 2): it waits out the 5 s window,
    minus the time already gone."""
    time = PacedClock()
    pacing = IdentifyPacing(2, clock=time.clock, sleep=time.sleep)
    await pacing.wait_turn(0)
    time.now += 1.5
    await pacing.wait_turn(2)
    assert time.slept == [3.5]


async def test_without_concurrency_every_shard_waits_its_turn() -> None:
    """With max_concurrency 1, shards 0, 1, 2 identify 5 s apart."""
    time = PacedClock()
    pacing = IdentifyPacing(1, clock=time.clock, sleep=time.sleep)
    for shard_id in range(3):
        await pacing.wait_turn(shard_id)
    assert time.slept == [5.0, 5.0]


def test_the_sharding_formula() -> None:
    """A guild's shard is its id shifted right 22 bits, modulo the shard count."""
    guild_id = (1234567 << 22) | 99
    assert shard_of(guild_id, 2) == 1 and shard_of(guild_id, 7) == 1234567 % 7
