"""`python -m sandbox`: the bot against a local Discord and a local Soundverse, with a console.

Type slash commands as a member (`/song prompt: lofi rain`), press buttons, switch member;
or run a file of console lines with `--script FILE` (exit code 1 when a step fails).
`--postgres --shards 2 --workers 2` runs the scaled-out topology: two bot processes, one shard
each, and two job workers sharing the jobs over PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sandbox.console.session import SessionOptions, run_session, terminal_restored

MAX_PROCESSES = 16
"""The most workers, or bot processes, one sandbox starts."""


def parse_arguments(argv: list[str] | None = None) -> SessionOptions:
    """The command line, as the options of one sandbox session."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--script", type=Path, help="run these console lines, then exit")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("sandbox-output"),
        help="where files, the database and the log go, fresh each run (default ./sandbox-output)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=0.2,
        help="speed of the local Soundverse; 1.0 feels real (default 0.2: a song in seconds)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds `expect`, `expect-attachment`, `expect-voice` and `wait-jobs` wait "
        "(default 60)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no banner and no messages: steps, results, files"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="keep the bot's data in a throwaway PostgreSQL server (Debian's postgresql "
        "package) instead of a SQLite file; removed at exit",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="run jobs in N shared job worker processes (`python -m bot worker`, "
        "JOBS_WORKER=shared), as on other hosts; `kill-worker` kills the one holding a job",
    )
    parser.add_argument(
        "--shards",
        type=int,
        default=1,
        metavar="N",
        help="split the gateway among N bot processes, one shard each (DISCORD_SHARD_COUNT=N); "
        "needs --workers",
    )
    arguments = parser.parse_args(argv)
    if arguments.script is not None and not arguments.script.is_file():
        parser.error(f"no script at {arguments.script}")
    if not 0 <= arguments.workers <= MAX_PROCESSES:
        parser.error(f"--workers takes 0 to {MAX_PROCESSES}, not {arguments.workers}")
    if not 1 <= arguments.shards <= MAX_PROCESSES:
        parser.error(f"--shards takes 1 to {MAX_PROCESSES}, not {arguments.shards}")
    if arguments.shards > 1 and arguments.workers == 0:
        parser.error(
            "--shards needs --workers: a bot process running only some shards leaves its "
            "jobs to shared workers (e.g. --shards 2 --workers 2)"
        )
    return SessionOptions(
        output=arguments.output,
        script=arguments.script,
        time_scale=arguments.time_scale,
        timeout=arguments.timeout,
        quiet=arguments.quiet,
        postgres=arguments.postgres,
        workers=arguments.workers,
        shards=arguments.shards,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    options = parse_arguments(argv)
    with terminal_restored():
        return asyncio.run(run_session(options))


if __name__ == "__main__":
    sys.exit(main())
