"""The result message of a job: who asked, what came out, the files, and what can follow.

The row of follow-ups under a result is whatever the loaded features contribute
(`bot.ui.follow_ups`); the card itself names none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import discord

from bot.jobs.inputs import clock_time
from bot.jobs.models import DeliveredTake, Delivery
from bot.jobs.operations import Operation
from bot.storage import Track
from bot.ui.follow_ups import FollowUpRegistry, ResultTrack
from bot.ui.text import BUTTON_LABEL_LIMIT, FIELD_VALUE_LIMIT, TITLE_LIMIT, clip, shown

RESULT_COLOUR = discord.Colour.from_rgb(120, 86, 255)
BUTTONS_PER_ROW = 5
ROWS = 5
LINKS_SHOWN = 5


def job_marker(job_id: int) -> str:
    """What marks a result as the result of job `job_id`: its footer (or last line)."""
    return f"Job {job_id}"


def shows_job(message: discord.Message, job_id: int) -> bool:
    """Whether `message` is a result of job `job_id`, full or minimal."""
    marker = job_marker(job_id)
    if any(embed.footer.text == marker for embed in message.embeds):
        return True
    return message.content.rsplit("\n", 1)[-1] == f"-# {marker}"


def job_nonce(job_id: int) -> str:
    """The nonce of job `job_id`'s result: the same on every try, so Discord keeps one."""
    return f"sv-job-{job_id}"


def format_duration(seconds: float | None) -> str:
    """`3:07`; `?` when unknown."""
    return "?" if seconds is None else clock_time(seconds)


def message_link(track: Track) -> str | None:
    """A link to the message that shows `track`, when it was posted."""
    if track.message_id is None or track.message_channel_id is None:
        return None
    guild = track.guild_id if track.guild_id is not None else "@me"
    return f"https://discord.com/channels/{guild}/{track.message_channel_id}/{track.message_id}"


def describe_take(take: DeliveredTake) -> str:
    """One line per take: its length, and what was done to make it fit."""
    line = f"**Take {take.index}**"
    if take.duration is not None:
        line += f": {format_duration(take.duration)}"
    if take.path is None:
        return f"{line}, not attached: {take.not_attached_reason}. Use its link button"
    if take.transcoded_kbps is not None:
        line += f", re-encoded at {take.transcoded_kbps} kbps to fit Discord's upload limit"
    return line


def result_embed(delivery: Delivery, parent_link: str | None = None) -> discord.Embed:
    """The card of a finished track."""
    order = delivery.order
    embed = discord.Embed(
        title=shown(delivery.song_name or f"Your {order.operation.noun}", TITLE_LIMIT),
        colour=RESULT_COLOUR,
        description="\n".join(describe_take(take) for take in delivery.takes) or "No audio.",
    )
    if order.prompt:
        prompt = shown(order.prompt, FIELD_VALUE_LIMIT, one_line=False)
        embed.add_field(name="Prompt", value=prompt, inline=False)
    licenses = sorted({take.license for take in delivery.takes if take.license})
    if licenses:
        embed.add_field(name="License", value=shown(", ".join(licenses), FIELD_VALUE_LIMIT))
    if parent_link is not None and delivery.order.parent_track_id is not None:
        embed.add_field(
            name="Made from",
            value=f"[track #{delivery.order.parent_track_id}]({parent_link})",
            inline=False,
        )
    embed.add_field(name="Made in", value=f"{delivery.elapsed_seconds:.0f} s")
    embed.add_field(name="Version", value=order.version)
    if delivery.album_art_path is not None:
        embed.set_thumbnail(url=f"attachment://{delivery.album_art_path.name}")
    embed.set_footer(text=job_marker(delivery.job_id))
    return embed


def laid_out(
    follow_ups: Sequence[discord.ui.Item[Any]], links: Sequence[discord.ui.Button[Any]]
) -> discord.ui.View:
    """A view with the follow-ups' buttons first (five a row), each select on a row of its own,
    then the link buttons; what does not fit in Discord's five rows is left out."""
    view = discord.ui.View(timeout=None)
    buttons = [item for item in follow_ups if item.type is discord.ComponentType.button]
    others = [item for item in follow_ups if item.type is not discord.ComponentType.button]
    rows: list[list[discord.ui.Item[Any]]] = [
        buttons[start : start + BUTTONS_PER_ROW]
        for start in range(0, len(buttons), BUTTONS_PER_ROW)
    ]
    rows += [[item] for item in others]
    if links:
        rows.append(list(links[:BUTTONS_PER_ROW]))
    for number, row in enumerate(rows[:ROWS]):
        for item in row:
            item.row = number
            view.add_item(item)
    return view


def track_view(
    registry: FollowUpRegistry,
    track_id: int,
    operation: Operation,
    links: Sequence[discord.ui.Button[Any]] = (),
) -> discord.ui.View:
    """The follow-ups that apply to a track, and link buttons after them."""
    return laid_out(registry.items_for(ResultTrack(track_id, operation)), links)


def link_buttons(delivery: Delivery) -> list[discord.ui.Button[Any]]:
    """Links to the takes that were too large to attach."""
    return [
        discord.ui.Button(
            label=clip(f"{take.song_name or 'Take'} {take.index} (link)", BUTTON_LABEL_LIMIT),
            url=take.audio_url[:512],
            style=discord.ButtonStyle.link,
        )
        for take in delivery.takes
        if take.path is None and take.audio_url.startswith(("https://", "http://"))
    ][:LINKS_SHOWN]


def result_view(delivery: Delivery, registry: FollowUpRegistry) -> discord.ui.View:
    """Buttons under a result: what can follow its first take, and links to takes that did
    not fit."""
    links = link_buttons(delivery)
    if not delivery.track_ids:
        return laid_out([], links)
    return track_view(registry, delivery.track_ids[0], delivery.order.operation, links)


def result_files(delivery: Delivery) -> list[discord.File]:
    """The attachments: every take that fits, then the album art."""
    files = [
        discord.File(take.path, filename=take.filename)
        for take in delivery.takes
        if take.path is not None
    ]
    if delivery.album_art_path is not None:
        files.append(discord.File(delivery.album_art_path, filename=delivery.album_art_path.name))
    return files


ResultParts = tuple[str, discord.Embed | None, list[discord.File], discord.ui.View]


def ready_line(delivery: Delivery, requester_id: int) -> str:
    """`<@member> your song is ready.`"""
    operation = delivery.order.operation
    verb = "are" if operation.plural else "is"
    return f"<@{requester_id}> your {operation.noun} {verb} ready."


def as_links(delivery: Delivery, reason: str) -> Delivery:
    """The same result with no file attached: every take as its link, saying why."""
    takes = tuple(
        replace(take, path=None, not_attached_reason=take.not_attached_reason or reason)
        for take in delivery.takes
    )
    return replace(delivery, takes=takes, album_art_path=None)


def links_only(view: discord.ui.View) -> discord.ui.View:
    """`view` with its link buttons only: what still works outside the result's place."""
    links = [
        item
        for item in view.children
        if isinstance(item, discord.ui.Button) and item.url is not None
    ]
    return laid_out([], links)


def minimal_result_message(delivery: Delivery, requester_id: int) -> ResultParts:
    """The result when Discord refuses the full card: the line and a link to every take."""
    links: list[discord.ui.Button[Any]] = [
        discord.ui.Button(
            label=clip(f"{take.song_name or 'Take'} {take.index}", BUTTON_LABEL_LIMIT),
            url=take.audio_url[:512],
            style=discord.ButtonStyle.link,
        )
        for take in delivery.takes
        if take.audio_url.startswith(("https://", "http://"))
    ]
    content = (
        f"{ready_line(delivery, requester_id)} (Discord refused the full card: links below.)"
        f"\n-# {job_marker(delivery.job_id)}"
    )
    return content, None, [], laid_out([], links)


def result_message(
    delivery: Delivery,
    requester_id: int,
    registry: FollowUpRegistry,
    parent_link: str | None = None,
) -> ResultParts:
    """Content, embed, files and view of the result message (files are fresh each call)."""
    embed = result_embed(delivery, parent_link)
    return (
        ready_line(delivery, requester_id),
        embed,
        result_files(delivery),
        result_view(delivery, registry),
    )
