"""Live listening's consent rules (`bot.jobs.listening`) over an in-memory store: the three
yeses (operator, server, member), the order of the refusals to start, and an audience that
hears a member from the moment they opt in to the moment they opt out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import UserFacingError
from bot.jobs.listening import (
    NOT_ALLOWED_HERE,
    NOT_IN_VOICE,
    TURNED_OFF,
    LiveListening,
    StartRequest,
)
from bot.jobs.models import Requester
from bot.storage import ListeningConsent

GUILD, OTHER_GUILD = 1000, 2000
ADMIN, BOB, CAROL = 1, 2, 3
LOUNGE = "#Lounge"
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)


class MemoryStore:
    """`ListeningStore` in memory."""

    def __init__(self) -> None:
        self.allowed: dict[int, int] = {}
        self.consents: dict[tuple[int, int], ListeningConsent] = {}

    async def allow(self, guild_id: int, by_user_id: int) -> bool:
        added = guild_id not in self.allowed
        self.allowed.setdefault(guild_id, by_user_id)
        return added

    async def forbid(self, guild_id: int) -> bool:
        return self.allowed.pop(guild_id, None) is not None

    async def allows(self, guild_id: int) -> bool:
        return guild_id in self.allowed

    async def consent(
        self, guild_id: int, user_id: int, *, keep_recordings: bool
    ) -> ListeningConsent:
        consent = ListeningConsent(guild_id, user_id, keep_recordings, NOW)
        self.consents[guild_id, user_id] = consent
        return consent

    async def withdraw(self, guild_id: int, user_id: int) -> bool:
        return self.consents.pop((guild_id, user_id), None) is not None

    async def consent_of(self, guild_id: int, user_id: int) -> ListeningConsent | None:
        return self.consents.get((guild_id, user_id))

    async def consents_in(self, guild_id: int) -> list[ListeningConsent]:
        return [c for (g, _), c in sorted(self.consents.items()) if g == guild_id]


def member(user_id: int, *, manages: bool = False, guild_id: int | None = GUILD) -> Requester:
    return Requester(user_id, guild_id, (), manages)


def in_lounge(*present: int) -> StartRequest:
    return StartRequest(GUILD, LOUNGE, present)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def rules(store: MemoryStore) -> LiveListening:
    return LiveListening(store, turned_on=True)


async def allowed_rules(rules: LiveListening) -> LiveListening:
    await rules.allow(member(ADMIN, manages=True))
    return rules


# --- the three yeses --------------------------------------------------------------------------


async def test_turned_off_every_rule_refuses_with_the_operator_s_words(store: MemoryStore) -> None:
    """With VOICE_LIVE_LISTENING off, even opting in is refused, naming the setting."""
    rules = LiveListening(store, turned_on=False)
    with pytest.raises(UserFacingError) as refused:
        await rules.choose(member(BOB), heard=True)
    assert str(refused.value) == TURNED_OFF and "VOICE_LIVE_LISTENING" in TURNED_OFF


async def test_only_a_member_with_manage_server_enables_it(rules: LiveListening) -> None:
    """bob, without Manage Server, cannot allow live listening in the server."""
    with pytest.raises(UserFacingError, match="Only members with the Manage Server permission"):
        await rules.allow(member(BOB))


async def test_enabling_twice_says_it_was_already_enabled(rules: LiveListening) -> None:
    """The second allow reports no change."""
    admin = member(ADMIN, manages=True)
    assert await rules.allow(admin) and not await rules.allow(admin)


async def test_a_member_may_opt_in_before_the_server_allows_it(rules: LiveListening) -> None:
    """Opting in does not need the server's permission; being heard does."""
    choice = await rules.choose(member(BOB), heard=True)
    assert choice.heard and not await rules.allows(GUILD)


async def test_live_listening_works_only_in_a_server(rules: LiveListening) -> None:
    """In DMs there is no server to be heard in."""
    with pytest.raises(UserFacingError, match="not in direct messages"):
        await rules.choose(member(BOB, guild_id=None))


# --- a member's choice ------------------------------------------------------------------------


async def test_me_without_options_switches_being_heard(rules: LiveListening) -> None:
    """The first /listen me opts in, the second opts out."""
    first = await rules.choose(member(BOB))
    second = await rules.choose(member(BOB))
    assert (first.heard, first.was_heard) == (True, False)
    assert (second.heard, second.was_heard) == (False, True)


async def test_nothing_is_kept_by_default(rules: LiveListening) -> None:
    """Opting in without `keep` keeps no recordings."""
    assert not (await rules.choose(member(BOB), heard=True)).keep_recordings


async def test_keep_alone_changes_only_what_is_kept(rules: LiveListening) -> None:
    """An opted-in member who says keep: on stays heard and now keeps recordings."""
    await rules.choose(member(BOB), heard=True)
    choice = await rules.choose(member(BOB), keep=True)
    assert choice.heard and choice.was_heard and choice.keep_recordings


async def test_keep_alone_does_not_opt_anyone_in(rules: LiveListening) -> None:
    """keep: on from a member who has not opted in is refused, saying how to opt in."""
    with pytest.raises(UserFacingError, match="You have not opted in"):
        await rules.choose(member(BOB), keep=True)


async def test_opting_out_while_keeping_is_refused(rules: LiveListening) -> None:
    """heard: off with keep: on contradicts itself."""
    await rules.choose(member(BOB), heard=True)
    with pytest.raises(UserFacingError, match="Only members who are heard keep recordings"):
        await rules.choose(member(BOB), heard=False, keep=True)


async def test_opting_out_forgets_what_was_kept(rules: LiveListening) -> None:
    """After opting out and in again, recordings are not kept unless asked again."""
    await rules.choose(member(BOB), heard=True, keep=True)
    await rules.choose(member(BOB), heard=False)
    assert not (await rules.choose(member(BOB), heard=True)).keep_recordings


async def test_consent_is_per_server(rules: LiveListening) -> None:
    """bob opted in in one server is not opted in in another."""
    await rules.choose(member(BOB), heard=True)
    assert await rules.consent_of(member(BOB, guild_id=OTHER_GUILD)) is None


# --- starting ---------------------------------------------------------------------------------


async def test_start_is_refused_where_the_server_has_not_allowed_it(rules: LiveListening) -> None:
    """Not allowed in the server: the refusal says who can enable it."""
    await rules.choose(member(BOB), heard=True)
    with pytest.raises(UserFacingError) as refused:
        await rules.open(in_lounge(BOB))
    assert str(refused.value) == NOT_ALLOWED_HERE


async def test_start_outside_voice_is_refused_after_the_server_s_permission(
    rules: LiveListening,
) -> None:
    """In no voice channel and the server not allowing it: the server's refusal comes first;
    once allowed, the voice one."""
    outside = StartRequest(GUILD, None, ())
    with pytest.raises(UserFacingError, match="not enabled in this server"):
        await rules.open(outside)
    await allowed_rules(rules)
    with pytest.raises(UserFacingError) as refused:
        await rules.open(outside)
    assert str(refused.value) == NOT_IN_VOICE


async def test_start_with_no_one_there_opted_in_is_refused(rules: LiveListening) -> None:
    """carol opted in but is not in Lounge; bob there did not: no one to hear."""
    await allowed_rules(rules)
    await rules.choose(member(CAROL), heard=True)
    with pytest.raises(UserFacingError, match=f"No one in {LOUNGE} has opted in"):
        await rules.open(in_lounge(BOB))


async def test_a_second_start_in_the_server_is_refused(rules: LiveListening) -> None:
    """While one audience is open in the server, another start names where it listens."""
    await allowed_rules(rules)
    await rules.choose(member(BOB), heard=True)
    await rules.open(in_lounge(BOB))
    with pytest.raises(UserFacingError, match=f"I'm already listening in {LOUNGE}"):
        await rules.open(StartRequest(GUILD, "#Studio", (BOB,)))


async def test_after_closing_listening_can_start_again(rules: LiveListening) -> None:
    """Closing the audience lets the next start through."""
    await allowed_rules(rules)
    await rules.choose(member(BOB), heard=True)
    rules.close(await rules.open(in_lounge(BOB)))
    assert (await rules.open(in_lounge(BOB))).hears(BOB)


# --- the audience -----------------------------------------------------------------------------


async def test_the_audience_hears_only_members_who_opted_in(rules: LiveListening) -> None:
    """bob opted in, carol did not: only bob is heard."""
    await allowed_rules(rules)
    await rules.choose(member(BOB), heard=True)
    audience = await rules.open(in_lounge(BOB, CAROL))
    assert audience.hears(BOB) and not audience.hears(CAROL)
    assert audience.among([CAROL, BOB]) == [BOB]


async def test_opting_out_is_heard_at_once(rules: LiveListening) -> None:
    """bob opts out while the audience is open: from that moment he is not heard."""
    await allowed_rules(rules)
    await rules.choose(member(BOB), heard=True)
    audience = await rules.open(in_lounge(BOB))
    await rules.choose(member(BOB), heard=False)
    assert not audience.hears(BOB)


async def test_opting_in_is_heard_at_once(rules: LiveListening) -> None:
    """carol opts in while the audience is open, keeping her recordings: she is heard, and
    they are kept."""
    await allowed_rules(rules)
    await rules.choose(member(BOB), heard=True)
    audience = await rules.open(in_lounge(BOB, CAROL))
    await rules.choose(member(CAROL), heard=True, keep=True)
    assert audience.hears(CAROL) and audience.keeps_recordings_of(CAROL)


async def test_a_closed_audience_hears_no_one(rules: LiveListening) -> None:
    """Once listening ends, its audience hears no one, not even those who opted in."""
    await allowed_rules(rules)
    await rules.choose(member(BOB), heard=True)
    audience = await rules.open(in_lounge(BOB))
    rules.close(audience)
    assert not audience.hears(BOB)
