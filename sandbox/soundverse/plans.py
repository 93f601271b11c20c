"""Turns a validated request into a job plan: how long each output lasts and where it lives."""

from __future__ import annotations

import math
import re
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.soundverse.endpoints import (
    DEFAULT_SECONDS,
    STEM_NAMES,
    Endpoint,
    Operation,
    stem_kind,
)
from sandbox.soundverse.inputs import InputAudio, input_rejected
from sandbox.soundverse.jobs import JobPlan, OutputPlan
from sandbox.soundverse.texts import ai_reply, seed_of, song_title
from sandbox.soundverse.validation import Body

LOOP_SECONDS = 4.0
MAX_LOOPED_SECONDS = 960.0
EXTENSION_SECONDS = 30

_WHAT = {
    Operation.SONG: "song",
    Operation.MUSIC: "instrumental",
    Operation.EXTEND_SONG: "extended song",
    Operation.EXTEND_MUSIC: "extended track",
    Operation.REMIX: "remix",
    Operation.SINGING: "vocal performance",
    Operation.STEMS: "stems",
    Operation.LOOP: "loop",
    Operation.GEN_LOOP: "looped track",
}


@dataclass(frozen=True)
class JobRequest:
    """One accepted request: where it came in, what it asked and what it gave as audio."""

    endpoint: Endpoint
    body: Body
    inputs: dict[str, InputAudio]
    seed: int
    user_folder: str
    message_id: str
    fail_after: int | None
    repeat: int = 0
    """How many jobs the same request started before this one."""


def plan_job(request: JobRequest) -> JobPlan:
    """The outputs and texts of the job, or InputRejected when an input's length is wrong."""
    _check_input_lengths(request)
    endpoint, body = request.endpoint, request.body
    prompt = _main_text(body)
    title = song_title(prompt, request.seed)
    folder = f"/storage/x-one/{request.user_folder}/{request.message_id}/"
    return JobPlan(
        operation=_operation_tag(request),
        prompt=prompt,
        song_name=title,
        ai_reply=ai_reply(prompt, _WHAT[endpoint.operation]),
        art_seed=request.seed,
        art_path=(
            f"/storage/soundverse-album-art/{request.user_folder}/{request.message_id}/"
            f"{uuid.uuid4()}_album_art.png"
        ),
        outputs=tuple(_outputs(request, folder, prompt, title)),
        licenses=endpoint.licenses,
        announces_job=endpoint.announces_job,
        fail_after=request.fail_after,
    )


def _main_text(body: Body) -> str:
    """What the request is about: the prompt, else the lyrics, else the style."""
    for name in ("prompt", "lyrics", "styleOfMusic", "style"):
        text = body.text(name)
        if text and text.strip():
            return text
    return "your audio"


def _operation_tag(request: JobRequest) -> str:
    """The SSE `operation` value; v7 songs built on audio say so."""
    if request.endpoint.operation is Operation.SONG and request.inputs:
        return "song_with_audio"
    return request.endpoint.operation.value


def _check_input_lengths(request: JobRequest) -> None:
    """Refuse inputs shorter or longer than the endpoint accepts."""
    low, high = request.endpoint.input_seconds
    for field, audio in request.inputs.items():
        if not low <= audio.seconds <= high:
            bounds = f"at least {low:g} s" if math.isinf(high) else f"{low:g} to {high:g} s"
            raise input_rejected(
                field, audio.url, f"{field} lasts {audio.seconds:.1f} s; it must last {bounds}"
            )


def _outputs(request: JobRequest, folder: str, prompt: str, title: str) -> list[OutputPlan]:
    """Every file the job publishes, by operation."""
    operation = request.endpoint.operation
    if operation is Operation.STEMS:
        return _stem_outputs(request, folder)
    if operation is Operation.LOOP:
        return _loop_outputs(request, folder, title)
    if operation is Operation.GEN_LOOP:
        return _generated_and_looped(request, folder, title)
    return _take_outputs(request, folder, prompt, title)


def _stem_outputs(request: JobRequest, folder: str) -> list[OutputPlan]:
    """One file per stem name, each as long as the input."""
    source = _only_input(request)
    fmt = request.endpoint.audio_format
    names = STEM_NAMES[stem_kind(request.endpoint.path)]
    return [
        OutputPlan(
            folder + f"{name}.{fmt}", name.title(), seed_of(source.digest, name), source.seconds,
            fmt, label=name,
        )
        for name in names
    ]  # fmt: skip


def _loop_outputs(request: JobRequest, folder: str, title: str) -> list[OutputPlan]:
    """The input's detected loop (its first 4 s at most) repeated `count` times."""
    source = _only_input(request)
    fmt = request.endpoint.audio_format
    count = request.body.integer("count", 1) or 1
    seconds = _looped_seconds(min(LOOP_SECONDS, source.seconds), count, "count")
    name = f"{_slug(title)}_trimmed_x{count}.{fmt}"
    return [OutputPlan(folder + name, f"{title} (Loop)", seed_of(source.digest), seconds, fmt)]


def _take_outputs(request: JobRequest, folder: str, prompt: str, title: str) -> list[OutputPlan]:
    """The endpoint's number of takes, each with its own tune and title."""
    fmt = request.endpoint.audio_format
    seconds = _output_seconds(request)
    extra_titles = [song_title(prompt, request.seed + n) for n in range(1, request.endpoint.takes)]
    return [
        OutputPlan(folder + _file_name(fmt), name, _tune_seed(request, take), seconds, fmt)
        for take, name in enumerate([title, *extra_titles])
    ]


def _generated_and_looped(request: JobRequest, folder: str, title: str) -> list[OutputPlan]:
    """Gen-and-loop: the generated track, then that track's loop repeated loopCount times."""
    fmt = request.endpoint.audio_format
    seconds = float(request.body.integer("duration", DEFAULT_SECONDS) or DEFAULT_SECONDS)
    count = request.body.integer("loopCount", 1) or 1
    looped = _looped_seconds(min(LOOP_SECONDS, seconds), count, "loopCount")
    seed = _tune_seed(request, 0)
    return [
        OutputPlan(folder + _file_name(fmt), title, seed, seconds, fmt, group="generated"),
        OutputPlan(
            folder + f"{_slug(title)}_trimmed_x{count}.{fmt}",
            f"{title} (Loop)",
            seed,
            looped,
            fmt,
            group="looped",
        ),
    ]


def _tune_seed(request: JobRequest, take: int) -> int:
    """The seed of a generated take. Each repeat of a request moves it on by one tune, so a
    variation never sounds like the job just before it, while the first job of a request always
    sounds the same."""
    return seed_of(request.seed, take) + request.repeat


def _looped_seconds(loop: float, count: int, field: str) -> float:
    """`count` repeats of a loop, refused past the documented 960 s."""
    total = loop * count
    if total > MAX_LOOPED_SECONDS:
        raise input_rejected(
            field, count, f"Looped audio would last {total:g} s; at most {MAX_LOOPED_SECONDS:g} s"
        )
    return total


def _output_seconds(request: JobRequest) -> float:
    """Length of a generated, extended, remixed or sung output."""
    body = request.body
    operation = request.endpoint.operation
    if operation is Operation.EXTEND_SONG:
        return _extend_song_seconds(request)
    if operation is Operation.EXTEND_MUSIC:
        added = body.integer("duration", EXTENSION_SECONDS) or EXTENSION_SECONDS
        return _only_input(request).seconds + added
    if operation is Operation.REMIX:
        return _only_input(request).seconds
    if operation is Operation.SINGING:
        if request.inputs:
            return _only_input(request).seconds
        words = len((body.text("lyrics") or "").split())
        return min(120.0, max(10.0, words * 0.5))
    return float(body.integer("duration", DEFAULT_SECONDS) or DEFAULT_SECONDS)


def _extend_song_seconds(request: JobRequest) -> float:
    """The song up to `extend_at` plus a 30 s continuation; `extend_at` must be inside it."""
    extend_at = request.body.integer("extend_at", 0) or 0
    source = _only_input(request)
    if extend_at / 1000 > source.seconds + 0.05:
        raise input_rejected(
            "extend_at",
            extend_at,
            f"extend_at ({extend_at} ms) is past the end of the audio"
            f" ({source.seconds * 1000:.0f} ms)",
        )
    return extend_at / 1000 + EXTENSION_SECONDS


def _only_input(request: JobRequest) -> InputAudio:
    """The single audio input of an endpoint that requires one."""
    return next(iter(request.inputs.values()))


def _file_name(audio_format: str) -> str:
    """A storage file name in the style of the real service for that format."""
    token = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    if audio_format == "wav":
        return f"xone{datetime.now(UTC):%Y%m%d%H%M%S}{token}.wav"
    return f"tmp{token}.mp3"


def _slug(text: str) -> str:
    """`Rain Over Tracks` -> `rain_over_tracks`."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "track"
