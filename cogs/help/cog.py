"""`/help`: the commands as registered, grouped by feature, with topic buttons (Quota,
History, and Voice where voice is on); it answers privately."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.jobs.models import Requester
from bot.ui.application import app_of
from bot.ui.components import MemberSubject, RestartProofButton
from bot.ui.feature import FeatureCog
from bot.ui.policy import policy_embed
from bot.words import counted
from cogs.help.card import HELP_COLOUR, help_embed

QUOTA_TOPIC = (
    "Each job holds its units when it starts. They are used when Soundverse has started it "
    "(even if you cancel later) and given back when it never started. The card of every job "
    "says which. `/quota` shows what you and this server have left, and when it resets."
)
HISTORY_TOPIC = (
    "Everything you make is kept in your history: `/history` lists your tracks, "
    "`/history server: True` this server's. Any track can be posted again, and any track or "
    "upload can be extended, looped or split into stems (its option takes your tracks by "
    "name). **Delete** under a result removes it and its files. Audio files are kept for "
    "{days} days. `/privacy export` gives you everything kept about you; `/privacy delete` "
    "removes it."
)

VOICE_TOPIC = (
    "Join a voice channel, then `/play` a track (by name or `#id`), an audio file, or nothing "
    "for your latest track: everyone in the channel hears it, and what comes next waits in "
    "`/queue show`. Members in the bot's channel control playback: the card's ⏯ ⏭ ⏹ 🔁 "
    "buttons, `/pause`, `/resume`, `/volume`, `/queue move` and `/queue remove`. Whoever asked "
    "for a track (or has Manage Channels) skips it at once; others vote, and more than half "
    "of the listeners skip it. `/summon` brings the bot to your channel. It leaves after "
    "{idle} with nothing to play or no one to listen, and after a restart it comes back and "
    "goes on where it was. **Preview in voice** on a job's card plays a song while it is made."
)


CONTESTS_TOPIC = (
    "An admin (Manage Server, or the role set with `/contest managers`) starts a contest from "
    "a track or a file: `/contest create title: Rain remix theme: Make it dance submissions: "
    "3d voting: 2d source_track: #12`. The bot shows what the source's stem pack costs, makes "
    "it on **Create contest** and posts the contest card. Members remix the source or its "
    "stems (Extend, Loop, Variation under their results) and enter with **Submit an entry** "
    "on the card, **Submit to contest** under a result, or `/contest submit`. When voting "
    "opens, the entries are posted without their authors, each with a Vote button; your vote "
    "is private and can be changed until the close. Then the results name the authors and the "
    "winner; `/contest results`, `/contest leaderboard` and `/contest play` (every entry in "
    "your voice channel) follow. Admins can `/contest extend`, `close`, `disqualify`, "
    "`cancel`, `edit`, `export` and `audit`."
)


class QuotaTopic(MemberSubject, RestartProofButton[Requester], prefix="help:quota"):
    """How units work, and this server's policy."""

    label = "Quota"
    emoji = "🎟️"

    async def act(self, interaction: discord.Interaction[Any], member: Requester) -> None:
        app = app_of(interaction)
        quota = app.services.quota
        if interaction.guild_id is None:
            settings = app.settings.quota
            text = (
                f"{QUOTA_TOPIC}\n\nIn direct messages you have {settings.dm_units_per_period} "
                f"units per {settings.period.value}."
            )
            embed = discord.Embed(title="Quota", description=text, colour=HELP_COLOUR)
        else:
            embed = policy_embed(await quota.policy(interaction.guild_id), quota.costs)
            embed.description = QUOTA_TOPIC
        await interaction.response.send_message(embed=embed, ephemeral=True)


class HistoryTopic(MemberSubject, RestartProofButton[Requester], prefix="help:history"):
    """What is kept of what members make, and how to find, reuse or delete it."""

    label = "History"
    emoji = "🗂️"

    async def act(self, interaction: discord.Interaction[Any], member: Requester) -> None:
        days = app_of(interaction).settings.audio.retention_days
        text = HISTORY_TOPIC.format(days=f"{days:g}")
        if days <= 0:
            text = text.replace(f"Audio files are kept for {days:g} days. ", "")
        embed = discord.Embed(title="History", description=text, colour=HELP_COLOUR)
        await interaction.response.send_message(embed=embed, ephemeral=True)


class VoiceTopic(MemberSubject, RestartProofButton[Requester], prefix="help:voice"):
    """How playing in voice channels works."""

    label = "Voice"
    emoji = "🔊"

    async def act(self, interaction: discord.Interaction[Any], member: Requester) -> None:
        idle = app_of(interaction).settings.voice.idle_disconnect
        text = VOICE_TOPIC.format(idle=counted(round(idle), "second"))
        embed = discord.Embed(title="Voice", description=text, colour=HELP_COLOUR)
        await interaction.response.send_message(embed=embed, ephemeral=True)


class ContestsTopic(MemberSubject, RestartProofButton[Requester], prefix="help:contests"):
    """How remix contests work."""

    label = "Contests"
    emoji = "🏆"

    async def act(self, interaction: discord.Interaction[Any], member: Requester) -> None:
        embed = discord.Embed(title="Contests", description=CONTESTS_TOPIC, colour=HELP_COLOUR)
        await interaction.response.send_message(embed=embed, ephemeral=True)


TOPICS = (QuotaTopic, HistoryTopic, VoiceTopic, ContestsTopic)


class Help(FeatureCog):
    """What the bot can do."""

    components = TOPICS

    @app_commands.command(
        name="help",
        description="Every command, with an example, and how quota and history work",
        extras={"example": "/help"},
    )
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        view = discord.ui.View(timeout=None)
        for topic in TOPICS:
            turned_off = (topic is VoiceTopic and not self.app.settings.voice.enabled) or (
                topic is ContestsTopic and not self.app.settings.contests.enabled
            )
            if not turned_off:
                view.add_item(topic(""))
        await interaction.response.send_message(
            embed=help_embed(self.app.client.cogs.values()), view=view, ephemeral=True
        )
