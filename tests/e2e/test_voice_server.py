"""The local voice server with the unmodified discord.py voice client: joining a voice
channel, and every packet played being decrypted, decoded and kept with its arrival time."""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path

import discord

from bot.audio.voice import OpusPacketStream
from sandbox.discord.state import Channel
from sandbox.discord.voice import Heard
from sandbox.soundverse.media import render_audio
from sandbox.stack import SandboxStack

CLIP_SECONDS = 2.0
SHORT_CLIP_SECONDS = 0.5


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


async def play(stack: SandboxStack, voice: discord.VoiceClient, path: Path) -> Heard:
    """Play `path` to its end, and return what the voice client's channel has heard once its
    closing silence frames have arrived."""
    finished = asyncio.Event()
    loop = asyncio.get_running_loop()
    heard = stack.discord.voice.heard_in(str(voice.channel.id))
    silences = heard.silence_frames
    voice.play(OpusSource(path), after=lambda _: loop.call_soon_threadsafe(finished.set))
    await finished.wait()
    await stack.discord.wait_until(lambda: heard.silence_frames >= silences + 5 or None, timeout=5)
    return heard


async def play_clip(stack: SandboxStack, path: Path) -> str:
    """The bot joins Lounge, plays `path` to its end and leaves; returns the channel's id."""
    lounge = stack.discord.channel("Lounge")
    channel = stack.bot.get_channel(int(lounge.id))
    assert isinstance(channel, discord.VoiceChannel)
    voice: discord.VoiceClient = await channel.connect(timeout=10)
    await play(stack, voice, path)
    await voice.disconnect()
    return lounge.id


async def voice_channel(stack: SandboxStack, channel: Channel) -> discord.VoiceChannel:
    """The voice channel as discord.py's cache has it, once it is there."""
    found = await stack.discord.wait_until(lambda: stack.bot.get_channel(int(channel.id)))
    assert isinstance(found, discord.VoiceChannel)
    return found


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


async def test_a_channel_made_with_add_channel_reaches_the_bot(stack: SandboxStack) -> None:
    """A voice channel made with add_channel is in discord.py's cache with its name and limit."""
    made = await stack.discord.add_channel("Stage", voice=True, user_limit=4)
    channel = await voice_channel(stack, made)
    assert (channel.name, channel.user_limit) == ("Stage", 4)
    assert channel.guild.id == int(stack.discord.guild.id)


async def test_after_move_to_the_bot_is_in_the_new_channel(stack: SandboxStack) -> None:
    """After move_to, the local Discord has the bot in the new channel and not the old one."""
    stage = await voice_channel(stack, await stack.discord.add_channel("Stage", voice=True))
    lounge = await voice_channel(stack, stack.discord.channel("Lounge"))
    voice: discord.VoiceClient = await lounge.connect(timeout=10)
    await stack.discord.move_to_voice("bob", "Lounge")
    # Discord relays bob's voice to the bot. A packet on the old UDP socket ends the 30 s
    # select() of discord.py's socket reader, which would otherwise read the new
    # connection's IP discovery only when that select times out.
    await stack.discord.speak("bob")
    await voice.move_to(stage, timeout=10)
    bot = stack.discord.world.bot
    in_stage = [user.id for user in stack.discord.in_voice("Stage")]
    in_lounge = [user.id for user in stack.discord.in_voice("Lounge")]
    connected = (voice.is_connected(), voice.channel.id)
    await voice.disconnect()
    assert (in_stage, bot.id in in_lounge, connected) == ([bot.id], False, (True, stage.id))


async def test_a_clip_played_after_a_move_is_heard_in_the_new_channel(
    stack: SandboxStack, tmp_path: Path
) -> None:
    """A clip played after move_to is heard whole in the new channel; the old hears no more."""
    clip = tmp_path / "clip.wav"
    clip.write_bytes(render_audio(3, SHORT_CLIP_SECONDS, "wav"))
    stage = await voice_channel(stack, await stack.discord.add_channel("Stage", voice=True))
    lounge = await voice_channel(stack, stack.discord.channel("Lounge"))
    voice: discord.VoiceClient = await lounge.connect(timeout=10)
    await stack.discord.move_to_voice("bob", "Lounge")
    await stack.discord.speak("bob")  # see test_after_move_to_the_bot_is_in_the_new_channel
    in_lounge = len((await play(stack, voice, clip)).packets)
    await voice.move_to(stage, timeout=10)
    in_stage = await play(stack, voice, clip)
    await voice.disconnect()
    lounge_after = len(stack.discord.voice.heard_in(str(lounge.id)).packets)
    assert (len(in_stage.audio_packets), in_stage.undecryptable) == (25, 0)
    assert abs(in_stage.seconds - SHORT_CLIP_SECONDS) < 0.05
    assert lounge_after == in_lounge == 25 + 5
