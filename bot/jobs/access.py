"""Who may act on what: the one rule behind every button, menu and form that acts on a track,
a job or a listing, and behind the tracks a command may build on."""

from __future__ import annotations

from enum import StrEnum

from bot.jobs.models import Requester


class Access(StrEnum):
    """Who, besides its owner, may act on something (a track, a job, a listing)."""

    REQUESTER = "requester"  # its owner only
    REQUESTER_OR_MANAGER = "requester_or_manager"  # or a member who manages its server
    MEMBER = "member"  # or any member of the server it belongs to


def may_act(access: Access, actor: Requester, *, owner_id: int, guild_id: int | None) -> bool:
    """Whether `actor` may act on something of `owner_id` made in `guild_id` (None: in DMs).

    Its owner always may; anyone else only in the same server, never on something from DMs.
    """
    if actor.user_id == owner_id:
        return True
    same_guild = guild_id is not None and guild_id == actor.guild_id
    if access is Access.REQUESTER_OR_MANAGER:
        return same_guild and actor.manages_guild
    return same_guild and access is Access.MEMBER
