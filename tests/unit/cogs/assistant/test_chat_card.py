"""The chat answer card's layout within Discord's limits (`cogs.assistant.chat_card`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cogs.assistant.chat_card import (
    CUT_SHORT,
    MESSAGE_EMBEDS_LIMIT,
    QUESTION_FIELD,
    TITLE_PREFIX,
    answer_embeds,
    trimmed,
)

DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
PARAGRAPH = ("Keep the kick on the one and leave room for the bass. " * 12).strip()


def test_a_short_answer_is_one_embed_with_the_question_as_title() -> None:
    """A short answer is the description of the one embed, titled by the question."""
    [embed] = answer_embeds("what tempo?", "Try 80 BPM.", "Topic: Anything else")
    assert embed.title == TITLE_PREFIX + "what tempo?"
    assert embed.description == "Try 80 BPM."
    assert embed.footer.text == "Topic: Anything else"
    assert embed.fields == []


def test_an_answer_longer_than_a_description_continues_in_the_next_embed() -> None:
    """An answer of about 5,000 characters fills two embeds, cut between paragraphs."""
    answer = "\n\n".join([PARAGRAPH] * 7).strip()
    embeds = answer_embeds("how do I mix?", answer, "Topic: Editing music")
    assert len(embeds) == 2
    assert all(len(embed.description or "") <= DESCRIPTION_LIMIT for embed in embeds)
    assert "\n\n".join(embed.description or "" for embed in embeds) == answer
    assert embeds[-1].footer.text == "Topic: Editing music"


def test_an_answer_longer_than_a_message_is_cut_at_a_space_with_an_ellipsis() -> None:
    """An answer of about 20,000 characters ends with "…" after a whole word and says so."""
    answer = "\n\n".join([PARAGRAPH] * 30)
    embeds = answer_embeds("how do I mix?", answer, "Topic: Editing music")
    last = embeds[-1].description or ""
    assert last.endswith("…") and not last.endswith(" …")
    assert last[:-1].split()[-1] in PARAGRAPH.split()
    assert embeds[-1].footer.text == "Topic: Editing music\n" + CUT_SHORT
    assert sum(len(embed) for embed in embeds) <= MESSAGE_EMBEDS_LIMIT


def test_a_long_question_is_a_clipped_title_and_shown_whole_below() -> None:
    """A question too long for a title is clipped there and shown whole in a field."""
    question = "why " * 200
    [embed] = answer_embeds(question, "Because.", "Topic: Anything else")
    assert embed.title is not None and len(embed.title) <= TITLE_LIMIT
    assert embed.title.endswith("…")
    assert [(field.name, field.value) for field in embed.fields] == [
        (QUESTION_FIELD, question.strip())
    ]


def test_masked_links_in_an_answer_stay_text() -> None:
    """An answer's `[text](url)` is shown as text, never as a masked link."""
    [embed] = answer_embeds("a link?", "see [here](https://example.com)", "Topic: Anything else")
    assert embed.description == "see [here]\\(https://example.com)"


def test_trimming_keeps_text_that_fits() -> None:
    """Text within the limit is returned as it is."""
    assert trimmed("short enough", 20) == "short enough"


@settings(max_examples=60, deadline=None)
@given(
    question=st.text(min_size=1, max_size=1024).filter(str.strip),
    answer=st.text(min_size=1, max_size=30_000).filter(str.strip),
)
def test_every_card_fits_one_message(question: str, answer: str) -> None:
    """Whatever the question and answer, the card keeps Discord's limits for one message."""
    embeds = answer_embeds(question, answer, "Topic: Lyrics · Turn 9 · 6 earlier turns sent along")
    assert 1 <= len(embeds) <= 10
    assert sum(len(embed) for embed in embeds) <= MESSAGE_EMBEDS_LIMIT
    assert all(len(embed.description or "") <= DESCRIPTION_LIMIT for embed in embeds)
    assert all(len(embed.title or "") <= TITLE_LIMIT for embed in embeds)
