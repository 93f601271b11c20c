"""How the console shows things: message blocks, in-place redraw, modals and members."""

from __future__ import annotations

import io

import pytest

from sandbox.console.view import (
    MessageLook,
    Screen,
    member_line,
    message_block,
    modal_lines,
    wrap_to,
)
from sandbox.discord.rules import IS_VOICE_MESSAGE
from sandbox.discord.state import Attachment, Message, World


def a_card(world: World) -> Message:
    channel = next(iter(world.guilds.values())).channels[0]
    return Message(
        "10",
        channel.id,
        channel.guild_id,
        world.bot,
        content=f"<@{world.user_named('alice').id}> done",
        embeds=[
            {"title": "Song", "description": "▰▱ 50%", "fields": [{"name": "A", "value": "b"}]}
        ],
        components=[
            {
                "type": 1,
                "components": [
                    {"type": 2, "label": "Cancel", "custom_id": "job:cancel:1"},
                    {"type": 2, "label": "Docs", "style": 5, "url": "https://example.com"},
                ],
            }
        ],
        attachments=[Attachment("20", "take.mp3", "audio/mpeg", b"x" * 2048, "http://f")],
    )


def test_a_block_shows_content_embed_buttons_and_saved_files() -> None:
    """Mentions read as names; buttons are numbered; a saved file shows its size and path."""
    world = World()
    world.add_guild("Sandbox")
    lines = message_block(a_card(world), MessageLook(3, "alice", {"20": "/out/take.mp3"}), world)
    assert lines == [
        "[3] Soundverse in #general",
        "  @alice done",
        "  ┃ Song",
        "  ┃ ▰▱ 50%",
        "  ┃ A: b",
        "  buttons: (1) Cancel",
        "  🔗 Docs https://example.com",
        "  📎 take.mp3 (2.0 KiB) saved to /out/take.mp3",
    ]


def test_a_voice_message_shows_as_one_with_its_length() -> None:
    """A message flagged IS_VOICE_MESSAGE shows its recording as a voice message of 4.2 s."""
    world = World()
    world.add_guild("Sandbox")
    channel = next(iter(world.guilds.values())).channels[0]
    recording = Attachment("21", "voice-message.ogg", "audio/ogg", b"x" * 2048, "http://f")
    recording.duration_secs, recording.waveform = 4.2, "AAAA"
    message = Message(
        "11", channel.id, channel.guild_id, world.user_named("bob"), attachments=[recording]
    )
    message.flags = IS_VOICE_MESSAGE
    lines = message_block(message, MessageLook(4, "alice", {}), world)
    assert lines == ["[4] bob in #general", "  🎤 voice message, 4.2 s (2.0 KiB)"]


def test_an_edit_of_the_newest_block_is_redrawn_in_place_on_a_terminal() -> None:
    """The cursor moves up over the old block, clears it, and the new block replaces it."""
    stream = io.StringIO()
    screen = Screen(stream, live=True, terminal=lambda: (80, 24))
    screen.block("1", ["[1] card", "  10%"])
    screen.block("1", ["[1] card", "  50%"], edited=True)
    assert stream.getvalue() == "[1] card\n  10%\n\x1b[2A\r\x1b[J[1] card\n  50%\n"


def test_an_edit_after_other_output_is_printed_again_marked_edited() -> None:
    """Once something was printed below a block, its edit becomes a new `(edited)` block."""
    stream = io.StringIO()
    screen = Screen(stream, live=True, terminal=lambda: (80, 24))
    screen.block("1", ["[1] card"])
    screen.note("> /quota")
    screen.block("1", ["[1] card v2"], edited=True)
    assert stream.getvalue() == "[1] card\n> /quota\n(edited) [1] card v2\n"


def test_without_a_terminal_every_edit_is_a_new_line_marked_edited() -> None:
    """Plain output never moves the cursor."""
    stream = io.StringIO()
    screen = Screen(stream, live=False)
    screen.block("1", ["[1] card", "  10%"])
    screen.block("1", ["[1] card", "  50%"], edited=True)
    assert stream.getvalue() == "[1] card\n  10%\n(edited) [1] card\n  50%\n"
    assert "\x1b" not in stream.getvalue()


def test_output_arriving_while_the_member_types_is_written_above_the_prompt() -> None:
    """The input line is erased, the block written, then the prompt and typed text come back."""
    stream = io.StringIO()
    screen = Screen(stream, live=True, terminal=lambda: (80, 24))
    screen.prompt = lambda: "alice #general> /quo"
    screen.block("1", ["[1] card"])
    assert stream.getvalue() == "\r\x1b[K[1] card\nalice #general> /quo"


def test_wide_characters_count_two_columns_when_wrapping() -> None:
    """Rows are cut by display width, so a redraw knows how many rows a block took."""
    assert wrap_to("ab🎵cd", 4) == ["ab🎵", "cd"]


def test_a_block_taller_than_the_window_is_not_redrawn_in_place() -> None:
    """The cursor cannot move above the window, so such an edit is printed as a new block."""
    stream = io.StringIO()
    screen = Screen(stream, live=True, terminal=lambda: (80, 3))
    screen.block("1", ["[1] card", "a", "b"])
    screen.block("1", ["[1] card", "c"], edited=True)
    assert stream.getvalue() == "[1] card\na\nb\n(edited) [1] card\nc\n"


def test_a_modal_shows_each_field_with_its_label_hint_and_prefilled_text() -> None:
    """Each field reads `id: label (required or optional) — hint; prefilled “text”`."""
    modal = {
        "title": "Make a loop",
        "components": [
            {
                "type": 18,
                "label": "Repeats",
                "description": "From 1 to 64",
                "component": {"type": 4, "custom_id": "count", "value": "4", "label": None},
            },
            {
                "type": 1,
                "components": [
                    {
                        "type": 4,
                        "custom_id": "note",
                        "label": "Note",
                        "placeholder": "anything to add",
                        "required": False,
                    }
                ],
            },
        ],
    }
    assert modal_lines(modal) == [
        "the bot opened the modal “Make a loop”; fill it in with `modal`:",
        "  count: Repeats (required) — From 1 to 64; prefilled “4”",
        "  note: Note (optional) — anything to add",
    ]


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("alice", "alice: Moderator (Manage Server)"),
        ("bob", "bob: (no roles)"),
    ],
)
def test_a_member_line_names_the_roles_held_and_what_they_grant(name: str, line: str) -> None:
    """A member's line lists their roles with the permissions they add, or says there are none."""
    world = World()
    guild = world.add_guild("Sandbox")
    member = next(m for m in guild.members if m.user.username == name)
    assert member_line(member, guild) == line
