"""Persistence on SQLite (aiosqlite): connection, migrations, quota, jobs, tracks, voice
playback, chat conversations, live-listening consent, privacy."""

from bot.storage.clock import Clock, ManualClock, SystemClock
from bot.storage.conversations import Conversation, ConversationRepository, NewTurn, Turn
from bot.storage.database import (
    Database,
    DatabaseTooNew,
    MigrationReport,
    Transaction,
    upgrade_database,
)
from bot.storage.errors import StorageError
from bot.storage.jobs import (
    FINAL_STATES,
    LEGAL_TRANSITIONS,
    RUNNING_STATES,
    IllegalTransition,
    Job,
    JobNotFound,
    JobRepository,
    JobState,
    NewJob,
    OrderAlreadyDecided,
)
from bot.storage.listening import ListeningConsent, ListeningRepository
from bot.storage.privacy import DeletionReport, delete_user_data, purge_guild
from bot.storage.quota import (
    LedgerEvent,
    LedgerEventKind,
    QuotaLedger,
    Reservation,
    ReservationClosed,
    ReservationNotFound,
    ReservationState,
)
from bot.storage.quota_policy import (
    QuotaCard,
    QuotaError,
    QuotaExceeded,
    QuotaPolicy,
    RefusalReason,
    period_bounds,
)
from bot.storage.tracks import AudioFile, Lineage, NewTrack, Track, TrackPage, TrackRepository
from bot.storage.voice import StoredVoiceSession, VoiceSessionRepository

__all__ = [
    "FINAL_STATES",
    "LEGAL_TRANSITIONS",
    "RUNNING_STATES",
    "AudioFile",
    "Clock",
    "Conversation",
    "ConversationRepository",
    "Database",
    "DatabaseTooNew",
    "DeletionReport",
    "IllegalTransition",
    "Job",
    "JobNotFound",
    "JobRepository",
    "JobState",
    "LedgerEvent",
    "LedgerEventKind",
    "Lineage",
    "ListeningConsent",
    "ListeningRepository",
    "ManualClock",
    "MigrationReport",
    "NewJob",
    "NewTrack",
    "NewTurn",
    "OrderAlreadyDecided",
    "QuotaCard",
    "QuotaError",
    "QuotaExceeded",
    "QuotaLedger",
    "QuotaPolicy",
    "RefusalReason",
    "Reservation",
    "ReservationClosed",
    "ReservationNotFound",
    "ReservationState",
    "StorageError",
    "StoredVoiceSession",
    "SystemClock",
    "Track",
    "TrackPage",
    "TrackRepository",
    "Transaction",
    "Turn",
    "VoiceSessionRepository",
    "delete_user_data",
    "period_bounds",
    "purge_guild",
    "upgrade_database",
]
