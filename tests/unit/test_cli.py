"""`python -m bot`: exit codes and messages for bad settings, and the config helpers."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg
import pytest

from bot.__main__ import EXIT_BAD_SETTINGS, main
from bot.config import render_env_example
from bot.storage.database import bundled_migrations
from sandbox.postgres import PostgresServer


@pytest.fixture(autouse=True)
def empty_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No bot variables and no `.env`: each test sets what it needs."""
    monkeypatch.chdir(tmp_path)
    groups = ("DISCORD_", "SOUNDVERSE_", "ENDPOINTS_", "STORAGE_", "QUOTA_", "JOBS_", "AUDIO_")
    for name in list(os.environ):
        if name.startswith(groups):
            monkeypatch.delenv(name)


def test_bad_settings_exit_2_with_one_line_each(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two invalid settings give exit code 2 and two `error:` lines, no traceback."""
    monkeypatch.setenv("QUOTA_UNITS_PER_PERIOD", "many")
    monkeypatch.setenv("SOUNDVERSE_RETRIES", "99")
    assert main(["run"]) == EXIT_BAD_SETTINGS
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("error: ") for line in lines)
    assert "Traceback" not in "".join(lines)


def test_missing_credentials_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    """Running without tokens names both missing variables and exits 2."""
    assert main(["run"]) == EXIT_BAD_SETTINGS
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN: required" in err
    assert "SOUNDVERSE_API_KEY: required" in err


def test_secret_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`config` prints the settings with the token masked."""
    monkeypatch.setenv("DISCORD_TOKEN", "super-secret-value")
    monkeypatch.setenv("SOUNDVERSE_API_KEY", "key")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "super-secret-value" not in out
    assert "DISCORD_TOKEN=**********" in out


def test_has_discord_token_reports_by_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """`config --has-discord-token` exits 1 without a token and 0 with one."""
    assert main(["config", "--has-discord-token"]) == 1
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    assert main(["config", "--has-discord-token"]) == 0


def test_a_token_with_a_bad_setting_is_refused_not_ignored(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a token and an invalid setting, `--has-discord-token` exits 2 with the problem,
    so `./run` stops instead of starting the sandbox."""
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("QUOTA_UNITS_PER_PERIOD", "lots")
    assert main(["config", "--has-discord-token"]) == EXIT_BAD_SETTINGS
    assert capsys.readouterr().err.startswith("error: QUOTA_UNITS_PER_PERIOD: ")


def test_no_token_means_the_sandbox_whatever_else_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without any token, a bad setting still means "no token": the offline sandbox runs."""
    monkeypatch.setenv("QUOTA_UNITS_PER_PERIOD", "lots")
    assert main(["config", "--has-discord-token"]) == 1


def test_a_token_in_dotenv_counts(tmp_path: Path) -> None:
    """A DISCORD_TOKEN written only in `.env` is a configured token."""
    (tmp_path / ".env").write_text("DISCORD_TOKEN=from-file\n")
    assert main(["config", "--has-discord-token"]) == 0


def test_config_prints_lists_as_json_and_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`config` prints a comma-separated list as the JSON it reads, names the missing API key
    and exits 2, since the bot could not start."""
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("SOUNDVERSE_DOWNLOAD_HOSTS", "a.example, b.example")
    assert main(["config"]) == EXIT_BAD_SETTINGS
    printed = capsys.readouterr()
    assert 'SOUNDVERSE_DOWNLOAD_HOSTS=["a.example","b.example"]' in printed.out
    assert printed.err.strip() == "error: SOUNDVERSE_API_KEY: required to call the Soundverse API"


def test_a_list_that_is_not_json_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A list setting that starts like JSON but is not gives one line naming the variable."""
    monkeypatch.setenv("SOUNDVERSE_DOWNLOAD_HOSTS", "[storage.soundverse.ai")
    assert main(["run"]) == EXIT_BAD_SETTINGS
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("error: SOUNDVERSE_DOWNLOAD_HOSTS: ")


def test_example_prints_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    """`config --example` prints exactly the rendered `.env.example`."""
    assert main(["config", "--example"]) == 0
    assert capsys.readouterr().out == render_env_example()


def test_db_upgrade_creates_and_reports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`db upgrade` creates the database where STORAGE_PATH says and reports the version."""
    database = tmp_path / "nested" / "bot.db"
    monkeypatch.setenv("STORAGE_PATH", str(database))
    assert main(["db", "upgrade"]) == 0
    assert database.exists()
    assert capsys.readouterr().out.strip()


def test_db_upgrade_of_an_empty_postgres_database_applies_the_baseline(
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: PostgresServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`db upgrade` with STORAGE_URL=postgresql://… migrates an empty database and says so."""
    asyncio.run(_create_database(postgres_server, "cli_upgrade"))
    monkeypatch.setenv("STORAGE_URL", postgres_server.url("cli_upgrade"))
    assert main(["db", "upgrade"]) == 0
    latest = bundled_migrations("postgresql")[-1].version
    printed = capsys.readouterr().out
    assert f"from version 0 to {latest} (0013_baseline" in printed


async def _create_database(server: PostgresServer, name: str) -> None:
    connection = await asyncpg.connect(server.url())
    try:
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
