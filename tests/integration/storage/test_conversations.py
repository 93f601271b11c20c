"""Chat conversations as stored (`bot.storage.conversations`): turns in order, found by id, by
answer message and by the member's latest question; and deleted with a user's or a guild's data."""

from __future__ import annotations

from datetime import timedelta

from bot.storage import (
    ConversationRepository,
    Database,
    ManualClock,
    NewTurn,
    delete_user_data,
    purge_guild,
)
from bot.storage.privacy import user_data

GUILD = 1000
CHANNEL = 10
ALICE, BOB = 1, 2


def asked(question: str, user_id: int = ALICE, guild_id: int | None = GUILD) -> NewTurn:
    return NewTurn(
        user_id=user_id,
        guild_id=guild_id,
        channel_id=CHANNEL,
        question=question,
        action="other",
        answer=f"answer to {question}",
    )


async def test_turns_of_a_conversation_are_numbered_in_order(
    database: Database, clock: ManualClock
) -> None:
    """A new conversation's first turn is 1; the next turns follow it, returned oldest first."""
    conversations = ConversationRepository(database, clock)
    first = await conversations.add_turn(None, asked("q1"))
    await conversations.add_turn(first.conversation_id, asked("q2", BOB))
    await conversations.add_turn(first.conversation_id, asked("q3"))
    turns = await conversations.latest_turns(first.conversation_id, 10)
    assert [(t.number, t.question, t.user_id) for t in turns] == [
        (1, "q1", ALICE),
        (2, "q2", BOB),
        (3, "q3", ALICE),
    ]


async def test_latest_turns_keep_the_newest_up_to_a_turn(
    database: Database, clock: ManualClock
) -> None:
    """The last 2 turns up to turn 3 of 4 are turns 2 and 3."""
    conversations = ConversationRepository(database, clock)
    first = await conversations.add_turn(None, asked("q1"))
    for question in ("q2", "q3", "q4"):
        await conversations.add_turn(first.conversation_id, asked(question))
    turns = await conversations.latest_turns(first.conversation_id, 2, up_to=3)
    assert [t.number for t in turns] == [2, 3]


async def test_a_turn_for_a_deleted_conversation_starts_a_new_one(
    database: Database, clock: ManualClock
) -> None:
    """A follow-up to a conversation deleted meanwhile opens a new conversation at turn 1."""
    conversations = ConversationRepository(database, clock)
    first = await conversations.add_turn(None, asked("q1"))
    await delete_user_data(database, ALICE)
    again = await conversations.add_turn(first.conversation_id, asked("q2"))
    assert again.conversation_id != first.conversation_id and again.number == 1


async def test_a_turn_is_found_by_the_message_that_shows_it(
    database: Database, clock: ManualClock
) -> None:
    """Once its message is recorded, a turn is found by that message's id."""
    conversations = ConversationRepository(database, clock)
    turn = await conversations.add_turn(None, asked("q1"))
    await conversations.record_message(turn.id, 555)
    found = await conversations.turn_shown_in(555)
    assert found is not None and found.id == turn.id and found.message_id == 555
    assert await conversations.turn_shown_in(556) is None


async def test_the_members_latest_turn_is_found_only_within_the_window(
    database: Database, clock: ManualClock
) -> None:
    """A member's turn of an hour ago is found from an hour ago, not from half an hour ago."""
    conversations = ConversationRepository(database, clock)
    turn = await conversations.add_turn(None, asked("q1"))
    clock.advance(timedelta(hours=1))
    since_an_hour = await conversations.latest_asked_by(
        ALICE, CHANNEL, clock.now() - timedelta(hours=1)
    )
    assert since_an_hour is not None and since_an_hour.id == turn.id
    since_half = await conversations.latest_asked_by(
        ALICE, CHANNEL, clock.now() - timedelta(minutes=30)
    )
    assert since_half is None


async def test_deleting_a_user_removes_their_conversations_and_their_turns(
    database: Database, clock: ManualClock
) -> None:
    """Alice's conversation goes with Bob's turn in it; Alice's turn in Bob's goes alone."""
    conversations = ConversationRepository(database, clock)
    hers = await conversations.add_turn(None, asked("hers"))
    await conversations.add_turn(hers.conversation_id, asked("bob in hers", BOB))
    his = await conversations.add_turn(None, asked("his", BOB))
    await conversations.add_turn(his.conversation_id, asked("alice in his"))
    report = await delete_user_data(database, ALICE)
    assert report.chat_turns_deleted == 3
    assert await conversations.find(hers.conversation_id) is None
    left = await conversations.latest_turns(his.conversation_id, 10)
    assert [t.question for t in left] == ["his"]


async def test_purging_a_guild_removes_its_conversations(
    database: Database, clock: ManualClock
) -> None:
    """A guild's conversations go with it; a DM conversation stays."""
    conversations = ConversationRepository(database, clock)
    in_guild = await conversations.add_turn(None, asked("in the guild"))
    in_dms = await conversations.add_turn(None, asked("in DMs", guild_id=None))
    report = await purge_guild(database, GUILD)
    assert report.chat_turns_deleted == 1
    assert await conversations.find(in_guild.conversation_id) is None
    assert await conversations.find(in_dms.conversation_id) is not None


async def test_a_users_export_holds_what_they_asked(database: Database, clock: ManualClock) -> None:
    """The export lists each question the user asked with its answer, and no one else's."""
    conversations = ConversationRepository(database, clock)
    first = await conversations.add_turn(None, asked("q1"))
    await conversations.add_turn(first.conversation_id, asked("q2", BOB))
    exported = await user_data(database, ALICE)
    assert [(t["question"], t["answer"]) for t in exported["chat"]] == [("q1", "answer to q1")]
