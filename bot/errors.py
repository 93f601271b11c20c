"""Errors a member can fix: their text is shown to them as is, and quota is refunded."""

from __future__ import annotations


class UserFacingError(Exception):
    """A problem the member can fix; `str(error)` is the precise message they see."""


class InvalidInput(UserFacingError):
    """The command's input breaks a rule of the API or of the bot."""
