"""The one rewrite the shared SQL needs on PostgreSQL: numbered parameters."""

from __future__ import annotations

from bot.storage.postgres import numbered


def test_each_parameter_gets_the_next_number() -> None:
    """`?` placeholders become $1, $2, … in order."""
    assert numbered("SELECT * FROM t WHERE a = ? AND b IN (?, ?)") == (
        "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"
    )


def test_question_marks_inside_quotes_are_left_alone() -> None:
    """A `?` inside a string literal or a quoted name is text, not a parameter."""
    assert numbered("SELECT 'why?', \"odd?name\", ? FROM t") == (
        "SELECT 'why?', \"odd?name\", $1 FROM t"
    )


def test_a_doubled_quote_stays_inside_its_string() -> None:
    """'it''s?' is one literal: the `?` after it is the first parameter."""
    assert numbered("SELECT 'it''s?', ?") == "SELECT 'it''s?', $1"
