"""The console's `speak PATH`: the current member says a sound file in their voice channel, and
the bot's voice connection hears it as that member's voice (SPEAKING, then RTP)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.voice.receive import VoiceReceiver
from bot.voice.turns import Turn
from sandbox.console.actions import Console
from sandbox.console.lines import HELP, LineError, Speak, parse_line
from tests.unit.voice.speech import speech_wav


def shown(console: Console) -> str:
    """Everything the console printed so far."""
    stream = console.screen.stream
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


@pytest.fixture
async def bot_in_lounge(console: Console) -> AsyncIterator[discord.VoiceClient]:
    """The bot's voice client in Lounge; it disconnects after the test."""
    channel = console.stack.bot.get_channel(int(console.discord.channel("Lounge").id))
    assert isinstance(channel, discord.VoiceChannel)
    voice: discord.VoiceClient = await channel.connect(timeout=10)
    try:
        yield voice
    finally:
        await voice.disconnect(force=True)


def test_speak_takes_a_path() -> None:
    """`speak ./question.wav` (quoted or not) is a Speak step with that path."""
    assert parse_line("speak ./question.wav") == Speak(Path("./question.wav"))
    assert parse_line('speak "my question.wav"') == Speak(Path("my question.wav"))


def test_speak_without_a_path_is_refused() -> None:
    """A bare `speak` says it needs an argument."""
    with pytest.raises(LineError, match="`speak` needs an argument"):
        parse_line("speak")


def test_speak_is_in_the_help() -> None:
    """The help lists `speak PATH`."""
    assert "speak PATH" in HELP


async def test_speaking_outside_voice_is_refused(console: Console, tmp_path: Path) -> None:
    """A member in no voice channel is told to join one first."""
    question = tmp_path / "question.wav"
    question.write_bytes(speech_wav(0.5))
    with pytest.raises(LineError, match=r"alice is not in a voice channel; `join CHANNEL` first"):
        await console.run_line(f"speak {question}")


async def test_a_missing_file_is_named(console: Console, tmp_path: Path) -> None:
    """A path with no file behind it is named, with the reason."""
    await console.run_line("join Lounge")
    missing = tmp_path / "nothing.wav"
    with pytest.raises(LineError, match=f"cannot read {missing}: No such file or directory"):
        await console.run_line(f"speak {missing}")


async def test_a_file_that_is_not_audio_is_refused(console: Console, tmp_path: Path) -> None:
    """A text file is refused as not audio, before anything is sent."""
    await console.run_line("join Lounge")
    notes = tmp_path / "notes.txt"
    notes.write_text("a question, written down\n" * 20)
    with pytest.raises(LineError, match=f"{notes} is not audio: FFmpeg cannot read it"):
        await console.run_line(f"speak {notes}")


async def test_speaking_with_no_one_to_hear_says_so(console: Console, tmp_path: Path) -> None:
    """Without the bot in the channel, the member speaks but the console says no one heard."""
    await console.run_line("join Lounge")
    question = tmp_path / "question.wav"
    question.write_bytes(speech_wav(0.3))
    await console.run_line(f"speak {question}")
    note = "alice said 0.3 s in 🔊 Lounge, but no voice connection there heard it"
    assert note in shown(console)


async def test_the_bot_hears_the_member_say_the_file(
    console: Console, bot_in_lounge: discord.VoiceClient, tmp_path: Path
) -> None:
    """alice says a 1 s file in Lounge: the console says the bot heard it, and a receiver on
    the bot's connection gets one turn of 1 s from alice."""
    alice = int(console.discord.user("alice").id)
    await console.run_line("join Lounge")
    question = tmp_path / "question.wav"
    question.write_bytes(speech_wav(1.0))
    async with VoiceReceiver(bot_in_lounge, allowed=lambda user_id: user_id == alice) as heard:
        await console.run_line(f"speak {question}")
        turn = await anext(event async for event in heard if isinstance(event, Turn))
    assert "✓ alice said 1.0 s in 🔊 Lounge; heard by" in shown(console)
    assert turn.user_id == alice and abs(turn.seconds - 1.0) < 0.08
