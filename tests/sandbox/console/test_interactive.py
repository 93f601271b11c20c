"""`python -m sandbox` typed at by a person: on a terminal, and with lines piped in."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
CURSOR_UP_AND_CLEAR = "A\r\x1b[J"


def sandbox_command(output: Path) -> list[str]:
    return [sys.executable, "-m", "sandbox", "--output", str(output), "--time-scale", "0.01"]


def read_until(fd: int, wanted: str, deadline: float) -> str:
    """Everything the terminal shows until `wanted` appears (or the deadline passes)."""
    seen = b""
    while wanted.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
        if not ready:
            break
        try:
            seen += os.read(fd, 65536)
        except OSError:
            break
    return seen.decode(errors="replace")


def test_on_a_terminal_the_job_card_is_redrawn_in_place_and_quit_stops(tmp_path: Path) -> None:
    """Progress edits move the cursor up over the card; `quit` ends the session with code 0."""
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        sandbox_command(tmp_path / "out"),
        cwd=REPOSITORY,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "120", "LINES": "50"},
    )
    os.close(terminal)
    try:
        deadline = time.monotonic() + 40
        read_until(main, "alice #general> ", deadline)
        os.write(main, b"/song prompt: rain duration: 5\n")
        shown = read_until(main, "your song is ready", deadline)
        os.write(main, b"quit\n")
        read_until(main, "output that never comes: read until the terminal closes", deadline)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        os.close(main)
    assert "your song is ready" in shown
    assert CURSOR_UP_AND_CLEAR in shown


def test_piped_lines_are_run_and_the_end_of_input_stops(tmp_path: Path) -> None:
    """Without a terminal, lines are echoed and run, errors shown, and end of input exits 0."""
    result = subprocess.run(
        [*sandbox_command(tmp_path / "out"), "--quiet"],
        cwd=REPOSITORY,
        input="as dave\nas bob\n",
        capture_output=True,
        text=True,
        timeout=40,
        check=False,
    )
    assert result.returncode == 0
    assert "✗ no member named 'dave'; members: alice, bob, carol" in result.stdout
    assert "you are now bob" in result.stdout
    assert "\x1b[" not in result.stdout
