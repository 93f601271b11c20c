"""`LocalDiscord`: the local Discord server plus the test-side API that plays the members.

Waiting methods take a `timeout` (the harness API promised to tests), hence the ASYNC109 waivers.
"""

from __future__ import annotations

import asyncio
import datetime
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import web

from sandbox.discord.clock import Clock
from sandbox.discord.gateway import Gateway
from sandbox.discord.openapi import OpenAPIValidator, Violation
from sandbox.discord.rules import Rules
from sandbox.discord.server import API, RestApi, attachment_url
from sandbox.discord.state import (
    FORUM_CHANNEL,
    JSON,
    MEMBER_OVERWRITE,
    ROLE_OVERWRITE,
    STAGE_CHANNEL,
    TEXT_CHANNEL,
    VOICE_CHANNEL,
    Attachment,
    Channel,
    Command,
    Guild,
    Interaction,
    Member,
    Message,
    Overwrite,
    RequestRecord,
    Role,
    ScheduledEvent,
    User,
    VoiceStateRecord,
    World,
    new_token,
    role_rank,
)
from sandbox.discord.voice import DISCONNECTED, FRAME_SECONDS, VoiceServer, opus_tone
from sandbox.holds import Hold, HoldPoint

T = TypeVar("T")
OPTION_TYPES: dict[type, int] = {str: 3, bool: 5, int: 4, float: 10}


class InteractionHandle:
    """An interaction a member started, and the bot's answer to it as the local Discord saw it."""

    def __init__(self, discord: LocalDiscord, record: Interaction) -> None:
        self._discord = discord
        self.record = record

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def token(self) -> str:
        return self.record.token

    @property
    def response_type(self) -> int | None:
        return self.record.response_type

    @property
    def response_data(self) -> JSON | None:
        return self.record.response_data

    @property
    def acknowledged(self) -> bool:
        return self.record.acknowledged

    @property
    def followups(self) -> list[Message]:
        return self.record.followups

    @property
    def modal(self) -> JSON | None:
        return self.record.modal

    async def wait_for_ack(self, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        """Waits until the bot answered the callback; returns the callback type."""
        await self._discord.wait_until(lambda: self.record.response_type, timeout)
        assert self.record.response_type is not None
        return self.record.response_type

    async def original(self, timeout: float = 5.0) -> Message | None:  # noqa: ASYNC109
        """The original response message once the bot acknowledged (None for types 8 and 9)."""
        await self.wait_for_ack(timeout)
        return self.record.original

    async def wait_for_followup(self, count: int = 1, timeout: float = 5.0) -> Message:  # noqa: ASYNC109
        await self._discord.wait_until(lambda: len(self.record.followups) >= count, timeout)
        return self.record.followups[count - 1]


class LocalDiscord:
    """A local Discord for one bot: REST under `/api/v10`, the gateway at `/gateway`."""

    def __init__(
        self,
        clock: Clock | None = None,
        bot_token: str = "test-token",
        *,
        validate_openapi: bool = True,
        rules: Rules | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.bot_token = bot_token
        self.rules = rules or Rules()
        self.world = World()
        self.guild: Guild = self.world.add_guild("Sandbox")
        self.requests: list[RequestRecord] = []
        self.voice_states: list[VoiceStateRecord] = []
        self.openapi_violations: list[Violation] = []
        self._validator = OpenAPIValidator() if validate_openapi else None
        self._changed: asyncio.Condition | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._left_guilds: dict[str, Guild] = {}
        self.gateway = Gateway(
            self.world,
            bot_token,
            self._record,
            self._on_voice_state,
            rules=self.rules,
            clock=self.clock,
        )
        self.rest = RestApi(
            self.world, self.rules, self.clock, self.gateway, bot_token, self._record
        )
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.voice = VoiceServer(on_change=self._notify)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
    ) -> None:
        """Serve the gateway and REST API on `host`:`port`, or on `sock`, a listening socket
        the caller made (a benchmark's, say, to read when each request arrived)."""
        app = web.Application(client_max_size=8 * self.rules.max_request_bytes)
        app.router.add_get("/gateway", self.gateway.handle)
        self.rest.routes(app)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site: web.BaseSite
        if sock is not None:
            host = sock.getsockname()[0]
            site = web.SockSite(self._runner, sock)
        else:
            site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        listening: socket.socket = server.sockets[0]
        self.port = listening.getsockname()[1]
        base = f"http://{host}:{self.port}"
        self.rest.base_url = base
        self.gateway.url = f"ws://{host}:{self.port}/gateway"
        await self.voice.start()

    async def stop(self) -> None:
        await self.voice.stop()
        self.rest.holds.release_all()
        await self.gateway.close_connection(1001)
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base(self) -> str:
        return f"{self.rest.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.gateway.url

    @property
    def application_id(self) -> str:
        return self.world.application_id

    @property
    def bot_user(self) -> User:
        return self.world.bot

    # -- the world ----------------------------------------------------------------------------

    def channel(self, name: str, guild: Guild | None = None) -> Channel:
        """A channel of `guild` (the default guild) by name, or else a thread (a `Thread`) by
        name, or else either by id."""
        place = guild or self.guild
        for channel in [*place.channels, *place.threads]:
            if channel.name == name:
                return channel
        found = place.channel_by_id(name)
        if found is None:
            raise KeyError(f"no channel or thread named {name!r}")
        return found

    def messages_in(self, channel: str | Channel) -> list[Message]:
        """The messages in a channel or thread (its name or id, as `channel` finds it, or the
        object), oldest first, without deleted ones; ephemeral answers are there too
        (`.ephemeral`)."""
        place = self._channel(channel)
        return [m for m in self.messages if m.channel_id == place.id and not m.deleted]

    def user(self, name: str) -> User:
        return self.world.user_named(name)

    def role(self, name: str, guild: Guild | None = None) -> Role:
        return next(r for r in (guild or self.guild).roles if r.name == name)

    async def add_role(
        self,
        name: str,
        *,
        position: int = 1,
        permissions: int = 0,
        guild: Guild | None = None,
    ) -> Role:
        """An admin makes a role at `position` (1, just above @everyone, as Discord makes new
        roles; roles at or above it move up one); the bot gets GUILD_ROLE_CREATE, and
        GUILD_ROLE_UPDATE for each role moved."""
        if position < 1:
            raise ValueError("only @everyone is at position 0")
        guild = guild or self.guild
        moved = [r for r in guild.roles if r.id != guild.id and r.position >= position]
        for shifted in moved:
            shifted.position += 1
        role = Role(self.world.ids.next(), name, permissions, position)
        guild.roles.append(role)
        if self.gateway.session is not None:
            await self.gateway.dispatch(
                "GUILD_ROLE_CREATE", {"guild_id": guild.id, "role": role.to_dict()}
            )
            for shifted in moved:
                await self.gateway.dispatch(
                    "GUILD_ROLE_UPDATE", {"guild_id": guild.id, "role": shifted.to_dict()}
                )
        self._notify()
        return role

    async def give_role(
        self, user: str | User, role: str | Role, *, guild: Guild | None = None
    ) -> None:
        """An admin gives a member (`bot` for the bot itself) a role; GUILD_MEMBER_UPDATE goes
        out as Discord sends it (about others only with the Guild Members intent)."""
        guild = guild or self.guild
        member, role_id = self._member_and_role(user, role, guild)
        if role_id not in member.roles:
            member.roles.append(role_id)
            await self.rest.member_updated(guild, member)
        self._notify()

    async def take_role(
        self, user: str | User, role: str | Role, *, guild: Guild | None = None
    ) -> None:
        """An admin takes a role from a member (`bot` for the bot itself)."""
        guild = guild or self.guild
        member, role_id = self._member_and_role(user, role, guild)
        if role_id in member.roles:
            member.roles.remove(role_id)
            await self.rest.member_updated(guild, member)
        self._notify()

    def roles_of(self, user: str | User, guild: Guild | None = None) -> list[str]:
        """The names of a member's roles (`bot` for the bot), lowest first, without @everyone."""
        guild = guild or self.guild
        member = self._member(user, guild)
        held = [r for r in guild.roles if r.id in member.roles]
        return [r.name for r in sorted(held, key=role_rank)]

    def set_joined_at(
        self, user: str | User, instant: datetime.datetime, guild: Guild | None = None
    ) -> None:
        """The member joined `guild` at `instant` (an aware datetime): what GET member, the
        member object of interactions and GUILD_CREATE say from now on. No event is sent."""
        if instant.tzinfo is None:
            raise ValueError("give an aware datetime, e.g. datetime.now(UTC)")
        member = self._member(user, guild or self.guild)
        member.joined_at = instant.astimezone(datetime.UTC).isoformat()

    def scheduled_events(self, guild: Guild | None = None) -> list[ScheduledEvent]:
        """The guild's scheduled events, in the order they were made."""
        return list((guild or self.guild).scheduled_events)

    def _member(self, user: str | User, guild: Guild) -> Member:
        who = self.world.bot if user == "bot" else self._user(user)
        member = guild.member(who.id)
        if member is None:
            raise LookupError(f"{who.username} is not a member of {guild.name}")
        return member

    def _member_and_role(
        self, user: str | User, role: str | Role, guild: Guild
    ) -> tuple[Member, str]:
        member = self._member(user, guild)
        found = role if isinstance(role, Role) else self.role(role, guild)
        if found.id == guild.id:
            raise ValueError("every member has @everyone")
        return member, found.id

    def add_guild(
        self, name: str, premium_tier: int = 0, *, shard: tuple[int, int] | None = None
    ) -> Guild:
        """The bot is added to a new guild; `shard` = (shard id, shard count) gives it an id
        whose events go to that shard. Once the bot is on the gateway, the session of the
        guild's shard gets GUILD_CREATE."""
        guild = self.world.add_guild(name, premium_tier, shard=shard)
        if self.gateway.session is not None:
            # A guild joined after READY comes without `unavailable`, which discord.py reads as
            # a join (on_guild_join) rather than an outage ending (on_guild_available).
            joined = guild.gateway_create(self.world.bot.id)
            joined.pop("unavailable")
            self._spawn(self.gateway.dispatch("GUILD_CREATE", joined))
        return guild

    def remove_guild(self, guild: Guild) -> None:
        """The bot is removed from `guild` (kicked, or the guild deleted): GUILD_DELETE without
        `unavailable`, which discord.py reads as leaving (on_guild_remove)."""
        self.world.guilds.pop(guild.id, None)
        self._left_guilds[guild.id] = guild
        if self.gateway.session is not None:
            self._spawn(self.gateway.dispatch("GUILD_DELETE", {"id": guild.id}))

    def return_guild(self, guild: Guild) -> None:
        """The bot is added back to a guild it was removed from, with its channels and data."""
        self._left_guilds.pop(guild.id, None)
        self.world.guilds[guild.id] = guild
        if self.gateway.session is not None:
            joined = guild.gateway_create(self.world.bot.id)
            joined.pop("unavailable")
            self._spawn(self.gateway.dispatch("GUILD_CREATE", joined))

    def set_premium_tier(self, guild_id: str, tier: int) -> None:
        guild = self.world.guilds[guild_id]
        guild.premium_tier = tier
        if self.gateway.session is not None:
            self._spawn(self.gateway.dispatch("GUILD_UPDATE", guild.summary()))

    async def add_channel(
        self,
        name: str,
        *,
        voice: bool = False,
        stage: bool = False,
        forum: bool = False,
        guild: Guild | None = None,
        user_limit: int = 0,
    ) -> Channel:
        """An admin makes a text channel, a voice channel (`voice`, with `user_limit` places,
        0 for no limit), a stage channel (`stage`) or a forum channel (`forum`), at the end of
        `guild`'s list; the bot gets CHANNEL_CREATE."""
        if user_limit and not (voice or stage):
            raise ValueError("only a voice or stage channel has a user limit")
        if voice + stage + forum > 1:
            raise ValueError("a channel is one of voice, stage or forum")
        guild = guild or self.guild
        kind = (
            STAGE_CHANNEL
            if stage
            else VOICE_CHANNEL
            if voice
            else FORUM_CHANNEL
            if forum
            else TEXT_CHANNEL
        )
        channel = Channel(self.world.ids.next(), guild.id, name, kind, len(guild.channels))
        channel.user_limit = user_limit
        guild.channels.append(channel)
        if self.gateway.session is not None:
            await self.gateway.dispatch("CHANNEL_CREATE", channel.to_dict())
        self._notify()
        return channel

    def upload(
        self,
        filename: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        duration_secs: float | None = None,
        waveform: str | None = None,
    ) -> Attachment:
        """A file a member uploads, for a message or a slash-command attachment option; a
        voice message's recording carries its `duration_secs` and base64 `waveform`."""
        attachment_id = self.world.ids.next()
        url = attachment_url(self.rest.base_url, "uploads", attachment_id, filename)
        attachment = Attachment(attachment_id, filename, content_type, data, url)
        attachment.duration_secs, attachment.waveform = duration_secs, waveform
        self.world.attachments[attachment_id] = attachment
        return attachment

    @property
    def messages(self) -> list[Message]:
        return list(self.world.messages.values())

    @property
    def commands(self) -> list[Command]:
        return list(self.world.commands.values())

    def interaction(self, interaction_id: str) -> InteractionHandle:
        return InteractionHandle(self, self.world.interactions[interaction_id])

    def hold(
        self,
        method: str,
        path_prefix: str,
        point: HoldPoint = HoldPoint.BEFORE,
        skip: int = 0,
    ) -> Hold:
        """Keeps the REST requests of `method` under `path_prefix` (after `/api/v10`) waiting at
        `point` until the returned hold is released."""
        return self.rest.holds.add(method, API + path_prefix, point, skip)

    async def set_permissions(
        self,
        channel: str | Channel,
        target: str,
        *,
        allow: int = 0,
        deny: int = 0,
        guild: Guild | None = None,
    ) -> None:
        """Overwrite `target`'s permissions in `channel` (`@everyone`, a role's name or a user's
        name, `bot` for the bot itself) and tell the gateway, as a server admin would."""
        guild = guild or self.guild
        place = channel if isinstance(channel, Channel) else self.channel(channel, guild)
        if target == "@everyone":
            target_id, kind = guild.id, ROLE_OVERWRITE
        elif any(role.name == target for role in guild.roles):
            target_id, kind = self.role(target, guild).id, ROLE_OVERWRITE
        else:
            user = self.world.bot if target == "bot" else self.user(target)
            target_id, kind = user.id, MEMBER_OVERWRITE
        place.overwrites = [o for o in place.overwrites if o.id != target_id]
        place.overwrites.append(Overwrite(target_id, kind, allow, deny))
        await self.gateway.dispatch("CHANNEL_UPDATE", place.to_dict())

    def close_dms(self, user: str) -> None:
        """`user` accepts no direct messages from the bot from now on."""
        self.world.closed_dms.add(self.user(user).id)

    def dms_of(self, user: str) -> list[Message]:
        """The messages the bot sent `user` directly, oldest first."""
        channel = self.world.dm_with(self.user(user))
        return [m for m in self.messages if m.channel_id == channel.id and not m.deleted]

    def rate_limit_next(
        self, n: int, method: str | None = None, path_prefix: str | None = None
    ) -> None:
        """Answers the next `n` matching requests with 429 (`path_prefix` is after `/api/v10`)."""
        self.rest.limiter.force(n, method, path_prefix)

    # -- members' actions ---------------------------------------------------------------------

    async def post_message(
        self,
        channel: str | Channel = "general",
        user: str | User = "alice",
        content: str = "",
        attachments: Sequence[Attachment] = (),
        *,
        flags: int = 0,
    ) -> Message:
        """A member posts a message (`flags`: e.g. IS_VOICE_MESSAGE for a voice message)."""
        place = self._channel(channel)
        author = self._user(user)
        message = Message(self.world.ids.next(), place.id, place.guild_id, author, content=content)
        message.flags = flags
        message.attachments = [self._bind(a, place) for a in attachments]
        self.world.resolve_mentions(message, content, None)
        await self.rest.store_message(message)
        self._notify()
        return message

    async def slash(
        self,
        name: str | Sequence[str],
        user: str | User = "alice",
        channel: str | Channel = "general",
        **options: Any,
    ) -> InteractionHandle:
        """A member runs a slash command; `name` may be "group sub" or ["group", "sub"]."""
        path = name.split() if isinstance(name, str) else list(name)
        place = self._channel(channel)
        command = self._registered(path[0], 1, place.guild_id)
        declared = _declared_options(command, path[1:])
        resolved: JSON = {}
        values = [
            self._option(key, value, declared.get(key), resolved, place)
            for key, value in options.items()
        ]
        data = self._command_data(path[0], 1, command)
        data["options"] = _nest(path[1:], values)
        if resolved:
            data["resolved"] = resolved
        return await self._dispatch_interaction(2, data, self._user(user), place)

    async def autocomplete(
        self,
        name: str | Sequence[str],
        focused: str,
        value: str,
        user: str | User = "alice",
        channel: str | Channel = "general",
        timeout: float = 5.0,  # noqa: ASYNC109
        **options: Any,
    ) -> list[JSON]:
        """A member types into an autocomplete option; returns the choices the bot offered."""
        path = name.split() if isinstance(name, str) else list(name)
        place = self._channel(channel)
        command = self._registered(path[0], 1, place.guild_id)
        declared = _declared_options(command, path[1:])
        resolved: JSON = {}
        values = [
            self._option(key, val, declared.get(key), resolved, place)
            for key, val in options.items()
        ]
        typed = {
            "name": focused,
            "type": declared.get(focused, {}).get("type", 3),
            "value": value,
            "focused": True,
        }
        data = self._command_data(path[0], 1, command)
        data["options"] = _nest(path[1:], [*values, typed])
        handle = await self._dispatch_interaction(4, data, self._user(user), place)
        await handle.wait_for_ack(timeout)
        return handle.record.choices or []

    async def context_menu(
        self, name: str, message: Message, user: str | User = "alice"
    ) -> InteractionHandle:
        """A member picks a message command (type 3) on `message`."""
        place = self._channel(self.world.channel(message.channel_id) or "general")
        command = self._registered(name, 3, place.guild_id)
        data = self._command_data(name, 3, command)
        data.update(target_id=message.id, resolved={"messages": {message.id: message.to_dict()}})
        return await self._dispatch_interaction(2, data, self._user(user), place)

    async def click(
        self, message: Message, label_or_custom_id: str, user: str | User = "alice"
    ) -> InteractionHandle:
        component = self._component(message, label_or_custom_id, ("label", "custom_id"))
        if component.get("disabled"):
            raise ValueError(f"{label_or_custom_id!r} is disabled")
        data = {"custom_id": component["custom_id"], "component_type": component["type"]}
        return await self._component_interaction(message, data, user)

    async def select(
        self,
        message: Message,
        custom_id_or_placeholder: str,
        values: Sequence[str],
        user: str | User = "alice",
    ) -> InteractionHandle:
        component = self._component(message, custom_id_or_placeholder, ("custom_id", "placeholder"))
        data = {
            "custom_id": component["custom_id"],
            "component_type": component["type"],
            "values": list(values),
        }
        return await self._component_interaction(message, data, user)

    async def submit_modal(
        self,
        shown: InteractionHandle,
        values: Mapping[str, str | Sequence[str]],
        user: str | User | None = None,
    ) -> InteractionHandle:
        """A member fills in the modal the bot answered `shown` with, and submits it.

        `values` maps a text input's custom_id to its text, a select's to the chosen values.
        """
        modal = shown.modal
        if modal is None:
            raise ValueError("that interaction was not answered with a modal")
        components = [_submitted(component, values) for component in modal.get("components") or []]
        data = {"custom_id": modal["custom_id"], "components": components}
        place = self._channel(self.world.channel(shown.record.channel_id) or "general")
        source = shown.record.source_message
        return await self._dispatch_interaction(
            5, data, self._user(user or shown.record.user), place, message=source
        )

    # -- gateway faults -----------------------------------------------------------------------

    async def reconnect(self, shard: int | None = None) -> None:
        """Sends op 7 RECONNECT (to every session, or those of shard `shard`); discord.py
        reconnects and RESUMEs."""
        await self.gateway.send_op(7, None, shard)

    async def invalidate_session(self, shard: int | None = None) -> None:
        """Sends op 9 INVALID_SESSION (not resumable); discord.py identifies again."""
        await self.gateway.send_op(9, False, shard)

    async def wait_until_ready(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self.gateway.ready.wait(), timeout)

    # -- waiting ------------------------------------------------------------------------------

    async def wait_until(self, probe: Callable[[], T | None], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Waits, without polling, until `probe()` returns something truthy, and returns it."""
        condition = self._condition()
        async with condition:
            result = await asyncio.wait_for(condition.wait_for(probe), timeout)
        assert result is not None
        return result

    async def wait_for_message(
        self,
        predicate: Callable[[Message], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        return await self.wait_until(
            lambda: next((m for m in self.messages if not m.deleted and predicate(m)), None),
            timeout,
        )

    async def wait_for_edit(
        self,
        predicate: Callable[[Message], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """The first message that was edited at least once and now matches `predicate`."""
        return await self.wait_until(
            lambda: next((m for m in self.messages if m.edits and predicate(m)), None), timeout
        )

    async def wait_for_request(
        self,
        predicate: Callable[[RequestRecord], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RequestRecord:
        return await self.wait_until(
            lambda: next((r for r in self.requests if predicate(r)), None), timeout
        )

    # -- internals ----------------------------------------------------------------------------

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    def _notify(self) -> None:
        condition = self._condition()

        async def wake() -> None:
            async with condition:
                condition.notify_all()

        self._spawn(wake())

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _record(self, record: RequestRecord) -> None:
        self.requests.append(record)
        if self._validator is not None and record.path.startswith("/api/"):
            self.openapi_violations.extend(self._validator.validate(record))
        self._notify()

    async def _on_voice_state(self, data: JSON) -> None:
        guild_id = str(data["guild_id"])
        channel_id = None if data.get("channel_id") is None else str(data["channel_id"])
        self.voice_states.append(
            VoiceStateRecord(
                guild_id,
                channel_id,
                bool(data.get("self_mute")),
                bool(data.get("self_deaf")),
                self.clock.now(),
                data,
            )
        )
        session = self.gateway.session_for(guild_id)
        guild = self.world.guilds[guild_id]
        bot_id = self.world.bot.id
        previous = guild.voice_channels.get(bot_id)
        if channel_id is None:
            guild.voice_channels.pop(bot_id, None)
        else:
            guild.voice_channels[bot_id] = channel_id
        state = guild.voice_state(
            bot_id, session_id=session.id if session else "", self_mute=bool(data.get("self_mute"))
        )
        state["self_deaf"] = bool(data.get("self_deaf"))
        await self.gateway.dispatch("VOICE_STATE_UPDATE", state)
        if channel_id is not None:
            token = secrets.token_hex(16)
            joined = self.voice.expect(
                token=token,
                guild_id=guild_id,
                channel_id=channel_id,
                user_id=bot_id,
                session_id=str(state["session_id"]),
            )
            await self.gateway.dispatch(
                "VOICE_SERVER_UPDATE",
                {"token": token, "guild_id": guild_id, "endpoint": self.voice.endpoint},
            )
            if previous is not None and previous != channel_id:
                # Moved: as on Discord, the old channel's voice connection is closed with 4014,
                # and discord.py connects again with the new token.
                self.voice.end(
                    guild_id=guild_id, user_id=bot_id, keep=joined, close_code=DISCONNECTED
                )
        self._notify()

    async def move_to_voice(self, user: str | User, channel: str | Channel | None) -> None:
        """A member joins (or, with None, leaves) a voice channel; the bot sees the
        VOICE_STATE_UPDATE."""
        member = self._user(user)
        guild = self.guild
        if channel is None:
            guild.voice_channels.pop(member.id, None)
        else:
            place = self._channel(channel)
            if not place.is_voice:
                raise ValueError(f"#{place.name} is not a voice channel")
            guild.voice_channels[member.id] = place.id
        state = guild.voice_state(member.id, session_id=secrets.token_hex(16))
        await self.gateway.dispatch("VOICE_STATE_UPDATE", state)
        self._notify()

    async def speak(
        self,
        user: str | User,
        seconds: float = 0.2,
        *,
        opus: Sequence[bytes] | None = None,
        realtime: bool = False,
    ) -> int:
        """A member in a voice channel speaks: the bot, if connected there, gets SPEAKING and
        the member's Opus packets, as Discord relays them. What is said is `opus` (20 ms
        frames: `opus_frames(wav_bytes)` makes them from a sound file), else a tone of
        `seconds`. The packets go all at once, or 20 ms apart with `realtime` (this then
        returns once the last one is sent). Returns how many voice connections heard it."""
        member = self._user(user)
        channel_id = self.guild.voice_channels.get(member.id)
        if channel_id is None:
            raise ValueError(f"{member.username} is not in a voice channel")
        frames = opus_tone(seconds) if opus is None else opus
        heard_by = await self.voice.relay(
            channel_id=channel_id,
            user_id=member.id,
            opus=frames,
            pace=FRAME_SECONDS if realtime else 0.0,
        )
        self._notify()
        return heard_by

    def in_voice(self, channel: str | Channel) -> list[User]:
        """Who is in voice channel `channel` now, the bot included."""
        place = self._channel(channel)
        ids = [user for user, where in self.guild.voice_channels.items() if where == place.id]
        return [m.user for m in self.guild.members if m.user.id in ids]

    def _channel(self, channel: str | Channel) -> Channel:
        return channel if isinstance(channel, Channel) else self.channel(channel)

    def _user(self, user: str | User) -> User:
        return user if isinstance(user, User) else self.user(user)

    def _bind(self, attachment: Attachment, channel: Channel) -> Attachment:
        attachment.url = attachment_url(
            self.rest.base_url, channel.id, attachment.id, attachment.filename
        )
        return attachment

    def _registered(self, name: str, kind: int, guild_id: str) -> Command | None:
        candidates = [c for c in self.world.commands.values() if c.name == name and c.type == kind]
        guild_scoped = [c for c in candidates if c.guild_id == guild_id]
        global_scoped = [c for c in candidates if c.guild_id is None]
        return next(iter(guild_scoped or global_scoped), None)

    def _command_data(self, name: str, kind: int, command: Command | None) -> JSON:
        data: JSON = {
            "id": command.id if command else self.world.ids.next(),
            "name": name,
            "type": kind,
        }
        if command is not None and command.guild_id is not None:
            data["guild_id"] = command.guild_id
        return data

    def _option(
        self, name: str, value: Any, declared: JSON | None, resolved: JSON, place: Channel
    ) -> JSON:
        """One option as Discord sends it; mentionable and attachment values go into `resolved`."""
        if isinstance(value, Attachment):
            resolved.setdefault("attachments", {})[value.id] = self._bind(value, place).to_dict()
            return {"name": name, "type": 11, "value": value.id}
        if isinstance(value, User):
            resolved.setdefault("users", {})[value.id] = value.to_dict()
            member = self.world.guilds[place.guild_id].member(value.id)
            if member is not None:
                member_data = member.to_dict()
                member_data.pop("user")
                member_data["permissions"] = str(
                    self.world.guilds[place.guild_id].permissions_of(member)
                )
                resolved.setdefault("members", {})[value.id] = member_data
            return {"name": name, "type": 6, "value": value.id}
        if isinstance(value, Channel):
            channel_data = {
                "id": value.id,
                "name": value.name,
                "type": value.type,
                "permissions": "0",
            }
            resolved.setdefault("channels", {})[value.id] = channel_data
            return {"name": name, "type": 7, "value": value.id}
        if isinstance(value, Role):
            resolved.setdefault("roles", {})[value.id] = value.to_dict()
            return {"name": name, "type": 8, "value": value.id}
        kind = declared.get("type") if declared else OPTION_TYPES.get(type(value), 3)
        if kind == 3:
            value = str(value)  # Discord sends what was typed into a string option as text
        elif kind == 10:
            value = float(value)
        return {"name": name, "type": kind, "value": value}

    def _component(self, message: Message, wanted: str, keys: Sequence[str]) -> JSON:
        current = self.world.message(message.id) or message
        for component in current.all_components():
            if component.get("custom_id") and any(component.get(k) == wanted for k in keys):
                return component
        raise LookupError(f"message {message.id} has no component {wanted!r}")

    async def _component_interaction(
        self, message: Message, data: JSON, user: str | User
    ) -> InteractionHandle:
        place = self._channel(self.world.channel(message.channel_id) or "general")
        current = self.world.message(message.id) or message
        return await self._dispatch_interaction(3, data, self._user(user), place, message=current)

    async def _dispatch_interaction(
        self, kind: int, data: JSON, user: User, place: Channel, message: Message | None = None
    ) -> InteractionHandle:
        if self.gateway.session is None:
            raise RuntimeError("the bot has not connected to the gateway")
        guild = self.world.guild_of(place)
        member = guild.member(user.id)
        if member is None:
            raise LookupError(f"{user.username} is not a member of {guild.name}")
        interaction = Interaction(
            id=self.world.ids.next(),
            token=new_token(),
            type=kind,
            payload={},
            created_at=self.clock.now(),
            channel_id=place.id,
            guild_id=guild.id,
            user=user,
            source_message=message,
        )
        interaction.payload = self._interaction_payload(interaction, data, guild, place, message)
        self.world.add_interaction(interaction)
        await self.gateway.dispatch("INTERACTION_CREATE", interaction.payload)
        return InteractionHandle(self, interaction)

    def _interaction_payload(
        self,
        interaction: Interaction,
        data: JSON,
        guild: Guild,
        place: Channel,
        message: Message | None,
    ) -> JSON:
        member = guild.member(interaction.user.id)
        bot_member = guild.member(self.world.bot.id)
        assert member is not None and bot_member is not None
        member_data = member.to_dict()
        member_data["permissions"] = str(guild.permissions_in(member, place))
        channel = place.to_dict()
        channel["permissions"] = member_data["permissions"]
        payload: JSON = {
            "id": interaction.id,
            "application_id": self.world.application_id,
            "type": interaction.type,
            "token": interaction.token,
            "version": 1,
            "guild_id": guild.id,
            "channel_id": place.id,
            "channel": channel,
            "guild": {"id": guild.id, "features": [], "locale": "en-US"},
            "member": member_data,
            "data": data,
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": str(guild.permissions_in(bot_member, place)),
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild.id},
            "context": 0,
            "attachment_size_limit": self.rules.attachment_limit(guild.premium_tier),
        }
        if message is not None:
            payload["message"] = message.to_dict()
        return payload


def _declared_options(command: Command | None, sub_path: Sequence[str]) -> dict[str, JSON]:
    options: list[JSON] = list(command.payload.get("options") or []) if command else []
    for name in sub_path:
        nested = next(
            (o for o in options if o.get("name") == name and o.get("type") in (1, 2)), None
        )
        options = list(nested.get("options") or []) if nested else []
    return {str(o["name"]): o for o in options}


def _nest(sub_path: Sequence[str], values: list[JSON]) -> list[JSON]:
    """Wraps leaf options in their sub-command (type 1) and group (type 2) options."""
    options = values
    for depth in range(len(sub_path), 0, -1):
        kind = 1 if depth == len(sub_path) else 2
        options = [{"name": sub_path[depth - 1], "type": kind, "options": options}]
    return options


def _submitted(component: JSON, values: Mapping[str, str | Sequence[str]]) -> JSON:
    """What a modal submit carries for one top-level modal component."""
    if component.get("type") == 1:
        return {
            "type": 1,
            "components": [_submitted(c, values) for c in component.get("components") or []],
        }
    if component.get("type") == 18:
        inner = component["component"]
        return {"type": 18, "id": component.get("id", 0), "component": _submitted(inner, values)}
    custom_id = component.get("custom_id")
    if component.get("type") == 4:
        return {"type": 4, "custom_id": custom_id, "value": str(values.get(str(custom_id), ""))}
    if custom_id is not None and component.get("type") in (3, 5, 6, 7, 8):
        chosen = values.get(str(custom_id), [])
        picked = [chosen] if isinstance(chosen, str) else list(chosen)
        return {"type": component["type"], "custom_id": custom_id, "values": picked}
    return {"type": component.get("type"), "id": component.get("id", 0)}
