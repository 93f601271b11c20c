"""Errors raised by the audio package; messages are plain enough to show a member."""

from __future__ import annotations


class AudioError(Exception):
    """Base class of every error the audio package raises."""


class NotAudio(AudioError):
    """The input is not decodable audio, or it is audio of zero length."""


class TranscodeError(AudioError):
    """Decoding or encoding failed part-way through a file that probed as audio."""
