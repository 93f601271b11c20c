"""The result message of a job: who asked, what came out, the files, and the track's buttons."""

from __future__ import annotations

import discord

from bot.jobs.models import DeliveredTake, Delivery

RESULT_COLOUR = discord.Colour.from_rgb(120, 86, 255)

OPERATION_NOUN = {"song": "song", "music": "instrumental"}


def format_duration(seconds: float | None) -> str:
    """`3:07`; `?` when unknown."""
    if seconds is None:
        return "?"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def describe_take(take: DeliveredTake) -> str:
    """One line per take: its length, and what was done to make it fit."""
    line = f"**Take {take.index}**: {format_duration(take.duration)}"
    if take.path is None:
        return f"{line}, too large to attach ({take.too_large_reason}); use the link button"
    if take.transcoded_kbps is not None:
        line += f", re-encoded at {take.transcoded_kbps} kbps to fit Discord's upload limit"
    return line


def result_embed(delivery: Delivery) -> discord.Embed:
    """The card of a finished track."""
    order = delivery.order
    noun = OPERATION_NOUN.get(order.operation, order.operation)
    embed = discord.Embed(
        title=delivery.song_name or f"Your {noun}",
        colour=RESULT_COLOUR,
        description="\n".join(describe_take(take) for take in delivery.takes) or "No audio.",
    )
    if order.prompt:
        embed.add_field(name="Prompt", value=_clip(order.prompt, 1024), inline=False)
    licenses = sorted({take.license for take in delivery.takes if take.license})
    if licenses:
        embed.add_field(name="License", value=", ".join(licenses))
    embed.add_field(name="Made in", value=f"{delivery.elapsed_seconds:.0f} s")
    embed.add_field(name="Version", value=order.version)
    if delivery.album_art_path is not None:
        embed.set_thumbnail(url=f"attachment://{delivery.album_art_path.name}")
    embed.set_footer(text=f"Job {delivery.job_id}")
    return embed


def result_view(delivery: Delivery) -> discord.ui.View:
    """Buttons under a result: actions on the track, and links to takes that did not fit."""
    from bot.ui.buttons import DeleteTrackButton, VariationButton

    view = discord.ui.View(timeout=None)
    if delivery.track_ids:
        first = delivery.track_ids[0]
        view.add_item(VariationButton(first))
        view.add_item(DeleteTrackButton(first))
    for take in delivery.takes:
        if take.path is None and take.audio_url.startswith(("https://", "http://")):
            view.add_item(
                discord.ui.Button(
                    label=f"Take {take.index} (link)",
                    url=take.audio_url[:512],
                    style=discord.ButtonStyle.link,
                )
            )
    return view


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


def result_message(
    delivery: Delivery, requester_id: int
) -> tuple[str, discord.Embed, list[discord.File], discord.ui.View]:
    """Content, embed, files and view of the result message (files are fresh each call)."""
    noun = OPERATION_NOUN.get(delivery.order.operation, delivery.order.operation)
    content = f"<@{requester_id}> your {noun} is ready."
    return content, result_embed(delivery), result_files(delivery), result_view(delivery)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
