"""Starting a job from an interaction, the same way for slash commands, buttons, menus and forms.

The interaction is deferred first (Discord's 3-second window), then the plan is worked out
(slow work such as fetching audio), then the order is admitted: quota reserved and the job
queued, here or in the job worker. Its card is the deferred response.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import discord

from bot.config import WorkerMode
from bot.jobs.inputs import AudioSource
from bot.jobs.link import WorkerLink, WorkerUnavailable
from bot.jobs.models import JobOrder, JobView
from bot.jobs.operations import Operation
from bot.storage import Job
from bot.ui.application import Application, app_of, requester_of, upload_limit
from bot.ui.errors import refuse, refuse_through, report_for
from bot.ui.job_card import JobCard

# Interaction tokens live 15 minutes; a card never relies on the last two.
TOKEN_SAFETY_MARGIN = 120.0
# How long Discord keeps an interaction token usable.
TOKEN_LIFETIME = 15 * 60.0


@dataclass(frozen=True)
class JobPlan:
    """What to run for an interaction, worked out once it has been acknowledged."""

    operation: Operation
    request: dict[str, Any]
    version: str | None = None
    parent_track_id: int | None = None
    source_name: str | None = None
    note: str | None = None

    def made_from(self, source: AudioSource) -> JobPlan:
        """This plan, recording what it is made from: a track (its lineage) or an upload."""
        if source.track_id is not None:
            return replace(self, parent_track_id=source.track_id, source_name=None)
        return replace(self, parent_track_id=None, source_name=source.label)

    @property
    def chosen_version(self) -> str:
        """The version to run: the one chosen, else the operation's default."""
        return self.version or self.operation.default_version


def order_for(interaction: discord.Interaction[Any], plan: JobPlan) -> JobOrder:
    """The order of a job asked for through `interaction`."""
    assert interaction.channel_id is not None
    requester = requester_of(interaction)
    return JobOrder(
        operation=plan.operation,
        version=plan.chosen_version,
        request=plan.request,
        channel_id=interaction.channel_id,
        user_id=requester.user_id,
        guild_id=requester.guild_id,
        role_ids=requester.role_ids,
        upload_limit=upload_limit(interaction),
        interaction_token=interaction.token,
        token_expires_at=interaction.expires_at,
        parent_track_id=plan.parent_track_id,
        source_name=plan.source_name,
        app_permissions=interaction.app_permissions.value,
    )


def permissions_of(order: JobOrder) -> discord.Permissions | None:
    """What the bot was allowed in the order's channel when it was asked for."""
    if order.app_permissions is None:
        return None
    return discord.Permissions(order.app_permissions)


def card_title(order: JobOrder) -> str:
    return f"🎵 {order.operation.card_title} ({order.version})"


async def defer_card(interaction: discord.Interaction[Any]) -> int | None:
    """Acknowledge at once with a "thinking" response; returns that message's id."""
    response = await interaction.response.defer(thinking=True)
    return response.message_id if response is not None else None


async def launch_job(
    app: Application,
    interaction: discord.Interaction[Any],
    order: JobOrder,
    card_id: int | None,
    *,
    note: str | None = None,
) -> None:
    """Queue `order` with a card on the deferred response, here or in the job worker.

    Inline, raises `QuotaExceeded`. With a job worker, returns once the order is handed over;
    the worker's answer is settled later (`settle_admission`).

    `note` is shown on the card (e.g. which track was picked for the member).
    """
    if card_id is None:
        card_id = (await interaction.original_response()).id
    link = app.job_link
    if link is not None:
        # The job worker admits and runs it, editing the card through the stored token. Under
        # load its answer takes seconds; waiting here would keep the interaction and the
        # command's frames alive that long, hundreds at a time, and the collector's passes
        # over them would stall the acknowledgements of the next commands.
        app.keep_task(settle_admission(app, link, interaction.followup, order, card_id, note))
        return
    jobs = app.services.jobs
    holder: dict[str, int] = {}

    async def remember_move(channel_id: int, message_id: int) -> None:
        await jobs.record_card_move(holder["job"], channel_id=channel_id, message_id=message_id)

    card = JobCard(
        app,
        title=card_title(order),
        prompt=order.prompt,
        note=note,
        requester_id=order.user_id,
        guild_id=order.guild_id,
        channel_id=order.channel_id,
        webhook=interaction.followup,
        card_message_id=card_id,
        token_deadline=time.monotonic() + app.settings.jobs.token_handoff,
        on_moved=remember_move,
        app_permissions=permissions_of(order),
    )
    if app.settings.jobs.worker is WorkerMode.SHARED:
        # A worker claims it, on whichever host, and draws the card from what is stored from
        # then on; until one has room, the card says it waits (with Cancel).
        job = await jobs.admit(order, card_message_id=card_id, note=note)
        await card.on_progress(JobView(job.id, "queued"))
        await app.services.shared_jobs.stored()  # after: a worker's first edit comes later
        return
    job = await jobs.submit(order, card, card_message_id=card_id)
    holder["job"] = job.id


async def settle_admission(
    app: Application,
    link: WorkerLink,
    followup: discord.Webhook,
    order: JobOrder,
    card_id: int,
    note: str | None,
) -> None:
    """Wait for the job worker's answer to `order`; a refusal replaces the card with a private
    message, through the interaction's follow-up webhook (all that is kept of it)."""
    try:
        await link.admit(order, card_message_id=card_id, note=note)
    except WorkerUnavailable as error:
        # The worker may have stored the job anyway (just before it died, or starved past the
        # wait): giving the order up and admitting it race for one row, so exactly one wins.
        # Only if the bot wins is the member told it was not queued.
        if await app.services.jobs.give_up(order, card_message_id=card_id):
            await refuse_through(followup, card_id, report_for(error))
    except Exception as error:
        await refuse_through(followup, card_id, report_for(error))


async def card_for_stored_job(
    app: Application, job: Job, order: JobOrder, note: str | None = None
) -> JobCard:
    """A card for a job started by another process (a previous run of the bot, or the bot
    whose job worker this is): its card while the interaction token lives."""
    client = app.client
    webhook = None
    deadline = None
    if job.interaction_token and job.token_expires_at is not None:
        seconds_left = (
            job.token_expires_at - datetime.now(job.token_expires_at.tzinfo)
        ).total_seconds()
        # As for a job started here: the token is used until the hand-off, and never closer
        # to its end than the margin.
        until_handoff = app.settings.jobs.token_handoff - (TOKEN_LIFETIME - seconds_left)
        usable = min(seconds_left - TOKEN_SAFETY_MARGIN, until_handoff)
        if usable > 0 and client.application_id is not None:
            webhook = discord.Webhook.partial(
                client.application_id, job.interaction_token, client=client
            )
            deadline = time.monotonic() + usable

    async def remember_move(channel_id: int, message_id: int) -> None:
        await app.services.jobs.record_card_move(
            job.id, channel_id=channel_id, message_id=message_id
        )

    return JobCard(
        app,
        title=card_title(order),
        prompt=order.prompt,
        note=note,
        requester_id=order.user_id,
        guild_id=order.guild_id,
        channel_id=order.channel_id,
        webhook=webhook,
        card_message_id=job.card_message_id if webhook is not None else None,
        token_deadline=deadline,
        on_moved=remember_move,
        app_permissions=permissions_of(order),
    )


def planned(plan: JobPlan) -> Callable[[], Awaitable[JobPlan]]:
    """A plan that needs no more work (no audio to fetch)."""

    async def ready() -> JobPlan:
        return plan

    return ready


async def defer_and_launch(
    interaction: discord.Interaction[Any], make_plan: Callable[[], Awaitable[JobPlan]]
) -> None:
    """Acknowledge, work out the plan (slow work such as fetching audio), queue the job.

    Anything that goes wrong after the acknowledgement is told to the member privately and
    the "thinking" message is removed; quota is only reserved once the plan is complete.
    """
    card_id = await defer_card(interaction)
    try:
        plan = await make_plan()
        order = order_for(interaction, plan)
        await launch_job(app_of(interaction), interaction, order, card_id, note=plan.note)
    except Exception as error:
        await refuse(interaction, report_for(error))
