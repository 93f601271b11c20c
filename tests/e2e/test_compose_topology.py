"""compose.scale.yaml without Docker: its bot and its workers run as the processes their
containers would run (the Dockerfile's entry point, each service's command, environment and
replicas), against a PostgreSQL database made as its `postgres` service makes it, and the
local stand-ins in place of Discord and Soundverse."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from sandbox.discord import LocalDiscord
from sandbox.discord.openapi import spec_available
from sandbox.postgres import PostgresServer
from sandbox.soundverse import SoundverseStandIn
from tests.compose import REPO, entrypoint, load, service_environment

TOKEN = "compose-token"
KEY = "compose-key"
COMPOSE_HOST = "@postgres:5432/"


def dotenv(local: LocalDiscord, soundverse: SoundverseStandIn) -> dict[str, str]:
    """What an operator puts in .env (`env_file`): the tokens, here for the stand-ins."""
    return {
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_BASE": local.api_base,
        "DISCORD_GATEWAY_URL": local.gateway_url,
        "SOUNDVERSE_API_KEY": KEY,
        "SOUNDVERSE_BASE_URL": soundverse.url,
    }


def song_registered(local: LocalDiscord) -> bool | None:
    """True once the bot has registered /song (None before, for `wait_until`)."""
    return any(command.name == "song" for command in local.commands) or None


async def make_database(server: PostgresServer, postgres: dict[str, str]) -> None:
    """The role and database the `postgres` service's image makes from its environment."""
    user, password, name = (
        postgres[k] for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
    )
    connection = await asyncpg.connect(server.url())
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name}")
        if not await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", user):
            await connection.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
        await connection.execute(f"CREATE DATABASE {name} OWNER {user}")
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def container(
    name: str, service: dict[str, Any], environment: dict[str, str], folder: Path
) -> AsyncIterator[Path]:
    """The process of one container of `service`: the entry point with its command, in a
    folder of its own (as each container has its own filesystem); yields its log, and stops
    it with SIGTERM as `docker compose down` does."""
    home = folder / name
    home.mkdir(parents=True)
    log_path = home / "log.txt"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *[sys.executable if part == "python" else part for part in entrypoint()],
            *service.get("command", []),
            env=environment,
            cwd=home,
            stdout=log,
            stderr=log,
        )
    try:
        yield log_path
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_the_scale_compose_file_serves_a_song_through_a_worker(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """compose.scale.yaml's bot and its two workers, run as their containers would be, answer
    /song: the bot stores it, one worker delivers it once."""
    compose = load("compose.scale.yaml")
    services = compose["services"]
    shell: dict[str, str] = {}  # no POSTGRES_PASSWORD set: the file's own default
    await make_database(postgres_server, service_environment(services["postgres"], shell))
    local = LocalDiscord(bot_token=TOKEN, validate_openapi=spec_available())
    soundverse = SoundverseStandIn(api_keys={KEY}, time_scale=0.01)
    await local.start()
    await soundverse.start()
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DISCORD_", "SOUNDVERSE_", "STORAGE_", "AUDIO_", "JOBS_"))
    }

    def environment_of(service: str) -> dict[str, str]:
        settings = service_environment(services[service], shell)
        url = settings["STORAGE_URL"]
        assert COMPOSE_HOST in url, "the services reach PostgreSQL as the `postgres` service"
        settings["STORAGE_URL"] = url.replace(COMPOSE_HOST, f"@127.0.0.1:{postgres_server.port}/")
        return {**inherited, "PYTHONPATH": str(REPO), **dotenv(local, soundverse), **settings}

    replicas = int(services["worker"]["deploy"]["replicas"])
    try:
        async with contextlib.AsyncExitStack() as running:
            await running.enter_async_context(
                container("bot", services["bot"], environment_of("bot"), tmp_path)
            )
            await local.wait_until_ready(timeout=30)
            await local.wait_until(
                lambda: any(c.name == "song" for c in local.commands) or None, 30
            )
            logs = [
                await running.enter_async_context(
                    container(f"worker-{n}", services["worker"], environment_of("worker"), tmp_path)
                )
                for n in range(1, replicas + 1)
            ]
            call = await local.slash("song", user="alice", prompt="lofi rain", duration=5)
            mention = f"<@{local.user('alice').id}>"
            await local.wait_for_message(lambda m: mention in m.content, timeout=60)
    finally:
        await local.stop()
        await soundverse.stop()
    delivered_by = [log.parent.name for log in logs if "Job 1 delivered" in log.read_text()]
    results = [m for m in local.messages if mention in m.content]
    assert replicas == 2
    assert call.acknowledged
    assert len(results) == 1
    assert len(delivered_by) == 1
    assert not local.openapi_violations
