"""Small text helpers for what members read."""

from __future__ import annotations


def clip(text: str, limit: int, *, one_line: bool = True) -> str:
    """`text` within `limit` characters, ending in `…` when cut; whitespace folded by default."""
    flat = " ".join(text.split()) if one_line else text
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
