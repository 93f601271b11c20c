"""The local Discord and the local Soundverse with the probes the job benchmark reads.

Every instant is `time.monotonic()`, which on Linux is one clock for every process, so
stamps taken here compare with stamps a bot subprocess prints. An acknowledgement is stamped
with the kernel's receive time of its bytes, read with the bytes themselves (SO_TIMESTAMPNS).
"""

from __future__ import annotations

import itertools
import re
import socket
import ssl
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.discord import LocalDiscord, Rules
from sandbox.discord.state import JSON, Interaction
from sandbox.discord.voice import VoiceServer
from sandbox.soundverse import Job, SoundverseStandIn
from sandbox.soundverse.endpoints import Endpoint
from sandbox.soundverse.faults import Fault
from sandbox.soundverse.inputs import InputAudio
from sandbox.soundverse.validation import Body

BOT_TOKEN = "bench-bot-token"
# POST /api/v10/interactions/{id}/{token}/callback
CALLBACK_PREFIX = b"POST /api/v10/interactions/"
CALLBACK_LINE = re.compile(rb"POST /api/v10/interactions/(\d+)/[^/ ]+/callback[ ?]")
API_KEY = "bench-key"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Linux's option for receive timestamps in nanoseconds; the value is CLOCK_REALTIME.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TIMESTAMP_SPACE = socket.CMSG_SPACE(struct.calcsize("qq"))


def arrival(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The monotonic instant the kernel received the bytes of one read (now, if it did not
    say): its receive timestamp is wall-clock time, so the age is taken on that clock."""
    now = time.monotonic()
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", data[: struct.calcsize("qq")])
            age: int = time.time_ns() - (seconds * 1_000_000_000 + nanoseconds)
            return now - max(0, age) / 1e9
    return now


class ArrivalStampedSocket(socket.socket):
    """A listening TCP socket whose connections read with the kernel's receive timestamp, and
    hand every read to `on_read` with the instant its bytes arrived: an acknowledgement is
    stamped when it reached this machine's Discord, not when this process's busy event loop
    got round to reading it. asyncio reads a plain protocol's socket with `recv`."""

    def __init__(self, on_read: Callable[[bytes, float], None], fileno: int | None = None) -> None:
        super().__init__(socket.AF_INET, socket.SOCK_STREAM, fileno=fileno)
        self.on_read = on_read

    def accept(self) -> tuple[socket.socket, Any]:
        plain, address = super().accept()
        connection = ArrivalStampedSocket(self.on_read, fileno=plain.detach())
        connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        return connection, address

    def recv(self, size: int, flags: int = 0, /) -> bytes:
        data, ancillary, _, _ = self.recvmsg(size, TIMESTAMP_SPACE, flags)
        if data:
            self.on_read(data, arrival(ancillary))
        return data


class ProbedDiscord:
    """A `LocalDiscord` that stamps each interaction's dispatch, callback and result."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.local = LocalDiscord(bot_token=BOT_TOKEN, validate_openapi=False, rules=rules)
        self.dispatched: dict[str, float] = {}
        self.acked: dict[str, float] = {}
        self.results: dict[str, float] = {}
        self.failures: dict[str, float] = {}
        self.tokens: dict[str, str] = {}
        self.watchers: list[Callable[[], None]] = []
        """Called after every HTTP request to the local Discord is handled (its change made)."""
        self._ids_by_token: dict[str, str] = {}
        self._interactions_by_token: dict[str, Interaction] = {}
        self._indexed = 0
        self._hook_gateway()
        self._hook_routes()
        self._index_tokens()

    async def start(self) -> None:
        listener = ArrivalStampedSocket(self._note_read)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        listener.setblocking(False)
        await self.local.start(sock=listener)

    async def stop(self) -> None:
        await self.local.stop()

    @property
    def in_flight(self) -> int:
        """Interactions dispatched whose job has not ended yet (no result, no failure card)."""
        return len(self.dispatched) - len(self.results) - len(self.failures)

    def ended(self, interaction_id: str) -> bool:
        return interaction_id in self.results or interaction_id in self.failures

    def rest_requests(self, since: int = 0) -> list[Any]:
        """REST requests (not gateway frames, not attachment downloads) from index `since`."""
        return [r for r in self.local.requests[since:] if r.path.startswith("/api/")]

    def _hook_gateway(self) -> None:
        dispatch = self.local.gateway.dispatch

        async def stamped(name: str, payload: JSON) -> None:
            await dispatch(name, payload)
            if name == "INTERACTION_CREATE":
                # Stamped once the frame is written: queueing behind other frames on the
                # harness side is not the bot's latency.
                self.dispatched[payload["id"]] = time.monotonic()
                self._ids_by_token[payload["token"]] = payload["id"]
                self.tokens[payload["id"]] = payload["token"]

        self.local.gateway.dispatch = stamped  # type: ignore[method-assign]

    def _hook_routes(self) -> None:
        routes = self.local.rest.routes

        @web.middleware
        async def stamp(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._stamp(request, handler)

        def with_stamps(app: web.Application) -> None:
            routes(app)
            app.middlewares.append(stamp)

        self.local.rest.routes = with_stamps  # type: ignore[method-assign]

    def _note_read(self, data: bytes, arrived: float) -> None:
        """An interaction callback is acknowledged when its request's bytes arrived."""
        if data.startswith(CALLBACK_PREFIX):
            match = CALLBACK_LINE.match(data)
            if match is not None:
                self.acked.setdefault(match[1].decode(), arrived)

    async def _stamp(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        parts = request.path.split("/")
        is_post = request.method == "POST"
        response = await handler(request)
        for watch in list(self.watchers):
            watch()
        # /api/v10/webhooks/{application}/{token}: a follow-up, which is how results are posted
        if len(parts) >= 6 and parts[3] == "webhooks" and response.status == 200:
            interaction_id = self._ids_by_token.get(parts[5])
            if interaction_id is not None and is_post:
                self.results.setdefault(interaction_id, time.monotonic())
            elif interaction_id is not None and request.method == "PATCH":
                self._note_failure(interaction_id)
        return response

    def _note_failure(self, interaction_id: str) -> None:
        """A card edited to the failure line (❌) ends its job without a result."""
        original = self.local.world.interactions[interaction_id].original
        if original is None or interaction_id in self.results:
            return
        if any("❌" in str(embed.get("description", "")) for embed in original.embeds):
            self.failures.setdefault(interaction_id, time.monotonic())

    def _index_tokens(self) -> None:
        """Replaces the stand-in's linear token scan, which grows with every interaction."""
        world = self.local.world

        def by_token(token: str) -> Interaction | None:
            found = self._interactions_by_token.get(token)
            if found is None and len(world.interactions) > self._indexed:
                fresh = itertools.islice(world.interactions.values(), self._indexed, None)
                for interaction in fresh:
                    self._interactions_by_token[interaction.token] = interaction
                self._indexed = len(world.interactions)
                found = self._interactions_by_token.get(token)
            return found

        world.interaction_by_token = by_token  # type: ignore[method-assign]


class TimedSoundverse(SoundverseStandIn):
    """The local Soundverse, noting when each job published its first `streaming_ready` event
    (as it publishes it) and its last (once published). Only stamps are added: what the API
    sends is unchanged."""

    def __init__(self, time_scale: float) -> None:
        super().__init__(api_keys={API_KEY}, time_scale=time_scale)
        self.completed_at: dict[str, float] = {}
        self.streaming_at: dict[str, float] = {}

    def _start_job(
        self, endpoint: Endpoint, body: Body, inputs: dict[str, InputAudio], fault: Fault | None
    ) -> Job:
        job = super()._start_job(endpoint, body, inputs, fault)
        publish = job.publish

        async def stamped(chunk: dict[str, Any]) -> None:
            if chunk.get("streaming_ready") is True:
                self.streaming_at.setdefault(job.message_id, time.monotonic())
            await publish(chunk)
            if chunk.get("isComplete"):
                self.completed_at[job.message_id] = time.monotonic()

        job.publish = stamped  # type: ignore[method-assign]
        return job


def stamped_discord(rules: Rules | None = None) -> tuple[ProbedDiscord, VoiceServer]:
    """A probed local Discord whose voice server stamps each packet with the kernel's receive
    time of its datagram and does not decode what it hears (only arrival times are read)."""
    discord = ProbedDiscord(rules)
    voice = VoiceServer(decode=False, kernel_timestamps=True)
    discord.local.voice = voice
    return discord, voice


def write_authority(voice: VoiceServer, path: Path) -> Path:
    """The voice gateway's certificate authority as a PEM file, for SSL_CERT_FILE."""
    certificates = voice.client_ssl_context().get_ca_certs(binary_form=True)
    path.write_text("".join(ssl.DER_cert_to_PEM_cert(der) for der in certificates))
    return path
