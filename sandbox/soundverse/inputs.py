"""Audio given to the stand-in by URL: fetched (at most 10 MB) and probed with PyAV."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

import aiohttp

from sandbox.soundverse.media import UndecodableAudio, probe_duration
from sandbox.soundverse.validation import ErrorEntry, field_error

MAX_INPUT_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)


@dataclass(frozen=True)
class InputAudio:
    """A fetched input: its length and a digest that seeds what is made from it."""

    url: str
    seconds: float
    digest: str


class InputRejected(Exception):
    """An input URL could not be used; carries the 422 error entry."""

    def __init__(self, entry: ErrorEntry) -> None:
        super().__init__(entry["msg"])
        self.entry = entry


async def fetch_input(session: aiohttp.ClientSession, field: str, url: str) -> InputAudio:
    """Download `url` and measure it, or raise InputRejected naming `field`."""
    data = await _download(session, field, url)
    try:
        seconds = await asyncio.to_thread(probe_duration, data)
    except UndecodableAudio as error:
        raise input_rejected(field, url, f"{field} is not decodable audio ({error})") from None
    return InputAudio(url=url, seconds=seconds, digest=hashlib.sha256(data).hexdigest())


async def _download(session: aiohttp.ClientSession, field: str, url: str) -> bytes:
    """The body at `url`, refusing anything over MAX_INPUT_BYTES."""
    try:
        async with session.get(url, timeout=FETCH_TIMEOUT) as response:
            if response.status != 200:
                raise input_rejected(field, url, f"Could not fetch {field}: HTTP {response.status}")
            declared = response.content_length
            if declared is not None and declared > MAX_INPUT_BYTES:
                raise input_rejected(field, url, f"{field} is larger than 10 MB")
            data = bytearray()
            async for block in response.content.iter_chunked(64 * 1024):
                data += block
                if len(data) > MAX_INPUT_BYTES:
                    raise input_rejected(field, url, f"{field} is larger than 10 MB")
            return bytes(data)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise input_rejected(
            field, url, f"Could not fetch {field}: {error or type(error).__name__}"
        ) from None


def input_rejected(field: str, given: object, message: str) -> InputRejected:
    """The 422 refusal of an unusable input, naming `field`."""
    return InputRejected(field_error(["body", field], message, "value_error", given))
