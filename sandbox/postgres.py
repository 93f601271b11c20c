"""A throwaway PostgreSQL server: a cluster made with `initdb` in a temporary folder, started
with `pg_ctl` on a free loopback port, and removed when it stops.

Used by the tests and benchmarks that run against PostgreSQL, and by `python -m sandbox
--postgres`. It needs Debian's `postgresql` package (`scripts/bootstrap` installs it for
`./test`); nothing else. As root, the cluster belongs to the `postgres` account, since
PostgreSQL refuses to run as root.

The server trades durability for speed (no fsync): it holds test data only.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

SUPERUSER = "postgres"

# Durability is pointless for a server that lives as long as a test run.
_FAST = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    " -c max_connections=200 -c shared_buffers=32MB"
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server programs are not installed on this machine."""


def find_bin_dir() -> Path:
    """The folder holding `initdb` and `pg_ctl`: Debian keeps them out of PATH, per version."""
    override = os.environ.get("PG_BIN_DIR")
    if override:
        return Path(override)
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if debian:
        return Path(debian[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PostgresUnavailable(
        "PostgreSQL's server is not installed: `./test` installs it (Debian's postgresql "
        "package), or `sudo apt-get install postgresql`, or set PG_BIN_DIR to the folder "
        "of initdb and pg_ctl."
    )


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A running throwaway cluster; `url(database)` addresses one of its databases."""

    def __init__(self, folder: Path, port: int, bin_dir: Path, owner: str | None) -> None:
        self.folder = folder
        self.port = port
        self._bin_dir = bin_dir
        self._owner = owner

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        """A `postgresql://` URL for `database` on this server, as the superuser."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls, *, port: int | None = None) -> PostgresServer:
        """Make a new cluster in a temporary folder and start it; raises `PostgresUnavailable`."""
        bin_dir = find_bin_dir()
        owner = "postgres" if os.geteuid() == 0 else None
        # As root, somewhere the postgres account can reach (TMPDIR may be root's own).
        folder = Path(tempfile.mkdtemp(prefix="soundverse-pg-", dir="/tmp" if owner else None))
        server = cls(folder, port or free_port(), bin_dir, owner)
        try:
            if owner is not None:
                shutil.chown(folder, user=owner)
            server._run(
                "initdb",
                "-D",
                str(server.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
            options = (
                f"-c listen_addresses=127.0.0.1 -p {server.port}"
                f" -c unix_socket_directories={folder} {_FAST}"
            )
            server._run(
                "pg_ctl",
                "-D",
                str(server.data_dir),
                "-o",
                options,
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return server

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        """What the server wrote to its log so far (for a failing test's report)."""
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self._bin_dir / program), *arguments]
        if self._owner is not None:
            command = ["runuser", "-u", self._owner, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise subprocess.CalledProcessError(
                done.returncode, command, output=done.stdout, stderr=done.stderr
            )


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A throwaway server for the length of the block."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()
