"""Pruning old audio: only job folders past the retention period go."""

from __future__ import annotations

import os
from pathlib import Path

from bot.jobs.retention import prune_audio

DAY = 86400.0
NOW = 1_800_000_000.0


def make_job_folder(root: Path, name: str, age_days: float, size: int) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "take-1.mp3").write_bytes(b"x" * size)
    stamp = NOW - age_days * DAY
    os.utime(folder, (stamp, stamp))
    return folder


def test_old_folders_are_removed_and_counted(tmp_path: Path) -> None:
    """A folder 15 days old goes with a 14-day retention; the report counts it and its bytes."""
    old = make_job_folder(tmp_path, "1", 15, 300)
    report = prune_audio(tmp_path, 14 * DAY, now=NOW)
    assert not old.exists()
    assert (report.folders, report.bytes) == (1, 300)


def test_recent_folders_stay(tmp_path: Path) -> None:
    """A folder 13 days old stays with a 14-day retention."""
    recent = make_job_folder(tmp_path, "2", 13, 10)
    assert prune_audio(tmp_path, 14 * DAY, now=NOW).folders == 0
    assert recent.exists()


def test_missing_directory_is_nothing_to_prune(tmp_path: Path) -> None:
    """A bot that never delivered anything has no audio folder; pruning is a no-op."""
    assert prune_audio(tmp_path / "absent", DAY, now=NOW).folders == 0
