"""Plain words for what members read: counts with their plural, and lists."""

from __future__ import annotations

from collections.abc import Sequence


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 job`, `2 jobs`, `0 jobs`; `plural` for nouns that do not take an s."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def listed(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
