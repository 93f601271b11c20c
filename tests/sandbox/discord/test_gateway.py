"""The gateway and login: what discord.py sends and how the local Discord answers."""

from __future__ import annotations

import asyncio
from typing import Any

import discord

from sandbox.discord import LocalDiscord
from tests.sandbox.discord.scripted_bot import ScriptedBot


async def test_login_sequence(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """discord.py logs in with /users/@me, then the application, then sync and IDENTIFY."""
    steps = [(r.method, r.path.replace(discord_.application_id, "APP")) for r in discord_.requests]
    assert steps[:4] == [
        ("GET", "/api/v10/users/@me"),
        ("GET", "/api/v10/oauth2/applications/@me"),
        ("PUT", "/api/v10/applications/APP/commands"),
        ("WS", "/gateway/op/2"),
    ]
    assert discord_.gateway.connection_query["v"] == "10"


async def test_bot_sees_default_guild(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """GUILD_CREATE gives the bot the guild, its channels, roles and tier-0 upload limit."""
    guild = bot.get_guild(int(discord_.guild.id))
    assert guild is not None and guild.name == "Sandbox"
    assert {c.name for c in guild.channels} == {"general", "music", "Lounge"}
    assert {r.name for r in guild.roles} == {"@everyone", "DJ", "Moderator"}
    assert guild.filesize_limit == 10 * 1024 * 1024


async def test_sync_echoes_commands_with_ids(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """The bulk overwrite stores the commands and discord.py gets them back with ids."""
    fetched = await bot.tree.fetch_commands()
    assert {c.name for c in fetched} == {"song", "extend", "stems", "loop", "Separate stems"}
    assert all(c.id for c in fetched)
    assert {c.name for c in discord_.commands} == {c.name for c in fetched}


async def test_resume_after_reconnect_replays_missed_events(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """After op 7 the bot RESUMEs and still receives the interaction sent meanwhile."""
    answered = asyncio.Event()

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.send_message("after resume")
        answered.set()

    bot.scripts["song"] = song
    await discord_.reconnect()
    await discord_.slash("song", prompt="x")
    await asyncio.wait_for(answered.wait(), 5)
    resume = discord_.gateway.resume_payloads[0]
    assert resume["token"] == discord_.bot_token and resume["session_id"]


async def test_invalid_session_makes_bot_identify_again(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """After op 9 (not resumable) the bot sends a fresh IDENTIFY."""
    first_session = discord_.gateway.session
    discord_.clock.advance(discord_.rules.identify_window)
    await discord_.invalidate_session()
    await discord_.wait_until(lambda: discord_.gateway.session is not first_session)
    identifies = [r for r in discord_.requests if r.path == "/gateway/op/2"]
    assert len(identifies) == 2 and not discord_.gateway.resume_payloads


async def test_voice_state_update_recorded(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Op 4 is recorded and answered with the bot's VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE."""
    lounge = discord_.channel("Lounge")
    states: list[discord.VoiceState] = []
    seen = asyncio.Event()

    async def on_voice_state_update(
        member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        states.append(after)
        seen.set()

    bot.add_listener(on_voice_state_update)
    assert bot.ws is not None
    await bot.ws.voice_state(int(discord_.guild.id), int(lounge.id), self_deaf=True)
    await asyncio.wait_for(seen.wait(), 5)
    record = discord_.voice_states[0]
    assert (record.guild_id, record.channel_id, record.self_deaf) == (
        discord_.guild.id,
        lounge.id,
        True,
    )
    assert states[0].channel is not None and states[0].channel.id == int(lounge.id)
    events = [name for _, name, _ in discord_.gateway.session.events]  # type: ignore[union-attr]
    assert events[-2:] == ["VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE"]


async def test_premium_tier_change_reaches_bot(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """set_premium_tier sends GUILD_UPDATE, so the bot's guild.filesize_limit follows."""
    updated = asyncio.Event()

    async def on_guild_update(before: discord.Guild, after: discord.Guild) -> None:
        updated.set()

    bot.add_listener(on_guild_update)
    discord_.set_premium_tier(discord_.guild.id, 2)
    await asyncio.wait_for(updated.wait(), 5)
    guild = bot.get_guild(int(discord_.guild.id))
    assert guild is not None and guild.filesize_limit == 50 * 1024 * 1024


async def test_added_guild_is_announced(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """add_guild sends GUILD_CREATE for a guild with the requested tier."""
    joined = asyncio.Event()

    async def on_guild_join(guild: discord.Guild) -> None:
        joined.set()

    bot.add_listener(on_guild_join)
    added = discord_.add_guild("Boosted", premium_tier=3)
    await asyncio.wait_for(joined.wait(), 5)
    guild = bot.get_guild(int(added.id))
    assert guild is not None and guild.premium_tier == 3


async def test_guild_commands_sync_and_dispatch(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Commands synced to a guild are stored per guild and invoked with that guild_id."""
    guild = discord.Object(int(discord_.guild.id))
    bot.tree.copy_global_to(guild=guild)
    await bot.tree.sync(guild=guild)
    answered = asyncio.Event()

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.send_message("guild copy")
        answered.set()

    bot.scripts["song"] = song
    handle = await discord_.slash("song", prompt="x")
    await asyncio.wait_for(answered.wait(), 5)
    assert handle.record.payload["data"]["guild_id"] == discord_.guild.id
    assert {c.guild_id for c in discord_.commands} == {None, discord_.guild.id}
