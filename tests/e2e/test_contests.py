"""Remix contests end to end through the local Discord, on a clock the tests move: create from
a song (its stem pack made and charged), enter derived tracks, vote anonymously, close on the
deadline, results with the winner; restarts, downtime and the admin controls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.storage import ContestRepository, ManualClock
from sandbox.discord.state import Message
from sandbox.stack import SandboxStack
from tests.e2e.conftest import BOTH_BACKENDS, StackFactory, embed_text, stored_tracks
from tests.e2e.test_tools import a_song, finished_result, mp3_upload, private_reply

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


def card_of(stack: SandboxStack, title: str = "") -> Message | None:
    """The newest contest card posted in a channel (whose title has `title`)."""
    cards = [
        m
        for m in stack.discord.messages
        if not m.deleted
        and m.embeds
        and str(m.embeds[0].get("title", "")).startswith(f"🏆 {title}")
        and "Contest #" in str(m.embeds[0].get("footer", {}).get("text", ""))
        and m.interaction_id is None
    ]
    return cards[-1] if cards else None


async def create_contest(
    stack: SandboxStack, source_track: int, *, user: str = "alice", **options: Any
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

    def ready() -> Message | None:
        card = card_of(stack, str(options["title"]))
        return card if card is not None and "being made" not in embed_text(card) else None

    return await stack.discord.wait_until(ready, timeout=20)


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
    _, song = await a_song(stack, 5)
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


@BOTH_BACKENDS
async def test_the_whole_lifecycle_ends_with_a_winner(make_stack: StackFactory) -> None:
    """Three members enter derived tracks three ways, vote anonymously (a self-vote refused),
    and after the deadline the results card names the winner."""
    stack, clock = await contest_stack(make_stack)
    _, song = await a_song(stack, 5)
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


async def voting_contest(
    make_stack: StackFactory,
    prepare: Callable[[SandboxStack], Awaitable[None]] | None = None,
    **options: Any,
) -> tuple[SandboxStack, ManualClock, dict[str, int]]:
    """A contest from alice's song whose three entries (alice's, bob's, carol's loops of the
    source) are posted for voting; the entry number of each author. `prepare` runs first."""
    stack, clock = await contest_stack(make_stack)
    if prepare is not None:
        await prepare(stack)
    if isinstance(options.get("winner_role"), str):
        options["winner_role"] = stack.discord.role(options["winner_role"])
    _, song = await a_song(stack, 5)
    await create_contest(stack, song, **options)
    for user in ("alice", "bob", "carol"):
        track = await derived_track(stack, user, song)
        entered = await stack.discord.slash("contest submit", user=user, track=f"#{track}")
        assert "Entered track" in await private_reply(stack, entered.id)
    clock.advance(DAY)
    await stack.discord.wait_until(lambda: len(entry_posts(stack)) == 3 or None, timeout=20)
    return stack, clock, await numbers_by_author(stack, 1)


async def stored_counts(stack: SandboxStack) -> tuple[int, int]:
    counts = await ContestRepository(stack.bot.database).counts(1)
    return counts.voters, counts.votes


async def test_a_changed_vote_is_counted_once(make_stack: StackFactory) -> None:
    """bob votes for alice's entry, then carol's: one vote, for carol's, and he is told so."""
    stack, _, numbers = await voting_contest(make_stack)
    await vote(stack, "bob", numbers["alice"])
    changed = await vote(stack, "bob", numbers["carol"])
    assert changed == f"Your vote: Entry {numbers['carol']} (instead of Entry {numbers['alice']})."
    assert await stored_counts(stack) == (1, 1)


async def test_several_votes_per_member_when_the_contest_allows(make_stack: StackFactory) -> None:
    """With two votes each, carol votes for alice's and bob's entries and both count."""
    stack, _, numbers = await voting_contest(make_stack, votes_per_member=2)
    assert await vote(stack, "carol", numbers["alice"]) == f"Your vote: Entry {numbers['alice']}."
    assert await vote(stack, "carol", numbers["bob"]) == f"Your vote: Entry {numbers['bob']}."
    assert await stored_counts(stack) == (1, 2)


async def test_a_tie_shares_first_place(make_stack: StackFactory) -> None:
    """Each entry gets one vote: all three share rank 1, and the card says the tie rule."""
    stack, clock, numbers = await voting_contest(make_stack)
    await vote(stack, "alice", numbers["bob"])
    await vote(stack, "bob", numbers["carol"])
    await vote(stack, "carol", numbers["alice"])
    clock.advance(DAY)
    results = await stack.discord.wait_until(lambda: results_card(stack), timeout=20)
    text = embed_text(results)
    assert text.count("🥇") == 3 and "share first place" in text
    assert "Equal votes share a rank (1, 1, 3)" in str(results.embeds[0]["footer"])


async def test_a_disqualified_entry_is_struck_and_its_author_told(make_stack: StackFactory) -> None:
    """alice disqualifies bob's entry: bob gets the reason by DM, its post loses its Vote
    button, and the vote it had goes back to carol."""
    stack, _, numbers = await voting_contest(make_stack)
    await vote(stack, "carol", numbers["bob"])
    entries = await ContestRepository(stack.bot.database).entries(1)
    bobs = next(e for e in entries if e.user_id == int(stack.discord.user("bob").id))
    done = await stack.discord.slash(
        "contest disqualify", user="alice", entry=bobs.id, reason="Not made from the source"
    )
    assert "told privately" in await private_reply(stack, done.id)
    dm = await stack.discord.wait_until(lambda: stack.discord.dms_of("bob") or None)
    assert "Reason: Not made from the source" in dm[-1].content
    await stack.discord.wait_until(lambda: numbers["bob"] not in entry_posts(stack) or None)
    struck = next(m for m in stack.discord.messages if "(disqualified)" in embed_text(m))
    assert not list(struck.all_components())
    assert await stored_counts(stack) == (0, 0)


async def test_a_restart_between_phases_keeps_the_vote_buttons_working(
    make_stack: StackFactory,
) -> None:
    """After a restart during voting, the entries are not posted again, the Vote buttons
    still vote, and the contest closes on time."""
    stack, clock, numbers = await voting_contest(make_stack)
    await stack.stop_bot()
    await stack.start_bot()
    assert await vote(stack, "bob", numbers["alice"]) == f"Your vote: Entry {numbers['alice']}."
    clock.advance(DAY)
    await stack.discord.wait_until(lambda: results_card(stack), timeout=20)
    assert len(entry_posts(stack)) == 3


async def test_deadlines_passed_while_down_post_only_the_latest_state(
    make_stack: StackFactory,
) -> None:
    """Down through both deadlines, the bot comes back and posts the results at start-up,
    without posting entries for a vote that is over."""
    stack, clock = await contest_stack(make_stack)
    _, song = await a_song(stack, 5)
    await create_contest(stack, song)
    track = await derived_track(stack, "bob", song)
    await stack.discord.slash("contest submit", user="bob", track=f"#{track}")
    await stack.stop_bot()
    clock.advance(3 * DAY)
    await stack.start_bot()
    text = embed_text(await stack.discord.wait_until(lambda: results_card(stack), timeout=20))
    assert "No entry got a vote" in text
    assert entry_posts(stack) == {}
    card = card_of(stack)
    assert card is not None and "Closed" in embed_text(card)


async def test_an_entry_not_made_from_the_source_is_refused(make_stack: StackFactory) -> None:
    """bob's own song, unrelated to the source, is refused with the rule it breaks."""
    stack, _ = await contest_stack(make_stack)
    _, song = await a_song(stack, 5)
    await create_contest(stack, song)
    await stack.discord.slash("song", user="bob", prompt="something else", duration=20)
    await finished_result(stack, "bob", "something else")
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user("bob").id))
    refused = await stack.discord.slash("contest submit", user="bob", track=f"#{tracks[0].id}")
    assert "does not come from this contest's source" in await private_reply(stack, refused.id)


async def test_an_upload_is_refused_unless_the_contest_accepts_them(
    make_stack: StackFactory,
) -> None:
    """A file is refused by a contest without uploads, and entered in one that takes them."""
    stack, _ = await contest_stack(make_stack)
    _, song = await a_song(stack, 5)
    await create_contest(stack, song, title="No files")
    refused = await stack.discord.slash(
        "contest submit", user="bob", contest=1, audio=mp3_upload(stack)
    )
    assert "does not accept uploads" in await private_reply(stack, refused.id)
    await create_contest(stack, song, title="Files welcome", uploads_allowed=True)
    taken = await stack.discord.slash(
        "contest submit", user="bob", contest=2, audio=mp3_upload(stack)
    )
    assert "Entered your upload" in await private_reply(stack, taken.id)


MANAGE_ROLES = 1 << 28


async def test_the_winner_gets_the_winner_role(make_stack: StackFactory) -> None:
    """With a winner role set, the winner holds it after the close and the results say so."""

    async def bot_manages_roles(stack: SandboxStack) -> None:
        await stack.discord.add_role("Contest bot", position=3, permissions=MANAGE_ROLES)
        await stack.discord.give_role("bot", "Contest bot")

    stack, clock, numbers = await voting_contest(make_stack, bot_manages_roles, winner_role="DJ")
    await vote(stack, "bob", numbers["carol"])
    clock.advance(DAY)
    results = await stack.discord.wait_until(lambda: results_card(stack), timeout=20)
    assert "DJ" in stack.discord.roles_of("carol")
    assert "now has" in embed_text(results)


async def test_a_member_who_joined_after_voting_opened_may_not_vote(
    make_stack: StackFactory,
) -> None:
    """With the joined-before-voting rule, carol (who joined after voting opened) is refused."""
    stack, clock, numbers = await voting_contest(make_stack, joined_before_voting=True)
    stack.discord.set_joined_at("carol", clock.now() + timedelta(hours=1))
    refused = await vote(stack, "carol", numbers["alice"])
    assert "Only members who joined this server before voting opened" in refused
    assert await stored_counts(stack) == (0, 0)


async def test_a_forum_gets_a_post_per_contest(make_stack: StackFactory) -> None:
    """Created in a forum, the contest is a forum post whose first message is its card."""
    stack, _ = await contest_stack(make_stack)
    forum = await stack.discord.add_channel("contests", forum=True)
    _, song = await a_song(stack, 5)
    card = await create_contest(stack, song, channel=forum)
    post = stack.discord.channel("Rain remix")
    assert card.channel_id == post.id and card.id == post.id


async def test_the_listening_party_plays_every_entry_by_number(make_stack: StackFactory) -> None:
    """/contest play in Lounge queues the three entries as "Entry N of 3" and is heard."""
    stack, _, _ = await voting_contest(make_stack)
    await stack.discord.move_to_voice("bob", "Lounge")
    played = await stack.discord.slash("contest play", user="bob")
    assert "Listening party" in await reply_text(stack, played.id)
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: len(heard.audio_packets) >= 5 or None, timeout=10)
    session = stack.bot.voice.get(int(stack.discord.guild.id))
    assert session is not None and session.queue.now is not None
    names = [session.queue.now.name, *(item.name for item in session.queue.upcoming)]
    assert names == [f"Entry {n} of 3 · Rain remix" for n in (1, 2, 3)]


async def test_a_listening_party_event_is_scheduled_for_when_voting_opens(
    make_stack: StackFactory,
) -> None:
    """With `party: Lounge`, a Discord event in Lounge starts when voting opens."""
    stack, clock = await contest_stack(make_stack)
    _, song = await a_song(stack, 5)
    await create_contest(stack, song, party=stack.discord.channel("Lounge"))
    events = await stack.discord.wait_until(lambda: stack.discord.scheduled_events() or None)
    assert events[0].name == "Listening party: Rain remix"
    assert events[0].channel_id == stack.discord.channel("Lounge").id
    starts = datetime.fromisoformat(events[0].scheduled_start_time)
    assert abs(starts - (clock.now() + DAY)) < timedelta(seconds=1)


async def test_the_card_counts_entries_as_they_arrive(make_stack: StackFactory) -> None:
    """bob's entry brings the card from 0 entries to 1, without another post."""
    stack, _ = await contest_stack(make_stack)
    _, song = await a_song(stack, 5)
    card = await create_contest(stack, song)
    assert "0 entries" in embed_text(card)
    track = await derived_track(stack, "bob", song)
    await stack.discord.slash("contest submit", user="bob", track=f"#{track}")

    def counted_one() -> Message | None:
        now = card_of(stack)
        return now if now is not None and "1 entry" in embed_text(now) else None

    assert (await stack.discord.wait_until(counted_one)).id == card.id
