"""What the local Discord knows: guilds, channels, roles, members, messages, commands, interactions.

Every object renders itself as the JSON Discord would send for it (`to_dict`).
"""

from __future__ import annotations

import datetime
import itertools
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.discord.rules import (
    EPHEMERAL,
    EVENT_CANCELED,
    EVENT_COMPLETED,
    EVENT_SCHEDULED,
    EXTERNAL_EVENT,
    GUILD_ONLY,
    IS_VOICE_MESSAGE,
    LOADING,
)

JSON = dict[str, Any]
DISCORD_EPOCH_MS = 1420070400000
# Channel types.
TEXT_CHANNEL = 0
VOICE_CHANNEL = 2
ANNOUNCEMENT_THREAD = 10
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
STAGE_CHANNEL = 13
FORUM_CHANNEL = 15
THREAD_TYPES = (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
CONNECT = 1 << 20
MUTE_MEMBERS = 1 << 22
MOVE_MEMBERS = 1 << 24
MANAGE_ROLES = 1 << 28
MANAGE_EVENTS = 1 << 33
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
CREATE_EVENTS = 1 << 44
SEND_VOICE_MESSAGES = 1 << 46
ALL_PERMISSIONS = (1 << 53) - 1
# What a member who may not send messages in a channel (in a thread: Send Messages in Threads)
# may not do there either (Discord's "implicit permissions").
NEEDS_SEND_MESSAGES = SEND_TTS_MESSAGES | EMBED_LINKS | ATTACH_FILES | MENTION_EVERYONE
DEFAULT_PERMISSIONS = 2248473465835073
MENTION = re.compile(r"<@(!|&)?(\d+)>")


def iso_now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


class Snowflakes:
    """Discord-shaped ids: milliseconds since the Discord epoch, then a counter."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> str:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(self._counter) & 0x3FFFFF))

    def next_on_shard(self, shard_id: int, shard_count: int) -> str:
        """A new id whose events go to shard `shard_id` of `shard_count` (its milliseconds
        taken back to the latest that fall on that shard; the counter keeps it unique)."""
        fresh = int(self.next())
        ms = (fresh >> 22) - ((fresh >> 22) - shard_id) % shard_count
        return str((ms << 22) | (fresh & 0x3FFFFF))


@dataclass
class User:
    id: str
    username: str
    bot: bool = False

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "username": self.username,
            "discriminator": "0",
            "global_name": None if self.bot else self.username.title(),
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
        }


@dataclass
class Role:
    id: str
    name: str
    permissions: int
    position: int

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": True,
            "icon": None,
            "unicode_emoji": None,
            "description": None,
            "flags": 0,
        }


ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1


@dataclass
class Overwrite:
    """A channel's permission overwrite for a role (or @everyone, whose id is the guild's) or
    a member."""

    id: str
    type: int
    allow: int = 0
    deny: int = 0

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class Channel:
    id: str
    guild_id: str
    name: str
    type: int
    position: int
    overwrites: list[Overwrite] = field(default_factory=list)
    user_limit: int = 0
    """For a voice channel: how many members may be in it at once (0: no limit)."""

    @property
    def is_voice(self) -> bool:
        """A channel members speak in: a voice channel or a stage channel."""
        return self.type in (VOICE_CHANNEL, STAGE_CHANNEL)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def is_forum(self) -> bool:
        return self.type == FORUM_CHANNEL

    def overwrite_for(self, target_id: str) -> Overwrite | None:
        return next((o for o in self.overwrites if o.id == target_id), None)

    def to_dict(self) -> JSON:
        data: JSON = {
            "id": self.id,
            "guild_id": self.guild_id,
            "name": self.name,
            "type": self.type,
            "position": self.position,
            "permission_overwrites": [o.to_dict() for o in self.overwrites],
            "parent_id": None,
            "nsfw": False,
            "flags": 0,
            "rate_limit_per_user": 0,
            "last_message_id": None,
        }
        if self.is_voice:
            data.update(bitrate=64000, user_limit=self.user_limit, rtc_region=None)
        else:
            data["topic"] = None
        if self.is_forum:
            data.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                default_thread_rate_limit_per_user=0,
            )
        return data


@dataclass
class Thread(Channel):
    """A thread: in a text channel (public or private), or a forum channel's post (public,
    its starter message sharing the thread's id)."""

    parent_id: str = ""
    owner_id: str = ""
    auto_archive_duration: int = 1440
    rate_limit_per_user: int = 0
    invitable: bool = True
    applied_tags: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=iso_now)
    members: dict[str, str] = field(default_factory=dict)
    """Who has joined the thread (its creator, whoever posted in it): user id -> when."""
    message_count: int = 0
    """Messages in the thread, neither a forum post's starter message nor deleted ones."""
    total_message_sent: int = 0
    last_message_id: str | None = None

    def join(self, user_id: str) -> None:
        self.members.setdefault(user_id, iso_now())

    def member_dict(self, user_id: str) -> JSON | None:
        """The thread member object of `user_id`, if they joined."""
        joined = self.members.get(user_id)
        if joined is None:
            return None
        return {"id": self.id, "user_id": user_id, "join_timestamp": joined, "flags": 0}

    def to_dict(self) -> JSON:
        metadata: JSON = {
            "archived": False,
            "archive_timestamp": self.created_at,
            "auto_archive_duration": self.auto_archive_duration,
            "locked": False,
            "create_timestamp": self.created_at,
        }
        if self.type == PRIVATE_THREAD:
            metadata["invitable"] = self.invitable
        data: JSON = {
            "id": self.id,
            "guild_id": self.guild_id,
            "parent_id": self.parent_id,
            "owner_id": self.owner_id,
            "name": self.name,
            "type": self.type,
            "last_message_id": self.last_message_id,
            "message_count": self.message_count,
            "member_count": min(len(self.members), 50),
            "total_message_sent": self.total_message_sent,
            "rate_limit_per_user": self.rate_limit_per_user,
            "flags": 0,
            "thread_metadata": metadata,
        }
        if self.applied_tags:
            data["applied_tags"] = list(self.applied_tags)
        return data


@dataclass
class DMChannel:
    """A member's direct messages with the bot."""

    id: str
    recipient: User
    guild_id: None = None

    def to_dict(self) -> JSON:
        return {
            "id": self.id,
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [self.recipient.to_dict()],
        }


@dataclass
class Member:
    user: User
    roles: list[str]
    joined_at: str = field(default_factory=iso_now)

    def to_dict(self) -> JSON:
        return {
            "user": self.user.to_dict(),
            "roles": list(self.roles),
            "joined_at": self.joined_at,
            "nick": None,
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
            "premium_since": None,
            "pending": False,
            "flags": 0,
            "deaf": False,
            "mute": False,
        }


@dataclass
class Guild:
    id: str
    name: str
    owner_id: str
    premium_tier: int
    roles: list[Role] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    voice_channels: dict[str, str] = field(default_factory=dict)
    """Who is in which voice channel: user id -> channel id."""
    threads: list[Thread] = field(default_factory=list)
    scheduled_events: list[ScheduledEvent] = field(default_factory=list)

    def member(self, user_id: str) -> Member | None:
        return next((m for m in self.members if m.user.id == user_id), None)

    def channel_by_id(self, channel_id: str) -> Channel | None:
        """A channel or a thread of the guild."""
        for channel in itertools.chain(self.channels, self.threads):
            if channel.id == channel_id:
                return channel
        return None

    def role_by_id(self, role_id: str) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def top_role(self, member: Member) -> Role:
        """The member's highest role (@everyone, whose id is the guild's, if none)."""
        held = [r for r in self.roles if r.id == self.id or r.id in member.roles]
        return max(held, key=role_rank)

    def permissions_of(self, member: Member) -> int:
        """Effective guild permissions: @everyone (same id as the guild) plus every member role."""
        if member.user.id == self.owner_id:
            return ALL_PERMISSIONS
        value = 0
        for role in self.roles:
            if role.id == self.id or role.id in member.roles:
                value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def permissions_in(self, member: Member, channel: Channel) -> int:
        """Permissions in `channel`, as Discord documents them: the guild permissions, then the
        @everyone overwrite, then the member's roles' overwrites together, then the member's
        own; administrators and the owner keep everything. Without View Channel nothing else
        holds, and without Send Messages neither do files, embeds, TTS or @everyone.

        A thread has its parent channel's permissions, but there Send Messages in Threads takes
        the place of Send Messages, and a private thread is seen only by its members and by
        those who may manage threads."""
        value = self.permissions_of(member)
        if value == ALL_PERMISSIONS:
            return value
        parent = self.channel_by_id(channel.parent_id) if isinstance(channel, Thread) else channel
        if parent is None:
            return 0
        value = self._overwritten(value, member, parent)
        if not value & VIEW_CHANNEL:
            return 0
        sender = SEND_MESSAGES
        if isinstance(channel, Thread):
            sender = SEND_MESSAGES_IN_THREADS
            hidden = channel.type == PRIVATE_THREAD and member.user.id not in channel.members
            if hidden and not value & MANAGE_THREADS:
                return 0
        if not value & sender:
            value &= ~NEEDS_SEND_MESSAGES
        return value

    def _overwritten(self, value: int, member: Member, channel: Channel) -> int:
        """Guild permissions `value` after `channel`'s overwrites for `member`."""
        everyone = channel.overwrite_for(self.id)
        if everyone is not None:
            value = (value & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for overwrite in channel.overwrites:
            if overwrite.type == ROLE_OVERWRITE and overwrite.id in member.roles:
                allow |= overwrite.allow
                deny |= overwrite.deny
        value = (value & ~deny) | allow
        own = channel.overwrite_for(member.user.id)
        if own is not None and own.type == MEMBER_OVERWRITE:
            value = (value & ~own.deny) | own.allow
        return value

    def summary(self) -> JSON:
        """The guild fields shared by GUILD_CREATE and GUILD_UPDATE."""
        return {
            "id": self.id,
            "name": self.name,
            "owner_id": self.owner_id,
            "icon": None,
            "splash": None,
            "banner": None,
            "description": None,
            "premium_tier": self.premium_tier,
            "premium_subscription_count": [0, 2, 7, 14][self.premium_tier],
            "features": [],
            "roles": [role.to_dict() for role in self.roles],
            "emojis": [],
            "stickers": [],
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "max_members": 500000,
        }

    def voice_state(self, user_id: str, *, session_id: str, self_mute: bool = False) -> JSON:
        """A member's voice state, as VOICE_STATE_UPDATE and GUILD_CREATE carry it."""
        member = self.member(user_id)
        return {
            "guild_id": self.id,
            "channel_id": self.voice_channels.get(user_id),
            "user_id": user_id,
            "member": member.to_dict() if member else None,
            "session_id": session_id,
            "deaf": False,
            "mute": False,
            "self_deaf": False,
            "self_mute": self_mute,
            "self_video": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }

    def gateway_create(self, viewer_id: str | None = None) -> JSON:
        """GUILD_CREATE for `viewer_id` (the bot): its `threads` are the active threads it can
        see, each with its own thread member object (without `id` and `user_id`) if it joined."""
        data = self.summary()
        data.update(
            unavailable=False,
            large=False,
            member_count=len(self.members),
            joined_at=iso_now(),
            channels=[channel.to_dict() for channel in self.channels],
            members=[member.to_dict() for member in self.members],
            threads=self.visible_threads(viewer_id),
            voice_states=[
                self.voice_state(user_id, session_id="") for user_id in self.voice_channels
            ],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[event.to_dict() for event in self.scheduled_events],
            soundboard_sounds=[],
        )
        return data

    def visible_threads(self, viewer_id: str | None) -> list[JSON]:
        viewer = None if viewer_id is None else self.member(viewer_id)
        shown = []
        for thread in self.threads:
            if viewer is not None and not self.permissions_in(viewer, thread) & VIEW_CHANNEL:
                continue
            data = thread.to_dict()
            joined = None if viewer is None else thread.member_dict(viewer.user.id)
            if joined is not None:
                data["member"] = {k: v for k, v in joined.items() if k not in ("id", "user_id")}
            shown.append(data)
        return shown


def role_rank(role: Role) -> tuple[int, int]:
    """How high a role is: by position, and at equal positions the older (smaller id) one higher."""
    return role.position, -int(role.id)


@dataclass
class ScheduledEvent:
    """A guild scheduled event: in a stage or voice channel, or somewhere else (`location`)."""

    id: str
    guild_id: str
    name: str
    creator: User
    entity_type: int
    scheduled_start_time: str
    scheduled_end_time: str | None = None
    channel_id: str | None = None
    location: str | None = None
    description: str | None = None
    privacy_level: int = GUILD_ONLY
    status: int = EVENT_SCHEDULED
    image: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in (EVENT_COMPLETED, EVENT_CANCELED)

    def to_dict(self, *, with_user_count: bool = False) -> JSON:
        data: JSON = {
            "id": self.id,
            "guild_id": self.guild_id,
            "channel_id": self.channel_id,
            "creator_id": self.creator.id,
            "creator": self.creator.to_dict(),
            "name": self.name,
            "description": self.description,
            "scheduled_start_time": self.scheduled_start_time,
            "scheduled_end_time": self.scheduled_end_time,
            "privacy_level": self.privacy_level,
            "status": self.status,
            "entity_type": self.entity_type,
            "entity_id": None,
            "entity_metadata": (
                {"location": self.location} if self.entity_type == EXTERNAL_EVENT else None
            ),
            "image": self.image,
            "recurrence_rule": None,
            "guild_scheduled_event_exceptions": [],
        }
        if with_user_count:
            data["user_count"] = 0
        return data


@dataclass
class Attachment:
    """A stored upload: the bytes are kept, and served back at `url`. An audio file may carry
    a voice message's `duration_secs` and base64 `waveform`."""

    id: str
    filename: str
    content_type: str
    data: bytes
    url: str
    description: str | None = None
    duration_secs: float | None = None
    waveform: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def to_dict(self) -> JSON:
        data: JSON = {
            "id": self.id,
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.duration_secs is not None:
            data["duration_secs"] = self.duration_secs
        if self.waveform is not None:
            data["waveform"] = self.waveform
        return data


@dataclass
class MessageEdit:
    """One state a message had before an edit replaced it, with the clock time of the edit."""

    at: float
    content: str
    embeds: list[JSON]
    components: list[JSON]
    attachments: list[Attachment]
    flags: int


@dataclass
class Message:
    id: str
    channel_id: str
    guild_id: str | None
    author: User
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    webhook_id: str | None = None
    interaction_id: str | None = None
    mentions: list[User] = field(default_factory=list)
    mention_roles: list[str] = field(default_factory=list)
    mention_everyone: bool = False
    allowed_mentions: JSON | None = None
    message_reference: JSON | None = None
    nonce: str | int | None = None
    tts: bool = False
    edits: list[MessageEdit] = field(default_factory=list)
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def is_voice_message(self) -> bool:
        return bool(self.flags & IS_VOICE_MESSAGE)

    def all_components(self) -> Iterable[JSON]:
        """Every component of the message, nested ones included."""
        stack = list(self.components)
        while stack:
            component = stack.pop(0)
            yield component
            stack.extend(component.get("components") or [])
            for key in ("component", "accessory"):
                if isinstance(component.get(key), dict):
                    stack.append(component[key])

    def snapshot(self, at: float) -> MessageEdit:
        return MessageEdit(
            at=at,
            content=self.content,
            embeds=list(self.embeds),
            components=list(self.components),
            attachments=list(self.attachments),
            flags=self.flags,
        )

    def to_dict(self) -> JSON:
        data: JSON = {
            "id": self.id,
            "channel_id": self.channel_id,
            "type": 0 if self.message_reference is None else 19,
            "content": self.content,
            "author": self.author.to_dict(),
            "attachments": [a.to_dict() for a in self.attachments],
            "embeds": list(self.embeds),
            "components": list(self.components),
            "mentions": [user.to_dict() for user in self.mentions],
            "mention_roles": list(self.mention_roles),
            "mention_everyone": self.mention_everyone,
            "pinned": False,
            "tts": self.tts,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "flags": self.flags,
        }
        if self.webhook_id is not None:
            data["webhook_id"] = self.webhook_id
            data["application_id"] = self.webhook_id
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        if self.nonce is not None:
            data["nonce"] = self.nonce
        return data

    def gateway_dict(self) -> JSON:
        """The MESSAGE_CREATE form: the REST form plus `guild_id` and the author's `member`."""
        data = self.to_dict()
        if self.guild_id is not None:
            data["guild_id"] = self.guild_id
        return data


@dataclass
class Command:
    """A registered application command, as echoed back by a sync."""

    id: str
    application_id: str
    guild_id: str | None
    payload: JSON
    version: str

    @property
    def name(self) -> str:
        return str(self.payload["name"])

    @property
    def type(self) -> int:
        return int(self.payload.get("type") or 1)

    def to_dict(self) -> JSON:
        data: JSON = {
            "type": 1,
            "description": "",
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
        }
        data.update(self.payload)
        if data.get("integration_types") is None:
            # discord.py sends null for "not set"; Discord answers with its default, guild install.
            data["integration_types"] = [0]
        if data.get("default_member_permissions") is not None:
            # Requests may carry the bit set as an integer; Discord always answers with a string.
            data["default_member_permissions"] = str(data["default_member_permissions"])
        data.update(id=self.id, application_id=self.application_id, version=self.version)
        if self.guild_id is not None:
            data["guild_id"] = self.guild_id
        return data


@dataclass
class Interaction:
    """One interaction sent to the bot and everything the bot did with it."""

    id: str
    token: str
    type: int
    payload: JSON
    created_at: float
    channel_id: str
    guild_id: str
    user: User
    response_type: int | None = None
    response_data: JSON | None = None
    acked_at: float | None = None
    original: Message | None = None
    source_message: Message | None = None
    followups: list[Message] = field(default_factory=list)
    original_edited: bool = False

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def modal(self) -> JSON | None:
        return self.response_data if self.response_type == 9 else None

    @property
    def choices(self) -> list[JSON] | None:
        if self.response_type != 8 or self.response_data is None:
            return None
        return list(self.response_data.get("choices") or [])


def new_token() -> str:
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)


@dataclass
class VoiceStateRecord:
    """One gateway op 4 the bot sent (ids as the bot sent them: discord.py sends integers)."""

    guild_id: str
    channel_id: str | None
    self_mute: bool
    self_deaf: bool
    at: float
    raw: JSON


@dataclass
class RequestRecord:
    """One REST request (or gateway op, with method "WS") and what the local Discord answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    files: list[tuple[str, str, str, bytes]] = field(default_factory=list)
    status: int = 0
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def payload(self) -> Any:
        return self.json

    def file_names(self) -> list[str]:
        return [filename for _, filename, _, _ in self.files]


class World:
    """All objects of one local Discord, with the default guild a test starts from."""

    def __init__(self, application_id: str | None = None) -> None:
        self.ids = Snowflakes()
        self.application_id = application_id or self.ids.next()
        self.bot = User(self.application_id, "Soundverse", bot=True)
        self.owner = User(self.ids.next(), "owner")
        self.users: dict[str, User] = {self.bot.id: self.bot}
        self.guilds: dict[str, Guild] = {}
        self.dm_channels: dict[str, DMChannel] = {}
        self.closed_dms: set[str] = set()
        """Users who accept no direct messages from the bot."""
        self.messages: dict[str, Message] = {}
        self.commands: dict[str, Command] = {}
        self.interactions: dict[str, Interaction] = {}
        self._interactions_by_token: dict[str, Interaction] = {}
        self.attachments: dict[str, Attachment] = {}
        self.reactions: list[tuple[str, str]] = []
        for name in ("alice", "bob", "carol"):
            self.add_user(name)

    def add_user(self, name: str) -> User:
        user = User(self.ids.next(), name)
        self.users[user.id] = user
        return user

    def user_named(self, name: str) -> User:
        for user in self.users.values():
            if user.username == name:
                return user
        raise KeyError(f"no user named {name!r}")

    def add_guild(
        self, name: str, premium_tier: int = 0, *, shard: tuple[int, int] | None = None
    ) -> Guild:
        """A guild with the bot and every user; `shard` = (shard id, shard count) picks an id
        whose events go to that shard."""
        guild_id = self.ids.next() if shard is None else self.ids.next_on_shard(*shard)
        guild = Guild(guild_id, name, self.owner.id, premium_tier)
        guild.roles = [
            Role(guild.id, "@everyone", DEFAULT_PERMISSIONS & ~(MANAGE_GUILD | ADMINISTRATOR), 0),
            Role(self.ids.next(), "DJ", 0, 1),
            Role(self.ids.next(), "Moderator", MANAGE_GUILD, 2),
        ]
        guild.channels = [
            Channel(self.ids.next(), guild.id, "general", 0, 0),
            Channel(self.ids.next(), guild.id, "music", 0, 1),
            Channel(self.ids.next(), guild.id, "Lounge", VOICE_CHANNEL, 2),
        ]
        moderator = guild.roles[2].id
        guild.members = [Member(self.bot, [])]
        for user in self.users.values():
            if not user.bot:
                roles = [moderator] if user.username == "alice" else []
                guild.members.append(Member(user, roles))
        self.guilds[guild.id] = guild
        return guild

    def channel(self, channel_id: str) -> Channel | None:
        """A guild channel or thread by id."""
        for guild in self.guilds.values():
            channel = guild.channel_by_id(channel_id)
            if channel is not None:
                return channel
        return None

    def dm_with(self, user: User) -> DMChannel:
        """The bot's DM channel with `user`, opened on first use."""
        for channel in self.dm_channels.values():
            if channel.recipient.id == user.id:
                return channel
        channel = DMChannel(self.ids.next(), user)
        self.dm_channels[channel.id] = channel
        return channel

    def guild_of(self, channel: Channel) -> Guild:
        return self.guilds[channel.guild_id]

    def message(self, message_id: str) -> Message | None:
        message = self.messages.get(message_id)
        return None if message is None or message.deleted else message

    def add_interaction(self, interaction: Interaction) -> None:
        self.interactions[interaction.id] = interaction
        self._interactions_by_token[interaction.token] = interaction

    def interaction_by_token(self, token: str) -> Interaction | None:
        return self._interactions_by_token.get(token)

    def resolve_mentions(self, message: Message, content: str, allowed: JSON | None) -> None:
        """Fill the mention fields the way Discord does: only what `allowed_mentions` lets ping."""
        parse = None if allowed is None else set(allowed.get("parse") or [])
        users = {str(u) for u in allowed.get("users") or []} if allowed else set()
        roles = {str(r) for r in allowed.get("roles") or []} if allowed else set()
        guild = self.guilds.get(message.guild_id or "")
        for kind, target in MENTION.findall(content):
            if kind == "&":
                known = guild is not None and any(r.id == target for r in guild.roles)
                if known and (parse is None or "roles" in parse or target in roles):
                    message.mention_roles.append(target)
            elif target in self.users and (parse is None or "users" in parse or target in users):
                message.mentions.append(self.users[target])
        if "@everyone" in content or "@here" in content:
            message.mention_everyone = parse is None or "everyone" in parse


SELECT_TYPES = (3, 5, 6, 7, 8)


def without_nulls(emoji: JSON) -> JSON:
    """A unicode emoji is sent as {"id": null, "name": "🔁"}; Discord answers without the id."""
    return {key: value for key, value in emoji.items() if value is not None}


def stored_components(components: list[JSON]) -> list[JSON]:
    """Components as Discord stores and returns them: numbered `id`s and defaulted fields."""
    counter = itertools.count(1)

    def fill(component: JSON) -> JSON:
        data = dict(component)
        data.setdefault("id", next(counter))
        kind = data.get("type")
        if kind in SELECT_TYPES:
            data.setdefault("min_values", 1)
            data.setdefault("max_values", 1)
        elif kind == 14:
            data.setdefault("spacing", 1)
            data.setdefault("divider", True)
        elif kind == 17:
            data.setdefault("accent_color", None)
            data.setdefault("spoiler", False)
        if isinstance(data.get("emoji"), dict):
            data["emoji"] = without_nulls(data["emoji"])
        if isinstance(data.get("options"), list):
            data["options"] = [
                {**option, "emoji": without_nulls(option["emoji"])}
                if isinstance(option, dict) and isinstance(option.get("emoji"), dict)
                else option
                for option in data["options"]
            ]
        if isinstance(data.get("components"), list):
            data["components"] = [fill(child) for child in data["components"]]
        for key in ("component", "accessory"):
            if isinstance(data.get(key), dict):
                data[key] = fill(data[key])
        return data

    return [fill(component) for component in components]
