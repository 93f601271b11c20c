"""`/lyrics` end to end: the card, long lyrics, Make it a song, Regenerate, errors, restarts."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.config import Settings
from sandbox.discord.local import InteractionHandle
from sandbox.discord.state import JSON, Message
from sandbox.soundverse.texts import write_lyrics
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, embed_text, member_usage, result_for, stored_tracks

LYRICS_PATH = "/v1/generate/lyrics"
SONG_PATH = "/v5/generate/song"


def card_messages(stack: SandboxStack, interaction: InteractionHandle) -> list[Message]:
    """The visible messages an interaction answered with, oldest first."""
    return sorted(
        (
            m
            for m in stack.discord.messages
            if m.interaction_id == interaction.id and not m.deleted and m.embeds
        ),
        key=lambda m: int(m.id),
    )


async def lyrics_card(stack: SandboxStack, interaction: InteractionHandle) -> Message:
    """Wait until the interaction's response became a lyrics card, and return it."""

    def probe() -> Message | None:
        shown = card_messages(stack, interaction)
        if shown and str(shown[0].embeds[0].get("title", "")).startswith("📝"):
            return shown[0]
        return None

    return await stack.discord.wait_until(probe, timeout=10)


def shown_lyrics(messages: list[Message]) -> str:
    """The lyrics as a member reads them: every embed description, in order."""
    parts = [str(e["description"]) for m in messages for e in m.embeds if e.get("description")]
    text = ""
    for part in parts:
        if text:
            text += "\n\n" if part.startswith("[") else "\n"
        text += part
    return text


def fields_of(message: Message) -> dict[str, str]:
    return {str(f["name"]): str(f["value"]) for f in message.embeds[0].get("fields", [])}


def form_values(modal: JSON) -> dict[str, str]:
    """The prefilled text inputs of a modal, by custom_id."""
    values: dict[str, str] = {}
    for component in modal.get("components") or []:
        inner: list[Any] = list(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            inner.append(component["component"])
        for item in inner:
            if item.get("type") == 4:
                values[str(item["custom_id"])] = str(item.get("value") or "")
    return values


async def refusal_for(stack: SandboxStack, interaction: InteractionHandle) -> str:
    refusal = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and m.ephemeral
    )
    return embed_text(refusal)


async def test_card_shows_the_lyrics_with_their_sections_and_options(stack: SandboxStack) -> None:
    """The card is titled by the prompt, shows mood and genre, and the lyrics exactly."""
    interaction = await stack.discord.slash(
        "lyrics", user="alice", prompt="rainy trains", mood="sad", genre="rock"
    )
    assert await interaction.wait_for_ack() == 5
    card = await lyrics_card(stack, interaction)
    assert card.embeds[0]["title"] == "📝 rainy trains"
    assert fields_of(card) == {"Mood": "sad", "Genre": "rock"}
    expected = write_lyrics("rainy trains", "sad", None, "rock")
    assert shown_lyrics([card]) == expected
    assert "[Verse 1]" in expected and "[Chorus]" in shown_lyrics([card])
    assert stack.soundverse.counters.posts == {LYRICS_PATH: 1}


async def test_mentions_in_prompt_and_lyrics_ping_nobody(stack: SandboxStack) -> None:
    """A prompt with a member mention and @everyone pings no one from the card."""
    bob = stack.discord.user("bob")
    interaction = await stack.discord.slash(
        "lyrics", user="alice", prompt=f"a love song for <@{bob.id}> and @everyone"
    )
    card = await lyrics_card(stack, interaction)
    assert f"<@{bob.id}>" in embed_text(card)
    assert card.mentions == [] and not card.mention_everyone
    assert card.allowed_mentions is not None and not card.allowed_mentions.get("parse")


async def test_very_long_lyrics_are_split_across_embeds_and_messages(stack: SandboxStack) -> None:
    """Lyrics of ~18,000 characters arrive whole, in several messages within Discord's limits."""
    prompt = "tra" * 300
    interaction = await stack.discord.slash("lyrics", user="alice", prompt=prompt)
    card = await lyrics_card(stack, interaction)
    expected = write_lyrics(prompt, None, None, None)

    def whole_card() -> list[Message] | None:
        shown = card_messages(stack, interaction)
        return shown if shown_lyrics(shown) == expected else None

    messages = await stack.discord.wait_until(whole_card, timeout=10)
    assert len(messages) > 1 and messages[0].id == card.id
    assert any(len(m.embeds) > 1 for m in messages)
    for message in messages:
        assert len(message.embeds) <= 10
        assert all(len(str(e.get("description", ""))) <= 4096 for e in message.embeds)
    descriptions = [str(e["description"]) for m in messages for e in m.embeds]
    described_lines = {line for text in descriptions for line in text.split("\n")}
    assert set(expected.split("\n")) - {""} <= described_lines
    assert len(str(card.embeds[0]["title"])) <= 256
    assert fields_of(card)["Prompt"] == prompt


async def test_make_it_a_song_opens_a_prefilled_form(stack: SandboxStack) -> None:
    """The button answers with a modal holding the song prompt and the card's lyrics."""
    interaction = await stack.discord.slash(
        "lyrics", user="alice", prompt="rainy trains", mood="sad", genre="rock"
    )
    card = await lyrics_card(stack, interaction)
    click = await stack.discord.click(card, "Make it a song", user="bob")
    assert await click.wait_for_ack() == 9
    assert click.modal is not None and click.modal["title"] == "Make it a song"
    assert form_values(click.modal) == {
        "prompt": "rainy trains (rock, sad mood)",
        "lyrics": write_lyrics("rainy trains", "sad", None, "rock"),
    }


async def test_submitted_form_delivers_a_song_with_those_lyrics(stack: SandboxStack) -> None:
    """Submitting the form runs `/song` v5: a result for the member, its tracks keep the lyrics."""
    bob = stack.discord.user("bob")
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="rainy trains")
    card = await lyrics_card(stack, interaction)
    click = await stack.discord.click(card, "Make it a song", user="bob")
    await click.wait_for_ack()
    assert click.modal is not None
    values = form_values(click.modal)
    submit = await stack.discord.submit_modal(click, values)
    assert await submit.wait_for_ack() == 5
    result = await stack.discord.wait_for_message(result_for(bob.id), timeout=20)
    assert [a.filename.endswith(".mp3") for a in result.attachments].count(True) == 2
    await stack.bot.services.jobs.wait_until_idle()
    tracks = await stored_tracks(stack).user_history(int(bob.id))
    assert tracks and all(t.lyrics == values["lyrics"] for t in tracks)
    assert all(t.prompt == "rainy trains" for t in tracks)
    assert stack.soundverse.counters.posts[SONG_PATH] == 1


async def test_form_with_empty_prompt_is_refused_privately(stack: SandboxStack) -> None:
    """A form submitted without a prompt is refused ephemerally, naming it; no song is made."""
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="rainy trains")
    card = await lyrics_card(stack, interaction)
    click = await stack.discord.click(card, "Make it a song")
    await click.wait_for_ack()
    assert click.modal is not None
    submit = await stack.discord.submit_modal(click, {**form_values(click.modal), "prompt": " "})
    assert "prompt: must not be empty" in await refusal_for(stack, submit)
    assert SONG_PATH not in stack.soundverse.counters.posts


async def test_regenerate_posts_a_new_card_for_the_same_request(stack: SandboxStack) -> None:
    """Regenerate asks Soundverse again and posts a second card with the same prompt and options."""
    interaction = await stack.discord.slash(
        "lyrics", user="alice", prompt="rainy trains", mood="sad"
    )
    card = await lyrics_card(stack, interaction)
    click = await stack.discord.click(card, "Regenerate", user="bob")
    again = await lyrics_card(stack, click)
    assert again.id != card.id
    assert again.embeds[0]["title"] == "📝 rainy trains"
    assert fields_of(again) == {"Mood": "sad"}
    assert shown_lyrics([again]) == write_lyrics("rainy trains", "sad", None, None)
    assert stack.soundverse.counters.posts[LYRICS_PATH] == 2


async def test_buttons_work_after_a_restart(stack: SandboxStack) -> None:
    """A card posted before a restart still regenerates, reading its request from the card."""
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="rainy trains")
    card = await lyrics_card(stack, interaction)
    await stack.stop_bot()
    await stack.start_bot()
    click = await stack.discord.click(card, "Regenerate")
    again = await lyrics_card(stack, click)
    assert shown_lyrics([again]) == shown_lyrics([card])


async def test_form_opened_before_a_restart_is_still_accepted(stack: SandboxStack) -> None:
    """A song form opened before a restart and submitted after it still makes the song."""
    alice = stack.discord.user("alice")
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="rainy trains")
    card = await lyrics_card(stack, interaction)
    click = await stack.discord.click(card, "Make it a song")
    await click.wait_for_ack()
    assert click.modal is not None
    await stack.stop_bot()
    await stack.start_bot()
    await stack.discord.submit_modal(click, form_values(click.modal))
    await stack.discord.wait_for_message(result_for(alice.id), timeout=20)
    assert stack.soundverse.counters.posts[SONG_PATH] == 1


async def test_empty_prompt_is_refused_privately_and_nothing_is_sent(stack: SandboxStack) -> None:
    """An empty prompt gets an ephemeral reply naming the field; Soundverse is never called."""
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="")
    assert await interaction.wait_for_ack() == 4
    assert "prompt: must not be empty" in await refusal_for(stack, interaction)
    assert stack.soundverse.counters.posts == {}


async def test_overlong_prompt_is_refused_privately_and_nothing_is_sent(
    stack: SandboxStack,
) -> None:
    """A 1025-character prompt is refused with the limit and its length; nothing is sent."""
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="x" * 1025)
    assert await interaction.wait_for_ack() == 4
    assert "at most 1024 characters (got 1025)" in await refusal_for(stack, interaction)
    assert stack.soundverse.counters.posts == {}


async def test_overlong_option_is_refused_privately(stack: SandboxStack) -> None:
    """A mood longer than 100 characters is refused, naming the option; nothing is sent."""
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="rain", mood="m" * 101)
    assert "mood: at most 100 characters (got 101)" in await refusal_for(stack, interaction)
    assert stack.soundverse.counters.posts == {}


async def test_upstream_error_is_explained_privately_and_no_card_stays(
    stack: SandboxStack,
) -> None:
    """A 500 from Soundverse replaces the thinking message with a private explanation."""
    stack.soundverse.inject("status:500", path=LYRICS_PATH)
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="rainy trains")
    assert await interaction.wait_for_ack() == 5
    text = await refusal_for(stack, interaction)
    assert "Soundverse could not write these lyrics (Soundverse error 500" in text
    original = await interaction.original()
    assert original is not None and original.deleted
    assert not [m for m in card_messages(stack, interaction) if not m.ephemeral]
    assert stack.soundverse.counters.posts == {LYRICS_PATH: 1}


def lyrics_cost_one(settings: Settings) -> None:
    """Lyrics cost a unit, as a guild may configure."""
    settings.quota.costs = {**settings.quota.costs, "lyrics": 1}


async def test_configured_lyrics_cost_is_billed(make_stack: StackFactory) -> None:
    """When lyrics cost a unit, a written card bills that unit to the member."""
    stack = await make_stack(tweak=lyrics_cost_one)
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="rainy trains")
    await lyrics_card(stack, interaction)
    assert await member_usage(stack, "alice") == 1


async def test_configured_lyrics_cost_is_refunded_on_failure(make_stack: StackFactory) -> None:
    """When lyrics cost a unit and Soundverse fails, the unit comes back."""
    stack = await make_stack(tweak=lyrics_cost_one)
    stack.soundverse.inject("status:500", path=LYRICS_PATH)
    interaction = await stack.discord.slash("lyrics", user="alice", prompt="rainy trains")
    await refusal_for(stack, interaction)
    assert await member_usage(stack, "alice") == 0


async def test_a_member_asking_many_times_at_once_reaches_soundverse_once(
    stack: SandboxStack,
) -> None:
    """Five /lyrics from one member at the same moment make one upstream call; the other four
    are told, privately, that a request is already running."""
    calls = await asyncio.gather(
        *(stack.discord.slash("lyrics", user="alice", prompt=f"rain {n}") for n in range(5))
    )
    ids = {call.id for call in calls}

    def refusals() -> list[Message] | None:
        found = [
            m
            for m in stack.discord.messages
            if m.interaction_id in ids and m.ephemeral and "already have a request" in embed_text(m)
        ]
        return found if len(found) == 4 else None

    refused = await stack.discord.wait_until(refusals, timeout=10)
    answered = ids - {m.interaction_id for m in refused}
    await lyrics_card(stack, next(call for call in calls if call.id in answered))
    assert stack.soundverse.counters.posts == {LYRICS_PATH: 1}
