"""`python -m bot doctor`: what an operator checks before (or instead of) starting the bot.

Each check says ok or what is wrong in a line: the settings, the database, the Discord token,
the Soundverse key, and what voice needs (PyNaCl, davey, the Opus library). Nothing is
changed: the database is neither created nor upgraded, and no generation is started.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import Settings
from bot.discord_rest import DiscordCallFailed, get_as_bot
from bot.soundverse import SoundverseClient
from bot.soundverse.health import check_api_health
from bot.storage import Database, DatabaseTooNew
from bot.storage.database import bundled_migrations


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str


async def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    return [
        Check("settings", True, "every setting is valid"),
        await check_database(settings),
        await check_discord(settings),
        await check_soundverse(settings),
        *check_voice(settings),
    ]


async def check_database(settings: Settings) -> Check:
    """The schema version of the database file, without creating or upgrading it."""
    path = settings.storage.path
    if not path.exists():
        return Check("database", True, f"{path} does not exist yet; the bot creates it")
    latest = bundled_migrations()[-1].version
    try:
        database = await Database.connect(
            path, busy_timeout_ms=settings.storage.busy_timeout_ms, migrate=False
        )
    except DatabaseTooNew as error:
        return Check("database", False, str(error))
    except Exception as error:
        return Check("database", False, f"{path} cannot be opened: {error}")
    try:
        version = await database.schema_version()
    finally:
        await database.close()
    if version < latest:
        pending = latest - version
        return Check(
            "database",
            True,
            f"{path}: version {version}, {pending} migration(s) applied at the next start",
        )
    return Check("database", True, f"{path}: up to date (version {version})")


async def check_discord(settings: Settings) -> Check:
    """Whether Discord accepts the bot token, and as whom."""
    token = settings.discord.token
    if token is None:
        return Check("discord", False, "DISCORD_TOKEN is not set")
    try:
        me = await get_as_bot(settings, token, "/users/@me")
    except DiscordCallFailed as failed:
        if failed.status == 401:
            return Check("discord", False, "Discord refused DISCORD_TOKEN")
        if failed.status is not None:
            return Check("discord", False, str(failed))
        return Check("discord", False, f"cannot reach {failed.base}: {failed}")
    return Check("discord", True, f"logged in as {me.get('username')} ({me.get('id')})")


async def check_soundverse(settings: Settings) -> Check:
    """Whether the Soundverse API answers and accepts the key (a status call, nothing billed)."""
    if settings.soundverse.api_key is None:
        return Check("soundverse", False, "SOUNDVERSE_API_KEY is not set")
    client = SoundverseClient(settings.soundverse, settings.endpoints)
    try:
        health = await check_api_health(client)
    finally:
        await client.close()
    return Check("soundverse", health.ok, f"{health.summary} ({health.latency_ms:.0f} ms)")


def check_voice(settings: Settings) -> list[Check]:
    """What playing in voice channels needs: PyNaCl and davey (encryption), and Opus."""
    if not settings.voice.enabled:
        return [Check("voice", True, "off (VOICE_ENABLED=false)")]
    checks = [_importable("voice: PyNaCl", "nacl"), _importable("voice: davey", "davey")]
    import discord.opus

    loaded = discord.opus.is_loaded() or _load_opus()
    detail = "libopus loaded" if loaded else "libopus not found (install libopus0)"
    checks.append(Check("voice: Opus", loaded, detail))
    return checks


def _importable(name: str, module: str) -> Check:
    try:
        imported = importlib.import_module(module)
    except ImportError as error:
        return Check(name, False, f"not installed ({error})")
    version = getattr(imported, "__version__", None)
    return Check(name, True, f"installed {version}" if version else "installed")


def _load_opus() -> bool:
    import discord.opus

    try:
        return bool(discord.opus._load_default())
    except Exception:
        return False


def report(checks: Sequence[Check]) -> str:
    """The checks as an aligned table."""
    width = max(len(check.name) for check in checks)
    lines = [f"{'Check'.ljust(width)}  Result  Detail"]
    for check in checks:
        result = "ok" if check.ok else "FAIL"
        lines.append(f"{check.name.ljust(width)}  {result.ljust(6)}  {check.detail}")
    return "\n".join(lines)
