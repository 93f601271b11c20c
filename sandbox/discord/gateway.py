"""The gateway websocket: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME with replay, op 4,
and sharding as Discord does it.

Each IDENTIFY opens a session for one shard (`shard: [id, count]`, [0, 1] when left out): READY
lists that shard's guilds as unavailable, and every event of a guild goes only to the sessions
of the shard `(guild_id >> 22) % count`; events without a guild (DMs) go to shard 0. Discord's
rules on identifying are kept: an invalid shard closes with 4010, a shard that would hold more
than `Rules.max_guilds_per_shard` guilds closes with 4011, and each rate-limit key
(`shard_id % Rules.max_concurrency`) may identify once per `Rules.identify_window` seconds on
the local Discord's clock; an identify beyond that is answered with INVALID_SESSION (op 9).

Frames are plain JSON text; discord.py asks for zlib/zstd transport compression but parses
text frames as JSON, so nothing is compressed.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from sandbox.discord.clock import Clock
from sandbox.discord.rules import Rules
from sandbox.discord.state import JSON, Guild, RequestRecord, World

HEARTBEAT_INTERVAL_MS = 41250
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011
SESSION_START_PERIOD = 24 * 3600.0
"""Seconds over which Discord counts session starts (`session_start_limit.total`)."""
# Events whose guild is the payload itself (its `id`), not a `guild_id` in it.
GUILD_EVENTS = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})
# Closes by which a client ends its session for good (it cannot be resumed afterwards).
ENDING_CLOSES = frozenset({WSCloseCode.OK, WSCloseCode.GOING_AWAY})


def shard_of(guild_id: str | int, shard_count: int) -> int:
    """The shard that receives the events of `guild_id` (Discord's sharding formula)."""
    return (int(guild_id) >> 22) % shard_count


def guild_of_event(name: str, payload: JSON) -> str | None:
    """The guild an event belongs to, which decides its shard; None for DMs and the like."""
    if name in GUILD_EVENTS:
        return str(payload["id"])
    guild_id = payload.get("guild_id")
    return None if guild_id is None else str(guild_id)


def valid_shard(shard: Any) -> bool:
    """Whether an IDENTIFY's `shard` is `[shard_id, num_shards]` with 0 <= id < num_shards."""
    return (
        isinstance(shard, list)
        and len(shard) == 2
        and all(isinstance(part, int) and not isinstance(part, bool) for part in shard)
        and 0 <= shard[0] < shard[1]
    )


@dataclass
class GatewaySession:
    """One gateway session: its id and shard, the events sent in it (for RESUME replay), its
    IDENTIFY, and the connection it is on (None while the bot is away)."""

    id: str
    identify: JSON
    shard: tuple[int, int] = (0, 1)
    events: list[tuple[int, str, JSON]] = field(default_factory=list)
    connection: web.WebSocketResponse | None = None
    ready: bool = False
    """READY or RESUMED was sent on the current connection."""

    @property
    def sequence(self) -> int:
        return self.events[-1][0] if self.events else 0

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.closed

    def receives(self, guild_id: str | None) -> bool:
        """Whether the events of `guild_id` (None: events without a guild) go to this session."""
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else shard_of(guild_id, count))


class Gateway:
    """Serves `/gateway` for the bot; the test side dispatches events through it."""

    def __init__(
        self,
        world: World,
        bot_token: str,
        record: Callable[[RequestRecord], None],
        on_voice_state: Callable[[JSON], Awaitable[None]],
        *,
        rules: Rules | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.world = world
        self.bot_token = bot_token
        self.rules = rules or Rules()
        self.clock = clock or Clock()
        self.url = ""
        self._record = record
        self._on_voice_state = on_voice_state
        self.session: GatewaySession | None = None
        """The session of the latest accepted IDENTIFY (None until the bot has identified)."""
        self.sessions: list[GatewaySession] = []
        """Every session the bot has not ended: connected, or away and resumable."""
        self.connection_query: dict[str, str] = {}
        self.resume_payloads: list[JSON] = []
        self.refused_identifies: list[JSON] = []
        """IDENTIFYs answered with INVALID_SESSION (identify concurrency exceeded)."""
        self.session_starts: list[float] = []
        """When each accepted IDENTIFY arrived, on the local Discord's clock."""
        self.ready = asyncio.Event()
        """Set while every session is connected and past READY (or RESUMED)."""
        self._identified: dict[int, float] = {}
        self._send_lock = asyncio.Lock()

    # -- what GET /gateway/bot reports --------------------------------------------------------

    def recommended_shards(self) -> int:
        """`Rules.recommended_shards`, else one shard per 1,000 guilds and enough for
        `Rules.max_guilds_per_shard` on average (Discord does not document how it decides; it
        stays well below the 2,500 guilds a shard may hold)."""
        if self.rules.recommended_shards is not None:
            return self.rules.recommended_shards
        guilds = len(self.world.guilds)
        return max(
            1, math.ceil(guilds / 1000), math.ceil(guilds / max(1, self.rules.max_guilds_per_shard))
        )

    def session_start_limit(self) -> JSON:
        """Discord's session start limit object: `total` starts a day (counted, not enforced),
        and how many identifies may start at once."""
        now = self.clock.now()
        recent = [at for at in self.session_starts if now - at < SESSION_START_PERIOD]
        reset_after = SESSION_START_PERIOD - (now - recent[0]) if recent else 0.0
        return {
            "total": self.rules.session_start_total,
            "remaining": max(0, self.rules.session_start_total - len(recent)),
            "reset_after": int(reset_after * 1000),
            "max_concurrency": self.rules.max_concurrency,
        }

    def let_identify_window_pass(self) -> None:
        """Forget when each rate-limit key last identified, as if `Rules.identify_window` had
        passed: for harnesses that restart the bot at once, where an operator's restart takes
        longer than the window."""
        self._identified.clear()

    # -- the websocket ------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.connection_query = dict(request.query)
        await self._send(ws, {"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    await self._receive(ws, json.loads(frame.data))
        finally:
            self._connection_closed(ws)
        return ws

    def _connection_closed(self, ws: web.WebSocketResponse) -> None:
        """The session on `ws` is away (resumable), or ended if the bot closed with 1000/1001."""
        for session in [s for s in self.sessions if s.connection is ws]:
            session.connection = None
            session.ready = False
            if ws.close_code in ENDING_CLOSES:
                self.sessions.remove(session)
        self._update_ready()

    async def _receive(self, ws: web.WebSocketResponse, message: JSON) -> None:
        op = message.get("op")
        data: Any = message.get("d")
        if op != 1:
            self._record(RequestRecord("WS", f"/gateway/op/{op}", {}, {}, json=message))
        if op == 1:
            await self._send(ws, {"op": 11, "d": None})
        elif op == 2:
            await self._identify(ws, data)
        elif op == 6:
            await self._resume(ws, data)
        elif op == 4:
            await self._on_voice_state(data)
        elif op == 8:
            await self.dispatch(
                "GUILD_MEMBERS_CHUNK",
                {
                    "guild_id": str(data["guild_id"]),
                    "members": [
                        m.to_dict() for m in self.world.guilds[str(data["guild_id"])].members
                    ],
                    "chunk_index": 0,
                    "chunk_count": 1,
                },
            )

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        if data.get("token") != self.bot_token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        shard = data.get("shard", [0, 1])
        if not valid_shard(shard):
            await ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        shard_id, count = shard
        if not self._may_identify(shard_id):
            self.refused_identifies.append(data)
            await self._send(ws, {"op": 9, "d": False})
            return
        guilds = [g for g in self.world.guilds.values() if shard_of(g.id, count) == shard_id]
        if len(guilds) > self.rules.max_guilds_per_shard:
            await ws.close(code=SHARDING_REQUIRED, message=b"Sharding required.")
            return
        self._identified[shard_id % self.rules.max_concurrency] = self.clock.now()
        self.session_starts.append(self.clock.now())
        session = GatewaySession(secrets.token_hex(16), data, (shard_id, count), connection=ws)
        # A new session of a shard replaces that shard's sessions the bot left.
        self.sessions = [s for s in self.sessions if s.connected or s.shard != session.shard]
        self.sessions.append(session)
        self.session = session
        await self._send_ready(session, guilds, "shard" in data)

    def _may_identify(self, shard_id: int) -> bool:
        """Whether the shard's rate-limit key has not identified within the window."""
        last = self._identified.get(shard_id % self.rules.max_concurrency)
        return last is None or self.clock.now() - last >= self.rules.identify_window

    async def _send_ready(
        self, session: GatewaySession, guilds: list[Guild], sharded: bool
    ) -> None:
        ready: JSON = {
            "v": 10,
            "user": self.world.bot.to_dict(),
            "guilds": [{"id": g.id, "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.url,
            "application": {"id": self.world.application_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        if sharded:
            ready["shard"] = list(session.shard)
        await self._dispatch_to(session, "READY", ready)
        for guild in guilds:
            await self._dispatch_to(
                session, "GUILD_CREATE", guild.gateway_create(self.world.bot.id)
            )
        session.ready = True
        self._update_ready()

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> None:
        self.resume_payloads.append(data)
        if data.get("token") != self.bot_token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        session = next((s for s in self.sessions if s.id == data.get("session_id")), None)
        if session is None:
            await self._send(ws, {"op": 9, "d": False})
            return
        session.connection = ws
        missed = [event for event in session.events if event[0] > int(data.get("seq") or 0)]
        for seq, name, payload in missed:
            await self._send(ws, {"op": 0, "s": seq, "t": name, "d": payload})
        await self._dispatch_to(session, "RESUMED", {})
        session.ready = True
        self._update_ready()

    # -- the test side ------------------------------------------------------------------------

    def session_for(self, guild_id: str | None) -> GatewaySession | None:
        """The newest session that receives the events of `guild_id` (None: DMs)."""
        return next((s for s in reversed(self.sessions) if s.receives(guild_id)), None)

    async def dispatch(self, name: str, payload: JSON) -> None:
        """Sends an event to the sessions of its guild's shard (DMs: shard 0), now, or kept for
        the RESUME replay of a session whose bot is reconnecting."""
        if self.session is None:
            raise RuntimeError("the bot has not identified on the gateway yet")
        guild_id = guild_of_event(name, payload)
        for session in [s for s in self.sessions if s.receives(guild_id)]:
            await self._dispatch_to(session, name, payload)

    async def _dispatch_to(self, session: GatewaySession, name: str, payload: JSON) -> None:
        seq = session.sequence + 1
        session.events.append((seq, name, payload))
        if session.connection is not None and not session.connection.closed:
            await self._send(session.connection, {"op": 0, "s": seq, "t": name, "d": payload})

    async def send_op(self, op: int, data: Any, shard: int | None = None) -> None:
        """Sends a non-dispatch op, e.g. 7 (RECONNECT) or 9 (INVALID_SESSION), on the connection
        of every session, or of the sessions of shard `shard`."""
        targets = self._connected(shard)
        if not targets:
            raise RuntimeError("no gateway connection")
        for session in targets:
            if op in (7, 9):
                session.ready = False
            assert session.connection is not None
            await self._send(session.connection, {"op": op, "d": data})
        self._update_ready()

    async def close_connection(self, code: int, shard: int | None = None) -> None:
        """Closes the connection of every session, or of the sessions of shard `shard`, with
        `code` (Discord's close codes)."""
        for session in self._connected(shard):
            session.ready = False
            self._update_ready()
            assert session.connection is not None
            await session.connection.close(code=code)

    def _connected(self, shard: int | None) -> list[GatewaySession]:
        return [s for s in self.sessions if s.connected and shard in (None, s.shard[0])]

    def _update_ready(self) -> None:
        if self.sessions and all(s.ready and s.connected for s in self.sessions):
            self.ready.set()
        else:
            self.ready.clear()

    async def _send(self, ws: web.WebSocketResponse, message: JSON) -> None:
        message.setdefault("s", None)
        message.setdefault("t", None)
        async with self._send_lock:
            if not ws.closed:
                await ws.send_str(json.dumps(message))
