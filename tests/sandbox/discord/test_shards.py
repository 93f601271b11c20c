"""Sharding on the local Discord's gateway: identify rules, READY, and which session gets what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import discord
import pytest

from sandbox.discord import Guild, LocalDiscord, Message
from sandbox.discord.gateway import GatewaySession, shard_of
from sandbox.discord.state import JSON

INTENTS = discord.Intents.default().value


class RawShard:
    """A bare gateway connection that speaks as one shard of a bot (no client library), so
    a test sees every frame the local Discord sends it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def identify(self, shard: list[int] | None, token: str = "test-token") -> None:
        """Send IDENTIFY, with `shard` ([id, count]) unless None."""
        data: JSON = {
            "token": token,
            "properties": {"os": "linux", "browser": "test", "device": "test"},
            "intents": INTENTS,
        }
        if shard is not None:
            data["shard"] = shard
        await self.ws.send_json({"op": 2, "d": data})

    async def resume(self, session_id: str, seq: int) -> None:
        data = {"token": "test-token", "session_id": session_id, "seq": seq}
        await self.ws.send_json({"op": 6, "d": data})

    async def frame(self) -> JSON:
        """The next frame the local Discord sends (a close raises, with its code)."""
        message = await self.ws.receive(timeout=5)
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"closed: {self.ws.close_code}")
        frame: JSON = message.json()
        return frame

    async def dispatch(self, name: str) -> JSON:
        """The data of the next dispatch, which must be `name`."""
        frame = await self.frame()
        assert (frame["op"], frame["t"]) == (0, name), frame
        data: JSON = frame["d"]
        return data

    async def close_code(self) -> int | None:
        """Wait for the local Discord to close the connection; its close code."""
        message = await self.ws.receive(timeout=5)
        assert message.type is aiohttp.WSMsgType.CLOSE, message
        return self.ws.close_code


@asynccontextmanager
async def connected(discord_: LocalDiscord) -> AsyncIterator[RawShard]:
    """A gateway connection past HELLO."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{discord_.gateway_url}?v=10&encoding=json") as ws,
    ):
        shard = RawShard(ws)
        hello = await shard.frame()
        assert hello["op"] == 10
        yield shard


async def ready_shard(shard: RawShard, guilds: int) -> JSON:
    """READY's data, once the GUILD_CREATE of each of its `guilds` followed."""
    ready = await shard.dispatch("READY")
    for _ in range(guilds):
        await shard.dispatch("GUILD_CREATE")
    return ready


def guilds_on(discord_: LocalDiscord, shard_id: int, count: int) -> list[Guild]:
    return [g for g in discord_.world.guilds.values() if shard_of(g.id, count) == shard_id]


def session_of(discord_: LocalDiscord, shard_id: int) -> GatewaySession:
    return next(s for s in discord_.gateway.sessions if s.shard[0] == shard_id)


def sent_to(session: GatewaySession) -> list[tuple[str, Any]]:
    """The events a session was sent after its READY and GUILD_CREATEs: (name, guild id)."""
    events = [(name, data.get("guild_id")) for _, name, data in session.events]
    return [event for event in events if event[0] not in ("READY", "GUILD_CREATE")]


@pytest.fixture
def two_shards(discord_: LocalDiscord) -> tuple[Guild, Guild]:
    """A guild on each shard of two; both shards may identify at once."""
    discord_.rules.max_concurrency = 2
    return discord_.add_guild("Even", shard=(0, 2)), discord_.add_guild("Odd", shard=(1, 2))


async def test_ready_carries_the_shard_and_only_its_guilds(
    discord_: LocalDiscord, two_shards: tuple[Guild, Guild]
) -> None:
    """READY of shard 1 of 2 says so and lists exactly that shard's guilds, unavailable; a
    GUILD_CREATE follows for each of them."""
    odd = guilds_on(discord_, 1, 2)
    async with connected(discord_) as shard:
        await shard.identify([1, 2])
        ready = await shard.dispatch("READY")
        created = [(await shard.dispatch("GUILD_CREATE"))["id"] for _ in odd]
    assert ready["shard"] == [1, 2]
    assert ready["guilds"] == [{"id": g.id, "unavailable": True} for g in odd]
    assert two_shards[1] in odd and two_shards[0] not in odd
    assert created == [g.id for g in odd]


async def test_ready_without_a_shard_lists_every_guild(discord_: LocalDiscord) -> None:
    """An IDENTIFY without `shard` is one shard of one: every guild, and no `shard` in READY."""
    discord_.add_guild("Second")
    async with connected(discord_) as shard:
        await shard.identify(None)
        ready = await ready_shard(shard, len(discord_.world.guilds))
    assert "shard" not in ready
    assert {g["id"] for g in ready["guilds"]} == set(discord_.world.guilds)


async def test_guild_events_go_only_to_the_shard_of_the_guild(
    discord_: LocalDiscord, two_shards: tuple[Guild, Guild]
) -> None:
    """A channel made and a slash command used in the odd shard's guild reach shard 1 only;
    the even guild's reach shard 0 only."""
    even, odd = two_shards
    async with connected(discord_) as zero, connected(discord_) as one:
        await zero.identify([0, 2])
        await ready_shard(zero, len(guilds_on(discord_, 0, 2)))
        await one.identify([1, 2])
        await ready_shard(one, len(guilds_on(discord_, 1, 2)))
        await discord_.add_channel("news", guild=odd)
        await discord_.slash("song", channel=discord_.channel("general", odd), prompt="x")
        await discord_.slash("song", channel=discord_.channel("general", even), prompt="y")
        received = [(await one.dispatch(name))["guild_id"] for name in ("CHANNEL_CREATE",)]
        received.append((await one.dispatch("INTERACTION_CREATE"))["guild_id"])
        interaction = await zero.dispatch("INTERACTION_CREATE")
        sessions = session_of(discord_, 0), session_of(discord_, 1)
    assert received == [odd.id, odd.id]
    assert interaction["guild_id"] == even.id
    assert sent_to(sessions[0]) == [("INTERACTION_CREATE", even.id)]
    assert sent_to(sessions[1]) == [
        ("CHANNEL_CREATE", odd.id),
        ("INTERACTION_CREATE", odd.id),
    ]


async def test_a_guild_joined_later_is_created_on_its_shard(
    discord_: LocalDiscord, two_shards: tuple[Guild, Guild]
) -> None:
    """A guild added while both shards are connected: GUILD_CREATE to its shard only."""
    async with connected(discord_) as zero, connected(discord_) as one:
        await zero.identify([0, 2])
        await ready_shard(zero, len(guilds_on(discord_, 0, 2)))
        await one.identify([1, 2])
        await ready_shard(one, len(guilds_on(discord_, 1, 2)))
        joined = discord_.add_guild("Later", shard=(1, 2))
        created = await one.dispatch("GUILD_CREATE")
        even_session = session_of(discord_, 0)
    assert created["id"] == joined.id
    assert [g.id for g in guilds_on(discord_, 0, 2)] == [
        data["id"] for _, name, data in even_session.events if name == "GUILD_CREATE"
    ]


async def test_direct_messages_go_to_shard_zero(
    discord_: LocalDiscord, two_shards: tuple[Guild, Guild]
) -> None:
    """A DM to the bot (an event without a guild) reaches shard 0 and not shard 1."""
    async with connected(discord_) as zero, connected(discord_) as one:
        await zero.identify([0, 2])
        await ready_shard(zero, len(guilds_on(discord_, 0, 2)))
        await one.identify([1, 2])
        await ready_shard(one, len(guilds_on(discord_, 1, 2)))
        author = discord_.user("alice")
        place = discord_.world.dm_with(author)
        sent = Message(discord_.world.ids.next(), place.id, None, author, content="hi")
        await discord_.rest.store_message(sent)
        received = await zero.dispatch("MESSAGE_CREATE")
        odd_session = session_of(discord_, 1)
    assert received["id"] == sent.id and "guild_id" not in received
    assert sent_to(odd_session) == []


@pytest.mark.parametrize("shard", [[2, 2], [0, 0], [-1, 2], [0], "0,1"])
async def test_an_invalid_shard_closes_with_4010(discord_: LocalDiscord, shard: Any) -> None:
    """A shard id at or above the count, a count below 1, a negative id or a malformed
    `shard` closes the connection with 4010 (Invalid shard), and opens no session."""
    async with connected(discord_) as raw:
        await raw.identify(shard)
        code = await raw.close_code()
    assert code == 4010
    assert discord_.gateway.sessions == []


async def test_too_many_guilds_for_one_shard_closes_with_4011(discord_: LocalDiscord) -> None:
    """With more guilds than a shard may hold, an unsharded IDENTIFY closes with 4011
    (Sharding required); split over two shards, each identifies."""
    discord_.rules.max_guilds_per_shard = 1
    discord_.rules.max_concurrency = 2
    for shard_id in (0, 1):
        if not guilds_on(discord_, shard_id, 2):
            discord_.add_guild(f"Shard {shard_id}", shard=(shard_id, 2))
    async with connected(discord_) as whole:
        await whole.identify(None)
        code = await whole.close_code()
    async with connected(discord_) as zero, connected(discord_) as one:
        await zero.identify([0, 2])
        await ready_shard(zero, 1)
        await one.identify([1, 2])
        await ready_shard(one, 1)
    assert code == 4011


async def test_identifies_beyond_max_concurrency_are_invalid_sessions(
    discord_: LocalDiscord,
) -> None:
    """With max_concurrency 2, shards 0 and 1 identify at once; shard 2 (rate-limit key 0)
    is answered with op 9 until 5 s have passed on the local Discord's clock."""
    discord_.rules.max_concurrency = 2
    for shard_id in range(3):
        discord_.add_guild(f"Shard {shard_id}", shard=(shard_id, 3))
    async with (
        connected(discord_) as zero,
        connected(discord_) as one,
        connected(discord_) as two,
    ):
        await zero.identify([0, 3])
        await ready_shard(zero, len(guilds_on(discord_, 0, 3)))
        await one.identify([1, 3])
        await ready_shard(one, len(guilds_on(discord_, 1, 3)))
        await two.identify([2, 3])
        refused = await two.frame()
        discord_.clock.advance(4.5)
        await two.identify([2, 3])
        refused_again = await two.frame()
        discord_.clock.advance(0.5)
        await two.identify([2, 3])
        ready = await two.dispatch("READY")
    assert refused == refused_again == {"op": 9, "d": False, "s": None, "t": None}
    assert ready["shard"] == [2, 3]
    assert [data["shard"] for data in discord_.gateway.refused_identifies] == [[2, 3], [2, 3]]


async def test_one_identify_per_five_seconds_without_concurrency(discord_: LocalDiscord) -> None:
    """With max_concurrency 1 every shard shares key 0: shard 1 right after shard 0 is refused."""
    async with connected(discord_) as zero, connected(discord_) as one:
        await zero.identify([0, 2])
        await ready_shard(zero, len(guilds_on(discord_, 0, 2)))
        await one.identify([1, 2])
        refused = await one.frame()
    assert refused["op"] == 9 and refused["d"] is False


async def test_gateway_bot_reports_the_shards_and_identify_concurrency(
    discord_: LocalDiscord,
) -> None:
    """GET /gateway/bot gives the configured recommended shards and max_concurrency, and one
    session start fewer after an IDENTIFY."""
    discord_.rules.recommended_shards = 4
    discord_.rules.max_concurrency = 16

    async def gateway_bot() -> JSON:
        headers = {"Authorization": f"Bot {discord_.bot_token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{discord_.api_base}/gateway/bot", headers=headers) as response,
        ):
            answer: JSON = await response.json()
            return answer

    before = await gateway_bot()
    async with connected(discord_) as shard:
        await shard.identify([0, 4])
        await shard.dispatch("READY")
    after = await gateway_bot()
    assert before["url"] == discord_.gateway_url and before["shards"] == 4
    assert before["session_start_limit"]["max_concurrency"] == 16
    limits = before["session_start_limit"], after["session_start_limit"]
    assert [limit["remaining"] for limit in limits] == [1000, 999]


async def test_resume_replays_only_the_shards_missed_events(
    discord_: LocalDiscord, two_shards: tuple[Guild, Guild]
) -> None:
    """Shard 1, back after a drop, RESUMEs and gets the events of its guilds it missed, not
    those of shard 0's guilds, then RESUMED."""
    even, odd = two_shards
    async with connected(discord_) as zero:
        await zero.identify([0, 2])
        await ready_shard(zero, len(guilds_on(discord_, 0, 2)))
        async with connected(discord_) as one:
            await one.identify([1, 2])
            ready = await ready_shard(one, len(guilds_on(discord_, 1, 2)))
            seq = session_of(discord_, 1).sequence
            await one.ws.close(code=4000)
        await discord_.add_channel("news", guild=odd)
        await discord_.add_channel("news", guild=even)
        async with connected(discord_) as back:
            await back.resume(ready["session_id"], seq)
            missed = await back.dispatch("CHANNEL_CREATE")
            resumed = await back.frame()
    assert missed["guild_id"] == odd.id
    assert resumed["t"] == "RESUMED"
