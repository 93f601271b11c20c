"""The real entry point and the harness's assumptions about discord.py."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sys
from pathlib import Path

import discord
import yarl

from sandbox.discord import LocalDiscord
from sandbox.discord.openapi import spec_available
from sandbox.soundverse import SoundverseStandIn
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory

REPO = Path(__file__).resolve().parents[2]


def test_discord_py_still_has_the_hooks_the_harness_uses() -> None:
    """An upgrade of discord.py that moves these breaks the local Discord: fail loudly here."""
    assert discord.__version__.startswith("2.7.")
    assert isinstance(discord.http.Route.BASE, str)
    assert isinstance(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY, yarl.URL)
    assert "attachment_size_limit" in inspect.getsource(discord.Interaction._from_data)
    assert "_set_api_version" in dir(discord.http)


async def test_commands_are_synced_only_when_they_change(make_stack: StackFactory) -> None:
    """A restart with the same commands does not sync again (Discord caps command creates)."""
    stack: SandboxStack = await make_stack()
    await stack.stop_bot()
    await stack.start_bot()

    def syncs() -> int:
        return sum(
            1 for r in stack.discord.requests if r.method == "PUT" and r.path.endswith("/commands")
        )

    assert syncs() == 1
    assert {command.name for command in stack.discord.commands} >= {"song", "music", "about"}


def bot_environment(
    local: LocalDiscord, soundverse: SoundverseStandIn, data: Path
) -> dict[str, str]:
    """The environment of `python -m bot` pointed at the stand-ins, with nothing inherited."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DISCORD_", "SOUNDVERSE_", "STORAGE_", "AUDIO_"))
    }
    env.update(
        DISCORD_TOKEN="entry-token",
        DISCORD_API_BASE=local.api_base,
        DISCORD_GATEWAY_URL=local.gateway_url,
        SOUNDVERSE_API_KEY="entry-key",
        SOUNDVERSE_BASE_URL=soundverse.url,
        STORAGE_PATH=str(data / "bot.db"),
        AUDIO_DIRECTORY=str(data / "audio"),
        PYTHONPATH=str(REPO),
    )
    return env


async def test_sigterm_shuts_the_bot_down_cleanly(tmp_path: Path) -> None:
    """`python -m bot` logs in, and on SIGTERM closes its connections and exits with code 0."""
    local = LocalDiscord(bot_token="entry-token", validate_openapi=spec_available())
    soundverse = SoundverseStandIn(api_keys={"entry-key"})
    await local.start()
    await soundverse.start()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=bot_environment(local, soundverse, tmp_path),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await local.wait_until_ready(timeout=30)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await local.stop()
        await soundverse.stop()
    assert process.returncode == 0, stderr.decode()
    assert "Shutting down" in stderr.decode()
    assert not local.openapi_violations


async def test_sync_command_pushes_commands_to_one_guild(tmp_path: Path) -> None:
    """`python -m bot sync --guild ID` registers the commands in that guild and exits 0."""
    local = LocalDiscord(bot_token="entry-token", validate_openapi=spec_available())
    soundverse = SoundverseStandIn(api_keys={"entry-key"})
    await local.start()
    await soundverse.start()
    guild = local.guild.id
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "sync",
            "--guild",
            guild,
            cwd=tmp_path,
            env=bot_environment(local, soundverse, tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        await local.stop()
        await soundverse.stop()
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().startswith("Synced ")
    puts = [r for r in local.requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert [f"/guilds/{guild}/" in r.path for r in puts] == [True]
    assert not local.openapi_violations


async def test_debug_logs_never_hold_a_token(tmp_path: Path) -> None:
    """At LOG_LEVEL=DEBUG, with a song made through the job worker, the logs of the bot and
    its worker hold neither the interaction's token nor the bot's."""
    local = LocalDiscord(bot_token="entry-token-secret", validate_openapi=spec_available())
    soundverse = SoundverseStandIn(api_keys={"entry-key"}, time_scale=0.01)
    await local.start()
    await soundverse.start()
    environment = bot_environment(local, soundverse, tmp_path)
    environment.update(LOG_LEVEL="DEBUG", DISCORD_TOKEN="entry-token-secret")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=environment,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await local.wait_until_ready(timeout=30)
        alice = local.user("alice")
        call = await local.slash("song", user="alice", prompt="lofi rain", duration=5)
        await local.wait_for_message(lambda m: f"<@{alice.id}>" in m.content, timeout=60)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await local.stop()
        await soundverse.stop()
    logs = stderr.decode()
    assert "WebSocket Event" in logs and "/webhooks/" in logs
    assert call.record.token not in logs
    assert "entry-token-secret" not in logs


async def test_run_with_a_token_and_a_bad_setting_stops_instead_of_the_sandbox(
    tmp_path: Path,
) -> None:
    """`./run` with DISCORD_TOKEN set and one invalid setting prints that problem in one line
    and exits 2; it never falls back to the offline sandbox."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DISCORD_", "SOUNDVERSE_", "QUOTA_", "AUDIO_"))
    }
    env.update(DISCORD_TOKEN="a-token", QUOTA_UNITS_PER_PERIOD="lots")
    process = await asyncio.create_subprocess_exec(
        str(REPO / "run"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert err.decode().strip().splitlines() == [
        "error: QUOTA_UNITS_PER_PERIOD: Input should be a valid integer, unable to parse string "
        "as an integer"
    ]
    assert b"sandbox" not in out
