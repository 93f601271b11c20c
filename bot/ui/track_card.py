"""The result message of a job: who asked, what came out, the files, and the track's buttons."""

from __future__ import annotations

import discord

from bot.jobs.inputs import clock_time
from bot.jobs.models import DeliveredTake, Delivery
from bot.storage import Track
from bot.ui.text import clip

RESULT_COLOUR = discord.Colour.from_rgb(120, 86, 255)

OPERATION_NOUN = {
    "song": "song",
    "music": "instrumental",
    "extend_song": "extended song",
    "extend_music": "extended instrumental",
    "singing": "singing",
    "stems": "stems",
    "loop": "loop",
    "gen_loop": "loop",
    "text_to_music": "music",
}


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
    line = f"**Take {take.index}**: {format_duration(take.duration)}"
    if take.path is None:
        return f"{line}, too large to attach ({take.too_large_reason}); use the link button"
    if take.transcoded_kbps is not None:
        line += f", re-encoded at {take.transcoded_kbps} kbps to fit Discord's upload limit"
    return line


def result_embed(delivery: Delivery, parent_link: str | None = None) -> discord.Embed:
    """The card of a finished track."""
    order = delivery.order
    noun = OPERATION_NOUN.get(order.operation, order.operation)
    embed = discord.Embed(
        title=delivery.song_name or f"Your {noun}",
        colour=RESULT_COLOUR,
        description="\n".join(describe_take(take) for take in delivery.takes) or "No audio.",
    )
    if order.prompt:
        embed.add_field(name="Prompt", value=clip(order.prompt, 1024, one_line=False), inline=False)
    licenses = sorted({take.license for take in delivery.takes if take.license})
    if licenses:
        embed.add_field(name="License", value=", ".join(licenses))
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
    embed.set_footer(text=f"Job {delivery.job_id}")
    return embed


def track_actions(view: discord.ui.View, track_id: int) -> discord.ui.View:
    """The follow-ups every result carries (rows 0 and 1), all restart-proof."""
    from bot.ui.buttons import DeleteTrackButton, VariationButton
    from bot.ui.followups import ExtendButton, LoopButton, LyricsButton, StemsSelect

    for item in (
        ExtendButton(track_id),
        LoopButton(track_id),
        VariationButton(track_id),
        LyricsButton(track_id),
        DeleteTrackButton(track_id),
        StemsSelect(track_id),
    ):
        view.add_item(item)
    return view


def result_view(delivery: Delivery) -> discord.ui.View:
    """Buttons under a result: actions on the track, and links to takes that did not fit."""
    view = discord.ui.View(timeout=None)
    if delivery.track_ids:
        track_actions(view, delivery.track_ids[0])
    links = [take for take in delivery.takes if take.path is None]
    for take in links[:5]:
        if take.audio_url.startswith(("https://", "http://")):
            view.add_item(
                discord.ui.Button(
                    label=f"{take.song_name or 'Take'} {take.index} (link)"[:80],
                    url=take.audio_url[:512],
                    style=discord.ButtonStyle.link,
                    row=2,
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
    delivery: Delivery, requester_id: int, parent_link: str | None = None
) -> tuple[str, discord.Embed, list[discord.File], discord.ui.View]:
    """Content, embed, files and view of the result message (files are fresh each call)."""
    noun = OPERATION_NOUN.get(delivery.order.operation, delivery.order.operation)
    verb = "are" if noun.endswith("s") and noun != "singing" else "is"
    content = f"<@{requester_id}> your {noun} {verb} ready."
    embed = result_embed(delivery, parent_link)
    return content, embed, result_files(delivery), result_view(delivery)
