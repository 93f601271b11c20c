"""Features as packages: which ones the bot loads, what each puts under a result, and their
restart-proof components: after a restart, on deleted tracks, and when something breaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.storage import Track
from sandbox.discord.state import JSON, Message
from sandbox.soundverse.media import render_audio
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, confirm_delete, embed_text, result_for, stored_tracks

COGS = Path(__file__).resolve().parents[2] / "cogs"


def labels(message: Message) -> list[str]:
    """The buttons a member sees under a message, in order."""
    return [str(c["label"]) for c in message.all_components() if c.get("type") == 2]


def menus(message: Message) -> list[JSON]:
    return [c for c in message.all_components() if c.get("type") == 3]


async def result_of(
    stack: SandboxStack, command: str, user: str = "alice", **options: Any
) -> Message:
    """Run a command and return its result once the job has ended."""
    member = stack.discord.user(user)
    before = {m.id for m in stack.discord.messages}
    await stack.discord.slash(command, user=user, **options)
    result = await stack.discord.wait_for_message(
        lambda m: result_for(member.id)(m) and m.id not in before, timeout=30
    )
    await stack.bot.services.jobs.wait_until_idle()
    return result


async def first_track(stack: SandboxStack, user: str = "alice") -> Track:
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user(user).id))
    return min(tracks, key=lambda track: track.id)


async def private_reply(stack: SandboxStack, interaction_id: str) -> str:
    message = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction_id and m.ephemeral
    )
    return embed_text(message)


async def test_the_bot_loads_exactly_the_feature_packages_on_disk(stack: SandboxStack) -> None:
    """Every package of cogs/ is a loaded extension, and nothing else is."""
    on_disk = {f"cogs.{path.parent.name}" for path in COGS.glob("*/__init__.py")}
    assert set(stack.bot.extensions) == on_disk


async def test_a_song_offers_every_follow_up_in_the_documented_order(stack: SandboxStack) -> None:
    """Under a song: Extend, Loop, Variation, Lyrics, Play in voice, Submit to contest, Delete,
    then the stems menu, then the second take's menu."""
    result = await result_of(stack, "song", prompt="lofi rain", duration=15)
    assert labels(result) == [
        "Extend",
        "Loop",
        "Variation",
        "Lyrics",
        "Play in voice",
        "Submit to contest",
        "Delete",
    ]
    assert [menu["placeholder"] for menu in menus(result)] == [
        "Separate stems…",
        "Take 2: Extend, Loop, Variation…",
    ]


async def test_an_instrumental_offers_no_lyrics(stack: SandboxStack) -> None:
    """An instrumental has nothing to sing, so its result has no Lyrics button."""
    result = await result_of(stack, "music", prompt="calm piano", duration=15)
    assert labels(result) == [
        "Extend",
        "Loop",
        "Variation",
        "Play in voice",
        "Submit to contest",
        "Delete",
    ]


async def test_stems_offer_neither_lyrics_nor_stems_again(stack: SandboxStack) -> None:
    """A stems result can be extended, looped, varied, played, entered or deleted; no Lyrics,
    no stems menu."""
    await result_of(stack, "song", prompt="lofi rain", duration=15)
    result = await result_of(stack, "stems", kind="vocals")
    assert labels(result) == [
        "Extend",
        "Loop",
        "Variation",
        "Play in voice",
        "Submit to contest",
        "Delete",
    ]
    assert menus(result) == []


async def test_a_track_form_opened_before_a_restart_still_extends(stack: SandboxStack) -> None:
    """The Extend form of a result, submitted after the bot restarted, extends that track."""
    result = await result_of(stack, "song", prompt="lofi rain", duration=20)
    track = await first_track(stack)
    opened = await stack.discord.click(result, "Extend", user="alice")
    await opened.wait_for_ack()
    await stack.stop_bot()
    await stack.start_bot()
    await stack.discord.submit_modal(opened, {"position": "12", "lyrics": "la", "prompt": ""})
    await stack.discord.wait_for_message(
        lambda m: result_for(stack.discord.user("alice").id)(m) and "extended song" in m.content,
        timeout=30,
    )
    lineage = await stack.bot.services.library.lineage(track.id)
    assert lineage is not None and len(lineage.children) == 1


async def test_the_history_pager_works_after_a_restart(stack: SandboxStack) -> None:
    """Next on a listing shown before a restart shows the second page afterwards."""
    for number in range(3):
        await result_of(stack, "song", prompt=f"song {number}", duration=15)
    listing_call = await stack.discord.slash("history", user="alice")
    listing = await stack.discord.wait_for_message(lambda m: m.interaction_id == listing_call.id)
    await stack.stop_bot()
    await stack.start_bot()
    await stack.discord.click(listing, "Next", user="alice")
    await stack.discord.wait_for_edit(
        lambda m: m.id == listing.id and "Page 2 of 2" in str(m.embeds[0].get("footer"))
    )


async def test_an_upload_form_after_a_restart_asks_for_the_menu_again(
    stack: SandboxStack,
) -> None:
    """The upload behind a "Make a loop" form is gone after a restart: the member is told to
    use the menu again, privately, and nothing is sent to Soundverse."""
    upload = stack.discord.upload("mine.mp3", render_audio(7, 12, "mp3"), "audio/mpeg")
    posted = await stack.discord.post_message(user="bob", attachments=[upload])
    opened = await stack.discord.context_menu("Make a loop", posted, user="bob")
    await opened.wait_for_ack()
    await stack.stop_bot()
    await stack.start_bot()
    submitted = await stack.discord.submit_modal(opened, {"count": "2"})
    assert "Use the menu on the message again" in await private_reply(stack, submitted.id)
    assert sum(stack.soundverse.counters.posts.values()) == 0


async def test_a_button_on_a_deleted_track_says_so(stack: SandboxStack) -> None:
    """Loop on a track posted again from history, once the original result was deleted,
    answers privately that the track is gone instead of failing."""
    result = await result_of(stack, "song", prompt="lofi rain", duration=15)
    track = await first_track(stack)
    listing_call = await stack.discord.slash("history", user="alice")
    listing = await stack.discord.wait_for_message(lambda m: m.interaction_id == listing_call.id)
    await stack.discord.select(listing, "Post a track again…", [str(track.id)], user="alice")
    repost = await stack.discord.wait_for_message(
        lambda m: m.content.startswith(f"🎵 Track #{track.id}")
    )
    await confirm_delete(stack, result)
    await stack.discord.wait_until(
        lambda: next((m for m in stack.discord.messages if m.id == result.id and m.deleted), None)
    )
    click = await stack.discord.click(repost, "Loop", user="alice")
    assert "This track has been deleted." in await private_reply(stack, click.id)


async def test_an_unexpected_failure_in_a_button_gives_an_error_id(
    make_stack: StackFactory,
) -> None:
    """A button whose work breaks unexpectedly (the database is gone) tells the member, with
    an error id, instead of leaving "This interaction failed"."""
    stack = await make_stack()
    result = await result_of(stack, "song", prompt="lofi rain", duration=15)
    await stack.bot.database.close()
    click = await stack.discord.click(result, "Variation", user="bob")
    assert "Something went wrong on our side (error id" in await private_reply(stack, click.id)
