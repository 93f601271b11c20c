"""What an operator sees from `python -m bot`: startup failures in one line, `doctor`, and
JSON logs."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.discord import LocalDiscord
from sandbox.discord.openapi import spec_available
from sandbox.soundverse import SoundverseStandIn
from tests.e2e.test_entry_point import bot_environment


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@dataclass
class StandIns:
    discord: LocalDiscord
    soundverse: SoundverseStandIn
    folder: Path

    async def run(self, *arguments: str, **environment: str) -> Outcome:
        """`python -m bot ARGUMENTS` against the stand-ins, with `environment` on top."""
        env = bot_environment(self.discord, self.soundverse, self.folder)
        env.update(VOICE_ENABLED="false", **environment)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *arguments,
            cwd=self.folder,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode is not None
        return Outcome(process.returncode, out.decode(), err.decode())


@pytest.fixture
async def stand_ins(tmp_path: Path) -> AsyncIterator[StandIns]:
    local = LocalDiscord(bot_token="entry-token", validate_openapi=spec_available())
    soundverse = SoundverseStandIn(api_keys={"entry-key"})
    await local.start()
    await soundverse.start()
    try:
        yield StandIns(local, soundverse, tmp_path)
    finally:
        await local.stop()
        await soundverse.stop()


def error_lines(outcome: Outcome) -> list[str]:
    return [line for line in outcome.err.splitlines() if line.startswith("error: ")]


async def test_a_refused_token_is_one_line_saying_what_to_do(stand_ins: StandIns) -> None:
    """A token Discord refuses stops the bot with exit 1 and one line: no traceback."""
    outcome = await stand_ins.run(DISCORD_TOKEN="not-the-token")
    assert outcome.code == 1
    assert error_lines(outcome) == [
        "error: DISCORD_TOKEN: Discord refused the token. Copy it again from the Developer "
        "Portal (your application, Bot, Reset Token)."
    ]
    assert "Traceback" not in outcome.err


async def test_no_way_to_discord_is_one_line(stand_ins: StandIns) -> None:
    """Discord out of reach stops the bot with exit 1 and one line naming where it looked."""
    outcome = await stand_ins.run(DISCORD_API_BASE="http://127.0.0.1:9/api/v10")
    assert outcome.code == 1
    [line] = error_lines(outcome)
    assert line.startswith("error: cannot reach Discord (http://127.0.0.1:9/api/v10)")
    assert "Traceback" not in outcome.err


async def test_the_traceback_is_kept_for_debug(stand_ins: StandIns) -> None:
    """At LOG_LEVEL=DEBUG the same failure also logs its traceback."""
    outcome = await stand_ins.run(DISCORD_TOKEN="not-the-token", LOG_LEVEL="DEBUG")
    assert outcome.code == 1 and "Traceback" in outcome.err and "LoginFailure" in outcome.err


async def test_doctor_passes_against_working_services(stand_ins: StandIns) -> None:
    """`doctor` with good settings, token and key prints every check ok and exits 0."""
    outcome = await stand_ins.run("doctor")
    assert outcome.code == 0, outcome.out
    rows = {line.split()[0]: line.split()[1] for line in outcome.out.splitlines()[1:]}
    assert rows == {
        "settings": "ok",
        "database": "ok",
        "discord": "ok",
        "shards": "ok",
        "soundverse": "ok",
        "voice": "ok",
    }
    assert "logged in as Soundverse" in outcome.out


async def test_doctor_names_a_refused_key(stand_ins: StandIns) -> None:
    """A Soundverse key the API refuses is a failed row saying so, and exit 1."""
    outcome = await stand_ins.run("doctor", SOUNDVERSE_API_KEY="wrong-key")
    assert outcome.code == 1
    soundverse = next(line for line in outcome.out.splitlines() if line.startswith("soundverse"))
    assert "FAIL" in soundverse and "API key was refused" in soundverse


async def test_json_logs_are_one_object_per_line(stand_ins: StandIns) -> None:
    """With LOG_FORMAT=json every log line of `python -m bot` is a JSON object."""
    outcome = await stand_ins.run(DISCORD_TOKEN="not-the-token", LOG_FORMAT="json")
    logs = [line for line in outcome.err.splitlines() if not line.startswith("error: ")]
    assert logs
    parsed = [json.loads(line) for line in logs]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in parsed)


async def wait_for_line(stream: asyncio.StreamReader, text: str) -> str:
    """Read `stream` until a line containing `text`; that line."""
    async with asyncio.timeout(60):
        while line := (await stream.readline()).decode():
            if text in line:
                return line
    raise AssertionError(f"the bot ended without logging {text!r}")


async def test_health_follows_the_running_bot(stand_ins: StandIns) -> None:
    """`health` exits 0 while the real bot is connected with its worker, 1 once it stopped."""
    env = bot_environment(stand_ins.discord, stand_ins.soundverse, stand_ins.folder)
    # Far apart: the heartbeats seen here are the ones each change of state writes at once.
    env.update(VOICE_ENABLED="false", HEALTH_INTERVAL="600")
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=stand_ins.folder, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert bot.stderr is not None
        await wait_for_line(bot.stderr, "Health: ok")
        running = await stand_ins.run("health")
        bot.send_signal(signal.SIGTERM)
        await wait_for_line(bot.stderr, "Health: stopped")
        await asyncio.wait_for(bot.wait(), timeout=30)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    stopped = await stand_ins.run("health")
    assert running.code == 0 and running.out.startswith("ok: connected to Discord, the worker")
    assert stopped.code == 1 and stopped.out.startswith("the bot stopped at ")


async def test_health_without_a_heartbeat_says_the_bot_is_not_running(
    stand_ins: StandIns,
) -> None:
    """With no heartbeat file, `health` exits 1 and says where it looked."""
    outcome = await stand_ins.run("health")
    assert outcome.code == 1
    assert outcome.out.startswith(f"no heartbeat at {stand_ins.folder / 'heartbeat.json'}")


async def test_invite_prints_the_url_of_the_configured_application(stand_ins: StandIns) -> None:
    """`invite` asks Discord for the application and prints its authorize URL."""
    outcome = await stand_ins.run("invite")
    url = outcome.out.splitlines()[0]
    assert outcome.code == 0
    assert url == (
        "https://discord.com/oauth2/authorize?"
        f"client_id={stand_ins.discord.world.application_id}"
        "&scope=bot+applications.commands&permissions=70643625348096&integration_type=0"
    )


async def test_invite_with_a_refused_token_is_one_line(stand_ins: StandIns) -> None:
    """A token Discord refuses makes `invite` exit 1 with one line and no URL."""
    outcome = await stand_ins.run("invite", DISCORD_TOKEN="not-the-token")
    assert (outcome.code, outcome.out) == (1, "")
    assert error_lines(outcome) == ["error: DISCORD_TOKEN: Discord refused the token"]
