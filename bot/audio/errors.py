"""Errors raised by the audio package; messages are plain enough to show a member."""

from __future__ import annotations


class AudioError(Exception):
    """Base class of every error the audio package raises."""


class NotAudio(AudioError):
    """The input is not decodable audio, or it is audio of zero length."""


class TranscodeError(AudioError):
    """Decoding or encoding failed part-way through a file that probed as audio."""


class AudioTooLong(AudioError):
    """Reading the audio found it longer than the longest allowed; it was read no further."""

    def __init__(self, longest: float) -> None:
        super().__init__(f"longer than {longest:g} s")
        self.longest = longest
