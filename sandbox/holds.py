"""Holding requests at a chosen point, so a test can stop or kill the bot at an exact stage.

A `Hold` catches every request of one method under one path prefix, says when the first one
arrived, and keeps each waiting until it is released: "the bot is downloading the take right
now" or "the result post reached Discord and its answer is on the way". Both local stand-ins
keep a `Holds`; stopping a stand-in releases everything it holds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum

from aiohttp import web


class HoldPoint(StrEnum):
    """Where a request waits."""

    BEFORE = "before"  # before it is handled: nothing it asks for has happened yet (and if its
    # client has gone by the time it is released, it never is)
    AFTER = "after"  # after it was handled, before its answer is sent
    STREAMING = "streaming"  # a streamed answer (the voice assistant's): after its first
    # chunk, before the rest


@dataclass(eq=False)
class Hold:
    """Requests of `method` under `path_prefix` wait at `point` until `release()`."""

    method: str
    path_prefix: str
    point: HoldPoint = HoldPoint.BEFORE
    skip: int = 0
    """How many matching requests pass before the hold catches the next ones."""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    caught: int = 0

    def matches(self, method: str, path: str, point: HoldPoint) -> bool:
        return (
            not self.released.is_set()
            and point is self.point
            and method.upper() == self.method.upper()
            and path.startswith(self.path_prefix)
        )

    async def wait_for_arrival(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once a request is waiting here."""
        await asyncio.wait_for(self.arrived.wait(), timeout)

    def release(self) -> None:
        """Let every waiting request, and every later one, go on."""
        self.released.set()


# What a server answers a request whose client has gone (nginx's code; no one reads it).
CLIENT_CLOSED_REQUEST = 499


class ClientGone(Exception):
    """A held request whose client went away before it was released: never handled."""


class Holds:
    """The holds of one stand-in."""

    def __init__(self) -> None:
        self._holds: list[Hold] = []

    def add(
        self, method: str, path_prefix: str, point: HoldPoint = HoldPoint.BEFORE, skip: int = 0
    ) -> Hold:
        """Hold the requests of `method` under `path_prefix` at `point` from now on, once
        `skip` of them have passed."""
        hold = Hold(method, path_prefix, point, skip)
        self._holds.append(hold)
        return hold

    async def pass_point(self, request: web.Request, point: HoldPoint) -> None:
        """Wait at every unreleased hold this request matches. A request held before it was
        handled whose client went away meanwhile is abandoned (`ClientGone`)."""
        held = False
        for hold in list(self._holds):
            if hold.matches(request.method, request.path, point):
                if hold.skip > 0:
                    hold.skip -= 1
                    continue
                held = True
                hold.caught += 1
                hold.arrived.set()
                await hold.released.wait()
        transport = request.transport
        if held and point is HoldPoint.BEFORE and (transport is None or transport.is_closing()):
            raise ClientGone(f"{request.method} {request.path}: the client went away")

    def release_all(self) -> None:
        for hold in self._holds:
            hold.release()
        self._holds.clear()
