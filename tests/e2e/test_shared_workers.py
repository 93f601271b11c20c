"""Jobs shared by several job worker processes over PostgreSQL (JOBS_WORKER=shared), through
the local Discord: any worker delivers, a killed worker's job is taken over once its lease
runs out and delivered once, a stopped worker gives its job back, a cancel reaches the
worker that holds the job, and voice (in the bot's process) plays a preview of a job a
worker runs."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from sandbox.stack import SandboxStack
from tests.e2e.conftest import (
    StackFactory,
    card_offering,
    card_shows,
    embed_text,
    holder_pid,
    ledger_events,
    result_for,
    shared,
    shared_workers,
)

SONG_PATH = "/v5/generate/song"


def results_for(stack: SandboxStack, user: str) -> int:
    """How many result messages the member has."""
    match = result_for(stack.discord.user(user).id)
    return len([message for message in stack.discord.messages if match(message)])


async def test_a_song_is_delivered_by_one_of_two_workers(
    make_stack: StackFactory, postgres_url: str, tmp_path: Path
) -> None:
    """`/song` stored by the bot is claimed by a worker and delivered once, never run in the bot."""
    stack = await make_stack(tweak=shared(postgres_url))
    async with shared_workers(stack, 2, tmp_path):
        interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
        assert await interaction.wait_for_ack() == 5
        alice = stack.discord.user("alice")
        await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
        await card_shows(stack, interaction, "Done")
    assert results_for(stack, "alice") == 1
    assert stack.soundverse.counters.posts[SONG_PATH] == 1
    assert stack.bot.services.jobs.is_idle()


async def test_a_killed_workers_job_is_taken_over_and_delivered_once(
    make_stack: StackFactory, postgres_url: str, tmp_path: Path
) -> None:
    """A killed worker's job goes to the other after the lease: one post, one charge."""
    stack = await make_stack(time_scale=0.1, tweak=shared(postgres_url))
    async with shared_workers(stack, 2, tmp_path):
        interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
        await card_shows(stack, interaction, "Composing")
        os.kill(await holder_pid(stack), signal.SIGKILL)
        alice = stack.discord.user("alice")
        await stack.discord.wait_for_message(result_for(alice.id), timeout=40)
        await card_shows(stack, interaction, "Done")
    assert results_for(stack, "alice") == 1
    assert stack.soundverse.counters.posts[SONG_PATH] == 1
    assert await ledger_events(stack, "alice") == ["reserve", "commit"]


async def test_a_stopped_worker_gives_its_job_back_at_once(
    make_stack: StackFactory, postgres_url: str, tmp_path: Path
) -> None:
    """SIGTERM to the holder hands the job to the other worker, which delivers it once."""
    stack = await make_stack(time_scale=0.1, tweak=shared(postgres_url))
    async with shared_workers(stack, 2, tmp_path):
        interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
        await card_shows(stack, interaction, "Composing")
        os.kill(await holder_pid(stack), signal.SIGTERM)
        alice = stack.discord.user("alice")
        await stack.discord.wait_for_message(result_for(alice.id), timeout=40)
    assert results_for(stack, "alice") == 1
    assert stack.soundverse.counters.posts[SONG_PATH] == 1


async def test_a_cancel_in_the_bot_stops_the_job_on_its_worker(
    make_stack: StackFactory, postgres_url: str, tmp_path: Path
) -> None:
    """Cancel on the card reaches the worker holding the job: the card ends cancelled."""
    stack = await make_stack(time_scale=0.1, tweak=shared(postgres_url))
    async with shared_workers(stack, 1, tmp_path):
        interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
        card = await card_shows(stack, interaction, "Composing")
        click = await stack.discord.click(card, "Cancel", user="alice")
        await stack.discord.wait_for_message(
            lambda m: m.interaction_id == click.id and "Cancelling" in m.content
        )
        await card_shows(stack, interaction, "Cancelled")
    assert results_for(stack, "alice") == 0


async def test_a_preview_of_a_workers_job_plays_in_the_bots_voice_channel(
    make_stack: StackFactory, postgres_url: str, tmp_path: Path
) -> None:
    """Preview in voice on the card of a job a worker runs is answered by the bot, which plays
    the stream in Lounge; the worker posts the result once."""
    stack = await make_stack(time_scale=0.3, tweak=shared(postgres_url))
    async with shared_workers(stack, 1, tmp_path):
        await stack.discord.move_to_voice("alice", "Lounge")
        interaction = await stack.discord.slash(
            "song", user="alice", prompt="lofi rain", duration=5
        )
        card = await card_offering(stack, interaction, "Preview in voice")
        click = await stack.discord.click(card, "Preview in voice", user="alice")
        reply = await stack.discord.wait_for_message(
            lambda m: m.interaction_id == click.id and bool(m.content or m.embeds), timeout=20
        )
        heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
        await stack.discord.wait_until(lambda: heard.audio_packets or None, timeout=10)
        alice = stack.discord.user("alice")
        await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    assert "▶ Playing **Preview of" in reply.content + embed_text(reply)
    assert results_for(stack, "alice") == 1
    assert stack.bot.services.jobs.is_idle()
