"""Keeping the audio folder bounded: job folders older than the retention period are removed.

Tracks keep their Soundverse URL, so a pruned track can still be posted again as a link.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What a pruning pass removed."""

    folders: int
    bytes: int


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def prune_audio(directory: Path, max_age_seconds: float, now: float | None = None) -> PruneReport:
    """Remove the job folders under `directory` last modified more than `max_age_seconds` ago."""
    if not directory.is_dir():
        return PruneReport(0, 0)
    cutoff = (time.time() if now is None else now) - max_age_seconds
    folders = removed = 0
    for folder in directory.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            size = folder_size(folder)
            shutil.rmtree(folder, ignore_errors=True)
            folders += 1
            removed += size
    return PruneReport(folders, removed)
