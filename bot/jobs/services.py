"""The core's services, built once per process: what every front end calls, and nothing else.

Repositories stay inside the services; a cog or a script reaches tracks, jobs and quota only
through the rules these services apply.
"""

from __future__ import annotations

from bot.config import Settings
from bot.jobs.assistant import ChatAssistant
from bot.jobs.contests import ContestService
from bot.jobs.library import TrackLibrary
from bot.jobs.limits import CallLimiter
from bot.jobs.listening import LiveListening
from bot.jobs.lyrics import LyricsWriter
from bot.jobs.models import Requester
from bot.jobs.privacy import PrivacyService
from bot.jobs.quota import QuotaService
from bot.jobs.service import JobService
from bot.jobs.shared import SharedJobs
from bot.jobs.spoken import VoiceAssistant
from bot.soundverse import SoundverseClient
from bot.soundverse.health import ApiHealth, check_api_health
from bot.storage import (
    ConversationRepository,
    Database,
    ListeningRepository,
    VoiceSessionRepository,
)
from bot.storage.clock import Clock
from bot.storage.database import GuildScope


def guild_scope(settings: Settings) -> GuildScope | None:
    """The guilds this process serves when it runs only some of the gateway's shards."""
    discord_settings = settings.discord
    if discord_settings.shard_ids is None or discord_settings.shard_count is None:
        return None
    return GuildScope(discord_settings.shard_count, tuple(discord_settings.shard_ids))


class Services:
    """Jobs, the track library, quota, lyrics, the chat and voice assistants, live listening's
    consent, contests, privacy and stored voice playback, over one database and one API
    client."""

    def __init__(
        self,
        client: SoundverseClient,
        database: Database,
        settings: Settings,
        *,
        clock: Clock | None = None,
    ) -> None:
        """`clock` dates what is stored and decides when reservations lapse (tests move it)."""
        self._client = client
        self.jobs = JobService(
            client=client, database=database, settings=settings, storage_clock=clock
        )
        self.shared_jobs = SharedJobs(self.jobs, database, settings.jobs, clock)
        self.library = TrackLibrary(database, clock)
        self.quota = QuotaService(database, settings.quota, clock)
        self._calls = CallLimiter(
            cooldown=settings.quota.call_cooldown, at_once=settings.quota.calls_at_once
        )
        self.lyrics = LyricsWriter(client, self.quota, self._calls)
        self.chat = ChatAssistant(
            client,
            self.quota,
            self._calls,
            ConversationRepository(database, clock),
            settings.assistant,
            clock,
        )
        self.voice_assistant = VoiceAssistant(
            client, self.quota, self._calls, longest=settings.voice.question_max_seconds
        )
        self.listening = LiveListening(
            ListeningRepository(database, clock), turned_on=settings.voice.live_listening
        )
        self.contests = ContestService(database, clock, guild_scope(settings))
        self.privacy = PrivacyService(database, settings.privacy, clock)
        self.voice_sessions = VoiceSessionRepository(database, clock)

    async def api_health(self, requester: Requester) -> ApiHealth:
        """Whether Soundverse answers and accepts the key, and how fast (a quick call, so the
        member's call limits apply)."""
        async with self._calls.call(requester.user_id):
            return await check_api_health(self._client)

    async def close(self) -> None:
        """Stop following jobs; their state stays in the database for the next start."""
        await self.jobs.close()
