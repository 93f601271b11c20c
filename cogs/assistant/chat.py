"""Chat with the Soundverse assistant."""

from __future__ import annotations

from bot.ui.feature import FeatureCog


class ChatCog(FeatureCog):
    """Chat with the Soundverse assistant."""
