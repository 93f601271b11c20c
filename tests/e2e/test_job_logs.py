"""Logs an operator can use: one line per job event, naming the job, server, channel and
member."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, card_shows

SONG_PATH = "/v5/generate/song"


def events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The structured fields of every job event logged, in order."""
    fields = (getattr(record, "fields", None) for record in caplog.records)
    return [each for each in fields if isinstance(each, dict)]


async def test_a_delivered_song_logs_each_step_once(
    stack: SandboxStack, caplog: pytest.LogCaptureFixture
) -> None:
    """A song logs admitted, submitted with its Soundverse id, charged and delivered, each
    naming the job, server, channel and member."""
    caplog.set_level(logging.INFO, logger="bot.jobs.events")
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    await card_shows(stack, call, "✅ Done")
    logged = events(caplog)
    assert [event["event"] for event in logged] == ["admitted", "submitted", "charged", "delivered"]
    alice = int(stack.discord.user("alice").id)
    assert {(e["guild_id"], e["channel_id"], e["user_id"]) for e in logged} == {
        (int(stack.discord.guild.id), int(stack.discord.channel("general").id), alice)
    }
    assert len({event["job_id"] for event in logged}) == 1
    assert logged[1]["soundverse_message_id"]
    assert logged[2]["units"] == 2


async def test_a_refused_key_is_logged_not_only_told_the_member(
    make_stack: StackFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A 401 from Soundverse leaves a failed event with its reason, and the refund."""
    caplog.set_level(logging.INFO, logger="bot.jobs.events")
    stack = await make_stack()
    stack.soundverse.inject("status:401", path=SONG_PATH)
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    await card_shows(stack, call, "❌")
    logged = events(caplog)
    assert [event["event"] for event in logged] == ["admitted", "refunded", "failed"]
    failed = logged[-1]
    assert failed["reason"] and failed["stage"] == "queued"
    text = next(r.getMessage() for r in caplog.records if getattr(r, "fields", {}) is failed)
    assert text.startswith(f"Job {failed['job_id']} failed: ")
