"""Channel permissions: overwrites computed as Discord documents them, and enforced on the bot."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest

from sandbox.discord import LocalDiscord
from sandbox.discord.state import (
    ADMINISTRATOR,
    ATTACH_FILES,
    MEMBER_OVERWRITE,
    ROLE_OVERWRITE,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Overwrite,
    World,
)
from tests.sandbox.discord.scripted_bot import ScriptedBot


def world_with_overwrites(*overwrites: Overwrite) -> tuple[World, str]:
    world = World()
    guild = world.add_guild("G")
    guild.channels[0].overwrites = list(overwrites)
    return world, guild.id


def in_general(world: World, guild_id: str, name: str) -> int:
    guild = world.guilds[guild_id]
    member = guild.member(world.user_named(name).id)
    assert member is not None
    return guild.permissions_in(member, guild.channels[0])


def test_everyone_denied_view_sees_nothing() -> None:
    """An @everyone overwrite denying View Channel leaves a plain member no permission at all."""
    world, guild_id = world_with_overwrites()
    world.guilds[guild_id].channels[0].overwrites = [
        Overwrite(guild_id, ROLE_OVERWRITE, deny=VIEW_CHANNEL)
    ]
    assert in_general(world, guild_id, "bob") == 0


def test_a_role_allow_beats_the_everyone_deny() -> None:
    """A role's allow overrides the @everyone deny for the role's members only."""
    world, guild_id = world_with_overwrites()
    guild = world.guilds[guild_id]
    moderator = next(role for role in guild.roles if role.name == "Moderator")
    guild.channels[0].overwrites = [
        Overwrite(guild_id, ROLE_OVERWRITE, deny=VIEW_CHANNEL),
        Overwrite(moderator.id, ROLE_OVERWRITE, allow=VIEW_CHANNEL),
    ]
    assert in_general(world, guild_id, "alice") & VIEW_CHANNEL
    assert in_general(world, guild_id, "bob") == 0


def test_a_member_deny_beats_a_role_allow() -> None:
    """The member's own overwrite is applied last."""
    world, guild_id = world_with_overwrites()
    guild = world.guilds[guild_id]
    moderator = next(role for role in guild.roles if role.name == "Moderator")
    alice = world.user_named("alice").id
    guild.channels[0].overwrites = [
        Overwrite(moderator.id, ROLE_OVERWRITE, allow=SEND_MESSAGES),
        Overwrite(alice, MEMBER_OVERWRITE, deny=SEND_MESSAGES),
    ]
    assert not in_general(world, guild_id, "alice") & SEND_MESSAGES


def test_without_send_messages_no_files_either() -> None:
    """Attach Files does not hold where Send Messages is denied (implicit permissions)."""
    world, guild_id = world_with_overwrites()
    bob = world.user_named("bob").id
    world.guilds[guild_id].channels[0].overwrites = [
        Overwrite(bob, MEMBER_OVERWRITE, allow=ATTACH_FILES, deny=SEND_MESSAGES)
    ]
    assert not in_general(world, guild_id, "bob") & ATTACH_FILES


def test_an_administrator_keeps_everything() -> None:
    """Overwrites do not apply to administrators."""
    world, guild_id = world_with_overwrites()
    guild = world.guilds[guild_id]
    guild.roles[1].permissions |= ADMINISTRATOR
    bob = world.user_named("bob")
    member = guild.member(bob.id)
    assert member is not None
    member.roles.append(guild.roles[1].id)
    guild.channels[0].overwrites = [Overwrite(guild_id, ROLE_OVERWRITE, deny=VIEW_CHANNEL)]
    assert in_general(world, guild_id, "bob") & VIEW_CHANNEL


def general(bot: ScriptedBot, discord_: LocalDiscord) -> discord.TextChannel:
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_the_bot_without_view_channel_gets_missing_access(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A message to a channel the bot cannot see is refused with 403 50001."""
    await discord_.set_permissions("general", "bot", deny=VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as refused:
        await general(bot, discord_).send("hello")
    assert refused.value.code == 50001


async def test_the_bot_without_attach_files_may_send_text_only(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Without Attach Files a file is refused with 403 50013, and text still goes."""
    await discord_.set_permissions("general", "bot", deny=ATTACH_FILES)
    channel = general(bot, discord_)
    with pytest.raises(discord.Forbidden) as refused:
        await channel.send(file=discord.File(io.BytesIO(b"x"), "a.mp3"))
    assert refused.value.code == 50013
    assert (await channel.send("text only")).content == "text only"


async def test_the_gateway_tells_the_bot_of_new_overwrites(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """discord.py's own permission check sees an overwrite once it is set."""
    channel = general(bot, discord_)
    assert channel.permissions_for(channel.guild.me).send_messages
    updated = asyncio.ensure_future(bot.wait_for("guild_channel_update", timeout=5))
    await discord_.set_permissions("general", "bot", deny=SEND_MESSAGES)
    await updated
    assert not channel.permissions_for(channel.guild.me).send_messages


async def test_a_direct_message_reaches_the_member(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """The bot opens a DM with a member and its message arrives there."""
    user = await bot.fetch_user(int(discord_.user("bob").id))
    await user.send("hello bob")
    assert [m.content for m in discord_.dms_of("bob")] == ["hello bob"]


async def test_a_member_with_closed_dms_refuses_them(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A member who accepts no DMs makes the bot's DM fail with 403 50007."""
    discord_.close_dms("bob")
    user = await bot.fetch_user(int(discord_.user("bob").id))
    with pytest.raises(discord.Forbidden) as refused:
        await user.send("hello bob")
    assert refused.value.code == 50007
