"""Whether Discord's OpenAPI description is at hand; CI must have it, a fresh clone may not."""

from __future__ import annotations

import pytest

from sandbox.discord.openapi import default_spec_path, spec_available

needs_openapi_spec = pytest.mark.skipif(
    not spec_available(),
    reason=f"Discord's OpenAPI description is not at {default_spec_path()} "
    "(set DISCORD_OPENAPI_SPEC); CI always has it",
)
