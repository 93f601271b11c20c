"""The lyrics card: lyrics laid out within Discord's message limits, and read back from it.

The card's buttons keep no state in memory: the prompt and options are read back from the
card's first embed and the lyrics from its embed descriptions, so they work after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import discord

from bot.errors import UserFacingError
from bot.soundverse import LyricsRequest
from bot.soundverse.limits import LYRICS_MAX_CHARS, PROMPT_MAX_CHARS
from bot.ui.text import FIELD_VALUE_LIMIT, plain, shown, unplain

DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
MESSAGE_EMBEDS_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10
# More than this many messages is a wall of text, not a card; the rest is left out, and said so.
MAX_MESSAGES = 5
# Room kept in every message for the "Part 2 of 3" footer.
FOOTER_ROOM = 64

TITLE_PREFIX = "📝 "
PROMPT_FIELD = "Prompt"
OPTION_FIELDS = (("mood", "Mood"), ("section", "Section"), ("genre", "Genre"))
LYRICS_COLOUR = discord.Colour.teal()
SECTION_HEADER = re.compile(r"\s*\[[^\]\n]+\]\s*")


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


def trimmed_lyrics(lyrics: str, limit: int = LYRICS_MAX_CHARS) -> str:
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
        prompt = shown(request.prompt, FIELD_VALUE_LIMIT, one_line=False)
        embed.add_field(name=PROMPT_FIELD, value=prompt, inline=False)
    for attribute, name in OPTION_FIELDS:
        value = getattr(request, attribute)
        if value is not None:
            embed.add_field(name=name, value=plain(value), inline=True)
    return embed


def part_line(index: int, shown: int, cut_short: bool) -> str:
    line = f"Part {index + 1} of {shown}"
    if cut_short and index + 1 == shown:
        line += " · the rest was too long for Discord"
    return line


def card_messages(request: LyricsRequest, lyrics: str) -> list[list[discord.Embed]]:
    """The embeds of each message of the card; the header opens the first message."""
    header = header_embed(request)
    # Made plain before it is laid out, so the limits count what Discord receives.
    pages = lyrics_pages(plain(lyrics), first_overhead=len(header))
    kept = pages[:MAX_MESSAGES]
    messages: list[list[discord.Embed]] = []
    for index, descriptions in enumerate(kept):
        embeds = [discord.Embed(description=text, colour=LYRICS_COLOUR) for text in descriptions]
        if index == 0:
            header.description = descriptions[0] if descriptions else None
            embeds[:1] = [header]
        if len(pages) > 1:
            embeds[-1].set_footer(text=part_line(index, len(kept), len(pages) > len(kept)))
        messages.append(embeds)
    return messages


def request_from_card(message: discord.Message) -> LyricsRequest:
    """The request a lyrics card was written for, read back from its first embed."""
    header = message.embeds[0] if message.embeds else None
    title = header.title if header is not None else None
    if header is None or title is None or not title.startswith(TITLE_PREFIX):
        raise UserFacingError("This message is not a lyrics card any more.")
    fields = {field.name: field.value for field in header.fields}
    prompt = unplain(fields.get(PROMPT_FIELD) or title.removeprefix(TITLE_PREFIX))
    options = {attribute: _read_back(fields.get(name)) for attribute, name in OPTION_FIELDS}
    return LyricsRequest(prompt=prompt, **options)


def lyrics_from_card(message: discord.Message) -> str:
    """The lyrics a card message shows (a long card's later messages are not included)."""
    return unplain(
        joined_chunks(embed.description for embed in message.embeds if embed.description)
    )


def _read_back(value: str | None) -> str | None:
    return None if value is None else unplain(value)


def song_prompt(request: LyricsRequest) -> str:
    """The song prompt the form starts with: the lyrics' prompt, with genre and mood if given."""
    extras = [text for text in (request.genre, request.mood and f"{request.mood} mood") if text]
    prompt = f"{request.prompt} ({', '.join(extras)})" if extras else request.prompt
    return prompt if len(prompt) <= PROMPT_MAX_CHARS else request.prompt[:PROMPT_MAX_CHARS]
