"""The command line every benchmark shares: `--quick`, `--parts`, a header naming the machine,
a temporary working folder, and the time the whole run took."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

PlanT = TypeVar("PlanT")


def run_benchmark(
    description: str,
    *,
    name: str,
    parts: str,
    parts_help: str,
    quick_help: str,
    plans: tuple[PlanT, PlanT],
    run_all: Callable[[PlanT, str, Path], Awaitable[Any]],
) -> None:
    """Parse the command line, then run `run_all(plan, parts, workdir)` with the full plan or,
    with `--quick`, the quick one (`plans` is (full, quick))."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--parts", default=parts, help=parts_help)
    arguments = parser.parse_args()
    unknown = set(arguments.parts) - set(parts)
    if unknown:
        parser.error(f"unknown parts {', '.join(sorted(unknown))}; parts: {', '.join(parts)}")
    full, quick = plans
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores; plan: {'quick' if arguments.quick else 'full'}\n",
        flush=True,
    )
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as workdir:
        asyncio.run(run_all(quick if arguments.quick else full, arguments.parts, Path(workdir)))
    print(f"Finished in {time.monotonic() - began:.0f} s.")
