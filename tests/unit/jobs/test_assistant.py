"""The chat assistant's rules (`bot.jobs.assistant`): the topic of a question, the prompt that
carries a conversation's last turns, and the prompt a conversation suggests for new work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.errors import InvalidInput
from bot.jobs.assistant import (
    CARRIED_ANSWER_CHARS,
    CARRIED_QUESTION_CHARS,
    HISTORY_OPENING,
    MAX_CARRIED_TURNS,
    NEW_MESSAGE,
    QUESTION_MAX_CHARS,
    TopicSource,
    carried_turn,
    chat_prompt,
    checked_question,
    next_step_of,
    picked_topic,
    request_prompt,
    topic_of,
    topic_run,
)
from bot.jobs.operations import Operation
from bot.soundverse import ChatAction
from bot.soundverse.limits import CHAT_PROMPT_MAX_CHARS
from bot.storage import Turn


@dataclass(frozen=True)
class Said:
    question: str
    answer: str


# --- the topic --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("can you split the vocals from this song?", ChatAction.SEPARATE_STEMS),
        ("I need an acapella of my track", ChatAction.SEPARATE_STEMS),
        ("how do I loop this bass line?", ChatAction.LOOP_AUDIO),
        ("a seamless intro please", ChatAction.LOOP_AUDIO),
        ("extend my song by a minute", ChatAction.EXTEND_MUSIC),
        ("can you make it longer?", ChatAction.EXTEND_MUSIC),
        ("help me finish my song", ChatAction.AUTO_COMPLETE_MUSIC),
        ("autocomplete this melody", ChatAction.AUTO_COMPLETE_MUSIC),
        ("how do I remix this?", ChatAction.EDIT_MUSIC),
        ("change the tempo to 90", ChatAction.EDIT_MUSIC),
        ("write a chorus about trains", ChatAction.LYRIC_WRITING),
        ("help me write a song for my sister", ChatAction.LYRIC_WRITING),
        ("make a rainy lofi song about trains", ChatAction.GENERATE_MUSIC),
        ("rainy lofi beat about trains", ChatAction.GENERATE_MUSIC),
    ],
)
def test_the_words_of_a_question_pick_its_topic(question: str, topic: ChatAction) -> None:
    """Each rule's keywords pick its action."""
    assert picked_topic(question) is topic


@pytest.mark.parametrize(
    "question",
    ["who are you?", "what tempo suits lofi?", "what is the best song structure?", "hello"],
)
def test_questions_without_a_music_request_pick_no_topic(question: str) -> None:
    """General questions, and questions that only name music, pick nothing."""
    assert picked_topic(question) is None


def test_earlier_rules_win() -> None:
    """A question on looping stems is about stems: stems come before loops."""
    assert picked_topic("loop the stems of my song") is ChatAction.SEPARATE_STEMS


def test_writing_a_song_is_about_lyrics_and_making_one_is_about_music() -> None:
    """To write a song is lyric writing; to make a song is making music."""
    assert picked_topic("write a song about rain") is ChatAction.LYRIC_WRITING
    assert picked_topic("make a song about rain") is ChatAction.GENERATE_MUSIC


def test_keywords_match_whole_words_only() -> None:
    """The word "isolation" is no stems request, and "hooked" is not a hook."""
    assert picked_topic("a song about isolation") is ChatAction.GENERATE_MUSIC
    assert picked_topic("why am I hooked on this?") is None


def test_a_chosen_topic_wins_over_the_words() -> None:
    """A topic the member chose is used, whatever the words say."""
    topic = topic_of("how do I loop this?", chosen=ChatAction.OTHER)
    assert (topic.action, topic.source) == (ChatAction.OTHER, TopicSource.CHOSEN)


def test_a_follow_up_with_no_keyword_keeps_the_conversations_topic() -> None:
    """A follow-up such as "slower, with a piano" after a song request stays on music."""
    topic = topic_of("slower, with a piano", previous=ChatAction.GENERATE_MUSIC)
    assert (topic.action, topic.source) == (ChatAction.GENERATE_MUSIC, TopicSource.KEPT)


def test_a_follow_up_whose_words_pick_a_topic_changes_it() -> None:
    """A follow-up about stems moves a song conversation to stems."""
    topic = topic_of("now split the vocals", previous=ChatAction.GENERATE_MUSIC)
    assert (topic.action, topic.source) == (ChatAction.SEPARATE_STEMS, TopicSource.PICKED)


def test_nothing_to_go_by_is_other() -> None:
    """A new question with no keyword, or a follow-up to general talk, is `other`."""
    assert topic_of("who are you?").action is ChatAction.OTHER
    after_talk = topic_of("and you?", previous=ChatAction.OTHER)
    assert (after_talk.action, after_talk.source) == (ChatAction.OTHER, TopicSource.DEFAULT)


# --- the prompt -------------------------------------------------------------------------------


def test_a_first_question_is_sent_alone() -> None:
    """With nothing earlier, the prompt is the question itself."""
    assert chat_prompt("  who are you?  ", []) == chat_prompt("who are you?", [])
    assert chat_prompt("who are you?", []).text == "who are you?"


def test_earlier_turns_go_before_the_new_question_oldest_first() -> None:
    """Two short earlier turns are carried, in order, then the new question."""
    prompt = chat_prompt("and for house?", [Said("q1", "a1"), Said("q2", "a2")])
    assert prompt.carried == 2
    assert prompt.text == (
        HISTORY_OPENING
        + "User: q1\nAssistant: a1\nUser: q2\nAssistant: a2\n"
        + NEW_MESSAGE
        + "and for house?"
    )


def test_the_oldest_turns_are_dropped_to_stay_within_the_limit() -> None:
    """With room for two of five long turns, the last two are carried and the prompt fits."""
    earlier = [Said(f"question {n} " + "q" * 150, "a" * 290) for n in range(5)]
    prompt = chat_prompt("and now?", earlier)
    assert prompt.carried == 2
    assert len(prompt.text) <= CHAT_PROMPT_MAX_CHARS
    assert "question 3" in prompt.text and "question 4" in prompt.text
    assert "question 2" not in prompt.text


def test_at_most_the_last_few_turns_are_carried() -> None:
    """However short, no more than `MAX_CARRIED_TURNS` earlier turns go along."""
    earlier = [Said(f"q{n}", f"a{n}") for n in range(MAX_CARRIED_TURNS + 3)]
    prompt = chat_prompt("next?", earlier)
    assert prompt.carried == MAX_CARRIED_TURNS
    assert "User: q2\n" not in prompt.text and f"User: q{MAX_CARRIED_TURNS + 2}\n" in prompt.text


def test_a_carried_turn_is_cut_to_its_share_on_one_line() -> None:
    """A long question and answer are cut (with "…") and folded onto one line each."""
    block = carried_turn(Said("why\n" + "w" * 500, "because " + "b" * 900))
    question, answer = block.rstrip("\n").split("\n")
    assert len(question) == len("User: ") + CARRIED_QUESTION_CHARS and question.endswith("…")
    assert len(answer) == len("Assistant: ") + CARRIED_ANSWER_CHARS and answer.endswith("…")
    assert question.startswith("User: why w")


def test_a_question_that_fills_the_prompt_goes_alone() -> None:
    """When no earlier turn fits beside the question, the question is sent on its own."""
    question = "x" * QUESTION_MAX_CHARS
    prompt = chat_prompt(question, [Said("q", "a")])
    assert (prompt.text, prompt.carried) == (question, 0)


@pytest.mark.parametrize("text", ["", "   \n "])
def test_an_empty_question_is_refused(text: str) -> None:
    """A question with nothing in it is refused before anything is asked."""
    with pytest.raises(InvalidInput, match="The question is empty"):
        checked_question(text)


def test_an_overlong_question_is_refused_with_the_limit() -> None:
    """A question over the prompt limit is refused with the limit and its length."""
    with pytest.raises(InvalidInput, match=r"at most 1024 characters \(got 1025\)"):
        checked_question("x" * 1025)


# --- from talk to music -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "operation"),
    [
        ("generate_music", Operation.SONG),
        ("extend_music", Operation.EXTEND_SONG),
        ("loop_audio", Operation.LOOP),
        ("separate_stems", Operation.STEMS),
        ("lyric_writing", Operation.LYRICS),
        ("edit_music", None),
        ("other", None),
        ("not-an-action", None),
    ],
)
def test_generation_topics_lead_to_their_operation(
    action: str, operation: Operation | None
) -> None:
    """The five generation topics lead to work; the others to none."""
    assert next_step_of(action) is operation


def test_a_request_prompt_holds_the_questions_one_per_line() -> None:
    """The questions become the prompt, oldest first, one per line, spaces folded."""
    assert request_prompt(["rainy lofi  about trains", "slower,\nwith a piano"]) == (
        "rainy lofi about trains\nslower, with a piano"
    )


def test_a_request_prompt_drops_the_oldest_questions_to_fit() -> None:
    """Questions that do not fit the prompt limit are dropped oldest first."""
    prompt = request_prompt(["a" * 600, "b" * 600, "c" * 300], limit=1000)
    assert prompt == "b" * 600 + "\n" + "c" * 300


def test_a_request_prompt_cuts_a_single_overlong_question() -> None:
    """A newest question longer than the limit is cut to it, ending in "…"."""
    prompt = request_prompt(["z" * 2000], limit=1024)
    assert len(prompt) == 1024 and prompt.endswith("…")


def turn(number: int, question: str, action: ChatAction) -> Turn:
    return Turn(
        id=number,
        conversation_id=1,
        number=number,
        user_id=7,
        guild_id=None,
        channel_id=9,
        question=question,
        action=action.value,
        answer="…",
        carried=0,
        message_id=None,
        created_at=datetime(2026, 3, 11, tzinfo=UTC),
    )


def test_the_topic_run_is_the_last_turns_on_the_last_topic() -> None:
    """Of other talk, then two song requests, the run is the two song requests."""
    turns = [
        turn(1, "make a song", ChatAction.GENERATE_MUSIC),
        turn(2, "who are you?", ChatAction.OTHER),
        turn(3, "make a lofi song", ChatAction.GENERATE_MUSIC),
        turn(4, "slower", ChatAction.GENERATE_MUSIC),
    ]
    assert [t.number for t in topic_run(turns)] == [3, 4]
