"""Shared fixtures of the console tests: fake command payloads, a console, a script runner."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.storage import ShiftedClock
from sandbox.console.actions import Console
from sandbox.console.view import Screen
from sandbox.stack import SandboxStack

REPOSITORY = Path(__file__).resolve().parents[3]

RunSandbox = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def commands() -> list[dict[str, Any]]:
    """Command payloads shaped like the ones the bot syncs, with every option type in use."""
    return [
        {"name": "about", "type": 1, "options": []},
        {
            "name": "song",
            "type": 1,
            "options": [
                {"type": 3, "name": "prompt", "required": True, "min_length": 1, "max_length": 50},
                {"type": 4, "name": "duration", "min_value": 5, "max_value": 300},
                {
                    "type": 3,
                    "name": "version",
                    "choices": [
                        {"name": "v5 (default)", "value": "v5"},
                        {"name": "v6", "value": "v6"},
                    ],
                },
                {"type": 5, "name": "public"},
                {"type": 10, "name": "strength"},
            ],
        },
        {
            "name": "stems",
            "type": 1,
            "options": [
                {"type": 11, "name": "audio", "required": True},
                {"type": 6, "name": "for"},
                {"type": 7, "name": "where"},
                {
                    "type": 3,
                    "name": "kind",
                    "choices": [
                        {"name": "Vocals", "value": "vocals"},
                        {"name": "Instruments", "value": "instruments"},
                        {"name": "All stems (vocals, drums, bass, ...)", "value": "all-stems"},
                    ],
                },
            ],
        },
        {
            "name": "admin",
            "type": 1,
            "options": [
                {
                    "type": 1,
                    "name": "quota",
                    "options": [
                        {"type": 4, "name": "units", "min_value": 0},
                        {"type": 8, "name": "exempt_role"},
                    ],
                },
                {"type": 1, "name": "channels", "options": []},
            ],
        },
        {"name": "Separate stems", "type": 3},
    ]


@pytest.fixture
def run_sandbox(tmp_path: Path) -> RunSandbox:
    """Runs `python -m sandbox --script` on the given lines; output goes to `tmp_path/out`."""

    def run(lines: str, *extra: str) -> subprocess.CompletedProcess[str]:
        script = tmp_path / "script.txt"
        script.write_text(lines, encoding="utf-8")
        command = [sys.executable, "-m", "sandbox", "--script", str(script)]
        command += ["--output", str(tmp_path / "out"), "--time-scale", "0.01", *extra]
        return subprocess.run(
            command, cwd=REPOSITORY, capture_output=True, text=True, timeout=50, check=False
        )

    return run


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    """A console on a running stack, printing to a string; steps wait at most 10 s. As in
    `python -m sandbox`, the bot runs on a clock that `clock +1d` moves."""
    clock = ShiftedClock()
    stack = SandboxStack(tmp_path / "data", time_scale=0.01, bot_options={"storage_clock": clock})
    await stack.start()
    screen = Screen(io.StringIO(), live=False)
    running = Console(stack, screen, tmp_path / "out", timeout=10, clock=clock)
    try:
        yield running
    finally:
        await stack.stop()
