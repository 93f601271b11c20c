"""Checks recorded REST traffic against Discord's own OpenAPI description of API v10.

The spec is `$DISCORD_OPENAPI_SPEC` or `<repo>/../shared/reference/discord-openapi.json`; it is
loaded once per process. `jsonschema` and `referencing` are development dependencies, so they
are imported here only, when a validator is first built.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.discord.state import RequestRecord

API_PREFIX = "/api/v10"
SPEC_URI = "urn:discord:openapi"


@dataclass(frozen=True)
class Violation:
    """One mismatch between a recorded request or response and the spec."""

    method: str
    path: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.where}: {self.message}"


def default_spec_path() -> Path:
    configured = os.environ.get("DISCORD_OPENAPI_SPEC")
    if configured:
        return Path(configured)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "reference" / "discord-openapi.json"


def spec_available() -> bool:
    """Whether Discord's OpenAPI description is where `default_spec_path` looks."""
    return default_spec_path().is_file()


@functools.cache
def _load_spec(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(
            f"Discord OpenAPI spec not found at {path}; set DISCORD_OPENAPI_SPEC to its location"
        )
    with path.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = json.load(handle)
    return spec


@dataclass(frozen=True)
class _Operation:
    template: str
    pattern: re.Pattern[str]
    literal_segments: int


class OpenAPIValidator:
    """Maps a request to its operation (path template + method) and validates both bodies."""

    def __init__(self, spec_path: Path | None = None) -> None:
        import referencing
        from referencing.jsonschema import DRAFT202012

        self.spec = _load_spec(spec_path or default_spec_path())
        resource = DRAFT202012.create_resource(self.spec)
        self._registry: Any = referencing.Registry().with_resource(SPEC_URI, resource)
        self._operations = [_compile(template) for template in self.spec["paths"]]
        self._validators: dict[str, Any] = {}

    def operation_for(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        if not path.startswith(API_PREFIX):
            return None
        relative = path[len(API_PREFIX) :]
        matches = [op for op in self._operations if op.pattern.fullmatch(relative)]
        # A literal segment beats a parameter: `/messages/@original` is not `/messages/{id}`.
        for op in sorted(matches, key=lambda op: -op.literal_segments):
            operation = self.spec["paths"][op.template].get(method.lower())
            if operation is not None:
                return op.template, operation
        return None

    def validate(self, record: RequestRecord) -> list[Violation]:
        found = self.operation_for(record.method, record.path)
        if found is None:
            return [self._violation(record, "operation", "no operation in the spec")]
        template, operation = found
        pointer = f"/paths/{_escape(template)}/{record.method.lower()}"
        return self._check_request(record, operation, pointer) + self._check_response(
            record, operation, pointer
        )

    def _check_request(
        self, record: RequestRecord, operation: dict[str, Any], pointer: str
    ) -> list[Violation]:
        body_spec = operation.get("requestBody")
        if record.status == 413 and record.json is None and not record.files:
            # Refused on its Content-Length before the body was read: there is nothing to check.
            return []
        if body_spec is None or record.json is None:
            if body_spec is not None and body_spec.get("required") and not record.files:
                return [self._violation(record, "request", "a body is required")]
            return []
        media = "multipart/form-data" if record.files else "application/json"
        if media not in body_spec["content"]:
            return [self._violation(record, "request", f"{media} is not accepted")]
        schema_pointer = f"{pointer}/requestBody/content/{_escape(media)}/schema"
        return self._errors(record, "request", schema_pointer, _as_discord_reads(record.json))

    def _check_response(
        self, record: RequestRecord, operation: dict[str, Any], pointer: str
    ) -> list[Violation]:
        responses: dict[str, Any] = operation["responses"]
        status = str(record.status)
        key = next((k for k in (status, f"{status[0]}XX", "default") if k in responses), None)
        if key is None:
            return [self._violation(record, "response", f"status {status} is not documented")]
        response = self._deref(responses[key])
        content = response.get("content") or {}
        if "application/json" not in content:
            if record.response is not None:
                return [self._violation(record, "response", f"status {status} has no body")]
            return []
        if key == responses[key].get("$ref", key):
            schema_pointer = f"{pointer}/responses/{key}/content/application~1json/schema"
        else:
            target = responses[key]["$ref"].removeprefix("#")
            schema_pointer = f"{target}/content/application~1json/schema"
        return self._errors(
            record, "response", schema_pointer, _error_codes_as_spec(record.response)
        )

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _errors(
        self, record: RequestRecord, where: str, schema_pointer: str, instance: Any
    ) -> list[Violation]:
        violations = []
        for error in self._validator(schema_pointer).iter_errors(instance):
            # For a failed union, the closest branch's error says more than "not valid under any".
            precise = _deepest(error)
            location = "/".join(map(str, precise.absolute_path)) or "(body)"
            violations.append(
                self._violation(record, where, f"{location}: {precise.message[:300]}")
            )
        return violations

    def _validator(self, schema_pointer: str) -> Any:
        if schema_pointer not in self._validators:
            from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

            schema = {"$ref": f"{SPEC_URI}#{schema_pointer}"}
            self._validators[schema_pointer] = Draft202012Validator(schema, registry=self._registry)
        return self._validators[schema_pointer]

    @staticmethod
    def _violation(record: RequestRecord, where: str, message: str) -> Violation:
        return Violation(record.method, record.path, where, message)


def _deepest(error: Any) -> Any:
    """The leaf error that got furthest into the instance, through nested unions."""
    if not error.context:
        return error
    leaves = [_deepest(sub) for sub in error.context]
    return max(leaves, key=lambda leaf: len(leaf.absolute_path))


def _as_discord_reads(body: Any) -> Any:
    """The request body with the spec/discord.py disagreements Discord itself accepts resolved.

    * `attachments[].id`: the spec types it as a snowflake string, but for a new upload it is
      the placeholder index of its `files[n]` part, and both Discord's docs ("Uploading Files")
      and discord.py send it as an integer. Integers are turned into strings; anything else
      (a float, a negative number) is left for the schema to reject.
    * `allowed_mentions.users` / `.roles`, `recipient_id` of a new DM channel and `channel_id`
      of a scheduled event: discord.py sends the snowflakes as JSON integers, which Discord
      accepts (it parses snowflakes from either form); the spec wants strings.
    * The same inside `data` (a callback's message) and `message` (a forum post's first one).
    """
    if not isinstance(body, dict):
        return body
    fixed = dict(body)
    for nested in ("data", "message"):
        if isinstance(body.get(nested), dict):
            fixed[nested] = _as_discord_reads(body[nested])
    mentions = body.get("allowed_mentions")
    if isinstance(mentions, dict):
        fixed["allowed_mentions"] = {
            key: [str(v) if isinstance(v, int) else v for v in value]
            if key in ("users", "roles") and isinstance(value, list)
            else value
            for key, value in mentions.items()
        }
    for key in ("recipient_id", "channel_id"):
        if isinstance(body.get(key), int) and body[key] >= 0:
            fixed[key] = str(body[key])
    if isinstance(body.get("attachments"), list):
        fixed["attachments"] = [
            {**item, "id": str(item["id"])}
            if isinstance(item, dict) and isinstance(item.get("id"), int) and item["id"] >= 0
            else item
            for item in body["attachments"]
        ]
    return fixed


def _error_codes_as_spec(body: Any) -> Any:
    """An error body with the field-error codes the spec can describe.

    The spec's `Error.code` is an integer everywhere, but in `errors.<field>._errors[]` Discord
    sends (and its docs show) string codes such as "BASE_TYPE_MAX_LENGTH"; the local Discord
    sends strings like Discord, and only the nested ones are mapped to 0 for the check. The
    top-level `code` stays as sent, so a string there is still reported.
    """
    if not isinstance(body, dict) or not isinstance(body.get("errors"), dict):
        return body

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        fixed = {key: walk(value) for key, value in node.items()}
        if isinstance(fixed.get("code"), str) and "message" in fixed:
            fixed["code"] = 0
        return fixed

    return {**body, "errors": walk(body["errors"])}


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _compile(template: str) -> _Operation:
    segments = template.strip("/").split("/")
    regex = "/" + "/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments)
    literal = sum(1 for s in segments if not s.startswith("{"))
    return _Operation(template, re.compile(regex), literal)
