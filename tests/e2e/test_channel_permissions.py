"""Channel permissions: the bot checks what it may do in a channel before relying on it, uses
the interaction while it lives, falls back to links, and tells the member privately when the
channel refuses it."""

from __future__ import annotations

from bot.config import Settings, WorkerMode
from sandbox.discord.state import ATTACH_FILES, SEND_MESSAGES, VIEW_CHANNEL, Message
from sandbox.stack import SandboxStack
from tests.e2e.conftest import (
    BOTH_MODES,
    StackFactory,
    embed_text,
    in_mode,
    ledger_events,
    result_for,
    stored_tracks,
)


def channel_at_once(settings: Settings) -> None:
    """The card and the result leave the interaction token at once, for the channel."""
    settings.jobs.token_handoff = 0.001


def audio(message: Message) -> list[str]:
    return [a.filename for a in message.attachments if a.filename.endswith(".mp3")]


async def song(stack: SandboxStack) -> Message:
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    result = await stack.discord.wait_for_message(
        result_for(stack.discord.user("alice").id), timeout=30
    )
    await stack.bot.services.jobs.wait_until_idle()
    return result


async def test_delete_where_the_bot_cannot_see_the_channel_keeps_everything(
    stack: SandboxStack,
) -> None:
    """Without View Channel, Delete says so privately; the result and its takes stay."""
    result = await song(stack)
    await stack.discord.set_permissions("general", "bot", deny=VIEW_CHANNEL)
    click = await stack.discord.click(result, "Delete", user="alice")
    refusal = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == click.id and m.ephemeral
    )
    assert "I need the View Channel permission here" in embed_text(refusal)
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    assert len(tracks) == 2 and not result.deleted


async def test_where_files_may_not_be_attached_the_takes_arrive_as_links(
    make_stack: StackFactory,
) -> None:
    """A result posted in a channel where the bot may not attach files comes with a link per
    take, saying why, and is charged."""
    stack = await make_stack(tweak=channel_at_once)
    await stack.discord.set_permissions("general", "bot", deny=ATTACH_FILES)
    result = await song(stack)
    assert audio(result) == [] and result.webhook_id is None
    links = [c for c in result.all_components() if c.get("style") == 5]
    assert len(links) == 2
    assert "I may not attach files in this channel" in embed_text(result)
    assert await ledger_events(stack) == ["reserve", "commit"]


@BOTH_MODES
async def test_a_result_the_channel_refuses_is_sent_privately(
    make_stack: StackFactory, mode: WorkerMode
) -> None:
    """The bot loses Send Messages while the song is made: the result, files and all, goes
    to the member's DMs, saying why; it is recorded there and charged once."""
    stack = await make_stack(tweak=in_mode(mode, channel_at_once))
    held = stack.soundverse.hold("GET", "/storage/")
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    await held.wait_for_arrival()
    await stack.discord.set_permissions("general", "bot", deny=SEND_MESSAGES)
    held.release()
    general = stack.discord.channel("general").id
    await stack.discord.wait_for_message(
        lambda m: m.channel_id == general and "Done" in embed_text(m), timeout=30
    )
    private = stack.discord.dms_of("alice")
    assert len(audio(private[0])) == 2
    assert f"I can't post in <#{general}>" in private[0].content
    assert not [m for m in stack.discord.messages if m.channel_id == general and audio(m)]
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    assert {track.message_id for track in tracks} == {int(private[0].id)}
    assert await ledger_events(stack) == ["reserve", "commit"]


async def test_a_failure_the_channel_cannot_show_is_told_privately(
    make_stack: StackFactory,
) -> None:
    """A job that fails where the bot may no longer post tells the member in DMs."""
    stack = await make_stack(tweak=channel_at_once)
    await stack.discord.set_permissions("general", "bot", deny=SEND_MESSAGES)
    stack.soundverse.inject("status:500", count=10)
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    private = await stack.discord.wait_until(lambda: stack.discord.dms_of("alice"), timeout=30)
    assert "refunded" in embed_text(private[0])
