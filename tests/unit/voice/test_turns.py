"""Cutting turns: WebRTC's VAD on synthetic speech and silence, frames stamped on a fake clock."""

from __future__ import annotations

import io
import wave

import pytest

from bot.voice.turns import FRAME_SECONDS, SpeechStarted, Turn, TurnCutter, TurnEvent, TurnSettings
from tests.unit.voice.speech import frames_of, silent_pcm, voiced_pcm

BOB, CAROL = 101, 202
# The turn's length is the sound's, give or take the detector's call on a frame or two.
TOLERANCE = 0.06
TAIL = TurnSettings().tail
LEAD = TurnSettings().lead


class Talk:
    """Frames fed to a cutter as packets arriving 20 ms apart; `now` is the fake clock."""

    def __init__(self, settings: TurnSettings | None = None) -> None:
        self.cutter = TurnCutter(settings)
        self.now = 0.0
        self.events: list[TurnEvent] = []

    def say(self, pcm: bytes, *, user: int = BOB) -> None:
        self.together({user: pcm})

    def together(self, voices: dict[int, bytes]) -> None:
        """Each member's frames arrive side by side, one packet each every 20 ms."""
        streams = {user: frames_of(pcm) for user, pcm in voices.items()}
        for index in range(max(len(frames) for frames in streams.values())):
            for user, frames in streams.items():
                if index < len(frames):
                    self.events += self.cutter.feed(user, frames[index], self.now)
            self.now += FRAME_SECONDS

    def wait(self, seconds: float) -> None:
        """No packets for `seconds`; then the clock is checked."""
        self.now += seconds
        self.events += self.cutter.expire(self.now)

    @property
    def turns(self) -> list[Turn]:
        return [event for event in self.events if isinstance(event, Turn)]


def test_speech_then_the_silence_setting_ends_a_turn() -> None:
    """1 s of speech, then silence: no turn after 0.6 s of it, one turn by 0.7 s, holding
    the speech and 0.2 s of the silence."""
    talk = Talk()
    talk.say(voiced_pcm(1.0))
    talk.say(silent_pcm(0.6))
    before = list(talk.turns)
    talk.say(silent_pcm(0.1))
    (turn,) = talk.turns
    assert before == [] and turn.user_id == BOB
    assert abs(turn.seconds - (1.0 + TAIL)) < TOLERANCE


def test_a_pause_shorter_than_the_silence_setting_keeps_one_turn() -> None:
    """Speech, 0.5 s of silence, speech, then 0.7 s of silence: one turn of all of it."""
    talk = Talk()
    talk.say(voiced_pcm(0.6) + silent_pcm(0.5) + voiced_pcm(0.6) + silent_pcm(0.7))
    (turn,) = talk.turns
    assert abs(turn.seconds - (1.7 + TAIL)) < TOLERANCE


def test_a_short_blip_is_no_turn() -> None:
    """0.15 s of sound (a cough) then silence: no turn, and no speech started."""
    talk = Talk()
    talk.say(voiced_pcm(0.15) + silent_pcm(1.0))
    talk.wait(1.0)
    assert talk.events == []


def test_speech_started_comes_once_when_a_turn_has_enough_speech() -> None:
    """SpeechStarted comes once, about 0.3 s (the minimum speech) in, before the turn."""
    talk = Talk()
    talk.say(voiced_pcm(1.0) + silent_pcm(0.7))
    started, turn = talk.events
    assert isinstance(started, SpeechStarted) and isinstance(turn, Turn)
    assert started.user_id == BOB and 0.2 <= started.at <= 0.4


def test_packets_that_stop_end_the_turn_on_the_clock() -> None:
    """Speech, then no packets: the turn ends 0.7 s after the last one, not before."""
    talk = Talk()
    talk.say(voiced_pcm(1.0))
    last_packet = talk.now - FRAME_SECONDS
    deadline = talk.cutter.deadline()
    talk.wait(0.6)
    early = list(talk.turns)
    talk.wait(0.1)
    (turn,) = talk.turns
    assert early == [] and deadline is not None
    assert abs(deadline - (last_packet + 0.7)) <= FRAME_SECONDS
    assert abs(turn.seconds - 1.0) < TOLERANCE and talk.cutter.deadline() is None


def test_packets_that_come_back_after_a_long_gap_start_a_new_turn() -> None:
    """Speech, 0.8 s with no packets (and no clock check), speech again: two turns."""
    talk = Talk()
    talk.say(voiced_pcm(1.0))
    talk.now += 0.8
    talk.say(voiced_pcm(1.0) + silent_pcm(0.7))
    first, second = talk.turns
    assert abs(first.seconds - 1.0) < TOLERANCE
    assert abs(second.seconds - (1.0 + TAIL)) < TOLERANCE
    assert second.started_at - first.ended_at > 0.7


def test_a_long_turn_is_cut_at_the_maximum() -> None:
    """With a 2 s maximum, 3 s of speech is a turn of 2 s, then one of the rest."""
    talk = Talk(TurnSettings(max_turn=2.0))
    talk.say(voiced_pcm(3.0) + silent_pcm(0.7))
    first, second = talk.turns
    assert abs(first.seconds - 2.0) < 0.001
    assert abs(second.seconds - (1.0 + TAIL)) < TOLERANCE


def test_two_members_turns_are_kept_apart() -> None:
    """bob and carol talk over each other: bob's silence does not end carol's turn, and
    each turn is its member's, as long as they spoke."""
    talk = Talk()
    talk.together(
        {
            BOB: voiced_pcm(1.0) + silent_pcm(1.3),
            CAROL: voiced_pcm(1.6, pitch=220.0) + silent_pcm(0.7),
        }
    )
    by_member = {turn.user_id: turn for turn in talk.turns}
    assert [turn.user_id for turn in talk.turns] == [BOB, CAROL]
    assert abs(by_member[BOB].seconds - (1.0 + TAIL)) < TOLERANCE
    assert abs(by_member[CAROL].seconds - (1.6 + TAIL)) < TOLERANCE


def test_the_sound_just_before_the_speech_is_kept() -> None:
    """0.5 s of silence, then speech: the turn starts 0.2 s (the lead) before the speech and
    its start time is that of the first frame with speech."""
    talk = Talk()
    talk.say(silent_pcm(0.5) + voiced_pcm(1.0) + silent_pcm(0.7))
    (turn,) = talk.turns
    assert abs(turn.seconds - (LEAD + 1.0 + TAIL)) < TOLERANCE
    assert abs(turn.started_at - 0.5) < TOLERANCE


def test_a_forgotten_member_has_no_turn() -> None:
    """A member forgotten mid-turn (left, or opted out) gets no turn for what they said."""
    talk = Talk()
    talk.say(voiced_pcm(1.0))
    talk.cutter.forget(BOB)
    talk.say(silent_pcm(0.7))
    talk.wait(1.0)
    assert talk.turns == []


def test_a_turn_is_a_wav_of_its_samples() -> None:
    """Turn.wav() is a 48 kHz mono 16-bit WAV holding exactly the turn's samples."""
    turn = Turn(BOB, voiced_pcm(0.5), started_at=1.0, ended_at=1.5)
    with wave.open(io.BytesIO(turn.wav())) as read:
        shape = (read.getnchannels(), read.getsampwidth(), read.getframerate())
        samples = read.readframes(read.getnframes())
    assert shape == (1, 2, 48000) and samples == turn.pcm and turn.seconds == 0.5


def test_a_frame_of_the_wrong_size_is_refused() -> None:
    """Frames are 20 ms of mono s16 (1920 bytes); anything else is a caller's mistake."""
    with pytest.raises(ValueError, match="1920 bytes"):
        TurnCutter().feed(BOB, bytes(3840), 0.0)


@pytest.mark.parametrize(
    "settings",
    [{"aggressiveness": 4}, {"silence": 0.0}, {"min_speech": 1.0, "max_turn": 0.5}],
)
def test_impossible_settings_are_refused(settings: dict[str, float]) -> None:
    """An aggressiveness outside 0-3, no silence, or a maximum under the minimum is refused."""
    with pytest.raises(ValueError):
        TurnSettings(**settings)  # type: ignore[arg-type]
