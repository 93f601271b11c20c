"""`python -m bot doctor`: what an operator checks before (or instead of) starting the bot.

Each check says ok or what is wrong in a line: the settings, the database, the Discord token,
the gateway shards, the Soundverse key, and what voice needs (PyNaCl, davey, the Opus
library). Nothing is changed: the database is neither created nor upgraded, no generation is
started, and the gateway is not connected to.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.discord_rest import DiscordCallFailed, get_as_bot
from bot.soundverse import SoundverseClient
from bot.soundverse.health import check_api_health
from bot.storage import Database, DatabaseTooNew
from bot.storage.database import bundled_migrations, describe_target


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
        await check_shards(settings),
        await check_soundverse(settings),
        *check_voice(settings),
    ]


async def check_database(settings: Settings) -> Check:
    """The schema version of the database, without creating or upgrading it."""
    target = settings.storage.target
    if isinstance(target, Path) and not target.exists():
        return Check("database", True, f"{target} does not exist yet; the bot creates it")
    try:
        database = await Database.connect(
            target,
            busy_timeout_ms=settings.storage.busy_timeout_ms,
            pool_size=1,
            migrate=False,
        )
    except DatabaseTooNew as error:
        return Check("database", False, str(error))
    except Exception as error:
        return Check("database", False, f"{describe_target(target)} cannot be opened: {error}")
    where = database.where
    latest = bundled_migrations(database.dialect)[-1].version
    try:
        version = await database.schema_version()
    finally:
        await database.close()
    if version < latest:
        pending = latest - version
        return Check(
            "database",
            True,
            f"{where}: version {version}, {pending} migration(s) applied at the next start",
        )
    return Check("database", True, f"{where}: up to date (version {version})")


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


GUILDS_PER_SHARD = 2500
"""The most servers one gateway shard may hold (Discord's gateway docs)."""


async def check_shards(settings: Settings) -> Check:
    """The shards the bot would run, against what Discord recommends (GET /gateway/bot) and
    allows for the servers the application is in."""
    token = settings.discord.token
    if token is None:
        return Check("shards", False, "not checked without DISCORD_TOKEN")
    try:
        gateway = await get_as_bot(settings, token, "/gateway/bot")
        application = await get_as_bot(settings, token, "/applications/@me")
    except DiscordCallFailed as failed:
        return Check("shards", False, f"cannot ask Discord how to shard: {failed}")
    recommended = int(gateway.get("shards", 1))
    at_once = int(gateway.get("session_start_limit", {}).get("max_concurrency", 1))
    count = int(application.get("approximate_guild_count") or 0)
    servers = f"about {count:,} {'server' if count == 1 else 'servers'}"
    ids = settings.discord.shard_ids
    where = (
        "all in this process" if ids is None else f"this process runs {', '.join(map(str, ids))}"
    )
    pace = f"{at_once} may identify at once"
    shards = settings.discord.shard_count
    if shards is None:
        return Check(
            "shards", True, f"{recommended}, as Discord recommends for {servers}, {where}; {pace}"
        )
    if count > shards * GUILDS_PER_SHARD:
        return Check(
            "shards",
            False,
            f"DISCORD_SHARD_COUNT={shards} is too few for {servers}: a shard holds at most "
            f"{GUILDS_PER_SHARD:,} (Discord recommends {recommended})",
        )
    return Check(
        "shards",
        True,
        f"{shards} (Discord recommends {recommended} for {servers}), {where}; {pace}",
    )


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
