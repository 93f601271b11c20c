"""Fixtures: a local Discord checked against the OpenAPI spec, and the scripted bot logged in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
import yarl

from sandbox.discord import LocalDiscord
from sandbox.discord.openapi import spec_available
from tests.sandbox.discord.scripted_bot import ScriptedBot


@pytest.fixture
async def discord_(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LocalDiscord]:
    """A started local Discord; the test fails at teardown if any traffic broke the spec."""
    local = LocalDiscord(validate_openapi=spec_available())
    await local.start()
    monkeypatch.setattr(discord.http.Route, "BASE", local.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(local.gateway_url)
    )
    yield local
    await local.stop()
    if local.openapi_violations:
        pytest.fail("OpenAPI violations:\n" + "\n".join(map(str, local.openapi_violations)))


@pytest.fixture
async def bot(discord_: LocalDiscord) -> AsyncIterator[ScriptedBot]:
    """The scripted bot, logged in and ready."""
    client = ScriptedBot()
    task = asyncio.create_task(client.start(discord_.bot_token))
    ready = asyncio.create_task(client.wait_until_ready())
    finished, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in finished:
        ready.cancel()
        task.result()
    assert ready in finished, "the bot did not become ready"
    yield client
    await client.close()
    await asyncio.wait_for(task, 5)
