"""The result message of a job: who asked, what came out, the files, and what can follow.

The row of follow-ups under a result is whatever the loaded features contribute
(`bot.ui.follow_ups`); the card itself names none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import discord

from bot.jobs.inputs import clock_time
from bot.jobs.models import DeliveredTake, Delivery
from bot.jobs.operations import Operation
from bot.storage import Track
from bot.ui.follow_ups import FollowUpRegistry, ResultTrack
from bot.ui.take_actions import take_menu
from bot.ui.text import BUTTON_LABEL_LIMIT, FIELD_VALUE_LIMIT, TITLE_LIMIT, clip, shown

RESULT_COLOUR = discord.Colour.from_rgb(120, 86, 255)
BUTTONS_PER_ROW = 5
ROWS = 5
LINKS_SHOWN = 5


def result_marker(track_ids: Sequence[int]) -> str:
    """What marks a result: the public ids of its tracks (`Tracks #34 #35`), the ids members
    see on every card and type into track options. Its footer, or its last line."""
    ids = " ".join(f"#{track_id}" for track_id in track_ids)
    return f"Track {ids}" if len(track_ids) == 1 else f"Tracks {ids}"


def shows_result(message: discord.Message, track_ids: Sequence[int]) -> bool:
    """Whether `message` is the result holding exactly `track_ids`, full or minimal."""
    marker = result_marker(track_ids)
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


def original_format(take: DeliveredTake) -> str:
    """The format Soundverse delivered the take in (`WAV`), from its address."""
    suffix = urlsplit(take.audio_url).path.rsplit(".", 1)[-1]
    return suffix.upper() if 2 <= len(suffix) <= 4 and suffix.isalnum() else "original"


def describe_take(
    take: DeliveredTake,
    card_title: str | None = None,
    only: str | None = None,
    track_id: int | None = None,
) -> str:
    """One line per file: what it is (`only`: the name of a result's single file) and its
    public id (`#34`, what track options take), its own title when the card's is another,
    its length, and what was done to make it fit."""
    line = f"**{only if only and take.role is None else take.label}**"
    if track_id is not None:
        line += f" #{track_id}"
    if take.song_name and take.role is None and take.song_name != card_title:
        line += f" · {shown(take.song_name, TITLE_LIMIT)}"
    if take.duration is not None:
        line += f": {format_duration(take.duration)}"
    if take.path is None:
        return f"{line}, not attached: {take.not_attached_reason}. Use its link button"
    if take.transcoded_kbps is not None:
        line += (
            f", re-encoded at {take.transcoded_kbps} kbps to fit Discord's upload limit "
            f"(the {original_format(take)} original is linked below)"
        )
    return line


def ids_of(delivery: Delivery) -> list[int | None]:
    """Each take's track id (None before the tracks are recorded)."""
    ids: list[int | None] = list(delivery.track_ids)
    return (ids + [None] * len(delivery.takes))[: len(delivery.takes)]


def result_embed(delivery: Delivery, parent_link: str | None = None) -> discord.Embed:
    """The card of a finished track."""
    order = delivery.order
    takes = delivery.takes
    title = delivery.song_name or (takes[0].song_name if len(takes) == 1 else None)
    only = order.operation.noun.capitalize() if len(takes) == 1 else None
    embed = discord.Embed(
        title=shown(title or f"Your {order.operation.noun}", TITLE_LIMIT),
        colour=RESULT_COLOUR,
        description="\n".join(
            describe_take(take, title, only, track_id)
            for take, track_id in zip(takes, ids_of(delivery), strict=True)
        )
        or "No audio.",
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
    elif delivery.order.source_name is not None:
        embed.add_field(
            name="Made from",
            value=f"{shown(delivery.order.source_name, FIELD_VALUE_LIMIT)} (an upload)",
            inline=False,
        )
    embed.add_field(name="Made in", value=f"{delivery.elapsed_seconds:.0f} s")
    embed.add_field(name="Version", value=order.version)
    if delivery.album_art_path is not None:
        embed.set_thumbnail(url=f"attachment://{delivery.album_art_path.name}")
    embed.set_footer(text=result_marker(delivery.track_ids))
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
    """Links to the takes that were too large to attach, and to the originals of takes that
    had to be re-encoded (a lossless stem stays reachable)."""
    links: list[discord.ui.Button[Any]] = []
    for take in delivery.takes:
        if not take.audio_url.startswith(("https://", "http://")):
            continue
        if take.path is None:
            label = f"{take.label} (link)"
        elif take.transcoded_kbps is not None:
            label = f"{take.label} ({original_format(take)} original)"
        else:
            continue
        links.append(
            discord.ui.Button(
                label=clip(label, BUTTON_LABEL_LIMIT),
                url=take.audio_url[:512],
                style=discord.ButtonStyle.link,
            )
        )
    return links[:LINKS_SHOWN]


def result_view(delivery: Delivery, registry: FollowUpRegistry) -> discord.ui.View:
    """Under a result: the buttons of what can follow its first file, a menu of the same for
    each other file, and links to files that did not fit (or to lossless originals)."""
    links = link_buttons(delivery)
    if not delivery.track_ids:
        return laid_out([], links)
    operation = delivery.order.operation
    items = registry.items_for(ResultTrack(delivery.track_ids[0], operation))
    for take, track_id in zip(delivery.takes[1:], delivery.track_ids[1:], strict=False):
        menu = take_menu(registry, track_id, operation, take.label)
        if menu is not None:
            items.append(menu)
    return laid_out(items, links)


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
            label=clip(take.label, BUTTON_LABEL_LIMIT),
            url=take.audio_url[:512],
            style=discord.ButtonStyle.link,
        )
        for take in delivery.takes
        if take.audio_url.startswith(("https://", "http://"))
    ]
    content = (
        f"{ready_line(delivery, requester_id)} (Discord refused the full card: links below.)"
        f"\n-# {result_marker(delivery.track_ids)}"
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
