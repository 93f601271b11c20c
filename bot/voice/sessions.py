"""Every server's voice session in this process: what features play through.

The voice feature (`/play`, the now-playing card) and the assistants both reach voice here:
`join` connects to a channel and opens its session, `get` finds the session of a server, and
watchers hear of sessions opening, changing and closing (the now-playing card is one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import discord

from bot.config import VoiceSettings
from bot.storage import Track, VoiceSessionRepository
from bot.voice.queue import QueuedTrack, queued_track
from bot.voice.session import VoiceSession

TakesOf = Callable[[int], Awaitable[tuple[Track, ...]]]
"""The takes a job delivered (none while it runs)."""


class SessionWatcher(Protocol):
    """Hears of sessions opening, changing and closing."""

    def opened(self, session: VoiceSession) -> None: ...

    def changed(self, session: VoiceSession) -> None: ...

    def left(self, session: VoiceSession) -> None: ...


class VoiceSessions:
    """The voice sessions of this process, one per server."""

    def __init__(
        self,
        client: discord.Client,
        settings: VoiceSettings,
        *,
        store: VoiceSessionRepository | None = None,
        takes_of: TakesOf | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._store = store
        self._takes_of = takes_of
        self._sessions: dict[int, VoiceSession] = {}
        self._watchers: list[SessionWatcher] = []

    def watch(self, watcher: SessionWatcher) -> None:
        self._watchers.append(watcher)

    def unwatch(self, watcher: SessionWatcher) -> None:
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def get(self, guild_id: int | None) -> VoiceSession | None:
        """The server's session while the bot is in voice there (or connecting again)."""
        session = self._sessions.get(guild_id) if guild_id is not None else None
        if session is not None and not session.voice.is_connected() and not session.reconnecting:
            self._forget(session)
            return None
        return session

    def all(self) -> list[VoiceSession]:
        return list(self._sessions.values())

    async def join(
        self,
        channel: discord.VoiceChannel,
        *,
        timeout: float,  # noqa: ASYNC109
        deafened: bool = True,
    ) -> VoiceSession:
        """Connect to `channel` and open its session (`TimeoutError` when it takes too long).
        The connection is deafened unless live listening needs to hear (`deafened=False`)."""
        voice: discord.VoiceClient = await channel.connect(timeout=timeout, self_deaf=deafened)
        session = VoiceSession(
            self._client,
            voice,
            idle_after=self._settings.idle_disconnect,
            store=self._store,
            on_change=self._changed,
            on_leave=self._left,
            finished_take=self.finished_take if self._takes_of is not None else None,
            deafened=deafened,
        )
        self._sessions[channel.guild.id] = session
        for watcher in list(self._watchers):
            watcher.opened(session)
        return session

    async def close_all(self) -> None:
        """The bot is stopping: each session stores where it is and disconnects."""
        for session in list(self._sessions.values()):
            await session.close()

    async def finished_take(self, preview: QueuedTrack) -> QueuedTrack | None:
        """The first take of a preview's job, once delivered, for the same member."""
        if preview.job_id is None or self._takes_of is None:
            return None
        takes = await self._takes_of(preview.job_id)
        return queued_track(takes[0], preview.requester_id) if takes else None

    def _changed(self, session: VoiceSession) -> None:
        for watcher in list(self._watchers):
            watcher.changed(session)

    def _left(self, session: VoiceSession) -> None:
        self._forget(session)
        for watcher in list(self._watchers):
            watcher.left(session)

    def _forget(self, session: VoiceSession) -> None:
        if self._sessions.get(session.guild_id) is session:
            del self._sessions[session.guild_id]
