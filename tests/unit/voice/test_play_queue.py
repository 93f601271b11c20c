"""A server's play queue: order, looping, moving, and the skip vote."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.voice.queue import PlayQueue, QueuedTrack


def item(title: str, requester: int = 1) -> QueuedTrack:
    return QueuedTrack(title, requester, f"/tmp/{title}.mp3")


def test_the_first_item_plays_and_the_next_wait_in_order() -> None:
    """Into an empty queue an item plays at once; the next get places 1 and 2."""
    queue = PlayQueue()
    assert [queue.add(item("a")), queue.add(item("b")), queue.add(item("c"))] == [0, 1, 2]
    assert queue.advance() == item("b") and queue.advance() == item("c")
    assert queue.advance() is None and queue.now is None


def test_looping_plays_the_same_again() -> None:
    """With looping on, advancing keeps what plays."""
    queue = PlayQueue()
    queue.add(item("a"))
    queue.add(item("b"))
    queue.looping = True
    assert queue.advance() == item("a")


def test_an_item_moves_to_another_place() -> None:
    """Moving the third item to the front puts it first in line."""
    queue = PlayQueue()
    for title in "abcd":
        queue.add(item(title))
    queue.move(3, 1)
    assert [i.title for i in queue.upcoming] == ["d", "b", "c"]


def test_a_missing_place_is_refused_with_the_range() -> None:
    """Removing place 5 of two says where places go."""
    queue = PlayQueue()
    for title in "abc":
        queue.add(item(title))
    with pytest.raises(UserFacingError, match="places go from 1 to 2"):
        queue.remove(5)


def test_a_skip_takes_more_than_half_of_the_listeners() -> None:
    """With three listeners, the second vote skips; the first does not."""
    queue = PlayQueue()
    queue.add(item("a"))
    first = queue.vote_skip(2, 3, at_once=False)
    second = queue.vote_skip(3, 3, at_once=False)
    assert (first.skipped, first.votes, first.needed) == (False, 1, 2)
    assert second.skipped


def test_a_vote_counts_once_per_member() -> None:
    """The same member voting twice is still one vote."""
    queue = PlayQueue()
    queue.add(item("a"))
    queue.vote_skip(2, 4, at_once=False)
    assert queue.vote_skip(2, 4, at_once=False).votes == 1


def test_votes_start_again_with_the_next_item() -> None:
    """Votes for one item do not carry over to the next."""
    queue = PlayQueue()
    queue.add(item("a"))
    queue.add(item("b"))
    queue.vote_skip(2, 4, at_once=False)
    queue.advance()
    assert queue.vote_skip(3, 4, at_once=False).votes == 1


def test_a_skip_with_nothing_playing_is_refused() -> None:
    """Skipping an empty queue says nothing is playing."""
    with pytest.raises(UserFacingError, match="Nothing is playing"):
        PlayQueue().vote_skip(1, 1, at_once=True)
