"""The voice assistant through the local Discord and its voice server: how soon an answer is heard.

Run: ``PYTHONPATH=. .venv/bin/python bench/assistant.py`` (about two minutes on 2 cores: a
minute a part), or ``--quick``; ``--parts a`` or ``--parts b`` runs one part.

The local Discord, its voice server and the local Soundverse run in this process; the bot runs
as its own process (`python bench/_timed_bot.py`: the bot exactly as `python -m bot` runs it,
printing stamps of some of its steps). Every instant is `time.monotonic()`, one clock for
every process. The voice server stamps each RTP packet with the kernel's receive time of its
datagram (SO_TIMESTAMPNS), so a busy moment of this process does not shift arrivals, and does
not decode what it hears. The local Soundverse answers at once: its voice assistant sends a
spoken answer rendered once beforehand (3 s, the stand-in's shortest, as MP3) in the
stand-in's 8 KB chunks as soon as the request is read, without fetching `speech_url` (the real
service's fetching and thinking are not the bot's time), so the figures are the bot's own
overhead.

(a) From a voice message to the first answer packet heard: bob, in Lounge, posts a voice
    message in #general (4 s of speech-like sound, Ogg Opus mono 48 kHz with its duration and
    waveform, as Discord's clients record one) and runs "Ask Soundverse" on it. Timed: from
    the instant the local Discord has written INTERACTION_CREATE to the gateway to the
    kernel's receive time of the first RTP packet of the answer, split at the defer's
    acknowledgement (kernel receive time), the bot's check of the recording, the request's
    arrival at the local Soundverse, its first answer bytes, and the bot being ready to play
    (in Lounge). Two ways: the bot joins Lounge to answer (bob says `/leave` after each run),
    and the bot is already in Lounge (each run waits until the previous answer has played).
    The first run after the bot starts is shown apart.
(b) From the end of a spoken turn to the first answer packet heard (live listening, on with
    VOICE_LIVE_LISTENING): alice enables it in the server, bob opts in and starts it in
    Lounge (the bot joins undeafened and chimes), then says one turn after another: 1.2 s
    of speech-like sound (`tests/unit/voice/speech.py`: WebRTC's detector takes it for
    speech), sent by the local Discord
    as Opus packets 20 ms apart, as a member talks. The bot cuts the turn after 0.7 s
    without speech, uploads it to #general (its URL is the `speech_url`), checks it and
    asks. Timed: from the instant the voice server began to send the turn's last packet to
    the kernel's receive time of the first RTP packet of the answer, split at the turn
    reaching the listening session, the upload (begun, and the local Discord's reply read),
    the check of the turn, the request's arrival at the local Soundverse, its first answer
    bytes and the bot having them. Each turn is spoken once the previous answer has played
    to its end; the first turn after listening starts is shown apart.

Prints one Markdown table per part, with the target and whether it was met.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _process import BotProcess, bot_environment
from _stack import API_KEY, ProbedDiscord, stamped_discord, write_authority
from aiohttp import web

from bench._cli import run_benchmark
from bot.voice.turns import TurnSettings
from sandbox.console.voice_message import (
    CONTENT_TYPE,
    FILENAME,
    IS_VOICE_MESSAGE,
    VoiceRecording,
    record_voice_message,
)
from sandbox.discord import Rules
from sandbox.discord.state import Message
from sandbox.discord.voice import Heard, VoiceServer, opus_frames
from sandbox.soundverse import SoundverseStandIn
from sandbox.soundverse.endpoints import VOICE_FIELDS
from sandbox.soundverse.media import render_speech
from sandbox.soundverse.replies import validation_error
from sandbox.soundverse.validation import ValidationFailed
from tests.unit.voice.speech import speech_wav

BENCH = Path(__file__).resolve().parent
TIMED_BOT = (str(BENCH / "_timed_bot.py"),)
MENU = "Ask Soundverse"
ASKER = "bob"
VOICE_CHANNEL = "Lounge"
TEXT_CHANNEL = "general"
QUESTION_SECONDS = 4.0
ANSWER_SECONDS = 3.0
CHUNK_BYTES = 8 * 1024  # the local Soundverse's chunks of a spoken answer
TARGET = 0.300  # the voice message's interaction to the first answer packet, median and max
ANSWER_TIMEOUT = 10.0
QUIET = 0.3  # no packet for this long: the previous answer has played out
FRAME = 0.020  # seconds of sound in one packet
JOINS = "joins"
IN_LOUNGE = "in Lounge"
WAYS = {JOINS: "joins Lounge to answer", IN_LOUNGE: "already in Lounge"}


@dataclass(frozen=True)
class Plan:
    """How many measured runs each way has; `--quick` shrinks it."""

    runs: int = 10


QUICK = Plan(runs=3)


# --- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


async def wait_for(done: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
    """Poll `done` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def print_table(lines: list[str]) -> None:
    print("\n".join(lines), end="\n\n", flush=True)


# --- the local Soundverse, answering at once -------------------------------------------------


@dataclass
class Asked:
    """One question as the local Soundverse saw it."""

    speech_url: str
    arrived: float  # its handler began (the request was read off the socket)
    answered: float = math.nan  # the answer's first chunk was written


class InstantSoundverse(SoundverseStandIn):
    """The local Soundverse with a voice assistant that answers at once: `answer` (MP3),
    in the stand-in's chunks, without fetching `speech_url`. Its other endpoints are the
    stand-in's own."""

    def __init__(self, answer: bytes) -> None:
        super().__init__(api_keys={API_KEY})
        self.answer = answer
        self.asked: list[Asked] = []

    async def _voice(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        self._count_post(request)
        _, refusal = self._gate(request, lambda _: False)
        if refusal is not None:
            return refusal
        try:
            body = await self._read_body(request, VOICE_FIELDS)
        except ValidationFailed as error:
            return validation_error(error.errors)
        asked = Asked(body.text("speech_url") or "", arrived)
        self.asked.append(asked)
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(self.answer), CHUNK_BYTES):
            await response.write(self.answer[start : start + CHUNK_BYTES])
            if start == 0:
                asked.answered = time.monotonic()
        await response.write_eof()
        return response


# --- (a) a voice message to the first answer packet ------------------------------------------


@dataclass(frozen=True)
class AskRun:
    """One "Ask Soundverse" on a voice message, as instants of the monotonic clock."""

    way: str
    dispatched: float  # INTERACTION_CREATE written to the gateway
    acked: float  # the defer's bytes reached the local Discord (kernel receive time)
    checking: float  # the bot began to check the recording it had read (bot)
    checked: float  # ... and was done (bot)
    asked: float  # the request reached the local Soundverse
    answered: float  # the local Soundverse wrote the answer's first chunk
    placing: float  # the bot had the first bytes and looked for where to play them (bot)
    ready: float  # ... and was ready to play them (in Lounge, joined if it was not there)
    heard: float  # the first packet of the answer arrived (kernel receive time)
    posted: float  # the local Discord stored the answer as a voice message
    seen: int  # packets heard in Lounge before the run

    @property
    def total(self) -> float:
        return self.heard - self.dispatched


STEPS: list[tuple[str, Callable[[AskRun], float]]] = [
    ("INTERACTION_CREATE written → the defer acknowledged", lambda r: r.acked - r.dispatched),
    ("→ the recording read (downloaded from the local CDN)", lambda r: r.checking - r.acked),
    ("→ the recording checked: decoded for its length and level", lambda r: r.checked - r.checking),
    (
        "→ the request reaches the local Soundverse (call limits, units reserved)",
        lambda r: r.asked - r.checked,
    ),
    ("→ its first answer bytes sent (answering at once)", lambda r: r.answered - r.asked),
    ("→ the bot has them (units spent)", lambda r: r.placing - r.answered),
    ("→ ready to play in Lounge (joining it, or already there)", lambda r: r.ready - r.placing),
    ("→ the first answer packet heard", lambda r: r.heard - r.ready),
]
TOTAL = "**the interaction → the first answer packet heard**"
POSTED = "(context) the interaction → the answer posted as a voice message"


@dataclass
class AskFigures:
    first: AskRun | None = None
    runs: dict[str, list[AskRun]] = field(default_factory=lambda: {way: [] for way in WAYS})
    failures: list[str] = field(default_factory=list)
    whole: list[int] = field(default_factory=list)
    """Sound packets heard of each answer played out in Lounge (the bot staying there)."""


class NoAnswer(Exception):
    """A run that did not get as far as an answer heard; the message says where it stopped."""


def voice_answer_to(discord: ProbedDiscord, question: Message) -> Message | None:
    """The bot's voice message replying to `question`, once stored."""
    bot = discord.local.bot_user.id
    for message in discord.local.messages:
        reference = message.message_reference or {}
        if (
            message.author.id == bot
            and message.is_voice_message
            and reference.get("message_id") == question.id
        ):
            return message
    return None


def first_sound_after(heard: Heard, seen: int) -> float | None:
    """When the first packet with sound among those after the first `seen` arrived."""
    return next((p.at for p in heard.packets[seen:] if not p.silence), None)


def stamp_of(bot: BotProcess, step: str, key: str, value: str) -> dict[str, Any]:
    """The bot's stamp of `step` whose `key` is `value`; NaN instants when there is none."""
    found = next((t for t in bot.timings if t["step"] == step and t.get(key) == value), None)
    return found or {"began": math.nan, "ended": math.nan}


async def ask_once(
    discord: ProbedDiscord,
    voice: VoiceServer,
    soundverse: InstantSoundverse,
    bot: BotProcess,
    recording: VoiceRecording,
    way: str,
) -> AskRun:
    """bob posts the voice message and runs Ask Soundverse on it; the instants of the run,
    once the answer was heard in Lounge and posted as a voice message."""
    local = discord.local
    heard = voice.heard_in(local.channel(VOICE_CHANNEL).id)
    attachment = local.upload(
        FILENAME,
        recording.ogg,
        CONTENT_TYPE,
        duration_secs=recording.duration_secs,
        waveform=recording.waveform,
    )
    question = await local.post_message(
        TEXT_CHANNEL, ASKER, attachments=[attachment], flags=IS_VOICE_MESSAGE
    )
    posted: list[float] = []

    def watch() -> None:
        if not posted and voice_answer_to(discord, question) is not None:
            posted.append(time.monotonic())

    seen = len(heard.packets)
    asked_before = len(soundverse.asked)
    discord.watchers.append(watch)
    try:
        handle = await local.context_menu(MENU, question, user=ASKER)
        if not await wait_for(lambda: first_sound_after(heard, seen) is not None, ANSWER_TIMEOUT):
            raise NoAnswer(f"no answer packet within {ANSWER_TIMEOUT:.0f} s")
        if not await wait_for(lambda: bool(posted), ANSWER_TIMEOUT):
            raise NoAnswer(f"no voice message within {ANSWER_TIMEOUT:.0f} s")
    finally:
        discord.watchers.remove(watch)
    asked = soundverse.asked[asked_before:]
    if len(asked) != 1 or asked[0].speech_url != attachment.url:
        raise NoAnswer(f"the local Soundverse was asked {[a.speech_url for a in asked]}")
    checked = stamp_of(bot, "question_checked", "url", attachment.url)
    placed = stamp_of(bot, "playback_ready", "interaction", handle.id)
    sound = first_sound_after(heard, seen)
    assert sound is not None
    return AskRun(
        way=way,
        dispatched=discord.dispatched[handle.id],
        acked=discord.acked.get(handle.id, math.nan),
        checking=float(checked["began"]),
        checked=float(checked["ended"]),
        asked=asked[0].arrived,
        answered=asked[0].answered,
        placing=float(placed["began"]),
        ready=float(placed["ended"]),
        heard=sound,
        posted=posted[0],
        seen=seen,
    )


async def settle(discord: ProbedDiscord, voice: VoiceServer, *, leave: bool) -> None:
    """Before the next run: bob makes the bot leave Lounge (`leave`), or the answer plays out
    (no packet for `QUIET` seconds)."""
    local = discord.local
    heard = voice.heard_in(local.channel(VOICE_CHANNEL).id)
    if leave:
        await local.slash("leave", user=ASKER)
        await wait_for(lambda: local.world.bot.id not in local.guild.voice_channels, ANSWER_TIMEOUT)
    await wait_for(
        lambda: not heard.packets or time.monotonic() - heard.packets[-1].at > QUIET,
        ANSWER_SECONDS + ANSWER_TIMEOUT,
    )


async def measure_voice_messages(plan: Plan, workdir: Path) -> AskFigures:
    """A first run, `plan.runs` runs joining Lounge, then `plan.runs` with the bot in it."""
    question = await asyncio.to_thread(render_speech, 7, QUESTION_SECONDS)
    recording, answer = await asyncio.gather(
        asyncio.to_thread(record_voice_message, question),
        asyncio.to_thread(render_speech, 11, ANSWER_SECONDS),
    )
    # A question a second in one channel is the benchmark's pace, not a member's: the local
    # Discord's limit of 5 messages per 5 s in a channel would hold the voice messages back.
    discord, voice = stamped_discord(Rules(message_limit=(1000, 5.0)))
    soundverse = InstantSoundverse(answer)
    data_dir = workdir / "a"
    await soundverse.start()
    await discord.start()
    environment = bot_environment(discord, soundverse.url, data_dir)
    environment["SSL_CERT_FILE"] = str(write_authority(voice, workdir / "voice-ca.pem"))
    environment["QUOTA_CALL_COOLDOWN"] = "0"
    bot = BotProcess(TIMED_BOT, environment, data_dir)
    figures = AskFigures()
    # The first run and the runs that join leave afterwards, but the last: the bot stays in
    # Lounge for the runs that find it there.
    schedule = [("first", True)] + [(JOINS, True)] * (plan.runs - 1) + [(JOINS, False)]
    schedule += [(IN_LOUNGE, False)] * plan.runs
    try:
        await bot.start()
        await discord.local.move_to_voice(ASKER, VOICE_CHANNEL)
        await asyncio.sleep(0.5)  # the bot has seen bob join
        heard = voice.heard_in(discord.local.channel(VOICE_CHANNEL).id)
        for way, leave in schedule:
            try:
                run = await ask_once(discord, voice, soundverse, bot, recording, way)
            except NoAnswer as failure:
                figures.failures.append(f"{way}: {failure}")
                await settle(discord, voice, leave=leave)
                continue
            await settle(discord, voice, leave=leave)
            if way == "first":
                figures.first = run
                continue
            figures.runs[way].append(run)
            if way == IN_LOUNGE:
                figures.whole.append(sum(1 for p in heard.packets[run.seen :] if not p.silence))
    finally:
        await bot.stop()
        await discord.stop()
        await soundverse.stop()
    return figures


def packets(counts: Sequence[int]) -> str:
    """`151`, or `150–151` when the runs differ."""
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}–{high}"


def verdict(values: Sequence[float], failed: int, target: float = TARGET) -> str:
    if failed or not values:
        return "**no**"
    if max(values) < target:
        return "yes"
    return "median only" if percentile(values, 50) < target else "**no**"


def voice_message_table(figures: AskFigures, plan: Plan) -> list[str]:
    lines = [
        f'(a) From "{MENU}" on a voice message ({QUESTION_SECONDS:.0f} s, Ogg Opus) to the '
        f"first answer packet heard in {VOICE_CHANNEL}, the local Soundverse answering at once "
        f"({plan.runs} runs each way after a first one)",
        "",
        f"| Interval | First after start | {WAYS[JOINS]}: median | max "
        f"| {WAYS[IN_LOUNGE]}: median | max | Target | Met |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    rows: list[tuple[str, Callable[[AskRun], float]]] = [
        *STEPS,
        (TOTAL, lambda r: r.total),
        (POSTED, lambda r: r.posted - r.dispatched),
    ]
    failed = len(figures.failures)
    for name, interval in rows:
        first = math.nan if figures.first is None else interval(figures.first)
        cells = []
        for way in WAYS:
            values = [interval(run) for run in figures.runs[way]]
            cells += [ms(percentile(values, 50)), ms(max(values, default=math.nan))]
        target, met = "—", "—"
        if name == TOTAL:
            target = f"< {TARGET * 1000:.0f} ms, median and max"
            met = " / ".join(
                verdict([run.total for run in figures.runs[way]], failed) for way in WAYS
            )
        lines.append(f"| {name} | {ms(first)} | {' | '.join(cells)} | {target} | {met} |")
    joined = figures.runs[JOINS]
    lines += [
        "",
        f"Runs without an answer heard: {failed}"
        + (f" ({'; '.join(figures.failures)})." if failed else ".")
        + f" The first run after the bot starts joins {VOICE_CHANNEL} too. The recording's "
        "two steps, the bot having the first bytes and its being ready to play are stamped in "
        "the bot's process (`bench/_timed_bot.py`); the acknowledgement and the first packet "
        "with the kernel's receive time; the local Soundverse's steps as its handler ran. "
        f"The answer ({ANSWER_SECONDS:.0f} s) is posted as a voice message once all of it "
        "has come and been encoded; it is played from its first bytes"
        + (
            f" (joining {VOICE_CHANNEL} took "
            f"{ms(percentile([r.ready - r.placing for r in joined], 50))} of the median run)."
            if joined
            else "."
        )
        + (
            f" With the bot staying in {VOICE_CHANNEL}, each answer was heard to its end: "
            f"{packets(figures.whole)} sound packets a run "
            f"({max(figures.whole) * FRAME:.2f} s of the {ANSWER_SECONDS:.0f} s MP3)."
            if figures.whole
            else ""
        ),
    ]
    return lines


async def run_voice_messages(plan: Plan, workdir: Path) -> None:
    try:
        figures = await measure_voice_messages(plan, workdir)
    except RuntimeError as error:  # the bot never got ready
        print(f"(a) failed: {error}\n", flush=True)
    else:
        print_table(voice_message_table(figures, plan))


# --- (b) the end of a spoken turn to the first answer packet ----------------------------------


@dataclass(frozen=True)
class TurnRun:
    """One spoken turn answered in Lounge (live listening), as instants of the monotonic clock."""

    sent: float  # the voice server began to send the bot the turn's last packet
    last_speech: float  # the bot's arrival time of the turn's last frame with speech (bot)
    cut: float  # the turn reached the listening session, ended by the silence (bot)
    uploading: float  # the bot began to upload the turn (bot)
    uploaded: float  # ... and had the local Discord's reply (bot)
    checked: float  # the bot was done checking the turn (bot)
    asked: float  # the request reached the local Soundverse
    answered: float  # the local Soundverse wrote the answer's first chunk
    placing: float  # the bot had the first bytes and looked for where to play them (bot)
    heard: float  # the first packet of the answer arrived (kernel receive time)
    posted: float  # the local Discord stored the answer as a voice message
    sound: int  # sound packets of the answer heard (played to its end)

    @property
    def total(self) -> float:
        return self.heard - self.sent


TURN_STEPS: list[tuple[str, Callable[[TurnRun], float]]] = [
    (
        "the turn's last packet sent → the turn cut (0.7 s without speech)",
        lambda r: r.cut - r.sent,
    ),
    (
        "→ the upload begins (its speaker looked up, the turn as a WAV)",
        lambda r: r.uploading - r.cut,
    ),
    (
        f"→ the turn uploaded to #{TEXT_CHANNEL} (the local Discord's reply)",
        lambda r: r.uploaded - r.uploading,
    ),
    ("→ the turn checked: decoded for its length and level", lambda r: r.checked - r.uploaded),
    (
        "→ the request reaches the local Soundverse (call limits, units reserved)",
        lambda r: r.asked - r.checked,
    ),
    ("→ its first answer bytes sent (answering at once)", lambda r: r.answered - r.asked),
    ("→ the bot has them (units spent)", lambda r: r.placing - r.answered),
    ("→ the first answer packet heard (played in Lounge)", lambda r: r.heard - r.placing),
]
TURN_TOTAL = "**the turn's last packet sent → the first answer packet heard**"
TURN_POSTED = "(context) the turn's last packet sent → the answer posted as a voice message"
TURN_SECONDS = 1.2  # how long each turn's speech lasts
TURN_SILENCE = TurnSettings().silence  # the silence that ends a turn (0.7 s)
TURN_TARGET = 1.0  # the end of a spoken turn to the first answer packet, median and max
MODERATOR = "alice"  # has Manage Server: enables live listening in the server


@dataclass
class TurnFigures:
    first: TurnRun | None = None
    runs: list[TurnRun] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def stamp_sends(voice: VoiceServer) -> list[float]:
    """Stamps, in the list returned, each RTP packet the voice server sends a member's voice
    in, as it begins to send it: the bot, on the same machine, may read a datagram before
    the call that sent it has returned."""
    sent: list[float] = []
    send = voice._send_rtp

    def stamped(*args: Any) -> None:
        sent.append(time.monotonic())
        send(*args)

    setattr(voice, "_send_rtp", stamped)  # noqa: B010
    return sent


def stamp_after(bot: BotProcess, step: str, since: int, **match: Any) -> dict[str, Any]:
    """The bot's first stamp of `step` from index `since` on, whose fields hold `match`;
    NaN instants when there is none."""
    for found in bot.timings[since:]:
        if found["step"] == step and all(found.get(k) == v for k, v in match.items()):
            return found
    return {"at": math.nan, "began": math.nan, "ended": math.nan, "last_speech": math.nan}


def played_out(heard: Heard, seen: int) -> bool:
    """The answer whose packets follow the first `seen` has played to its end: the silence
    frames that end a stream followed its sound."""
    after = heard.packets[seen:]
    first = next((i for i, p in enumerate(after) if not p.silence), None)
    return first is not None and any(p.silence for p in after[first:])


def new_voice_answer(discord: ProbedDiscord, before: set[str]) -> Message | None:
    """A voice message of the bot's not among `before` (ids)."""
    bot = discord.local.bot_user.id
    return next(
        (
            m
            for m in discord.local.messages
            if m.author.id == bot and m.is_voice_message and m.id not in before
        ),
        None,
    )


async def reply_of(discord: ProbedDiscord, user: str, command: str, **options: Any) -> str:
    """`user` runs `/command`; what the bot answered (in the channel or privately)."""
    handle = await discord.local.slash(command, user=user, **options)
    message = await discord.local.wait_for_message(
        lambda m: m.interaction_id == handle.id and not m.loading and bool(m.content or m.embeds),
        timeout=ANSWER_TIMEOUT,
    )
    return " ".join([message.content, *(str(e.get("description", "")) for e in message.embeds)])


async def start_listening(discord: ProbedDiscord, voice: VoiceServer) -> None:
    """alice enables live listening in the server, bob opts in and starts it in Lounge; once
    the chime has played. Raises `RuntimeError` when the bot refuses."""
    local = discord.local
    heard = voice.heard_in(local.channel(VOICE_CHANNEL).id)
    replies = [
        await reply_of(discord, MODERATOR, "listen enable"),
        await reply_of(discord, ASKER, "listen me", heard="on", keep="off"),
    ]
    seen = len(heard.packets)
    replies.append(await reply_of(discord, ASKER, "listen start"))
    if "Listening in" not in replies[-1]:
        raise RuntimeError("live listening did not start: " + " / ".join(replies))
    if not await wait_for(lambda: played_out(heard, seen), ANSWER_TIMEOUT):
        raise RuntimeError("the chime that starts live listening was not heard")


async def speak_turn(
    discord: ProbedDiscord,
    voice: VoiceServer,
    soundverse: InstantSoundverse,
    bot: BotProcess,
    frames: list[bytes],
    sends: list[float],
) -> TurnRun:
    """bob says one turn in Lounge, in real time; the instants of the run, once its answer
    was heard to its end and posted as a voice message."""
    local = discord.local
    heard = voice.heard_in(local.channel(VOICE_CHANNEL).id)
    before = {m.id for m in local.messages}
    posted: list[float] = []

    def watch() -> None:
        if not posted and new_voice_answer(discord, before) is not None:
            posted.append(time.monotonic())

    seen = len(heard.packets)
    asked_before = len(soundverse.asked)
    stamps = len(bot.timings)
    discord.watchers.append(watch)
    try:
        if not await local.speak(ASKER, opus=frames, realtime=True):
            raise NoAnswer(f"the bot was not connected in {VOICE_CHANNEL} to hear the turn")
        sent = sends[-1]
        if not await wait_for(lambda: first_sound_after(heard, seen) is not None, ANSWER_TIMEOUT):
            raise NoAnswer(f"no answer packet within {ANSWER_TIMEOUT:.0f} s of the turn's end")
        if not await wait_for(lambda: bool(posted), ANSWER_TIMEOUT):
            raise NoAnswer(f"no voice message within {ANSWER_TIMEOUT:.0f} s")
        if not await wait_for(lambda: played_out(heard, seen), ANSWER_SECONDS + ANSWER_TIMEOUT):
            raise NoAnswer("the answer did not play to its end")
    finally:
        discord.watchers.remove(watch)
    uploaded = stamp_after(bot, "turn_uploaded", stamps)
    asked = soundverse.asked[asked_before:]
    if len(asked) != 1 or asked[0].speech_url != uploaded.get("url"):
        turns = sum(1 for t in bot.timings[stamps:] if t["step"] == "turn_cut")
        raise NoAnswer(
            f"{turns} turn(s) cut; the local Soundverse was asked {[a.speech_url for a in asked]}"
        )
    cut = stamp_after(bot, "turn_cut", stamps)
    sound = first_sound_after(heard, seen)
    assert sound is not None
    return TurnRun(
        sent=sent,
        last_speech=float(cut["last_speech"]),
        cut=float(cut["at"]),
        uploading=float(uploaded["began"]),
        uploaded=float(uploaded["ended"]),
        checked=float(
            stamp_after(bot, "question_checked", stamps, url=asked[0].speech_url)["ended"]
        ),
        asked=asked[0].arrived,
        answered=asked[0].answered,
        placing=float(stamp_after(bot, "turn_playback", stamps)["began"]),
        heard=sound,
        posted=posted[0],
        sound=sum(1 for p in heard.packets[seen:] if not p.silence),
    )


async def measure_spoken_turns(plan: Plan, workdir: Path) -> TurnFigures:
    """A first turn, then `plan.runs` turns, each once the previous answer has played."""
    turn = await asyncio.to_thread(speech_wav, TURN_SECONDS)
    frames, answer = await asyncio.gather(
        asyncio.to_thread(opus_frames, turn),
        asyncio.to_thread(render_speech, 11, ANSWER_SECONDS),
    )
    discord, voice = stamped_discord()
    sends = stamp_sends(voice)
    soundverse = InstantSoundverse(answer)
    data_dir = workdir / "b"
    await soundverse.start()
    await discord.start()
    environment = bot_environment(discord, soundverse.url, data_dir)
    environment["SSL_CERT_FILE"] = str(write_authority(voice, workdir / "voice-ca.pem"))
    environment["QUOTA_CALL_COOLDOWN"] = "0"
    environment["VOICE_LIVE_LISTENING"] = "true"
    bot = BotProcess(TIMED_BOT, environment, data_dir)
    figures = TurnFigures()
    try:
        await bot.start()
        await discord.local.move_to_voice(ASKER, VOICE_CHANNEL)
        await start_listening(discord, voice)
        for index in range(plan.runs + 1):
            try:
                run = await speak_turn(discord, voice, soundverse, bot, frames, sends)
            except NoAnswer as failure:
                figures.failures.append(f"turn {index + 1}: {failure}")
                await settle(discord, voice, leave=False)
                continue
            if index == 0:
                figures.first = run
            else:
                figures.runs.append(run)
    finally:
        await bot.stop()
        await discord.stop()
        await soundverse.stop()
    return figures


def spoken_turn_table(figures: TurnFigures, plan: Plan) -> list[str]:
    lines = [
        f"(b) From the end of a spoken turn ({TURN_SECONDS:.1f} s of speech-like sound, in real "
        f"time) to the first answer packet heard in {VOICE_CHANNEL}, live listening, the local "
        f"Soundverse answering at once ({plan.runs} runs after a first one)",
        "",
        "| Interval | First after start | median | max | Target | Met |",
        "|---|---:|---:|---:|---|---|",
    ]
    rows: list[tuple[str, Callable[[TurnRun], float]]] = [
        *TURN_STEPS,
        (TURN_TOTAL, lambda r: r.total),
        (TURN_POSTED, lambda r: r.posted - r.sent),
    ]
    failed = len(figures.failures)
    for name, interval in rows:
        first = math.nan if figures.first is None else interval(figures.first)
        values = [interval(run) for run in figures.runs]
        target, met = "—", "—"
        if name == TURN_TOTAL:
            target = (
                f"< {TURN_TARGET * 1000:.0f} ms, median and max "
                f"({TURN_SILENCE * 1000:.0f} ms of it the silence that ends a turn)"
            )
            met = verdict(values, failed, TURN_TARGET)
        lines.append(
            f"| {name} | {ms(first)} | {ms(percentile(values, 50))} "
            f"| {ms(max(values, default=math.nan))} | {target} | {met} |"
        )
    lines += ["", turn_notes(figures)]
    return lines


def turn_notes(figures: TurnFigures) -> str:
    """What the table of (b) does not show: failures, where each instant was taken, how the
    bot counted the silence, and that each answer played to its end."""
    failed = figures.failures
    notes = [
        f"Runs without an answer heard: {len(failed)}"
        + (f" ({'; '.join(failed)})." if failed else "."),
        f"Before the first turn alice enabled live listening, and bob, opted in, started it in "
        f"{VOICE_CHANNEL} (the bot joined undeafened and chimed). The turn's end is the instant "
        "the voice server began to send its last packet, 20 ms after the one before (a "
        "member's voice is sent as they talk); the cut, the upload, the check and the bot "
        "having the first bytes are stamped in the bot's process (`bench/_timed_bot.py`), the "
        "first packet with the kernel's receive time, the local Soundverse's steps as its "
        "handler ran.",
    ]
    runs = figures.runs
    if runs:
        arrived = percentile([r.last_speech - r.sent for r in runs], 50)
        counted = [r.cut - r.last_speech for r in runs]
        sounds = [r.sound for r in runs]
        notes += [
            f"The bot's socket thread had the turn's last frame with speech {ms(arrived)} after "
            f"that instant (median), and the turn was cut {ms(percentile(counted, 50))} after "
            f"that frame (max {ms(max(counted))}): the {TURN_SILENCE * 1000:.0f} ms of silence "
            "counted on the clock, as no packet comes while a member is quiet.",
            f"Each answer played to its end before the next turn: {packets(sounds)} sound "
            f"packets a run ({max(sounds) * FRAME:.2f} s of the {ANSWER_SECONDS:.0f} s MP3); "
            "it is posted as a voice message once all of it has come and been encoded, and the "
            "turn's upload is then deleted.",
        ]
    return " ".join(notes)


async def run_spoken_turns(plan: Plan, workdir: Path) -> None:
    try:
        figures = await measure_spoken_turns(plan, workdir)
    except RuntimeError as error:  # the bot never got ready, or did not start listening
        print(f"(b) failed: {error}\n", flush=True)
    else:
        print_table(spoken_turn_table(figures, plan))


# --- the whole run ---------------------------------------------------------------------------


PARTS: dict[str, Callable[[Plan, Path], Awaitable[None]]] = {
    "a": run_voice_messages,
    "b": run_spoken_turns,
}


async def run_all(plan: Plan, parts: str, workdir: Path) -> None:
    for part, run in PARTS.items():
        if part in parts:
            await run(plan, workdir)


def main() -> None:
    run_benchmark(
        __doc__.splitlines()[0],
        name="assistant",
        parts="ab",
        parts_help="which parts to run: a (a voice message), b (a spoken turn, live listening)",
        quick_help=f"{QUICK.runs} runs each way",
        plans=(Plan(), QUICK),
        run_all=run_all,
    )


if __name__ == "__main__":
    main()
