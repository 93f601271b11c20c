"""Async client for the Soundverse API, built to the project's contract (soundverse-api.md §11).

One method per endpoint and version; generation POSTs are never retried automatically (they
start billed jobs), while status polls and downloads retry 429/5xx with backoff. A streamed
job that drops, stalls or ends early is recovered by polling the status endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from pydantic import BaseModel, ValidationError
from yarl import URL

from bot.config import EndpointSettings, SoundverseSettings
from bot.soundverse.download import (
    MAX_REDIRECTS,
    DownloadedFile,
    NonPublicAddress,
    PublicAddressResolver,
    allowed_hosts,
    check_download_url,
    idle_guarded,
    refuse_address,
    refuse_size,
    write_capped,
)
from bot.soundverse.enums import (
    ChatAction,
    ExtendMusicVersion,
    ExtendSongVersion,
    LegacyDuration,
    LegacyVersion,
    MusicVersion,
    SongVersion,
    StemKind,
)
from bot.soundverse.errors import (
    AuthenticationError,
    DownloadRefusal,
    DownloadRefused,
    RateLimited,
    RequestValidationError,
    SoundverseError,
    UpstreamError,
    UpstreamTimeout,
    connection_trouble,
    error_for_response,
    status_words,
)
from bot.soundverse.requests import (
    ApiRequest,
    ChatRequest,
    ExtendMusicRequest,
    ExtendSongRequest,
    GenLoopRequest,
    LegacySongFromLyricsRequest,
    LegacySongRequest,
    LoopRequest,
    LyricsRequest,
    MusicRequest,
    RemixRequest,
    SingingRequest,
    SongRequest,
    StemRequest,
    TextToMusicRequest,
    VoiceRequest,
)
from bot.soundverse.results import (
    ChatReply,
    GenerationResult,
    GenLoopResult,
    JobStatus,
    LoopResult,
    LyricsResult,
    Stem,
)
from bot.soundverse.stream import Clock, GenerationStream, Sleep, backoff_delays, decode_json

__all__ = ["SoundverseClient"]

log = logging.getLogger(__name__)

ResultT = TypeVar("ResultT", bound=BaseModel)

# However long Retry-After asks to wait, a retry waits at most this long.
MAX_RETRY_WAIT = 60.0
REDIRECTS = frozenset({301, 302, 303, 307, 308})
T = TypeVar("T")


async def _save(response: aiohttp.ClientResponse, dest: Path, max_bytes: int) -> DownloadedFile:
    """The body of a final (not redirecting) download answer, written to `dest`."""
    if response.status >= 400:
        payload = decode_json(await response.text())
        raise error_for_response(response.status, payload, response.headers.get("Retry-After"))
    if response.content_length is not None and response.content_length > max_bytes:
        raise refuse_size(response.content_length, max_bytes)
    size = await write_capped(response.content.iter_chunked(64 * 1024), dest, max_bytes)
    return DownloadedFile(dest, size, response.content_type or None)


def _retryable(error: SoundverseError) -> bool:
    """Whether an idempotent call may be tried again after `error`."""
    if isinstance(error, RateLimited | UpstreamTimeout):
        return True
    return isinstance(error, UpstreamError) and (error.status is None or error.status >= 500)


def _connect_timeout(seconds: float) -> UpstreamError:
    """No connection within the connect timeout: the request never reached Soundverse."""
    return UpstreamError(f"Could not connect to Soundverse within {seconds:g} s", reached=False)


def _connection_error(error: aiohttp.ClientError) -> UpstreamError:
    if isinstance(error, aiohttp.ClientConnectorError):
        return UpstreamError(
            f"Could not reach Soundverse at {error.host}:{error.port}", reached=False
        )
    return UpstreamError(f"The connection to Soundverse failed: {connection_trouble(error)}")


class SoundverseClient:
    """Typed async client for every Soundverse endpoint of the contract.

    Use as `async with SoundverseClient(settings, endpoints) as client:` or call `close()`.
    A session passed in is used as is and left open; otherwise one is created on first use.
    `sleep` and `clock` drive retry backoff, status polling and the job deadline.
    """

    def __init__(
        self,
        settings: SoundverseSettings,
        endpoints: EndpointSettings,
        *,
        session: aiohttp.ClientSession | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.settings = settings
        self.endpoints = endpoints
        self.sleep = sleep
        self.clock = clock
        self._session = session
        self._owns_session = session is None
        self._base_url = str(settings.base_url).rstrip("/")
        self._download_hosts = allowed_hosts(settings.download_hosts, self._base_url)
        # The API's own host is trusted wherever it is; every other host must be public.
        self._trusted_hosts = allowed_hosts((), self._base_url)

    def __repr__(self) -> str:
        return f"SoundverseClient(base_url={self._base_url!r})"

    async def __aenter__(self) -> SoundverseClient:
        self.session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session, unless it was given from outside."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def session(self) -> aiohttp.ClientSession:
        """The HTTP session of this client, created on first use."""
        if self._session is None or (self._owns_session and self._session.closed):
            # Every running job holds a connection for its whole stream, so aiohttp's default
            # pool of 100 would make the 101st job wait for a connection and time out.
            connector = aiohttp.TCPConnector(
                limit=self.settings.max_connections,
                resolver=PublicAddressResolver(self._trusted_hosts),
            )
            self._session = aiohttp.ClientSession(connector=connector)
            self._owns_session = True
        return self._session

    # --- song -------------------------------------------------------------------------------

    def stream_song(
        self, request: SongRequest, version: SongVersion = SongVersion.V5
    ) -> GenerationStream:
        """Stream a song with vocals (v7, v6 or v5). Nothing is sent until iterated."""
        _check_song_version(request, version)
        return self._stream(f"song_{version}", request)

    async def song_sync(
        self, request: SongRequest, version: SongVersion = SongVersion.V5
    ) -> GenerationResult:
        """Generate a song with vocals and wait for the whole reply (v7, v6 or v5)."""
        _check_song_version(request, version)
        return await self._generate(f"song_{version}_sync", request, GenerationResult)

    async def legacy_song(
        self, request: LegacySongRequest, version: LegacyVersion = LegacyVersion.V4
    ) -> GenerationResult:
        """Deprecated (v4/v1, banner 30/12/2025): a song from a prompt, sync.

        v4 returns two takes, v1 one WAV take and no message id; v1 requires `style_of_music`.
        """
        _require_v1_style(request, version)
        return await self._generate(f"song_{version}_prompt", request, GenerationResult)

    async def legacy_song_from_lyrics(
        self, request: LegacySongFromLyricsRequest, version: LegacyVersion = LegacyVersion.V4
    ) -> GenerationResult:
        """Deprecated (v4/v1, banner 30/12/2025): a song from lyrics, sync."""
        return await self._generate(f"song_{version}_lyrics", request, GenerationResult)

    # --- instrumental music -------------------------------------------------------------

    def stream_music(
        self, request: MusicRequest, version: MusicVersion = MusicVersion.V5
    ) -> GenerationStream:
        """Stream an instrumental (v6 or v5). Nothing is sent until iterated."""
        return self._stream(f"music_{version}", request)

    async def music_sync(
        self, request: MusicRequest, version: MusicVersion = MusicVersion.V5
    ) -> GenerationResult:
        """Generate an instrumental and wait for the whole reply (v6 or v5)."""
        return await self._generate(f"music_{version}_sync", request, GenerationResult)

    async def legacy_music(
        self, request: LegacySongRequest, version: LegacyVersion = LegacyVersion.V4
    ) -> GenerationResult:
        """Deprecated (v4/v1, banner 30/12/2025): an instrumental from a prompt, sync.

        v1 requires `style_of_music`.
        """
        _require_v1_style(request, version)
        return await self._generate(f"music_{version}", request, GenerationResult)

    async def text_to_music(self, request: TextToMusicRequest) -> GenerationResult:
        """Deprecated (v1, banner 30/12/2025): text to music, sync, WAV output."""
        return await self._generate("text_to_music_v1", request, GenerationResult)

    # --- extend and remix ---------------------------------------------------------------

    def stream_extend_song(
        self, request: ExtendSongRequest, version: ExtendSongVersion = ExtendSongVersion.V6
    ) -> GenerationStream:
        """Stream the continuation of a song (v6 or v5). Nothing is sent until iterated."""
        return self._stream(f"extend_song_{version}", request)

    async def extend_song_sync(
        self, request: ExtendSongRequest, version: ExtendSongVersion = ExtendSongVersion.V6
    ) -> GenerationResult:
        """Continue a song and wait for the whole reply (v6 or v5)."""
        return await self._generate(f"extend_song_{version}_sync", request, GenerationResult)

    async def extend_music(
        self, request: ExtendMusicRequest, version: ExtendMusicVersion = ExtendMusicVersion.V5
    ) -> GenerationResult:
        """Extend an instrumental, sync (v6, v5; v1 is deprecated, banner 30/12/2025).

        v1 takes only the legacy durations (15, 30, 60, 180 s).
        """
        if version is ExtendMusicVersion.V1 and request.duration is not None:
            _require_legacy_duration(request.duration)
        return await self._generate(f"extend_music_{version}", request, GenerationResult)

    def stream_remix(self, request: RemixRequest) -> GenerationStream:
        """Stream a remix of a song (v7, streaming only). Nothing is sent until iterated."""
        return self._stream("remix_v7", request)

    # --- other tools --------------------------------------------------------------------

    async def lyrics(self, request: LyricsRequest) -> LyricsResult:
        """Write lyrics about a prompt (v1)."""
        return await self._generate("lyrics_v1", request, LyricsResult)

    async def singing(self, request: SingingRequest) -> GenerationResult:
        """Sing lyrics in a style or after a dry-vocal reference (v2, sync; may answer 504)."""
        return await self._generate("singing_v2", request, GenerationResult)

    async def stems(self, audio_url: str, kind: StemKind) -> list[Stem]:
        """Split the audio at `audio_url` into stems (v1); names vary with `kind`."""
        request = StemRequest(audio_url=audio_url)
        path = self.endpoints.stems_v1.format(kind=StemKind(kind).value)
        payload = await self._post(path, request.body())
        items = payload.get("stems", payload) if isinstance(payload, Mapping) else payload
        if not isinstance(items, list):
            raise UpstreamError("Soundverse sent an unexpected stem-separation reply")
        return [_decode(Stem, item, "stem") for item in items]

    async def loop(self, audio_url: str, count: int) -> LoopResult:
        """Find a seamless loop in the audio at `audio_url` and repeat it `count` times (v1)."""
        request = LoopRequest(audio_url=audio_url, count=count)
        return await self._generate("loop_v1", request, LoopResult)

    async def gen_loop(self, request: GenLoopRequest) -> GenLoopResult:
        """Generate music from a prompt and loop it (v1)."""
        return await self._generate("gen_loop_v1", request, GenLoopResult)

    async def chat(self, prompt: str, action: ChatAction = ChatAction.OTHER) -> ChatReply:
        """One message to the chat assistant (beta, stateless)."""
        return await self._generate("chat", ChatRequest(prompt=prompt, action=action), ChatReply)

    def voice(self, speech_url: str) -> AsyncIterator[bytes]:
        """The voice assistant's spoken answer (audio/mpeg) to the question at `speech_url`.

        The request is checked now and sent when iteration starts; it is never retried.
        """
        request = VoiceRequest(speech_url=speech_url)
        return self._voice_chunks(request)

    async def save_voice(
        self, speech_url: str, dest: Path, *, max_bytes: int | None = None
    ) -> DownloadedFile:
        """Write the voice assistant's answer to `dest` (same size cap as downloads)."""
        cap = max_bytes if max_bytes is not None else self.settings.download_max_bytes
        size = await write_capped(self.voice(speech_url), dest, cap)
        return DownloadedFile(dest, size, "audio/mpeg")

    # --- status and recovery ------------------------------------------------------------

    async def status(
        self, *, message_id: str | None = None, job_id: str | None = None
    ) -> JobStatus:
        """A job's status: v7 by `job_id`, else v5 by `message_id`. Retried as idempotent."""
        payload = await self.status_payload(message_id=message_id, job_id=job_id)
        return _decode(JobStatus, payload, "status")

    def resume(
        self, *, message_id: str | None = None, job_id: str | None = None
    ) -> GenerationStream:
        """Follow a job started earlier (e.g. before a restart) by polling status only.

        `job_id` selects `/v7/status`, `message_id` `/v5/status` (v5 and v6 jobs).
        """
        if message_id is None and job_id is None:
            raise ValueError("resume() needs a message_id or a job_id")
        known = {"message_id": message_id, "job_id": job_id}
        return GenerationStream(self, None, None, {k: v for k, v in known.items() if v})

    async def download(
        self, url: str, dest: Path, *, max_bytes: int | None = None
    ) -> DownloadedFile:
        """Stream the file at `url` to `dest`, within the host allow-list and the size cap.

        Raises `DownloadRefused` (no file left behind); retries 429/5xx/connection errors.
        """
        self._check_hop(url)
        cap = max_bytes if max_bytes is not None else self.settings.download_max_bytes
        return await self._with_retries(lambda _: self._download_once(url, dest, cap))

    # --- internals ----------------------------------------------------------------------

    def api_url(self, path: str) -> str:
        """The absolute URL of an API path."""
        return self._base_url + path

    def headers(self, accept: str = "application/json") -> dict[str, str]:
        """Request headers with the bearer token."""
        key = self.settings.api_key
        if key is None:
            raise AuthenticationError("No Soundverse API key is configured (SOUNDVERSE_API_KEY)")
        return {"Authorization": f"Bearer {key.get_secret_value()}", "Accept": accept}

    def stream_timeout(self) -> aiohttp.ClientTimeout:
        """Connect limit only: streams end by the idle watchdog, not by a total timeout."""
        connect = self.settings.connect_timeout
        return aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect)

    def _endpoint(self, name: str) -> str:
        path = getattr(self.endpoints, name)
        if not isinstance(path, str):
            raise TypeError(f"no endpoint setting named {name}")
        return path

    def _stream(self, endpoint: str, request: ApiRequest) -> GenerationStream:
        return GenerationStream(self, self._endpoint(endpoint), request.body(), {})

    async def _generate(self, endpoint: str, request: ApiRequest, model: type[ResultT]) -> ResultT:
        payload = await self._post(self._endpoint(endpoint), request.body())
        return _decode(model, payload, endpoint)

    async def _post(self, path: str, body: Mapping[str, Any]) -> Any:
        """One generation POST: sent once, never retried."""
        return await self._request("POST", path, body=body)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        within: float | None = None,
    ) -> Any:
        """One API call within the sync timeout (and `within` seconds, when given). Redirects
        are never followed: a generation would be sent again."""
        limit = (
            self.settings.sync_timeout
            if within is None
            else min(within, self.settings.sync_timeout)
        )
        timeout = aiohttp.ClientTimeout(total=limit, connect=self.settings.connect_timeout)
        try:
            async with self.session().request(
                method,
                self.api_url(path),
                json=body,
                params=params,
                headers=self.headers(),
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                log.debug("%s %s -> %d", method, path, response.status)
                payload = decode_json(await response.text())
                if response.status >= 400:
                    raise error_for_response(
                        response.status, payload, response.headers.get("Retry-After")
                    )
                if response.status >= 300:
                    raise UpstreamError(
                        f"Soundverse answered {status_words(response.status)}; "
                        "redirects are not followed",
                        status=response.status,
                    )
                return payload
        except aiohttp.ConnectionTimeoutError:
            raise _connect_timeout(self.settings.connect_timeout) from None
        except TimeoutError:
            raise UpstreamTimeout(f"Soundverse did not answer within {limit:g} s") from None
        except aiohttp.ClientError as error:
            raise _connection_error(error) from None

    async def status_payload(
        self,
        *,
        message_id: str | None = None,
        job_id: str | None = None,
        within: float | None = None,
    ) -> Mapping[str, Any]:
        """A job's status reply, retried as idempotent; within `within` seconds if given."""
        if job_id:
            path, params = self.endpoints.status_v7, {"job_id": job_id}
        elif message_id:
            path, params = self.endpoints.status_v5, {"message_id": message_id}
        else:
            raise ValueError("status() needs a message_id or a job_id")
        payload = await self._with_retries(
            lambda left: self._request("GET", path, params=params, within=left), within
        )
        if not isinstance(payload, Mapping):
            raise UpstreamError("Soundverse sent an unexpected status reply")
        return payload

    async def _with_retries(
        self, attempt: Callable[[float | None], Awaitable[T]], within: float | None = None
    ) -> T:
        """Run an idempotent call, retrying 429 (after Retry-After) and 5xx/connection errors.

        Each attempt gets the seconds left of `within` (None: no bound). No wait is longer than
        `MAX_RETRY_WAIT`, whatever Retry-After says, and none runs past `within`: then the last
        error is raised instead.
        """
        delays = backoff_delays(self.settings.poll_backoff_max)
        retries_left = self.settings.retries
        ends = None if within is None else self.clock() + within
        while True:
            left = None if ends is None else ends - self.clock()
            try:
                return await attempt(left)
            except SoundverseError as error:
                if retries_left == 0 or not _retryable(error):
                    raise
                wait = next(delays)
                if isinstance(error, RateLimited) and error.retry_after is not None:
                    wait = error.retry_after
                wait = min(wait, MAX_RETRY_WAIT)
                if ends is not None and self.clock() + wait >= ends:
                    raise
                log.info("retrying after %s in %.1f s", type(error).__name__, wait)
                await self.sleep(wait)
                retries_left -= 1

    def is_audio_host(self, url: str) -> bool:
        """Whether `url` is on a host audio may come from (SOUNDVERSE_DOWNLOAD_HOSTS)."""
        try:
            check_download_url(url, self._download_hosts, self._trusted_hosts)
        except DownloadRefused:
            return False
        return True

    def _check_hop(self, url: str) -> None:
        check_download_url(url, self._download_hosts, self._trusted_hosts)

    async def _download_once(self, url: str, dest: Path, max_bytes: int) -> DownloadedFile:
        connect = self.settings.connect_timeout
        timeout = aiohttp.ClientTimeout(
            total=None, connect=connect, sock_read=self.settings.idle_timeout
        )
        try:
            for _ in range(MAX_REDIRECTS + 1):
                async with self.session().get(
                    url, timeout=timeout, allow_redirects=False
                ) as response:
                    location = response.headers.get("Location")
                    if response.status in REDIRECTS and location:
                        # Each hop is checked before it is fetched: a redirect may lead anywhere.
                        url = str(response.url.join(URL(location)))
                        self._check_hop(url)
                        continue
                    return await _save(response, dest, max_bytes)
        except TimeoutError:
            raise UpstreamTimeout(
                f"Download stalled for {self.settings.idle_timeout:g} s"
            ) from None
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, NonPublicAddress):
                raise refuse_address(error.os_error.host) from None
            raise _connection_error(error) from None
        except aiohttp.ClientError as error:
            raise _connection_error(error) from None
        raise DownloadRefused(
            DownloadRefusal.HOST, f"Refused to follow more than {MAX_REDIRECTS} redirects"
        )

    async def _voice_chunks(self, request: VoiceRequest) -> AsyncGenerator[bytes, None]:
        idle = self.settings.idle_timeout
        try:
            async with self.session().post(
                self.api_url(self.endpoints.voice_v1),
                json=request.body(),
                headers=self.headers("audio/mpeg"),
                timeout=self.stream_timeout(),
                allow_redirects=False,
            ) as response:
                if response.status >= 300:
                    payload = decode_json(await response.text())
                    raise error_for_response(
                        response.status, payload, response.headers.get("Retry-After")
                    )
                async with aclosing(idle_guarded(response.content.iter_any(), idle)) as chunks:
                    async for chunk in chunks:
                        yield chunk
        except TimeoutError:
            raise UpstreamTimeout(f"The voice answer stalled for {idle:g} s") from None
        except aiohttp.ClientError as error:
            raise _connection_error(error) from None


def _check_song_version(request: SongRequest, version: SongVersion) -> None:
    """The per-version rules of the song endpoints that one request model cannot express."""
    if version is not SongVersion.V7 and request.prompt is None:
        raise RequestValidationError("prompt", f"is required for song {version}")
    if version is not SongVersion.V5 and request.duration is not None:
        raise RequestValidationError("duration", f"is only accepted by song v5, not {version}")


def _require_v1_style(request: LegacySongRequest, version: LegacyVersion) -> None:
    if version is LegacyVersion.V1 and request.style_of_music is None:
        raise RequestValidationError("style_of_music", "is required on v1")


def _require_legacy_duration(duration: int) -> None:
    allowed = [value.value for value in LegacyDuration]
    if duration not in allowed:
        shown = ", ".join(str(value) for value in allowed)
        raise RequestValidationError("duration", f"must be one of {shown} s on v1 (got {duration})")


def _decode(model: type[ResultT], payload: Any, what: str) -> ResultT:
    """`payload` as `model`, or `UpstreamError` when it does not have the documented shape."""
    try:
        return model.model_validate(payload)
    except ValidationError:
        raise UpstreamError(f"Soundverse sent an unexpected {what} reply") from None
