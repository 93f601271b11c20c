"""What presentation and features need from the running bot, as a `Protocol`.

`bot/app` implements it; `bot/ui` and `cogs/` only see this, so neither imports the
application (and the application imports no feature). An interaction leads to it through
`app_of`, and to the core's idea of who is asking through `requester_of`.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol, cast

import discord
from discord.ext import commands

from bot.config import Settings
from bot.jobs.link import WorkerLink
from bot.jobs.models import CancelOutcome, Requester
from bot.jobs.services import Services
from bot.ui.follow_ups import FollowUpRegistry
from bot.ui.forms import FormRouter
from bot.ui.uploads import HeldUploads
from bot.voice.sessions import VoiceSessions


class Application(Protocol):
    """The running bot as presentation sees it."""

    @property
    def client(self) -> commands.AutoShardedBot:
        """The discord.py client: channels, the command tree, dynamic items."""

    @property
    def started_at(self) -> float:
        """When the bot started, on the monotonic clock."""

    @property
    def is_job_worker(self) -> bool:
        """This process is the job worker: it posts results, and never joins voice."""

    @property
    def settings(self) -> Settings:
        """The settings this process was started with."""

    @property
    def services(self) -> Services:
        """The core's services (jobs, library, quota, lyrics)."""

    @property
    def voice(self) -> VoiceSessions:
        """The voice sessions of this process: what features play through."""

    @property
    def job_link(self) -> WorkerLink | None:
        """The link to the job worker when jobs run in their own process, else None."""

    @property
    def follow_ups(self) -> FollowUpRegistry:
        """What features offer under a result, filled as their cogs load."""

    @property
    def forms(self) -> FormRouter:
        """The restart-proof forms (modals) features registered, by custom_id."""

    @property
    def uploads(self) -> HeldUploads:
        """Uploads a member picked through a message menu, held while they fill in the rest."""

    def runs_guild(self, guild_id: int | None) -> bool:
        """Whether this process runs the gateway shard of `guild_id` (of DMs: None), so sees
        that server: other shards may run in other processes."""

    def keep_task(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background; the bot lets it finish (briefly) when it closes."""

    async def cancel_job(self, job_id: int, by_user_id: int) -> CancelOutcome:
        """Cancel a queued or running job wherever it runs, unless it is being delivered;
        `by_user_id` asked for it."""


def app_of(interaction: discord.Interaction[Any]) -> Application:
    """The application that received `interaction`."""
    return cast("Application", interaction.client)


def application(bot: commands.Bot | commands.AutoShardedBot) -> Application:
    """The application a cog is being loaded into."""
    return cast("Application", bot)


def requester_of(interaction: discord.Interaction[Any]) -> Requester:
    """Who is acting, as the core sees them: their id, server, roles and Manage Server."""
    member = interaction.user
    roles = tuple(role.id for role in member.roles) if isinstance(member, discord.Member) else ()
    manages = interaction.guild_id is not None and interaction.permissions.manage_guild
    return Requester(member.id, interaction.guild_id, roles, manages)


def requester_of_message(message: discord.Message) -> Requester:
    """Who wrote `message`, as the core sees them (like `requester_of` for an interaction)."""
    author = message.author
    if not isinstance(author, discord.Member):
        return Requester(author.id, message.guild.id if message.guild else None)
    roles = tuple(role.id for role in author.roles)
    return Requester(author.id, author.guild.id, roles, author.guild_permissions.manage_guild)


def upload_limit(interaction: discord.Interaction[Any]) -> int:
    """The largest file a reply may carry, whether it goes by webhook or channel post."""
    limit = interaction.filesize_limit
    if interaction.guild is not None:
        limit = min(limit, interaction.guild.filesize_limit)
    return limit
