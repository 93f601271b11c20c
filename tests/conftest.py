"""Suite-wide checks: CI must validate traffic against Discord's OpenAPI description."""

from __future__ import annotations

import os

import pytest

from sandbox.discord.openapi import default_spec_path, spec_available


def pytest_configure(config: pytest.Config) -> None:
    """Without the spec a run cannot prove fidelity to Discord: refuse that in CI."""
    if os.environ.get("CI") == "true" and not spec_available():
        raise pytest.UsageError(
            f"Discord's OpenAPI description is missing at {default_spec_path()}: CI validates "
            "every request and response against it (set DISCORD_OPENAPI_SPEC)."
        )
