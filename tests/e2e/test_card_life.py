"""A running job's card shows life: elapsed time, time left, Soundverse's silence, and what
delivery is doing."""

from __future__ import annotations

from bot.config import Settings
from sandbox.discord.state import JSON
from sandbox.holds import HoldPoint
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, card_shows, embed_text

SONG_PATH = "/v5/generate/song"


def quick_refresh(settings: Settings) -> None:
    settings.jobs.progress_interval = 0.05
    settings.jobs.card_refresh = 0.2


async def test_a_stalled_stream_shows_time_passing_and_the_silence(
    make_stack: StackFactory,
) -> None:
    """Soundverse goes quiet mid-stream: the card keeps changing, with the elapsed time and
    how long Soundverse has said nothing."""
    stack = await make_stack(tweak=quick_refresh)
    stack.soundverse.inject("stall:3", path=SONG_PATH)
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    card = await card_shows(stack, interaction, "no news from Soundverse for")
    assert " elapsed" in embed_text(card)


async def test_the_card_says_which_take_is_being_downloaded(make_stack: StackFactory) -> None:
    """While the second take downloads, the card says so, without a Cancel button."""
    stack = await make_stack(tweak=quick_refresh)
    held = stack.soundverse.hold("GET", "/storage/", HoldPoint.BEFORE, skip=1)
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    card = await card_shows(stack, interaction, "Preparing your files: downloading take 2 of 2")
    held.release()
    assert "100%" in embed_text(card) and not list(card.all_components())


async def test_a_running_card_offers_an_estimate_from_earlier_jobs(stack: SandboxStack) -> None:
    """Once a job has finished, the next one's card says about how long is left."""
    first = await stack.discord.slash("song", user="alice", prompt="first")
    await card_shows(stack, first, "Done")
    second = await stack.discord.slash("song", user="alice", prompt="second")
    await card_shows(stack, second, " left")


async def test_the_card_offers_a_preview_once_soundverse_streams(
    make_stack: StackFactory,
) -> None:
    """Once Soundverse says the audio can be streamed, the card links to it as ▶ Preview."""
    stack = await make_stack(tweak=quick_refresh)
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")

    def preview() -> JSON | None:
        card = next((m for m in stack.discord.messages if m.interaction_id == interaction.id), None)
        buttons = list(card.all_components()) if card is not None else []
        return next((b for b in buttons if b.get("label") == "▶ Preview"), None)

    button = await stack.discord.wait_until(preview, timeout=20)
    assert str(button["url"]).startswith(f"{stack.soundverse.url}/stream/")
