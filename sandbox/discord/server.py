"""REST API v10 of the local Discord: routes, Discord's error replies, rate limits, recording.

Every `/api/v10` request is parsed (JSON or multipart `payload_json` + `files[n]`), checked
against the rules, answered with `Content-Type: application/json` exactly (discord.py parses
nothing else as JSON) and recorded with its answer.

Voice messages (flag IS_VOICE_MESSAGE) follow Discord's rules: no other content (50159), one
`audio/*` attachment (50160) whose entry carries `duration_secs` and a base64 `waveform` of at
most 256 points (50161), never edited (50162), and in a guild channel only with the Send Voice
Messages permission (50173). The first follow-up after a deferral would become the deferred
response by an edit, so a voice message sent that way is refused as an edit (50162).

Threads follow Discord's thread rules: a forum post is a public thread whose starter message
has its id (Send Messages is what it takes), a thread from a message has the message's id, a
thread without a message is private unless `type` says otherwise, and in a thread Send Messages
in Threads stands in for Send Messages. Role grants take Manage Roles and a role below the bot's
highest. Gateway events go out only under the intents that carry them.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import logging
import mimetypes
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, hdrs, web
from aiohttp.multipart import content_disposition_filename, parse_content_disposition

from sandbox.discord.clock import Clock
from sandbox.discord.gateway import Gateway
from sandbox.discord.rules import (
    EPHEMERAL,
    EVENT_SCHEDULED,
    EVENT_TRANSITIONS,
    EXTERNAL_EVENT,
    GUILD_ONLY,
    HAS_THREAD,
    IS_COMPONENTS_V2,
    IS_VOICE_MESSAGE,
    LOADING,
    MAX_OPEN_EVENTS,
    STAGE_EVENT,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    VOICE_EVENT,
    VOICE_NOT_EDITABLE,
    VOICE_NOT_HERE,
    FormErrors,
    RateLimiter,
    Rules,
    check_autocomplete,
    check_commands,
    check_message,
    check_modal,
    check_scheduled_event,
    check_thread,
    parse_timestamp,
    voice_message_refusal,
)
from sandbox.discord.state import (
    ADD_REACTIONS,
    ATTACH_FILES,
    CONNECT,
    CREATE_EVENTS,
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    DISCORD_EPOCH_MS,
    FORUM_CHANNEL,
    JSON,
    MANAGE_CHANNELS,
    MANAGE_EVENTS,
    MANAGE_MESSAGES,
    MANAGE_ROLES,
    MOVE_MEMBERS,
    MUTE_MEMBERS,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    SEND_VOICE_MESSAGES,
    STAGE_CHANNEL,
    TEXT_CHANNEL,
    VIEW_CHANNEL,
    VOICE_CHANNEL,
    Attachment,
    Channel,
    Command,
    DMChannel,
    Guild,
    Interaction,
    Member,
    Message,
    RequestRecord,
    ScheduledEvent,
    Thread,
    World,
    iso_now,
    role_rank,
    stored_components,
)
from sandbox.holds import CLIENT_CLOSED_REQUEST, ClientGone, HoldPoint, Holds

log = logging.getLogger(__name__)

API = "/api/v10"
# How long `enforce_nonce` remembers a nonce ("the past few minutes").
NONCE_WINDOW_MS = 5 * 60 * 1000
GUILDS_INTENT = 1 << 0
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_MESSAGES_INTENT = 1 << 9
MESSAGE_CONTENT_INTENT = 1 << 15
GUILD_SCHEDULED_EVENTS_INTENT = 1 << 16
# Callback types each interaction type may answer with (receiving-and-responding docs).
ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
MESSAGE_FLAGS_ON_SEND = (
    EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2 | SUPPRESS_EMBEDS | IS_VOICE_MESSAGE
)
CHANNEL_FLAGS_ON_SEND = (
    SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2 | SUPPRESS_EMBEDS | IS_VOICE_MESSAGE
)
FLAGS_ON_EDIT = IS_COMPONENTS_V2 | SUPPRESS_EMBEDS
# A forum post's starter message may carry only these (start-thread-in-forum docs), and
# IS_COMPONENTS_V2, which a layout needs.
FORUM_POST_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
# What a scheduled event in a stage or voice channel needs there besides Create or Manage Events
# (guild scheduled event docs, "permissions requirements").
EVENT_CHANNEL_NEEDS = {
    STAGE_EVENT: MANAGE_CHANNELS | MUTE_MEMBERS | MOVE_MEMBERS,
    VOICE_EVENT: VIEW_CHANNEL | CONNECT,
}
EVENT_CHANNEL_TYPES = {STAGE_EVENT: STAGE_CHANNEL, VOICE_EVENT: VOICE_CHANNEL}


class ApiError(Exception):
    """A Discord error reply: HTTP status plus the JSON body with `code` and `message`."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSON = {"code": code, "message": message}
        if errors is not None:
            self.body["errors"] = errors

    @classmethod
    def invalid_form(cls, errors: FormErrors) -> ApiError:
        body = errors.body()
        return cls(400, body["code"], body["message"], body["errors"])


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedRequest:
    """A REST request once its body is read: `files` are (field, filename, content type, bytes)."""

    request: web.Request
    record: RequestRecord

    @property
    def json(self) -> Any:
        return self.record.json

    @property
    def payload(self) -> JSON:
        return self.record.json if isinstance(self.record.json, dict) else {}

    @property
    def files(self) -> list[tuple[str, str, str, bytes]]:
        return self.record.files

    def match(self, name: str) -> str:
        return self.request.match_info[name]


Handler = Callable[[ParsedRequest], Awaitable[Reply]]


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, without its parameters.

    `request.content_type` parses the whole header with the `email` package and caches 56
    values; every multipart body has a boundary of its own, so each one missed the cache and
    cost about 0.7 ms, a stall of the server's loop under load.
    """
    return (content_type or "").partition(";")[0].strip().lower()


@functools.lru_cache(maxsize=256)
def disposition_names(header: str | None) -> tuple[str, str]:
    """The field name and file name of a form part's Content-Disposition header."""
    _, params = parse_content_disposition(header)
    return (
        content_disposition_filename(params, "name") or "",
        content_disposition_filename(params, "filename") or "",
    )


def part_names(part: BodyPartReader) -> tuple[str, str]:
    """Its field name and file name, the header parsed once (aiohttp's `name` and `filename`
    each parse it, at about 0.12 ms a time)."""
    return disposition_names(part.headers.get(hdrs.CONTENT_DISPOSITION))


def json_response(status: int, body: Any, headers: dict[str, str]) -> web.Response:
    if status == 204 or body is None:
        return web.Response(status=status, headers=headers)
    headers = {**headers, "Content-Type": "application/json"}
    return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)


class RestApi:
    """The REST routes, sharing the world, the rules and the clock with the test-side API."""

    def __init__(
        self,
        world: World,
        rules: Rules,
        clock: Clock,
        gateway: Gateway,
        bot_token: str,
        on_record: Callable[[RequestRecord], None],
    ) -> None:
        self.world = world
        self.rules = rules
        self.clock = clock
        self.gateway = gateway
        self.bot_token = bot_token
        self.limiter = RateLimiter(rules, clock)
        self.holds = Holds()
        self.base_url = ""
        self._on_record = on_record

    def routes(self, app: web.Application) -> None:
        bot = self._bot_only
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", bot(self.get_me)),
            ("GET", "/oauth2/applications/@me", bot(self.get_application)),
            ("GET", "/applications/@me", bot(self.get_application)),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", bot(self.get_gateway_bot)),
            ("GET", "/applications/{app}/commands", bot(self.get_commands)),
            ("PUT", "/applications/{app}/commands", bot(self.put_commands)),
            ("POST", "/applications/{app}/commands", bot(self.post_command)),
            ("GET", "/applications/{app}/guilds/{guild_id}/commands", bot(self.get_commands)),
            ("PUT", "/applications/{app}/guilds/{guild_id}/commands", bot(self.put_commands)),
            ("POST", "/applications/{app}/guilds/{guild_id}/commands", bot(self.post_command)),
            ("POST", "/users/@me/channels", bot(self.post_dm_channel)),
            ("GET", "/users/{user_id}", bot(self.get_user)),
            ("GET", "/channels/{channel_id}", bot(self.get_channel)),
            ("GET", "/channels/{channel_id}/messages", bot(self.get_channel_messages)),
            ("POST", "/channels/{channel_id}/messages", bot(self.post_channel_message)),
            ("GET", "/channels/{channel_id}/messages/{message_id}", bot(self.get_channel_message)),
            (
                "PATCH",
                "/channels/{channel_id}/messages/{message_id}",
                bot(self.patch_channel_message),
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}",
                bot(self.delete_channel_message),
            ),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                bot(self.put_reaction),
            ),
            ("POST", "/channels/{channel_id}/typing", bot(self.post_typing)),
            ("POST", "/channels/{channel_id}/threads", bot(self.post_thread)),
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
                bot(self.post_message_thread),
            ),
            ("GET", "/guilds/{guild_id}/members/{user_id}", bot(self.get_member)),
            (
                "PUT",
                "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                bot(self.put_member_role),
            ),
            (
                "DELETE",
                "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                bot(self.delete_member_role),
            ),
            ("GET", "/guilds/{guild_id}/scheduled-events", bot(self.get_scheduled_events)),
            ("POST", "/guilds/{guild_id}/scheduled-events", bot(self.post_scheduled_event)),
            (
                "GET",
                "/guilds/{guild_id}/scheduled-events/{event_id}",
                bot(self.get_scheduled_event),
            ),
            (
                "PATCH",
                "/guilds/{guild_id}/scheduled-events/{event_id}",
                bot(self.patch_scheduled_event),
            ),
            (
                "DELETE",
                "/guilds/{guild_id}/scheduled-events/{event_id}",
                bot(self.delete_scheduled_event),
            ),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.post_callback),
            ("POST", "/webhooks/{app}/{token}", self.post_followup),
            ("GET", "/webhooks/{app}/{token}/messages/{message_id}", self.get_webhook_message),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message_id}", self.patch_webhook_message),
            (
                "DELETE",
                "/webhooks/{app}/{token}/messages/{message_id}",
                self.delete_webhook_message,
            ),
        ]
        for method, path, handler in table:
            app.router.add_route(method, API + path, self._wrap(handler))
        app.router.add_route(
            "GET", "/attachments/{channel_id}/{attachment_id}/{filename}", self.get_attachment
        )
        app.router.add_route("*", API + "/{tail:.*}", self._wrap(self.not_found))

    # -- plumbing -----------------------------------------------------------------------------

    def _bot_only(self, handler: Handler) -> Handler:
        async def checked(parsed: ParsedRequest) -> Reply:
            if parsed.request.headers.get("Authorization") != f"Bot {self.bot_token}":
                raise ApiError(401, 0, "401: Unauthorized")
            return await handler(parsed)

        return checked

    def _wrap(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def respond(request: web.Request) -> web.Response:
            headers: dict[str, str] = {}
            record = RequestRecord(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
            )
            try:
                if (request.content_length or 0) > self.rules.max_request_bytes:
                    raise ApiError(413, 40005, "Request entity too large")
                await self._read_body(request, record)
                await self.holds.pass_point(request, HoldPoint.BEFORE)
                limited, headers = self._rate_limit(request)
                reply = limited or await handler(ParsedRequest(request, record))
                await self.holds.pass_point(request, HoldPoint.AFTER)
            except ApiError as error:
                reply = Reply(error.status, error.body)
            except ClientGone:
                return web.Response(status=CLIENT_CLOSED_REQUEST)  # nobody is left to read it
            if not reply.headers:
                reply.headers = dict(headers)
            reply.headers.setdefault("Via", "1.1 google")
            record.status, record.response = reply.status, reply.body
            record.response_headers = dict(reply.headers)
            self._on_record(record)
            return json_response(reply.status, reply.body, reply.headers)

        return respond

    async def _read_body(self, request: web.Request, record: RequestRecord) -> None:
        if media_type(request.headers.get(hdrs.CONTENT_TYPE)) == "multipart/form-data":
            reader = await request.multipart()
            total = 0
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                data = await part.read()
                total += len(data)
                name, filename = part_names(part)
                if name == "payload_json":
                    record.json = json.loads(data)
                else:
                    content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
                    record.files.append((name, filename, content_type, bytes(data)))
            if total > self.rules.max_request_bytes:
                raise ApiError(413, 40005, "Request entity too large")
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    record.json = json.loads(raw)
                except ValueError as error:
                    raise ApiError(400, 50109, "The request body contains invalid JSON.") from error

    def _bucket(self, request: web.Request) -> tuple[str, str] | None:
        """The rate-limit bucket and the top-level resource it is kept per, as Discord keys them."""
        route = request.match_info.route.resource
        template = route.canonical if route is not None else request.path
        info = request.match_info
        if "/interactions/" in template:
            return None
        resource = info.get("channel_id") or info.get("guild_id") or ""
        if "token" in info:
            resource = f"{info['app']}:{info['token']}"
        if request.method == "PATCH" and template.endswith("{message_id}"):
            return "message_edit", resource
        if request.method == "POST" and template.endswith("/channels/{channel_id}/messages"):
            return "message_create", resource
        if request.method == "POST" and template.endswith("/webhooks/{app}/{token}"):
            return "webhook_execute", resource
        return f"{request.method} {template}", resource

    def _rate_limit(self, request: web.Request) -> tuple[Reply | None, dict[str, str]]:
        """A 429 reply if the request's bucket is exhausted, and the bucket's headers."""
        bucket = self._bucket(request)
        if bucket is None:
            return None, {}
        verdict = self.limiter.check(bucket[0], bucket[1], request.method, request.path[len(API) :])
        if verdict.allowed:
            return None, verdict.headers
        body = {
            "message": "You are being rate limited.",
            "retry_after": round(verdict.retry_after, 3),
            "global": False,
            "code": 0,
        }
        return Reply(429, body, dict(verdict.headers)), verdict.headers

    async def not_found(self, parsed: ParsedRequest) -> Reply:
        log.warning(
            "local Discord has no route for %s %s", parsed.record.method, parsed.record.path
        )
        raise ApiError(404, 0, "404: Not Found")

    # -- identity -----------------------------------------------------------------------------

    async def get_me(self, parsed: ParsedRequest) -> Reply:
        me = self.world.bot.to_dict()
        me.update(mfa_enabled=False, locale="en-US", verified=True, email=None, premium_type=0)
        return Reply(body=me)

    async def get_application(self, parsed: ParsedRequest) -> Reply:
        return Reply(body=self.application())

    def application(self) -> JSON:
        owner = self.world.owner.to_dict()
        return {
            "id": self.world.application_id,
            "name": "Soundverse",
            "icon": None,
            "description": "",
            "type": None,
            "bot": self.world.bot.to_dict(),
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "flags_new": "0",
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "owner": owner,
            "approximate_guild_count": len(self.world.guilds),
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "explicit_content_filter": 0,
            "team": None,
            "eligible_oauth2_scopes": ["bot", "applications.commands"],
            "rpc_origins": [],
            "tags": [],
            "integration_types_config": {"0": {}},
        }

    async def get_gateway(self, parsed: ParsedRequest) -> Reply:
        return Reply(body={"url": self.gateway.url})

    async def get_gateway_bot(self, parsed: ParsedRequest) -> Reply:
        return Reply(
            body={
                "url": self.gateway.url,
                "shards": self.gateway.recommended_shards(),
                "session_start_limit": self.gateway.session_start_limit(),
            }
        )

    # -- application commands -----------------------------------------------------------------

    def _commands_of(self, parsed: ParsedRequest) -> tuple[str | None, list[Command]]:
        if parsed.match("app") != self.world.application_id:
            raise ApiError(403, 50001, "Missing Access")
        guild_id = parsed.request.match_info.get("guild_id")
        if guild_id is not None and guild_id not in self.world.guilds:
            raise ApiError(404, 10004, "Unknown Guild")
        commands = [c for c in self.world.commands.values() if c.guild_id == guild_id]
        return guild_id, commands

    async def get_commands(self, parsed: ParsedRequest) -> Reply:
        _, commands = self._commands_of(parsed)
        return Reply(body=[c.to_dict() for c in commands])

    async def put_commands(self, parsed: ParsedRequest) -> Reply:
        guild_id, existing = self._commands_of(parsed)
        payload = parsed.json if isinstance(parsed.json, list) else []
        errors = FormErrors()
        check_commands(payload, errors)
        if errors:
            raise ApiError.invalid_form(errors)
        by_key = {(c.type, c.name): c for c in existing}
        for command in existing:
            del self.world.commands[command.id]
        saved = [self._save_command(guild_id, item, by_key) for item in payload]
        return Reply(body=[c.to_dict() for c in saved])

    async def post_command(self, parsed: ParsedRequest) -> Reply:
        guild_id, existing = self._commands_of(parsed)
        errors = FormErrors()
        check_commands([parsed.payload], errors)
        if errors:
            raise ApiError.invalid_form(errors)
        by_key = {(c.type, c.name): c for c in existing}
        replaced = by_key.get(
            (int(parsed.payload.get("type") or 1), str(parsed.payload.get("name")))
        )
        if replaced is not None:
            del self.world.commands[replaced.id]
        command = self._save_command(guild_id, parsed.payload, by_key)
        return Reply(201 if replaced is None else 200, command.to_dict())

    def _save_command(
        self, guild_id: str | None, payload: JSON, by_key: dict[tuple[int, str], Command]
    ) -> Command:
        previous = by_key.get((int(payload.get("type") or 1), str(payload.get("name"))))
        command_id = previous.id if previous is not None else self.world.ids.next()
        command = Command(
            command_id, self.world.application_id, guild_id, dict(payload), self.world.ids.next()
        )
        self.world.commands[command.id] = command
        return command

    # -- channels and messages ----------------------------------------------------------------

    def _channel(self, parsed: ParsedRequest, *needed: int) -> Channel | DMChannel:
        """The channel of the request, once the bot is allowed what it asks there: View
        Channel (else 403 50001 Missing Access) and each of `needed` (else 403 50013)."""
        channel_id = parsed.match("channel_id")
        channel = self.world.channel(channel_id) or self.world.dm_channels.get(channel_id)
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        if isinstance(channel, Channel):
            allowed = self._bot_permissions(channel)
            if not allowed & VIEW_CHANNEL:
                raise ApiError(403, 50001, "Missing Access")
            if channel.is_thread:
                # Send Messages has no effect in threads; Send Messages in Threads counts there.
                needed = tuple(
                    SEND_MESSAGES_IN_THREADS if p == SEND_MESSAGES else p for p in needed
                )
            if any(not allowed & permission for permission in needed):
                raise ApiError(403, 50013, "Missing Permissions")
        return channel

    def _bot_permissions(self, channel: Channel) -> int:
        guild = self.world.guild_of(channel)
        member = guild.member(self.world.bot.id)
        return 0 if member is None else guild.permissions_in(member, channel)

    def _upload_limit(self, channel: Channel | DMChannel) -> int:
        tier = self.world.guild_of(channel).premium_tier if isinstance(channel, Channel) else 0
        return self.rules.attachment_limit(tier)

    def _channel_message(self, parsed: ParsedRequest, *needed: int) -> Message:
        channel = self._channel(parsed, *needed)
        message = self.world.message(parsed.match("message_id"))
        if message is None or message.channel_id != channel.id or message.ephemeral:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    async def get_channel(self, parsed: ParsedRequest) -> Reply:
        channel = self._channel(parsed)
        if isinstance(channel, Thread):
            return Reply(body=self.thread_body(channel))
        return Reply(body=channel.to_dict())

    async def get_user(self, parsed: ParsedRequest) -> Reply:
        user = self.world.users.get(parsed.match("user_id"))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return Reply(body=user.to_dict())

    async def post_dm_channel(self, parsed: ParsedRequest) -> Reply:
        user = self.world.users.get(str(parsed.payload.get("recipient_id")))
        if user is None:
            raise ApiError(400, 50035, "Invalid Form Body")
        return Reply(body=self.world.dm_with(user).to_dict())

    async def get_channel_messages(self, parsed: ParsedRequest) -> Reply:
        channel = self._channel(parsed)
        if isinstance(channel, Channel) and not self._bot_permissions(channel) & (
            READ_MESSAGE_HISTORY
        ):
            return Reply(body=[])  # what Discord answers without Read Message History
        asked = parsed.record.query.get("limit", "50")
        limit = min(int(asked), 100) if asked.isdigit() else 50
        messages = sorted(
            (
                m
                for m in self.world.messages.values()
                if m.channel_id == channel.id and not m.deleted and not m.ephemeral
            ),
            key=lambda m: int(m.id),
        )
        after, before = _snowflake_query(parsed, "after"), _snowflake_query(parsed, "before")
        if after is not None:
            # The `limit` messages right after `after`, answered newest first like Discord.
            shown = [m for m in messages if int(m.id) > after][:limit]
        else:
            shown = [m for m in messages if before is None or int(m.id) < before][-limit:]
        return Reply(body=[m.to_dict() for m in reversed(shown)])

    async def get_channel_message(self, parsed: ParsedRequest) -> Reply:
        return Reply(body=self._channel_message(parsed, READ_MESSAGE_HISTORY).to_dict())

    async def post_channel_message(self, parsed: ParsedRequest) -> Reply:
        channel = self._channel(parsed, SEND_MESSAGES, *([ATTACH_FILES] if parsed.files else []))
        if isinstance(channel, Channel) and channel.is_forum:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if isinstance(channel, DMChannel) and channel.recipient.id in self.world.closed_dms:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        limit = self._upload_limit(channel)
        payload = parsed.payload
        if not (
            payload.get("content")
            or payload.get("embeds")
            or parsed.files
            or payload.get("components")
            or payload.get("sticker_ids")
            or payload.get("poll")
        ):
            raise ApiError(400, 50006, "Cannot send an empty message")
        voice = int(payload.get("flags") or 0) & IS_VOICE_MESSAGE
        may_speak = not isinstance(channel, Channel) or (
            self._bot_permissions(channel) & SEND_VOICE_MESSAGES
        )
        if voice and not may_speak:
            raise ApiError(403, *VOICE_NOT_HERE)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            earlier = self._recent_with_nonce(channel.id, nonce)
            if earlier is not None:
                return Reply(body=earlier.to_dict())
        message = Message(self.world.ids.next(), channel.id, channel.guild_id, self.world.bot)
        message.nonce = nonce
        message.tts = bool(payload.get("tts"))
        message.message_reference = _stored_reference(payload.get("message_reference"), channel)
        message.flags = int(payload.get("flags") or 0) & CHANNEL_FLAGS_ON_SEND
        self.apply_payload(message, payload, parsed.files, limit)
        await self.store_message(message)
        return Reply(body=message.to_dict())

    def _recent_with_nonce(self, channel_id: str, nonce: object) -> Message | None:
        """The bot's message in the channel with this nonce from the last few minutes (what
        `enforce_nonce` answers instead of creating another)."""
        oldest = (int(time.time() * 1000) - DISCORD_EPOCH_MS - NONCE_WINDOW_MS) << 22
        for message in self.world.messages.values():
            if (
                message.channel_id == channel_id
                and message.author.id == self.world.bot.id
                and message.nonce is not None
                and str(message.nonce) == str(nonce)
                and int(message.id) >= oldest
                and not message.deleted
            ):
                return message
        return None

    async def patch_channel_message(self, parsed: ParsedRequest) -> Reply:
        message = self._channel_message(parsed)
        if message.author.id != self.world.bot.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        limit = self._upload_limit(self._channel(parsed))
        await self.edit_message(message, parsed.payload, parsed.files, limit)
        return Reply(body=message.to_dict())

    async def delete_channel_message(self, parsed: ParsedRequest) -> Reply:
        message = self._channel_message(parsed)
        if message.author.id != self.world.bot.id:
            self._channel(parsed, MANAGE_MESSAGES)
        await self.delete_message(message)
        return Reply(204)

    async def put_reaction(self, parsed: ParsedRequest) -> Reply:
        message = self._channel_message(parsed, READ_MESSAGE_HISTORY, ADD_REACTIONS)
        self.world.reactions.append((message.id, parsed.match("emoji")))
        return Reply(204)

    async def post_typing(self, parsed: ParsedRequest) -> Reply:
        self._channel(parsed, SEND_MESSAGES)
        return Reply(204)

    async def get_member(self, parsed: ParsedRequest) -> Reply:
        guild = self.world.guilds.get(parsed.match("guild_id"))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        member = guild.member(parsed.match("user_id"))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return Reply(body=member.to_dict())

    # -- member roles -------------------------------------------------------------------------

    async def put_member_role(self, parsed: ParsedRequest) -> Reply:
        guild, member, role_id = self._role_change(parsed)
        if role_id not in member.roles:
            member.roles.append(role_id)
            await self.member_updated(guild, member)
        return Reply(204)

    async def delete_member_role(self, parsed: ParsedRequest) -> Reply:
        guild, member, role_id = self._role_change(parsed)
        if role_id in member.roles:
            member.roles.remove(role_id)
            await self.member_updated(guild, member)
        return Reply(204)

    def _role_change(self, parsed: ParsedRequest) -> tuple[Guild, Member, str]:
        """The guild, member and role of a role grant or removal, once the bot may make it:
        it needs Manage Roles, and the role must be below its own highest role."""
        guild = self._guild(parsed)
        member = guild.member(parsed.match("user_id"))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        role = guild.role_by_id(parsed.match("role_id"))
        if role is None or role.id == guild.id:
            raise ApiError(404, 10011, "Unknown Role")
        bot = guild.member(self.world.bot.id)
        if bot is None:
            raise ApiError(403, 50001, "Missing Access")
        if bot.user.id != guild.owner_id and (
            not guild.permissions_of(bot) & MANAGE_ROLES
            or role_rank(role) >= role_rank(guild.top_role(bot))
        ):
            raise ApiError(403, 50013, "Missing Permissions")
        return guild, member, role.id

    async def member_updated(self, guild: Guild, member: Member) -> None:
        """GUILD_MEMBER_UPDATE: sent only with the Guild Members intent, except about the bot."""
        if member.user.id == self.world.bot.id or self.wants(GUILD_MEMBERS_INTENT):
            data = member.to_dict()
            data["guild_id"] = guild.id
            await self.gateway.dispatch("GUILD_MEMBER_UPDATE", data)

    # -- threads ------------------------------------------------------------------------------

    async def post_thread(self, parsed: ParsedRequest) -> Reply:
        """Start Thread without Message in a text channel, or Start Thread in Forum."""
        channel = self._channel(parsed)
        if not isinstance(channel, Channel) or channel.type not in (TEXT_CHANNEL, FORUM_CHANNEL):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        errors = FormErrors()
        check_thread(parsed.payload, errors)
        if channel.is_forum:
            return await self._forum_post(parsed, channel, errors)
        kind = parsed.payload.get("type")
        # Discord's documented default is a private thread.
        kind = PRIVATE_THREAD if kind is None else kind
        if kind not in (PUBLIC_THREAD, PRIVATE_THREAD):
            errors.add(["type"], "BASE_TYPE_CHOICES", "Value must be one of {11, 12}.")
        if errors:
            raise ApiError.invalid_form(errors)
        self._channel(
            parsed, CREATE_PUBLIC_THREADS if kind == PUBLIC_THREAD else CREATE_PRIVATE_THREADS
        )
        thread = self._new_thread(channel, self.world.ids.next(), parsed.payload, int(kind))
        if kind == PRIVATE_THREAD and parsed.payload.get("invitable") is not None:
            thread.invitable = bool(parsed.payload["invitable"])
        await self.open_thread(thread)
        return Reply(201, self.thread_body(thread))

    async def _forum_post(self, parsed: ParsedRequest, forum: Channel, errors: FormErrors) -> Reply:
        """A forum post: a public thread and its starter message, which has the thread's id.
        Only Send Messages is needed (Create Public Threads is ignored)."""
        first = parsed.payload.get("message")
        if not isinstance(first, dict):
            errors.add(["message"], "BASE_TYPE_REQUIRED", "This field is required")
        if errors or not isinstance(first, dict):
            raise ApiError.invalid_form(errors)
        self._channel(parsed, SEND_MESSAGES, *([ATTACH_FILES] if parsed.files else []))
        if not (
            first.get("content")
            or first.get("embeds")
            or parsed.files
            or first.get("components")
            or first.get("sticker_ids")
        ):
            raise ApiError(400, 50006, "Cannot send an empty message")
        thread = self._new_thread(forum, self.world.ids.next(), parsed.payload, PUBLIC_THREAD)
        thread.applied_tags = [str(tag) for tag in parsed.payload.get("applied_tags") or []]
        starter = Message(thread.id, thread.id, forum.guild_id, self.world.bot)
        starter.flags = int(first.get("flags") or 0) & FORUM_POST_FLAGS
        self.apply_payload(starter, first, parsed.files, self._upload_limit(forum))
        await self.open_thread(thread)
        await self.store_message(starter)
        body = self.thread_body(thread)
        body["message"] = starter.to_dict()
        return Reply(201, body)

    async def post_message_thread(self, parsed: ParsedRequest) -> Reply:
        """Start Thread from Message: a public thread whose id is the message's."""
        channel = self._channel(parsed)
        if not isinstance(channel, Channel) or channel.type != TEXT_CHANNEL:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        message = self._channel_message(parsed)
        errors = FormErrors()
        check_thread(parsed.payload, errors)
        if errors:
            raise ApiError.invalid_form(errors)
        self._channel(parsed, CREATE_PUBLIC_THREADS)
        if self.world.channel(message.id) is not None:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        thread = self._new_thread(channel, message.id, parsed.payload, PUBLIC_THREAD)
        await self.open_thread(thread)
        message.flags |= HAS_THREAD
        if self._gateway_wants_messages():
            await self.gateway.dispatch("MESSAGE_UPDATE", self._gateway_message(message))
        return Reply(201, self.thread_body(thread))

    def _new_thread(self, parent: Channel, thread_id: str, payload: JSON, kind: int) -> Thread:
        return Thread(
            thread_id,
            parent.guild_id,
            str(payload["name"]),
            kind,
            0,
            parent_id=parent.id,
            owner_id=self.world.bot.id,
            auto_archive_duration=int(payload.get("auto_archive_duration") or 1440),
            rate_limit_per_user=int(payload.get("rate_limit_per_user") or 0),
        )

    async def open_thread(self, thread: Thread) -> None:
        """Adds a new thread, its creator (`owner_id`) joined: THREAD_CREATE with
        `newly_created` if the bot can see it, then THREAD_MEMBERS_UPDATE if the bot made it."""
        guild = self.world.guilds[thread.guild_id]
        thread.join(thread.owner_id)
        guild.threads.append(thread)
        bot = guild.member(self.world.bot.id)
        if bot is None or not self.wants(GUILDS_INTENT):
            return
        if guild.permissions_in(bot, thread) & VIEW_CHANNEL:
            data = thread.to_dict()
            data["newly_created"] = True
            await self.gateway.dispatch("THREAD_CREATE", data)
        if thread.owner_id == bot.user.id:
            await self._thread_members_added(thread, bot.user.id)

    async def join_thread(self, thread: Thread, user_id: str) -> None:
        """`user_id` joins `thread` (posting in a thread joins it): THREAD_MEMBERS_UPDATE about
        the bot itself, or about others with the Guild Members intent."""
        if user_id in thread.members:
            return
        thread.join(user_id)
        told = GUILDS_INTENT if user_id == self.world.bot.id else GUILD_MEMBERS_INTENT
        if self.wants(told):
            await self._thread_members_added(thread, user_id)

    async def _thread_members_added(self, thread: Thread, user_id: str) -> None:
        added = thread.member_dict(user_id)
        member = self.world.guilds[thread.guild_id].member(user_id)
        if added is None:
            return
        if member is not None:
            added["member"] = member.to_dict()
        await self.gateway.dispatch(
            "THREAD_MEMBERS_UPDATE",
            {
                "id": thread.id,
                "guild_id": thread.guild_id,
                "member_count": min(len(thread.members), 50),
                "added_members": [added],
            },
        )

    def thread_body(self, thread: Thread) -> JSON:
        """A thread as REST answers it: with the bot's thread member object if it joined."""
        data = thread.to_dict()
        member = thread.member_dict(self.world.bot.id)
        if member is not None:
            data["member"] = member
        return data

    # -- scheduled events ---------------------------------------------------------------------

    def _guild(self, parsed: ParsedRequest) -> Guild:
        guild = self.world.guilds.get(parsed.match("guild_id"))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    def _scheduled_event(self, parsed: ParsedRequest) -> tuple[Guild, ScheduledEvent]:
        guild = self._guild(parsed)
        event = next((e for e in guild.scheduled_events if e.id == parsed.match("event_id")), None)
        if event is None or not self._sees_event(guild, event):
            raise ApiError(404, 10070, "Unknown Guild Scheduled Event")
        return guild, event

    def _sees_event(self, guild: Guild, event: ScheduledEvent) -> bool:
        """An event in a channel is seen by those who see the channel."""
        if event.channel_id is None:
            return True
        channel = guild.channel_by_id(event.channel_id)
        bot = guild.member(self.world.bot.id)
        return (
            channel is not None
            and bot is not None
            and bool(guild.permissions_in(bot, channel) & VIEW_CHANNEL)
        )

    def _event_permissions(
        self, guild: Guild, entity_type: int, channel_id: str | None, *, any_of: int
    ) -> None:
        """The bot's permissions for a scheduled event: one of `any_of` (Create or Manage
        Events), guild-wide for an external event, else in its channel together with what that
        kind of channel needs."""
        bot = guild.member(self.world.bot.id)
        if bot is None:
            raise ApiError(403, 50001, "Missing Access")
        if entity_type == EXTERNAL_EVENT or channel_id is None:
            allowed, needed = guild.permissions_of(bot), 0
        else:
            channel = guild.channel_by_id(channel_id)
            if channel is None:
                raise ApiError(404, 10003, "Unknown Channel")
            if channel.type != EVENT_CHANNEL_TYPES.get(entity_type):
                raise ApiError(400, 50024, "Cannot execute action on this channel type")
            allowed = guild.permissions_in(bot, channel)
            if not allowed & VIEW_CHANNEL:
                raise ApiError(403, 50001, "Missing Access")
            needed = EVENT_CHANNEL_NEEDS.get(entity_type, 0)
        if not allowed & any_of or allowed & needed != needed:
            raise ApiError(403, 50013, "Missing Permissions")

    async def get_scheduled_events(self, parsed: ParsedRequest) -> Reply:
        guild = self._guild(parsed)
        counted = parsed.record.query.get("with_user_count", "").lower() in ("1", "true")
        events = [e for e in guild.scheduled_events if self._sees_event(guild, e)]
        return Reply(body=[e.to_dict(with_user_count=counted) for e in events])

    async def get_scheduled_event(self, parsed: ParsedRequest) -> Reply:
        _, event = self._scheduled_event(parsed)
        counted = parsed.record.query.get("with_user_count", "").lower() in ("1", "true")
        return Reply(body=event.to_dict(with_user_count=counted))

    async def post_scheduled_event(self, parsed: ParsedRequest) -> Reply:
        guild = self._guild(parsed)
        payload = parsed.payload
        fields: JSON = {
            key: payload.get(key)
            for key in (
                "name",
                "description",
                "entity_type",
                "channel_id",
                "scheduled_start_time",
                "scheduled_end_time",
            )
        }
        metadata = payload.get("entity_metadata")
        fields["location"] = metadata.get("location") if isinstance(metadata, dict) else None
        # The OpenAPI check flags a create without `privacy_level`; the local Discord takes the
        # only level there is.
        fields["privacy_level"] = payload.get("privacy_level", GUILD_ONLY)
        if fields["channel_id"] is not None:
            fields["channel_id"] = str(fields["channel_id"])
        errors = FormErrors()
        check_scheduled_event(fields, errors, start_changed=True)
        if errors:
            raise ApiError.invalid_form(errors)
        self._event_permissions(
            guild, int(fields["entity_type"]), fields["channel_id"], any_of=CREATE_EVENTS
        )
        if sum(1 for e in guild.scheduled_events if not e.finished) >= MAX_OPEN_EVENTS:
            raise ApiError(
                400, 30038, "Maximum number of uncompleted guild scheduled events reached (100)"
            )
        event = ScheduledEvent(
            self.world.ids.next(),
            guild.id,
            str(fields["name"]),
            self.world.bot,
            int(fields["entity_type"]),
            _timestamp(fields["scheduled_start_time"]),
        )
        _apply_event_fields(event, fields)
        if payload.get("image"):
            event.image = _image_hash(payload["image"])
        guild.scheduled_events.append(event)
        await self._event_changed("GUILD_SCHEDULED_EVENT_CREATE", event)
        return Reply(body=event.to_dict())

    async def patch_scheduled_event(self, parsed: ParsedRequest) -> Reply:
        guild, event = self._scheduled_event(parsed)
        self._event_permissions(
            guild, event.entity_type, event.channel_id, any_of=self._may_edit(event)
        )
        if event.finished:
            raise ApiError(400, 180000, "Cannot update a finished event")
        payload = parsed.payload
        fields = _event_fields(event)
        for key in (
            "name",
            "description",
            "entity_type",
            "channel_id",
            "scheduled_start_time",
            "scheduled_end_time",
            "privacy_level",
            "status",
        ):
            if key in payload and (
                payload[key] is not None or key not in ("status", "entity_type")
            ):
                fields[key] = payload[key]
        if fields["channel_id"] is not None:
            fields["channel_id"] = str(fields["channel_id"])
        if fields["entity_type"] == EXTERNAL_EVENT:
            metadata = payload.get("entity_metadata", {"location": event.location})
            fields["location"] = metadata.get("location") if isinstance(metadata, dict) else None
        else:
            fields["location"] = None  # Discord discards it for events in a channel
        errors = FormErrors()
        start_changed = "scheduled_start_time" in payload
        check_scheduled_event(fields, errors, start_changed=start_changed)
        status = fields["status"]
        if status != event.status and (event.status, status) not in EVENT_TRANSITIONS:
            errors.add(["status"], "GUILD_SCHEDULED_EVENT_INVALID_STATUS", "Invalid status.")
        if errors:
            raise ApiError.invalid_form(errors)
        moved = (fields["entity_type"], fields["channel_id"]) != (
            event.entity_type,
            event.channel_id,
        )
        if moved:
            self._event_permissions(
                guild,
                int(fields["entity_type"]),
                fields["channel_id"],
                any_of=self._may_edit(event),
            )
        _apply_event_fields(event, fields)
        if "image" in payload:
            image = payload["image"]
            event.image = _image_hash(image) if image else None
        await self._event_changed("GUILD_SCHEDULED_EVENT_UPDATE", event)
        return Reply(body=event.to_dict())

    async def delete_scheduled_event(self, parsed: ParsedRequest) -> Reply:
        guild, event = self._scheduled_event(parsed)
        self._event_permissions(
            guild, event.entity_type, event.channel_id, any_of=self._may_edit(event)
        )
        guild.scheduled_events.remove(event)
        await self._event_changed("GUILD_SCHEDULED_EVENT_DELETE", event)
        return Reply(204)

    def _may_edit(self, event: ScheduledEvent) -> int:
        """Editing or deleting its own event takes Create or Manage Events, another's Manage."""
        own = event.creator.id == self.world.bot.id
        return CREATE_EVENTS | MANAGE_EVENTS if own else MANAGE_EVENTS

    async def _event_changed(self, name: str, event: ScheduledEvent) -> None:
        if self.wants(GUILD_SCHEDULED_EVENTS_INTENT):
            await self.gateway.dispatch(name, event.to_dict())

    async def get_attachment(self, request: web.Request) -> web.Response:
        attachment = self.world.attachments.get(request.match_info["attachment_id"])
        record = RequestRecord("GET", request.path, dict(request.query), dict(request.headers))
        if attachment is None or attachment.filename != request.match_info["filename"]:
            record.status = 404
            self._on_record(record)
            return web.Response(status=404, text="Not Found")
        record.status = 200
        self._on_record(record)
        return web.Response(body=attachment.data, headers={"Content-Type": attachment.content_type})

    # -- message bodies -----------------------------------------------------------------------

    def apply_payload(
        self, message: Message, payload: JSON, files: list[tuple[str, str, str, bytes]], limit: int
    ) -> None:
        """Checks a create/edit body against the rules, then applies it to `message`."""
        errors = FormErrors()
        check_message(payload, self.rules, errors)
        attachments = self._attachments(message, payload, files, limit)
        if errors:
            raise ApiError.invalid_form(errors)
        if message.is_voice_message:
            described = [(a.content_type, a.duration_secs, a.waveform) for a in attachments or []]
            refusal = voice_message_refusal(payload, described)
            if refusal is not None:
                raise ApiError(400, *refusal)
        for attachment in attachments or []:
            self.world.attachments[attachment.id] = attachment
        if "content" in payload:
            message.content = payload.get("content") or ""
        if "embeds" in payload:
            message.embeds = list(payload.get("embeds") or [])
        if "components" in payload:
            message.components = stored_components(list(payload.get("components") or []))
        if attachments is not None:
            message.attachments = attachments
        if "allowed_mentions" in payload or "content" in payload:
            message.allowed_mentions = payload.get("allowed_mentions", message.allowed_mentions)
            message.mentions, message.mention_roles, message.mention_everyone = [], [], False
            self.world.resolve_mentions(message, message.content, message.allowed_mentions)

    def _attachments(
        self, message: Message, payload: JSON, files: list[tuple[str, str, str, bytes]], limit: int
    ) -> list[Attachment] | None:
        """The attachment list after this request, or None when the request leaves it alone."""
        uploads = {
            name: (filename, content_type, data) for name, filename, content_type, data in files
        }
        listed = payload.get("attachments")
        if listed is None and not files:
            return None
        kept = {a.id: a for a in message.attachments}
        result: list[Attachment] = []
        used: set[str] = set()
        for entry in listed or []:
            entry_id = str(entry.get("id"))
            if entry_id in kept:
                result.append(kept[entry_id])
            elif f"files[{entry_id}]" in uploads:
                used.add(f"files[{entry_id}]")
                filename, content_type, data = uploads[f"files[{entry_id}]"]
                name = entry.get("filename") or filename
                result.append(self._new_attachment(message, name, content_type, data, entry))
        for part, (filename, content_type, data) in uploads.items():
            if part not in used:
                result.append(self._new_attachment(message, filename, content_type, data, {}))
        if len(result) > self.rules.max_files:
            raise ApiError(
                400,
                30015,
                f"Maximum number of attachments in a message reached ({self.rules.max_files})",
            )
        if any(a.size > limit for a in result if a.id not in kept):
            raise ApiError(413, 40005, "Request entity too large")
        return result

    def _new_attachment(
        self,
        message: Message,
        filename: str,
        content_type: str,
        data: bytes,
        entry: JSON,
    ) -> Attachment:
        """A new upload described by its `attachments` entry; Discord keeps `duration_secs`
        and `waveform` only for a file whose type begins with `audio/`."""
        attachment_id = self.world.ids.next()
        if content_type == "application/octet-stream":
            content_type = guess_content_type(filename)
        url = attachment_url(self.base_url, message.channel_id, attachment_id, filename)
        attachment = Attachment(
            attachment_id, filename, content_type, data, url, entry.get("description")
        )
        if content_type.lower().startswith("audio/"):
            attachment.duration_secs = entry.get("duration_secs")
            attachment.waveform = entry.get("waveform")
        return attachment

    async def store_message(self, message: Message) -> None:
        self.world.messages[message.id] = message
        place = self.world.channel(message.channel_id)
        if isinstance(place, Thread) and not message.ephemeral:
            place.last_message_id = message.id
            if message.id != place.id:  # a forum post's starter message is not counted
                place.message_count += 1
                place.total_message_sent += 1
        if not message.ephemeral and self._gateway_wants_messages():
            await self.gateway.dispatch("MESSAGE_CREATE", self._gateway_message(message))
        if isinstance(place, Thread):
            await self.join_thread(place, message.author.id)

    async def edit_message(
        self, message: Message, payload: JSON, files: list[tuple[str, str, str, bytes]], limit: int
    ) -> None:
        if message.is_voice_message:
            raise ApiError(400, *VOICE_NOT_EDITABLE)
        before = message.snapshot(self.clock.now())
        self.apply_payload(message, payload, files, limit)
        if "flags" in payload and payload["flags"] is not None:
            keep = message.flags & EPHEMERAL
            message.flags = keep | (int(payload["flags"]) & FLAGS_ON_EDIT)
        message.flags &= ~LOADING
        message.edits.append(before)
        message.edited_timestamp = iso_now()
        if not message.ephemeral and self._gateway_wants_messages():
            await self.gateway.dispatch("MESSAGE_UPDATE", self._gateway_message(message))

    async def delete_message(self, message: Message) -> None:
        message.deleted = True
        place = self.world.channel(message.channel_id)
        if isinstance(place, Thread) and message.id != place.id and not message.ephemeral:
            place.message_count = max(place.message_count - 1, 0)
        if not message.ephemeral and self._gateway_wants_messages():
            await self.gateway.dispatch(
                "MESSAGE_DELETE",
                {"id": message.id, "channel_id": message.channel_id, "guild_id": message.guild_id},
            )

    def _gateway_wants_messages(self) -> bool:
        return self.wants(GUILD_MESSAGES_INTENT)

    def wants(self, intent: int) -> bool:
        """Whether the bot is on the gateway with `intent` (events of other intents are not
        sent to it)."""
        session = self.gateway.session
        return session is not None and bool(int(session.identify.get("intents", 0)) & intent)

    def _gateway_message(self, message: Message) -> JSON:
        """MESSAGE_CREATE/UPDATE data; without the content intent, others' messages are blank."""
        data = message.gateway_dict()
        session = self.gateway.session
        intents = int(session.identify.get("intents", 0)) if session is not None else 0
        own = message.author.id == self.world.bot.id
        mentioned = any(u.id == self.world.bot.id for u in message.mentions)
        if not own and not mentioned and not intents & MESSAGE_CONTENT_INTENT:
            data.update(content="", embeds=[], attachments=[], components=[])
        if message.guild_id is not None:
            guild = self.world.guilds[message.guild_id]
            member = guild.member(message.author.id)
            if member is not None:
                member_data = member.to_dict()
                member_data.pop("user")
                data["member"] = member_data
        return data

    # -- interactions -------------------------------------------------------------------------

    def _interaction(self, parsed: ParsedRequest) -> Interaction:
        interaction = self.world.interactions.get(parsed.match("interaction_id"))
        if interaction is None or interaction.token != parsed.match("token"):
            raise ApiError(404, 10062, "Unknown interaction")
        return interaction

    async def post_callback(self, parsed: ParsedRequest) -> Reply:
        interaction = self._interaction(parsed)
        if interaction.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if self.clock.now() - interaction.created_at > self.rules.ack_deadline:
            raise ApiError(404, 10062, "Unknown interaction")
        kind = int(parsed.payload.get("type") or 0)
        if kind not in ALLOWED_CALLBACKS.get(interaction.type, set()):
            errors = FormErrors()
            errors.add(
                ["type"],
                "INTERACTION_CALLBACK_TYPE_INVALID",
                "Interaction callback type is invalid",
            )
            raise ApiError.invalid_form(errors)
        data: JSON = parsed.payload.get("data") or {}
        message = await self._respond(interaction, kind, data, parsed.files)
        interaction.response_type, interaction.response_data = kind, data
        interaction.acked_at = self.clock.now()
        if parsed.record.query.get("with_response", "").lower() not in ("1", "true"):
            return Reply(204)
        return Reply(body=self._callback_body(interaction, kind, message))

    async def _respond(
        self,
        interaction: Interaction,
        kind: int,
        data: JSON,
        files: list[tuple[str, str, str, bytes]],
    ) -> Message | None:
        limit = int(interaction.payload["attachment_size_limit"])
        errors = FormErrors()
        if kind == 8:
            check_autocomplete(data, errors)
        elif kind == 9:
            check_modal(data, errors)
        elif kind == 5 and int(data.get("flags") or 0) & ~EPHEMERAL:
            errors.add(
                ["data", "flags"], "INTERACTION_CALLBACK_FLAGS_INVALID", "Only EPHEMERAL is allowed"
            )
        if errors:
            raise ApiError.invalid_form(errors)
        if kind in (4, 5):
            message = self._interaction_message(interaction, data, kind)
            if kind == 4:
                self.apply_payload(message, data, files, limit)
                if _is_empty(message) and not data.get("poll"):
                    raise ApiError(400, 50006, "Cannot send an empty message")
            await self.store_message(message)
            interaction.original = message
            return message
        if kind in (6, 7) and interaction.source_message is not None:
            if kind == 7:
                await self.edit_message(interaction.source_message, data, files, limit)
            interaction.original = interaction.source_message
            return interaction.source_message
        return None

    def _interaction_message(self, interaction: Interaction, data: JSON, kind: int) -> Message:
        message = Message(
            self.world.ids.next(),
            interaction.channel_id,
            interaction.guild_id,
            self.world.bot,
            webhook_id=self.world.application_id,
            interaction_id=interaction.id,
        )
        flags = int(data.get("flags") or 0)
        message.flags = flags & MESSAGE_FLAGS_ON_SEND
        if kind == 5:
            message.flags = (flags & EPHEMERAL) | LOADING
        return message

    def _callback_body(self, interaction: Interaction, kind: int, message: Message | None) -> JSON:
        summary: JSON = {"id": interaction.id, "type": interaction.type}
        if message is not None and kind in (4, 5, 7):
            summary.update(
                response_message_id=message.id,
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
        body: JSON = {"interaction": summary}
        if kind in (4, 7) and message is not None:
            body["resource"] = {"type": kind, "message": message.to_dict()}
        return body

    def _webhook_interaction(self, parsed: ParsedRequest) -> Interaction:
        if parsed.match("app") != self.world.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        interaction = self.world.interaction_by_token(parsed.match("token"))
        if interaction is None or self.clock.now() - interaction.created_at > self.rules.token_ttl:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        if not interaction.acknowledged:
            raise ApiError(404, 10015, "Unknown Webhook")
        return interaction

    def _webhook_message(self, parsed: ParsedRequest, interaction: Interaction) -> Message:
        message_id = parsed.match("message_id")
        if message_id == "@original":
            message = interaction.original
        else:
            message = next((m for m in interaction.followups if m.id == message_id), None)
            if (
                message is None
                and interaction.original is not None
                and interaction.original.id == message_id
            ):
                message = interaction.original
        if message is None or message.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    async def get_webhook_message(self, parsed: ParsedRequest) -> Reply:
        interaction = self._webhook_interaction(parsed)
        return Reply(body=self._webhook_message(parsed, interaction).to_dict())

    async def patch_webhook_message(self, parsed: ParsedRequest) -> Reply:
        interaction = self._webhook_interaction(parsed)
        message = self._webhook_message(parsed, interaction)
        limit = int(interaction.payload["attachment_size_limit"])
        await self.edit_message(message, parsed.payload, parsed.files, limit)
        if message is interaction.original:
            interaction.original_edited = True
        return Reply(body=message.to_dict())

    async def delete_webhook_message(self, parsed: ParsedRequest) -> Reply:
        interaction = self._webhook_interaction(parsed)
        await self.delete_message(self._webhook_message(parsed, interaction))
        return Reply(204)

    async def post_followup(self, parsed: ParsedRequest) -> Reply:
        interaction = self._webhook_interaction(parsed)
        limit = int(interaction.payload["attachment_size_limit"])
        original = interaction.original
        if (
            interaction.response_type == 5
            and original is not None
            and original.loading
            and not original.deleted
        ):
            # Discord's documented (deprecated) behaviour: the first follow-up after a deferral
            # replaces the "thinking" message instead of creating a new one.
            if int(parsed.payload.get("flags") or 0) & IS_VOICE_MESSAGE:
                raise ApiError(400, *VOICE_NOT_EDITABLE)
            await self.edit_message(original, parsed.payload, parsed.files, limit)
            interaction.original_edited = True
            interaction.followups.append(original)
            return Reply(body=original.to_dict())
        message = self._interaction_message(interaction, parsed.payload, 4)
        self.apply_payload(message, parsed.payload, parsed.files, limit)
        if _is_empty(message) and not parsed.payload.get("poll"):
            raise ApiError(400, 50006, "Cannot send an empty message")
        await self.store_message(message)
        interaction.followups.append(message)
        return Reply(body=message.to_dict())


def _timestamp(value: object) -> str:
    """A checked ISO 8601 timestamp as Discord answers it, in UTC."""
    parsed = parse_timestamp(value)
    assert parsed is not None
    return parsed.astimezone(datetime.UTC).isoformat()


def _image_hash(data: object) -> str:
    """What Discord answers for an uploaded image: a hash naming it."""
    return hashlib.sha256(str(data).encode()).hexdigest()[:32]


def _event_fields(event: ScheduledEvent) -> JSON:
    return {
        "name": event.name,
        "description": event.description,
        "entity_type": event.entity_type,
        "channel_id": event.channel_id,
        "location": event.location,
        "scheduled_start_time": event.scheduled_start_time,
        "scheduled_end_time": event.scheduled_end_time,
        "privacy_level": event.privacy_level,
        "status": event.status,
    }


def _apply_event_fields(event: ScheduledEvent, fields: JSON) -> None:
    """Sets a checked create or edit on `event`."""
    event.name = str(fields["name"])
    event.description = fields.get("description")
    event.entity_type = int(fields["entity_type"])
    event.channel_id = None if event.entity_type == EXTERNAL_EVENT else fields["channel_id"]
    event.location = fields.get("location") if event.entity_type == EXTERNAL_EVENT else None
    event.scheduled_start_time = _timestamp(fields["scheduled_start_time"])
    end = fields.get("scheduled_end_time")
    event.scheduled_end_time = None if end is None else _timestamp(end)
    event.privacy_level = int(fields.get("privacy_level") or GUILD_ONLY)
    event.status = int(fields.get("status") or EVENT_SCHEDULED)


def _snowflake_query(parsed: ParsedRequest, name: str) -> int | None:
    value = parsed.record.query.get(name)
    return int(value) if value is not None and value.isdigit() else None


def _stored_reference(reference: JSON | None, channel: Channel | DMChannel) -> JSON | None:
    """A create request's `message_reference` as Discord answers it: with its `type` (0, a
    reply, unless given) and the channel and guild it points into; request-only fields go."""
    if reference is None:
        return None
    stored: JSON = {
        "type": int(reference.get("type") or 0),
        "message_id": str(reference["message_id"]),
        "channel_id": str(reference.get("channel_id") or channel.id),
    }
    guild_id = reference.get("guild_id") or channel.guild_id
    if guild_id is not None:
        stored["guild_id"] = str(guild_id)
    return stored


def _is_empty(message: Message) -> bool:
    return not (message.content or message.embeds or message.attachments or message.components)


def attachment_url(base_url: str, channel_id: str, attachment_id: str, filename: str) -> str:
    return f"{base_url}/attachments/{channel_id}/{attachment_id}/{filename}"


def guess_content_type(filename: str) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"
