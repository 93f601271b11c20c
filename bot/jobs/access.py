"""Who may act on what: the one rule behind every button, menu, form and option that names a
track, a job or a listing.

Something belongs to the place it was made: a server, or one member's DMs. It is acted on
only there; there, its owner always may, and others as its `Access` says.
"""

from __future__ import annotations

from enum import StrEnum

from bot.jobs.models import Requester


class Access(StrEnum):
    """Who, besides its owner, may act on something (a track, a job, a listing)."""

    REQUESTER = "requester"  # its owner only
    REQUESTER_OR_MANAGER = "requester_or_manager"  # or a member who manages its server
    MEMBER = "member"  # or any member of the server it belongs to


def in_its_place(actor: Requester, *, owner_id: int, guild_id: int | None) -> bool:
    """Whether `actor` is where the thing was made: in its server, or in its owner's DMs."""
    if guild_id is None:
        return actor.guild_id is None and actor.user_id == owner_id
    return actor.guild_id == guild_id


def may_act(access: Access, actor: Requester, *, owner_id: int, guild_id: int | None) -> bool:
    """Whether `actor` may act on something of `owner_id` made in `guild_id` (None: in DMs)."""
    if not in_its_place(actor, owner_id=owner_id, guild_id=guild_id):
        return False
    if actor.user_id == owner_id:
        return True
    if access is Access.REQUESTER_OR_MANAGER:
        return actor.manages_guild
    return access is Access.MEMBER
