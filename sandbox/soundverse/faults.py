"""Fault specs (`drop:3`, `status:429:5`, `moderation:nsfw`...) and the queue of injected faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    """What a fault does to the request it hits."""

    DROP = "drop"  # abort the connection after N events
    STALL = "stall"  # go silent after N events, keeping the connection open
    EARLY_END = "early-end"  # end the response cleanly after N events
    FAIL = "fail"  # fail the job after N events
    STATUS = "status"  # answer at once with an error status
    MODERATION = "moderation"  # refuse the prompt
    DRIP = "drip"  # delay every event by N milliseconds


STREAM_ONLY = frozenset({FaultKind.DROP, FaultKind.STALL, FaultKind.EARLY_END})
ERROR_STATUSES = frozenset({401, 422, 429, 500, 504})
MODERATION_REASONS = frozenset({"nsfw", "artist"})


class InvalidFault(ValueError):
    """A fault spec that cannot be parsed."""


@dataclass(frozen=True)
class Fault:
    """One parsed fault spec; `amount` is N events, the status code, or milliseconds."""

    kind: FaultKind
    amount: int = 0
    retry_after: int = 1
    reason: str = ""


def parse_fault(spec: str) -> Fault:
    """Read a spec such as `drop:2`, `status:429:3`, `moderation:artist` or `drip:250`."""
    name, _, rest = spec.strip().partition(":")
    try:
        kind = FaultKind(name)
    except ValueError:
        raise InvalidFault(f"unknown fault {name!r}") from None
    if kind is FaultKind.MODERATION:
        if rest not in MODERATION_REASONS:
            raise InvalidFault("moderation fault must be moderation:nsfw or moderation:artist")
        return Fault(kind, reason=rest)
    if kind is FaultKind.STATUS:
        code_text, _, retry_text = rest.partition(":")
        code = _number(code_text, spec)
        if code not in ERROR_STATUSES:
            raise InvalidFault(f"status fault must be one of {sorted(ERROR_STATUSES)}")
        retry_after = _number(retry_text, spec) if retry_text else 1
        return Fault(kind, amount=code, retry_after=retry_after)
    return Fault(kind, amount=_number(rest, spec))


def _number(text: str, spec: str) -> int:
    """A non-negative integer parameter of a spec."""
    if not text.isdigit():
        raise InvalidFault(f"fault {spec!r} needs a non-negative number")
    return int(text)


@dataclass
class _Injected:
    """A fault waiting for `remaining` more matching requests."""

    fault: Fault
    remaining: int
    path: str | None


class FaultQueue:
    """Faults injected for the next requests, oldest first."""

    def __init__(self) -> None:
        self._pending: list[_Injected] = []

    def inject(self, spec: str, count: int = 1, path: str | None = None) -> Fault:
        """Queue `spec` for the next `count` requests (only those under `path`, if given)."""
        if count < 1:
            raise InvalidFault("count must be at least 1")
        fault = parse_fault(spec)
        self._pending.append(_Injected(fault, count, path))
        return fault

    def take(self, path: str, is_api_route: bool, applies: Callable[[Fault], bool]) -> Fault | None:
        """Consume the first queued fault that applies to this request.

        Faults injected without a path only hit API routes; a path prefix can also aim
        at `/storage`.
        """
        for entry in self._pending:
            if entry.path is None and not is_api_route:
                continue
            if entry.path is not None and not path.startswith(entry.path):
                continue
            if not applies(entry.fault):
                continue
            entry.remaining -= 1
            if entry.remaining == 0:
                self._pending.remove(entry)
            return entry.fault
        return None

    def clear(self) -> None:
        """Forget every queued fault."""
        self._pending.clear()
