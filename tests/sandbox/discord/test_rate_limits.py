"""Rate limits: real 429s with Discord's headers, and discord.py riding over them."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord

from sandbox.discord import LocalDiscord
from tests.sandbox.discord.scripted_bot import ScriptedBot


async def _edit_raw(
    discord_: LocalDiscord, session: aiohttp.ClientSession, channel_id: str, message_id: str
) -> aiohttp.ClientResponse:
    url = f"{discord_.api_base}/channels/{channel_id}/messages/{message_id}"
    headers = {"Authorization": f"Bot {discord_.bot_token}"}
    async with session.patch(url, json={"content": "edit"}, headers=headers) as response:
        await response.read()
        return response


async def test_sixth_edit_in_window_gets_429(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """With 5 edits per 5 s per channel, the sixth edit is a 429 carrying Discord's headers."""
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("card")
    async with aiohttp.ClientSession() as session:
        allowed = [
            await _edit_raw(discord_, session, str(channel.id), str(sent.id)) for _ in range(5)
        ]
        limited = await _edit_raw(discord_, session, str(channel.id), str(sent.id))
    assert [r.status for r in allowed] == [200] * 5
    assert allowed[-1].headers["X-RateLimit-Remaining"] == "0"
    assert limited.status == 429
    for header in (
        "Via",
        "Retry-After",
        "X-RateLimit-Limit",
        "X-RateLimit-Reset-After",
        "X-RateLimit-Bucket",
        "X-RateLimit-Reset",
        "X-RateLimit-Scope",
    ):
        assert header in limited.headers
    body = discord_.requests[-1].response
    assert body["global"] is False and 0 < body["retry_after"] <= 5.0


async def test_window_reopens_when_clock_advances(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """After the window passes on the clock, edits are allowed again."""
    discord_.rules.edit_limit = (1, 5.0)
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("card")
    async with aiohttp.ClientSession() as session:
        first = await _edit_raw(discord_, session, str(channel.id), str(sent.id))
        second = await _edit_raw(discord_, session, str(channel.id), str(sent.id))
        discord_.clock.advance(5.0)
        third = await _edit_raw(discord_, session, str(channel.id), str(sent.id))
    assert (first.status, second.status, third.status) == (200, 429, 200)


async def test_edit_buckets_are_per_channel(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Exhausting one channel's edit bucket leaves another channel's edits alone."""
    discord_.rules.edit_limit = (1, 5.0)
    general = bot.get_channel(int(discord_.channel("general").id))
    music = bot.get_channel(int(discord_.channel("music").id))
    assert isinstance(general, discord.TextChannel) and isinstance(music, discord.TextChannel)
    a, b = await general.send("a"), await music.send("b")
    async with aiohttp.ClientSession() as session:
        await _edit_raw(discord_, session, str(general.id), str(a.id))
        other = await _edit_raw(discord_, session, str(music.id), str(b.id))
    assert other.status == 200


async def test_forced_429_is_retried_by_discord_py(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A forced 429 on @original edits is slept over and retried by discord.py without error."""
    discord_.rate_limit_next(2, method="PATCH", path_prefix="/webhooks/")

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="finally")

    bot.scripts["song"] = song
    await discord_.slash("song", prompt="x")
    await discord_.wait_for_edit(lambda m: m.content == "finally")
    statuses = [r.status for r in discord_.requests if r.method == "PATCH"]
    assert statuses == [429, 429, 200] and not bot.errors


async def test_forced_429_on_bot_route_is_retried(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """discord.py's bot-token client also retries a 429 that carries `Via`."""
    discord_.rate_limit_next(1, method="POST", path_prefix="/channels/")
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("hello")
    statuses = [r.status for r in discord_.requests if r.path.endswith("/messages")]
    assert statuses == [429, 200] and sent.content == "hello"


async def test_success_responses_carry_bucket_headers(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A successful message create reports limit and remaining like Discord."""
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    await channel.send("hello")
    headers = discord_.requests[-1].response_headers
    assert headers["X-RateLimit-Limit"] == "5" and headers["X-RateLimit-Remaining"] == "4"
