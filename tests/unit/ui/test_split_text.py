"""Splitting long text into pieces within a limit (`bot.ui.text.split_text`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.ui.text import split_text


def test_text_within_the_limit_is_one_piece() -> None:
    """Text that fits is returned whole, without surrounding spaces."""
    assert split_text("  all of it \n", 20) == ["all of it"]


def test_a_cut_falls_on_a_paragraph_break_first() -> None:
    """With a paragraph break in the second half of what fits, the cut is there."""
    assert split_text("aaaa bbbb\ncccc\n\ndddd eeee", 18) == ["aaaa bbbb\ncccc", "dddd eeee"]


def test_a_cut_falls_on_a_space_when_there_is_no_break() -> None:
    """Without line breaks, words stay whole."""
    assert split_text("one two three four five", 10) == ["one two", "three four", "five"]


def test_a_word_longer_than_the_limit_is_cut_at_the_limit() -> None:
    """A run without spaces is cut exactly at the limit."""
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


@given(text=st.text(max_size=3000), limit=st.integers(min_value=1, max_value=500))
def test_pieces_are_within_the_limit_and_keep_every_word(text: str, limit: int) -> None:
    """No piece is empty or over the limit, and the words come back in order."""
    pieces = split_text(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())
