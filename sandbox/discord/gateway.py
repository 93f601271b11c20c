"""The gateway websocket: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME with replay, op 4.

Frames are plain JSON text; discord.py asks for zlib/zstd transport compression but parses
text frames as JSON, so nothing is compressed.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from sandbox.discord.state import JSON, RequestRecord, World

HEARTBEAT_INTERVAL_MS = 41250


@dataclass
class GatewaySession:
    """One gateway session: its id, the events sent in it (for RESUME replay) and its IDENTIFY."""

    id: str
    identify: JSON
    events: list[tuple[int, str, JSON]] = field(default_factory=list)

    @property
    def sequence(self) -> int:
        return self.events[-1][0] if self.events else 0


class Gateway:
    """Serves `/gateway` for the bot; the test side dispatches events through it."""

    def __init__(
        self,
        world: World,
        bot_token: str,
        record: Callable[[RequestRecord], None],
        on_voice_state: Callable[[JSON], Awaitable[None]],
    ) -> None:
        self.world = world
        self.bot_token = bot_token
        self.url = ""
        self._record = record
        self._on_voice_state = on_voice_state
        self.session: GatewaySession | None = None
        self.connection: web.WebSocketResponse | None = None
        self.connection_query: dict[str, str] = {}
        self.resume_payloads: list[JSON] = []
        self.ready = asyncio.Event()
        self._send_lock = asyncio.Lock()

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
            if self.connection is ws:
                self.connection = None
                self.ready.clear()
        return ws

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
        self.session = GatewaySession(secrets.token_hex(16), data)
        self.connection = ws
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.world.bot.to_dict(),
                "guilds": [{"id": g, "unavailable": True} for g in self.world.guilds],
                "session_id": self.session.id,
                "resume_gateway_url": self.url,
                "application": {"id": self.world.application_id, "flags": 0},
                "shard": [0, 1],
                "private_channels": [],
                "relationships": [],
            },
        )
        for guild in self.world.guilds.values():
            await self.dispatch("GUILD_CREATE", guild.gateway_create(self.world.bot.id))
        self.ready.set()

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> None:
        self.resume_payloads.append(data)
        session = self.session
        if data.get("token") != self.bot_token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if session is None or data.get("session_id") != session.id:
            await self._send(ws, {"op": 9, "d": False})
            return
        self.connection = ws
        missed = [event for event in session.events if event[0] > int(data.get("seq") or 0)]
        for seq, name, payload in missed:
            await self._send(ws, {"op": 0, "s": seq, "t": name, "d": payload})
        await self.dispatch("RESUMED", {})
        self.ready.set()

    async def dispatch(self, name: str, payload: JSON) -> None:
        """Sends an event now, or keeps it for the RESUME replay if the bot is reconnecting."""
        if self.session is None:
            raise RuntimeError("the bot has not identified on the gateway yet")
        seq = self.session.sequence + 1
        self.session.events.append((seq, name, payload))
        if self.connection is not None and not self.connection.closed:
            await self._send(self.connection, {"op": 0, "s": seq, "t": name, "d": payload})

    async def send_op(self, op: int, data: Any) -> None:
        """Sends a non-dispatch op, e.g. 7 (RECONNECT) or 9 (INVALID_SESSION)."""
        if self.connection is None:
            raise RuntimeError("no gateway connection")
        if op in (7, 9):
            self.ready.clear()
        await self._send(self.connection, {"op": op, "d": data})

    async def close_connection(self, code: int) -> None:
        if self.connection is not None:
            self.ready.clear()
            await self.connection.close(code=code)

    async def _send(self, ws: web.WebSocketResponse, message: JSON) -> None:
        message.setdefault("s", None)
        message.setdefault("t", None)
        async with self._send_lock:
            if not ws.closed:
                await ws.send_str(json.dumps(message))
