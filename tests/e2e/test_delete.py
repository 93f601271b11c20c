"""Delete under a result or a post of it: asks first, removes what the message shows, and
updates the job card that linked to it."""

from __future__ import annotations

from sandbox.discord.state import Message
from sandbox.stack import SandboxStack
from tests.e2e.conftest import confirm_delete, embed_text, result_for, stored_tracks


async def song(stack: SandboxStack, user: str = "alice") -> tuple[Message, str]:
    """Run `/song`; its result once the job has ended, and the id of its interaction."""
    call = await stack.discord.slash("song", user=user, prompt="lofi rain", duration=15)
    result = await stack.discord.wait_for_message(
        result_for(stack.discord.user(user).id), timeout=30
    )
    await stack.bot.services.jobs.wait_until_idle()
    return result, call.id


async def repost(stack: SandboxStack, track_id: int) -> Message:
    """Post a track again from `/history`."""
    call = await stack.discord.slash("history", user="alice")
    listing = await stack.discord.wait_for_message(lambda m: m.interaction_id == call.id)
    await stack.discord.select(listing, "Post a track again…", [str(track_id)], user="alice")
    return await stack.discord.wait_for_message(
        lambda m: m.content.startswith(f"🎵 Track #{track_id}")
    )


async def alice_track_ids(stack: SandboxStack) -> list[int]:
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    return sorted(track.id for track in tracks)


async def confirm_delete_question(stack: SandboxStack, click_id: str) -> None:
    """Answer the question a Delete click asked, and wait until it is answered."""
    question = await stack.discord.wait_for_message(lambda m: m.interaction_id == click_id)
    await stack.discord.click(question, "Delete for good", user="alice")
    await stack.discord.wait_until(
        lambda: any(m.id == question.id and not m.components for m in stack.discord.messages)
    )


def is_deleted(stack: SandboxStack, message: Message) -> bool:
    return any(m.id == message.id and m.deleted for m in stack.discord.messages)


async def test_delete_asks_privately_before_deleting(stack: SandboxStack) -> None:
    """Pressing Delete only asks, privately; the result and its takes stay until confirmed."""
    result, _ = await song(stack)
    click = await stack.discord.click(result, "Delete", user="alice")
    question = await stack.discord.wait_for_message(lambda m: m.interaction_id == click.id)
    assert question.ephemeral and "for good" in embed_text(question)
    assert [c.get("label") for c in question.all_components() if c.get("type") == 2] == [
        "Delete for good"
    ]
    assert not is_deleted(stack, result) and len(await alice_track_ids(stack)) == 2


async def test_confirmed_delete_removes_the_result_and_its_takes(stack: SandboxStack) -> None:
    """Delete for good removes the result message and both takes, and says so privately."""
    result, _ = await song(stack)
    answer = await confirm_delete(stack, result)
    assert "Deleted" in embed_text(answer) and "2 takes" in embed_text(answer)
    assert is_deleted(stack, result) and await alice_track_ids(stack) == []


async def test_delete_marks_the_job_card(stack: SandboxStack) -> None:
    """The job card that linked to the result says it was deleted, and by whom."""
    result, call_id = await song(stack)
    await confirm_delete(stack, result)
    card = next(m for m in stack.discord.messages if m.interaction_id == call_id)
    text = embed_text(card)
    assert "The result was deleted by" in text and "your track is below" not in text
    assert "lofi rain" in text


async def test_delete_on_a_repost_removes_only_the_post(stack: SandboxStack) -> None:
    """Delete on a track posted again from /history removes that post; the result and every
    take stay."""
    result, _ = await song(stack)
    ids = await alice_track_ids(stack)
    posted = await repost(stack, ids[1])
    answer = await confirm_delete(stack, posted, answer="Remove this post")
    assert "still in your history" in embed_text(answer)
    assert is_deleted(stack, posted) and not is_deleted(stack, result)
    assert await alice_track_ids(stack) == ids


async def test_a_manager_may_delete_another_members_result(stack: SandboxStack) -> None:
    """A member with Manage Server may delete another member's result, after confirming."""
    result, _ = await song(stack, user="bob")
    await confirm_delete(stack, result, user="alice")
    bob = await stored_tracks(stack).user_history(int(stack.discord.user("bob").id))
    assert is_deleted(stack, result) and bob == ()


async def test_a_second_confirmation_says_the_track_is_gone(stack: SandboxStack) -> None:
    """A confirmation pressed once the result was already deleted says so and deletes nothing
    else."""
    result, _ = await song(stack)
    first = await stack.discord.click(result, "Delete", user="alice")
    later = await stack.discord.click(result, "Delete", user="alice")
    second_question = await stack.discord.wait_for_message(lambda m: m.interaction_id == later.id)
    await confirm_delete_question(stack, first.id)
    late = await stack.discord.click(second_question, "Delete for good", user="alice")
    reply = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == late.id and m.ephemeral
    )
    assert "This track has been deleted." in embed_text(reply)
