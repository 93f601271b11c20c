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
    KEEPALIVE = "keepalive"  # after N events, only keep-alive comments, forever
    ERROR_EVENT = "error-event"  # after N events, an `event: error` with a reason, then the end
    FLOOD = "flood"  # after N events, `data:` lines that never end an event
    ERROR_BODY = "error-body"  # answer 200 with a JSON error body instead of the reply
    HTML = "html"  # answer at once with status N and an HTML error page (a proxy's)
    EMPTY = "empty"  # the job completes without any audio
    REDIRECT = "redirect"  # answer with status N (301-308) to the same path on `localhost`


STREAM_ONLY = frozenset(
    {
        FaultKind.DROP,
        FaultKind.STALL,
        FaultKind.EARLY_END,
        FaultKind.KEEPALIVE,
        FaultKind.ERROR_EVENT,
        FaultKind.FLOOD,
    }
)
ERROR_STATUSES = frozenset({401, 422, 429, 500, 504})
HTML_STATUSES = frozenset({502, 503})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
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


# Faults that take no parameter, and those whose parameter is a status from a fixed set.
_BARE = frozenset({FaultKind.ERROR_BODY, FaultKind.EMPTY})
_CODED = {FaultKind.HTML: HTML_STATUSES, FaultKind.REDIRECT: REDIRECT_STATUSES}


def parse_fault(spec: str) -> Fault:
    """Read a spec such as `drop:2`, `status:429:3`, `moderation:artist`, `html:502`."""
    name, _, rest = spec.strip().partition(":")
    try:
        kind = FaultKind(name)
    except ValueError:
        raise InvalidFault(f"unknown fault {name!r}") from None
    if kind is FaultKind.MODERATION:
        if rest not in MODERATION_REASONS:
            raise InvalidFault("moderation fault must be moderation:nsfw or moderation:artist")
        return Fault(kind, reason=rest)
    if kind in _BARE:
        return Fault(kind)
    if kind is FaultKind.STATUS:
        return _status_fault(rest, spec)
    amount = _number(rest, spec)
    if kind in _CODED and amount not in _CODED[kind]:
        raise InvalidFault(f"{kind} fault must be one of {sorted(_CODED[kind])}")
    return Fault(kind, amount=amount)


def _status_fault(rest: str, spec: str) -> Fault:
    code_text, _, retry_text = rest.partition(":")
    code = _number(code_text, spec)
    if code not in ERROR_STATUSES:
        raise InvalidFault(f"status fault must be one of {sorted(ERROR_STATUSES)}")
    retry_after = _number(retry_text, spec) if retry_text else 1
    return Fault(FaultKind.STATUS, amount=code, retry_after=retry_after)


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
