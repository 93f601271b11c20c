"""Spoken questions: "Ask Soundverse" on a voice message and `/ask-voice`, through the local
Discord (and its voice server) and the local Soundverse's voice assistant. The answer is heard
in the asker's voice channel while it still streams, over music that goes on afterwards, and
comes back as a voice message the local Discord validated; bad recordings, spent quota and the
cooldown are refused before anything is billed."""

from __future__ import annotations

import array
import asyncio
import base64
import io
import math
import struct

import av

from bot.audio import encode_voice_message
from bot.config import Settings
from sandbox.discord.state import SEND_VOICE_MESSAGES, Attachment, Message
from sandbox.holds import HoldPoint
from sandbox.soundverse.media import render_speech
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, embed_text, ledger_events, member_usage
from tests.e2e.test_voice import clip, reply_text
from tests.e2e.test_voice_controls import start_playing

IS_VOICE_MESSAGE = 1 << 13
VOICE_PATH = "/v1/assistant/voice"
RATE = 48000
CLIP = 5.0
"""Seconds of the clip an answer interrupts: long enough to be still playing when the answer
comes (asked at `ASK_AT`, the answer starts well within a second)."""
ASK_AT = 0.5


def recording(stack: SandboxStack, seconds: float = 4.0, name: str = "question.ogg") -> Attachment:
    """A member's recorded question, as a voice message's file (Ogg Opus with its metadata)."""
    audio = encode_voice_message(io.BytesIO(render_speech(11, seconds)))
    return stack.discord.upload(
        name,
        audio.ogg,
        "audio/ogg",
        duration_secs=audio.duration_secs,
        waveform=audio.waveform_base64,
    )


async def voice_message_of(stack: SandboxStack, user: str = "bob", seconds: float = 4.0) -> Message:
    """`user` posts a voice message in #general."""
    return await stack.discord.post_message(
        "general", user, attachments=[recording(stack, seconds)], flags=IS_VOICE_MESSAGE
    )


def tone_wav(seconds: float, amplitude: float) -> bytes:
    """A WAV (mono, 16 bit, 48 kHz) of a 220 Hz tone at `amplitude` of full scale (0: silence)."""
    count = round(seconds * RATE)
    step = 2 * math.pi * 220 / RATE
    samples = array.array(
        "h", (round(amplitude * 32767 * math.sin(step * n)) for n in range(count))
    )
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + count * 2,
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        RATE,
        RATE * 2,
        2,
        16,
        b"data",
        count * 2,
    )
    return header + samples.tobytes()


def voice_answer(stack: SandboxStack) -> Message | None:
    """The bot's voice message, once posted."""
    bot = stack.discord.bot_user.id
    return next(
        (
            m
            for m in stack.discord.messages
            if m.author.id == bot and m.is_voice_message and not m.deleted
        ),
        None,
    )


async def wait_for_voice_answer(stack: SandboxStack) -> Message:
    return await stack.discord.wait_until(lambda: voice_answer(stack), timeout=20)


async def private_text(stack: SandboxStack, interaction_id: str) -> str:
    """What the member was told privately, once the "thinking" message has been settled."""
    message = await stack.discord.wait_for_message(
        lambda m: (
            m.interaction_id == interaction_id
            and m.ephemeral
            and not m.loading
            and bool(m.content or m.embeds)
        ),
        timeout=20,
    )
    return embed_text(message)


def voice_asked(stack: SandboxStack) -> int:
    """How many questions reached the local Soundverse's voice assistant."""
    return stack.soundverse.counters.posts.get(VOICE_PATH, 0)


def lounge_seconds(stack: SandboxStack) -> float:
    return stack.discord.voice.heard_in(stack.discord.channel("Lounge").id).seconds


async def test_the_answer_is_heard_in_lounge_before_it_has_all_arrived(
    stack: SandboxStack,
) -> None:
    """bob, in Lounge, asks about his voice message: the answer's first packets are heard
    while the local Soundverse still holds back all but its first chunk."""
    await stack.discord.move_to_voice("bob", "Lounge")
    held = stack.soundverse.hold("POST", VOICE_PATH, HoldPoint.STREAMING)
    question = await voice_message_of(stack)
    await stack.discord.context_menu("Ask Soundverse", question, user="bob")
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.audio_packets or None, timeout=20)
    assert not held.released.is_set() and voice_answer(stack) is None
    held.release()
    await wait_for_voice_answer(stack)


async def test_the_answer_is_a_voice_message_replying_to_the_question(
    stack: SandboxStack,
) -> None:
    """The reply to the voice message is a voice message: the flag, no content or embeds, one
    Ogg Opus file (mono, 48 kHz) whose duration_secs is its length and whose waveform holds
    one byte per 100 ms."""
    question = await voice_message_of(stack, "alice", seconds=8.0)
    await stack.discord.context_menu("Ask Soundverse", question, user="alice")
    answer = await wait_for_voice_answer(stack)
    (file,) = answer.attachments
    assert answer.message_reference is not None
    assert answer.message_reference["message_id"] == question.id
    assert (answer.content, answer.embeds, file.content_type) == ("", [], "audio/ogg")
    with av.open(io.BytesIO(file.data), "r") as container:
        stream = container.streams.audio[0]
        assert (container.format.name, stream.codec_context.name) == ("ogg", "opus")
        assert (stream.rate, stream.channels) == (RATE, 1)
        samples = sum(frame.samples for frame in container.decode(stream))
    assert file.duration_secs is not None and file.waveform is not None
    assert abs(samples / RATE - file.duration_secs) < 0.01
    assert len(base64.b64decode(file.waveform)) == math.ceil(round(file.duration_secs * 10, 6))


async def test_the_private_reply_says_where_the_answer_went(stack: SandboxStack) -> None:
    """bob, in Lounge, is told privately that he was answered aloud there and below."""
    await stack.discord.move_to_voice("bob", "Lounge")
    question = await voice_message_of(stack)
    asked = await stack.discord.context_menu("Ask Soundverse", question, user="bob")
    text = await private_text(stack, asked.id)
    lounge = stack.discord.channel("Lounge").id
    assert text == f"🔊 Answered aloud in <#{lounge}>, and below as a voice message."


async def test_music_pauses_for_the_answer_and_goes_on_after(stack: SandboxStack) -> None:
    """A 5 s clip plays in Lounge; half a second in, bob asks: the clip stops for the answer,
    then plays the rest: Lounge hears the clip's 5 s and the answer's length, nothing more."""
    await start_playing(stack, CLIP)
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.seconds >= ASK_AT or None, timeout=10)
    question = await voice_message_of(stack)
    await stack.discord.context_menu("Ask Soundverse", question, user="bob")
    answer = await wait_for_voice_answer(stack)
    spoken = answer.attachments[0].duration_secs
    assert spoken is not None
    session = stack.bot.voice.get(int(stack.discord.guild.id))
    assert session is not None and session.interjection is not None
    await session.interjection.wait()
    await stack.discord.wait_until(lambda: session.queue.now is None or None, timeout=15)
    assert abs(heard.seconds - (CLIP + spoken)) <= 0.1


async def test_the_stored_position_is_the_music_s_during_the_answer(stack: SandboxStack) -> None:
    """While the answer plays over a clip, the stored session keeps the clip as what plays and
    the second it was held at."""
    await start_playing(stack, CLIP)
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.seconds >= ASK_AT or None, timeout=10)
    session = stack.bot.voice.get(int(stack.discord.guild.id))
    assert session is not None
    question = await voice_message_of(stack)
    await stack.discord.context_menu("Ask Soundverse", question, user="bob")
    await stack.discord.wait_until(lambda: session.interjection, timeout=20)
    held_at = session.position
    await session.save()
    (stored,) = await stack.bot.services.voice_sessions.all()
    assert stored.queue[0]["title"] == "clip.wav"
    assert ASK_AT <= stored.position_seconds == round(held_at, 3) < CLIP


async def test_ask_voice_outside_voice_gets_only_the_voice_message(stack: SandboxStack) -> None:
    """alice, in no voice channel, asks with /ask-voice: the answer is the command's follow-up
    voice message; the bot joins no channel and nothing is played."""
    asked = await stack.discord.slash("ask-voice", user="alice", audio=recording(stack))
    answer = await wait_for_voice_answer(stack)
    assert answer.interaction_id == asked.id and not answer.ephemeral
    assert "Answered below as a voice message." in await private_text(stack, asked.id)
    assert stack.discord.in_voice("Lounge") == []
    assert lounge_seconds(stack) == 0.0


async def test_the_bot_busy_in_another_channel_answers_only_by_voice_message(
    stack: SandboxStack,
) -> None:
    """While a clip plays for bob in Lounge, carol asks from Studio: she is told why she was
    not answered aloud, gets the voice message, and Studio hears nothing."""
    studio = await stack.discord.add_channel("Studio", voice=True)
    await start_playing(stack, CLIP)
    await stack.discord.move_to_voice("carol", "Studio")
    asked = await stack.discord.slash("ask-voice", user="carol", audio=recording(stack))
    await wait_for_voice_answer(stack)
    text = await private_text(stack, asked.id)
    lounge = stack.discord.channel("Lounge").id
    assert f"I'm in <#{lounge}>, so I did not answer aloud in <#{studio.id}>." in text
    assert stack.discord.voice.heard_in(studio.id).packets == []


async def test_a_message_without_audio_is_refused_before_anything_is_asked(
    stack: SandboxStack,
) -> None:
    """Ask Soundverse on a message with only a picture is refused privately, naming it."""
    picture = stack.discord.upload("cat.png", b"\x89PNG\r\n\x1a\n", "image/png")
    message = await stack.discord.post_message("general", "bob", attachments=[picture])
    asked = await stack.discord.context_menu("Ask Soundverse", message, user="bob")
    text = await private_text(stack, asked.id)
    assert "That message holds no audio (`cat.png` is not audio)" in text
    assert voice_asked(stack) == 0 and await ledger_events(stack) == []


async def test_an_upload_that_is_not_audio_is_refused_before_anything_is_asked(
    stack: SandboxStack,
) -> None:
    """/ask-voice with a text file is refused privately, naming its type."""
    notes = stack.discord.upload("notes.txt", b"what tempo suits lofi?", "text/plain")
    asked = await stack.discord.slash("ask-voice", user="bob", audio=notes)
    assert "`notes.txt` is not audio (it is text/plain)" in await private_text(stack, asked.id)
    assert voice_asked(stack) == 0 and await ledger_events(stack) == []


async def test_a_recording_that_does_not_decode_is_refused_before_anything_is_asked(
    stack: SandboxStack,
) -> None:
    """A file named and typed as Ogg that holds no audio is refused as unreadable."""
    broken = stack.discord.upload("question.ogg", b"OggS" + bytes(2000), "audio/ogg")
    asked = await stack.discord.slash("ask-voice", user="bob", audio=broken)
    assert "`question.ogg` could not be read as audio" in await private_text(stack, asked.id)
    assert voice_asked(stack) == 0 and await ledger_events(stack) == []


async def test_a_recording_too_long_is_refused_before_anything_is_asked(
    stack: SandboxStack,
) -> None:
    """A 61 s question is refused: a spoken question lasts at most 1:00."""
    long_one = recording(stack, seconds=61.0, name="ramble.ogg")
    asked = await stack.discord.slash("ask-voice", user="bob", audio=long_one)
    text = await private_text(stack, asked.id)
    assert "`ramble.ogg` is longer than 1:00: a spoken question can last at most 1:00." in text
    assert voice_asked(stack) == 0 and await ledger_events(stack) == []


async def test_a_silent_recording_is_refused_before_anything_is_asked(
    stack: SandboxStack,
) -> None:
    """A recording of 3 s of silence is refused: there is nothing to answer."""
    hush = stack.discord.upload("hush.wav", tone_wav(3.0, 0.0), "audio/wav")
    asked = await stack.discord.slash("ask-voice", user="bob", audio=hush)
    text = await private_text(stack, asked.id)
    assert "`hush.wav` is silent (nothing but digital silence)" in text
    assert voice_asked(stack) == 0 and await ledger_events(stack) == []


async def test_a_quiet_hum_is_refused_as_silent(stack: SandboxStack) -> None:
    """A hum 60 dB below full scale is no question either; the refusal says how loud it is."""
    hum = stack.discord.upload("hum.wav", tone_wav(3.0, 0.001), "audio/wav")
    asked = await stack.discord.slash("ask-voice", user="bob", audio=hum)
    text = await private_text(stack, asked.id)
    assert "`hum.wav` is silent (nothing louder than" in text
    assert voice_asked(stack) == 0


def no_units(settings: Settings) -> None:
    settings.quota.member_cap = 0


async def test_no_units_left_is_refused_and_nothing_is_asked(make_stack: StackFactory) -> None:
    """With a member cap of 0, the question is refused with the quota's words."""
    stack = await make_stack(tweak=no_units)
    asked = await stack.discord.slash("ask-voice", user="bob", audio=recording(stack))
    assert "Not enough quota: this needs 1 unit(s)" in await private_text(stack, asked.id)
    assert voice_asked(stack) == 0


def slow_cooldown(settings: Settings) -> None:
    settings.quota.call_cooldown = 600.0


async def test_asking_again_at_once_is_refused_by_the_cooldown(make_stack: StackFactory) -> None:
    """A second question right after the first is refused until the cooldown is over, and
    costs nothing."""
    stack = await make_stack(tweak=slow_cooldown)
    await stack.discord.slash("ask-voice", user="bob", audio=recording(stack))
    await wait_for_voice_answer(stack)
    again = await stack.discord.slash("ask-voice", user="bob", audio=recording(stack))
    assert "Slow down: try again in" in await private_text(stack, again.id)
    assert voice_asked(stack) == 1 and await member_usage(stack, "bob") == 1


async def test_an_answer_soundverse_never_sent_is_refunded(stack: SandboxStack) -> None:
    """When the voice assistant fails with a 500, the member is told and the unit comes
    back."""
    stack.soundverse.inject("status:500", path=VOICE_PATH)
    asked = await stack.discord.slash("ask-voice", user="bob", audio=recording(stack))
    assert "Soundverse could not answer this question" in await private_text(stack, asked.id)
    assert await ledger_events(stack, "bob") == ["reserve", "refund"]
    assert await member_usage(stack, "bob") == 0


async def test_an_answer_is_paid_once_it_arrives(stack: SandboxStack) -> None:
    """An answered question spends its unit (reserved, then committed)."""
    await stack.discord.slash("ask-voice", user="bob", audio=recording(stack))
    await wait_for_voice_answer(stack)
    assert await ledger_events(stack, "bob") == ["reserve", "commit"]
    assert await member_usage(stack, "bob") == 1


async def test_a_channel_without_voice_messages_gets_the_answer_as_follow_up(
    stack: SandboxStack,
) -> None:
    """Where the bot may not send voice messages (50173), the answer to Ask Soundverse comes
    as the menu's follow-up instead of a reply."""
    await stack.discord.set_permissions("general", "bot", deny=SEND_VOICE_MESSAGES)
    question = await voice_message_of(stack)
    asked = await stack.discord.context_menu("Ask Soundverse", question, user="bob")
    answer = await wait_for_voice_answer(stack)
    assert answer.interaction_id == asked.id and answer.message_reference is None


async def test_the_queue_does_not_move_on_for_an_answer(stack: SandboxStack) -> None:
    """With two.wav waiting behind clip.wav, the answer over clip.wav ends with clip.wav going
    on, not two.wav starting; Lounge hears both clips whole and the answer."""
    await start_playing(stack, CLIP)
    queued = await stack.discord.slash("play", user="bob", audio=clip(stack, 1.0, "two.wav"))
    await reply_text(stack, queued.id)
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.seconds >= ASK_AT or None, timeout=10)
    session = stack.bot.voice.get(int(stack.discord.guild.id))
    assert session is not None
    question = await voice_message_of(stack)
    await stack.discord.context_menu("Ask Soundverse", question, user="bob")
    interjection = await stack.discord.wait_until(lambda: session.interjection, timeout=20)
    await interjection.wait()
    now = session.queue.now
    assert now is not None and now.title == "clip.wav"
    spoken = (await wait_for_voice_answer(stack)).attachments[0].duration_secs
    assert spoken is not None
    await stack.discord.wait_until(lambda: session.queue.now is None or None, timeout=15)
    assert abs(heard.seconds - (CLIP + 1.0 + spoken)) <= 0.1


async def test_ending_the_interjection_cuts_the_answer_and_the_music_goes_on(
    stack: SandboxStack,
) -> None:
    """`end_interjection` (barge-in) stops an answer still arriving at once; the clip it held
    then plays its rest: Lounge hears the whole clip and less than the whole answer."""
    held = stack.soundverse.hold("POST", VOICE_PATH, HoldPoint.STREAMING)
    await start_playing(stack, CLIP)
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.seconds >= ASK_AT or None, timeout=10)
    session = stack.bot.voice.get(int(stack.discord.guild.id))
    assert session is not None
    question = await voice_message_of(stack, seconds=12.0)
    await stack.discord.context_menu("Ask Soundverse", question, user="bob")
    interjection = await stack.discord.wait_until(lambda: session.interjection, timeout=20)
    assert session.end_interjection()
    await interjection.wait()
    held.release()
    await stack.discord.wait_until(lambda: session.queue.now is None or None, timeout=15)
    spoken = (await wait_for_voice_answer(stack)).attachments[0].duration_secs
    assert interjection.cut_short and spoken is not None
    assert CLIP <= heard.seconds < CLIP + spoken


async def test_a_skip_during_the_answer_skips_the_music_after_it(stack: SandboxStack) -> None:
    """/skip while the answer plays over clip.wav lets the answer finish, then two.wav starts
    instead of the rest of clip.wav."""
    held = stack.soundverse.hold("POST", VOICE_PATH, HoldPoint.STREAMING)
    await start_playing(stack, CLIP)
    queued = await stack.discord.slash("play", user="bob", audio=clip(stack, 1.0, "two.wav"))
    await reply_text(stack, queued.id)
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.seconds >= ASK_AT or None, timeout=10)
    session = stack.bot.voice.get(int(stack.discord.guild.id))
    assert session is not None
    question = await voice_message_of(stack)
    await stack.discord.context_menu("Ask Soundverse", question, user="bob")
    interjection = await stack.discord.wait_until(lambda: session.interjection, timeout=20)
    next_up = asyncio.ensure_future(stack.bot.wait_for("voice_playing", timeout=20))
    skipped = await stack.discord.slash("skip", user="bob")
    assert "⏭ Skipped **clip.wav**." in await reply_text(stack, skipped.id)
    assert not interjection.finished.is_set()
    held.release()
    _, item = await next_up
    assert item.title == "two.wav" and interjection.finished.is_set()
    assert not interjection.cut_short
