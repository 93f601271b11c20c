"""The lyrics card: lyrics laid out within Discord's message limits, and its restart-proof buttons.

The buttons keep no state in memory: the prompt and options are read back from the card's
first embed and the lyrics from its embed descriptions, so they work after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.errors import UserFacingError
from bot.soundverse import LyricsRequest, LyricsResult, UpstreamError, UpstreamTimeout
from bot.ui.errors import refuse, report_for, send_error
from bot.ui.launch import role_ids
from bot.ui.text import bot_of

if TYPE_CHECKING:
    from bot.app import SoundverseBot

DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
MESSAGE_EMBEDS_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
# More than this many messages is a wall of text, not a card; the rest is left out, and said so.
MAX_MESSAGES = 5
# Room kept in every message for the "Part 2 of 3" footer.
FOOTER_ROOM = 64
SONG_LYRICS_LIMIT = 3000
SONG_PROMPT_LIMIT = 1024

TITLE_PREFIX = "📝 "
PROMPT_FIELD = "Prompt"
OPTION_FIELDS = (("mood", "Mood"), ("section", "Section"), ("genre", "Genre"))
LYRICS_COLOUR = discord.Colour.teal()
SECTION_HEADER = re.compile(r"\s*\[[^\]\n]+\]\s*")

SONG_FORM_ID = "lyrics:song-form"
FORM_PROMPT_ID = "prompt"
FORM_LYRICS_ID = "lyrics"
OPERATION = "lyrics"


# --- laying out the text ----------------------------------------------------------------------


def broken_line(line: str, limit: int) -> list[str]:
    """`line` in pieces of at most `limit` characters, cut at a space where there is one."""
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 1, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    pieces.append(line)
    return [piece for piece in pieces if piece]


def lyric_lines(lyrics: str, longest: int = DESCRIPTION_LIMIT) -> list[str]:
    """The lines of `lyrics` without trailing spaces, one blank line at most between sections
    and none at either end; only a line longer than `longest` is broken (at a space)."""
    lines: list[str] = []
    for raw in lyrics.splitlines():
        line = raw.rstrip()
        if line:
            lines.extend(broken_line(line, longest))
        elif lines and lines[-1]:
            lines.append("")
    while lines and not lines[-1]:
        lines.pop()
    return lines


def starts_section(text: str) -> bool:
    """Whether `text` begins with a section header such as `[Chorus]`."""
    return SECTION_HEADER.fullmatch(text.split("\n", 1)[0]) is not None


def chunk_end(lines: Sequence[str], start: int, limit: int) -> int:
    """Where the embed that starts at `lines[start]` ends (exclusive) within `limit` characters.

    As many whole lines as fit; when the rest does not fit, the cut moves back to the last
    section break if the embed stays at least half full. Returns `start` if no line fits.
    """
    size = -1
    end = start
    while end < len(lines) and size + 1 + len(lines[end]) <= limit:
        size += 1 + len(lines[end])
        end += 1
    if end == len(lines):
        return end
    for blank in range(end - 1, start, -1):
        if not lines[blank]:
            return blank if len("\n".join(lines[start:blank])) >= limit // 2 else end
    return end


def cuts_section(lines: Sequence[str], end: int) -> bool:
    """Whether ending an embed before `lines[end]` leaves a section half shown."""
    return 0 < end < len(lines) and bool(lines[end]) and bool(lines[end - 1])


def lyrics_pages(lyrics: str, first_overhead: int = 0) -> list[list[str]]:
    """The embed descriptions of each message, the first message having `first_overhead`
    characters of header already; never cuts a line that fits in one embed."""
    lines = lyric_lines(lyrics)
    pages: list[list[str]] = [[]]
    room = MESSAGE_EMBEDS_LIMIT - FOOTER_ROOM - first_overhead
    start = 0
    while start < len(lines):
        if not lines[start]:
            start += 1
            continue
        limit = min(DESCRIPTION_LIMIT, room)
        end = chunk_end(lines, start, limit)
        # The room left at the end of a message never splits a section: it opens the next one.
        leftover_splits_section = limit < DESCRIPTION_LIMIT and cuts_section(lines, end)
        if (
            end == start
            or len(pages[-1]) == EMBEDS_PER_MESSAGE
            or (pages[-1] and leftover_splits_section)
        ):
            pages.append([])
            room = MESSAGE_EMBEDS_LIMIT - FOOTER_ROOM
            continue
        chunk = "\n".join(lines[start:end]).strip("\n")
        pages[-1].append(chunk)
        room -= len(chunk)
        start = end
    return pages


def joined_chunks(chunks: Iterable[str]) -> str:
    """The lyrics that `lyrics_pages` split: a chunk opening a section follows a blank line."""
    text = ""
    for chunk in chunks:
        if text:
            text += "\n\n" if starts_section(chunk) else "\n"
        text += chunk
    return text


def trimmed_lyrics(lyrics: str, limit: int = SONG_LYRICS_LIMIT) -> str:
    """The longest run of whole lines within `limit` characters, not ending on a header."""
    kept: list[str] = []
    size = -1
    for line in lyric_lines(lyrics, longest=limit):
        if size + 1 + len(line) > limit:
            break
        kept.append(line)
        size += 1 + len(line)
    while kept and (not kept[-1] or starts_section(kept[-1])):
        kept.pop()
    return "\n".join(kept)


# --- the card ---------------------------------------------------------------------------------


def title_text(prompt: str) -> str:
    """The prompt on one line, shortened (at a space where it can) to fit an embed title."""
    flat = " ".join(prompt.split())
    room = TITLE_LIMIT - len(TITLE_PREFIX)
    if len(flat) <= room:
        return flat
    cut = flat.rfind(" ", 0, room)
    if cut < room // 2:
        cut = room - 1
    return flat[:cut].rstrip() + "…"


def header_embed(request: LyricsRequest) -> discord.Embed:
    """The first embed: the prompt as title (in full in a field when the title cannot hold it)
    and the options that were given."""
    title = title_text(request.prompt)
    embed = discord.Embed(title=TITLE_PREFIX + title, colour=LYRICS_COLOUR)
    if title != request.prompt:
        embed.add_field(name=PROMPT_FIELD, value=request.prompt, inline=False)
    for attribute, name in OPTION_FIELDS:
        value = getattr(request, attribute)
        if value is not None:
            embed.add_field(name=name, value=value, inline=True)
    return embed


def part_line(index: int, shown: int, cut_short: bool) -> str:
    line = f"Part {index + 1} of {shown}"
    if cut_short and index + 1 == shown:
        line += " · the rest was too long for Discord"
    return line


def card_messages(request: LyricsRequest, lyrics: str) -> list[list[discord.Embed]]:
    """The embeds of each message of the card; the header opens the first message."""
    header = header_embed(request)
    pages = lyrics_pages(lyrics, first_overhead=len(header))
    shown = pages[:MAX_MESSAGES]
    messages: list[list[discord.Embed]] = []
    for index, descriptions in enumerate(shown):
        embeds = [discord.Embed(description=text, colour=LYRICS_COLOUR) for text in descriptions]
        if index == 0:
            header.description = descriptions[0] if descriptions else None
            embeds[:1] = [header]
        if len(pages) > 1:
            embeds[-1].set_footer(text=part_line(index, len(shown), len(pages) > len(shown)))
        messages.append(embeds)
    return messages


def request_from_card(message: discord.Message) -> LyricsRequest:
    """The request a lyrics card was written for, read back from its first embed."""
    header = message.embeds[0] if message.embeds else None
    title = header.title if header is not None else None
    if header is None or title is None or not title.startswith(TITLE_PREFIX):
        raise UserFacingError("This message is not a lyrics card any more.")
    fields = {field.name: field.value for field in header.fields}
    prompt = fields.get(PROMPT_FIELD) or title.removeprefix(TITLE_PREFIX)
    options = {attribute: fields.get(name) for attribute, name in OPTION_FIELDS}
    return LyricsRequest(prompt=prompt, **options)


def lyrics_from_card(message: discord.Message) -> str:
    """The lyrics a card message shows (a long card's later messages are not included)."""
    return joined_chunks(embed.description for embed in message.embeds if embed.description)


def song_prompt(request: LyricsRequest) -> str:
    """The song prompt the form starts with: the lyrics' prompt, with genre and mood if given."""
    extras = [text for text in (request.genre, request.mood and f"{request.mood} mood") if text]
    prompt = f"{request.prompt} ({', '.join(extras)})" if extras else request.prompt
    return prompt if len(prompt) <= SONG_PROMPT_LIMIT else request.prompt[:SONG_PROMPT_LIMIT]


# --- writing and posting ----------------------------------------------------------------------


async def written_lyrics(
    bot: SoundverseBot, interaction: discord.Interaction[Any], request: LyricsRequest
) -> LyricsResult:
    """Ask Soundverse for the lyrics, paid through the quota like any other operation."""
    return await bot.job_service.billed_call(
        operation=OPERATION,
        guild_id=interaction.guild_id,
        user_id=interaction.user.id,
        role_ids=role_ids(interaction),
        call=lambda: lyrics_from_soundverse(bot, request),
    )


async def lyrics_from_soundverse(bot: SoundverseBot, request: LyricsRequest) -> LyricsResult:
    """The lyrics call; a failure on Soundverse's side is said to be worth retrying."""
    try:
        result = await bot.soundverse.lyrics(request)
    except (UpstreamError, UpstreamTimeout) as error:
        raise UserFacingError(
            f"Soundverse could not write these lyrics ({error}). Try again in a moment."
        ) from error
    if not result.lyrics.strip():
        raise UserFacingError("Soundverse returned no lyrics for this prompt; try rewording it.")
    return result


async def send_card(
    interaction: discord.Interaction[Any], messages: Sequence[Sequence[discord.Embed]]
) -> None:
    """The card on the deferred response, then its later parts as follow-ups; pings nobody."""
    quiet = discord.AllowedMentions.none()
    first, *rest = messages
    await interaction.edit_original_response(
        embeds=list(first), view=card_view(), allowed_mentions=quiet
    )
    for embeds in rest:
        await interaction.followup.send(embeds=list(embeds), allowed_mentions=quiet)


async def post_lyrics_card(
    bot: SoundverseBot, interaction: discord.Interaction[Any], request: LyricsRequest
) -> None:
    """Acknowledge at once, write the lyrics and post their card; a failure is told privately."""
    await interaction.response.defer(thinking=True)
    try:
        result = await written_lyrics(bot, interaction, request)
        await send_card(interaction, card_messages(request, result.lyrics))
    except Exception as error:
        await refuse(interaction, report_for(error))


# --- the form and the buttons -----------------------------------------------------------------


class SongForm(discord.ui.Modal):
    """The "Make it a song" form, prefilled from a lyrics card.

    This object only describes the form: its submission is handled from `SONG_FORM_ID`
    by the lyrics cog, so a form left open across a restart still works. All forms share
    that custom_id, so discord.py's modal store holds at most one of them.
    """

    def __init__(self, prompt: str, lyrics: str) -> None:
        super().__init__(title="Make it a song", custom_id=SONG_FORM_ID)
        self.add_item(
            discord.ui.Label(
                text="Prompt",
                description="How the song should sound (up to 1024 characters)",
                component=discord.ui.TextInput(
                    custom_id=FORM_PROMPT_ID,
                    style=discord.TextStyle.paragraph,
                    default=prompt or None,
                    max_length=SONG_PROMPT_LIMIT,
                ),
            )
        )
        self.add_item(
            discord.ui.Label(
                text="Lyrics",
                description=f"Sung as written (up to {SONG_LYRICS_LIMIT} characters)",
                component=discord.ui.TextInput(
                    custom_id=FORM_LYRICS_ID,
                    style=discord.TextStyle.paragraph,
                    default=lyrics or None,
                    max_length=SONG_LYRICS_LIMIT,
                ),
            )
        )


def is_song_form(interaction: discord.Interaction[Any]) -> bool:
    """Whether `interaction` is the submission of a "Make it a song" form."""
    data = cast("Mapping[str, Any]", interaction.data or {})
    return (
        interaction.type is discord.InteractionType.modal_submit
        and data.get("custom_id") == SONG_FORM_ID
    )


def submitted_values(components: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The text inputs of a modal submission by custom_id, inside action rows or labels."""
    values: dict[str, str] = {}
    for component in components:
        nested = list(component.get("components") or [])
        if isinstance(component.get("component"), Mapping):
            nested.append(component["component"])
        values.update(submitted_values(nested))
        if "custom_id" in component and isinstance(component.get("value"), str):
            values[str(component["custom_id"])] = component["value"]
    return values


def song_form_values(interaction: discord.Interaction[Any]) -> tuple[str, str]:
    """The prompt and the lyrics a member submitted in the song form."""
    data = cast("Mapping[str, Any]", interaction.data or {})
    values = submitted_values(data.get("components") or [])
    return values.get(FORM_PROMPT_ID, ""), values.get(FORM_LYRICS_ID, "")


class MakeSongButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"lyrics:song"):
    """Open the song form prefilled with the card's prompt and lyrics."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Make it a song",
                emoji="🎤",
                style=discord.ButtonStyle.primary,
                custom_id="lyrics:song",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> MakeSongButton:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            card = card_of(interaction)
            form = SongForm(
                song_prompt(request_from_card(card)), trimmed_lyrics(lyrics_from_card(card))
            )
            await interaction.response.send_modal(form)
        except Exception as error:
            await send_error(interaction, report_for(error))


class RegenerateLyricsButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"lyrics:again"
):
    """Write lyrics for the card's request again and post them as a new card."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Regenerate",
                emoji="🔁",
                style=discord.ButtonStyle.secondary,
                custom_id="lyrics:again",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RegenerateLyricsButton:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            request = request_from_card(card_of(interaction))
        except Exception as error:
            await send_error(interaction, report_for(error))
            return
        await post_lyrics_card(bot_of(interaction), interaction, request)


def card_of(interaction: discord.Interaction[Any]) -> discord.Message:
    if interaction.message is None:
        raise UserFacingError("This lyrics card can no longer be read.")
    return interaction.message


def card_view() -> discord.ui.View:
    """The card's buttons; they carry no state, so they survive restarts."""
    view = discord.ui.View(timeout=None)
    view.add_item(MakeSongButton())
    view.add_item(RegenerateLyricsButton())
    return view


LYRICS_DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    MakeSongButton,
    RegenerateLyricsButton,
)
