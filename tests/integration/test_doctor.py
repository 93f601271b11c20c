"""`doctor`'s database check: it reads the schema version and changes nothing."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings, StorageSettings
from bot.doctor import check_database
from bot.storage import Database
from bot.storage.database import bundled_migrations
from sandbox.postgres import free_port


def settings_at(path: Path) -> Settings:
    return Settings(_env_file=None, storage=StorageSettings(path=path))


async def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    """No file yet is fine (the bot makes it), and the check does not make it."""
    path = tmp_path / "bot.db"
    check = await check_database(settings_at(path))
    assert check.ok and "does not exist yet" in check.detail and not path.exists()


async def test_an_up_to_date_database_says_its_version(tmp_path: Path) -> None:
    """A database at the latest schema is reported up to date, with its version."""
    path = tmp_path / "bot.db"
    await (await Database.connect(path)).close()
    check = await check_database(settings_at(path))
    assert check.ok and f"version {bundled_migrations()[-1].version}" in check.detail


async def test_a_database_newer_than_the_code_fails(tmp_path: Path) -> None:
    """A database written by a newer version of the bot is a failed check."""
    path = tmp_path / "bot.db"
    database = await Database.connect(path)
    async with database.transaction() as transaction:
        await transaction.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 'now')"
        )
    await database.close()
    check = await check_database(settings_at(path))
    assert not check.ok and "999" in check.detail


async def test_an_up_to_date_postgres_database_says_where_and_its_version(
    postgres_url: str,
) -> None:
    """On PostgreSQL the check names the server (no password) and the schema version."""
    settings = Settings(_env_file=None, storage=StorageSettings(url=postgres_url))
    check = await check_database(settings)
    latest = bundled_migrations("postgresql")[-1].version
    assert check.ok and check.detail == f"{postgres_url}: up to date (version {latest})"


async def test_an_unreachable_postgres_server_fails_by_name(tmp_path: Path) -> None:
    """A server that refuses connections is a failed check naming it, without the password."""
    url = f"postgresql://bot:secret@127.0.0.1:{free_port()}/bot"
    settings = Settings(
        _env_file=None, storage=StorageSettings(url=url, busy_timeout_ms=2000, path=tmp_path / "x")
    )
    check = await check_database(settings)
    assert not check.ok
    assert check.detail.startswith("postgresql://bot@127.0.0.1:") and "secret" not in check.detail
