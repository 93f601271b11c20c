"""`/quota`, `/admin quota`, `/history`, and the Variation and Delete buttons of a result."""

from __future__ import annotations

from sandbox.discord.state import Message
from sandbox.stack import SandboxStack
from tests.e2e.conftest import confirm_delete, embed_text, result_for, stored_tracks


async def make_song(stack: SandboxStack, user: str = "alice", prompt: str = "lofi rain") -> Message:
    """Run `/song` and return its result message once the job has ended."""
    await stack.discord.slash("song", user=user, prompt=prompt, duration=15)
    result = await stack.discord.wait_for_message(
        lambda m: result_for(stack.discord.user(user).id)(m) and prompt in embed_text(m),
        timeout=30,
    )
    await stack.bot.services.jobs.wait_until_idle()
    return result


async def reply_to(stack: SandboxStack, interaction_id: str) -> Message:
    return await stack.discord.wait_for_message(lambda m: m.interaction_id == interaction_id)


async def test_quota_card_shows_use_and_reset(stack: SandboxStack) -> None:
    """After a song, `/quota` privately shows 2 units used, what is left, and the reset."""
    await make_song(stack)
    interaction = await stack.discord.slash("quota", user="alice")
    card = await reply_to(stack, interaction.id)
    text = embed_text(card)
    assert card.ephemeral
    assert "2 used, **18** of 20 left" in text
    assert "2 used, **98** of 100 left" in text
    assert "<t:" in text


async def test_admin_quota_changes_policy_for_managers(stack: SandboxStack) -> None:
    """A member with Manage Server sets the server's units; `/quota` then reflects it."""
    interaction = await stack.discord.slash("admin quota", user="alice", units=40, member_cap=10)
    text = embed_text(await reply_to(stack, interaction.id))
    assert "40 per day" in text and "10 per day" in text
    quota = await stack.discord.slash("quota", user="bob")
    assert "**40** of 40 left" in embed_text(await reply_to(stack, quota.id))


async def test_admin_quota_is_refused_without_manage_server(stack: SandboxStack) -> None:
    """A plain member cannot change the quota, and is told which permission is missing."""
    interaction = await stack.discord.slash("admin quota", user="bob", units=1)
    reply = await reply_to(stack, interaction.id)
    assert reply.ephemeral
    assert embed_text(reply).strip() == (
        "Only members with the Manage Server permission can change the quota. "
        "Anyone can see it: `/admin quota` with no options."
    )
    policy = await stack.bot.services.quota.policy(int(stack.discord.guild.id))
    assert policy.units_per_period == 100


async def test_any_member_may_view_the_quota_policy(stack: SandboxStack) -> None:
    """A plain member running `/admin quota` with no options sees the policy, privately."""
    interaction = await stack.discord.slash("admin quota", user="bob")
    reply = await reply_to(stack, interaction.id)
    assert reply.ephemeral and "Quota policy of this server" in embed_text(reply)
    assert "100 per day" in embed_text(reply)


async def test_admin_quota_refuses_cap_above_units(stack: SandboxStack) -> None:
    """A member cap larger than the server's units is refused with both numbers."""
    interaction = await stack.discord.slash("admin quota", user="alice", units=5, member_cap=6)
    assert "member cap (6) cannot be above the server's units (5)" in embed_text(
        await reply_to(stack, interaction.id)
    )


async def test_history_lists_tracks_and_reposts_one(stack: SandboxStack) -> None:
    """`/history` lists the member's takes; choosing one posts it again with its file."""
    await make_song(stack)
    interaction = await stack.discord.slash("history", user="alice")
    listing = await reply_to(stack, interaction.id)
    assert listing.ephemeral
    assert "lofi rain" in embed_text(listing) or "#1" in embed_text(listing)
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    await stack.discord.select(listing, "Post a track again…", [str(tracks[0].id)], user="alice")
    repost = await stack.discord.wait_for_message(
        lambda m: m.content.startswith(f"🎵 Track #{tracks[0].id}")
    )
    assert [a.filename for a in repost.attachments] == [f"track-{tracks[0].id}.mp3"]


async def test_history_pages_forward(stack: SandboxStack) -> None:
    """With more than five tracks the listing has a second page that Next shows."""
    for n in range(3):
        await make_song(stack, prompt=f"song {n}")
    interaction = await stack.discord.slash("history", user="alice")
    listing = await reply_to(stack, interaction.id)
    assert "Page 1 of 2" in str(listing.embeds[0].get("footer"))
    await stack.discord.click(listing, "Next", user="alice")
    page_two = await stack.discord.wait_for_edit(
        lambda m: m.id == listing.id and "Page 2 of 2" in str(m.embeds[0].get("footer"))
    )
    assert "#1 " in embed_text(page_two)


async def test_variation_runs_again_with_the_track_as_parent(stack: SandboxStack) -> None:
    """Variation makes a new job from the same request; its tracks name the original as parent."""
    first = await make_song(stack)
    await stack.discord.click(first, "Variation", user="bob")
    alice_tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    await stack.discord.wait_for_message(
        lambda m: result_for(stack.discord.user("bob").id)(m), timeout=30
    )
    await stack.bot.services.jobs.wait_until_idle()
    bob_tracks = await stored_tracks(stack).user_history(int(stack.discord.user("bob").id))
    assert bob_tracks and all(t.parent_id == alice_tracks[-1].id for t in bob_tracks)
    assert all(t.prompt == "lofi rain" for t in bob_tracks)
    assert stack.soundverse.counters.posts["/v5/generate/song"] == 2


async def test_delete_removes_message_and_tracks(stack: SandboxStack) -> None:
    """The requester's Delete removes the result message and its tracks."""
    result = await make_song(stack)
    await confirm_delete(stack, result)
    await stack.discord.wait_until(
        lambda: next((m for m in stack.discord.messages if m.id == result.id and m.deleted), None)
    )
    assert await stored_tracks(stack).user_history(int(stack.discord.user("alice").id)) == ()


async def test_delete_is_refused_to_other_members(stack: SandboxStack) -> None:
    """Another plain member's Delete is refused privately and the tracks stay."""
    result = await make_song(stack)
    click = await stack.discord.click(result, "Delete", user="carol")
    refusal = await reply_to(stack, click.id)
    assert refusal.ephemeral and "Only the member who made this track" in embed_text(refusal)
    assert len(await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))) == 2
