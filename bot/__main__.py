"""`python -m bot`: run the bot, sync its commands, upgrade its database, or check the settings.

    python -m bot                   run the bot (needs DISCORD_TOKEN and SOUNDVERSE_API_KEY)
    python -m bot sync [--guild ID] push the slash commands to Discord now
    python -m bot db upgrade        apply pending database migrations
    python -m bot config            check the settings and print them (secrets masked); exit 2
                                    when the bot could not start with them
    python -m bot doctor            check the settings, database, Discord token, Soundverse key
                                    and voice support, as a table; exit 1 when one fails
    python -m bot invite [--guild ID] print the URL that adds the bot to a server
    python -m bot health            judge the running bot's heartbeat (a container's
                                    HEALTHCHECK); exit 0 when it is connected and taking jobs
    python -m bot worker            a job worker: JOBS_WORKER=shared runs any number of them,
                                    on any hosts (else the bot starts its own, --link-fd)

Bad settings end the program with one line per problem and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from pydantic import SecretStr

from bot import __version__
from bot.config import (
    CommandSync,
    Settings,
    SettingsError,
    env_example_value,
    load_settings,
    render_env_example,
)
from bot.logs import formatter_for

EXIT_BAD_SETTINGS = 2
# Discord's gateway close codes for a shard count it will not take, and what to do.
SHARDING_REFUSED = {
    4010: "DISCORD_SHARD_COUNT: Discord refused the shard (close code 4010, invalid shard). A "
    "bot on large bot sharding must run a multiple of the shard number Discord gave it; leave "
    "DISCORD_SHARD_COUNT unset to use the count Discord recommends.",
    4011: "DISCORD_SHARD_COUNT: Discord requires more shards (close code 4011): a shard holds "
    "at most 2,500 servers. Raise DISCORD_SHARD_COUNT, or leave it unset to use the count "
    "Discord recommends.",
}
EXIT_FAILED = 1
NO_TOKEN = 1

log = logging.getLogger("bot")


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the default)")
    sync = commands.add_parser("sync", help="push the slash commands to Discord now")
    sync.add_argument("--guild", type=int, help="sync to this guild only (instant)")
    database = commands.add_parser("db", help="database maintenance")
    database.add_argument("action", choices=["upgrade"])
    worker = commands.add_parser(
        "worker",
        help="run jobs: with JOBS_WORKER=shared, any number of these on any hosts; else the "
        "bot starts its own with --link-fd",
    )
    worker.add_argument(
        "--link-fd", type=int, help="descriptor of the link to the bot that started it"
    )
    commands.add_parser(
        "doctor", help="check the settings, database, Discord token, Soundverse key and voice"
    )
    invite = commands.add_parser("invite", help="print the URL that adds the bot to a server")
    invite.add_argument("--guild", type=int, help="preselect this server in the URL")
    invite.add_argument(
        "--application-id", type=int, help="the application's id (default: asked of Discord)"
    )
    commands.add_parser(
        "health", help="exit 0 when the running bot is connected and taking jobs, else 1"
    )
    config = commands.add_parser("config", help="check the settings and print them")
    config.add_argument(
        "--example", action="store_true", help="print .env.example: every setting, its default"
    )
    config.add_argument(
        "--has-discord-token",
        action="store_true",
        help="exit 1 when no DISCORD_TOKEN is configured; with one, 0 when the settings are "
        "good, else 2 with one line per problem",
    )
    return parser.parse_args(argv)


def fail(problems: Sequence[str]) -> int:
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return EXIT_BAD_SETTINGS


def require_credentials(settings: Settings) -> list[str]:
    """The settings a connection to the real services needs, one line per one missing."""
    problems = []
    if settings.discord.token is None:
        problems.append(
            "DISCORD_TOKEN: required to connect to Discord "
            "(without it, ./run starts the offline sandbox instead)"
        )
    if settings.soundverse.api_key is None:
        problems.append("SOUNDVERSE_API_KEY: required to call the Soundverse API")
    return problems


def configure_logging(settings: Settings) -> None:
    """Log to stderr at LOG_LEVEL in LOG_FORMAT, never writing a token or a credential."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter_for(settings.log.format))
    logging.basicConfig(level=settings.log.level, handlers=[handler])
    # aiosqlite's DEBUG lines print every query's parameters: tokens and members' prompts.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.root.level))


def print_settings(settings: Settings) -> None:
    """Every setting as its environment variable, in the form it is read (lists and maps as
    JSON); secrets print as asterisks."""
    for group_name in type(settings).model_fields:
        group = getattr(settings, group_name)
        for field_name in type(group).model_fields:
            value = getattr(group, field_name)
            shown = "**********" if isinstance(value, SecretStr) else env_example_value(value)
            print(f"{group_name.upper()}_{field_name.upper()}={shown}")


async def run_bot(settings: Settings) -> None:
    """Run until Discord closes us or SIGTERM / SIGINT arrives; shut down cleanly either way."""
    from bot.app import create_bot

    bot = create_bot(settings)
    token = settings.discord.token
    assert token is not None
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    runner = asyncio.create_task(bot.start(token.get_secret_value()))
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stopper in done:
        log.info("Shutting down")
    await bot.close()
    stopper.cancel()
    if runner in done:
        runner.result()
    else:
        await runner


async def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """Log in, push the commands, log out; returns how many were synced."""
    from bot.app import create_bot

    settings.discord.sync = CommandSync.OFF  # sync once, below, whatever the payload hash says
    if guild_id is not None:
        settings.discord.dev_guild_id = guild_id
    bot = create_bot(settings)
    token = settings.discord.token
    assert token is not None
    async with bot:
        await bot.login(token.get_secret_value())  # runs setup_hook, which loads every cog
        return await bot.sync_commands()


async def upgrade_database(settings: Settings) -> str:
    from bot.storage import upgrade_database as upgrade

    report = await upgrade(
        settings.storage.target, busy_timeout_ms=settings.storage.busy_timeout_ms
    )
    return report.describe()


def show_config(settings: Settings) -> int:
    """`config`: the settings as environment variables, then what the bot would miss to
    start (exit 2 when it could not)."""
    print_settings(settings)
    missing = require_credentials(settings)
    if missing:
        return fail(missing)
    return 0


def discord_token_configured() -> bool:
    """Whether DISCORD_TOKEN is set (environment or `.env`), whatever the other settings say."""
    from dotenv import dotenv_values

    configured = os.environ.get("DISCORD_TOKEN") or dotenv_values(".env").get("DISCORD_TOKEN")
    return bool((configured or "").strip())


def token_status() -> int:
    """`config --has-discord-token`, for `./run`: 1 when no token is configured at all (the
    offline sandbox runs); with one, 0 if the settings are good, else 2 and one line each."""
    if not discord_token_configured():
        return NO_TOKEN
    try:
        load_settings()
    except SettingsError as error:
        return fail(error.problems)
    return 0


def upgrade(settings: Settings) -> int:
    """`db upgrade`: apply pending migrations and say what was done."""
    from bot.storage import DatabaseTooNew

    try:
        print(asyncio.run(upgrade_database(settings)))
    except DatabaseTooNew as error:
        return fail([str(error)])
    return 0


def connect(arguments: argparse.Namespace, settings: Settings) -> int:
    """`run`, `sync` and `worker`: the commands that reach Discord (and Soundverse)."""
    problems = require_credentials(settings)
    if arguments.command == "sync":
        problems = [line for line in problems if line.startswith("DISCORD_TOKEN")]
    if problems:
        return fail(problems)
    try:
        if arguments.command == "sync":
            count = asyncio.run(sync_commands(settings, arguments.guild))
            print(f"Synced {count} commands.")
        elif arguments.command == "worker" and arguments.link_fd is not None:
            from bot.worker import run_worker

            asyncio.run(run_worker(settings, arguments.link_fd))
        elif arguments.command == "worker":
            from bot.worker import run_shared_worker

            asyncio.run(run_shared_worker(settings))
        else:
            asyncio.run(run_bot(settings))
    except Exception as error:
        line = startup_failure(error, settings)
        if line is None:
            raise
        log.debug("Could not start", exc_info=error)
        print(f"error: {line}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def startup_failure(error: BaseException, settings: Settings) -> str | None:
    """What an operator is told when the bot cannot start, in one line with what to do; None
    for anything unexpected (its traceback is the most useful report then)."""
    import aiohttp
    import discord

    from bot.storage import DatabaseTooNew

    if isinstance(error, discord.LoginFailure):
        return (
            "DISCORD_TOKEN: Discord refused the token. Copy it again from the Developer "
            "Portal (your application, Bot, Reset Token)."
        )
    if isinstance(error, discord.ConnectionClosed) and error.code in SHARDING_REFUSED:
        return SHARDING_REFUSED[error.code]
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return (
            "Discord refused the bot's intents: enable them for your application in the "
            "Developer Portal (Bot, Privileged Gateway Intents)."
        )
    if isinstance(error, aiohttp.ClientConnectorError | discord.GatewayNotFound):
        where = settings.discord.api_base or "discord.com"
        return (
            f"cannot reach Discord ({where}): {error}. Check the network, a proxy or "
            "firewall, and DISCORD_API_BASE. LOG_LEVEL=DEBUG shows the details."
        )
    if isinstance(error, DatabaseTooNew):
        return f"STORAGE_URL: {error}"
    return None


def doctor(settings: Settings) -> int:
    """`doctor`: every check as a table; exit 1 when one fails."""
    from bot.doctor import report, run_checks

    checks = asyncio.run(run_checks(settings))
    print(report(checks))
    return 0 if all(check.ok for check in checks) else EXIT_FAILED


def invite(settings: Settings, arguments: argparse.Namespace) -> int:
    """`invite`: the URL that adds the bot with the permissions it uses, and why each."""
    from bot.invite import NEEDED, ApplicationLookupFailed, application_id, invite_url

    try:
        application = arguments.application_id or asyncio.run(application_id(settings))
    except ApplicationLookupFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(invite_url(application, arguments.guild))
    print("\nPermissions it asks for:")
    for flag, why in NEEDED:
        print(f"  {flag.replace('_', ' ').title()}: {why}")
    return 0


def health(settings: Settings) -> int:
    """`health`: one line on the running bot's heartbeat; exit 0 only when it is healthy."""
    import time

    from bot.health import judge

    verdict = judge(settings.heartbeat_path, time.time())
    print(verdict.line)
    return 0 if verdict.healthy else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    if arguments.command == "config" and arguments.example:
        print(render_env_example(), end="")
        return 0
    if arguments.command == "config" and arguments.has_discord_token:
        return token_status()
    try:
        # The bot hands its own worker every setting in the environment; no `.env` may differ.
        linked = arguments.command == "worker" and arguments.link_fd is not None
        settings = load_settings(_env_file=None) if linked else load_settings()
    except SettingsError as error:
        return fail(error.problems)
    if arguments.command == "config":
        return show_config(settings)
    if arguments.command == "doctor":
        return doctor(settings)
    if arguments.command == "health":
        return health(settings)
    if arguments.command == "invite":
        return invite(settings, arguments)
    configure_logging(settings)
    if arguments.command == "db":
        return upgrade(settings)
    return connect(arguments, settings)


if __name__ == "__main__":
    sys.exit(main())
