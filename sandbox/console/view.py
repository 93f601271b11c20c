"""How the console shows Discord messages: text blocks for a message, and a screen that prints them.

On a terminal the newest block is redrawn in place when its message is edited, so a job
card's progress bar animates; elsewhere every edit is printed again, marked `(edited)`.
"""

from __future__ import annotations

import datetime
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from sandbox.console.lines import modal_inputs
from sandbox.discord.state import (
    ADMINISTRATOR,
    JSON,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    Guild,
    Member,
    Message,
    World,
)

BUTTON = 2
SELECT_TYPES = (3, 5, 6, 7, 8)
TEXT_DISPLAY = 10
LINK_STYLE = 5
MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
TIMESTAMP = re.compile(r"<t:(-?\d+)(?::[tTdDfFR])?>")
# Keeps a wrapped row a few columns short of the terminal's width, so a character whose
# width the terminal judges differently (emoji) cannot push it onto a second row.
WRAP_MARGIN = 4
ERASE_LINE = "\r\x1b[K"
# Permissions that set a role apart from a plain member, by the names Discord's client shows.
PERMISSION_NAMES = {
    ADMINISTRATOR: "Administrator",
    MANAGE_GUILD: "Manage Server",
    MANAGE_MESSAGES: "Manage Messages",
}


def buttons(message: Message) -> list[JSON]:
    """The buttons a member can press, in the order the console numbers them."""
    return [c for c in message.all_components() if c.get("type") == BUTTON and c.get("custom_id")]


def menus(message: Message) -> list[JSON]:
    """The select menus of a message, in the order the console numbers them."""
    return [c for c in message.all_components() if c.get("type") in SELECT_TYPES]


def searchable_text(message: Message) -> str:
    """Everything a member reads on a message: content, embeds, text components, file names."""
    parts = [message.content]
    for embed in message.embeds:
        parts.extend(str(embed.get(key) or "") for key in ("title", "description"))
        parts.append(str((embed.get("footer") or {}).get("text") or ""))
        for field in embed.get("fields") or []:
            parts.extend((str(field.get("name") or ""), str(field.get("value") or "")))
    parts.extend(str(c.get("content") or "") for c in message.all_components())
    parts.extend(attachment.filename for attachment in message.attachments)
    return "\n".join(part for part in parts if part)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


@dataclass(frozen=True)
class MessageLook:
    """What the block of one message needs besides the message: its number, where files went."""

    number: int
    viewer: str
    saved: dict[str, str]


def message_block(message: Message, look: MessageLook, world: World) -> list[str]:
    """The lines that show one message."""
    lines = [_header(message, look, world)]
    if message.deleted:
        return [lines[0] + " (deleted)"]
    if message.loading:
        lines.append(f"  ⏳ {message.author.username} is thinking…")
    lines.extend("  " + line for line in _mentions(message.content, world).splitlines())
    for embed in message.embeds:
        lines.extend("  ┃ " + line for line in _embed_lines(embed, world))
    lines.extend("  " + line for line in _component_lines(message))
    for attachment in message.attachments:
        where = look.saved.get(attachment.id)
        saved = f" saved to {where}" if where else ""
        size = human_size(attachment.size)
        if message.is_voice_message and attachment.duration_secs is not None:
            lines.append(f"  🎤 voice message, {attachment.duration_secs:.1f} s ({size}){saved}")
        else:
            lines.append(f"  📎 {attachment.filename} ({size}){saved}")
    return lines


def _header(message: Message, look: MessageLook, world: World) -> str:
    channel = world.channel(message.channel_id)
    place = f"#{channel.name}" if channel else "DM"
    header = f"[{look.number}] {message.author.username} in {place}"
    if message.ephemeral:
        owner = _ephemeral_owner(message, world)
        header += " (only you)" if owner in (None, look.viewer) else f" (only {owner})"
    return header


def _ephemeral_owner(message: Message, world: World) -> str | None:
    interaction = world.interactions.get(message.interaction_id or "")
    return interaction.user.username if interaction else None


def _mentions(text: str, world: World) -> str:
    def name_of(match: re.Match[str]) -> str:
        kind, target = match.group(1), match.group(2)
        if kind == "#":
            channel = world.channel(target)
            return f"#{channel.name}" if channel else match.group(0)
        if kind == "@&":
            roles = (role for guild in world.guilds.values() for role in guild.roles)
            role = next((r for r in roles if r.id == target), None)
            return f"@{role.name}" if role else match.group(0)
        user = world.users.get(target)
        return f"@{user.username}" if user else match.group(0)

    return TIMESTAMP.sub(_local_time, MENTION.sub(name_of, text))


def _local_time(match: re.Match[str]) -> str:
    """A Discord timestamp markup as the local time a client would show."""
    moment = datetime.datetime.fromtimestamp(int(match.group(1)))
    return moment.strftime("%Y-%m-%d %H:%M")


def _embed_lines(embed: JSON, world: World) -> list[str]:
    lines: list[str] = []
    author = embed.get("author") or {}
    if author.get("name"):
        lines.append(str(author["name"]))
    if embed.get("title"):
        lines.append(str(embed["title"]))
    if embed.get("description"):
        lines.extend(_mentions(str(embed["description"]), world).splitlines())
    for field in embed.get("fields") or []:
        value = _mentions(str(field.get("value")), world).splitlines() or [""]
        lines.append(f"{field.get('name')}: {value[0]}")
        lines.extend("  " + more for more in value[1:])
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        lines.append(f"— {footer}")
    return lines


def _component_lines(message: Message) -> list[str]:
    lines = [str(c["content"]) for c in message.all_components() if c.get("type") == TEXT_DISPLAY]
    pressable = [_button_label(number, button) for number, button in enumerate(buttons(message), 1)]
    links = [
        f"🔗 {c.get('label') or c.get('url')} {c.get('url')}"
        for c in message.all_components()
        if c.get("type") == BUTTON and c.get("style") == LINK_STYLE
    ]
    if pressable:
        lines.append("buttons: " + "  ".join(pressable))
    lines.extend(links)
    for number, menu in enumerate(menus(message), 1):
        lines.append(f"menu {number}: {_menu_summary(menu)}")
    return lines


def _button_label(number: int, button: JSON) -> str:
    emoji = (button.get("emoji") or {}).get("name")
    label = " ".join(str(part) for part in (emoji, button.get("label")) if part)
    disabled = " (disabled)" if button.get("disabled") else ""
    return f"({number}) {label or button['custom_id']}{disabled}"


def _menu_summary(menu: JSON) -> str:
    placeholder = str(menu.get("placeholder") or menu["custom_id"])
    options = menu.get("options") or []
    if not options:
        return placeholder
    listed = ", ".join(f"{o.get('label')}={o.get('value')}" for o in options)
    return f"{placeholder}: {listed}"


def modal_lines(modal: JSON) -> list[str]:
    """A modal the bot opened: its title, then each field with its label, hint and text."""
    lines = [f"the bot opened the modal “{modal.get('title', '')}”; fill it in with `modal`:"]
    for field in modal_inputs(modal):
        line = f"  {field.custom_id}: {field.label or field.custom_id}"
        line += " (required)" if field.required else " (optional)"
        if field.hint:
            line += f" — {field.hint}"
        if field.prefilled:
            line += f"; prefilled “{field.prefilled}”"
        lines.append(line)
    if len(lines) == 1:
        lines.append("  (no fields: submit it with `modal`)")
    return lines


def member_line(member: Member, guild: Guild) -> str:
    """`alice: Moderator (Manage Server)`: a member's roles, highest first, and what each adds."""
    held = sorted(
        (role for role in guild.roles if role.id in member.roles and role.id != guild.id),
        key=lambda role: role.position,
        reverse=True,
    )
    roles = ", ".join(role.name + _granted(role.permissions) for role in held) or "(no roles)"
    return f"{member.user.username}: {roles}"


def _granted(permissions: int) -> str:
    names = [name for bit, name in PERMISSION_NAMES.items() if permissions & bit]
    return f" ({', '.join(names)})" if names else ""


def _terminal_size() -> tuple[int, int]:
    size = shutil.get_terminal_size()
    return size.columns, size.lines


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide characters count two, combining marks none."""
    width = 0
    for character in text:
        if unicodedata.combining(character) or unicodedata.category(character) in ("Mn", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1
    return width


def wrap_to(line: str, columns: int) -> list[str]:
    """`line` cut into rows of at most `columns` display columns."""
    rows: list[str] = []
    current, width = "", 0
    for character in line:
        step = display_width(character)
        if width + step > columns and current:
            rows.append(current)
            current, width = "", 0
        current += character
        width += step
    rows.append(current)
    return rows


class Screen:
    """Prints blocks and notes; on a terminal, redraws the newest block in place when it changes.

    `prompt` gives the text of the input line while one is waiting for the member (the
    prompt and what was typed so far), so output arriving meanwhile can be written above it.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool,
        quiet: bool = False,
        terminal: Callable[[], tuple[int, int]] | None = None,
    ) -> None:
        self.stream = stream
        self.live = live
        self.quiet = quiet
        self._terminal = terminal or _terminal_size
        self.prompt: Callable[[], str] | None = None
        self._last_key: str | None = None
        self._last_rows = 0

    def block(self, key: str, lines: list[str], *, edited: bool = False) -> None:
        """Shows a message's block; an edit of the newest block replaces it on a terminal."""
        if self.quiet:
            return
        # A block taller than the window cannot be reached by moving the cursor up.
        fits = self._last_rows < self._terminal()[1] - 1
        redraw = self.live and edited and key == self._last_key and fits
        if edited and not redraw:
            lines = ["(edited) " + lines[0], *lines[1:]]
        if not self.live:
            self._write(lines)
            return
        rows = self._rows(lines)
        self._write(rows, up=self._last_rows if redraw else 0)
        self._last_key, self._last_rows = key, len(rows)

    def note(self, text: str) -> None:
        """A line of the console's own (echoed steps, results, errors), shown even when quiet."""
        self._write(self._rows(text.splitlines()) if self.live else text.splitlines())
        self._last_key = None

    def activity(self, lines: list[str]) -> None:
        """Lines about what happens besides messages (voice), not shown when quiet."""
        if self.quiet:
            return
        self._write(self._rows(lines) if self.live else lines)
        self._last_key = None

    def listing(self, blocks: Iterable[list[str]]) -> None:
        """Blocks printed on request (`messages`), shown even when quiet and never redrawn."""
        for lines in blocks:
            self._write(self._rows(lines) if self.live else lines)
        self._last_key = None

    def line_entered(self) -> None:
        """The member pressed Enter: the terminal moved down, so nothing above is redrawn."""
        self._last_key = None

    def _rows(self, lines: list[str]) -> list[str]:
        width = max(20, self._terminal()[0] - WRAP_MARGIN)
        return [row for line in lines for row in wrap_to(line, width)]

    def _write(self, lines: list[str], up: int = 0) -> None:
        out: list[str] = []
        if self.live and self.prompt is not None:
            out.append(ERASE_LINE)
        if up:
            out.append(f"\x1b[{up}A\r\x1b[J")
        out.extend(line + "\n" for line in lines)
        if self.live and self.prompt is not None:
            out.append(self.prompt())
        self.stream.write("".join(out))
        self.stream.flush()
