"""A member's data is theirs: exported and deleted on request; a server's is purged a while
after the bot was removed from it, unless the bot is added back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.storage import ManualClock
from sandbox.discord.state import Message
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, embed_text, result_for, stored_tracks

GRACE = timedelta(days=30)


async def a_song(stack: SandboxStack, user: str = "alice") -> Message:
    member = stack.discord.user(user)
    await stack.discord.slash("song", user=user, prompt="lofi rain", duration=15)
    result = await stack.discord.wait_for_message(result_for(member.id), timeout=30)
    await stack.bot.services.jobs.wait_until_idle()
    return result


async def reply_to(stack: SandboxStack, interaction_id: str) -> Message:
    return await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction_id and m.ephemeral
    )


async def alices_tracks(stack: SandboxStack) -> int:
    return len(await stored_tracks(stack).user_history(int(stack.discord.user("alice").id)))


async def test_a_member_exports_their_tracks_and_prompts(stack: SandboxStack) -> None:
    """/privacy export answers privately with a JSON file of the member's tracks and prompts."""
    await a_song(stack)
    call = await stack.discord.slash("privacy export", user="alice")
    reply = await reply_to(stack, call.id)
    exported = json.loads(reply.attachments[0].data)
    assert reply.attachments[0].filename == "my-soundverse-data.json"
    assert [track["prompt"] for track in exported["tracks"]] == ["lofi rain", "lofi rain"]
    assert exported["jobs"][0]["request"]["prompt"] == "lofi rain"


async def test_a_member_deletes_their_data_after_confirming(stack: SandboxStack) -> None:
    """/privacy delete asks first; once confirmed, the member's tracks and files are gone."""
    await a_song(stack)
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    files = [t.audio_file.path for t in tracks if t.audio_file is not None]
    call = await stack.discord.slash("privacy delete", user="alice")
    confirmation = await reply_to(stack, call.id)
    assert await alices_tracks(stack) == 2
    await stack.discord.click(confirmation, "Delete my data", user="alice")
    done = await stack.discord.wait_for_edit(lambda m: m.id == confirmation.id)
    assert "Deleted: 2 tracks with their files and 1 job." in embed_text(done)
    assert await alices_tracks(stack) == 0
    assert files and not any(path.exists() for path in files)


async def purging_stack(make_stack: StackFactory) -> tuple[SandboxStack, ManualClock]:
    clock = ManualClock(datetime.now(UTC))
    return await make_stack(bot_options={"storage_clock": clock}), clock


async def test_a_server_that_removed_the_bot_is_purged_after_the_grace_period(
    make_stack: StackFactory,
) -> None:
    """Removed from a server, the bot keeps its data for the grace period, then deletes it."""
    stack, clock = await purging_stack(make_stack)
    await a_song(stack)
    recorded = stack.bot.wait_for("guild_departure_recorded", timeout=10)
    stack.discord.remove_guild(stack.discord.guild)
    await recorded
    clock.advance(GRACE - timedelta(hours=1))
    assert await stack.bot.services.privacy.purge_departed() == []
    clock.advance(timedelta(hours=2))
    assert await stack.bot.services.privacy.purge_departed() == [int(stack.discord.guild.id)]
    assert await alices_tracks(stack) == 0


async def test_a_server_that_adds_the_bot_back_in_time_keeps_its_data(
    make_stack: StackFactory,
) -> None:
    """A server that adds the bot back before the grace period ends keeps its tracks."""
    stack, clock = await purging_stack(make_stack)
    await a_song(stack)
    recorded = stack.bot.wait_for("guild_departure_recorded", timeout=10)
    stack.discord.remove_guild(stack.discord.guild)
    await recorded
    forgotten = stack.bot.wait_for("guild_departure_forgotten", timeout=10)
    stack.discord.return_guild(stack.discord.guild)
    await forgotten
    clock.advance(GRACE * 2)
    assert await stack.bot.services.privacy.purge_departed() == []
    assert await alices_tracks(stack) == 2
