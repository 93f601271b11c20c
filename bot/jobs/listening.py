"""Live listening's rules of consent, without Discord.

Three yeses are needed before the bot hears anyone: its operator turned it on
(`VOICE_LIVE_LISTENING`), a member with Manage Server allowed it in the server (`allow`), and
the member opted in for themselves (`choose`). While the bot listens in a server it hears only
its `Audience`: the members who opted in, from the moment they do to the moment they opt out
(the receive path asks `Audience.hears` for every packet and drops the others unread). Their
recordings are deleted once answered unless they chose to keep them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.errors import InvalidInput, UserFacingError
from bot.jobs.models import Requester
from bot.storage import ListeningConsent

TURNED_OFF = (
    "Live listening is turned off on this bot: only its operator can turn it on "
    "(`VOICE_LIVE_LISTENING`)."
)
NOT_ALLOWED_HERE = (
    "Live listening is not enabled in this server: a member with the Manage Server permission "
    "can enable it with `/listen enable`."
)
ONLY_MANAGERS = "Only members with the Manage Server permission can {verb} live listening here."
IN_A_SERVER = "Live listening works in a server's voice channels, not in direct messages."
NOT_IN_VOICE = "Join a voice channel first, then `/listen start` there."


class ListeningStore(Protocol):
    """Where servers' permission and members' consents are kept (`ListeningRepository`)."""

    async def allow(self, guild_id: int, by_user_id: int) -> bool: ...

    async def forbid(self, guild_id: int) -> bool: ...

    async def allows(self, guild_id: int) -> bool: ...

    async def consent(
        self, guild_id: int, user_id: int, *, keep_recordings: bool
    ) -> ListeningConsent: ...

    async def withdraw(self, guild_id: int, user_id: int) -> bool: ...

    async def consent_of(self, guild_id: int, user_id: int) -> ListeningConsent | None: ...

    async def consents_in(self, guild_id: int) -> list[ListeningConsent]: ...


@dataclass(frozen=True, slots=True)
class Choice:
    """A member's standing once they chose (`/listen me`), and what it was before."""

    heard: bool
    keep_recordings: bool
    was_heard: bool
    kept_before: bool


@dataclass(frozen=True, slots=True)
class StartRequest:
    """What decides whether the bot may start listening for a member, as the front end sees it."""

    guild_id: int
    voice_channel: str | None
    """The member's voice channel as shown to them; None when they are in none."""
    present: Sequence[int]
    """The members in that channel (bots left out)."""


class Audience:
    """Who the bot hears in one server while it listens there (`place`, a voice channel as
    shown): the members who opted in, held in memory so the receive path asks without waiting,
    and changed the moment one of them opts in or out."""

    def __init__(self, guild_id: int, place: str, consents: Iterable[ListeningConsent]) -> None:
        self.guild_id = guild_id
        self.place = place
        self._keeps = {consent.user_id: consent.keep_recordings for consent in consents}

    def hears(self, user_id: int) -> bool:
        """Whether `user_id` is heard now (the receive path's `allowed`)."""
        return user_id in self._keeps

    def keeps_recordings_of(self, user_id: int) -> bool:
        """Whether `user_id` keeps their recordings (False for anyone not heard)."""
        return self._keeps.get(user_id, False)

    def among(self, user_ids: Iterable[int]) -> list[int]:
        """Those of `user_ids` who are heard, in their order."""
        return [user_id for user_id in user_ids if self.hears(user_id)]

    def _admit(self, user_id: int, keep_recordings: bool) -> None:
        self._keeps[user_id] = keep_recordings

    def _release(self, user_id: int) -> None:
        self._keeps.pop(user_id, None)


class LiveListening:
    """The consent rules of live listening, and the audiences of the servers listened in now.

    Every method refuses with `TURNED_OFF` while the operator has not turned it on.
    """

    def __init__(self, store: ListeningStore, *, turned_on: bool) -> None:
        self._store = store
        self.turned_on = turned_on
        self._audiences: dict[int, Audience] = {}

    # --- the server -------------------------------------------------------------------------

    async def allow(self, actor: Requester) -> bool:
        """The actor's server allows live listening (Manage Server only); False when it already
        did."""
        guild_id = self._managed_guild(actor, "enable")
        return await self._store.allow(guild_id, actor.user_id)

    async def forbid(self, actor: Requester) -> bool:
        """The actor's server no longer allows live listening (Manage Server only); False when
        it did not. Listening there now must end: `close` its audience."""
        guild_id = self._managed_guild(actor, "disable")
        return await self._store.forbid(guild_id)

    async def allows(self, guild_id: int) -> bool:
        """Whether the server allows live listening (and the operator has it on)."""
        return self.turned_on and await self._store.allows(guild_id)

    # --- a member ---------------------------------------------------------------------------

    async def choose(
        self, member: Requester, *, heard: bool | None = None, keep: bool | None = None
    ) -> Choice:
        """The member opts in (`heard=True`) or out (`heard=False`) of being heard in their
        server; with neither, being heard is switched. `keep` says whether their recordings
        stay after they are answered (default: no); opting out forgets it. A listening session
        of the server hears the change at once."""
        guild_id = self._guild_of(member)
        before = await self._store.consent_of(guild_id, member.user_id)
        kept_before = before is not None and before.keep_recordings
        if heard is None and keep is None:
            heard = before is None
        elif heard is None:
            if before is None:
                raise InvalidInput(
                    "You have not opted in to being heard here: `/listen me heard: on "
                    f"keep: {'on' if keep else 'off'}` opts in and chooses what is kept."
                )
            heard = True
        audience = self._audiences.get(guild_id)
        if not heard:
            if keep:
                raise InvalidInput(
                    "Only members who are heard keep recordings: `/listen me heard: off` alone "
                    "opts out."
                )
            await self._store.withdraw(guild_id, member.user_id)
            if audience is not None:
                audience._release(member.user_id)
            return Choice(False, False, was_heard=before is not None, kept_before=kept_before)
        keeping = keep if keep is not None else kept_before
        await self._store.consent(guild_id, member.user_id, keep_recordings=keeping)
        if audience is not None:
            audience._admit(member.user_id, keeping)
        return Choice(True, keeping, was_heard=before is not None, kept_before=kept_before)

    async def consent_of(self, member: Requester) -> ListeningConsent | None:
        """The member's consent in their server, or None."""
        return await self._store.consent_of(self._guild_of(member), member.user_id)

    # --- listening --------------------------------------------------------------------------

    async def open(self, request: StartRequest) -> Audience:
        """The audience of a listening session about to start in the member's voice channel,
        or the first refusal that applies: turned off on this bot, not allowed in the server,
        the member in no voice channel, a session already open in the server, no one there
        opted in. The session must `close` it when it ends (or fails to start)."""
        self._require_turned_on()
        if not await self._store.allows(request.guild_id):
            raise UserFacingError(NOT_ALLOWED_HERE)
        if request.voice_channel is None:
            raise UserFacingError(NOT_IN_VOICE)
        consents = await self._store.consents_in(request.guild_id)
        already = self._audiences.get(request.guild_id)
        if already is not None:
            raise UserFacingError(
                f"I'm already listening in {already.place}; `/listen stop` ends it."
            )
        audience = Audience(request.guild_id, request.voice_channel, consents)
        if not audience.among(request.present):
            raise UserFacingError(
                f"No one in {request.voice_channel} has opted in to being heard: each member "
                "who wants to be heard uses `/listen me` first."
            )
        self._audiences[request.guild_id] = audience
        return audience

    def audience_in(self, guild_id: int | None) -> Audience | None:
        """The audience of the server's listening session, while one is open."""
        return None if guild_id is None else self._audiences.get(guild_id)

    def close(self, audience: Audience) -> None:
        """The listening session of `audience` has ended: it hears no one from now on."""
        audience._keeps.clear()
        if self._audiences.get(audience.guild_id) is audience:
            del self._audiences[audience.guild_id]

    # --- rules ------------------------------------------------------------------------------

    def _require_turned_on(self) -> None:
        if not self.turned_on:
            raise UserFacingError(TURNED_OFF)

    def _guild_of(self, requester: Requester) -> int:
        self._require_turned_on()
        if requester.guild_id is None:
            raise UserFacingError(IN_A_SERVER)
        return requester.guild_id

    def _managed_guild(self, actor: Requester, verb: str) -> int:
        guild_id = self._guild_of(actor)
        if not actor.manages_guild:
            raise UserFacingError(ONLY_MANAGERS.format(verb=verb))
        return guild_id
