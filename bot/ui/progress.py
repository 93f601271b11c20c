"""Words and bars for a job in progress: what the job card says at each stage."""

from __future__ import annotations

import math

from bot.jobs.models import JobView

BAR_WIDTH = 12

STAGE_TEXT = {
    "queued": "Waiting in the queue",
    "submitting": "Sending to Soundverse",
    "initializing": "Starting",
    "validated": "Accepted by Soundverse",
    "streaming": "Composing",
    "uploading": "Finishing the audio",
    "completed": "Done at Soundverse",
    "delivering": "Preparing your files",
}


def progress_bar(percent: int | None, width: int = BAR_WIDTH) -> str:
    """`▰▰▰▰▱▱▱▱▱▱▱▱ 33%`; an empty bar with no number when progress is unknown."""
    if percent is None:
        return "▱" * width
    clamped = max(0, min(100, percent))
    filled = math.floor(clamped * width / 100)
    return f"{'▰' * filled}{'▱' * (width - filled)} {clamped}%"


def describe_eta(seconds: float | None) -> str:
    """`about 2 min`, `under a minute`, or `unknown` before any job has finished."""
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return "under a minute"
    return f"about {round(seconds / 60)} min"


def stage_line(view: JobView) -> str:
    """The status line of the card."""
    if view.stage == "queued":
        position = view.position or 1
        ahead = "next in line" if position == 1 else f"number {position} in line"
        return f"⏳ Queued: {ahead}, ready in {describe_eta(view.eta_seconds)}"
    text = STAGE_TEXT.get(view.stage, view.stage.capitalize())
    if view.detail:
        text = f"{text}: {view.detail[0].lower()}{view.detail[1:]}"
    if view.stage in {"streaming", "uploading", "validated", "delivering"}:
        line = f"🎛️ {text}\n{progress_bar(view.progress)}"
    else:
        line = f"🎛️ {text}…"
    timing = timing_line(view)
    return f"{line}\n{timing}" if timing else line


def clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def timing_line(view: JobView) -> str:
    """`-# 0:45 elapsed · about 2 min left · no news from Soundverse for 0:30`, as known."""
    parts = []
    if view.elapsed_seconds is not None:
        parts.append(f"{clock(view.elapsed_seconds)} elapsed")
    if view.eta_seconds is not None:
        if view.eta_seconds <= 0:
            parts.append("taking longer than usual")
        else:
            parts.append(f"{describe_eta(view.eta_seconds)} left")
    if view.quiet_seconds is not None:
        parts.append(f"no news from Soundverse for {clock(view.quiet_seconds)}")
    return f"-# {' · '.join(parts)}" if parts else ""
