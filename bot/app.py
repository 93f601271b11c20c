"""The Bot class and the one factory that builds it for production, tests and the sandbox.

`setup_hook` owns every resource with a lifetime (the HTTP session, the Soundverse
client, the database, the core's services) and loads every feature package of `cogs/` by
name; `close` releases them in reverse order. The bot is the `Application` that
presentation sees (`bot.ui.application`); it imports no feature.

The client is sharded: it runs the gateway shards DISCORD_SHARD_IDS of DISCORD_SHARD_COUNT
(by default as many as Discord recommends, all of them), identifying them as fast as Discord's
identify concurrency allows, and reports each shard's state in its heartbeat.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.config import CommandSync, Settings, WorkerMode, setting_names, settings_environment
from bot.gateway import AddressedMessagesOnly, IdentifyPacing, bot_intents, shard_of
from bot.health import HeartbeatWriter, ShardState, WorkerState, latency_ms
from bot.jobs.link import STOP_TIMEOUT, WorkerLink
from bot.jobs.models import CancelOutcome
from bot.jobs.retention import prune_audio
from bot.jobs.services import Services
from bot.soundverse import SoundverseClient
from bot.storage import Database
from bot.storage.clock import Clock
from bot.ui import job_card
from bot.ui.errors import report_error
from bot.ui.follow_ups import FollowUpRegistry
from bot.ui.forms import FormRouter
from bot.ui.launch import card_for_stored_job
from bot.ui.take_actions import TakeActions
from bot.ui.uploads import HeldUploads
from bot.voice.sessions import VoiceSessions

log = logging.getLogger(__name__)

PRUNE_INTERVAL = 6 * 3600.0
THREAD_SWITCH = 0.0005
"""Seconds a thread holds the interpreter lock while another waits for it."""

# How the bot starts its job worker (JOBS_WORKER=process); `--link-fd N` is added.
WORKER_COMMAND: tuple[str, ...] = (sys.executable, "-m", "bot", "worker")

# Every feature package of cogs/, loaded by name (a test keeps this equal to the packages).
EXTENSIONS: tuple[str, ...] = (
    "cogs.song",
    "cogs.lyrics",
    "cogs.extend",
    "cogs.sing",
    "cogs.stems",
    "cogs.loop",
    "cogs.history",
    "cogs.quota",
    "cogs.admin",
    "cogs.privacy",
    "cogs.about",
    "cogs.help",
    "cogs.voice",
    "cogs.assistant",
    "cogs.contests",
)


def point_discord_at(api_base: str, gateway_url: str) -> None:
    """Send discord.py's REST and gateway traffic to another Discord (the local one).

    discord.py reads both class attributes each time it builds a request or
    connects, so this must run before the client logs in.
    """
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class CommandTreeWithErrors(app_commands.CommandTree["SoundverseBot"]):
    """The command tree with the bot's single error handler for app commands."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class SoundverseBot(commands.AutoShardedBot):
    """The Soundverse bot: settings, services and cogs on one (sharded) discord.py client."""

    def __init__(
        self,
        settings: Settings,
        *,
        job_worker: bool = False,
        storage_clock: Clock | None = None,
        **client_options: Any,
    ) -> None:
        """`job_worker`: this client is the job worker (REST only, no commands, no gateway).
        `storage_clock`: the clock of what is stored (the system's unless a test moves it)."""
        options: dict[str, Any] = {
            "command_prefix": commands.when_mentioned,
            "intents": bot_intents(),
            # Nothing reads past messages; caching every card edit only costs memory and time.
            "max_messages": None,
            "tree_cls": CommandTreeWithErrors,
            "help_command": None,
            "allowed_mentions": discord.AllowedMentions.none(),
            "shard_count": settings.discord.shard_count,
        }
        if settings.discord.shard_ids is not None:
            options["shard_ids"] = list(settings.discord.shard_ids)
        options.update(client_options)
        super().__init__(**options)
        self._settings = settings
        self._storage_clock = storage_clock
        self._started_at = time.monotonic()
        self._soundverse: SoundverseClient | None = None
        self._database: Database | None = None
        self._services: Services | None = None
        self._voice: VoiceSessions | None = None
        self._resumed = False
        self._pruner: asyncio.Task[None] | None = None
        self._purger: asyncio.Task[None] | None = None
        self._shards_up: dict[int, bool] = {}
        self._identify_pacing = IdentifyPacing(1)
        self._heartbeat = HeartbeatWriter(
            settings.heartbeat_path,
            settings.health.interval,
            self.health_state,
            version=__version__,
            shards=self.shard_states,
        )
        self.is_job_worker = job_worker
        self._job_link: WorkerLink | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._follow_ups = FollowUpRegistry()
        self._forms = FormRouter()
        self._uploads = HeldUploads()

    def _get_state(self, **options: Any) -> AddressedMessagesOnly:
        # Message events are received for the chat assistant; those not addressed to the bot
        # are dropped before they are parsed (bot.gateway).
        return AddressedMessagesOnly(
            dispatch=self.dispatch,
            handlers=self._handlers,
            hooks=self._hooks,
            http=self.http,
            **options,
        )

    # --- the Application that presentation sees (bot.ui.application) -----------------------

    @property
    def client(self) -> commands.AutoShardedBot:
        return self

    @property
    def started_at(self) -> float:
        return self._started_at

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def services(self) -> Services:
        """The core's services (built in `setup_hook`)."""
        if self._services is None:
            raise RuntimeError("the bot has not been set up yet")
        return self._services

    @property
    def voice(self) -> VoiceSessions:
        """The voice sessions of this process (built in `setup_hook`)."""
        if self._voice is None:
            raise RuntimeError("the bot has not been set up yet")
        return self._voice

    @property
    def job_link(self) -> WorkerLink | None:
        return self._job_link

    @property
    def follow_ups(self) -> FollowUpRegistry:
        return self._follow_ups

    @property
    def forms(self) -> FormRouter:
        return self._forms

    @property
    def uploads(self) -> HeldUploads:
        return self._uploads

    def keep_task(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def cancel_job(self, job_id: int, by_user_id: int) -> CancelOutcome:
        if self._job_link is not None:
            return await self._job_link.cancel(job_id, by_user_id)
        if self.settings.jobs.worker is WorkerMode.SHARED and not self.is_job_worker:
            return await self.services.shared_jobs.cancel(job_id, by_user_id)
        return await self.services.jobs.cancel(job_id, by_user_id)

    # --- lifetime ---------------------------------------------------------------------------

    @property
    def database(self) -> Database:
        """The database (opened and migrated in `setup_hook`)."""
        if self._database is None:
            raise RuntimeError("the bot has not been set up yet")
        return self._database

    @property
    def runs_jobs(self) -> bool:
        """Jobs are queued and run in this process (inline, or this is the worker)."""
        return self.is_job_worker or self.settings.jobs.worker is WorkerMode.INLINE

    async def _finish_background(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Let background work end while the database and Discord are still open: once the
        link is closed, orders the worker never answered are settled (found stored, or the
        member told)."""
        if self._background:
            _, unsettled = await asyncio.wait(set(self._background), timeout=timeout)
            for task in unsettled:
                task.cancel()

    async def setup_hook(self) -> None:
        settings = self.settings
        self._soundverse = SoundverseClient(settings.soundverse, settings.endpoints)
        self._database = await Database.connect(
            settings.storage.target,
            busy_timeout_ms=settings.storage.busy_timeout_ms,
            pool_size=settings.storage.pool_size,
            clock=self._storage_clock,
        )
        self._services = Services(
            self._soundverse, self._database, settings, clock=self._storage_clock
        )
        self._voice = VoiceSessions(
            self,
            settings.voice,
            store=self._services.voice_sessions,
            takes_of=self._services.library.takes_of,
        )
        if self.runs_jobs and settings.audio.retention_days > 0:
            self._pruner = asyncio.create_task(self.prune_audio_forever(), name="audio-pruner")
        # The worker loads the features too: the results it posts carry their follow-ups.
        self.add_dynamic_items(*job_card.COMPONENTS, TakeActions)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.is_job_worker:
            return
        if settings.jobs.worker is WorkerMode.PROCESS:
            # After the database is open: its migrations have run before the worker opens it.
            self._job_link = WorkerLink(
                WORKER_COMMAND, worker_environment(settings), on_change=self._heartbeat.poke
            )
            await self._job_link.start()
        self._heartbeat.start()
        self.add_listener(self._forms.dispatch, "on_interaction")
        if settings.discord.sync is CommandSync.AUTO:
            await self.sync_commands_if_changed()

    async def prune_audio_forever(self) -> None:
        """Remove delivered audio older than AUDIO_RETENTION_DAYS, at start and every 6 hours."""
        audio = self.settings.audio
        while True:
            report = await asyncio.to_thread(
                prune_audio, audio.directory, audio.retention_days * 86400
            )
            if report.folders:
                log.info("Pruned %d audio folders (%d bytes)", report.folders, report.bytes)
            await asyncio.sleep(PRUNE_INTERVAL)

    async def purge_departed_forever(self) -> None:
        """Purge the servers the bot left over PRIVACY_GUILD_GRACE_DAYS ago, at start (once the
        guilds it is in are known) and every 6 hours. Servers that removed the bot while it
        was down are found at start by a process that runs every shard (it sees them all)."""
        privacy = self.services.privacy
        if self.runs_every_shard():
            await privacy.guilds_present([guild.id for guild in self.guilds])
        else:
            # This process sees only its shards' guilds: the others are not gone.
            log.info(
                "Servers that removed the bot while it was down are not looked for: other "
                "processes run the other shards"
            )
        while True:
            await privacy.purge_departed()
            await asyncio.sleep(PRUNE_INTERVAL)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server: its data is purged after PRIVACY_GUILD_GRACE_DAYS. Then
        `guild_departure_recorded` is dispatched (for whatever listens, tests included)."""
        await self.services.privacy.guild_left(guild.id)
        self.dispatch("guild_departure_recorded", guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """(Back) in a server: nothing of it is purged. Then `guild_departure_forgotten`."""
        await self.services.privacy.guild_joined(guild.id)
        self.dispatch("guild_departure_forgotten", guild.id)

    def health_state(self) -> tuple[bool, WorkerState]:
        """What the heartbeat reports: connected to the gateway (every shard this process
        runs), and the job worker's state."""
        if self.runs_jobs:
            worker = WorkerState.INLINE
        elif self.settings.jobs.worker is WorkerMode.SHARED:
            worker = WorkerState.SHARED
        elif self._job_link is not None and self._job_link.taking_jobs:
            worker = WorkerState.READY
        else:
            worker = WorkerState.DOWN
        shards = self.shard_states()
        connected = bool(shards) and all(shard.connected for shard in shards)
        return connected and not self.is_closed(), worker

    # --- shards -----------------------------------------------------------------------------

    def gateway_shards(self) -> tuple[int, ...]:
        """The shards this process runs; none before it knows how many there are in all."""
        if self.shard_count is None:
            return ()
        return tuple(self.shard_ids if self.shard_ids is not None else range(self.shard_count))

    def runs_every_shard(self) -> bool:
        """Whether this process runs every shard, so sees every guild the bot is in."""
        count = self.shard_count or 1
        return self.shard_ids is None or set(self.shard_ids) >= set(range(count))

    def runs_guild(self, guild_id: int | None) -> bool:
        """Whether this process receives the gateway events of `guild_id` (of DMs: None),
        which reach only the shard of Discord's sharding formula (DMs: shard 0)."""
        count = self.shard_count or 1
        shard = 0 if guild_id is None else shard_of(guild_id, count)
        return self.shard_ids is None or shard in self.shard_ids

    def shard_states(self) -> tuple[ShardState, ...]:
        """Each shard this process runs: connected (ready or resumed since it last went), and
        its heartbeat latency."""
        states = []
        for shard_id in self.gateway_shards():
            info = self.get_shard(shard_id)
            connected = self._shards_up.get(shard_id, False) and not (
                info is None or info.is_closed()
            )
            latency = latency_ms(info.latency) if info is not None and connected else None
            states.append(ShardState(shard_id, connected, latency))
        return tuple(states)

    def _shard_is(self, shard_id: int, connected: bool) -> None:
        self._shards_up[shard_id] = connected
        self._heartbeat.poke()

    async def on_shard_ready(self, shard_id: int) -> None:
        self._shard_is(shard_id, True)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._shard_is(shard_id, True)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._shard_is(shard_id, False)

    async def launch_shards(self) -> None:
        """Start the gateway shards, once Discord said how many may identify at once."""
        recommended, _, limits = await self.http.get_bot_gateway()
        self._identify_pacing = IdentifyPacing(limits["max_concurrency"])
        count = self.shard_count or recommended
        ids = self.shard_ids if self.shard_ids is not None else range(count)
        log.info(
            "Gateway: shards %s of %d in this process (Discord recommends %d; %d identify at once)",
            ", ".join(map(str, ids)),
            count,
            recommended,
            self._identify_pacing.max_concurrency,
        )
        await super().launch_shards()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for the shard's turn to identify (Discord's identify concurrency)."""
        await self._identify_pacing.wait_turn(shard_id or 0)

    async def on_message(self, message: discord.Message) -> None:
        """No text commands: the messages the bot receives are for the chat assistant, whose
        listener answers them (commands.Bot would otherwise look each one up as a command)."""

    async def close(self) -> None:
        for task in (self._pruner, self._purger):
            if task is not None:
                task.cancel()
        try:
            await self._heartbeat.stop()
            if self._job_link is not None:
                # The worker's own stop gives results being posted their grace first.
                await self._job_link.close(STOP_TIMEOUT + self.settings.jobs.shutdown_grace)
            await self._finish_background()
            if self._services is not None:
                await self._services.close()
            await super().close()
        finally:
            if self._soundverse is not None:
                await self._soundverse.close()
            if self._database is not None:
                await self._database.close()

    def command_payload(self) -> list[dict[str, Any]]:
        """What a sync would send to Discord, in a stable order."""
        guild = self.sync_target()
        commands_ = self.tree.get_commands(guild=guild) + (
            self.tree.get_commands() if guild is not None else []
        )
        payload = [command.to_dict(self.tree) for command in commands_]
        return sorted(payload, key=lambda item: (item.get("type", 1), item["name"]))

    def sync_target(self) -> discord.Object | None:
        """The guild commands are synced to (development), or None for global commands."""
        guild_id = self.settings.discord.dev_guild_id
        return discord.Object(id=guild_id) if guild_id is not None else None

    def sync_stamp_path(self) -> Path:
        """Where the hash of the last synced command payload is kept."""
        return self.settings.storage.local_dir / "command-sync.json"

    async def sync_commands(self) -> int:
        """Push the commands to Discord now; returns how many were synced."""
        guild = self.sync_target()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        self.remember_synced_payload()
        log.info("Synced %d commands (%s)", len(synced), f"guild {guild.id}" if guild else "global")
        return len(synced)

    def payload_hash(self) -> str:
        """A hash of the command payload and where it goes."""
        target = self.sync_target()
        body = {"target": target.id if target else None, "commands": self.command_payload()}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def remember_synced_payload(self) -> None:
        stamp = self.sync_stamp_path()
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"sha256": self.payload_hash()}))

    def synced_payload_is_current(self) -> bool:
        try:
            stored = json.loads(self.sync_stamp_path().read_text())
        except (OSError, ValueError):
            return False
        return isinstance(stored, dict) and stored.get("sha256") == self.payload_hash()

    async def sync_commands_if_changed(self) -> None:
        """Sync only when the payload changed: Discord allows 200 command creates a day."""
        if self.synced_payload_is_current():
            log.info("Commands unchanged since the last sync; not syncing")
            return
        await self.sync_commands()

    async def on_ready(self) -> None:
        self._heartbeat.poke()
        if not self._resumed:
            self._resumed = True
            freeze_startup_objects()
            if self.runs_jobs:
                await self.resume_unfinished_jobs()
            self._purger = asyncio.create_task(self.purge_departed_forever(), name="privacy-purger")
        user = self.user
        log.info(
            "Ready as %s (%s) in %d guilds on shards %s of %d, version %s",
            user,
            user.id if user else "?",
            len(self.guilds),
            ", ".join(map(str, self.gateway_shards())),
            self.shard_count or 1,
            __version__,
        )

    async def resume_unfinished_jobs(self) -> None:
        """Pick up the jobs a previous process left unfinished (in the process that runs jobs)."""
        resumed = await self.services.jobs.resume_unfinished(
            lambda job, order: card_for_stored_job(self, job, order)
        )
        if resumed:
            log.info("Resumed %d unfinished job(s): %s", len(resumed), resumed)


def freeze_startup_objects() -> None:
    """What exists at startup lives until shutdown: keep it out of the collector's full
    passes, which otherwise pause the loop for 100 ms and more under load.

    Also hand the interpreter lock between threads every `THREAD_SWITCH` seconds instead of
    Python's 5 ms: the database's thread, done with a statement, would otherwise wait that
    long for the busy loop to let it hand back the result."""
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(THREAD_SWITCH)


def worker_environment(settings: Settings) -> dict[str, str]:
    """The job worker's environment: this process's, with every setting exactly as this bot
    has it (however its settings were built)."""
    names = setting_names()
    environment = {key: value for key, value in os.environ.items() if key.upper() not in names}
    environment.update(settings_environment(settings))
    return environment


def create_bot(settings: Settings, **client_options: Any) -> SoundverseBot:
    """Build the bot the same way everywhere: production, tests and the sandbox."""
    discord_settings = settings.discord
    if discord_settings.api_base is not None and discord_settings.gateway_url is not None:
        point_discord_at(str(discord_settings.api_base), discord_settings.gateway_url)
    return SoundverseBot(settings, **client_options)
