"""Spoken questions to the Soundverse voice assistant."""

from __future__ import annotations

from bot.ui.feature import FeatureCog


class SpokenCog(FeatureCog):
    """Ask the Soundverse voice assistant by voice."""
