"""How errors reach a member: precise ephemeral text for what they can fix, an error id otherwise.

The order of the checks is the documented order of the handler:
1. quota refusals, with the reset time;
2. errors a member can fix (`UserFacingError`, argument and permission checks, cooldowns);
3. errors from Soundverse, whose messages say what went wrong (moderation, validation, ...);
4. everything else: a short apology with an error id; the traceback goes to the log with that id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.jobs.failures import describe_failure
from bot.storage import QuotaExceeded, RefusalReason
from bot.ui.text import DESCRIPTION_LIMIT, clip
from bot.words import counted

log = logging.getLogger(__name__)

ERROR_COLOUR = discord.Colour.red()


@dataclass(frozen=True, slots=True)
class ErrorReport:
    """What a member is told, and the id under which the traceback was logged (if any)."""

    text: str
    error_id: str | None = None


def describe_quota_refusal(error: QuotaExceeded) -> str:
    """The quota refusal with its reset time as a Discord relative timestamp."""
    reset = discord.utils.format_dt(error.reset_at, style="R")
    if error.reason is RefusalReason.CONCURRENT_JOBS:
        return (
            f"You already have {counted(error.limit, 'job')} in progress (running or queued), "
            "the most allowed at once. "
            "Wait for one to finish or cancel it."
        )
    holder = "this server has" if error.reason is RefusalReason.GUILD_LIMIT else "you have"
    return (
        f"Not enough quota: this needs {error.requested} unit(s) and {holder} "
        f"{error.left} of {error.limit} left. It resets {reset}."
    )


def describe_check_failure(error: app_commands.CheckFailure) -> str:
    """A precise line for the permission and context checks of discord.py."""
    if isinstance(error, app_commands.MissingPermissions):
        missing = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"You need the {missing} permission to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"I need the {missing} permission in this channel."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works in a server, not in direct messages."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    return str(error) or "You can't use this command here."


def report_for(error: BaseException) -> ErrorReport:
    """Decide what a member sees for `error`; logs unexpected ones with a fresh error id."""
    original = error
    if isinstance(error, app_commands.CommandInvokeError):
        original = error.original
    if isinstance(original, QuotaExceeded):
        return ErrorReport(describe_quota_refusal(original))
    if isinstance(original, UserFacingError):
        return ErrorReport(str(original))
    if isinstance(original, app_commands.TransformerError):
        if isinstance(original.__cause__, UserFacingError):  # an option read by our own rule
            return ErrorReport(str(original.__cause__))
        return ErrorReport(f"`{original.value}` is not a valid {original.type.name.lower()}.")
    if isinstance(original, app_commands.CheckFailure):
        return ErrorReport(describe_check_failure(original))
    text, error_id = describe_failure(original)
    return ErrorReport(text, error_id)


def error_embed(report: ErrorReport) -> discord.Embed:
    """The report as a red embed, within Discord's description limit whatever it echoes."""
    text = clip(report.text, DESCRIPTION_LIMIT, one_line=False)
    return discord.Embed(description=text, colour=ERROR_COLOUR)


async def send_error(interaction: discord.Interaction, report: ErrorReport) -> None:
    """Show `report` to the member who acted, ephemerally, whether or not we already answered."""
    embed = error_embed(report)
    quiet = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=quiet)
        else:
            await interaction.response.send_message(
                embed=embed, ephemeral=True, allowed_mentions=quiet
            )
    except discord.HTTPException:
        log.warning("Could not tell the member about an error: %s", report.text)


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """The one error handler: tell the member what went wrong, privately (`report_for`)."""
    await send_error(interaction, report_for(error))


async def refuse(interaction: discord.Interaction, report: ErrorReport) -> None:
    """Turn a public "thinking" response into an ephemeral refusal that only the member sees."""
    if interaction.response.is_done():
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.info("Could not remove the thinking message before refusing")
    await send_error(interaction, report)


async def refuse_through(
    followup: discord.Webhook, thinking_message_id: int, report: ErrorReport
) -> None:
    """`refuse`, once the interaction object is gone: through its follow-up webhook, removing
    the "thinking" message by its id."""
    try:
        await followup.delete_message(thinking_message_id)
    except discord.HTTPException:
        log.info("Could not remove the thinking message before refusing")
    try:
        await followup.send(
            embed=error_embed(report),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
    except discord.HTTPException:
        log.warning("Could not tell the member about an error: %s", report.text)
