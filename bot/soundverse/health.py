"""A cheap check that the Soundverse API answers and accepts our key (for `/about`)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.soundverse.client import SoundverseClient
from bot.soundverse.errors import AuthenticationError, NotFound, SoundverseError

# A well-formed id no job has: the status endpoint answers 404 for it, which proves the API
# is up and the key accepted without starting (or billing) anything.
PROBE_MESSAGE_ID = "000000000000000000000000"


@dataclass(frozen=True, slots=True)
class ApiHealth:
    """Whether the API answered as expected, a short summary, and how long it took."""

    ok: bool
    summary: str
    latency_ms: float


async def check_api_health(client: SoundverseClient) -> ApiHealth:
    """Ask the status endpoint about an id that does not exist, and read the answer."""
    started = time.perf_counter()
    try:
        await client.status(message_id=PROBE_MESSAGE_ID)
    except NotFound:
        ok, summary = True, "reachable, key accepted"
    except AuthenticationError:
        ok, summary = False, "reachable, but the API key was refused"
    except SoundverseError as error:
        ok, summary = False, f"not answering as expected: {error}"
    else:
        ok, summary = True, "reachable, key accepted"
    return ApiHealth(ok, summary, (time.perf_counter() - started) * 1000)
