"""Every action authorised: ids never reused, and tracks used only where they were made."""

from __future__ import annotations

from typing import Any

from sandbox.discord.state import Channel, Message
from sandbox.stack import SandboxStack
from tests.e2e.conftest import confirm_delete, embed_text, result_for, stored_tracks


async def song_in(
    stack: SandboxStack, user: str, channel: str | Channel, **options: Any
) -> Message:
    """Run /song and return its result once its job has ended."""
    member = stack.discord.user(user)
    before = {m.id for m in stack.discord.messages}
    await stack.discord.slash("song", user=user, channel=channel, duration=15, **options)
    result = await stack.discord.wait_for_message(
        lambda m: result_for(member.id)(m) and m.id not in before, timeout=30
    )
    await stack.bot.services.jobs.wait_until_idle()
    return result


async def reply_to(stack: SandboxStack, interaction_id: str) -> str:
    message = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction_id and m.ephemeral
    )
    return embed_text(message)


async def test_a_deleted_tracks_id_never_shows_another_servers_track(stack: SandboxStack) -> None:
    """Alice reposts her song in server A and deletes the original; Bob then makes a song with
    lyrics in server B. Lyrics and Variation on the old repost say the track is gone: they
    never show Bob's lyrics nor run his prompt."""
    result = await song_in(stack, "alice", "general", prompt="lofi rain")
    alice_tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    first = min(t.id for t in alice_tracks)
    listing_call = await stack.discord.slash("history", user="alice")
    listing = await stack.discord.wait_for_message(lambda m: m.interaction_id == listing_call.id)
    await stack.discord.select(listing, "Post a track again…", [str(first)], user="alice")
    repost = await stack.discord.wait_for_message(
        lambda m: m.content.startswith(f"🎵 Track #{first}")
    )
    await confirm_delete(stack, result)
    await stack.discord.wait_until(
        lambda: next((m for m in stack.discord.messages if m.id == result.id and m.deleted), None)
    )
    server_b = stack.discord.add_guild("B")
    await song_in(
        stack,
        "bob",
        stack.discord.channel("general", server_b),
        prompt="bob's own",
        lyrics="bob's secret words",
    )
    lyrics = await stack.discord.click(repost, "Lyrics", user="carol")
    shown = await reply_to(stack, lyrics.id)
    assert "This track has been deleted." in shown and "secret" not in shown
    variation = await stack.discord.click(repost, "Variation", user="carol")
    assert "This track has been deleted." in await reply_to(stack, variation.id)
    assert stack.soundverse.counters.posts["/v5/generate/song"] == 2


async def test_a_members_track_is_not_used_in_another_server(stack: SandboxStack) -> None:
    """Alice's track of server A, named by id in server B, is refused there, saying why."""
    await song_in(stack, "alice", "general", prompt="lofi rain")
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    server_b = stack.discord.add_guild("B")
    call = await stack.discord.slash(
        "stems",
        user="alice",
        channel=stack.discord.channel("general", server_b),
        track=str(tracks[0].id),
    )
    assert "was made in another server" in await reply_to(stack, call.id)
    assert "/v1/generate/stem-separation/all-stems" not in stack.soundverse.counters.posts
