"""The console's line parser: steps, and slash-command options typed by their registered payload."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.console.lines import (
    HELP,
    Click,
    ContextMenu,
    Expect,
    ExpectAttachment,
    ExpectVoice,
    FileOption,
    Hear,
    JoinVoice,
    KillWorker,
    LeaveVoice,
    LineError,
    ListMembers,
    ListMessages,
    ModalSubmit,
    MoveClock,
    NamedTarget,
    Say,
    Select,
    ShowClock,
    Slash,
    SwitchChannel,
    SwitchMember,
    WaitJobs,
    modal_values,
    parse_line,
    slash_call,
    split_options,
)

Commands = list[dict[str, Any]]


def test_integer_boolean_number_and_choice_values_are_typed_by_the_payload(
    commands: Commands,
) -> None:
    """Each value gets the type its option declares; a choice name maps to its value."""
    call = slash_call(
        "/song prompt: lofi duration: 20 version: v5 (default) public: yes strength: 0.5",
        commands,
    )
    assert call.options == {
        "prompt": "lofi",
        "duration": 20,
        "version": "v5",
        "public": True,
        "strength": 0.5,
    }


def test_a_value_runs_until_the_next_option_name(commands: Commands) -> None:
    """Words, inner colons and URLs stay in the value; only a lone `name:` starts an option."""
    call = slash_call("/song prompt: rain at 5:30 on http://x.y/z  duration: 30", commands)
    assert call.options["prompt"] == "rain at 5:30 on http://x.y/z"
    assert call.options["duration"] == 30


def test_quotes_protect_a_value_that_contains_an_option_name(commands: Commands) -> None:
    """A quoted value may contain `name:` tokens; the quotes are removed."""
    call = slash_call('/song prompt: "time: to go duration: never" duration: 10', commands)
    assert call.options == {"prompt": "time: to go duration: never", "duration": 10}


def test_apostrophes_in_an_unquoted_value_are_kept(commands: Commands) -> None:
    """A lone apostrophe is text, not the start of a quote."""
    call = slash_call("/song prompt: don't stop", commands)
    assert call.options["prompt"] == "don't stop"


@pytest.mark.parametrize(
    "typed",
    ["all-stems", "ALL-STEMS", "All stems (vocals, drums, bass, ...)", "All stems", "all st"],
)
def test_a_choice_is_named_by_its_value_or_the_start_of_its_shown_name(
    commands: Commands, typed: str
) -> None:
    """The value, the name a member sees, or the start of either, in any case, picks the value."""
    call = slash_call(f"/stems audio: a.mp3 kind: {typed}", commands)
    assert call.options["kind"] == "all-stems"


def test_a_choice_typed_too_short_to_tell_is_an_error_naming_the_candidates(
    commands: Commands,
) -> None:
    """`version: v` could be either version: the error names both instead of picking one."""
    with pytest.raises(LineError, match=r"'v' could be “v5 \(default\)”, “v6”"):
        slash_call("/song prompt: x version: v", commands)


def test_sub_commands_are_read_into_the_path(commands: Commands) -> None:
    """`/admin quota units: 50` runs the `quota` sub-command with a typed option."""
    call = slash_call("/admin quota units: 50", commands)
    assert call.path == ("admin", "quota")
    assert call.options == {"units": 50}


def test_a_missing_sub_command_lists_the_sub_commands(commands: Commands) -> None:
    """`/admin` alone says which sub-commands exist."""
    with pytest.raises(LineError, match="needs a sub-command: quota, channels"):
        slash_call("/admin", commands)


def test_attachment_member_channel_and_role_options_name_what_to_resolve(
    commands: Commands,
) -> None:
    """A file option is a local path; member, channel and role options are names."""
    call = slash_call("/stems audio: ./song.mp3 for: @bob where: #music", commands)
    assert call.options == {
        "audio": FileOption(Path("song.mp3")),
        "for": NamedTarget(6, "bob"),
        "where": NamedTarget(7, "music"),
    }
    role = slash_call("/admin quota exempt_role: DJ", commands).options["exempt_role"]
    assert role == NamedTarget(8, "DJ")


def test_an_unknown_command_lists_the_commands(commands: Commands) -> None:
    """The error names every slash command, sub-commands spelled out, and no context menus."""
    with pytest.raises(LineError) as raised:
        slash_call("/sing prompt: x", commands)
    message = str(raised.value)
    assert "unknown command /sing" in message
    assert "/about, /admin channels, /admin quota, /song, /stems" in message
    assert "Separate stems" not in message


def test_an_unknown_option_lists_the_options_with_their_types(commands: Commands) -> None:
    """A misspelt option is an error that lists each option, its type and range."""
    with pytest.raises(LineError) as raised:
        slash_call("/song prompt: x durration: 5", commands)
    message = str(raised.value)
    assert "/song has no option 'durration'" in message
    assert "prompt (text, required)" in message
    assert "duration (whole number 5–300)" in message
    assert "version (one of v5/v6)" in message


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("/song duration: 20", "missing prompt"),
        ("/song prompt: x duration: twenty", "duration takes a whole number"),
        ("/song prompt: x duration: 2", "duration must be between 5 and 300"),
        ("/song prompt: x version: v9", "version must be one of v5, v6"),
        ("/song prompt: x public: maybe", "public takes true or false"),
        ("/song prompt: x prompt: y", "given twice"),
        ("/song lofi", "expected `name: value`"),
        ("/song prompt:", "'prompt' needs a value"),
    ],
)
def test_values_the_discord_client_would_refuse_are_errors(
    commands: Commands, line: str, error: str
) -> None:
    """Missing, mistyped, out-of-range, unlisted, repeated and empty values are refused."""
    with pytest.raises(LineError, match=error):
        slash_call(line, commands)


def test_split_options_keeps_the_order_of_the_pairs() -> None:
    """Pairs come back in the order they were typed."""
    assert split_options("b: 2  a: one two") == [("b", "2"), ("a", "one two")]


@pytest.mark.parametrize(
    ("line", "step"),
    [
        ("/about", Slash("/about")),
        ("click 2", Click("2")),
        ("click Make a loop on 4", Click("Make a loop", 4)),
        ("select 1 a 'b c' on 3", Select("1", ("a", "b c"), 3)),
        ('menu "Separate stems" 3', ContextMenu("Separate stems", 3)),
        ("as @bob", SwitchMember("bob")),
        ("in #music", SwitchChannel("music")),
        ("say hello there", Say("hello there")),
        ("say my take attach: ./a b.mp3", Say("my take", Path("a b.mp3"))),
        ("ls 5", ListMessages(5)),
        ("messages", ListMessages()),
        ("expect your song is ready", Expect("your song is ready")),
        ("expect-attachment .mp3", ExpectAttachment(".mp3")),
        ("wait-jobs", WaitJobs()),
        ("kill-worker", KillWorker()),
        ("members", ListMembers()),
        ("modal", ModalSubmit("")),
        ("modal count: 2", ModalSubmit("count: 2")),
        ("join Lounge", JoinVoice("Lounge")),
        ('join "Chill Room"', JoinVoice("Chill Room")),
        ("leave", LeaveVoice()),
        ("expect-voice 2", ExpectVoice(2.0)),
        ("expect-voice 0.5", ExpectVoice(0.5)),
        ("hear", Hear()),
        ('click every "Vote for Entry"', Click("Vote for Entry", every=True)),
        ("click every", Click("every")),
        ('in "Entries: Rain remix"', SwitchChannel("Entries: Rain remix")),
        ("clock", ShowClock()),
        ("clock +1d", MoveClock(timedelta(days=1))),
        ("clock +12h", MoveClock(timedelta(hours=12))),
        ("clock +90m", MoveClock(timedelta(minutes=90))),
        ("clock +1d 12h", MoveClock(timedelta(hours=36))),
        ("clock + 2W", MoveClock(timedelta(weeks=2))),
    ],
)
def test_console_lines_become_steps(line: str, step: object) -> None:
    """Each console command parses to its step with its arguments."""
    assert parse_line(line) == step


@pytest.mark.parametrize("line", ["", "   ", "# a comment"])
def test_blank_lines_and_comments_are_no_step(line: str) -> None:
    """Blank lines and `#` comments are skipped."""
    assert parse_line(line) is None


@pytest.mark.parametrize("seconds", ["soon", "0", "-1", "nan"])
def test_expect_voice_takes_seconds_above_zero(seconds: str) -> None:
    """`expect-voice` with anything but a positive number says what it takes."""
    with pytest.raises(LineError, match="`expect-voice` takes seconds above 0"):
        parse_line(f"expect-voice {seconds}")


@pytest.mark.parametrize("length", ["1d", "+", "+1x", "+0m", "+soon", "-1d", "+1d later"])
def test_clock_moves_only_forward_by_a_length(length: str) -> None:
    """`clock` with anything but `+` and a length above zero says what it takes."""
    with pytest.raises(LineError, match="`clock` moves forward by a length such as `\\+1d`"):
        parse_line(f"clock {length}")


def test_click_every_takes_no_message_number() -> None:
    """`click every Label on 3` is refused: it presses buttons on every message here."""
    with pytest.raises(LineError, match="drop `on M`"):
        parse_line('click every "Vote for Entry" on 3')


def test_clock_and_click_every_are_in_the_help() -> None:
    """The help lists `clock [+1d]` and `click every Label`."""
    assert "clock [+1d]" in HELP and "click every Label" in HELP


def test_an_unknown_console_command_points_to_help() -> None:
    """A line that is neither a slash command nor a console command is refused."""
    with pytest.raises(LineError, match="type `help`"):
        parse_line("dance now")


def test_modal_fields_are_matched_by_custom_id_or_label() -> None:
    """Values are keyed by custom_id whichever name was typed; a required field must be given."""
    modal = {
        "custom_id": "lyrics-modal",
        "title": "Lyrics",
        "components": [
            {
                "type": 18,
                "label": "Song title",
                "component": {"type": 4, "custom_id": "title", "required": False},
            },
            {"type": 1, "components": [{"type": 4, "custom_id": "words", "label": "Words"}]},
        ],
    }
    assert modal_values("song_title: Rain words: la la", modal) == {
        "title": "Rain",
        "words": "la la",
    }
    with pytest.raises(LineError, match="the modal needs words"):
        modal_values("title: Rain", modal)


def test_modal_fields_left_out_keep_the_text_the_bot_prefilled() -> None:
    """A text input's prefilled `value` is submitted unless the member typed another."""
    modal = {
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "count", "value": "4"}]},
            {"type": 1, "components": [{"type": 4, "custom_id": "note", "required": False}]},
        ]
    }
    assert modal_values("", modal) == {"count": "4"}
    assert modal_values("count: 8", modal) == {"count": "8"}
