"""Discord's limits as the local Discord enforces them, and its per-route rate-limit buckets;
also the form checks of thread creates and scheduled events.

The numbers default to what Discord documents or is observed to do; tests change them on
`LocalDiscord.rules` (e.g. `rules.token_ttl = 0.5`, `rules.edit_limit = (2, 5.0)`).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import math
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.discord.clock import Clock

MIB = 1024 * 1024
SUPPRESS_EMBEDS = 1 << 2
HAS_THREAD = 1 << 5
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_VOICE_MESSAGE = 1 << 13
IS_COMPONENTS_V2 = 1 << 15
WAVEFORM_MAX_CHARS = 400
"""The longest `waveform` an attachment entry may carry (Discord's OpenAPI description)."""
WAVEFORM_MAX_POINTS = 256
"""The most one-byte points a voice message's waveform holds (Discord's message docs)."""
# Discord's error codes and messages for voice messages (opcodes and status codes docs).
VOICE_EXTRA_CONTENT = (50159, "Voice messages do not support additional content.")
VOICE_ONE_AUDIO_FILE = (50160, "Voice messages must have a single audio attachment.")
VOICE_METADATA = (50161, "Voice messages must have supporting metadata.")
VOICE_NOT_EDITABLE = (50162, "Voice messages cannot be edited.")
VOICE_NOT_HERE = (50173, "You cannot send voice messages in this channel.")

JSON = dict[str, Any]
# How long a thread stays in the channel list without activity, in minutes: Discord's choices.
AUTO_ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
MAX_SLOWMODE = 21600
# Scheduled events (guild scheduled event docs): entity types, the one privacy level, statuses
# and the status changes Discord allows.
STAGE_EVENT, VOICE_EVENT, EXTERNAL_EVENT = 1, 2, 3
GUILD_ONLY = 2
EVENT_SCHEDULED, EVENT_ACTIVE, EVENT_COMPLETED, EVENT_CANCELED = 1, 2, 3, 4
EVENT_TRANSITIONS = {
    (EVENT_SCHEDULED, EVENT_ACTIVE),
    (EVENT_ACTIVE, EVENT_COMPLETED),
    (EVENT_SCHEDULED, EVENT_CANCELED),
}
MAX_OPEN_EVENTS = 100


def default_tier_limits() -> dict[int, int]:
    return {0: 10 * MIB, 1: 10 * MIB, 2: 50 * MIB, 3: 100 * MIB}


@dataclass
class Rules:
    """Every limit the local Discord checks; all of them are plain attributes tests may set."""

    ack_deadline: float = 3.0
    token_ttl: float = 15 * 60.0
    attachment_limits: dict[int, int] = field(default_factory=default_tier_limits)
    max_files: int = 10
    max_request_bytes: int = 25 * MIB
    max_content: int = 2000
    max_embeds: int = 10
    edit_limit: tuple[int, float] = (5, 5.0)
    message_limit: tuple[int, float] = (5, 5.0)
    webhook_limit: tuple[int, float] = (5, 2.0)
    default_limit: tuple[int, float] = (50, 1.0)
    forced_retry_after: float = 0.05
    # The gateway's sharding rules (Discord's gateway docs): the shard count GET /gateway/bot
    # recommends (None: one per 1,000 guilds, and at least enough for `max_guilds_per_shard`),
    # how many shards may identify per `identify_window` seconds (one per rate-limit key,
    # `shard_id % max_concurrency`), the guilds one shard may hold (more closes with 4011),
    # and session starts a day (reported, not enforced).
    recommended_shards: int | None = None
    max_concurrency: int = 1
    identify_window: float = 5.0
    max_guilds_per_shard: int = 2500
    session_start_total: int = 1000

    def attachment_limit(self, premium_tier: int) -> int:
        return self.attachment_limits.get(premium_tier, self.attachment_limits[0])


class FormErrors:
    """Collects field errors in Discord's nested `errors` shape for a 400 code 50035 reply."""

    def __init__(self) -> None:
        self.tree: JSON = {}

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def __bool__(self) -> bool:
        return bool(self.tree)

    def body(self) -> JSON:
        return {"code": 50035, "message": "Invalid Form Body", "errors": self.tree}


def _too_long(errors: FormErrors, path: Sequence[str | int], value: object, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def check_message(payload: Mapping[str, Any], rules: Rules, errors: FormErrors) -> None:
    """Content, embeds and components of a message create/edit or a type 4/7 callback."""
    _too_long(errors, ["content"], payload.get("content"), rules.max_content)
    embeds = payload.get("embeds") or []
    if len(embeds) > rules.max_embeds:
        errors.add(
            ["embeds"], "BASE_TYPE_MAX_LENGTH", f"Must be {rules.max_embeds} or fewer in length."
        )
    total = sum(_check_embed(embed, ["embeds", i], errors) for i, embed in enumerate(embeds))
    if total > 6000:
        errors.add(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    check_components(payload.get("components") or [], int(payload.get("flags") or 0), errors)
    for index, entry in enumerate(payload.get("attachments") or []):
        if isinstance(entry, Mapping):
            waveform = entry.get("waveform")
            _too_long(errors, ["attachments", index, "waveform"], waveform, WAVEFORM_MAX_CHARS)


def voice_message_refusal(
    payload: Mapping[str, Any], attachments: Sequence[tuple[str, object, object]]
) -> tuple[int, str] | None:
    """Why a message flagged IS_VOICE_MESSAGE is refused (code and message), or None.

    `attachments` are the message's files as (content type, `duration_secs`, `waveform`) of
    its attachment entry. A voice message has no content, embeds, stickers, components or
    poll; exactly one attachment, of an `audio/*` type; a duration (a number) and a waveform
    (base64 of 1 to 256 bytes).
    """
    extras = ("content", "embeds", "sticker_ids", "components", "poll")
    if any(payload.get(key) for key in extras):
        return VOICE_EXTRA_CONTENT
    if len(attachments) != 1 or not attachments[0][0].lower().startswith("audio/"):
        return VOICE_ONE_AUDIO_FILE
    _, duration, waveform = attachments[0]
    if not _is_duration(duration) or not _is_waveform(waveform):
        return VOICE_METADATA
    return None


def _is_duration(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _is_waveform(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        points = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return 1 <= len(points) <= WAVEFORM_MAX_POINTS


def _check_embed(embed: Mapping[str, Any], path: list[str | int], errors: FormErrors) -> int:
    limits = {"title": 256, "description": 4096}
    counted = 0
    for key, limit in limits.items():
        _too_long(errors, [*path, key], embed.get(key), limit)
        counted += len(embed.get(key) or "")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        errors.add([*path, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, embed_field in enumerate(fields):
        _too_long(errors, [*path, "fields", i, "name"], embed_field.get("name"), 256)
        _too_long(errors, [*path, "fields", i, "value"], embed_field.get("value"), 1024)
        counted += len(embed_field.get("name") or "") + len(embed_field.get("value") or "")
    footer = embed.get("footer") or {}
    _too_long(errors, [*path, "footer", "text"], footer.get("text"), 2048)
    author = embed.get("author") or {}
    _too_long(errors, [*path, "author", "name"], author.get("name"), 256)
    return counted + len(footer.get("text") or "") + len(author.get("name") or "")


def _walk_components(components: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components") or [])
        for key in ("component", "accessory"):
            if isinstance(component.get(key), Mapping):
                yield from _walk_components([component[key]])


def check_components(
    components: Sequence[Mapping[str, Any]], flags: int, errors: FormErrors
) -> None:
    """Legacy action-row limits, or the 40-component cap of Components V2, plus custom_id rules."""
    if flags & IS_COMPONENTS_V2:
        if sum(1 for _ in _walk_components(components)) > 40:
            errors.add(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
    else:
        _check_action_rows(components, errors)
    seen: set[str] = set()
    for component in _walk_components(components):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        if not 1 <= len(custom_id) <= 100:
            errors.add(
                ["components", "custom_id"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        if custom_id in seen:
            errors.add(
                ["components"],
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)


def _check_action_rows(rows: Sequence[Mapping[str, Any]], errors: FormErrors) -> None:
    if len(rows) > 5:
        errors.add(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for r, row in enumerate(rows):
        if row.get("type") != 1:
            errors.add(
                ["components", r, "type"], "UNION_TYPE_CHOICES", "Value must be an action row."
            )
            continue
        children = row.get("components") or []
        buttons = [c for c in children if c.get("type") == 2]
        others = [c for c in children if c.get("type") != 2]
        if len(buttons) > 5 or (others and len(children) > 1) or not children:
            errors.add(
                ["components", r, "components"],
                "BASE_TYPE_BAD_LENGTH",
                "An action row holds 1 to 5 buttons or exactly one select menu.",
            )
        for c, child in enumerate(children):
            _too_long(errors, ["components", r, "components", c, "label"], child.get("label"), 80)
            _too_long(errors, ["components", r, "components", c, "url"], child.get("url"), 512)
            if len(child.get("options") or []) > 25:
                errors.add(
                    ["components", r, "components", c, "options"],
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 25 or fewer in length.",
                )


def check_modal(data: Mapping[str, Any], errors: FormErrors) -> None:
    """A type 9 callback: title, custom_id, 1 to 5 top-level components."""
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 45:
        errors.add(["data", "title"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
        errors.add(
            ["data", "custom_id"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors.add(
            ["data", "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
    for component in _walk_components(components):
        if component.get("type") == 4:
            _too_long(errors, ["data", "components", "label"], component.get("label"), 45)
            _too_long(errors, ["data", "components", "value"], component.get("value"), 4000)


def check_autocomplete(data: Mapping[str, Any], errors: FormErrors) -> None:
    """A type 8 callback: at most 25 choices, names and values of at most 100 characters."""
    choices = data.get("choices") or []
    if len(choices) > 25:
        errors.add(["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, choice in enumerate(choices):
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            errors.add(
                ["data", "choices", i, "name"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        _too_long(errors, ["data", "choices", i, "value"], choice.get("value"), 100)


def _is_command_name(name: object, *, lowercase: bool) -> bool:
    """Approximates `^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$` (Python's re lacks \\p)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return False
    if lowercase and name != name.lower():
        return False
    return all(ch in "-_'" or unicodedata.category(ch)[0] in "LNM" for ch in name)


def _command_text(option: Mapping[str, Any]) -> int:
    """Characters that count toward the 8000 total: names, descriptions, choice names and values."""
    total = len(option.get("name") or "") + len(option.get("description") or "")
    for choice in option.get("choices") or []:
        total += len(choice.get("name") or "") + len(str(choice.get("value") or ""))
    return total + sum(_command_text(sub) for sub in option.get("options") or [])


def check_commands(commands: Sequence[Mapping[str, Any]], errors: FormErrors) -> None:
    """A bulk overwrite: per-command rules, duplicate names and the per-type counts."""
    caps = {1: 100, 2: 15, 3: 15}
    counts: dict[int, int] = {}
    names: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        kind = int(command.get("type") or 1)
        counts[kind] = counts.get(kind, 0) + 1
        key = (kind, str(command.get("name")))
        if key in names:
            errors.add(
                [i, "name"],
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        names.add(key)
        check_command(command, [i], errors)
    for kind, count in counts.items():
        if count > caps.get(kind, 100):
            errors.add([], "BASE_TYPE_MAX_LENGTH", f"Too many commands of type {kind}.")


def check_command(command: Mapping[str, Any], path: list[str | int], errors: FormErrors) -> None:
    kind = int(command.get("type") or 1)
    if kind == 1:
        if not _is_command_name(command.get("name"), lowercase=True):
            errors.add(
                [*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
        _check_description(command, path, errors)
        _check_options(command.get("options") or [], [*path, "options"], errors)
        if _command_text(command) > 8000:
            errors.add(path, "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (8000)")
    else:
        name = command.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            errors.add(
                [*path, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
            )
        if command.get("description") or command.get("options"):
            errors.add(
                path,
                "APPLICATION_COMMAND_CONTEXT_MENU",
                "Context menu commands take no description or options",
            )


def _check_description(
    option: Mapping[str, Any], path: list[str | int], errors: FormErrors
) -> None:
    description = option.get("description")
    if not isinstance(description, str) or not 1 <= len(description) <= 100:
        errors.add(
            [*path, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )


def _check_options(
    options: Sequence[Mapping[str, Any]], path: list[str | int], errors: FormErrors
) -> None:
    if len(options) > 25:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    optional_seen = False
    for i, option in enumerate(options):
        here = [*path, i]
        if not _is_command_name(option.get("name"), lowercase=True):
            errors.add(
                [*here, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Option name is invalid"
            )
        _check_description(option, here, errors)
        if option.get("type") in (1, 2):
            _check_options(option.get("options") or [], [*here, "options"], errors)
            continue
        if option.get("required"):
            if optional_seen:
                errors.add(
                    here,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        _check_choices(option, here, errors)


def _check_choices(option: Mapping[str, Any], path: list[str | int], errors: FormErrors) -> None:
    choices = option.get("choices") or []
    if choices and option.get("autocomplete"):
        errors.add(
            [*path, "autocomplete"],
            "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES",
            "Autocomplete and choices are mutually exclusive",
        )
    if len(choices) > 25:
        errors.add([*path, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for c, choice in enumerate(choices):
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            errors.add(
                [*path, "choices", c, "name"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        _too_long(errors, [*path, "choices", c, "value"], choice.get("value"), 100)


@dataclass
class RateLimitVerdict:
    """What a bucket says about one request: allowed or not, and the headers to send."""

    allowed: bool
    headers: dict[str, str]
    retry_after: float


@dataclass
class _Window:
    started: float
    count: int = 0


@dataclass
class _ForcedLimit:
    remaining: int
    method: str | None
    path_prefix: str | None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or path.startswith(self.path_prefix)
        )


class RateLimiter:
    """Fixed-window buckets keyed by (route bucket, top-level resource), as Discord keys them."""

    def __init__(self, rules: Rules, clock: Clock) -> None:
        self._rules = rules
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._forced: list[_ForcedLimit] = []

    def force(self, count: int, method: str | None, path_prefix: str | None) -> None:
        self._forced.append(_ForcedLimit(count, method, path_prefix))

    def check(self, bucket: str, resource: str, method: str, path: str) -> RateLimitVerdict:
        limit, per = self._limit_of(bucket)
        now = self._clock.now()
        window = self._windows.get((bucket, resource))
        if window is None or now >= window.started + per:
            window = self._windows[(bucket, resource)] = _Window(started=now)
        reset_after = window.started + per - now
        if self._take_forced(method, path):
            return self._limited(bucket, limit, 0, self._rules.forced_retry_after)
        if window.count >= limit:
            return self._limited(bucket, limit, 0, reset_after)
        window.count += 1
        remaining = limit - window.count
        return RateLimitVerdict(True, _headers(bucket, limit, remaining, reset_after), 0.0)

    def _take_forced(self, method: str, path: str) -> bool:
        for forced in self._forced:
            if forced.remaining > 0 and forced.matches(method, path):
                forced.remaining -= 1
                return True
        return False

    def _limited(
        self, bucket: str, limit: int, remaining: int, retry_after: float
    ) -> RateLimitVerdict:
        headers = _headers(bucket, limit, remaining, retry_after)
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        headers["X-RateLimit-Scope"] = "user"
        return RateLimitVerdict(False, headers, retry_after)

    def _limit_of(self, bucket: str) -> tuple[int, float]:
        limits = {
            "message_edit": self._rules.edit_limit,
            "message_create": self._rules.message_limit,
            "webhook_execute": self._rules.webhook_limit,
        }
        return limits.get(bucket, self._rules.default_limit)


def _headers(bucket: str, limit: int, remaining: int, reset_after: float) -> dict[str, str]:
    reset_after = max(reset_after, 0.0)
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": hashlib.sha1(bucket.encode()).hexdigest()[:32],
    }


def _required(errors: FormErrors, path: Sequence[str | int]) -> None:
    errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")


def _length(
    errors: FormErrors, path: Sequence[str | int], value: object, low: int, high: int
) -> None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        errors.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def check_thread(payload: Mapping[str, Any], errors: FormErrors) -> None:
    """The thread fields of a thread create: a 1-100 character name, an archive duration among
    Discord's four and a slow mode of at most six hours."""
    if payload.get("name") is None:
        _required(errors, ["name"])
    else:
        _length(errors, ["name"], payload.get("name"), 1, 100)
    duration = payload.get("auto_archive_duration")
    if duration is not None and duration not in AUTO_ARCHIVE_DURATIONS:
        choices = ", ".join(map(str, AUTO_ARCHIVE_DURATIONS))
        errors.add(
            ["auto_archive_duration"], "BASE_TYPE_CHOICES", f"Value must be one of {{{choices}}}."
        )
    slowmode = payload.get("rate_limit_per_user")
    if slowmode is not None and not (isinstance(slowmode, int) and 0 <= slowmode <= MAX_SLOWMODE):
        errors.add(
            ["rate_limit_per_user"],
            "NUMBER_TYPE_MAX",
            f"int value should be less than or equal to {MAX_SLOWMODE}.",
        )


def parse_timestamp(value: object) -> datetime.datetime | None:
    """An ISO 8601 timestamp with its offset, or None if `value` is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def check_scheduled_event(
    event: Mapping[str, Any], errors: FormErrors, *, start_changed: bool
) -> None:
    """A scheduled event as a create or an edit leaves it, by Discord's field requirements: a
    stage or voice event has a channel; an external one has no channel, a 1-100 character
    location and an end; a new start lies in the future and the end after the start."""
    if event.get("name") is None:
        _required(errors, ["name"])
    else:
        _length(errors, ["name"], event.get("name"), 1, 100)
    description = event.get("description")
    if description is not None:
        _length(errors, ["description"], description, 0, 1000)
    if event.get("privacy_level") != GUILD_ONLY:
        errors.add(
            ["privacy_level"], "BASE_TYPE_CHOICES", f"Value must be one of {{{GUILD_ONLY}}}."
        )
    _check_event_times(event, errors, start_changed=start_changed)
    _check_event_place(event, errors)


def _check_event_times(
    event: Mapping[str, Any], errors: FormErrors, *, start_changed: bool
) -> None:
    start = parse_timestamp(event.get("scheduled_start_time"))
    end = parse_timestamp(event.get("scheduled_end_time"))
    if start is None:
        _required(errors, ["scheduled_start_time"])
    elif start_changed and start <= datetime.datetime.now(datetime.UTC):
        errors.add(
            ["scheduled_start_time"],
            "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
            "Cannot schedule event in the past.",
        )
    if event.get("scheduled_end_time") is not None and end is None:
        errors.add(
            ["scheduled_end_time"], "DATE_TYPE_INVALID", "Could not interpret the value as a date."
        )
    if start is not None and end is not None and end <= start:
        errors.add(
            ["scheduled_end_time"],
            "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
            "Cannot schedule an event to end before it starts.",
        )


def _check_event_place(event: Mapping[str, Any], errors: FormErrors) -> None:
    kind = event.get("entity_type")
    if kind not in (STAGE_EVENT, VOICE_EVENT, EXTERNAL_EVENT):
        errors.add(["entity_type"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
    elif kind == EXTERNAL_EVENT:
        if event.get("channel_id") is not None:
            errors.add(["channel_id"], "BASE_TYPE_BAD_VALUE", "Must be null for an external event.")
        if event.get("location") is None:
            _required(errors, ["entity_metadata", "location"])
        else:
            _length(errors, ["entity_metadata", "location"], event.get("location"), 1, 100)
        if event.get("scheduled_end_time") is None:
            _required(errors, ["scheduled_end_time"])
    elif event.get("channel_id") is None:
        _required(errors, ["channel_id"])
