"""The local voice server with the unmodified discord.py voice client: joining a voice
channel, and every packet played being decrypted, decoded and kept with its arrival time."""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path

import discord

from bot.audio.voice import OpusPacketStream
from sandbox.soundverse.media import render_audio
from sandbox.stack import SandboxStack

CLIP_SECONDS = 2.0


class OpusSource(discord.AudioSource):
    """The bot's Opus packets as discord.py's voice client plays them."""

    def __init__(self, path: Path) -> None:
        self.packets = OpusPacketStream(path)

    def read(self) -> bytes:
        return self.packets.read()

    def is_opus(self) -> bool:
        return True

    def cleanup(self) -> None:
        self.packets.close()


async def play_clip(stack: SandboxStack, path: Path) -> str:
    """The bot joins Lounge, plays `path` to its end and leaves; returns the channel's id."""
    lounge = stack.discord.channel("Lounge")
    channel = stack.bot.get_channel(int(lounge.id))
    assert isinstance(channel, discord.VoiceChannel)
    voice: discord.VoiceClient = await channel.connect(timeout=10)
    finished = asyncio.Event()
    loop = asyncio.get_running_loop()
    voice.play(OpusSource(path), after=lambda _: loop.call_soon_threadsafe(finished.set))
    await finished.wait()
    heard = stack.discord.voice.heard_in(lounge.id)
    await stack.discord.wait_until(lambda: heard.silence_frames >= 5 or None, timeout=5)
    await voice.disconnect()
    return lounge.id


async def test_every_packet_played_is_heard_in_order(stack: SandboxStack, tmp_path: Path) -> None:
    """A 2 s clip arrives as 100 decryptable Opus packets, then the five silence frames."""
    clip = tmp_path / "clip.wav"
    clip.write_bytes(render_audio(3, CLIP_SECONDS, "wav"))
    heard = stack.discord.voice.heard_in(await play_clip(stack, clip))
    sequences = [packet.sequence for packet in heard.audio_packets]
    assert (len(heard.audio_packets), heard.silence_frames, heard.undecryptable) == (100, 5, 0)
    assert sequences == sorted(sequences)


async def test_what_is_heard_decodes_to_the_clip(stack: SandboxStack, tmp_path: Path) -> None:
    """The decoded sound lasts as long as the clip and is not silent."""
    clip = tmp_path / "clip.wav"
    clip.write_bytes(render_audio(3, CLIP_SECONDS, "wav"))
    heard = stack.discord.voice.heard_in(await play_clip(stack, clip))
    assert abs(heard.seconds - CLIP_SECONDS) < 0.05
    assert max(heard.pcm[1::2]) > 16  # high bytes of s16 samples: something was audible


async def test_packets_arrive_20_ms_apart(stack: SandboxStack, tmp_path: Path) -> None:
    """Packets are paced in real time: the median gap between them is 20 ms."""
    clip = tmp_path / "clip.wav"
    clip.write_bytes(render_audio(3, CLIP_SECONDS, "wav"))
    heard = stack.discord.voice.heard_in(await play_clip(stack, clip))
    assert abs(statistics.median(heard.intervals) - 0.020) < 0.003


async def test_members_moved_into_voice_are_seen_by_the_bot(stack: SandboxStack) -> None:
    """bob moved into Lounge is among the channel's members in discord.py, and gone after."""
    lounge = stack.discord.channel("Lounge")
    bob = stack.discord.user("bob")
    channel = stack.bot.get_channel(int(lounge.id))
    assert isinstance(channel, discord.VoiceChannel)
    await stack.discord.move_to_voice("bob", "Lounge")
    joined = await stack.discord.wait_until(lambda: channel.members or None)
    await stack.discord.move_to_voice("bob", None)
    left = await stack.discord.wait_until(lambda: not channel.members or None)
    assert [member.id for member in joined] == [int(bob.id)] and left


async def test_the_bot_joining_is_a_voice_state_of_the_channel(stack: SandboxStack) -> None:
    """Once the bot connects, the local Discord counts it in Lounge; after, it is gone."""
    lounge = stack.discord.channel("Lounge")
    channel = stack.bot.get_channel(int(lounge.id))
    assert isinstance(channel, discord.VoiceChannel)
    voice: discord.VoiceClient = await channel.connect(timeout=10)
    inside = [user.id for user in stack.discord.in_voice("Lounge")]
    await voice.disconnect()
    assert inside == [stack.discord.world.bot.id] and stack.discord.in_voice("Lounge") == []
