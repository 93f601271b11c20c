"""Turns of speech: a member's decoded voice cut where they stop talking.

Each member's 20 ms frames (48 kHz, mono, s16) go through a voice-activity detector. A turn
opens on the first frame with speech and ends after `TurnSettings.silence` seconds without
any: silence in the sound itself, missing frames, or no packets at all (Discord sends
nothing while a member is quiet, so `TurnCutter.expire` ends those turns on the clock).
A frame that is all but digital silence counts as silence whatever the detector says: WebRTC's
detector keeps calling speech for about 0.1 s after a voice stops (its hangover), which would
otherwise lengthen every pause by that much.
A turn with less than `min_speech` seconds of speech in it (a cough, a click) is dropped;
one that reaches `max_turn` seconds is cut there and the next one starts. `SpeechStarted`
comes once per turn, as soon as it has that much speech: what stops an answer (barge-in).

Pure logic with no Discord in it: the times are whatever clock the caller stamps frames with.
"""

from __future__ import annotations

import io
import wave
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import webrtcvad

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
FRAME_BYTES = FRAME_SAMPLES * 2
"""One 20 ms frame of mono s16 samples."""
SILENT_FRAME = bytes(FRAME_BYTES)
QUIET_PEAK = 32
"""A frame whose samples all stay within this (about -60 dBFS) is silence."""


@dataclass(frozen=True, slots=True)
class TurnSettings:
    """Where turns are cut; the defaults suit conversation."""

    silence: float = 0.7
    """Seconds without speech that end a turn."""
    min_speech: float = 0.3
    """Seconds of speech a turn needs: shorter sounds are no turn, and start nothing."""
    max_turn: float = 30.0
    """Seconds after which a turn is cut even while the member goes on talking."""
    lead: float = 0.2
    """Seconds kept from before the first frame with speech (soft onsets the detector misses)."""
    tail: float = 0.2
    """Seconds of the closing silence kept at the end of a turn."""
    aggressiveness: int = 2
    """WebRTC VAD mode, 0 (lets most through) to 3 (filters most non-speech out)."""

    def __post_init__(self) -> None:
        if not 0 <= self.aggressiveness <= 3:
            raise ValueError(f"aggressiveness is 0 to 3, not {self.aggressiveness}")
        if self.silence <= 0 or self.min_speech < 0 or self.max_turn <= self.min_speech:
            raise ValueError(
                "silence must be above 0 and max_turn above min_speech "
                f"(silence={self.silence}, min_speech={self.min_speech}, max_turn={self.max_turn})"
            )

    def frames(self, seconds: float) -> int:
        """How many 20 ms frames `seconds` spans (at least one for any positive time)."""
        return max(1, round(seconds / FRAME_SECONDS)) if seconds > 0 else 0


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """`user_id` has started a turn: it has `min_speech` of speech in it already."""

    user_id: int
    at: float


@dataclass(frozen=True, slots=True)
class Turn:
    """What one member said, from the first frame with speech to the last (plus `lead` before
    and up to `tail` after). `started_at` and `ended_at` are the arrival times of those two
    frames on the caller's clock; the sound's own length is `seconds`."""

    user_id: int
    pcm: bytes
    """Mono signed 16-bit little-endian samples at `sample_rate`."""
    started_at: float
    ended_at: float
    sample_rate: int = SAMPLE_RATE

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (2 * self.sample_rate)

    def wav(self) -> bytes:
        """The turn as a WAV file."""
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(self.pcm)
        return buffer.getvalue()


TurnEvent = SpeechStarted | Turn


class VoiceActivity(Protocol):
    """Says whether one 20 ms frame (48 kHz, mono, s16) holds speech."""

    def is_speech(self, frame: bytes) -> bool: ...


class WebRtcVoiceActivity:
    """WebRTC's voice-activity detector, one per member: it adapts to each stream's noise."""

    def __init__(self, aggressiveness: int = 2) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        return bool(self._vad.is_speech(frame, SAMPLE_RATE))


@dataclass
class _Speaker:
    """One member's state: the frames of the open turn, or the recent ones while quiet."""

    detector: VoiceActivity
    lead: deque[bytes]
    frames: list[bytes] = field(default_factory=list)
    voiced: int = 0
    silent_run: int = 0
    started_at: float = 0.0
    last_voiced_at: float = 0.0
    last_at: float = 0.0
    announced: bool = False

    @property
    def open(self) -> bool:
        return bool(self.frames)


class TurnCutter:
    """Cuts each member's frames into turns. Feed frames in order with the time each arrived;
    call `expire` when time passes without frames (`deadline` says when it next matters)."""

    def __init__(
        self,
        settings: TurnSettings | None = None,
        *,
        detector: Callable[[], VoiceActivity] | None = None,
    ) -> None:
        self.settings = settings or TurnSettings()
        aggressiveness = self.settings.aggressiveness
        self._detector = detector or (lambda: WebRtcVoiceActivity(aggressiveness))
        self._speakers: dict[int, _Speaker] = {}
        self._silence = self.settings.frames(self.settings.silence)
        self._min_speech = self.settings.frames(self.settings.min_speech)
        self._max_turn = self.settings.frames(self.settings.max_turn)
        self._lead = self.settings.frames(self.settings.lead)
        self._tail = self.settings.frames(self.settings.tail)

    def feed(self, user_id: int, frame: bytes, at: float) -> list[TurnEvent]:
        """One 20 ms frame of `user_id`'s voice, arrived at `at`."""
        if len(frame) != FRAME_BYTES:
            raise ValueError(f"a frame is {FRAME_BYTES} bytes (20 ms, mono s16), not {len(frame)}")
        speaker = self._speaker(user_id)
        events: list[TurnEvent] = []
        # Packets that stopped and came back: the time between them was silence.
        quiet = speaker.silent_run * FRAME_SECONDS + (at - speaker.last_at - FRAME_SECONDS)
        if speaker.open and quiet >= self.settings.silence:
            events += self._close(user_id, speaker)
        speaker.last_at = at
        speech = not _quiet(frame) and speaker.detector.is_speech(frame)
        if not speaker.open:
            if not speech:
                speaker.lead.append(frame)
                return events
            speaker.frames = [*speaker.lead, frame]
            speaker.lead.clear()
            speaker.started_at = at
        else:
            speaker.frames.append(frame)
        if speech:
            speaker.voiced += 1
            speaker.silent_run = 0
            speaker.last_voiced_at = at
        else:
            speaker.silent_run += 1
        if not speaker.announced and speaker.voiced >= self._min_speech:
            speaker.announced = True
            events.append(SpeechStarted(user_id, at))
        if speaker.silent_run >= self._silence or len(speaker.frames) >= self._max_turn:
            events += self._close(user_id, speaker)
        return events

    def expire(self, now: float) -> list[Turn]:
        """End the turns of members whose frames stopped `silence` seconds ago (counting the
        silence they ended with)."""
        turns: list[Turn] = []
        for user_id, speaker in list(self._speakers.items()):
            deadline = self._deadline_of(speaker)
            if deadline is not None and now >= deadline:
                turns += self._close(user_id, speaker)
        return turns

    def deadline(self) -> float | None:
        """The earliest time `expire` would end a turn, if any is open."""
        deadlines = [self._deadline_of(speaker) for speaker in self._speakers.values()]
        return min((d for d in deadlines if d is not None), default=None)

    def forget(self, user_id: int) -> None:
        """Drop what `user_id` said so far, and the detector's state (they left, or opted out)."""
        self._speakers.pop(user_id, None)

    def is_speaking(self, user_id: int) -> bool:
        """`user_id` has a turn open."""
        speaker = self._speakers.get(user_id)
        return speaker is not None and speaker.open

    def _speaker(self, user_id: int) -> _Speaker:
        speaker = self._speakers.get(user_id)
        if speaker is None:
            speaker = _Speaker(self._detector(), deque(maxlen=self._lead))
            self._speakers[user_id] = speaker
        return speaker

    def _deadline_of(self, speaker: _Speaker) -> float | None:
        if not speaker.open:
            return None
        return speaker.last_at + self.settings.silence - speaker.silent_run * FRAME_SECONDS

    def _close(self, user_id: int, speaker: _Speaker) -> list[Turn]:
        """End `speaker`'s open turn: a Turn when it had enough speech, else nothing."""
        frames, voiced, silent_run = speaker.frames, speaker.voiced, speaker.silent_run
        speaker.frames = []
        speaker.voiced = speaker.silent_run = 0
        speaker.announced = False
        if voiced < self._min_speech:
            return []
        kept = len(frames) - silent_run + min(silent_run, self._tail)
        pcm = b"".join(frames[:kept])
        return [Turn(user_id, pcm, speaker.started_at, speaker.last_voiced_at)]


def _quiet(frame: bytes) -> bool:
    samples = array("h", frame)
    return max(samples) <= QUIET_PEAK and min(samples) >= -QUIET_PEAK
