"""Playing in voice through the local Discord and its voice server: /play, the queue, skip
rules, Play in voice under results, and leaving when idle."""

from __future__ import annotations

import asyncio

import discord

from bot.config import Settings
from sandbox.discord.state import Attachment
from sandbox.soundverse.media import render_audio
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, embed_text
from tests.e2e.test_tools import finished_result, private_reply


def clip(stack: SandboxStack, seconds: float = 2.0, name: str = "clip.wav") -> Attachment:
    return stack.discord.upload(name, render_audio(5, seconds, "wav"), "audio/wav")


async def reply_text(stack: SandboxStack, interaction_id: str) -> str:
    message = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction_id and bool(m.content or m.embeds), timeout=20
    )
    return message.content + embed_text(message)


def quick_idle(settings: Settings) -> None:
    settings.voice.idle_disconnect = 0.3


async def test_play_needs_the_member_in_a_voice_channel(stack: SandboxStack) -> None:
    """/play from a member outside voice is refused, privately, before anything is read."""
    interaction = await stack.discord.slash("play", user="bob", audio=clip(stack))
    assert "Join a voice channel first" in await private_reply(stack, interaction.id)
    assert stack.discord.in_voice("Lounge") == []


async def test_play_joins_and_is_heard(stack: SandboxStack) -> None:
    """bob in Lounge plays an upload: the bot joins Lounge and the clip is heard there."""
    await stack.discord.move_to_voice("bob", "Lounge")
    lounge = stack.discord.channel("Lounge")
    interaction = await stack.discord.slash("play", user="bob", audio=clip(stack))
    text = await reply_text(stack, interaction.id)
    heard = stack.discord.voice.heard_in(lounge.id)
    await stack.discord.wait_until(lambda: heard.silence_frames >= 5 or None, timeout=10)
    assert text.startswith("▶ Playing **clip.wav** in")
    assert len(heard.audio_packets) == 100


async def test_a_second_play_waits_in_the_queue(stack: SandboxStack) -> None:
    """While one clip plays, the next is queued first in line and /queue lists both."""
    await stack.discord.move_to_voice("bob", "Lounge")
    first = await stack.discord.slash("play", user="bob", audio=clip(stack, 3.0, "one.wav"))
    await reply_text(stack, first.id)
    second = await stack.discord.slash("play", user="bob", audio=clip(stack, 2.0, "two.wav"))
    assert "Queued **two.wav**: number 1 in line." in await reply_text(stack, second.id)
    listing = await stack.discord.slash("queue show", user="bob")
    text = await reply_text(stack, listing.id)
    assert "▶ **one.wav**" in text and "1. two.wav" in text


async def test_the_requester_skips_at_once(stack: SandboxStack) -> None:
    """The member who asked for the clip skips it at once; the next one starts."""
    await stack.discord.move_to_voice("bob", "Lounge")
    await reply_text(
        stack, (await stack.discord.slash("play", user="bob", audio=clip(stack, 3.0, "one.wav"))).id
    )
    await reply_text(
        stack, (await stack.discord.slash("play", user="bob", audio=clip(stack, 2.0, "two.wav"))).id
    )
    started = asyncio.ensure_future(stack.bot.wait_for("voice_playing", timeout=10))
    skip = await stack.discord.slash("skip", user="bob")
    assert "⏭ Skipped **one.wav**." in await reply_text(stack, skip.id)
    _, playing = await started
    assert playing.title == "two.wav"


async def test_others_vote_to_skip(stack: SandboxStack) -> None:
    """With bob and carol listening, carol's skip of bob's clip is one vote of two needed."""
    await stack.discord.move_to_voice("bob", "Lounge")
    await stack.discord.move_to_voice("carol", "Lounge")
    await reply_text(
        stack, (await stack.discord.slash("play", user="bob", audio=clip(stack, 3.0))).id
    )
    skip = await stack.discord.slash("skip", user="carol")
    assert "Your vote to skip counts: 1 of 2 needed." in await private_reply(stack, skip.id)


async def test_only_listeners_control_playback(stack: SandboxStack) -> None:
    """A member outside the bot's voice channel cannot skip."""
    await stack.discord.move_to_voice("bob", "Lounge")
    await reply_text(
        stack, (await stack.discord.slash("play", user="bob", audio=clip(stack, 3.0))).id
    )
    skip = await stack.discord.slash("skip", user="carol")
    assert "Only members in" in await private_reply(stack, skip.id)


async def test_the_bot_leaves_when_idle(make_stack: StackFactory) -> None:
    """After the queue ends, the bot leaves after VOICE_IDLE_DISCONNECT seconds."""
    stack = await make_stack(tweak=quick_idle)
    await stack.discord.move_to_voice("bob", "Lounge")
    left = asyncio.ensure_future(stack.bot.wait_for("voice_left", timeout=15))
    await reply_text(
        stack, (await stack.discord.slash("play", user="bob", audio=clip(stack, 1.0))).id
    )
    await left
    assert [user.username for user in stack.discord.in_voice("Lounge")] == ["bob"]


async def test_play_in_voice_under_a_result(stack: SandboxStack) -> None:
    """▶ Play in voice under a song queues that take in the member's channel."""
    await stack.discord.move_to_voice("alice", "Lounge")
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=5)
    result = await finished_result(stack, "alice", "lofi rain")
    click = await stack.discord.click(result, "Play in voice", user="alice")
    text = await reply_text(stack, click.id)
    assert text.startswith("▶ Playing **#") and f"<#{stack.discord.channel('Lounge').id}>" in text


def voice_off(settings: Settings) -> None:
    settings.voice.enabled = False


async def test_voice_off_registers_no_voice_commands(make_stack: StackFactory) -> None:
    """With VOICE_ENABLED=false there is no /play and no Play in voice under results."""
    stack = await make_stack(tweak=voice_off)
    names = {command.name for command in stack.discord.commands}
    assert "song" in names and not names & {"play", "queue", "skip", "stop", "leave"}
    assert "play" not in stack.bot.follow_ups.names()


async def test_an_unknown_track_is_refused_privately(stack: SandboxStack) -> None:
    """/play of a track that does not exist is a private refusal; the bot does not join."""
    await stack.discord.move_to_voice("bob", "Lounge")
    interaction = await stack.discord.slash("play", user="bob", track="#99999")
    assert "Track #99999 does not exist" in await private_reply(stack, interaction.id)
    assert [user.username for user in stack.discord.in_voice("Lounge")] == ["bob"]


async def test_pause_and_resume(stack: SandboxStack) -> None:
    """/pause holds the clip and /resume goes on, each said in the channel."""
    await stack.discord.move_to_voice("bob", "Lounge")
    await reply_text(
        stack, (await stack.discord.slash("play", user="bob", audio=clip(stack, 3.0))).id
    )
    paused = await stack.discord.slash("pause", user="bob")
    assert "⏸ Paused." in await reply_text(stack, paused.id)
    voice = stack.bot.voice_clients[0]
    assert isinstance(voice, discord.VoiceClient) and voice.is_paused()
    resumed = await stack.discord.slash("resume", user="bob")
    assert "▶ Resumed." in await reply_text(stack, resumed.id) and voice.is_playing()


async def test_the_bot_leaves_when_left_alone(make_stack: StackFactory) -> None:
    """When the last listener leaves mid-clip, the bot leaves after the idle time."""
    stack = await make_stack(tweak=quick_idle)
    await stack.discord.move_to_voice("bob", "Lounge")
    await reply_text(
        stack, (await stack.discord.slash("play", user="bob", audio=clip(stack, 3.0))).id
    )
    left = asyncio.ensure_future(stack.bot.wait_for("voice_left", timeout=15))
    await stack.discord.move_to_voice("bob", None)
    await left
    assert stack.discord.in_voice("Lounge") == []


async def test_a_missing_speak_permission_is_named(stack: SandboxStack) -> None:
    """Where the bot may not speak, /play names the Speak permission and the channel."""
    await stack.discord.set_permissions("Lounge", "bot", deny=discord.Permissions(speak=True).value)
    await stack.discord.move_to_voice("bob", "Lounge")
    interaction = await stack.discord.slash("play", user="bob", audio=clip(stack))
    lounge = stack.discord.channel("Lounge").id
    assert f"I need the Speak permission in <#{lounge}>." in await private_reply(
        stack, interaction.id
    )


async def test_a_missing_connect_permission_is_named(stack: SandboxStack) -> None:
    """Where the bot may not connect (nor so speak), /play names both; it does not join."""
    await stack.discord.set_permissions(
        "Lounge", "bot", deny=discord.Permissions(connect=True).value
    )
    await stack.discord.move_to_voice("bob", "Lounge")
    interaction = await stack.discord.slash("play", user="bob", audio=clip(stack))
    assert "I need the Connect and Speak permissions in" in await private_reply(
        stack, interaction.id
    )
    assert [user.username for user in stack.discord.in_voice("Lounge")] == ["bob"]


async def test_a_full_channel_is_refused(stack: SandboxStack) -> None:
    """In a one-place channel bob already fills, /play says the channel is full."""
    booth = await stack.discord.add_channel("Booth", voice=True, user_limit=1)
    await stack.discord.move_to_voice("bob", "Booth")
    interaction = await stack.discord.slash("play", user="bob", audio=clip(stack))
    assert f"<#{booth.id}> is full (1 member)." in await private_reply(stack, interaction.id)


async def test_a_stage_channel_is_refused(stack: SandboxStack) -> None:
    """From a stage channel, /play says the bot plays in voice channels only."""
    stage = await stack.discord.add_channel("Town Hall", stage=True)
    await stack.discord.move_to_voice("bob", "Town Hall")
    interaction = await stack.discord.slash("play", user="bob", audio=clip(stack))
    assert f"<#{stage.id}> is a stage channel" in await private_reply(stack, interaction.id)
