"""Who may act on what (`bot.jobs.access`): the owner, managers of the same server, members."""

from __future__ import annotations

import pytest

from bot.jobs.access import Access, may_act
from bot.jobs.models import Requester

OWNER, OTHER, GUILD = 1, 2, 10


def actor(*, user: int = OTHER, guild: int | None = GUILD, manages: bool = False) -> Requester:
    return Requester(user, guild, (), manages)


@pytest.mark.parametrize("access", list(Access))
def test_the_owner_may_act_where_it_was_made(access: Access) -> None:
    """Whatever the rule, the owner may act in its server, and in DMs on what was made there."""
    assert may_act(access, actor(user=OWNER), owner_id=OWNER, guild_id=GUILD)
    assert may_act(access, actor(user=OWNER, guild=None), owner_id=OWNER, guild_id=None)


@pytest.mark.parametrize("access", list(Access))
def test_nothing_is_acted_on_outside_its_place(access: Access) -> None:
    """Not even the owner acts on a server's track from another server or from DMs, nor on a
    DM track from a server."""
    owner = actor(user=OWNER, manages=True)
    assert not may_act(access, actor(user=OWNER, guild=99), owner_id=OWNER, guild_id=GUILD)
    assert not may_act(access, actor(user=OWNER, guild=None), owner_id=OWNER, guild_id=GUILD)
    assert not may_act(access, owner, owner_id=OWNER, guild_id=None)


def test_requester_only_refuses_everyone_else() -> None:
    """Under REQUESTER, another member (even a manager) may not act."""
    assert not may_act(Access.REQUESTER, actor(manages=True), owner_id=OWNER, guild_id=GUILD)


def test_a_manager_of_the_same_server_may_act_for_the_owner() -> None:
    """Under REQUESTER_OR_MANAGER, a manager of the subject's server may act; a member may not."""
    rule = Access.REQUESTER_OR_MANAGER
    assert may_act(rule, actor(manages=True), owner_id=OWNER, guild_id=GUILD)
    assert not may_act(rule, actor(), owner_id=OWNER, guild_id=GUILD)


def test_managing_another_server_grants_nothing() -> None:
    """A manager of another server is no manager here."""
    rule = Access.REQUESTER_OR_MANAGER
    assert not may_act(rule, actor(guild=99, manages=True), owner_id=OWNER, guild_id=GUILD)


def test_any_member_of_the_same_server_may_use_its_things() -> None:
    """Under MEMBER, members of the subject's server may act; members elsewhere may not."""
    assert may_act(Access.MEMBER, actor(), owner_id=OWNER, guild_id=GUILD)
    assert not may_act(Access.MEMBER, actor(guild=99), owner_id=OWNER, guild_id=GUILD)


def test_nothing_from_dms_is_shared() -> None:
    """Something made in DMs belongs to its owner alone."""
    assert not may_act(Access.MEMBER, actor(guild=None), owner_id=OWNER, guild_id=None)
