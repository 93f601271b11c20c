"""Which download URLs are allowed before anything is fetched (`bot.soundverse.download`)."""

from __future__ import annotations

import pytest

from bot.config import EndpointSettings, SoundverseSettings
from bot.soundverse import DownloadRefused, SoundverseClient
from bot.soundverse.download import allowed_hosts, check_download_url

API = "http://127.0.0.1:8800"
HOSTS = allowed_hosts(["storage.soundverse.ai", "cdn.example.com", "10.0.0.7"], API)
TRUSTED = allowed_hosts((), API)


def test_a_configured_host_is_allowed_by_name() -> None:
    """A name in the allow-list passes (what it resolves to is checked when connecting)."""
    check_download_url("https://cdn.example.com/a.mp3", HOSTS, TRUSTED)


def test_the_apis_own_host_is_allowed_even_when_local() -> None:
    """The configured API host may be on this machine (the offline sandbox is)."""
    check_download_url(f"{API}/storage/a.mp3", HOSTS, TRUSTED)


def test_a_private_address_is_refused_even_when_listed() -> None:
    """An address in the allow-list is still refused when it is private."""
    with pytest.raises(DownloadRefused, match="private or local address"):
        check_download_url("http://10.0.0.7/a.mp3", HOSTS, TRUSTED)


@pytest.mark.parametrize("url", ["ftp://storage.soundverse.ai/a.mp3", "https://evil.example/a"])
def test_other_schemes_and_hosts_are_refused(url: str) -> None:
    """Only http(s) on a listed host passes."""
    with pytest.raises(DownloadRefused, match="not an allowed audio host"):
        check_download_url(url, HOSTS, TRUSTED)


async def test_a_preview_is_offered_only_from_an_audio_host() -> None:
    """The client calls a stream URL on an allowed host an audio host, and no other."""
    settings = SoundverseSettings(download_hosts=["storage.soundverse.ai"])
    client = SoundverseClient(settings, EndpointSettings())
    try:
        verdicts = (
            client.is_audio_host("https://storage.soundverse.ai/stream/1.mp3"),
            client.is_audio_host("https://elsewhere.example/stream/1.mp3"),
            client.is_audio_host("javascript:alert(1)"),
        )
    finally:
        await client.close()
    assert verdicts == (True, False, False)
