"""Live listening as stored (`bot.storage.listening`): a server's permission and members'
consents, on a real SQLite file; and both deleted with a user's or a guild's data."""

from __future__ import annotations

from datetime import timedelta

from bot.storage import (
    Database,
    ListeningRepository,
    ManualClock,
    delete_user_data,
    purge_guild,
)
from bot.storage.privacy import user_data
from tests.integration.storage.conftest import START

GUILD, OTHER_GUILD = 1000, 2000
ADMIN, BOB, CAROL = 1, 2, 3


async def test_a_server_allows_listening_once_enabled(database: Database) -> None:
    """Not allowed until enabled; enabling says it changed something."""
    listening = ListeningRepository(database)
    before = await listening.allows(GUILD)
    assert await listening.allow(GUILD, ADMIN)
    assert not before and await listening.allows(GUILD)


async def test_enabling_again_changes_nothing(database: Database) -> None:
    """A second allow reports that the server already allowed it."""
    listening = ListeningRepository(database)
    await listening.allow(GUILD, ADMIN)
    assert not await listening.allow(GUILD, ADMIN)


async def test_disabling_keeps_members_consents(database: Database) -> None:
    """Forbidding in the server leaves bob's consent, which is his to withdraw."""
    listening = ListeningRepository(database)
    await listening.allow(GUILD, ADMIN)
    await listening.consent(GUILD, BOB, keep_recordings=False)
    assert await listening.forbid(GUILD)
    assert not await listening.allows(GUILD)
    assert await listening.consent_of(GUILD, BOB) is not None


async def test_a_consent_is_stored_with_its_choice_and_date(
    database: Database, clock: ManualClock
) -> None:
    """bob's consent keeps whether his recordings are kept, and when he gave it."""
    listening = ListeningRepository(database, clock)
    await listening.consent(GUILD, BOB, keep_recordings=True)
    consent = await listening.consent_of(GUILD, BOB)
    assert consent is not None
    assert (consent.keep_recordings, consent.consented_at) == (True, START)


async def test_changing_what_is_kept_keeps_the_consent_s_date(
    database: Database, clock: ManualClock
) -> None:
    """A later choice about keeping replaces it, not the day bob first opted in."""
    listening = ListeningRepository(database, clock)
    await listening.consent(GUILD, BOB, keep_recordings=False)
    clock.advance(timedelta(days=2))
    consent = await listening.consent(GUILD, BOB, keep_recordings=True)
    assert consent.keep_recordings and consent.consented_at == START


async def test_withdrawing_removes_the_consent(database: Database) -> None:
    """After withdrawing, bob has no consent; withdrawing again changes nothing."""
    listening = ListeningRepository(database)
    await listening.consent(GUILD, BOB, keep_recordings=False)
    assert await listening.withdraw(GUILD, BOB)
    assert await listening.consent_of(GUILD, BOB) is None
    assert not await listening.withdraw(GUILD, BOB)


async def test_consents_are_listed_per_server(database: Database) -> None:
    """The consents of one server, by user id; another server's are not among them."""
    listening = ListeningRepository(database)
    await listening.consent(GUILD, CAROL, keep_recordings=False)
    await listening.consent(GUILD, BOB, keep_recordings=True)
    await listening.consent(OTHER_GUILD, ADMIN, keep_recordings=False)
    consents = await listening.consents_in(GUILD)
    assert [(c.user_id, c.keep_recordings) for c in consents] == [(BOB, True), (CAROL, False)]


async def test_deleting_a_user_s_data_withdraws_their_consents(database: Database) -> None:
    """bob's consents in every server go, and the report counts them; carol's stay."""
    listening = ListeningRepository(database)
    await listening.consent(GUILD, BOB, keep_recordings=False)
    await listening.consent(OTHER_GUILD, BOB, keep_recordings=True)
    await listening.consent(GUILD, CAROL, keep_recordings=False)
    report = await delete_user_data(database, BOB)
    assert report.listening_consents_deleted == 2
    assert [c.user_id for c in await listening.consents_in(GUILD)] == [CAROL]
    assert await listening.consents_in(OTHER_GUILD) == []


async def test_deleting_the_enabling_member_s_data_keeps_the_server_s_permission(
    database: Database,
) -> None:
    """The server still allows listening once the member who enabled it deleted their data;
    nothing names them any more."""
    listening = ListeningRepository(database)
    await listening.allow(GUILD, ADMIN)
    await delete_user_data(database, ADMIN)
    async with database.snapshot() as transaction:
        enabled_by = await transaction.fetch_value(
            "SELECT enabled_by FROM listening_guilds WHERE guild_id = ?", (GUILD,)
        )
    assert await listening.allows(GUILD) and enabled_by is None


async def test_purging_a_guild_forgets_its_permission_and_consents(database: Database) -> None:
    """The guild's setting and consents go; another guild's stay."""
    listening = ListeningRepository(database)
    await listening.allow(GUILD, ADMIN)
    await listening.consent(GUILD, BOB, keep_recordings=False)
    await listening.consent(OTHER_GUILD, BOB, keep_recordings=False)
    report = await purge_guild(database, GUILD)
    assert report.listening_consents_deleted == 1
    assert not await listening.allows(GUILD) and await listening.consents_in(GUILD) == []
    assert len(await listening.consents_in(OTHER_GUILD)) == 1


async def test_a_user_s_export_lists_where_they_opted_in(database: Database) -> None:
    """The export names the servers bob opted in to being heard in, and what he keeps."""
    listening = ListeningRepository(database)
    await listening.consent(GUILD, BOB, keep_recordings=True)
    exported = await user_data(database, BOB)
    assert [(c["guild_id"], c["keep_recordings"]) for c in exported["listening"]] == [(GUILD, True)]
