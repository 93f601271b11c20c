"""The compose files follow the Compose Specification, as `docker compose config` checks."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.compose import COMPOSE_FILES, REPO, load

SCHEMA = REPO / "tests" / "reference" / "compose-spec.json"


def validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def problems(document: dict[str, Any]) -> list[str]:
    return [error.message for error in validator().iter_errors(document)]


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_each_compose_file_follows_the_specification(name: str) -> None:
    """compose.yaml and compose.scale.yaml are valid Compose files."""
    assert problems(load(name)) == []


def test_a_misspelt_service_key_is_refused() -> None:
    """The check catches a mistake: `depend_on` for `depends_on` fails the schema."""
    document = load("compose.scale.yaml")
    worker = document["services"]["worker"]
    worker["depend_on"] = worker.pop("depends_on")
    assert any("depend_on" in problem for problem in problems(document))
