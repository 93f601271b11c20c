"""The Variation button under a result: the same request again, as a new job of whoever
presses it (quota applies to them), with the pressed track as its parent."""

from __future__ import annotations

from typing import Any

import discord

from bot.storage import Track
from bot.ui.application import app_of
from bot.ui.components import RestartProofButton, TrackSubject
from bot.ui.launch import JobPlan, defer_and_launch


class VariationButton(TrackSubject, RestartProofButton[Track], prefix="track:variation"):
    """Run the same request again as a new job (quota applies); its parent is this track."""

    label = "Variation"
    emoji = "🔁"
    style = discord.ButtonStyle.primary

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        jobs = app_of(interaction).services.jobs

        async def make_plan() -> JobPlan:
            stored = await jobs.order_to_vary(track)
            return JobPlan(stored.operation, stored.request, stored.version, track.id)

        await defer_and_launch(interaction, make_plan)
