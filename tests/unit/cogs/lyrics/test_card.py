"""The lyrics card's layout within Discord's limits, its read-back, trimming and the song form."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.soundverse import LyricsRequest
from bot.soundverse.limits import LYRICS_MAX_CHARS
from cogs.lyrics.card import (
    DESCRIPTION_LIMIT,
    EMBEDS_PER_MESSAGE,
    MAX_MESSAGES,
    MESSAGE_EMBEDS_LIMIT,
    TITLE_LIMIT,
    broken_line,
    card_messages,
    joined_chunks,
    lyric_lines,
    lyrics_from_card,
    lyrics_pages,
    request_from_card,
    song_prompt,
    title_text,
    trimmed_lyrics,
)
from cogs.lyrics.components import song_form


def as_message(embeds: list[discord.Embed]) -> discord.Message:
    """Just what the card's readers look at: the embeds of a message."""
    return cast("discord.Message", SimpleNamespace(embeds=embeds))


def song_lyrics(sections: int, line: str = "We keep the silver river close tonight") -> str:
    """Lyrics with `sections` headed sections of four lines each."""
    return "\n\n".join(f"[Verse {n}]\n" + "\n".join([line] * 4) for n in range(1, sections + 1))


words = st.text(alphabet="abcdefghij", min_size=1, max_size=12)
lines = st.one_of(
    st.lists(words, min_size=1, max_size=30).map(" ".join),
    st.builds(lambda n: f"[Part {n}]", st.integers(1, 99)),
    st.just(""),
    st.integers(1, 5000).map(lambda n: "la" * n),
)
lyrics_texts = st.lists(lines, min_size=1, max_size=120).map("\n".join)


def test_broken_line_cuts_at_spaces_within_the_limit() -> None:
    """A line over the limit is cut at the last space that fits; pieces keep every word."""
    assert broken_line("one two three four", 9) == ["one two", "three", "four"]


def test_broken_line_without_spaces_is_cut_hard() -> None:
    """A single over-long word is cut at the limit itself."""
    assert broken_line("x" * 10, 4) == ["xxxx", "xxxx", "xx"]


def test_lyric_lines_normalise_blank_runs_and_trailing_spaces() -> None:
    """Blank runs become one blank line, trailing spaces and outer blank lines go."""
    text = "\n\n[Verse]  \nfirst line   \n\n\n\n[Chorus]\nsecond\n\n"
    assert lyric_lines(text) == ["[Verse]", "first line", "", "[Chorus]", "second"]


@settings(max_examples=60, deadline=None)
@given(lyrics_texts, st.integers(0, 1700))
def test_pages_respect_every_discord_limit(text: str, overhead: int) -> None:
    """Every embed holds at most 4096 characters, every message at most 10 embeds and 6000."""
    pages = lyrics_pages(text, first_overhead=overhead)
    for index, page in enumerate(pages):
        assert len(page) <= EMBEDS_PER_MESSAGE
        assert all(len(chunk) <= DESCRIPTION_LIMIT for chunk in page)
        used = sum(map(len, page)) + (overhead if index == 0 else 0)
        assert used <= MESSAGE_EMBEDS_LIMIT


@settings(max_examples=60, deadline=None)
@given(lyrics_texts)
def test_pages_never_cut_a_line_that_fits(text: str) -> None:
    """Every normalised line appears whole, in order, in the embeds."""
    pages = lyrics_pages(text)
    shown = [line for page in pages for chunk in page for line in chunk.split("\n") if line]
    assert shown == [line for line in lyric_lines(text) if line]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.integers(0, 1700))
def test_headed_sections_come_back_exactly(sections: int, overhead: int) -> None:
    """Lyrics split across embeds and messages join back to the same text."""
    text = song_lyrics(sections)
    pages = lyrics_pages(text, first_overhead=overhead)
    assert joined_chunks(chunk for page in pages for chunk in page) == text


def test_embeds_start_on_section_headers_when_they_can() -> None:
    """Splitting prefers section breaks: each embed of long lyrics opens a section."""
    pages = lyrics_pages(song_lyrics(60))
    chunks = [chunk for page in pages for chunk in page]
    assert len(chunks) > 1
    assert all(chunk.startswith("[Verse ") for chunk in chunks)


def test_title_keeps_a_short_prompt_as_is() -> None:
    """A one-line prompt that fits is the title text unchanged."""
    assert title_text("rainy lofi about trains") == "rainy lofi about trains"


def test_title_shortens_a_long_prompt_at_a_space() -> None:
    """A long prompt is shortened at a word boundary with an ellipsis, within the title limit."""
    title = title_text("word " * 100)
    assert len("📝 " + title) <= TITLE_LIMIT
    assert title.endswith("word…")


def test_card_reads_back_its_request() -> None:
    """Prompt and options written on the card are read back as the same request."""
    request = LyricsRequest(prompt="rainy trains", mood="sad", section="chorus", genre="rock")
    first = card_messages(request, song_lyrics(2))[0]
    assert request_from_card(as_message(first)) == request


def test_card_keeps_a_long_prompt_whole() -> None:
    """A prompt too long for the title is kept whole in a field and read back exactly."""
    request = LyricsRequest(prompt="a very long prompt " * 50)
    header = card_messages(request, song_lyrics(1))[0][0]
    assert len(header.title or "") <= TITLE_LIMIT
    assert request_from_card(as_message([header])) == request


def test_card_reads_back_its_lyrics() -> None:
    """The lyrics of a one-message card are read back exactly."""
    text = song_lyrics(8)
    first = card_messages(LyricsRequest(prompt="rain"), text)[0]
    assert lyrics_from_card(as_message(first)) == text


def test_first_message_holds_what_the_song_form_needs() -> None:
    """Even for long lyrics the first message carries the 3000 characters the form takes."""
    text = song_lyrics(200)
    first = card_messages(LyricsRequest(prompt="rain " * 200), text)[0]
    assert trimmed_lyrics(lyrics_from_card(as_message(first))) == trimmed_lyrics(text)


def test_card_messages_stay_within_message_limits() -> None:
    """Each message's embeds, header and footer included, fit Discord's 6000 total."""
    request = LyricsRequest(prompt="p" * 1024, mood="m" * 100, section="s" * 100, genre="g" * 100)
    for embeds in card_messages(request, song_lyrics(40, line="la " * 300)):
        assert len(embeds) <= EMBEDS_PER_MESSAGE
        assert sum(len(embed) for embed in embeds) <= MESSAGE_EMBEDS_LIMIT


def test_parts_are_numbered_in_footers() -> None:
    """A card of several messages says which part each message is."""
    messages = card_messages(LyricsRequest(prompt="rain"), song_lyrics(60))
    assert len(messages) > 1
    footers = [embeds[-1].footer.text for embeds in messages]
    assert footers == [f"Part {n} of {len(messages)}" for n in range(1, len(messages) + 1)]


def test_overly_long_lyrics_are_cut_short_and_say_so() -> None:
    """Past the message cap the card stops, and its last footer says the rest was left out."""
    messages = card_messages(LyricsRequest(prompt="rain"), song_lyrics(1000))
    assert len(messages) == MAX_MESSAGES
    assert "too long for Discord" in (messages[-1][-1].footer.text or "")


def test_trimmed_lyrics_keep_whole_lines_within_the_song_limit() -> None:
    """Trimming keeps whole lines, stays within 3000 characters and ends on a sung line."""
    text = song_lyrics(40)
    trimmed = trimmed_lyrics(text)
    assert len(trimmed) <= LYRICS_MAX_CHARS
    assert text.startswith(trimmed)
    assert not trimmed.endswith("]")
    assert trimmed.split("\n")[-1] == "We keep the silver river close tonight"


def test_short_lyrics_are_not_trimmed() -> None:
    """Lyrics within the limit reach the form unchanged."""
    assert trimmed_lyrics(song_lyrics(3)) == song_lyrics(3)


def test_song_prompt_adds_genre_and_mood() -> None:
    """The form's prompt is the lyrics prompt with the genre and mood that were given."""
    request = LyricsRequest(prompt="rainy trains", mood="sad", genre="rock")
    assert song_prompt(request) == "rainy trains (rock, sad mood)"
    assert song_prompt(LyricsRequest(prompt="rainy trains")) == "rainy trains"


def test_song_form_fits_discord_modal_limits() -> None:
    """The form has a title of at most 45 characters and two prefilled text inputs."""
    form = song_form("a prompt", "some lyrics").to_dict()
    assert 1 <= len(form["title"]) <= 45
    assert 1 <= len(form["components"]) <= 5
    inputs = [component["component"] for component in form["components"]]
    assert [(i["custom_id"], i["value"]) for i in inputs] == [
        ("prompt", "a prompt"),
        ("lyrics", "some lyrics"),
    ]
