"""Console steps against the real stack in-process: buttons, jobs, visibility, errors."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.console.actions import Console, StepFailed
from sandbox.console.lines import LineError
from sandbox.console.view import Screen
from sandbox.discord.state import Interaction


def saved_mp3s(console: Console) -> list[Path]:
    return sorted(console.attachments_dir.glob("*/*.mp3"))


def shown(console: Console) -> str:
    """Everything the console printed so far."""
    stream = console.screen.stream
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


async def test_click_by_label_presses_the_newest_bot_button(console: Console) -> None:
    """`click Variation` on the result starts a second job, whose files are saved too."""
    await console.run_line("/song prompt: rain duration: 5")
    await console.run_line("expect-attachment .mp3")
    first = saved_mp3s(console)
    await console.run_line("click Variation")
    await console.run_line("expect-attachment .mp3")
    assert first
    assert len({path.parent for path in saved_mp3s(console)}) == 2


async def test_wait_jobs_returns_once_the_song_was_delivered(console: Console) -> None:
    """After `wait-jobs`, the result message with its audio is already there."""
    await console.run_line("/song prompt: rain duration: 5")
    await console.run_line("wait-jobs")
    assert any(
        attachment.filename.endswith(".mp3")
        for message in console.discord.messages
        for attachment in message.attachments
    )


async def test_kill_worker_without_shared_workers_says_how_to_have_them(
    console: Console,
) -> None:
    """`kill-worker` in a sandbox whose jobs run on the bot's loop fails, naming --workers."""
    with pytest.raises(StepFailed, match="needs shared job workers: start with --workers 2"):
        await console.run_line("kill-worker")


async def test_another_member_does_not_see_an_ephemeral_answer(console: Console) -> None:
    """alice's ephemeral `/quota` answer does not satisfy an `expect` made as bob."""
    await console.run_line("/quota")
    await console.run_line("expect quota")
    await console.run_line("as bob")
    console.timeout = 0.2
    with pytest.raises(StepFailed, match="no bot message since the last action"):
        await console.run_line("expect quota")


async def test_a_plain_message_with_a_file_is_posted_as_the_member(
    console: Console, tmp_path: Path
) -> None:
    """`say ... attach:` posts the text and uploads the file, authored by the current member."""
    song = tmp_path / "mine.mp3"
    song.write_bytes(b"ID3" + bytes(100))
    await console.run_line("in music")
    await console.run_line(f"say my take attach: {song}")
    message = console.discord.messages[-1]
    assert (message.author.username, message.content) == ("alice", "my take")
    assert [(a.filename, a.size) for a in message.attachments] == [("mine.mp3", 103)]
    assert message.channel_id == console.discord.channel("music").id


async def test_a_button_number_that_does_not_exist_is_an_error(console: Console) -> None:
    """`click 99` on the result says how many buttons there are."""
    await console.run_line("/song prompt: rain duration: 5")
    await console.run_line("expect-attachment .mp3")
    with pytest.raises(LineError, match=r"there is no button 99; there are \d+"):
        await console.run_line("click 99")


async def test_an_unknown_context_menu_lists_the_message_commands(console: Console) -> None:
    """`menu` with a name the bot never registered is refused before anything is sent."""
    await console.run_line("say hello")
    with pytest.raises(LineError, match="no message command 'Hum along'; message commands:"):
        await console.run_line('menu "Hum along" 1')


async def test_a_context_menu_modal_is_submitted_with_typed_and_prefilled_fields(
    console: Console,
) -> None:
    """`menu` on the result opens the bot's modal; `modal count: 2` submits it and starts a job."""
    await console.run_line("/song prompt: rain duration: 5")
    await console.run_line("expect-attachment .mp3")
    result = console.state.numbers[console.discord.messages[-1].id]
    await console.run_line(f'menu "Make a loop" {result}')
    shown = console.state.modal
    assert shown is not None and shown.modal is not None
    await console.run_line("modal count: 2")
    submits = [i for i in console.discord.world.interactions.values() if i.type == 5]
    assert [i.payload["data"]["custom_id"] for i in submits] == [shown.modal["custom_id"]]
    assert submits[0].acknowledged
    assert console.state.modal is None


async def test_a_choice_typed_by_its_shown_name_reaches_the_bot_as_its_value(
    console: Console,
) -> None:
    """`/stems kind: All stems` sends the value the bot registered for that choice name."""
    await console.run_line("/stems kind: All stems")
    slash = [i for i in console.discord.world.interactions.values() if i.type == 2]
    assert slash[-1].payload["data"]["options"] == [
        {"name": "kind", "type": 3, "value": "all-stems"}
    ]


async def test_a_modal_the_bot_opens_is_shown_with_its_fields(console: Console) -> None:
    """The "Make a loop" modal is printed with its field's label, hint and prefilled count."""
    await console.run_line("/song prompt: rain duration: 5")
    await console.run_line("expect-attachment .mp3")
    result = console.state.numbers[console.discord.messages[-1].id]
    await console.run_line(f'menu "Make a loop" {result}')
    assert "  count: Repeats (required) — From 1 to 64; prefilled “4”" in shown(console)


async def test_members_lists_each_member_with_the_roles_they_hold(console: Console) -> None:
    """`members` prints one line per member of the server, the bot left out."""
    await console.run_line("members")
    assert shown(console).splitlines()[-3:] == [
        "alice: Moderator (Manage Server)",
        "bob: (no roles)",
        "carol: (no roles)",
    ]


async def test_a_script_ending_on_a_command_waits_for_its_result(console: Console) -> None:
    """A script whose last line starts a song passes only once the song's file was delivered."""
    assert await console.run_script(["/song prompt: rain duration: 5"]) == 0
    assert saved_mp3s(console)


async def test_a_script_whose_job_outlasts_the_timeout_fails_at_its_end(console: Console) -> None:
    """When the last line's job is still running after `--timeout`, the run fails with exit 1."""
    console.stack.soundverse.time_scale = 1.0
    console.timeout = 1.0
    assert await console.run_script(["/song prompt: rain duration: 5"]) == 1
    assert "✗ at the end of the script: after 1 s the bot still has a job" in shown(console)


def component_presses(console: Console) -> list[Interaction]:
    """The button presses and menu picks sent to the bot, oldest first."""
    return [i for i in console.discord.world.interactions.values() if i.type == 3]


async def two_results(console: Console) -> tuple[str, str]:
    """alice's song result and, newer, her loop of it: the ids of both messages."""
    await console.run_line("/song prompt: rain duration: 5")
    await console.run_line("wait-jobs")
    song = console.discord.messages[-1].id
    await console.run_line("/loop audio count: 2")
    await console.run_line("wait-jobs")
    return song, console.discord.messages[-1].id


async def test_clock_moves_the_bots_clock_forward_and_shows_it(console: Console) -> None:
    """`clock +1d 12h` moves the clock the bot's contests run on 36 hours ahead of real time."""
    assert console.clock is console.stack.bot.services.contests.clock
    await console.run_line("clock +1d 12h")
    assert console.clock is not None
    assert console.clock.now() - datetime.now(UTC) > timedelta(hours=35, minutes=59)
    assert "(1d 12h ahead of real time)" in shown(console)


async def test_clock_without_a_clock_to_move_is_refused(console: Console, tmp_path: Path) -> None:
    """A console given no clock says the bot runs on the real clock."""
    plain = Console(console.stack, Screen(io.StringIO(), live=False), tmp_path / "plain")
    with pytest.raises(LineError, match="runs on the real clock"):
        await plain.run_line("clock +1d")


async def test_click_by_label_presses_it_on_the_newest_message_that_has_it(
    console: Console,
) -> None:
    """`click Lyrics` presses the song result's button though the loop result is newer."""
    song, _ = await two_results(console)
    await console.run_line("click Lyrics")
    presses = component_presses(console)
    assert [p.source_message.id for p in presses if p.source_message] == [song]


async def test_click_every_presses_each_button_whose_label_starts_so(console: Console) -> None:
    """`click every "Submit to"` presses Submit to contest on both results, oldest first."""
    song, loop = await two_results(console)
    await console.run_line('click every "Submit to"')
    await console.run_line("expect No contest in this server is taking entries")
    presses = component_presses(console)
    assert [p.source_message.id for p in presses if p.source_message] == [song, loop]
    assert shown(console).count("alice presses “Submit to contest”") == 2


async def test_click_every_with_no_such_button_is_an_error(console: Console) -> None:
    """`click every` that matches nothing here says so and presses nothing."""
    await console.run_line("/song prompt: rain duration: 5")
    await console.run_line("wait-jobs")
    with pytest.raises(LineError, match="no button in #general has a label starting 'Vote'"):
        await console.run_line("click every Vote")
    assert component_presses(console) == []


async def test_select_by_placeholder_start_and_a_piece_of_one_label(console: Console) -> None:
    """`select Separate vocal` picks Vocals in the Separate stems… menu; a piece of several
    labels is refused."""
    await console.run_line("/song prompt: rain duration: 5")
    await console.run_line("wait-jobs")
    with pytest.raises(LineError, match="in several options' labels"):
        await console.run_line("select Separate s")
    await console.run_line("select Separate vocal")
    assert [p.payload["data"]["values"] for p in component_presses(console)] == [["vocals"]]
