"""The console's `voice-message PATH`: the current member posts a sound file as a Discord voice
message (Ogg Opus, mono, 48 kHz, with its length and waveform, flag IS_VOICE_MESSAGE), and
`menu "Ask Soundverse" last` asks about it."""

from __future__ import annotations

import array
import base64
import io
import math
import wave
from pathlib import Path

import av
import pytest

from sandbox.console.actions import Console
from sandbox.console.lines import HELP, ContextMenu, LineError, PostVoiceMessage, parse_line
from sandbox.console.voice_message import IS_VOICE_MESSAGE, record_voice_message
from sandbox.discord.rules import voice_message_refusal
from sandbox.discord.state import Message
from sandbox.discord.voice import NotAudio

RATE = 48000


def tone_wav(*stretches: tuple[float, float]) -> bytes:
    """A mono 48 kHz WAV of 220 Hz stretches, each (seconds, amplitude; 0 is silence)."""
    samples = array.array("h")
    for seconds, amplitude in stretches:
        samples.extend(
            round(amplitude * 32767 * math.sin(2 * math.pi * 220 * n / RATE))
            for n in range(round(seconds * RATE))
        )
    output = io.BytesIO()
    with wave.open(output, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(RATE)
        file.writeframes(samples.tobytes())
    return output.getvalue()


def shown(console: Console) -> str:
    """Everything the console printed so far."""
    stream = console.screen.stream
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def newest_of(console: Console, user: str) -> Message:
    """The newest message `user` posted."""
    author = console.discord.user(user).id
    return [m for m in console.discord.messages if m.author.id == author][-1]


@pytest.fixture
def question(tmp_path: Path) -> Path:
    """A 2.5 s question, as a WAV file."""
    path = tmp_path / "question.wav"
    path.write_bytes(tone_wav((2.5, 0.4)))
    return path


# --- the line ----------------------------------------------------------------------------------


def test_voice_message_takes_a_path() -> None:
    """`voice-message ./question.wav` is a PostVoiceMessage step with that path."""
    assert parse_line("voice-message ./question.wav") == PostVoiceMessage(Path("./question.wav"))


def test_voice_message_without_a_path_is_refused() -> None:
    """A bare `voice-message` says it needs an argument."""
    with pytest.raises(LineError, match="`voice-message` needs an argument"):
        parse_line("voice-message")


def test_voice_message_is_in_the_help() -> None:
    """The help lists `voice-message PATH`."""
    assert "voice-message PATH" in HELP


def test_menu_on_last_names_no_number() -> None:
    """`menu "Ask Soundverse" last` runs the menu on the newest message (no number)."""
    assert parse_line('menu "Ask Soundverse" last') == ContextMenu("Ask Soundverse", None)


# --- the recording -----------------------------------------------------------------------------


def test_the_file_is_ogg_opus_mono_48_khz() -> None:
    """The recording is Opus in an Ogg container, one channel at 48 kHz."""
    recording = record_voice_message(tone_wav((2.5, 0.4)))
    with av.open(io.BytesIO(recording.ogg), "r") as container:
        stream = container.streams.audio[0]
        found = (container.format.name, stream.codec_context.name, stream.rate, stream.channels)
    assert found == ("ogg", "opus", RATE, 1)


def test_the_file_lasts_its_duration_secs() -> None:
    """The recording decodes to as many samples as its duration_secs says."""
    recording = record_voice_message(tone_wav((2.5, 0.4)))
    with av.open(io.BytesIO(recording.ogg), "r") as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
    assert abs(samples / RATE - recording.duration_secs) < 0.01


def test_the_duration_is_the_sound_s_length() -> None:
    """A 2.5 s file is a voice message of 2.5 s."""
    assert record_voice_message(tone_wav((2.5, 0.4))).duration_secs == pytest.approx(2.5, abs=0.02)


def test_the_waveform_has_a_point_per_100_ms() -> None:
    """2.5 s of sound make 25 waveform points."""
    assert len(record_voice_message(tone_wav((2.5, 0.4))).points) == 25


def test_a_long_waveform_is_cut_to_256_points() -> None:
    """30 s of sound make 256 points, not 300."""
    assert len(record_voice_message(tone_wav((30.0, 0.4))).points) == 256


def test_the_waveform_follows_the_loudness() -> None:
    """A second of silence then a loud second: the first points are 0, the last ones high."""
    points = record_voice_message(tone_wav((1.0, 0.0), (1.0, 0.8))).points
    assert (max(points[:9]), min(points[11:])) == (0, round(0.8 * 255))


def test_the_recording_passes_the_local_discord_s_voice_message_rules() -> None:
    """An audio/ogg file with this duration and waveform is a voice message Discord takes."""
    recording = record_voice_message(tone_wav((2.5, 0.4)))
    described = [("audio/ogg", recording.duration_secs, recording.waveform)]
    assert voice_message_refusal({}, described) is None


def test_a_file_that_is_not_audio_is_not_recorded() -> None:
    """Text is refused as not audio."""
    with pytest.raises(NotAudio, match="FFmpeg cannot read it"):
        record_voice_message(b"a question, written down\n" * 40)


# --- the console ------------------------------------------------------------------------------


async def test_the_voice_message_is_posted_as_the_member(console: Console, question: Path) -> None:
    """alice's voice message in #general: the flag, no text, one voice-message.ogg."""
    await console.run_line(f"voice-message {question}")
    message = newest_of(console, "alice")
    (file,) = message.attachments
    assert message.channel_id == console.discord.channel("general").id
    assert (message.flags, message.content) == (IS_VOICE_MESSAGE, "")
    assert (file.filename, file.content_type) == ("voice-message.ogg", "audio/ogg")


async def test_the_attachment_carries_the_recording_s_metadata(
    console: Console, question: Path
) -> None:
    """The posted file is the recording, with its duration_secs and base64 waveform."""
    await console.run_line(f"voice-message {question}")
    (file,) = newest_of(console, "alice").attachments
    assert file.duration_secs == pytest.approx(2.5, abs=0.02)
    assert len(base64.b64decode(file.waveform or "")) == 25


async def test_the_console_names_the_message_it_posted(console: Console, question: Path) -> None:
    """The note gives the length and the message's number, for `menu ... N`."""
    await console.run_line(f"voice-message {question}")
    number = console.state.numbers[newest_of(console, "alice").id]
    assert f"✓ alice posted a voice message of 2.5 s in #general: message {number}" in shown(
        console
    )


async def test_a_missing_file_is_named(console: Console, tmp_path: Path) -> None:
    """A path with no file behind it is named, with the reason, and nothing is posted."""
    missing = tmp_path / "nothing.wav"
    with pytest.raises(LineError, match=f"cannot read {missing}: No such file or directory"):
        await console.run_line(f"voice-message {missing}")


async def test_a_text_file_is_refused_as_not_audio(console: Console, tmp_path: Path) -> None:
    """A text file is refused before anything is posted."""
    notes = tmp_path / "notes.txt"
    notes.write_text("a question, written down\n" * 40)
    with pytest.raises(LineError, match=f"{notes} is not audio"):
        await console.run_line(f"voice-message {notes}")
    assert console.discord.messages == []


async def test_menu_on_last_in_an_empty_channel_is_refused(console: Console) -> None:
    """With no message in #music, `menu ... last` says there is none."""
    await console.run_line("in music")
    with pytest.raises(LineError, match="there is no message in #music yet"):
        await console.run_line('menu "Ask Soundverse" last')


async def test_asking_about_the_voice_message_is_answered_aloud_and_by_voice_message(
    console: Console, question: Path
) -> None:
    """alice asks about her voice message from Lounge: the answer is heard there and posted."""
    await console.run_line("join Lounge")
    await console.run_line(f"voice-message {question}")
    await console.run_line('menu "Ask Soundverse" last')
    await console.run_line("expect-voice 2")
    await console.run_line("expect-attachment .ogg")
    bot = console.discord.bot_user.id
    assert any(m.author.id == bot and m.is_voice_message for m in console.discord.messages)
