"""The bot side of the voice benchmark: `python bench/_voice_bots.py player PLAN | play-bot`.

player PLAN: a discord.py client that joins the voice channel "Lounge" of every guild whose
    name starts with "bench-", then plays the runs PLAN (JSON) lists, one after another: in
    each, `streams` of its voice clients play the same clip at once, through one kind of
    source (the PCM kinds at 50 % volume). A `TIMING {json}` line on stdout gives each run's
    window (monotonic clock) and this process's CPU time over it: its own (every thread) plus
    that of the ffmpeg processes it started and reaped (RUSAGE_CHILDREN).
play-bot: a bare discord.py bot whose `/play` defers, joins the member's voice channel and
    plays the attachment through `FFmpegPCMAudio` in a `PCMVolumeTransformer`, and whose
    `/leave` leaves: the baseline of the time from `/play` to the first packet.

Both read DISCORD_TOKEN, DISCORD_API_BASE and DISCORD_GATEWAY_URL; the voice gateway's
certificate authority comes from SSL_CERT_FILE, which Python's default context reads.
"""

from __future__ import annotations

import asyncio
import ctypes.util
import json
import logging
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import discord
from _baselines import point_discord_at_environment
from discord import app_commands

from bot.audio import OpusPacketStream, StoredOpusStream, encode_opus, stored_opus_path

log = logging.getLogger("voice-bench")

GUILD_PREFIX = "bench-"
VOICE_CHANNEL = "Lounge"
# One at a time, as a bot joining the voice channels of its guilds in turn.
CONNECTS_AT_ONCE = 1
PAUSE_BETWEEN_RUNS = 0.5
VOLUME = 0.5
"""The volume of the PCM rows: ours takes the PCM path for any volume but 100 %."""


class PacketStream(Protocol):
    def read(self) -> bytes: ...

    def close(self) -> None: ...


# --- the kinds of source -----------------------------------------------------------------------


def encode_stored(clip: Path) -> Path:
    """The clip's stored Opus voice copy, written once before any run, where the bot keeps it."""
    return encode_opus(clip, stored_opus_path(clip))


def open_stored(path: Path) -> PacketStream:
    """Playback of the stored Opus copy: one 20 ms packet per read, no decoding."""
    return StoredOpusStream(path)


class InMemory:
    """Packets already in memory: what discord.py's send loop costs with no source at all."""

    def __init__(self, packets: list[bytes]) -> None:
        self._packets = iter(packets)

    def read(self) -> bytes:
        return next(self._packets, b"")

    def close(self) -> None:
        self._packets = iter(())


class Packets(discord.AudioSource):
    """One of the bot's Opus packet streams as discord.py's voice client plays it.

    Opened on the first read, in the player thread, as the bot's own source does; `done` is
    called once the player cleaned it up (after its last packet and the silence frames).
    """

    def __init__(self, open_stream: Callable[[], PacketStream], done: Callable[[], None]) -> None:
        self._open = open_stream
        self._stream: PacketStream | None = None
        self._done = done

    def read(self) -> bytes:
        if self._stream is None:
            self._stream = self._open()
        return self._stream.read()

    def is_opus(self) -> bool:
        return True

    def cleanup(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self._done()


class Volume(discord.PCMVolumeTransformer[discord.FFmpegPCMAudio]):
    """discord.py's own path: ffmpeg decodes to PCM, the volume is applied, libopus encodes."""

    def __init__(self, clip: Path, done: Callable[[], None]) -> None:
        super().__init__(discord.FFmpegPCMAudio(str(clip)), volume=VOLUME)
        self._done = done

    def cleanup(self) -> None:
        super().cleanup()  # kills and reaps ffmpeg, so its CPU time is counted
        self._done()


def libopus_loaded() -> bool:
    """Whether discord.py can encode Opus (it needs the system's libopus)."""
    if discord.opus.is_loaded():
        return True
    name = ctypes.util.find_library("opus")
    if name is None:
        return False
    try:
        discord.opus.load_opus(name)
    except OSError:
        return False
    return discord.opus.is_loaded()


# --- the player ------------------------------------------------------------------------------


def emit(**fields: Any) -> None:
    print("TIMING " + json.dumps(fields), flush=True)


def cpu_seconds() -> tuple[float, float]:
    """This process's CPU time (all threads), and its reaped children's."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


class Player(discord.Client):
    """Joins one voice channel per bench guild, then plays the plan's runs."""

    def __init__(self, plan: dict[str, Any]) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.plan = plan
        self.clip = Path(plan["clip"])
        self.seconds = float(plan["seconds"])
        self.voices: list[discord.VoiceClient] = []
        self.stored = self.clip
        self.in_memory: list[bytes] = []
        self._started = False

    async def on_ready(self) -> None:
        log.info("Ready as %s", self.user)
        if not self._started:
            self._started = True
            asyncio.create_task(self.run_plan(), name="voice-bench")  # noqa: RUF006

    async def run_plan(self) -> None:
        try:
            await self.prepare()
            for kind, streams in self.plan["runs"]:
                await self.measure(kind, streams)
                await asyncio.sleep(PAUSE_BETWEEN_RUNS)
            emit(step="done")
        except Exception as error:
            log.exception("the voice benchmark failed")
            emit(step="failed", error=repr(error))
        finally:
            for voice in self.voices:
                await voice.disconnect(force=True)
            await self.close()

    async def prepare(self) -> None:
        """Encode the stored Opus file once, and join every channel."""
        began = time.monotonic()
        self.stored = await asyncio.to_thread(encode_stored, self.clip)
        encoded = time.monotonic() - began
        stream = open_stored(self.stored)
        while packet := stream.read():
            self.in_memory.append(packet)
        stream.close()
        channels = sorted(
            (
                channel
                for guild in self.guilds
                if guild.name.startswith(GUILD_PREFIX)
                for channel in guild.voice_channels
                if channel.name == VOICE_CHANNEL
            ),
            key=lambda channel: channel.guild.id,
        )
        began = time.monotonic()
        gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

        async def join(channel: discord.VoiceChannel) -> discord.VoiceClient:
            async with gate:
                return await channel.connect(timeout=30, self_deaf=True)

        self.voices = list(await asyncio.gather(*(join(channel) for channel in channels)))
        emit(
            step="connected",
            channels=[str(channel.id) for channel in channels],
            connect_seconds=time.monotonic() - began,
            encode_seconds=encoded,
            stored_packets=len(self.in_memory),
        )

    def source(self, kind: str, done: Callable[[], None]) -> discord.AudioSource:
        if kind in ("memory", "warm-up"):
            packets = self.in_memory
            return Packets(lambda: InMemory(packets), done)
        if kind == "stored":
            stored = self.stored
            return Packets(lambda: open_stored(stored), done)
        if kind == "pcm":
            clip = self.clip
            return Packets(lambda: OpusPacketStream(clip, volume=VOLUME), done)
        if kind == "ffmpeg":
            return Volume(self.clip, done)
        raise ValueError(f"unknown kind {kind!r}")

    async def measure(self, kind: str, streams: int) -> None:
        """`streams` clients play at once; CPU from before the sources exist to after the last
        one was cleaned up. `idle` plays nothing for the clip's length."""
        loop = asyncio.get_running_loop()
        finished = asyncio.Event()
        remaining = streams

        def one_done() -> None:
            nonlocal remaining
            remaining -= 1
            if remaining == 0:
                finished.set()

        def done() -> None:
            loop.call_soon_threadsafe(one_done)

        began = time.monotonic()
        own, children = cpu_seconds()
        if kind == "idle":
            await asyncio.sleep(self.seconds)
        else:
            for voice in self.voices[:streams]:
                voice.play(self.source(kind, done))
            await asyncio.wait_for(finished.wait(), self.seconds + 30)
        own_after, children_after = cpu_seconds()
        emit(
            step="run",
            kind=kind,
            streams=streams,
            began=began,
            ended=time.monotonic(),
            cpu_own=own_after - own,
            cpu_children=children_after - children,
        )


# --- the baseline /play bot --------------------------------------------------------------------


class PlayBot(discord.Client):
    """`/play audio:` and `/leave`, the way a first discord.py music bot does them."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(
            app_commands.Command(name="play", description="Play a file", callback=self.play)
        )
        self.tree.add_command(
            app_commands.Command(name="leave", description="Leave voice", callback=self.leave)
        )

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_ready(self) -> None:
        log.info("Ready as %s", self.user)

    async def play(self, interaction: discord.Interaction[Any], audio: discord.Attachment) -> None:
        await interaction.response.defer(thinking=True)
        member = interaction.user
        assert isinstance(member, discord.Member) and interaction.guild is not None
        assert member.voice is not None and isinstance(member.voice.channel, discord.VoiceChannel)
        voice = interaction.guild.voice_client
        if not isinstance(voice, discord.VoiceClient):
            voice = await member.voice.channel.connect(self_deaf=True)
        voice.play(discord.PCMVolumeTransformer(discord.FFmpegPCMAudio(audio.url)))
        await interaction.followup.send(f"Playing {audio.filename}")

    async def leave(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.guild is not None
        voice = interaction.guild.voice_client
        if voice is not None:
            await voice.disconnect(force=True)
        await interaction.response.send_message("Left")


async def run(client: discord.Client) -> None:
    point_discord_at_environment()
    async with client:
        await client.start(os.environ["DISCORD_TOKEN"])


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    if kind not in ("player", "play-bot") or (kind == "player" and len(sys.argv) < 3):
        sys.exit("usage: _voice_bots.py player PLAN | play-bot")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if kind == "play-bot" and not libopus_loaded():
        sys.exit("libopus is not loadable")
    client = Player(json.loads(sys.argv[2])) if kind == "player" else PlayBot()
    asyncio.run(run(client))


if __name__ == "__main__":
    main()
