"""Every length and range the bot checks before Soundverse sees a request, defined once.

Slash-command options, modal fields, request validation and the error messages all read
these, so changing a limit is one edit. Where the API documents a limit the section of
soundverse-api.md is named; the rest are the bot's own bounds inside what the API accepts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bounds:
    """A closed range of whole numbers, `low` to `high`."""

    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"

    def scaled(self, factor: int) -> Bounds:
        """The same range in a smaller unit (seconds to milliseconds: `scaled(1000)`)."""
        return Bounds(self.low * factor, self.high * factor)


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed range of real numbers, `low` to `high`."""

    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low:g}-{self.high:g}"


PROMPT_MAX_CHARS = 1024
"""Prompt length (§6)."""

LYRICS_MAX_CHARS = 3000
"""Lyrics given to a song, an extension or singing: the bot's cap (none is documented)."""

INPUT_MAX_BYTES = 10 * 1024 * 1024
"""Audio files Soundverse fetches from a URL (§6: 10 MB each)."""

EXTEND_AT_SECONDS = Bounds(8, 420)
"""Where an extension may start, in seconds (§3.8: `extend_at` 8000-420000 ms)."""

EXTEND_AT_MS = EXTEND_AT_SECONDS.scaled(1000)
"""`EXTEND_AT_SECONDS` as the API takes it, in milliseconds."""

DURATION_SECONDS = Bounds(5, 300)
"""Length of a v5 song or instrumental: the bot's range (the API takes any positive number)."""

STYLE_MAX_CHARS = 100
"""A free-text style of music (v5/v6 instrumentals): the bot's cap (none is documented)."""

LOOP_COUNT = Bounds(1, 64)
"""How many times a loop repeats: the bot's range (the API takes any positive count)."""

GUIDANCE_SCALE = Interval(1.0, 15.0)
"""`guidanceScale` of extend music (§6)."""

REF_AUDIO_STRENGTH = Interval(0.0, 1.0)
"""`refAudioStrength` of extend music (§6)."""

CHAT_PROMPT_MAX_CHARS = PROMPT_MAX_CHARS
"""A chat assistant prompt (§3.16 documents no limit): the bot's cap, the same 1024 characters
as the one documented prompt limit (§6, v7 songs). A conversation's earlier turns are sent
inside this prompt (the endpoint keeps no history), so this bounds how much of them goes along."""
