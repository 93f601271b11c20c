"""Conversations with the chat assistant as stored: each turn's question, topic and answer, and
the message that shows the answer, so a conversation goes on after a restart.

A conversation belongs to the member who started it and to the place it was started (a
server's channel, or that member's DMs). In a server, other members may continue it; each turn
records who asked it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.storage.clock import Clock, SystemClock, from_stored, to_stored
from bot.storage.database import Database, Row, Transaction

_TURN_COLUMNS = (
    "t.id, t.conversation_id, t.number, t.user_id, c.guild_id, c.channel_id, t.question,"
    " t.action, t.answer, t.carried, t.message_id, t.created_at"
)
_TURNS = "conversation_turns t JOIN conversations c ON c.id = t.conversation_id"


@dataclass(frozen=True)
class Conversation:
    """A conversation: who started it, and where."""

    id: int
    user_id: int
    guild_id: int | None
    channel_id: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NewTurn:
    """An answered question, to be stored: who asked it where, the topic it was asked under
    (a chat `action`), the answer, and how many earlier turns were sent along with it."""

    user_id: int
    guild_id: int | None
    channel_id: int
    question: str
    action: str
    answer: str
    carried: int = 0


@dataclass(frozen=True)
class Turn:
    """A stored turn of a conversation; `number` counts from 1 within the conversation, and
    `message_id` is the message that shows its answer (None until it is posted)."""

    id: int
    conversation_id: int
    number: int
    user_id: int
    guild_id: int | None
    channel_id: int
    question: str
    action: str
    answer: str
    carried: int
    message_id: int | None
    created_at: datetime


class ConversationRepository:
    """Stores conversations and their turns, and finds them by id, by answer message, or by the
    member's latest question in a channel."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self._database = database
        self._clock = clock or SystemClock()

    async def add_turn(self, conversation_id: int | None, turn: NewTurn) -> Turn:
        """Store `turn` as the next turn of conversation `conversation_id`; with None, or when
        that conversation no longer exists (its owner deleted their data), it opens a new
        conversation started by the turn's member where the turn was asked."""
        now = to_stored(self._clock.now())
        async with self._database.transaction() as transaction:
            if conversation_id is not None:
                found = await transaction.fetch_value(
                    "SELECT id FROM conversations WHERE id = ?", (conversation_id,)
                )
                conversation_id = None if found is None else int(found)
            if conversation_id is None:
                conversation_id = int(
                    await transaction.fetch_value(
                        "INSERT INTO conversations"
                        " (user_id, guild_id, channel_id, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?) RETURNING id",
                        (turn.user_id, turn.guild_id, turn.channel_id, now, now),
                    )
                )
            else:
                await transaction.execute(
                    "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
                )
            turn_id = await transaction.fetch_value(
                "INSERT INTO conversation_turns (conversation_id, number, user_id, question,"
                " action, answer, carried, created_at)"
                " SELECT ?, COALESCE(MAX(number), 0) + 1, ?, ?, ?, ?, ?, ?"
                " FROM conversation_turns WHERE conversation_id = ? RETURNING id",
                (
                    conversation_id,
                    turn.user_id,
                    turn.question,
                    turn.action,
                    turn.answer,
                    turn.carried,
                    now,
                    conversation_id,
                ),
            )
            row = await transaction.fetch_one(
                f"SELECT {_TURN_COLUMNS} FROM {_TURNS} WHERE t.id = ?", (turn_id,)
            )
        assert row is not None  # inserted just above, in the same transaction
        return _turn(row)

    async def record_message(self, turn_id: int, message_id: int) -> None:
        """The answer of turn `turn_id` is shown by message `message_id`."""
        async with self._database.transaction() as transaction:
            await transaction.execute(
                "UPDATE conversation_turns SET message_id = ? WHERE id = ?", (message_id, turn_id)
            )

    async def find(self, conversation_id: int) -> Conversation | None:
        """The conversation with this id, or None."""
        async with self._database.snapshot() as transaction:
            row = await transaction.fetch_one(
                "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
            )
        return None if row is None else _conversation(row)

    async def turn(self, turn_id: int) -> Turn | None:
        """The turn with this id, or None."""
        return await self._one_turn("t.id = ?", turn_id)

    async def turn_shown_in(self, message_id: int) -> Turn | None:
        """The turn whose answer message `message_id` is, or None."""
        return await self._one_turn("t.message_id = ?", message_id)

    async def latest_turns(
        self, conversation_id: int, count: int, *, up_to: int | None = None
    ) -> list[Turn]:
        """The last `count` turns of a conversation (up to turn number `up_to`, if given),
        oldest first."""
        last = up_to if up_to is not None else -1
        async with self._database.snapshot() as transaction:
            rows = await transaction.fetch_all(
                f"SELECT {_TURN_COLUMNS} FROM {_TURNS} WHERE t.conversation_id = ?"
                " AND (? < 0 OR t.number <= ?) ORDER BY t.number DESC LIMIT ?",
                (conversation_id, last, last, count),
            )
        return [_turn(row) for row in reversed(rows)]

    async def latest_asked_by(self, user_id: int, channel_id: int, since: datetime) -> Turn | None:
        """The member's latest turn, at `since` or later, in a conversation of `channel_id`."""
        async with self._database.snapshot() as transaction:
            row = await transaction.fetch_one(
                f"SELECT {_TURN_COLUMNS} FROM {_TURNS}"
                " WHERE t.user_id = ? AND c.channel_id = ? AND t.created_at >= ?"
                " ORDER BY t.id DESC LIMIT 1",
                (user_id, channel_id, to_stored(since)),
            )
        return None if row is None else _turn(row)

    async def _one_turn(self, condition: str, value: int) -> Turn | None:
        async with self._database.snapshot() as transaction:
            row = await transaction.fetch_one(
                f"SELECT {_TURN_COLUMNS} FROM {_TURNS} WHERE {condition}", (value,)
            )
        return None if row is None else _turn(row)


# --- privacy (called by `bot.storage.privacy` inside its own transaction) --------------------


async def delete_user_conversations(transaction: Transaction, user_id: int) -> int:
    """Delete the conversations a user started (with every turn in them) and the turns they
    asked in others' conversations; returns how many turns went."""
    owned = await transaction.execute(
        "DELETE FROM conversation_turns WHERE conversation_id IN"
        " (SELECT id FROM conversations WHERE user_id = ?)",
        (user_id,),
    )
    await transaction.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,))
    asked = await transaction.execute(
        "DELETE FROM conversation_turns WHERE user_id = ?", (user_id,)
    )
    return owned + asked


async def purge_guild_conversations(transaction: Transaction, guild_id: int) -> int:
    """Delete every conversation of a guild with its turns; returns how many turns went."""
    turns = await transaction.execute(
        "DELETE FROM conversation_turns WHERE conversation_id IN"
        " (SELECT id FROM conversations WHERE guild_id = ?)",
        (guild_id,),
    )
    await transaction.execute("DELETE FROM conversations WHERE guild_id = ?", (guild_id,))
    return turns


async def user_turns(transaction: Transaction, user_id: int) -> list[dict[str, Any]]:
    """The turns a user asked, with where, as JSON-ready data, oldest first."""
    rows = await transaction.fetch_all(
        "SELECT t.conversation_id, t.number, c.guild_id, c.channel_id, t.question, t.action,"
        f" t.answer, t.created_at FROM {_TURNS} WHERE t.user_id = ? ORDER BY t.id",
        (user_id,),
    )
    return [dict(row) for row in rows]


def _conversation(row: Row) -> Conversation:
    return Conversation(
        id=row["id"],
        user_id=row["user_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        created_at=from_stored(row["created_at"]),
        updated_at=from_stored(row["updated_at"]),
    )


def _turn(row: Row) -> Turn:
    return Turn(
        id=row["id"],
        conversation_id=row["conversation_id"],
        number=row["number"],
        user_id=row["user_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        question=row["question"],
        action=row["action"],
        answer=row["answer"],
        carried=row["carried"],
        message_id=row["message_id"],
        created_at=from_stored(row["created_at"]),
    )
