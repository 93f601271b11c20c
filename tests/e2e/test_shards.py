"""Sharded gateways with the real bot: one process running every shard, one process per shard,
the one line an operator gets when Discord wants more shards, and `doctor`'s shards row."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

import discord

from bot.__main__ import SHARDING_REFUSED
from bot.app import SoundverseBot
from bot.config import Settings, load_settings
from bot.doctor import Check, check_shards
from sandbox.discord import Guild, LocalDiscord, Rules
from sandbox.discord.openapi import spec_available
from sandbox.soundverse import SoundverseStandIn
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, embed_text
from tests.e2e.test_entry_point import bot_environment


def sharded(count: int, ids: list[int] | None = None) -> Callable[[Settings], None]:
    """Settings with DISCORD_SHARD_COUNT=`count` and DISCORD_SHARD_IDS=`ids`."""

    def tweak(settings: Settings) -> None:
        settings.discord.shard_count = count
        settings.discord.shard_ids = ids

    return tweak


def a_guild_on_each_shard(discord_: LocalDiscord) -> None:
    """Before the bot logs in: "Even" on shard 0 and "Odd" on shard 1, of two."""
    discord_.add_guild("Even", shard=(0, 2))
    discord_.add_guild("Odd", shard=(1, 2))


def guild_named(stack: SandboxStack, name: str) -> Guild:
    return next(g for g in stack.discord.world.guilds.values() if g.name == name)


async def answers_help(stack: SandboxStack, guild: Guild) -> str:
    """/help in the guild's #general, answered: the id of the interaction."""
    interaction = await stack.discord.slash(
        "help", user="bob", channel=stack.discord.channel("general", guild)
    )
    card = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and bool(m.embeds)
    )
    assert card.ephemeral and "/song" in embed_text(card)
    return interaction.id


def record_interactions(bot: SoundverseBot) -> list[str]:
    """The ids of the interactions `bot` receives from now on."""
    seen: list[str] = []

    async def on_interaction(interaction: discord.Interaction) -> None:
        seen.append(str(interaction.id))

    bot.add_listener(on_interaction)
    return seen


async def test_one_process_runs_both_shards(make_stack: StackFactory) -> None:
    """A bot with DISCORD_SHARD_COUNT=2 identifies shards 0 and 1, has each guild on its
    shard, and answers /help in a guild of each."""
    stack = await make_stack(
        rules=Rules(max_concurrency=2), tweak=sharded(2), prepare=a_guild_on_each_shard
    )
    bot = stack.bot
    even, odd = guild_named(stack, "Even"), guild_named(stack, "Odd")
    identified = [
        r.json["d"]["shard"]
        for r in stack.discord.requests
        if r.path == "/gateway/op/2" and r.json is not None
    ]
    on_even, on_odd = bot.get_guild(int(even.id)), bot.get_guild(int(odd.id))
    assert sorted(identified) == [[0, 2], [1, 2]]
    assert on_even is not None and on_even.shard_id == 0
    assert on_odd is not None and on_odd.shard_id == 1
    seen = record_interactions(bot)
    answered = [await answers_help(stack, even), await answers_help(stack, odd)]
    assert seen == answered


async def test_each_shard_is_reported_in_the_health_state(make_stack: StackFactory) -> None:
    """Both shards are connected with a latency; shard 1 dropping and resuming is seen as
    shard 1 going down, then up again."""
    stack = await make_stack(rules=Rules(max_concurrency=2), tweak=sharded(2))
    bot = stack.bot
    before = bot.shard_states()
    gone = asyncio.ensure_future(bot.wait_for("shard_disconnect", timeout=5))
    back = asyncio.ensure_future(bot.wait_for("shard_resumed", timeout=5))
    await stack.discord.reconnect(shard=1)
    assert await gone == 1
    assert await back == 1
    assert [(s.id, s.connected) for s in before] == [(0, True), (1, True)]
    assert all(s.latency_ms is not None for s in before)
    assert [(s.id, s.connected) for s in bot.shard_states()] == [(0, True), (1, True)]
    assert bot.health_state()[0]


async def test_two_bots_each_answer_their_own_shard(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    """With DISCORD_SHARD_IDS=0 in one bot and 1 in another (of 2), each has only its shard's
    guild and receives and answers only the interactions of that guild."""
    stack = await make_stack(
        rules=Rules(max_concurrency=2), tweak=sharded(2, [0]), prepare=a_guild_on_each_shard
    )
    other = await stack.start_other_bot(tmp_path / "shard-1", sharded(2, [1]))
    even, odd = guild_named(stack, "Even"), guild_named(stack, "Odd")
    seen_by_first, seen_by_other = record_interactions(stack.bot), record_interactions(other)
    on_even = await answers_help(stack, even)
    on_odd = await answers_help(stack, odd)
    assert (seen_by_first, seen_by_other) == ([on_even], [on_odd])
    assert stack.bot.get_guild(int(odd.id)) is None and other.get_guild(int(even.id)) is None
    assert stack.bot.runs_guild(int(even.id)) and not stack.bot.runs_guild(int(odd.id))
    assert stack.bot.runs_guild(None) and not other.runs_guild(None)


async def test_too_few_shards_stop_the_bot_with_one_line(tmp_path: Path) -> None:
    """When Discord closes a shard with 4011 (too many guilds for the shards asked), `python
    -m bot` exits 1 with one line saying to raise DISCORD_SHARD_COUNT."""
    local = LocalDiscord(bot_token="entry-token", validate_openapi=spec_available())
    local.rules.max_guilds_per_shard = 1
    local.add_guild("Second")
    soundverse = SoundverseStandIn(api_keys={"entry-key"})
    await local.start()
    await soundverse.start()
    try:
        env = bot_environment(local, soundverse, tmp_path)
        env.update(DISCORD_SHARD_COUNT="1", VOICE_ENABLED="false", JOBS_WORKER="inline")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        await local.stop()
        await soundverse.stop()
    errors = [line for line in err.decode().splitlines() if line.startswith("error: ")]
    assert process.returncode == 1
    assert errors == [f"error: {SHARDING_REFUSED[4011]}"]
    assert not local.openapi_violations


async def test_doctor_weighs_the_shard_count_against_the_servers(tmp_path: Path) -> None:
    """`doctor`'s shards row: Discord's recommendation when the count is unset, and a failure
    naming DISCORD_SHARD_COUNT when the bot is in more servers than its shards may hold."""
    local = LocalDiscord(bot_token="entry-token", validate_openapi=spec_available())
    local.rules.recommended_shards = 2
    while len(local.world.guilds) <= 2500:
        local.world.add_guild(f"Server {len(local.world.guilds)}")
    await local.start()
    try:
        settings = load_settings(
            {"discord": {"token": "entry-token", "api_base": local.api_base}}, _env_file=None
        )
        unset = await check_shards(settings)
        settings.discord.shard_count = 1
        too_few = await check_shards(settings)
    finally:
        await local.stop()
    assert unset == Check(
        "shards",
        True,
        "2, as Discord recommends for about 2,501 servers, all in this process; "
        "1 may identify at once",
    )
    assert too_few == Check(
        "shards",
        False,
        "DISCORD_SHARD_COUNT=1 is too few for about 2,501 servers: a shard holds at most 2,500 "
        "(Discord recommends 2)",
    )
    assert not local.openapi_violations
