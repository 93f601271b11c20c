"""Plain words: counts with the right plural, lists, and connection trouble without class
names."""

from __future__ import annotations

import aiohttp
import pytest

from bot.jobs.failures import describe_failure
from bot.soundverse import GenerationFailed
from bot.soundverse.errors import connection_trouble
from bot.words import counted, listed


@pytest.mark.parametrize(("count", "shown"), [(0, "0 jobs"), (1, "1 job"), (2, "2 jobs")])
def test_a_count_takes_the_plural_it_needs(count: int, shown: str) -> None:
    """One job, two jobs, no jobs."""
    assert counted(count, "job") == shown


def test_lists_read_as_a_sentence() -> None:
    """One item alone, two joined by 'and', more with commas first."""
    assert [listed(["a"]), listed(["a", "b"]), listed(["a", "b", "c"])] == [
        "a",
        "a and b",
        "a, b and c",
    ]


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            aiohttp.ClientPayloadError("Response payload is not completed"),
            "the response was cut off",
        ),
        (aiohttp.ServerDisconnectedError(), "the server closed the connection"),
        (ConnectionResetError(), "the connection was lost"),
        (aiohttp.ClientError(), "the connection broke"),
    ],
)
def test_connection_trouble_is_words_not_a_class(error: BaseException, words: str) -> None:
    """What broke is said in words; no exception class name reaches a member."""
    assert connection_trouble(error) == words


def test_a_bare_generation_failure_is_said_once() -> None:
    """Soundverse's own "Generation failed" is not repeated after ours."""
    error = GenerationFailed("Generation failed", "m1")
    assert (str(error), describe_failure(error)[0]) == (
        "Generation failed",
        "Soundverse could not finish this track.",
    )


def test_a_generation_failure_with_a_reason_gives_it() -> None:
    """A real reason follows, as one sentence."""
    error = GenerationFailed("the model timed out.", "m1")
    assert (
        describe_failure(error)[0] == "Soundverse could not finish this track: the model timed out."
    )
