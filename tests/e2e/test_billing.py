"""Every unit accounted for: units stay held while a job is unfinished, and a job Soundverse is
running is charged whatever goes wrong while following it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import Settings, WorkerMode
from bot.storage import ManualClock
from tests.e2e.conftest import (
    BOTH_MODES,
    StackFactory,
    card_shows,
    embed_text,
    in_mode,
    interrupt,
    ledger_events,
    member_usage,
    result_for,
)

SONG_PATH = "/v5/generate/song"
GEN_LOOP_PATH = "/v1/trim-and-loop/gen-and-loop/music/auto/"
MEMBERS = ("alice", "bob", "carol")


def one_slot(settings: Settings) -> None:
    """One job at a time per guild."""
    settings.jobs.guild_concurrency = 1


async def test_units_of_queued_jobs_stay_held_past_their_expiry(make_stack: StackFactory) -> None:
    """Three songs wait for one slot while their reservations' expiry passes: every song is
    still delivered, every card ends done, and each member is charged their two units."""
    # Early in a UTC day: moving on by twice the expiry stays within the same quota day.
    clock = ManualClock(datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0))
    stack = await make_stack(time_scale=0.02, tweak=one_slot, bot_options={"storage_clock": clock})
    calls = [
        await stack.discord.slash("song", user=member, prompt=f"song of {member}", duration=15)
        for member in MEMBERS
    ]
    await card_shows(stack, calls[-1], "Queued")
    assert stack.settings is not None
    clock.advance(timedelta(seconds=stack.settings.quota.reservation_ttl * 2))
    for call in calls:
        assert "Done" in embed_text(await card_shows(stack, call, "Done"))
    await stack.bot.services.jobs.wait_until_idle()
    assert [await member_usage(stack, member) for member in MEMBERS] == [2, 2, 2]


async def test_a_job_followed_after_its_id_is_charged_when_status_fails(
    make_stack: StackFactory,
) -> None:
    """The stream drops after the billing point and every status poll is refused (401): the job
    fails, but Soundverse is running it, so its units stay charged and nothing says refunded."""
    stack = await make_stack()
    stack.soundverse.inject("drop:3", path=SONG_PATH)
    stack.soundverse.inject("status:401", count=50, path="/v5/status")
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    card = await card_shows(stack, call, "❌")
    await stack.bot.services.jobs.wait_until_idle()
    assert "Its 2 units were used: Soundverse had already started it." in embed_text(card)
    assert "refunded" not in embed_text(card)
    assert await member_usage(stack, "alice") == 2


async def test_the_card_stops_offering_cancel_once_delivery_begins(
    make_stack: StackFactory,
) -> None:
    """While the card says "Preparing your files" (the takes are re-encoded to fit), it has no
    Cancel button: the job will end delivered."""
    stack = await make_stack()
    stack.discord.rules.attachment_limits = dict.fromkeys(range(4), 300_000)
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=20)
    buttons_while_preparing: list[list[str]] = []

    def preparing() -> bool | None:
        card = next((m for m in stack.discord.messages if m.interaction_id == call.id), None)
        if card is None or "Preparing your files" not in embed_text(card):
            return None
        labels = [str(c.get("label")) for c in card.all_components() if c.get("type") == 2]
        buttons_while_preparing.append(labels)
        return True

    await stack.discord.wait_until(preparing, timeout=20)
    assert buttons_while_preparing[0] == []
    await card_shows(stack, call, "Done")


@BOTH_MODES
async def test_a_one_call_job_stopped_while_downloading_is_delivered_and_charged_once(
    make_stack: StackFactory, mode: WorkerMode
) -> None:
    """A generated loop whose jobs' runner stops while its files download is delivered after
    the restart from Soundverse's kept answer: one result, one call, charged once."""
    stack = await make_stack(tweak=in_mode(mode))
    held = stack.soundverse.hold("GET", "/storage/")
    call = await stack.discord.slash(
        "loop generate", user="alice", prompt="drums", duration=15, count=2
    )
    await held.wait_for_arrival()
    await interrupt(stack, mode, held)
    await card_shows(stack, call, "Done")
    alice = stack.discord.user("alice")
    assert len([m for m in stack.discord.messages if result_for(alice.id)(m)]) == 1
    assert stack.soundverse.counters.posts[GEN_LOOP_PATH] == 1
    assert await ledger_events(stack) == ["reserve", "commit"]


def tiny_downloads(settings: Settings) -> None:
    """Downloads capped far below any take's size."""
    settings.soundverse.download_max_bytes = 1024


async def test_takes_too_large_to_download_arrive_as_links_and_are_charged(
    make_stack: StackFactory,
) -> None:
    """With downloads capped below every take's size, the song still arrives: each take as a
    link button, saying why it is not attached, and the units are charged once."""
    stack = await make_stack(tweak=tiny_downloads)
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    await card_shows(stack, call, "Done")
    alice = stack.discord.user("alice")
    result = await stack.discord.wait_for_message(result_for(alice.id))
    links = [c for c in result.all_components() if c.get("style") == 5]
    assert len(links) == 2 and all(str(c["url"]).startswith("http") for c in links)
    assert not [a for a in result.attachments if a.filename.endswith(".mp3")]
    assert "not attached: it is larger than the bot downloads" in embed_text(result)
    assert await ledger_events(stack) == ["reserve", "commit"]
