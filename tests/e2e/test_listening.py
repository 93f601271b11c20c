"""Live listening (`/listen`) through the local Discord, its voice server and the local
Soundverse, with the unmodified discord.py voice client: members speak speech-like WAVs into
Lounge as RTP, in real time; the bot hears only members who opted in, answers each turn aloud
through the spoken-question path and as a voice message, deletes the turn's upload once used,
stops an answer someone speaks over, and refuses precisely when it may not listen."""

from __future__ import annotations

import asyncio
from typing import cast

from bot.audio.chime import CHIME_SECONDS
from bot.config import Settings
from bot.voice.session import VoiceSession
from cogs.assistant.listening import TURN_FILENAME, ListenCog, LiveSession
from sandbox.discord.state import Message
from sandbox.discord.voice import opus_frames
from sandbox.holds import HoldPoint
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, embed_text, ledger_events
from tests.e2e.test_voice_controls import start_playing
from tests.unit.voice.speech import speech_wav

VOICE_PATH = "/v1/assistant/voice"
SPOKEN = 1.5
"""Seconds each turn lasts: its answer lasts 3 s (the local Soundverse's shortest)."""
WAIT = 20.0
HEARD_TOLERANCE = 0.1


def listening_on(settings: Settings) -> None:
    settings.voice.live_listening = True


def listening_on_without_units(settings: Settings) -> None:
    """Listening on, and a member cap of 0 units."""
    listening_on(settings)
    settings.quota.member_cap = 0


def listening_on_without_cooldown(settings: Settings) -> None:
    """Listening on, and no cooldown between a member's questions (for a second turn at once)."""
    listening_on(settings)
    settings.quota.call_cooldown = 0.0


async def listening_stack(make_stack: StackFactory) -> SandboxStack:
    return await make_stack(tweak=listening_on)


# --- what members do --------------------------------------------------------------------------


async def private_text(stack: SandboxStack, interaction_id: str) -> str:
    """What the member was told privately (a reply or an error)."""
    message = await stack.discord.wait_for_message(
        lambda m: (
            m.interaction_id == interaction_id
            and m.ephemeral
            and not m.loading
            and bool(m.content or m.embeds)
        ),
        timeout=WAIT,
    )
    return embed_text(message)


async def public_text(stack: SandboxStack, interaction_id: str) -> str:
    """What the command answered in the channel, once it has."""
    message = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction_id and not m.loading and bool(m.content),
        timeout=WAIT,
    )
    return message.content


async def enable(stack: SandboxStack) -> None:
    """alice (a Moderator: Manage Server) enables live listening in the server."""
    enabled = await stack.discord.slash("listen enable", user="alice")
    await public_text(stack, enabled.id)


async def opt_in(stack: SandboxStack, user: str, *, keep: bool = False) -> None:
    chosen = await stack.discord.slash(
        "listen me", user=user, heard="on", keep="on" if keep else "off"
    )
    await private_text(stack, chosen.id)


async def in_lounge(stack: SandboxStack, *users: str) -> None:
    for user in users:
        await stack.discord.move_to_voice(user, "Lounge")


async def out_of_voice(stack: SandboxStack, *users: str) -> None:
    for user in users:
        await stack.discord.move_to_voice(user, None)


def lounge_session(stack: SandboxStack) -> VoiceSession:
    session = stack.bot.voice.get(int(stack.discord.guild.id))
    assert session is not None
    return session


def live_session(stack: SandboxStack) -> LiveSession:
    # Each stack loads the extension afresh, so its class is not the one imported here.
    cog = cast(ListenCog, stack.bot.get_cog("Live listening"))
    return cog.live[int(stack.discord.guild.id)]


async def start_listening(stack: SandboxStack, user: str = "bob") -> str:
    """`user` starts listening in Lounge; returns the announcement, once the chime has played."""
    started = await stack.discord.slash("listen start", user=user)
    text = await public_text(stack, started.id)
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.seconds >= CHIME_SECONDS or None, timeout=WAIT)
    chime = lounge_session(stack).interjection
    if chime is not None:
        await asyncio.wait_for(chime.wait(), WAIT)
    return text


async def listening_in_lounge(stack: SandboxStack, *, keep: bool = False) -> None:
    """alice (not opted in) and bob (opted in) in Lounge; bob starts listening."""
    await enable(stack)
    await opt_in(stack, "bob", keep=keep)
    await in_lounge(stack, "alice", "bob")
    await start_listening(stack)


async def speak(
    stack: SandboxStack, user: str, *, pitch: float = 140.0, realtime: bool = True
) -> int:
    """`user` says `SPOKEN` seconds of speech-like sound in their voice channel; the frames."""
    frames = opus_frames(speech_wav(SPOKEN, pitch=pitch))
    await stack.discord.speak(user, opus=frames, realtime=realtime)
    return len(frames)


# --- what the bot did -------------------------------------------------------------------------


def user_id(stack: SandboxStack, name: str) -> str:
    return stack.discord.user(name).id


def voice_answers(stack: SandboxStack) -> list[Message]:
    """The bot's voice messages still there."""
    bot = stack.discord.bot_user.id
    return [
        m
        for m in stack.discord.messages
        if m.author.id == bot and m.is_voice_message and not m.deleted
    ]


async def wait_for_answers(stack: SandboxStack, count: int = 1) -> list[Message]:
    return await stack.discord.wait_until(
        lambda: answers if len(answers := voice_answers(stack)) >= count else None, timeout=WAIT
    )


def uploads(stack: SandboxStack) -> list[Message]:
    """The turns the bot uploaded, deleted ones included."""
    bot = stack.discord.bot_user.id
    return [
        m
        for m in stack.discord.messages
        if m.author.id == bot and any(a.filename == TURN_FILENAME for a in m.attachments)
    ]


def deleted_uploads(stack: SandboxStack) -> list[Message] | None:
    """The uploaded turns, once there are some and all were deleted."""
    found = uploads(stack)
    return found if found and all(m.deleted for m in found) else None


def voice_asked(stack: SandboxStack) -> int:
    """How many questions reached the local Soundverse's voice assistant."""
    return stack.soundverse.counters.posts.get(VOICE_PATH, 0)


def lounge_heard(stack: SandboxStack) -> float:
    return stack.discord.voice.heard_in(stack.discord.channel("Lounge").id).seconds


# --- listening --------------------------------------------------------------------------------


async def test_only_the_member_who_opted_in_is_answered(make_stack: StackFactory) -> None:
    """alice (not opted in) and bob (opted in) both speak in Lounge: one question reaches
    Soundverse, billed to bob, and one answer is posted."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    await asyncio.gather(speak(stack, "alice", pitch=210.0), speak(stack, "bob"))
    await wait_for_answers(stack)
    assert voice_asked(stack) == 1
    assert await ledger_events(stack, "alice") == []
    assert await ledger_events(stack, "bob") == ["reserve", "commit"]


async def test_the_answer_is_heard_in_lounge(make_stack: StackFactory) -> None:
    """bob speaks: Lounge hears the chime, then the whole answer (as long as the voice
    message posted with it)."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    await speak(stack, "bob")
    (answer,) = await wait_for_answers(stack)
    spoken = answer.attachments[0].duration_secs
    assert spoken is not None
    expected = CHIME_SECONDS + spoken
    await stack.discord.wait_until(
        lambda: lounge_heard(stack) >= expected - HEARD_TOLERANCE or None, timeout=WAIT
    )


async def test_the_members_packets_who_did_not_opt_in_are_dropped_unread(
    make_stack: StackFactory,
) -> None:
    """alice speaks before bob: every packet of hers is dropped before decryption."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    alice_frames = await speak(stack, "alice", pitch=210.0, realtime=False)
    await speak(stack, "bob", realtime=False)
    await wait_for_answers(stack)
    assert live_session(stack).receiver.stats.not_allowed == alice_frames


async def test_listen_start_announces_whom_it_hears(make_stack: StackFactory) -> None:
    """The announcement names bob (opted in), not alice, and says how to opt in or out and
    stop."""
    stack = await listening_stack(make_stack)
    await enable(stack)
    await opt_in(stack, "bob")
    await in_lounge(stack, "alice", "bob")
    text = await start_listening(stack)
    assert f"I hear only <@{user_id(stack, 'bob')}>, who opted in." in text
    assert f"<@{user_id(stack, 'alice')}>" not in text
    assert "`/listen me` opts you in or out · `/listen stop` ends listening." in text


async def test_listen_start_joins_undeafened(make_stack: StackFactory) -> None:
    """The bot joins Lounge with self_deaf off: a deafened connection is sent no voice."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    joined = stack.discord.voice_states[-1]
    assert joined.channel_id == stack.discord.channel("Lounge").id and not joined.self_deaf


async def test_listen_start_rejoins_undeafened_where_the_bot_plays(
    make_stack: StackFactory,
) -> None:
    """With a clip playing in Lounge (the bot deafened), /listen start connects again with
    self_deaf off, and the clip goes on."""
    stack = await listening_stack(make_stack)
    await start_playing(stack, 20.0)
    await enable(stack)
    await opt_in(stack, "bob")
    await start_listening(stack)
    session = lounge_session(stack)
    joins = [state.self_deaf for state in stack.discord.voice_states if state.channel_id]
    assert joins == [True, False]
    assert session.queue.now is not None and not session.deafened


async def test_the_chime_is_heard_when_listening_starts(make_stack: StackFactory) -> None:
    """Before anyone speaks, Lounge hears the chime and nothing else."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    assert abs(lounge_heard(stack) - CHIME_SECONDS) < HEARD_TOLERANCE


async def test_the_upload_is_deleted_after_use(make_stack: StackFactory) -> None:
    """bob's turn is uploaded as a WAV (Soundverse fetches it) and deleted once answered."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    await speak(stack, "bob")
    await wait_for_answers(stack)
    (upload,) = await stack.discord.wait_until(lambda: deleted_uploads(stack), timeout=WAIT)
    assert upload.attachments[0].data.startswith(b"RIFF")


async def test_a_member_who_keeps_recordings_keeps_the_upload(make_stack: StackFactory) -> None:
    """bob keeps his recordings: the upload stays, and the answer is a reply to it."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack, keep=True)
    await speak(stack, "bob")
    (answer,) = await wait_for_answers(stack)
    (upload,) = uploads(stack)
    assert not upload.deleted
    assert answer.message_reference is not None
    assert answer.message_reference["message_id"] == upload.id


async def test_a_kept_recording_is_deleted_by_its_button(make_stack: StackFactory) -> None:
    """bob presses Delete recording on his kept upload: it is deleted."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack, keep=True)
    await speak(stack, "bob")
    await wait_for_answers(stack)
    (upload,) = uploads(stack)
    pressed = await stack.discord.click(upload, "Delete recording", user="bob")
    assert "The recording is deleted." in await private_text(stack, pressed.id)
    assert upload.deleted


async def test_only_its_speaker_deletes_a_kept_recording(make_stack: StackFactory) -> None:
    """carol (no Manage Server) pressing Delete recording on bob's upload is refused."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack, keep=True)
    await speak(stack, "bob")
    await wait_for_answers(stack)
    (upload,) = uploads(stack)
    pressed = await stack.discord.click(upload, "Delete recording", user="carol")
    assert "Only the member who said this" in await private_text(stack, pressed.id)
    assert not upload.deleted


async def test_a_turn_without_units_left_is_refused_in_the_channel(
    make_stack: StackFactory,
) -> None:
    """With a member cap of 0, bob's turn is not asked: the channel is told why, naming him
    without a ping, and the upload is deleted."""
    stack = await make_stack(tweak=listening_on_without_units)
    await listening_in_lounge(stack)
    await speak(stack, "bob")
    refusal = await stack.discord.wait_for_message(
        lambda m: "your turn was not answered" in m.content, timeout=WAIT
    )
    assert refusal.content.startswith(f"🎙️ <@{user_id(stack, 'bob')}>, your turn was not")
    assert "Not enough quota: this needs 1 unit(s)" in refusal.content
    await stack.discord.wait_until(lambda: deleted_uploads(stack), timeout=WAIT)
    assert voice_asked(stack) == 0


async def test_speaking_over_an_answer_stops_it(make_stack: StackFactory) -> None:
    """While the answer to bob's first turn plays (Soundverse holds back its rest), bob starts
    another turn: the answer is cut short at once."""
    stack = await make_stack(tweak=listening_on_without_cooldown)
    held = stack.soundverse.hold("POST", VOICE_PATH, HoldPoint.STREAMING)
    await listening_in_lounge(stack)
    session = lounge_session(stack)
    await speak(stack, "bob")
    answer = await stack.discord.wait_until(lambda: session.interjection, timeout=WAIT)
    await speak(stack, "bob", pitch=180.0)
    await asyncio.wait_for(answer.wait(), WAIT)
    assert answer.cut_short and not held.released.is_set()
    held.release()


async def test_the_turn_that_spoke_over_an_answer_is_answered(make_stack: StackFactory) -> None:
    """bob's second turn, which cut the first answer short, is answered too: two questions,
    two voice messages."""
    stack = await make_stack(tweak=listening_on_without_cooldown)
    held = stack.soundverse.hold("POST", VOICE_PATH, HoldPoint.STREAMING)
    await listening_in_lounge(stack)
    session = lounge_session(stack)
    await speak(stack, "bob")
    answer = await stack.discord.wait_until(lambda: session.interjection, timeout=WAIT)
    await speak(stack, "bob", pitch=180.0)
    await asyncio.wait_for(answer.wait(), WAIT)
    held.release()
    await wait_for_answers(stack, 2)
    assert voice_asked(stack) == 2


async def test_listen_stop_ends_listening_and_the_bot_leaves(make_stack: StackFactory) -> None:
    """/listen stop with nothing playing: the bot says so and leaves Lounge."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    stopped = await stack.discord.slash("listen stop", user="alice")
    text = await public_text(stack, stopped.id)
    lounge = stack.discord.channel("Lounge").id
    assert f"🔇 Stopped listening in <#{lounge}>: no one is heard any more." in text
    assert stack.discord.bot_user not in stack.discord.in_voice("Lounge")


async def test_speech_after_listen_stop_is_not_answered(make_stack: StackFactory) -> None:
    """With a clip playing the bot stays in Lounge after /listen stop (deafened again); bob's
    turn then is not answered: once listening starts again, only his next turn is."""
    stack = await listening_stack(make_stack)
    await start_playing(stack, 30.0)
    await enable(stack)
    await opt_in(stack, "bob")
    await start_listening(stack)
    stopped = await stack.discord.slash("listen stop", user="bob")
    assert "I stay in" in await public_text(stack, stopped.id)
    await speak(stack, "bob")
    await start_listening(stack)
    await speak(stack, "bob", pitch=180.0)
    await wait_for_answers(stack)
    assert voice_asked(stack) == 1 and len(uploads(stack)) == 1


async def test_a_member_who_opts_out_is_no_longer_heard(make_stack: StackFactory) -> None:
    """bob opts out while the bot listens; he speaks, then carol (opted in): carol is answered,
    and every packet of bob's was dropped unread."""
    stack = await listening_stack(make_stack)
    await enable(stack)
    await opt_in(stack, "carol")
    await opt_in(stack, "bob")
    await in_lounge(stack, "bob", "carol")
    await start_listening(stack)
    opted_out = await stack.discord.slash("listen me", user="bob", heard="off")
    assert "You are no longer heard" in await private_text(stack, opted_out.id)
    bob_frames = await speak(stack, "bob", realtime=False)
    await speak(stack, "carol", pitch=210.0, realtime=False)
    await wait_for_answers(stack)
    assert live_session(stack).receiver.stats.not_allowed == bob_frames
    assert voice_asked(stack) == 1


async def test_a_member_who_opts_in_while_listening_is_heard(make_stack: StackFactory) -> None:
    """carol, in Lounge, opts in after listening started: the channel is told, and her turn is
    answered."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    await in_lounge(stack, "carol")
    await opt_in(stack, "carol")
    told = await stack.discord.wait_for_message(lambda m: "I now hear" in m.content, timeout=WAIT)
    assert f"<@{user_id(stack, 'carol')}>" in told.content
    await speak(stack, "carol", pitch=210.0)
    await wait_for_answers(stack)
    assert await ledger_events(stack, "carol") == ["reserve", "commit"]


async def test_listen_disable_ends_listening(make_stack: StackFactory) -> None:
    """alice disables live listening while the bot listens: it stops and leaves Lounge."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    disabled = await stack.discord.slash("listen disable", user="alice")
    lounge = stack.discord.channel("Lounge").id
    assert f"I stopped listening in <#{lounge}>." in await public_text(stack, disabled.id)
    assert stack.discord.bot_user not in stack.discord.in_voice("Lounge")


async def test_everyone_leaving_ends_listening(make_stack: StackFactory) -> None:
    """alice and bob leave Lounge: the bot says listening has ended, and leaves too."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    await out_of_voice(stack, "alice", "bob")
    ended = await stack.discord.wait_for_message(
        lambda m: "has ended: everyone left" in m.content, timeout=WAIT
    )
    assert ended.author.id == stack.discord.bot_user.id
    await stack.discord.wait_until(
        lambda: stack.discord.bot_user not in stack.discord.in_voice("Lounge") or None,
        timeout=WAIT,
    )


async def test_the_bot_leaving_ends_listening(make_stack: StackFactory) -> None:
    """/leave while listening: the bot says listening has ended."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    await stack.discord.slash("leave", user="bob")
    ended = await stack.discord.wait_for_message(
        lambda m: "Live listening in" in m.content and "has ended" in m.content, timeout=WAIT
    )
    assert "I left the channel." in ended.content


# --- refusals ---------------------------------------------------------------------------------


async def test_listen_start_is_refused_while_turned_off_on_the_bot(stack: SandboxStack) -> None:
    """With VOICE_LIVE_LISTENING off (the default), /listen start says so; the bot does not
    join."""
    await in_lounge(stack, "bob")
    started = await stack.discord.slash("listen start", user="bob")
    assert "Live listening is turned off on this bot" in await private_text(stack, started.id)
    assert stack.discord.in_voice("Lounge") == [stack.discord.user("bob")]


async def test_listen_start_is_refused_where_the_server_has_not_enabled_it(
    make_stack: StackFactory,
) -> None:
    """Not enabled in the server: the refusal says who can enable it, and how."""
    stack = await listening_stack(make_stack)
    await opt_in(stack, "bob")
    await in_lounge(stack, "bob")
    started = await stack.discord.slash("listen start", user="bob")
    text = await private_text(stack, started.id)
    assert (
        "Live listening is not enabled in this server: a member with the Manage Server "
        "permission can enable it with `/listen enable`."
    ) in text


async def test_listen_start_is_refused_outside_voice(make_stack: StackFactory) -> None:
    """bob, in no voice channel, is told to join one first."""
    stack = await listening_stack(make_stack)
    await enable(stack)
    await opt_in(stack, "bob")
    started = await stack.discord.slash("listen start", user="bob")
    assert "Join a voice channel first" in await private_text(stack, started.id)


async def test_listen_start_is_refused_when_no_one_there_opted_in(
    make_stack: StackFactory,
) -> None:
    """alice and bob are in Lounge, neither opted in: no one to hear."""
    stack = await listening_stack(make_stack)
    await enable(stack)
    await in_lounge(stack, "alice", "bob")
    started = await stack.discord.slash("listen start", user="bob")
    lounge = stack.discord.channel("Lounge").id
    assert f"No one in <#{lounge}> has opted in to being heard" in await private_text(
        stack, started.id
    )
    assert stack.discord.bot_user not in stack.discord.in_voice("Lounge")


async def test_listen_start_is_refused_while_already_listening(make_stack: StackFactory) -> None:
    """A second /listen start in the server is told where the bot already listens."""
    stack = await listening_stack(make_stack)
    await listening_in_lounge(stack)
    again = await stack.discord.slash("listen start", user="alice")
    lounge = stack.discord.channel("Lounge").id
    assert f"I'm already listening in <#{lounge}>" in await private_text(stack, again.id)


async def test_listen_enable_is_refused_without_manage_server(make_stack: StackFactory) -> None:
    """bob (no Manage Server) cannot enable live listening."""
    stack = await listening_stack(make_stack)
    enabled = await stack.discord.slash("listen enable", user="bob")
    assert "Only members with the Manage Server permission can enable" in await private_text(
        stack, enabled.id
    )
