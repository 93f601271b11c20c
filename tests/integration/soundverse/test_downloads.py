"""Downloads stay within the host allow-list and the size cap, and never leave partial files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.soundverse import (
    DownloadRefusal,
    DownloadRefused,
    SongRequest,
    SoundverseClient,
    nothing_billed,
)
from sandbox.soundverse import SoundverseStandIn

ClientFactory = Callable[..., SoundverseClient]


def leftovers(directory: Path) -> list[Path]:
    """Files left in `directory`."""
    return list(directory.iterdir())


async def take_url(client: SoundverseClient) -> str:
    """The URL of a fresh 5 s song take."""
    result = await client.song_sync(SongRequest(prompt="trains", duration=5))
    return result.takes[0].audio_url


async def test_download_reports_size_and_content_type(
    client: SoundverseClient, tmp_path: Path
) -> None:
    """A download reports the bytes written and the server's content type."""
    file = await client.download(await take_url(client), tmp_path / "song.mp3")
    assert file.bytes == (tmp_path / "song.mp3").stat().st_size
    assert file.content_type == "audio/mpeg"


@pytest.mark.parametrize(
    "url",
    ["https://evil.example.com/a.mp3", "ftp://storage.soundverse.ai/a.mp3", "file:///etc/passwd"],
)
async def test_download_outside_the_allow_list_is_refused(
    client: SoundverseClient, tmp_path: Path, url: str
) -> None:
    """A URL on a host outside the allow-list is refused before any request; no file appears."""
    with pytest.raises(DownloadRefused) as caught:
        await client.download(url, tmp_path / "x.mp3")
    assert caught.value.reason is DownloadRefusal.HOST
    assert leftovers(tmp_path) == []


async def test_download_over_the_cap_is_refused_without_leftovers(
    client: SoundverseClient, tmp_path: Path
) -> None:
    """A file larger than `max_bytes` is refused and nothing is left in the directory."""
    url = await take_url(client)
    with pytest.raises(DownloadRefused) as caught:
        await client.download(url, tmp_path / "big.mp3", max_bytes=1000)
    assert caught.value.reason is DownloadRefusal.SIZE
    assert "1000 bytes" in str(caught.value)
    assert nothing_billed(caught.value)
    assert leftovers(tmp_path) == []


async def test_download_cap_comes_from_settings(make_client: ClientFactory, tmp_path: Path) -> None:
    """Without `max_bytes`, `download_max_bytes` of the settings is the cap."""
    client = make_client(download_max_bytes=2048)
    url = await take_url(client)
    with pytest.raises(DownloadRefused, match="the limit is 2048 bytes"):
        await client.download(url, tmp_path / "big.mp3")
    assert leftovers(tmp_path) == []


async def test_a_configured_host_that_resolves_to_loopback_is_refused(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    """A host allowed by name (`localhost`) that resolves to a loopback address is refused:
    only the API's own host may be local."""
    client = make_client(download_hosts=["localhost"])
    url = (await take_url(client)).replace("127.0.0.1", "localhost")
    with pytest.raises(DownloadRefused, match="private or local address") as caught:
        await client.download(url, tmp_path / "song.mp3")
    assert caught.value.reason is DownloadRefusal.HOST
    assert leftovers(tmp_path) == []


async def test_a_redirect_to_a_local_address_is_refused_before_it_is_fetched(
    make_client: ClientFactory, standin: SoundverseStandIn, tmp_path: Path
) -> None:
    """An allowed storage URL that redirects to `localhost` (allowed by name too) is refused at
    that hop: its address is local, so no connection is made to it."""
    client = make_client(download_hosts=["localhost"])
    url = await take_url(client)
    standin.inject("redirect:302", path="/storage")
    with pytest.raises(DownloadRefused, match="localhost: it leads to a private or local"):
        await client.download(url, tmp_path / "song.mp3")
    assert leftovers(tmp_path) == []


async def test_voice_answer_over_the_cap_is_refused(
    client: SoundverseClient, tmp_path: Path
) -> None:
    """`save_voice` applies the same cap and removes the partial file."""
    speech = await take_url(client)
    with pytest.raises(DownloadRefused):
        await client.save_voice(speech, tmp_path / "voice.mp3", max_bytes=100)
    assert leftovers(tmp_path) == []


async def test_redirect_to_a_host_outside_the_allow_list_is_refused(
    client: SoundverseClient, tmp_path: Path
) -> None:
    """An allowed URL that redirects to a host outside the allow-list is refused, no file."""
    target = (await take_url(client)).replace("127.0.0.1", "localhost")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(target)

    app = web.Application()
    app.router.add_get("/storage/moved.mp3", redirect)
    async with TestServer(app, host="127.0.0.1") as server:
        with pytest.raises(DownloadRefused) as caught:
            await client.download(str(server.make_url("/storage/moved.mp3")), tmp_path / "m.mp3")
    assert caught.value.reason is DownloadRefusal.HOST
    assert "localhost" in str(caught.value)
    assert leftovers(tmp_path) == []
