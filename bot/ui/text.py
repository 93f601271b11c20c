"""Text for what members read: Discord's length limits, clipping, and member text made plain."""

from __future__ import annotations

# Discord's limits on what a message shows (discord-platform.md section 2).
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
BUTTON_LABEL_LIMIT = 80
OPTION_LABEL_LIMIT = 100

_MASKED_LINK = "]("
_MASKED_LINK_ESCAPED = "]\\("


def clip(text: str, limit: int, *, one_line: bool = True) -> str:
    """`text` within `limit` characters, ending in `…` when cut; whitespace folded by default."""
    flat = " ".join(text.split()) if one_line else text
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plain(text: str) -> str:
    """Member or Soundverse text as shown in an embed: `[text](url)` stays text, never a
    masked link (the escape is invisible to the reader)."""
    return text.replace(_MASKED_LINK, _MASKED_LINK_ESCAPED)


def unplain(text: str) -> str:
    """What `plain` made of a text, as it was."""
    return text.replace(_MASKED_LINK_ESCAPED, _MASKED_LINK)


def shown(text: str, limit: int, *, one_line: bool = True) -> str:
    """Member or Soundverse text made plain and clipped to a Discord limit."""
    return clip(plain(text), limit, one_line=one_line)


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, each cut at the last paragraph break in
    the second half of what fits, else the last line break there, else the last space there,
    else exactly at `limit`; the spaces at a cut are dropped."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest[: limit + 1], limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _cut_point(window: str, limit: int) -> int:
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at >= max(1, limit // 2):
            return at
    return limit
