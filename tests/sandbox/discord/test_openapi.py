"""The OpenAPI check: it catches wrong bodies, maps paths to operations, and fails clearly."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from sandbox.discord import LocalDiscord, OpenAPIValidator, RequestRecord
from tests.openapi_spec import needs_openapi_spec
from tests.sandbox.discord.scripted_bot import ScriptedBot, take_violations

pytestmark = needs_openapi_spec


@pytest.fixture(scope="module")
def validator() -> OpenAPIValidator:
    return OpenAPIValidator()


async def test_wrong_request_body_is_reported(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A message create with `tts: "yes"` is accepted by the server but flagged by the spec."""
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=discord_.channel("general").id
    )
    await bot.http.request(route, json={"content": "hi", "tts": "yes"})
    found = take_violations(discord_, "/messages")
    assert any("request: tts" in v for v in found)


def test_wrong_response_body_is_reported(validator: OpenAPIValidator) -> None:
    """A message response without its required fields is a violation."""
    record = RequestRecord(
        "GET", "/api/v10/channels/1/messages/2", {}, {}, status=200, response={"id": "2"}
    )
    assert any(v.where == "response" for v in validator.validate(record))


def test_undocumented_status_is_reported(validator: OpenAPIValidator) -> None:
    """A status the operation does not document is a violation."""
    record = RequestRecord("POST", "/api/v10/channels/1/typing", {}, {}, status=302)
    assert [v.message for v in validator.validate(record)] == ["status 302 is not documented"]


def test_original_maps_to_its_own_operation(validator: OpenAPIValidator) -> None:
    """`/messages/@original` maps to the @original operation, not `/messages/{message_id}`."""
    found = validator.operation_for("PATCH", "/api/v10/webhooks/1/tok/messages/@original")
    assert found is not None and found[1]["operationId"] == "update_original_webhook_message"


def test_unknown_route_is_reported(validator: OpenAPIValidator) -> None:
    """A path that is no operation of the spec is a violation."""
    record = RequestRecord("GET", "/api/v10/nowhere", {}, {}, status=404)
    assert validator.validate(record)[0].where == "operation"


def test_missing_spec_says_where_it_looked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without the spec file, building a validator names the path it tried."""
    missing = tmp_path / "absent.json"
    monkeypatch.setenv("DISCORD_OPENAPI_SPEC", str(missing))
    with pytest.raises(FileNotFoundError, match=str(missing)):
        OpenAPIValidator()
