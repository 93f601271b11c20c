"""The console's voice lines: join and leave, the voice state it shows, `expect-voice`, `hear`.

Sound is played into the local voice server by the bot's unmodified discord.py voice client,
as the voice server's own tests do, so these do not depend on how `/play` works.
"""

from __future__ import annotations

import io
import re
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.audio.voice import OpusPacketStream
from sandbox.console.actions import Console, StepFailed
from sandbox.console.lines import LineError
from sandbox.console.session import clear_saved_files
from sandbox.console.voice import bot_line, clock, now_playing_card
from sandbox.discord.state import Message, World
from sandbox.soundverse.media import render_audio


class ClipSource(discord.AudioSource):
    """A sound file as 20 ms Opus packets, the way the bot plays tracks."""

    def __init__(self, path: Path) -> None:
        self.packets = OpusPacketStream(path)

    def read(self) -> bytes:
        return self.packets.read()

    def is_opus(self) -> bool:
        return True

    def cleanup(self) -> None:
        self.packets.close()


def shown(console: Console) -> str:
    """Everything the console printed so far."""
    stream = console.screen.stream
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


async def connect_bot(console: Console) -> discord.VoiceClient:
    """The bot's voice client, connected to Lounge."""
    lounge = console.discord.channel("Lounge")
    channel = console.stack.bot.get_channel(int(lounge.id))
    assert isinstance(channel, discord.VoiceChannel)
    return await channel.connect(timeout=10)


@pytest.fixture
async def bot_voice(console: Console) -> AsyncIterator[discord.VoiceClient]:
    """The bot in Lounge, ready to play; it disconnects after the test."""
    voice = await connect_bot(console)
    try:
        yield voice
    finally:
        await voice.disconnect(force=True)


def play(voice: discord.VoiceClient, tmp_path: Path, seconds: float) -> None:
    """Starts playing a clip of `seconds` in the voice client's channel."""
    clip = tmp_path / f"clip-{seconds:g}.wav"
    clip.write_bytes(render_audio(3, seconds, "wav"))
    voice.play(ClipSource(clip))


async def until_played(console: Console) -> None:
    """Returns once Lounge heard the closing silence of a stream."""
    heard = console.discord.voice.heard_in(console.discord.channel("Lounge").id)
    await console.discord.wait_until(lambda: heard.silence_frames >= 5 or None, timeout=10)


def a_card(world: World, title: str, description: str) -> Message:
    """A now-playing card as the bot posts it, in #general."""
    guild = next(iter(world.guilds.values()))
    general = guild.channels[0]
    embed = {"author": {"name": "Now playing in Lounge"}, "title": title}
    embed["description"] = description
    message = Message(world.ids.next(), general.id, guild.id, world.bot, embeds=[embed])
    world.messages[message.id] = message
    return message


# --- joining and leaving --------------------------------------------------------------------


async def test_join_puts_the_member_in_the_voice_channel(console: Console) -> None:
    """`join Lounge` moves alice into Lounge and says so."""
    await console.run_line("join Lounge")
    assert [user.username for user in console.discord.in_voice("Lounge")] == ["alice"]
    assert "alice joined 🔊 Lounge" in shown(console).splitlines()


async def test_leave_takes_the_member_out_of_voice(console: Console) -> None:
    """`leave` after `join Lounge` leaves Lounge empty."""
    await console.run_line("join Lounge")
    await console.run_line("leave")
    assert console.discord.in_voice("Lounge") == []
    assert "alice left 🔊 Lounge" in shown(console).splitlines()


async def test_joining_an_unknown_channel_names_the_voice_channels(console: Console) -> None:
    """`join Studio` is refused with the list of voice channels, and nobody moves."""
    with pytest.raises(LineError, match="no voice channel named 'Studio'; voice channels: Lounge"):
        await console.run_line("join Studio")
    assert console.discord.in_voice("Lounge") == []


async def test_joining_a_text_channel_is_refused(console: Console) -> None:
    """`join general` says #general is a text channel."""
    with pytest.raises(LineError, match="#general is a text channel, not a voice channel"):
        await console.run_line("join general")


async def test_a_member_moved_into_voice_is_shown(console: Console) -> None:
    """bob moving into Lounge outside the console is shown as a line."""
    await console.discord.move_to_voice("bob", "Lounge")
    console.show_changes()
    assert "bob joined 🔊 Lounge" in shown(console).splitlines()


# --- the bot's voice state ------------------------------------------------------------------


async def test_the_bot_being_heard_is_shown_with_the_seconds(
    console: Console, bot_voice: discord.VoiceClient, tmp_path: Path
) -> None:
    """While the bot is heard in Lounge the console shows it, with the seconds heard so far."""
    await console.run_line("join Lounge")
    play(bot_voice, tmp_path, 2.0)
    await console.run_line("expect-voice 1.2")
    assert "🔊 Soundverse is in Lounge, 0:01 heard" in shown(console).splitlines()


async def test_the_bot_going_silent_is_shown(
    console: Console, bot_voice: discord.VoiceClient, tmp_path: Path
) -> None:
    """Once the clip ends, the line says the bot is silent and how much was heard."""
    play(bot_voice, tmp_path, 2.0)
    await until_played(console)
    console.show_changes()
    assert "🔊 Soundverse is in Lounge, silent, 0:02 heard" in shown(console).splitlines()


async def test_the_now_playing_card_names_the_track_and_its_length(
    console: Console, bot_voice: discord.VoiceClient, tmp_path: Path
) -> None:
    """With a now-playing card posted, the line shows its track and length."""
    a_card(console.discord.world, "#34 Rainy Night", "▰▰▱▱ 0:00 / 0:20")
    await console.run_line("join Lounge")
    play(bot_voice, tmp_path, 2.0)
    await console.run_line("expect-voice 1.2")
    lines = shown(console).splitlines()
    assert "🔊 Soundverse is playing Rainy Night in Lounge, 0:01 / 0:20" in lines


async def test_the_bot_leaving_is_shown(console: Console) -> None:
    """After the bot disconnects from Lounge, the console says it left."""
    voice = await connect_bot(console)
    console.show_changes()
    await voice.disconnect(force=True)
    bot_id = console.discord.bot_user.id
    guild = console.discord.guild
    await console.discord.wait_until(lambda: bot_id not in guild.voice_channels or None)
    console.show_changes()
    assert "🔇 Soundverse left Lounge" in shown(console).splitlines()


def test_the_newest_card_of_the_bot_in_the_guild_is_read() -> None:
    """Of two cards, the newer one's title (without its number) and length are used."""
    world = World()
    world.add_guild("Sandbox")
    a_card(world, "#1 Old Song", "0:10 / 0:30")
    a_card(world, "#2 New Song", "▰▱ 0:01 / 1:05\nAsked by <@1>")
    guild_id = next(iter(world.guilds))
    card = now_playing_card(world.messages.values(), world.bot.id, guild_id)
    assert card is not None
    assert (card.title, card.length) == ("New Song", "1:05")


def test_without_a_card_the_line_shows_the_seconds_heard() -> None:
    """No card: the bot's place and the seconds heard, to the nearest second."""
    line = bot_line("Soundverse", "Lounge", True, 62.6, None)
    assert line == "🔊 Soundverse is in Lounge, 1:03 heard"
    assert clock(3723) == "1:02:03"


# --- expect-voice -----------------------------------------------------------------------------


async def test_expect_voice_passes_once_that_much_was_heard(
    console: Console, bot_voice: discord.VoiceClient, tmp_path: Path
) -> None:
    """`expect-voice 0.5` returns once half a second of the clip was heard in Lounge."""
    await console.run_line("join Lounge")
    play(bot_voice, tmp_path, 1.0)
    await console.run_line("expect-voice 0.5")
    heard = console.discord.voice.heard_in(console.discord.channel("Lounge").id)
    assert heard.seconds >= 0.5
    assert re.search(r"✓ heard 0\.\d s of audio \(\d+ packets\) in 🔊 Lounge", shown(console))


async def test_expect_voice_fails_with_what_was_heard(console: Console) -> None:
    """With nothing played, `expect-voice 2` fails after the timeout, saying what was heard."""
    await console.run_line("join Lounge")
    console.timeout = 0.3
    failure = (
        r"heard 0\.0 s of audio \(0 packets\) in 🔊 Lounge since the last action, not the 2 s"
        r" wanted \(waited 0\.3 s\); Soundverse is not in a voice channel"
    )
    with pytest.raises(StepFailed, match=failure):
        await console.run_line("expect-voice 2")


async def test_expect_voice_counts_only_what_was_heard_since_the_last_action(
    console: Console, bot_voice: discord.VoiceClient, tmp_path: Path
) -> None:
    """A clip heard before `say` does not satisfy an `expect-voice` after it."""
    await console.run_line("join Lounge")
    play(bot_voice, tmp_path, 1.0)
    await until_played(console)
    await console.run_line("say done listening")
    console.timeout = 0.3
    with pytest.raises(StepFailed, match=r"heard 0\.0 s of audio \(0 packets\)"):
        await console.run_line("expect-voice 0.5")


async def test_expect_voice_needs_the_member_in_voice(console: Console) -> None:
    """Outside voice, `expect-voice` says to join a channel first."""
    with pytest.raises(LineError, match="alice is not in a voice channel; `join CHANNEL` first"):
        await console.run_line("expect-voice 1")


# --- hear -------------------------------------------------------------------------------------


async def test_hear_saves_a_wav_as_long_as_what_was_heard(
    console: Console, bot_voice: discord.VoiceClient, tmp_path: Path
) -> None:
    """After a 1 s clip, `hear` writes Lounge-1.wav: 48 kHz stereo 16-bit, 1 s long."""
    await console.run_line("join Lounge")
    play(bot_voice, tmp_path, 1.0)
    await until_played(console)
    await console.run_line("hear")
    path = console.voice_dir / "Lounge-1.wav"
    with wave.open(str(path), "rb") as saved:
        shape = (saved.getnchannels(), saved.getsampwidth(), saved.getframerate())
        seconds = saved.getnframes() / saved.getframerate()
    assert shape == (2, 2, 48000)
    assert abs(seconds - 1.0) < 0.05
    assert f"saved 1.0 s heard in 🔊 Lounge (50 packets) to {path}" in shown(console)


async def test_hear_with_nothing_heard_saves_nothing(console: Console) -> None:
    """`hear` in a silent channel says nothing was heard and writes no file."""
    await console.run_line("join Lounge")
    await console.run_line("hear")
    assert "nothing was heard in 🔊 Lounge yet" in shown(console).splitlines()
    assert not console.voice_dir.exists()


def test_a_new_session_removes_the_wavs_of_an_earlier_run(tmp_path: Path) -> None:
    """What `hear` saved in an earlier run is gone when the next run starts."""
    earlier = tmp_path / "voice" / "Lounge-1.wav"
    earlier.parent.mkdir()
    earlier.write_bytes(b"RIFF")
    clear_saved_files(tmp_path)
    assert not earlier.parent.exists()
