"""Fitting a track under an upload limit: plan from metadata, then transcode to CBR MP3."""

from __future__ import annotations

import asyncio
import math
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import av

from bot.audio.errors import TranscodeError
from bot.audio.probe import AudioInfo, open_audio, probe

SAFETY_MARGIN = 0.02
"""Fraction added to the bitrate estimate for frame padding and rounding."""

CONTAINER_OVERHEAD_BYTES = 8192
"""Bytes added to the estimate for the ID3 tag, the Xing/LAME frame and encoder delay frames."""

# MP3 CBR bitrates and the sample rates of each MPEG version that can carry them.
_MPEG1_KBPS = frozenset({32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320})
_MPEG2_KBPS = frozenset({8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160})
_MPEG25_KBPS = frozenset({8, 16, 24, 32, 40, 48, 56, 64})
_RATES_BY_VERSION = (
    ((32000, 44100, 48000), _MPEG1_KBPS),
    ((16000, 22050, 24000), _MPEG2_KBPS),
    ((8000, 11025, 12000), _MPEG25_KBPS),
)
MP3_BITRATES_KBPS = _MPEG1_KBPS | _MPEG2_KBPS
"""Every bitrate an MP3 CBR stream can have."""

_COPIED_TAGS = ("title", "artist", "album", "date", "genre", "comment")


class FitAction(StrEnum):
    """What to do with a file to deliver it under an upload limit."""

    KEEP = "keep"  # it already fits
    TRANSCODE = "transcode"  # re-encode as MP3 at `FitPlan.bitrate_kbps`
    LINK = "link"  # nothing fits: post a link instead


@dataclass(frozen=True, slots=True)
class FitPlan:
    """The decision of `plan_fit`; `bitrates_kbps` lists the bitrates to try, best first."""

    action: FitAction
    bitrates_kbps: tuple[int, ...]
    estimated_size: int | None
    reason: str

    @property
    def bitrate_kbps(self) -> int | None:
        """The bitrate to transcode at, or None when no transcoding is planned."""
        return self.bitrates_kbps[0] if self.bitrates_kbps else None


@dataclass(frozen=True, slots=True)
class FitResult:
    """The file to upload (None: post a link), and how it was obtained."""

    path: Path | None
    transcoded: bool
    bitrate_kbps: int | None
    size: int | None
    reason: str


def estimate_mp3_size(duration: float, bitrate_kbps: int) -> int:
    """Upper estimate in bytes of a CBR MP3 of `duration` seconds at `bitrate_kbps`."""
    payload = duration * bitrate_kbps * 1000 / 8
    return math.ceil(payload * (1 + SAFETY_MARGIN)) + CONTAINER_OVERHEAD_BYTES


def plan_fit(info: AudioInfo, limit_bytes: int, bitrates_kbps: Sequence[int]) -> FitPlan:
    """Decide, without touching the file, how to deliver it within `limit_bytes`.

    Keeps a file that fits; otherwise picks the highest bitrate whose estimate fits,
    with every lower bitrate as a fallback; otherwise plans a link.
    Raises `ValueError` for a bitrate MP3 cannot have.
    """
    unknown = sorted(set(bitrates_kbps) - MP3_BITRATES_KBPS)
    if unknown:
        raise ValueError(f"not MP3 bitrates (kbps): {', '.join(map(str, unknown))}")
    if info.size <= limit_bytes:
        return FitPlan(FitAction.KEEP, (), None, f"fits as is ({info.size} of {limit_bytes} bytes)")
    fitting = sorted(
        (
            kbps
            for kbps in set(bitrates_kbps)
            if estimate_mp3_size(info.duration, kbps) <= limit_bytes
        ),
        reverse=True,
    )
    if not fitting:
        return FitPlan(
            FitAction.LINK,
            (),
            None,
            f"{info.size} bytes is over the {limit_bytes}-byte limit at every allowed bitrate",
        )
    estimate = estimate_mp3_size(info.duration, fitting[0])
    return FitPlan(
        FitAction.TRANSCODE,
        tuple(fitting),
        estimate,
        f"{info.size} bytes is over the {limit_bytes}-byte limit; "
        f"{fitting[0]} kbps MP3 should take about {estimate} bytes",
    )


def fit_to_size(
    src: Path,
    limit_bytes: int,
    dest_dir: Path,
    bitrates_kbps: Sequence[int],
    *,
    info: AudioInfo | None = None,
) -> FitResult:
    """Return `src` if it fits, else a CBR MP3 in `dest_dir` checked to fit, else no file.

    Tries the planned bitrates from the highest down and keeps the first output whose real
    size fits; outputs that do not fit are deleted. Pass `info` to skip probing `src` again.
    """
    info = info or probe(src)
    plan = plan_fit(info, limit_bytes, bitrates_kbps)
    if plan.action is FitAction.KEEP:
        return FitResult(src, False, None, info.size, plan.reason)
    if plan.action is FitAction.LINK:
        return FitResult(None, False, None, None, plan.reason)
    dest_dir.mkdir(parents=True, exist_ok=True)
    for kbps in plan.bitrates_kbps:
        dest = dest_dir / f"{src.stem}.{kbps}k.mp3"
        size = transcode_to_mp3(src, dest, kbps)
        if size <= limit_bytes:
            reason = f"transcoded to {kbps} kbps MP3: {size} of {limit_bytes} bytes"
            return FitResult(dest, True, kbps, size, reason)
        dest.unlink()
    lowest = plan.bitrates_kbps[-1]
    return FitResult(None, False, None, None, f"still over {limit_bytes} bytes at {lowest} kbps")


async def fit_to_size_async(
    src: Path,
    limit_bytes: int,
    dest_dir: Path,
    bitrates_kbps: Sequence[int],
    *,
    info: AudioInfo | None = None,
) -> FitResult:
    """`fit_to_size` in a worker thread, so the event loop keeps running."""
    return await asyncio.to_thread(
        fit_to_size, src, limit_bytes, dest_dir, bitrates_kbps, info=info
    )


def transcode_to_mp3(src: Path, dest: Path, bitrate_kbps: int) -> int:
    """Encode `src` as a CBR MP3 at `dest` (replacing it) and return the file's size.

    Mono stays mono, anything else becomes stereo; the sample rate is the source's when
    the bitrate allows it. The file appears at `dest` only once complete.
    Raises `TranscodeError` (leaving nothing behind) if decoding or encoding fails.
    """
    partial = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    try:
        _encode_mp3(src, partial, bitrate_kbps)
        partial.replace(dest)
    except (av.FFmpegError, ValueError) as error:
        raise TranscodeError(f"could not transcode {src.name} to MP3: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return dest.stat().st_size


def mp3_sample_rate(source_rate: int, bitrate_kbps: int) -> int:
    """The MP3 sample rate for `bitrate_kbps`: the lowest at or above `source_rate`, else the
    highest below it, among the rates whose MPEG version has that bitrate."""
    allowed = [
        rate for rates, kbps_set in _RATES_BY_VERSION if bitrate_kbps in kbps_set for rate in rates
    ]
    if not allowed:
        raise ValueError(f"{bitrate_kbps} kbps is not an MP3 bitrate")
    return min(allowed, key=lambda rate: (rate < source_rate, abs(rate - source_rate)))


def _encode_mp3(src: Path, dest: Path, bitrate_kbps: int) -> None:
    container, stream = open_audio(src)
    with container, av.open(os.fspath(dest), mode="w", format="mp3") as output:
        for tag in _COPIED_TAGS:
            if tag in container.metadata:
                output.metadata[tag] = container.metadata[tag]
        context = stream.codec_context
        encoded = output.add_stream(
            "libmp3lame",
            rate=mp3_sample_rate(context.sample_rate, bitrate_kbps),
            layout="mono" if context.channels == 1 else "stereo",
        )
        encoded.codec_context.bit_rate = bitrate_kbps * 1000
        for frame in container.decode(stream):
            # Source timestamps may jump or start late; the encoder numbers samples itself.
            frame.pts = None
            output.mux(encoded.encode(frame))
        output.mux(encoded.encode(None))
