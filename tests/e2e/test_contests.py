"""Remix contests end to end through the local Discord, on a clock the tests move: create from
a song (its stem pack made and charged), enter derived tracks, vote anonymously, close on the
deadline, results with the winner; restarts, downtime and the admin controls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.storage import ContestRepository, ManualClock
from sandbox.discord.state import Message
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, embed_text, stored_tracks
from tests.e2e.test_tools import a_song, finished_result, private_reply

DAY = timedelta(days=1)


async def contest_stack(
    make_stack: StackFactory, **options: object
) -> tuple[SandboxStack, ManualClock]:
    clock = ManualClock(datetime.now(UTC))
    return await make_stack(bot_options={"storage_clock": clock}, **options), clock


async def reply_text(stack: SandboxStack, interaction_id: str) -> str:
    message = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction_id and bool(m.content or m.embeds), timeout=20
    )
    return message.content + embed_text(message)


async def reply_to(stack: SandboxStack, interaction_id: str) -> Message:
    return await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction_id and bool(m.content or m.embeds), timeout=20
    )


def card_of(stack: SandboxStack) -> Message | None:
    """The newest contest card posted in a channel."""
    cards = [
        m
        for m in stack.discord.messages
        if not m.deleted
        and m.embeds
        and str(m.embeds[0].get("title", "")).startswith("🏆 ")
        and "Contest #" in str(m.embeds[0].get("footer", {}).get("text", ""))
        and m.interaction_id is None
    ]
    return cards[-1] if cards else None


async def create_contest(
    stack: SandboxStack, source_track: int, *, user: str = "alice", **options: object
) -> Message:
    """alice creates a contest from `source_track` and confirms; returns its card once the
    stem pack is on it."""
    options.setdefault("title", "Rain remix")
    options.setdefault("theme", "Make the rain dance")
    options.setdefault("submissions", "1d")
    options.setdefault("voting", "1d")
    summary = await stack.discord.slash(
        "contest create", user=user, source_track=f"#{source_track}", **options
    )
    shown = await reply_to(stack, summary.id)
    await stack.discord.click(shown, "Create contest", user=user)
    await finished_result(stack, user, "stem")
    return await stack.discord.wait_until(
        lambda: (
            ((card := card_of(stack)) and "being made" not in embed_text(card) and card) or None
        ),
        timeout=20,
    )


async def derived_track(stack: SandboxStack, user: str, parent: int) -> int:
    """`user` loops `parent`; the id of the looped track."""
    await stack.discord.slash("loop audio", user=user, track=f"#{parent}", count=2)
    await finished_result(stack, user, "loop")
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user(user).id))
    return max(t.id for t in tracks)


async def test_create_shows_the_stem_pack_cost_before_anything_is_made(
    make_stack: StackFactory,
) -> None:
    """/contest create answers privately with the stem pack's cost and makes nothing yet."""
    stack, _ = await contest_stack(make_stack)
    _, song = await a_song(stack)
    summary = await stack.discord.slash(
        "contest create",
        user="alice",
        title="Rain remix",
        theme="Make it dance",
        submissions="1d",
        voting="1d",
        source_track=f"#{song}",
    )
    text = await private_reply(stack, summary.id)
    assert "stem pack" in text and "credit" in text
    assert stack.soundverse.counters.posts.get("/v5/stems", 0) == 0
    assert card_of(stack) is None


def entry_posts(stack: SandboxStack) -> dict[int, Message]:
    """The anonymous entry posts, by number."""
    found = {}
    for message in stack.discord.messages:
        title = str(message.embeds[0].get("title", "")) if message.embeds else ""
        if not message.deleted and title.startswith("Entry ") and title[6:].isdigit():
            found[int(title[6:])] = message
    return found


def results_card(stack: SandboxStack) -> Message | None:
    found = [
        m
        for m in stack.discord.messages
        if m.embeds and str(m.embeds[0].get("title", "")).startswith("🏁 Results")
    ]
    return found[-1] if found else None


async def numbers_by_author(stack: SandboxStack, contest_id: int) -> dict[str, int]:
    entries = await ContestRepository(stack.bot.database).entries(contest_id)
    names = {int(stack.discord.user(n).id): n for n in ("alice", "bob", "carol")}
    return {names[e.user_id]: e.number or 0 for e in entries}


async def vote(stack: SandboxStack, user: str, number: int) -> str:
    click = await stack.discord.click(
        entry_posts(stack)[number], f"Vote for Entry {number}", user=user
    )
    return await private_reply(stack, click.id)


async def test_the_whole_lifecycle_ends_with_a_winner(make_stack: StackFactory) -> None:
    """Three members enter derived tracks three ways, vote anonymously (a self-vote refused),
    and after the deadline the results card names the winner."""
    stack, clock = await contest_stack(make_stack)
    _, song = await a_song(stack)
    card = await create_contest(stack, song)
    assert "Taking entries" in embed_text(card) and "stem" in embed_text(card).lower()
    contest_id = 1
    stems = await stack.bot.services.contests.stems(contest_id)
    assert stems, "the stem pack is among the contest's sources"
    bob_track = await derived_track(stack, "bob", song)
    carol_track = await derived_track(stack, "carol", stems[0].id)
    await derived_track(stack, "alice", song)

    by_command = await stack.discord.slash("contest submit", user="bob", track=f"#{bob_track}")
    assert "Entered track" in await private_reply(stack, by_command.id)
    pressed = await stack.discord.click(card_of(stack) or card, "Submit an entry", user="carol")
    picker = await reply_to(stack, pressed.id)
    picked = await stack.discord.select(
        picker, "Pick a track to enter…", [str(carol_track)], user="carol"
    )
    assert "Entered track" in await private_reply(stack, picked.id)
    alice_result = await finished_result(stack, "alice", "loop")
    under = await stack.discord.click(alice_result, "Submit to contest", user="alice")
    assert "Entered track" in await private_reply(stack, under.id)

    clock.advance(DAY)
    posts = await stack.discord.wait_until(lambda: len(entry_posts(stack)) == 3 or None, timeout=20)
    assert posts
    assert all(
        "alice" not in embed_text(m) and "<@" not in embed_text(m)
        for m in entry_posts(stack).values()
    )
    numbers = await numbers_by_author(stack, contest_id)
    assert "yours" in await vote(stack, "bob", numbers["bob"])
    assert await vote(stack, "bob", numbers["alice"]) == f"Your vote: Entry {numbers['alice']}."
    await vote(stack, "carol", numbers["alice"])
    await vote(stack, "alice", numbers["bob"])

    clock.advance(DAY)
    results = await stack.discord.wait_until(lambda: results_card(stack), timeout=20)
    text = embed_text(results)
    assert f"<@{stack.discord.user('alice').id}> wins" in text
    assert f"Entry {numbers['alice']}** by <@{stack.discord.user('alice').id}>: 2 votes" in text
