"""Cheap inspection of audio files: duration, codec and layout from container metadata.

Audio that does not declare its length is decoded to measure it. A hostile file can make that
costly (hours of many-channel audio in a few megabytes), so decoding stops as soon as the
length passes the longest the caller accepts, and when it takes longer than its time limit;
uploads are probed in a small pool of their own threads (`probe_bytes_async`).
"""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeAlias, TypeVar

import av
from av.audio.stream import AudioStream
from av.container import InputContainer

from bot.audio.errors import AudioTooLong, NotAudio

AudioInput: TypeAlias = str | os.PathLike[str] | BinaryIO | io.RawIOBase
"""A path to an audio file, or a binary file object (buffered or raw) positioned at its
start."""

T = TypeVar("T")

PROBE_THREADS = 2
"""Uploads probed at once; more wait their turn instead of taking every core."""
_UPLOAD_PROBES = ThreadPoolExecutor(max_workers=PROBE_THREADS, thread_name_prefix="upload-probe")

ARRIVING_PROBE = {"probesize": "32"}
"""FFmpeg options for audio still arriving: probe no more than the first read brings."""


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What `probe` learned about one audio file."""

    duration: float
    format_name: str
    codec: str
    sample_rate: int
    channels: int
    bit_rate: int | None
    size: int


def open_audio(source: AudioInput, *, arriving: bool = False) -> tuple[InputContainer, AudioStream]:
    """Open `source` and pick its audio stream; raises `NotAudio` if it has none.

    The caller closes the container. A path that cannot be opened raises the usual `OSError`
    (`FileNotFoundError`, `PermissionError`, `IsADirectoryError`).

    `arriving`: `source` is still arriving (a `GrowingBuffer`), so it is opened from its first
    bytes; FFmpeg would otherwise wait for up to 5 MB or 5 s of audio to probe the format.
    """
    options = ARRIVING_PROBE if arriving else None
    try:
        container = av.open(_av_target(source), mode="r", options=options)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except av.FFmpegError as error:
        raise NotAudio(f"not a readable audio file ({_reason(error)})") from None
    if not container.streams.audio:
        container.close()
        raise NotAudio(f"no audio stream (format {container.format.name})")
    return container, container.streams.audio[0]


def probe(
    source: AudioInput, *, longest: float | None = None, time_limit: float | None = None
) -> AudioInfo:
    """Describe an audio file from its container metadata, decoding only if it lacks a duration.

    Raises `NotAudio` for anything that is not decodable audio with a positive length. When
    the length must be counted by decoding, `AudioTooLong` is raised as soon as it passes
    `longest` seconds, and decoding that takes more than `time_limit` seconds is given up
    (`NotAudio`); a declared length is returned as declared.
    """
    size = _size_of(source)
    if size == 0:
        raise NotAudio("the file is empty")
    container, stream = open_audio(source)
    with container:
        context = stream.codec_context
        if context.sample_rate <= 0 or context.channels <= 0:
            raise NotAudio("the audio stream has no sample rate or channels")
        duration = _declared_duration(container, stream)
        if duration is None:
            duration = _decoded_duration(container, stream, longest, time_limit)
        if duration <= 0:
            raise NotAudio("the audio has zero length")
        return AudioInfo(
            duration=duration,
            format_name=container.format.name,
            codec=stream.codec.canonical_name,
            sample_rate=context.sample_rate,
            channels=context.channels,
            bit_rate=context.bit_rate or container.bit_rate or None,
            size=size,
        )


def probe_bytes(
    data: bytes, *, longest: float | None = None, time_limit: float | None = None
) -> AudioInfo:
    """`probe` for audio held in memory, e.g. a member's upload not yet stored."""
    return probe(io.BytesIO(data), longest=longest, time_limit=time_limit)


async def in_probe_pool(work: Callable[[], T]) -> T:
    """Run `work` (probing an upload) in the upload probes' own small pool, off the loop."""
    return await asyncio.get_running_loop().run_in_executor(_UPLOAD_PROBES, work)


async def probe_async(source: AudioInput) -> AudioInfo:
    """`probe` in a worker thread, so the event loop keeps running."""
    return await asyncio.to_thread(probe, source)


def _av_target(source: AudioInput) -> str | BinaryIO | io.RawIOBase:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return source


def _size_of(source: AudioInput) -> int:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).stat().st_size
    start = source.tell()
    end = source.seek(0, io.SEEK_END)
    source.seek(start)
    return end - start


def _declared_duration(container: InputContainer, stream: AudioStream) -> float | None:
    if stream.duration and stream.duration > 0 and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _decoded_duration(
    container: InputContainer,
    stream: AudioStream,
    longest: float | None,
    time_limit: float | None,
) -> float:
    """Seconds of audio, counted by decoding, no further than `longest` and no longer than
    `time_limit` seconds of work."""
    seconds = 0.0
    give_up_at = None if time_limit is None else time.monotonic() + time_limit
    try:
        for frame in container.decode(stream):
            seconds += frame.samples / frame.sample_rate
            if longest is not None and seconds > longest:
                raise AudioTooLong(longest)
            if give_up_at is not None and time.monotonic() > give_up_at:
                raise NotAudio(f"it took more than {time_limit:g} s to read")
    except av.FFmpegError as error:
        if seconds == 0:
            raise NotAudio(f"the audio cannot be decoded ({_reason(error)})") from None
    return seconds


def _reason(error: av.FFmpegError) -> str:
    return error.strerror or type(error).__name__
