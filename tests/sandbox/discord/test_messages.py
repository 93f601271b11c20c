"""Channel messages: attachments served back by URL, limits per tier, edits, mentions, auth."""

from __future__ import annotations

import asyncio
import io
import socket

import aiohttp
import discord
import pytest

from sandbox.discord import LocalDiscord
from tests.sandbox.discord.scripted_bot import ScriptedBot


def _text_channel(
    bot: ScriptedBot, discord_: LocalDiscord, name: str = "general"
) -> discord.TextChannel:
    channel = bot.get_channel(int(discord_.channel(name).id))
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_posted_attachment_fetched_back_by_url(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A file the bot posts keeps its bytes, size and type, and its URL serves them."""
    sent = await _text_channel(bot, discord_).send(
        file=discord.File(io.BytesIO(b"OggS data"), "a.ogg")
    )
    stored = discord_.messages[-1].attachments[0]
    assert (stored.filename, stored.size, stored.content_type) == ("a.ogg", 9, "audio/ogg")
    async with aiohttp.ClientSession() as session, session.get(sent.attachments[0].url) as response:
        assert await response.read() == b"OggS data"


async def test_tier_raises_channel_upload_limit(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A file over the tier-0 limit is refused until the guild reaches tier 2."""
    discord_.rules.attachment_limits.update({0: 100, 2: 1000})
    channel = _text_channel(bot, discord_)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(file=discord.File(io.BytesIO(b"x" * 500), "a.wav"))
    assert caught.value.code == 40005
    discord_.set_premium_tier(discord_.guild.id, 2)
    sent = await channel.send(file=discord.File(io.BytesIO(b"x" * 500), "a.wav"))
    assert sent.attachments[0].size == 500


async def test_edit_history_kept(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Each edit keeps the previous state of the message."""
    sent = await _text_channel(bot, discord_).send("one")
    await sent.edit(content="two")
    await sent.edit(content="three")
    message = discord_.messages[-1]
    assert [e.content for e in message.edits] == ["one", "two"] and message.content == "three"


async def test_edit_replaces_attachments(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """An edit's attachment list is the full list to keep; the rest are removed."""
    channel = _text_channel(bot, discord_)
    sent = await channel.send(
        files=[discord.File(io.BytesIO(b"1"), "a.txt"), discord.File(io.BytesIO(b"2"), "b.txt")]
    )
    await sent.edit(attachments=[sent.attachments[1]])
    assert [a.filename for a in discord_.messages[-1].attachments] == ["b.txt"]


async def test_allowed_mentions_recorded_and_applied(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Mentions resolve to users, except those allowed_mentions forbids."""
    alice, bob = discord_.user("alice"), discord_.user("bob")
    content = f"<@{alice.id}> and <@{bob.id}>"
    allowed = discord.AllowedMentions(users=[discord.Object(int(alice.id))])
    await _text_channel(bot, discord_).send(content, allowed_mentions=allowed)
    message = discord_.messages[-1]
    assert [u.username for u in message.mentions] == ["alice"]
    assert message.allowed_mentions is not None
    assert [str(u) for u in message.allowed_mentions["users"]] == [alice.id]


async def test_fetch_delete_and_typing(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """fetch_message, typing and delete work on bot-token routes."""
    channel = _text_channel(bot, discord_)
    sent = await channel.send("bye")
    assert (await channel.fetch_message(sent.id)).content == "bye"
    await channel.typing()
    await sent.delete()
    assert discord_.messages[-1].deleted
    with pytest.raises(discord.NotFound):
        await channel.fetch_message(sent.id)


async def test_member_and_channel_lookups(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """GET member and GET channel return the world's objects."""
    guild = bot.get_guild(int(discord_.guild.id))
    assert guild is not None
    alice = await guild.fetch_member(int(discord_.user("alice").id))
    assert [r.name for r in alice.roles if r.name != "@everyone"] == ["Moderator"]
    assert alice.guild_permissions.manage_guild
    fetched = await bot.fetch_channel(int(discord_.channel("music").id))
    assert isinstance(fetched, discord.TextChannel) and fetched.name == "music"


async def test_member_message_content_needs_intent(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Without the message content intent, members' messages arrive blank unless they ping."""
    received: list[discord.Message] = []
    both = asyncio.Event()

    async def on_message(message: discord.Message) -> None:
        received.append(message)
        if len(received) == 2:
            both.set()

    bot.add_listener(on_message)
    await discord_.post_message(channel="general", user="bob", content="secret")
    await discord_.post_message(
        channel="general", user="bob", content=f"<@{discord_.bot_user.id}> hi"
    )
    await asyncio.wait_for(both.wait(), 5)
    assert [m.content for m in received] == ["", f"<@{discord_.bot_user.id}> hi"]


async def test_bot_routes_need_the_bot_token(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A bot route without `Authorization: Bot <token>` gets 401."""
    url = f"{discord_.api_base}/channels/{discord_.channel('general').id}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 401


async def test_serves_on_a_listening_socket_it_is_given() -> None:
    """Started with a socket, the local Discord serves its API on that socket's port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    local = LocalDiscord()
    await local.start(sock=listener)
    try:
        assert local.port == listener.getsockname()[1]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{local.api_base}/gateway") as response,
        ):
            assert response.status == 200
            assert (await response.json())["url"] == local.gateway_url
    finally:
        await local.stop()


async def test_a_nonce_sent_again_returns_the_first_message(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """With enforce_nonce (discord.py always sets it), a message sent again with the same
    nonce is answered with the first one and no second message is made."""
    channel = _text_channel(bot, discord_)
    first = await channel.send("result", nonce="sv-job-7")
    again = await channel.send("result", nonce="sv-job-7")
    assert again.id == first.id
    assert [m.content for m in discord_.messages if not m.deleted] == ["result"]


async def test_history_after_reads_forward_from_a_message(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """history(after=...) yields the messages after the given one, oldest first."""
    channel = _text_channel(bot, discord_)
    sent = [await channel.send(str(n)) for n in range(4)]
    later = [m.content async for m in channel.history(after=sent[1], limit=10)]
    assert later == ["2", "3"]
