"""The receive path with the unmodified discord.py voice client on the local voice server:
members speak WAV files into Lounge (SPEAKING, then encrypted RTP), and `VoiceReceiver`
turns what opted-in members say into turns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import discord
import pytest

from bot.voice.receive import VoiceReceiver
from bot.voice.turns import SpeechStarted, Turn, TurnEvent
from sandbox.discord.voice import opus_frames
from sandbox.stack import SandboxStack
from tests.unit.voice.speech import speech_wav

SPOKEN_SECONDS = 1.5
# The turn holds the spoken sound; the encoder's last frame may add up to 20 ms of padding.
LENGTH_TOLERANCE = 0.08
EVENT_WAIT = 10.0


class Events:
    """What a receiver hands out, read in the background so tests can wait on it."""

    def __init__(self, receiver: VoiceReceiver) -> None:
        self.seen: list[TurnEvent] = []
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._read(receiver))

    async def _read(self, receiver: VoiceReceiver) -> None:
        async for event in receiver:
            async with self._changed:
                self.seen.append(event)
                self._changed.notify_all()

    @property
    def turns(self) -> list[Turn]:
        return [event for event in self.seen if isinstance(event, Turn)]

    async def until(self, probe: Callable[[], bool]) -> None:
        async with asyncio.timeout(EVENT_WAIT), self._changed:
            await self._changed.wait_for(probe)

    async def finish(self) -> None:
        await self._task


Listen = Callable[..., tuple[VoiceReceiver, Events]]
"""Starts a receiver on the bot's Lounge connection that hears the members named."""


def user_id(stack: SandboxStack, name: str) -> int:
    return int(stack.discord.user(name).id)


@pytest.fixture
async def lounge(stack: SandboxStack) -> AsyncIterator[discord.VoiceClient]:
    """The bot's voice client in Lounge (not deafened), with alice, bob and carol there."""
    channel = stack.bot.get_channel(int(stack.discord.channel("Lounge").id))
    assert isinstance(channel, discord.VoiceChannel)
    for name in ("alice", "bob", "carol"):
        await stack.discord.move_to_voice(name, "Lounge")
    voice: discord.VoiceClient = await channel.connect(timeout=10)
    try:
        yield voice
    finally:
        await voice.disconnect(force=True)


@pytest.fixture
async def listening(stack: SandboxStack, lounge: discord.VoiceClient) -> AsyncIterator[Listen]:
    """Starts a receiver on the bot's connection that hears the members named."""
    started: list[tuple[VoiceReceiver, Events]] = []

    def listen(*names: str) -> tuple[VoiceReceiver, Events]:
        allowed = {user_id(stack, name) for name in names}
        receiver = VoiceReceiver(lounge, allowed=allowed.__contains__)
        receiver.start()
        started.append((receiver, Events(receiver)))
        return started[-1]

    yield listen
    for receiver, events in started:
        receiver.stop()
        await events.finish()


async def speak(
    stack: SandboxStack, name: str, seconds: float, *, pitch: float = 140.0, realtime: bool = False
) -> int:
    """`name` speaks `seconds` of speech-like sound into Lounge; the frames sent."""
    frames = opus_frames(speech_wav(seconds, pitch=pitch))
    assert await stack.discord.speak(name, opus=frames, realtime=realtime) == 1
    return len(frames)


async def test_a_spoken_wav_is_one_turn_as_long_as_it(
    stack: SandboxStack, listening: Listen
) -> None:
    """bob speaks 1.5 s: one turn from bob, of 1.5 s, announced by SpeechStarted first."""
    receiver, events = listening("bob")
    await speak(stack, "bob", SPOKEN_SECONDS)
    await events.until(lambda: bool(events.turns))
    receiver.stop()
    await events.finish()
    bob = user_id(stack, "bob")
    (turn,) = events.turns
    assert [type(event) for event in events.seen] == [SpeechStarted, Turn]
    assert turn.user_id == bob and events.seen[0].user_id == bob
    assert abs(turn.seconds - SPOKEN_SECONDS) < LENGTH_TOLERANCE


async def test_a_turn_spoken_in_real_time_spans_its_length_on_the_clock(
    stack: SandboxStack, listening: Listen
) -> None:
    """Packets 20 ms apart, as a member talks: the turn's start and end times are about
    1.5 s apart, and it ends about 0.7 s (the silence setting) after the last packet."""
    _, events = listening("bob")
    await speak(stack, "bob", SPOKEN_SECONDS, realtime=True)
    spoken_at = asyncio.get_running_loop().time()
    await events.until(lambda: bool(events.turns))
    waited = asyncio.get_running_loop().time() - spoken_at
    (turn,) = events.turns
    assert abs((turn.ended_at - turn.started_at) - SPOKEN_SECONDS) < 0.15
    assert 0.6 < waited < 1.2


async def test_a_member_who_did_not_opt_in_is_not_heard(
    stack: SandboxStack, listening: Listen
) -> None:
    """alice (not opted in) speaks, then bob: only bob's turn comes, and every packet of
    alice was dropped before decryption (hers arrive first, so all are handled by then)."""
    receiver, events = listening("bob")
    alice_frames = await speak(stack, "alice", 1.0)
    bob_frames = await speak(stack, "bob", 1.0)
    await events.until(lambda: bool(events.turns))
    bob = user_id(stack, "bob")
    assert {event.user_id for event in events.seen} == {bob}
    assert receiver.stats.not_allowed == alice_frames
    assert receiver.stats.frames == bob_frames and receiver.stats.undecryptable == 0


async def test_two_members_get_a_turn_each(stack: SandboxStack, listening: Listen) -> None:
    """bob and carol speak at once, at different lengths: a turn each, each its own length."""
    _, events = listening("bob", "carol")
    await asyncio.gather(
        speak(stack, "bob", 1.0, realtime=True),
        speak(stack, "carol", 1.6, pitch=210.0, realtime=True),
    )
    await events.until(lambda: len(events.turns) == 2)
    lengths = {turn.user_id: turn.seconds for turn in events.turns}
    assert set(lengths) == {user_id(stack, "bob"), user_id(stack, "carol")}
    assert abs(lengths[user_id(stack, "bob")] - 1.0) < LENGTH_TOLERANCE
    assert abs(lengths[user_id(stack, "carol")] - 1.6) < LENGTH_TOLERANCE


async def test_the_member_behind_each_ssrc_comes_from_speaking(
    stack: SandboxStack, listening: Listen
) -> None:
    """The receiver learns ssrc -> member from SPEAKING on the voice websocket."""
    receiver, events = listening("bob")
    await speak(stack, "bob", 0.5)
    await events.until(lambda: bool(events.seen))
    ((ssrc, member),) = receiver.speakers.items()
    assert member == user_id(stack, "bob") and ssrc != receiver.voice.ssrc


async def test_stopping_gives_the_connection_its_hook_back(
    stack: SandboxStack, lounge: discord.VoiceClient
) -> None:
    """After stop, discord.py's websocket hook and socket listeners are as before start."""
    connection = lounge._connection
    hook, listeners = connection.hook, list(connection._socket_reader._callbacks)
    receiver = VoiceReceiver(lounge, allowed=lambda _: True)
    receiver.start()
    attached = connection.hook is not hook and len(connection._socket_reader._callbacks) == 1
    receiver.stop()
    assert attached
    assert connection.hook is hook and connection._socket_reader._callbacks == listeners
    assert "_hook" not in connection.ws.__dict__
