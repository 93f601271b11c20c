"""The compose files as Compose reads them: YAML with anchors, `${NAME:-default}` filled in
from the environment, and the image's entry point from the Dockerfile."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILES = ("compose.yaml", "compose.scale.yaml")
VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def load(name: str) -> dict[str, Any]:
    """The compose file `name` at the repository's root, parsed (anchors resolved)."""
    loaded = yaml.safe_load((REPO / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def interpolated(value: str, environment: Mapping[str, str]) -> str:
    """`value` with each `${NAME}` or `${NAME:-default}` replaced, as Compose does."""
    return VARIABLE.sub(lambda m: environment.get(m[1]) or (m[2] or ""), value)


def service_environment(service: Mapping[str, Any], shell: Mapping[str, str]) -> dict[str, str]:
    """A service's `environment:` (a mapping or a list of NAME=value), interpolated."""
    declared = service.get("environment") or {}
    if isinstance(declared, list):
        declared = dict(item.split("=", 1) for item in declared)
    return {str(name): interpolated(str(value), shell) for name, value in declared.items()}


def entrypoint() -> list[str]:
    """The Dockerfile's ENTRYPOINT (exec form)."""
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("ENTRYPOINT "):
            command = json.loads(line.removeprefix("ENTRYPOINT "))
            assert isinstance(command, list)
            return [str(part) for part in command]
    raise AssertionError("the Dockerfile has no ENTRYPOINT")
