"""The job card: the live message that shows one job, and how its result is posted.

The card starts as the deferred interaction response and is edited through the
interaction's webhook. Before the 15-minute token runs out (and whenever Discord
answers 401 / code 50027) it moves to an ordinary channel message sent with the
bot token. The result is always a new message that mentions only the requester.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import discord

from bot.errors import UserFacingError
from bot.jobs.access import Access
from bot.jobs.models import (
    CancelOutcome,
    Delivery,
    JobFailure,
    JobView,
    PostedMessage,
    Settlement,
)
from bot.storage import Job
from bot.ui.application import Application, app_of
from bot.ui.components import JobSubject, RestartProofButton
from bot.ui.progress import stage_line
from bot.ui.result_card import (
    ResultParts,
    as_links,
    job_nonce,
    links_only,
    message_link,
    minimal_result_message,
    result_message,
    shows_result,
)
from bot.ui.text import FIELD_VALUE_LIMIT, plain, shown
from bot.words import counted

log = logging.getLogger(__name__)

INVALID_WEBHOOK_TOKEN = 50027
BAD_REQUEST = 400
DELIVERING = "delivering"
# How much of the prompt a job card quotes.
PROMPT_SHOWN = 300
CARD_COLOUR = discord.Colour.from_rgb(120, 86, 255)
DONE_COLOUR = discord.Colour.green()
FAILED_COLOUR = discord.Colour.red()

# Looking for a result posted before a restart: how far back before the recorded time (clocks
# differ), and how many of the channel's messages since then are read at most.
POSTING_CLOCK_SKEW = timedelta(minutes=1)
HISTORY_SEARCHED = 100

CardMoved = Callable[[int, int], Awaitable[None]]
PartsOf = Callable[[Delivery], ResultParts]

T = TypeVar("T")

MISSING_ACCESS = 50001
REQUEST_TOO_LARGE = 40005
NO_ATTACH = "I may not attach files in this channel"
TOO_LARGE_FOR_DMS = "too large to send in DMs"


# Card edits cut short by a cancel, finishing on their own (see `finished_even_if_cancelled`).
_EDITS_FINISHING: set[asyncio.Future[Any]] = set()


async def finished_even_if_cancelled(edit: Awaitable[T]) -> T:
    """`edit`, run to its end even when the caller is cancelled (a job cancelled mid-edit).

    discord.py's webhook adapter holds the bucket's lock through the wait after a request
    that used the bucket up, and does not release it when that wait is cancelled: every
    later edit of the card (its cancelled state, too) would then wait forever.
    """
    task = asyncio.ensure_future(edit)
    _EDITS_FINISHING.add(task)
    task.add_done_callback(_settled)
    return await asyncio.shield(task)


def _settled(task: asyncio.Future[Any]) -> None:
    _EDITS_FINISHING.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.debug("A card edit cut short by a cancel failed: %s", task.exception())


class CancelJobButton(JobSubject, RestartProofButton[Job], prefix="job:cancel"):
    """Cancel a queued or running job (its requester, or a member with Manage Server)."""

    label = "Cancel"
    access = Access.REQUESTER_OR_MANAGER
    refusal = "Only the member who started this job, or someone with Manage Server, can cancel it."

    async def act(self, interaction: discord.Interaction[Any], job: Job) -> None:
        if job.state.is_final:
            raise UserFacingError("This job has already ended.")
        outcome = await app_of(interaction).cancel_job(job.id, interaction.user.id)
        if outcome is CancelOutcome.DELIVERING:
            raise UserFacingError(
                "Too late to cancel: the result is already being delivered, and it is billed."
            )
        if outcome is CancelOutcome.NOT_RUNNING:
            raise UserFacingError("This job is not running on this bot instance any more.")
        await interaction.response.send_message("Cancelling…", ephemeral=True)


COMPONENTS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (CancelJobButton,)
"""The job card's own restart-proof components (the application registers them)."""


PREVIEW_LABEL = "▶ Preview"
# Discord refuses a link button whose URL is longer (and with it the whole edit).
LINK_URL_LIMIT = 512


def running_view(job: JobView, offered: Sequence[discord.ui.Item[Any]] = ()) -> discord.ui.View:
    """The card's controls while a job runs: Cancel (survives restarts), and once Soundverse
    streams the audio as it is made, a link to listen to it; then what features `offered`."""
    view = discord.ui.View(timeout=None)
    view.add_item(CancelJobButton(job.job_id))
    if job.preview_url is not None and len(job.preview_url) <= LINK_URL_LIMIT:
        view.add_item(discord.ui.Button(label=PREVIEW_LABEL, url=job.preview_url))
    for item in offered:
        view.add_item(item)
    return view


def units_used(settlement: Settlement) -> str:
    """What a delivered job cost, as a sentence."""
    if settlement.units == 0:
        return "It used no units."
    return f"It used {counted(settlement.units, 'unit')}."


def units_after_ending(settlement: Settlement) -> str:
    """What happened to the units of a job that ended without a result, as a sentence."""
    if settlement.units == 0:
        return "It used no units."
    held = counted(settlement.units, "unit")
    verb = "was" if settlement.units == 1 else "were"
    if settlement.refunded:
        return f"Its {held} {verb} refunded."
    return f"Its {held} {verb} used: Soundverse had already started it."


def sentence(text: str) -> str:
    """`text` ending as a sentence does."""
    text = text.strip()
    return text if text.endswith((".", "!", "?", "…", ")")) else f"{text}."


def token_is_dead(error: discord.HTTPException) -> bool:
    """Discord says the interaction token can no longer be used."""
    return error.status == 401 or error.code == INVALID_WEBHOOK_TOKEN


class JobCard:
    """Shows one job in Discord; the `JobObserver` of the pipeline."""

    def __init__(
        self,
        app: Application,
        *,
        title: str,
        prompt: str | None,
        requester_id: int,
        guild_id: int | None,
        channel_id: int,
        webhook: discord.Webhook | None,
        note: str | None = None,
        card_message_id: int | None,
        token_deadline: float | None,
        on_moved: CardMoved | None = None,
        app_permissions: discord.Permissions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.title = title
        self.prompt = prompt
        self.note = note
        self.requester_id = requester_id
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.webhook = webhook
        self.card_message_id = card_message_id
        self.token_deadline = token_deadline
        self.on_moved = on_moved
        self.app_permissions = app_permissions
        self._clock = clock
        self._channel_message: discord.Message | None = None
        self._card_lost = False

    # --- JobObserver ----------------------------------------------------------------------

    async def on_progress(self, view: JobView) -> None:
        embed = self._embed(stage_line(view), CARD_COLOUR)
        if view.song_name:
            embed.add_field(name="Title", value=shown(view.song_name, FIELD_VALUE_LIMIT))
        if view.album_art_url and view.album_art_url.startswith("https://"):
            embed.set_thumbnail(url=view.album_art_url)
        # Once delivery has begun a job can no longer be cancelled: the card stops offering it
        # (and the preview, as the finished take is about to arrive).
        controls = (
            None
            if view.stage == DELIVERING
            else running_view(view, self.app.follow_ups.while_running(view))
        )
        await self.show(embed=embed, view=controls)

    async def on_delivered(self, delivery: Delivery) -> PostedMessage:
        message = await self.post_result(delivery)
        return PostedMessage(message.channel.id, message.id)

    async def find_posted(
        self, job_id: int, track_ids: Sequence[int], since: datetime
    ) -> PostedMessage | None:
        """The bot's result message of `job_id` (holding `track_ids`) in the job's channel,
        posted at `since` or later (recognised by its marker), else None; None too where the
        channel's history cannot be read."""
        client = self.app.client
        if client.user is None:
            return None
        after = discord.Object(discord.utils.time_snowflake(since - POSTING_CLOCK_SKEW))
        try:
            channel = await self.channel()
            async for message in channel.history(limit=HISTORY_SEARCHED, after=after):
                if message.author.id == client.user.id and shows_result(message, track_ids):
                    return PostedMessage(message.channel.id, message.id)
        except discord.HTTPException as error:
            log.warning("Could not look for the result of job %s: %s", job_id, error)
        return None

    async def on_done(self, posted: PostedMessage, settlement: Settlement | None) -> None:
        # Built here: a message sent through a webhook does not know its guild.
        guild = self.guild_id if self.guild_id is not None else "@me"
        link = f"https://discord.com/channels/{guild}/{posted.channel_id}/{posted.message_id}"
        used = f" {units_used(settlement)}" if settlement is not None else ""
        await self.show(
            embed=self._embed(f"✅ Done: [your track is below]({link}).{used}", DONE_COLOUR),
            view=None,
        )

    async def on_failed(self, failure: JobFailure) -> None:
        text = f"❌ {sentence(failure.message)} {units_after_ending(failure.settlement)}"
        await self.show_end(self._embed(text, FAILED_COLOUR))

    async def on_cancelled(
        self, job_id: int, settlement: Settlement, by_user_id: int | None
    ) -> None:
        who = f" by <@{by_user_id}>" if by_user_id is not None else ""
        text = f"🚫 Cancelled{who}. {units_after_ending(settlement)}"
        await self.show_end(self._embed(text, FAILED_COLOUR))

    async def show_end(self, embed: discord.Embed) -> None:
        """Show how the job ended; privately when the card can no longer be shown."""
        if not await self.show(embed=embed, view=None):
            await self.tell_privately(embed)

    # --- showing --------------------------------------------------------------------------

    def _embed(self, status: str, colour: discord.Colour) -> discord.Embed:
        lines = []
        if self.prompt:
            lines.append(f"> {shown(self.prompt, PROMPT_SHOWN)}")
        if self.note:
            lines.append(f"-# {plain(self.note)}")
        lines.append(status)
        return discord.Embed(title=self.title, description="\n\n".join(lines), colour=colour)

    def token_usable(self) -> bool:
        """The interaction token may still be used (with a margin before Discord's 15 min)."""
        if self.webhook is None:
            return False
        return self.token_deadline is None or self._clock() < self.token_deadline

    async def show(self, **fields: Any) -> bool:
        """Edit the card, moving it to a channel message when the token is (nearly) dead;
        False once the card can no longer be shown (the channel refuses the bot)."""
        if self._card_lost:
            return False
        if await self._edit_through_token(**fields):
            return True
        if self._channel_message is not None:
            try:
                self._channel_message = await self._channel_message.edit(
                    allowed_mentions=discord.AllowedMentions.none(), **fields
                )
                return True
            except discord.NotFound:
                self._channel_message = None
            except discord.Forbidden:
                return self._lose_card()
        try:
            await self.move_to_channel(**fields)
        except discord.Forbidden:
            return self._lose_card()
        return True

    async def _edit_through_token(self, **fields: Any) -> bool:
        """Edit the card where the interaction left it, while its token lives; False when it
        cannot be (moved, token dead, or deleted)."""
        if self._channel_message is not None or self.card_message_id is None:
            return False
        if not self.token_usable():
            return False
        assert self.webhook is not None
        try:
            await finished_even_if_cancelled(
                self.webhook.edit_message(
                    self.card_message_id,
                    allowed_mentions=discord.AllowedMentions.none(),
                    **fields,
                )
            )
            return True
        except discord.HTTPException as error:
            if not (token_is_dead(error) or error.status == 404):
                raise
            # A dead token, or a card someone deleted: carry on in a channel message.
            log.info("The card in %s can no longer be edited; moving", self.channel_id)
            if token_is_dead(error):
                self.webhook = None
            return False

    def _lose_card(self) -> bool:
        log.warning("The channel %s refuses the bot: the card of this job stops", self.channel_id)
        self._card_lost = True
        return False

    async def tell_privately(self, embed: discord.Embed) -> None:
        """Send the member `embed` in their DMs: where the card can no longer be shown."""
        try:
            user = await self.requester()
            await user.send(
                f"About your job in <#{self.channel_id}> (I can no longer post there):",
                embed=embed,
            )
        except discord.HTTPException as error:
            log.warning("Could not tell member %s privately: %s", self.requester_id, error)

    async def requester(self) -> discord.User:
        client = self.app.client
        return client.get_user(self.requester_id) or await client.fetch_user(self.requester_id)

    async def move_to_channel(self, **fields: Any) -> None:
        """Post the card as a channel message and mark the old one as moved."""
        channel = await self.channel()
        message = await channel.send(allowed_mentions=discord.AllowedMentions.none(), **fields)
        old_message_id = self.card_message_id
        self._channel_message = message
        self.card_message_id = message.id
        if old_message_id is not None and self.token_usable():
            assert self.webhook is not None
            try:
                await self.webhook.edit_message(
                    old_message_id, content=f"Moved: {message.jump_url}", embed=None, view=None
                )
            except discord.HTTPException:
                log.info("Could not mark the old card as moved")
        if self.on_moved is not None:
            await self.on_moved(message.channel.id, message.id)

    async def channel(self) -> discord.abc.Messageable:
        client = self.app.client
        cached = client.get_channel(self.channel_id)
        if isinstance(cached, discord.abc.Messageable):
            return cached
        fetched = await client.fetch_channel(self.channel_id)
        if not isinstance(fetched, discord.abc.Messageable):
            raise RuntimeError(f"channel {self.channel_id} cannot receive messages")
        return fetched

    async def parent_link(self, delivery: Delivery) -> str | None:
        """A link to the message of the track this result was made from."""
        parent_id = delivery.order.parent_track_id
        if parent_id is None:
            return None
        parent = await self.app.services.library.find(parent_id)
        return message_link(parent) if parent is not None else None

    async def post_result(self, delivery: Delivery) -> discord.Message:
        """Post the result as a new message that notifies the requester: through the
        interaction while its token lives; else in the channel as far as the bot may (its
        takes as links where it may not attach files); else in the requester's DMs, saying
        why. Should Discord still refuse the full result (400), the member gets its audio as
        link buttons in a minimal message rather than nothing."""
        parent_link = await self.parent_link(delivery)
        follow_ups = self.app.follow_ups
        try:
            return await self._post(
                delivery,
                lambda shown: result_message(shown, self.requester_id, follow_ups, parent_link),
            )
        except discord.HTTPException as error:
            if error.status != BAD_REQUEST:
                raise
            log.warning(
                "Discord refused the result of job %s (%s %s); posting it as links",
                delivery.job_id,
                error.code,
                error.text[:200],
            )
            return await self._post(
                delivery, lambda shown: minimal_result_message(shown, self.requester_id)
            )

    async def _post(self, delivery: Delivery, parts: PartsOf) -> discord.Message:
        """Send a new message built by `parts` (again for each try: files are read once)."""
        if self.token_usable():
            assert self.webhook is not None
            content, embed, files, view = parts(delivery)
            try:
                return await self.webhook.send(
                    content=content,
                    embeds=[embed] if embed is not None else [],
                    files=files,
                    view=view,
                    allowed_mentions=self._mentions(),
                    wait=True,
                )
            except discord.HTTPException as error:
                if not token_is_dead(error):
                    raise
                self.webhook = None
        return await self._post_in_channel(delivery, parts)

    def _mentions(self) -> discord.AllowedMentions:
        return discord.AllowedMentions(
            users=[discord.Object(self.requester_id)], roles=False, everyone=False
        )

    async def _post_in_channel(self, delivery: Delivery, parts: PartsOf) -> discord.Message:
        """The result in the job's channel, with links instead of files where the bot may not
        attach any; in the requester's DMs where it may not post at all."""
        allowed = await self.permissions()
        if not (allowed.view_channel and allowed.send_messages):
            missing = "View Channel" if not allowed.view_channel else "Send Messages"
            return await self._post_privately(delivery, parts, f"I'm missing {missing} there")
        shown = delivery if allowed.attach_files else as_links(delivery, NO_ATTACH)
        channel = await self.channel()
        for attempt in (shown, as_links(delivery, NO_ATTACH)):
            content, embed, files, view = parts(attempt)
            try:
                return await channel.send(
                    content=content,
                    embeds=[embed] if embed is not None else [],
                    files=files,
                    view=view,
                    allowed_mentions=self._mentions(),
                    # Sent again after a restart, Discord answers with the first message.
                    nonce=job_nonce(delivery.job_id),
                )
            except discord.Forbidden as refused:
                log.warning(
                    "The channel refused the result of job %s: %s", delivery.job_id, refused
                )
                if not files or refused.code == MISSING_ACCESS:
                    break
        return await self._post_privately(delivery, parts, "Discord refused my message there")

    async def _post_privately(
        self, delivery: Delivery, parts: PartsOf, why: str
    ) -> discord.Message:
        """The result in the requester's DMs, saying why it is not in the channel (its
        buttons stay behind: they work only where the track was made)."""
        user = await self.requester()
        note = f"I can't post in <#{self.channel_id}> ({why}), so here is your result."
        for attempt in (delivery, as_links(delivery, TOO_LARGE_FOR_DMS)):
            content, embed, files, view = parts(attempt)
            try:
                return await user.send(
                    content=f"{content}\n{note}",
                    embeds=[embed] if embed is not None else [],
                    files=files,
                    view=links_only(view),
                )
            except discord.HTTPException as error:
                if error.code != REQUEST_TOO_LARGE or not files:
                    raise
        raise AssertionError("unreachable: the links-only result has no files")

    async def permissions(self) -> discord.Permissions:
        """What the bot may do in the job's channel: as discord.py's cache knows it now, else
        as the interaction told it when the job was asked for."""
        cached = self.app.client.get_channel(self.channel_id)
        if isinstance(cached, discord.abc.GuildChannel):
            return cached.permissions_for(cached.guild.me)
        if self.app_permissions is not None:
            return self.app_permissions
        return discord.Permissions.all_channel()  # DMs, and older jobs: try, and see
