"""Every error of the contract (section 11.4), injected on the stand-in, reaches the caller as the
right exception; generation POSTs are never retried, idempotent calls are."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import HttpUrl, SecretStr

from bot.config import EndpointSettings, SoundverseSettings
from bot.soundverse import (
    AuthenticationError,
    ModerationKind,
    ModerationRejected,
    NotFound,
    RateLimited,
    RequestValidationError,
    SongRequest,
    SoundverseClient,
    SoundverseError,
    UpstreamError,
    UpstreamTimeout,
    nothing_billed,
)
from sandbox.soundverse import SoundverseStandIn
from tests.integration.soundverse.conftest import API_KEY, FakeTime

SONG_SYNC = "/v5/generate/song/sync"
SONG = "/v5/generate/song"
STATUS = "/v5/status"
ClientFactory = Callable[..., SoundverseClient]


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("status:401", AuthenticationError),
        ("status:422", RequestValidationError),
        ("status:429", RateLimited),
        ("status:500", UpstreamError),
        ("status:504", UpstreamTimeout),
        ("moderation:nsfw", ModerationRejected),
        ("moderation:artist", ModerationRejected),
        ("fail:0", UpstreamError),
    ],
)
async def test_sync_generation_error_maps_to_its_exception(
    client: SoundverseClient,
    standin: SoundverseStandIn,
    fault: str,
    error_type: type[SoundverseError],
) -> None:
    """Each injected error on a sync generation raises its client error after exactly one POST."""
    standin.inject(fault, path=SONG_SYNC)
    with pytest.raises(error_type):
        await client.song_sync(SongRequest(prompt="trains"))
    assert standin.counters.posts == {SONG_SYNC: 1}


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("status:401", AuthenticationError),
        ("status:422", RequestValidationError),
        ("status:429", RateLimited),
        ("status:500", UpstreamError),
        ("status:504", UpstreamTimeout),
        ("moderation:nsfw", ModerationRejected),
    ],
)
async def test_streaming_generation_error_maps_to_its_exception(
    client: SoundverseClient,
    standin: SoundverseStandIn,
    fault: str,
    error_type: type[SoundverseError],
) -> None:
    """Each injected error on a streaming generation raises its client error, one POST."""
    standin.inject(fault, path=SONG)
    with pytest.raises(error_type):
        await client.stream_song(SongRequest(prompt="trains")).wait()
    assert standin.counters.posts == {SONG: 1}


async def test_wrong_api_key_is_authentication_error_without_the_key(
    make_client: ClientFactory,
) -> None:
    """A key the server does not accept raises `AuthenticationError` that never shows the key."""
    client = make_client(api_key=SecretStr("wrong-secret-123"))
    with pytest.raises(AuthenticationError) as caught:
        await client.chat("hi")
    assert "wrong-secret-123" not in str(caught.value)
    assert nothing_billed(caught.value)


async def test_missing_api_key_is_refused_before_sending(
    make_client: ClientFactory, standin: SoundverseStandIn
) -> None:
    """Without a configured key nothing is sent and `AuthenticationError` names the setting."""
    client = make_client(api_key=None)
    with pytest.raises(AuthenticationError, match="SOUNDVERSE_API_KEY"):
        await client.song_sync(SongRequest(prompt="trains"))
    assert standin.counters.posts == {}


async def test_422_names_the_server_field(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """The server's 422 list form is reported on its field (`prompt`)."""
    standin.inject("status:422", path=SONG_SYNC)
    with pytest.raises(RequestValidationError) as caught:
        await client.song_sync(SongRequest(prompt="trains"))
    assert caught.value.field == "prompt"


@pytest.mark.parametrize(
    ("prompt", "kind"),
    [
        ("some nsfw words", ModerationKind.NSFW),
        ("in the style of artist: someone", ModerationKind.ARTIST),
    ],
)
async def test_moderated_prompt_reports_its_kind_and_message(
    client: SoundverseClient, prompt: str, kind: ModerationKind
) -> None:
    """A refused prompt raises `ModerationRejected` with the kind and Soundverse's message."""
    with pytest.raises(ModerationRejected) as caught:
        await client.song_sync(SongRequest(prompt=prompt))
    assert caught.value.kind is kind
    assert "detected" in caught.value.reason
    assert nothing_billed(caught.value)


async def test_rate_limit_reports_retry_after(
    client: SoundverseClient, standin: SoundverseStandIn
) -> None:
    """A 429 on a generation carries the server's Retry-After."""
    standin.inject("status:429:3", path=SONG_SYNC)
    with pytest.raises(RateLimited) as caught:
        await client.song_sync(SongRequest(prompt="trains"))
    assert caught.value.retry_after == 3.0


async def test_generation_429_is_not_retried(
    client: SoundverseClient, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """A rate-limited generation POST is sent once and not retried (no sleep, counter 1)."""
    standin.inject("status:429", count=3, path=SONG)
    with pytest.raises(RateLimited):
        await client.stream_song(SongRequest(prompt="trains")).wait()
    assert standin.counters.posts == {SONG: 1}
    assert fake_time.sleeps == []


async def test_generation_500_is_not_retried(
    client: SoundverseClient, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """A failed sync generation is sent once and not retried."""
    standin.inject("status:500", count=3, path=SONG_SYNC)
    with pytest.raises(UpstreamError):
        await client.song_sync(SongRequest(prompt="trains"))
    assert standin.counters.posts == {SONG_SYNC: 1}
    assert fake_time.sleeps == []


async def finished_message_id(client: SoundverseClient) -> str:
    """The message id of a completed song."""
    result = await client.stream_song(SongRequest(prompt="trains")).wait()
    assert result.message_id is not None
    return result.message_id


async def test_status_429_is_retried_after_retry_after(
    client: SoundverseClient, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """A rate-limited status poll is retried after exactly the Retry-After seconds."""
    message_id = await finished_message_id(client)
    standin.inject("status:429:3", count=2, path=STATUS)
    status = await client.status(message_id=message_id)
    assert status.status == "completed"
    assert fake_time.sleeps == [3.0, 3.0]


async def test_status_5xx_is_retried_with_backoff(
    client: SoundverseClient, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """Status 500/504 replies are retried after 1 s, then 2 s."""
    message_id = await finished_message_id(client)
    standin.inject("status:500", path=STATUS)
    standin.inject("status:504", path=STATUS)
    status = await client.status(message_id=message_id)
    assert status.is_terminal
    assert fake_time.sleeps == [1.0, 2.0]


async def test_status_retries_stop_after_the_configured_count(
    make_client: ClientFactory, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """With `retries=1`, a second 500 is raised after one wait."""
    client = make_client(retries=1)
    message_id = await finished_message_id(client)
    standin.inject("status:500", count=5, path=STATUS)
    with pytest.raises(UpstreamError):
        await client.status(message_id=message_id)
    assert fake_time.sleeps == [1.0]


async def test_unknown_message_id_is_not_found(client: SoundverseClient) -> None:
    """Status of an unknown id raises `NotFound` without retries."""
    with pytest.raises(NotFound):
        await client.status(message_id="000000000000000000000000")


async def test_download_429_is_retried_after_retry_after(
    client: SoundverseClient, standin: SoundverseStandIn, fake_time: FakeTime, tmp_path: Path
) -> None:
    """A rate-limited download is retried after the Retry-After seconds and completes."""
    result = await client.song_sync(SongRequest(prompt="trains", duration=5))
    standin.inject("status:429:2", path="/storage")
    file = await client.download(result.takes[0].audio_url, tmp_path / "a.mp3")
    assert file.bytes > 0
    assert fake_time.sleeps == [2.0]


async def test_slow_sync_reply_is_upstream_timeout(
    make_client: ClientFactory, standin: SoundverseStandIn
) -> None:
    """A sync reply slower than `sync_timeout` raises `UpstreamTimeout` naming the limit."""
    client = make_client(sync_timeout=0.05)
    standin.inject("drip:300", path=SONG_SYNC)
    with pytest.raises(UpstreamTimeout, match=r"within 0\.05 s"):
        await client.song_sync(SongRequest(prompt="trains"))
    assert standin.counters.posts == {SONG_SYNC: 1}


async def test_unreachable_server_on_a_sync_call_billed_nothing(
    make_client: ClientFactory,
) -> None:
    """A sync call to a closed port raises `UpstreamError` that reports nothing billed."""
    client = make_client(base_url="http://127.0.0.1:9")
    with pytest.raises(UpstreamError, match="Could not reach Soundverse") as caught:
        await client.chat("hello")
    assert nothing_billed(caught.value)


async def test_waiting_for_a_connection_is_a_named_unbilled_error(
    standin: SoundverseStandIn,
) -> None:
    """With the pool used up by a stalled stream, another call fails as "could not connect"."""
    settings = SoundverseSettings(
        api_key=SecretStr(API_KEY),
        base_url=HttpUrl(standin.url),
        connect_timeout=0.2,
        max_connections=1,
    )
    standin.inject("stall:1", path="/v5/generate/song")
    async with SoundverseClient(settings, EndpointSettings()) as client:
        stream = client.stream_song(SongRequest(prompt="rain"))
        await anext(aiter(stream))
        with pytest.raises(
            UpstreamError, match=r"Could not connect to Soundverse within 0\.2 s"
        ) as caught:
            await client.chat("hi")
        await stream.aclose()
    assert nothing_billed(caught.value)
