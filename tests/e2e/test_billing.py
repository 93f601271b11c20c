"""Every unit accounted for: units stay held while a job is unfinished, and a job Soundverse is
running is charged whatever goes wrong while following it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import Settings
from bot.storage import ManualClock
from tests.e2e.conftest import StackFactory, card_shows, embed_text, member_usage

SONG_PATH = "/v5/generate/song"
MEMBERS = ("alice", "bob", "carol")


def one_slot(settings: Settings) -> None:
    """One job at a time per guild."""
    settings.jobs.guild_concurrency = 1


async def test_units_of_queued_jobs_stay_held_past_their_expiry(make_stack: StackFactory) -> None:
    """Three songs wait for one slot while their reservations' expiry passes: every song is
    still delivered, every card ends done, and each member is charged their two units."""
    clock = ManualClock(datetime.now(UTC))
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
