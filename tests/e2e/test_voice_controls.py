"""The now-playing card and its buttons, volume, queue changes, what is heard against what was
played, and resuming after a restart: through the local Discord and its voice server."""

from __future__ import annotations

import array
import asyncio
import io
import math

import av

from bot.audio import stored_opus_path
from bot.config import Settings
from bot.voice.session import OpusSource
from sandbox.discord.state import Message
from sandbox.soundverse.media import render_audio
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, card_offering, embed_text, result_for
from tests.e2e.test_tools import a_song, private_reply
from tests.e2e.test_voice import clip, reply_text

RATE = 48000
SEARCHED = 960
"""Samples searched for the codec's delay (libopus adds 312; up to one 20 ms frame)."""
WAVEFORM_MATCH = 0.95
"""Pearson r of the heard waveform against the clip's, once aligned for the codec delay.
Opus at 128 kb/s keeps these tones almost exactly (the same clip measures 0.999); the other
tunes of the local Soundverse measure from 0 to 0.49 against it."""


def mono(pcm: bytes) -> list[float]:
    """s16 stereo PCM as one channel (the mean of both)."""
    samples = array.array("h", pcm[: len(pcm) - len(pcm) % 4])
    return [(samples[i] + samples[i + 1]) / 2 for i in range(0, len(samples), 2)]


def aligned_correlation(heard: list[float], source: list[float]) -> float:
    """Pearson r of `heard` against `source`, shifted by the delay that best lines them up
    (found on 0.1 s of the clip)."""
    segment = source[RATE // 10 : RATE // 5]

    def fit(lag: int) -> float:
        return sum(x * y for x, y in zip(heard[RATE // 10 + lag :], segment, strict=False))

    lag = max(range(SEARCHED), key=fit)
    return correlation(heard[lag:], source)


def card_of(stack: SandboxStack) -> Message | None:
    """The bot's now-playing card, once posted."""
    return next(
        (
            m
            for m in stack.discord.messages
            if m.embeds
            and str(m.embeds[0].get("author", {}).get("name", "")).startswith(
                ("Now playing in ", "Finished in ")
            )
        ),
        None,
    )


async def card_showing(stack: SandboxStack, text: str) -> Message:
    """Wait until the now-playing card shows `text`."""

    def probe() -> Message | None:
        card = card_of(stack)
        return card if card is not None and text in embed_text(card) else None

    return await stack.discord.wait_until(probe, timeout=15)


async def start_playing(stack: SandboxStack, seconds: float = 3.0, name: str = "clip.wav") -> None:
    await stack.discord.move_to_voice("bob", "Lounge")
    played = await stack.discord.slash("play", user="bob", audio=clip(stack, seconds, name))
    await reply_text(stack, played.id)


def source_pcm(data: bytes) -> bytes:
    """`data` decoded to 48 kHz stereo s16, as the voice path plays it."""
    out = bytearray()
    with av.open(io.BytesIO(data), mode="r") as container:
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=RATE)
        for frame in container.decode(audio=0):
            for converted in resampler.resample(frame):
                out += bytes(converted.planes[0])[: converted.samples * 4]
        for converted in resampler.resample(None):
            out += bytes(converted.planes[0])[: converted.samples * 4]
    return bytes(out)


def correlation(a: list[float], b: list[float]) -> float:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    mean_a, mean_b = sum(a) / n, sum(b) / n
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    spread = math.sqrt(sum((x - mean_a) ** 2 for x in a) * sum((y - mean_b) ** 2 for y in b))
    return cov / spread if spread else 0.0


def rms(pcm: bytes) -> float:
    samples = array.array("h", pcm[: len(pcm) - len(pcm) % 2])
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


async def heard_until_quiet(stack: SandboxStack) -> bytes:
    """The decoded audio heard in Lounge once the bot has sent its closing silence."""
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.silence_frames >= 5 or None, timeout=15)
    return bytes(heard.pcm)


async def test_what_is_heard_is_the_clip(stack: SandboxStack) -> None:
    """A 3 s upload is heard for 3 s (within 0.1 s) and matches the clip (r > 0.95)."""
    data = render_audio(5, 3.0, "wav")
    await stack.discord.move_to_voice("bob", "Lounge")
    upload = stack.discord.upload("clip.wav", data, "audio/wav")
    await reply_text(stack, (await stack.discord.slash("play", user="bob", audio=upload)).id)
    heard = await heard_until_quiet(stack)
    assert abs(len(heard) / (RATE * 4) - 3.0) <= 0.1
    assert aligned_correlation(mono(heard), mono(source_pcm(data))) > WAVEFORM_MATCH


async def test_the_card_shows_what_plays_with_its_buttons(stack: SandboxStack) -> None:
    """/play posts a card naming the clip and its requester, with ⏯ ⏭ ⏹ 🔁."""
    await start_playing(stack)
    card = await card_showing(stack, "clip.wav")
    labels = [c.get("label") for row in card.components for c in row.get("components", [])]
    assert labels == ["Pause / resume", "Skip", "Stop", "Loop"]
    assert f"Asked by <@{stack.discord.user('bob').id}>" in embed_text(card)


async def test_the_pause_button_pauses_and_resumes(stack: SandboxStack) -> None:
    """⏯ pauses (the card says so, and only silence frames follow) and, pressed again, plays
    the rest: 3 s are heard in all (within 0.1 s)."""
    await start_playing(stack)
    card = await card_showing(stack, "clip.wav")
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.seconds >= 0.5 or None, timeout=10)
    await stack.discord.click(card, "Pause / resume", user="bob")
    await card_showing(stack, "⏸ Paused")
    await stack.discord.wait_until(lambda: heard.silence_frames >= 5 or None, timeout=10)
    assert heard.seconds < 2.9
    await stack.discord.click(card, "Pause / resume", user="bob")
    await stack.discord.wait_until(lambda: heard.silence_frames >= 10 or None, timeout=15)
    assert abs(heard.seconds - 3.0) <= 0.1


async def test_the_loop_button_plays_the_clip_again(stack: SandboxStack) -> None:
    """🔁 makes the clip start again when it ends."""
    await start_playing(stack, 1.0)
    card = await card_showing(stack, "clip.wav")
    again = asyncio.ensure_future(stack.bot.wait_for("voice_playing", timeout=10))
    await stack.discord.click(card, "Loop", user="bob")
    await card_showing(stack, "🔁 Looping")
    _, item = await again
    assert item.title == "clip.wav"


async def test_the_stop_button_ends_playback(stack: SandboxStack) -> None:
    """⏹ empties the queue; the card says nothing is playing and loses its buttons."""
    await start_playing(stack)
    card = await card_showing(stack, "clip.wav")
    await stack.discord.click(card, "Stop", user="bob")
    stopped = await card_showing(stack, "Nothing is playing")
    assert not stopped.components


async def test_card_buttons_are_for_listeners_only(stack: SandboxStack) -> None:
    """carol, outside Lounge, is told privately that only listeners control playback."""
    await start_playing(stack)
    card = await card_showing(stack, "clip.wav")
    click = await stack.discord.click(card, "Stop", user="carol")
    assert "Only members in" in await private_reply(stack, click.id)


async def test_volume_halves_what_is_heard(stack: SandboxStack) -> None:
    """After /volume 50, the next clip is heard at about half its loudness."""
    await start_playing(stack, 1.0, "one.wav")
    data = render_audio(5, 2.0, "wav")
    upload = stack.discord.upload("two.wav", data, "audio/wav")
    await reply_text(stack, (await stack.discord.slash("play", user="bob", audio=upload)).id)
    volume = await stack.discord.slash("volume", user="bob", percent=50)
    assert "🔉 Volume 50 %." in await reply_text(stack, volume.id)
    heard = await heard_until_quiet(stack)
    # The last 1.5 s of the 2 s clip: a frame or two lost on a busy machine does not reach
    # back into the first clip.
    second = heard[-3 * RATE * 4 // 2 :]
    assert 0.4 < rms(second) / rms(source_pcm(data)) < 0.6


async def test_queue_move_and_remove(stack: SandboxStack) -> None:
    """/queue move puts the third clip first; /queue remove takes the other out."""
    await start_playing(stack, 3.0, "one.wav")
    for name in ("two.wav", "three.wav"):
        played = await stack.discord.slash("play", user="bob", audio=clip(stack, 2.0, name))
        await reply_text(stack, played.id)
    moved = await stack.discord.slash("queue move", user="bob", place=2, to=1)
    assert "Moved **three.wav** to number 1." in await reply_text(stack, moved.id)
    removed = await stack.discord.slash("queue remove", user="bob", place=2)
    assert "Removed **two.wav**" in await reply_text(stack, removed.id)
    listing = await stack.discord.slash("queue show", user="bob")
    text = await reply_text(stack, listing.id)
    assert "1. three.wav" in text and "two.wav" not in text


async def test_only_the_requester_removes_an_item(stack: SandboxStack) -> None:
    """carol in Lounge may not remove bob's queued clip."""
    await start_playing(stack, 3.0, "one.wav")
    played = await stack.discord.slash("play", user="bob", audio=clip(stack, 2.0, "two.wav"))
    await reply_text(stack, played.id)
    await stack.discord.move_to_voice("carol", "Lounge")
    removed = await stack.discord.slash("queue remove", user="carol", place=1)
    assert "Only its requester" in await private_reply(stack, removed.id)


async def test_a_missing_place_is_named(stack: SandboxStack) -> None:
    """/queue remove of a place that is not there says which places there are."""
    await start_playing(stack)
    removed = await stack.discord.slash("queue remove", user="bob", place=3)
    assert "There is no place 3 in the queue: nothing is waiting." in await private_reply(
        stack, removed.id
    )


def slow_card(settings: Settings) -> None:
    settings.voice.card_refresh = 60.0


async def test_a_restart_resumes_where_it_was(make_stack: StackFactory) -> None:
    """Stopped 1 s into a 3 s clip, the bot rejoins after its restart and plays the rest:
    3 s are heard in all (within 0.1 s), and the card comes back."""
    stack = await make_stack(tweak=slow_card)
    await start_playing(stack)
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.seconds >= 1.0 or None, timeout=10)
    await stack.stop_bot()
    card = card_of(stack)
    assert card is not None
    edits, before = len(card.edits), len(heard.pcm)
    await stack.start_bot()
    await stack.discord.wait_until(lambda: len(heard.pcm) > before or None, timeout=15)
    total = await heard_until_quiet(stack)
    assert abs(len(total) / (RATE * 4) - 3.0) <= 0.1
    await stack.discord.wait_until(lambda: len(card.edits) > edits or None, timeout=15)


async def test_a_track_plays_again_from_its_stored_opus(stack: SandboxStack) -> None:
    """The first play of a track keeps it as Opus beside it; the next play sends those stored
    packets (no decoding or encoding)."""
    _, track_id = await a_song(stack, seconds=5)
    track = await stack.bot.services.library.track(track_id)
    assert track.audio_file is not None
    stored = stored_opus_path(track.audio_file.path)
    await stack.discord.move_to_voice("alice", "Lounge")
    first = await stack.discord.slash("play", user="alice", track=f"#{track_id}")
    await reply_text(stack, first.id)
    await stack.discord.wait_until(lambda: stored.is_file() or None, timeout=15)
    skipped = await stack.discord.slash("skip", user="alice")
    await reply_text(stack, skipped.id)
    again = asyncio.ensure_future(stack.bot.wait_for("voice_playing", timeout=10))
    replay = await stack.discord.slash("play", user="alice", track=f"#{track_id}")
    await reply_text(stack, replay.id)
    await again
    session = stack.bot.voice.get(int(stack.discord.channel("Lounge").guild_id))
    assert session is not None
    source = session.voice.source
    assert isinstance(source, OpusSource)
    assert await stack.discord.wait_until(lambda: source.stored or None, timeout=10)


async def test_summon_brings_the_bot_and_the_clip_along(stack: SandboxStack) -> None:
    """bob moves to Studio and summons the bot: the clip goes on there, not in Lounge."""
    studio = await stack.discord.add_channel("Studio", voice=True)
    await start_playing(stack)
    lounge = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: lounge.seconds >= 0.5 or None, timeout=10)
    await stack.discord.move_to_voice("bob", "Studio")
    summoned = await stack.discord.slash("summon", user="bob")
    assert f"Moved to <#{studio.id}>." in await reply_text(stack, summoned.id)
    in_studio = stack.discord.voice.heard_in(studio.id)
    await stack.discord.wait_until(lambda: in_studio.silence_frames >= 5 or None, timeout=15)
    assert 2.0 <= lounge.seconds + in_studio.seconds <= 3.2
    assert {user.username for user in stack.discord.in_voice("Studio")} == {"bob", "Soundverse"}


async def test_summon_away_from_listeners_needs_move_members(stack: SandboxStack) -> None:
    """carol in Studio cannot take the bot away from bob's clip in Lounge."""
    await stack.discord.add_channel("Studio", voice=True)
    await start_playing(stack)
    await stack.discord.move_to_voice("carol", "Studio")
    summoned = await stack.discord.slash("summon", user="carol")
    assert "Members are listening in" in await private_reply(stack, summoned.id)


def live_card(settings: Settings) -> None:
    settings.jobs.progress_interval = 0.05
    settings.jobs.card_refresh = 0.2


async def test_preview_in_voice_plays_the_song_while_it_is_made(make_stack: StackFactory) -> None:
    """Preview in voice on a running job's card plays its stream in Lounge before the result
    is posted; all 5 s of the song are heard (within 0.2 s)."""
    stack = await make_stack(time_scale=0.3, tweak=live_card)
    await stack.discord.move_to_voice("alice", "Lounge")
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=5)
    card = await card_offering(stack, interaction, "Preview in voice")
    click = await stack.discord.click(card, "Preview in voice", user="alice")
    assert "▶ Playing **Preview of" in await reply_text(stack, click.id)
    heard = stack.discord.voice.heard_in(stack.discord.channel("Lounge").id)
    await stack.discord.wait_until(lambda: heard.audio_packets or None, timeout=10)
    alice = stack.discord.user("alice").id
    assert not [m for m in stack.discord.messages if result_for(alice)(m)]
    await stack.discord.wait_until(lambda: heard.silence_frames >= 5 or None, timeout=30)
    assert abs(heard.seconds - 5.0) <= 0.2
