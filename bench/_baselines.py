"""The baselines of the job and contest benchmarks: `python bench/_baselines.py bare|naive|lean`.

bare:  a discord.py bot whose `/song` only defers, and which answers every button or select
       at once with a private message (type 4, ephemeral): the floor of acknowledgement latency.
naive: a discord.py + aiohttp bot that streams the generation and edits its response on
       every SSE event, then posts the takes; what a first version often looks like.
lean:  the HTTP requests this bot makes for a `/song`, and nothing else: the generation
       streamed, its response edited when it starts, at most every JOBS_PROGRESS_INTERVAL
       (2 s) while streaming, when downloading and when done; the takes and the album art
       downloaded into memory and posted in one message. No database, no files on disk, no
       probing: the floor for a job's requests in discord.py and aiohttp.
Both read the same environment variables as the real bot (DISCORD_TOKEN, DISCORD_API_BASE,
DISCORD_GATEWAY_URL, SOUNDVERSE_API_KEY, SOUNDVERSE_BASE_URL).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands

log = logging.getLogger("baseline")

SONG_PATH = "/v5/generate/song"
LEAN_EDIT_INTERVAL = 2.0
"""The bot's default JOBS_PROGRESS_INTERVAL."""


def point_discord_at_environment() -> None:
    """discord.py reads these class attributes at each request and connection."""
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"].rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])


class BaselineBot(discord.Client):
    """A client with one `/song` command; `kind` (bare, naive or lean) chooses what it does."""

    def __init__(self, kind: str) -> None:
        super().__init__(intents=discord.Intents.default())
        self.kind = kind
        self.tree = app_commands.CommandTree(self)
        self.session: aiohttp.ClientSession | None = None
        self.tree.add_command(
            app_commands.Command(
                name="song", description="Make a song with vocals", callback=self.song
            )
        )

    async def setup_hook(self) -> None:
        self.session = aiohttp.ClientSession()
        await self.tree.sync()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        await super().close()

    async def on_ready(self) -> None:
        log.info("Ready as %s", self.user)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """A button or select answered at once, privately (a contest's Vote, say)."""
        if interaction.type is discord.InteractionType.component and self.kind == "bare":
            custom_id = (interaction.data or {}).get("custom_id", "")
            await interaction.response.send_message(f"Noted: {custom_id}", ephemeral=True)

    async def song(
        self, interaction: discord.Interaction[Any], prompt: str, duration: int | None = None
    ) -> None:
        await interaction.response.defer(thinking=True)
        if self.kind == "naive":
            await self.generate(interaction, prompt, duration)
        elif self.kind == "lean":
            await self.generate_lean(interaction, prompt, duration)

    async def generate(
        self, interaction: discord.Interaction[Any], prompt: str, duration: int | None
    ) -> None:
        final: dict[str, Any] = {}
        async for event in self.stream(prompt, duration):
            status = event.get("status", "working")
            progress = event.get("progress")
            text = f"{status} {progress}%" if progress is not None else str(status)
            await interaction.edit_original_response(content=f"🎵 {prompt}\n{text}")
            if event.get("isComplete"):
                final = event
        files = [
            await self.download(take["audio_url"], i)
            for i, take in enumerate(final.get("audio_data") or [], start=1)
        ]
        await interaction.followup.send(
            content=f"<@{interaction.user.id}> your song is ready",
            files=files,
            allowed_mentions=discord.AllowedMentions(users=True),
        )

    async def generate_lean(
        self, interaction: discord.Interaction[Any], prompt: str, duration: int | None
    ) -> None:
        loop = asyncio.get_running_loop()
        await interaction.edit_original_response(content=f"🎵 {prompt}\nComposing")
        edited_at = loop.time()
        final: dict[str, Any] = {}
        async for event in self.stream(prompt, duration):
            if event.get("isComplete"):
                final = event
            elif loop.time() - edited_at >= LEAN_EDIT_INTERVAL:
                progress = event.get("progress")
                await interaction.edit_original_response(content=f"🎵 {prompt}\n{progress}%")
                edited_at = loop.time()
        await interaction.edit_original_response(content=f"🎵 {prompt}\nDownloading")
        files = [
            await self.download(take["audio_url"], i)
            for i, take in enumerate(final.get("audio_data") or [], start=1)
        ]
        art = final.get("album_art")
        if art:
            files.append(await self.download(art, 0, "cover.png"))
        await interaction.followup.send(
            content=f"<@{interaction.user.id}> your song is ready",
            files=files,
            allowed_mentions=discord.AllowedMentions(users=True),
        )
        await interaction.edit_original_response(content=f"🎵 {prompt}\nDone")

    async def stream(self, prompt: str, duration: int | None) -> AsyncIterator[dict[str, Any]]:
        assert self.session is not None
        body: dict[str, Any] = {"prompt": prompt}
        if duration is not None:
            body["duration"] = duration
        headers = {"Authorization": f"Bearer {os.environ['SOUNDVERSE_API_KEY']}"}
        url = os.environ["SOUNDVERSE_BASE_URL"].rstrip("/") + SONG_PATH
        async with self.session.post(url, json=body, headers=headers) as response:
            async for line in response.content:
                if line.startswith(b"data:"):
                    yield json.loads(line[5:])

    async def download(self, url: str, index: int, name: str | None = None) -> discord.File:
        assert self.session is not None
        async with self.session.get(url) as response:
            data = await response.read()
        return discord.File(io.BytesIO(data), filename=name or f"take-{index}.mp3")


async def run(kind: str) -> None:
    point_discord_at_environment()
    bot = BaselineBot(kind)
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    if kind not in ("bare", "naive", "lean"):
        sys.exit("usage: _baselines.py bare|naive|lean")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(run(kind))


if __name__ == "__main__":
    main()
