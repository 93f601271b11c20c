"""Console steps against the real stack in-process: buttons, jobs, visibility, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.console.actions import Console, StepFailed
from sandbox.console.lines import LineError


def saved_mp3s(console: Console) -> list[Path]:
    return sorted(console.attachments_dir.glob("*/*.mp3"))


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
