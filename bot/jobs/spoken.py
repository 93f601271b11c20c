"""Spoken questions to the Soundverse voice assistant: a recording in, a spoken answer out.

The question is a recording Soundverse fetches by URL (a voice message or an audio file on
Discord's CDN). It is checked before anything is billed: it must be audio, last no longer than
`VOICE_QUESTION_MAX_SECONDS`, and hold something to hear (its loudest 100 ms at
`SILENT_BELOW_DBFS` or louder). Then the member's quick-call limits apply (one at a time, a
cooldown between them), the `voice` units are reserved, and the answer streams (audio/mpeg):
the units are spent once its first bytes arrive, and refunded when Soundverse never answered.
"""

from __future__ import annotations

import io
import math
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import cast

from bot.audio import AudioTooLong, NotAudio, TranscodeError, in_probe_pool, measure_level
from bot.errors import InvalidInput, UserFacingError
from bot.jobs.inputs import PROBE_TIME_LIMIT, clock_time, megabytes
from bot.jobs.limits import CallLimiter
from bot.jobs.models import Requester
from bot.jobs.operations import Operation
from bot.jobs.quota import QuotaService
from bot.soundverse import SoundverseClient, UpstreamError, UpstreamTimeout
from bot.soundverse.limits import INPUT_MAX_BYTES

SILENT_BELOW_DBFS = -45.0
"""A question whose loudest 100 ms (RMS) stays below this holds nothing to answer: speech
reaches -30 dBFS and more, a muted microphone or room noise stays below -50."""
ANSWER_CONTENT_TYPE = "audio/mpeg"
"""What the voice assistant answers with (contract §3.17)."""


@dataclass(frozen=True, slots=True)
class SpokenQuestion:
    """A recording checked to be a question worth asking."""

    url: str
    """Where Soundverse fetches it (`speech_url`)."""
    name: str
    """What the member calls it (the file's name)."""
    seconds: float


class VoiceAssistant:
    """Asks the Soundverse voice assistant spoken questions, checked first and billed like any
    quick call (`voice` units, the member's call limits)."""

    def __init__(
        self,
        client: SoundverseClient,
        quota: QuotaService,
        limiter: CallLimiter,
        *,
        longest: float,
    ) -> None:
        self._client = client
        self._quota = quota
        self._limiter = limiter
        self.longest = longest
        """The longest question asked, in seconds (`VOICE_QUESTION_MAX_SECONDS`)."""

    def check_upload(self, name: str, content_type: str | None, size: int) -> None:
        """Refuse what Discord's description of a recording already rules out: a file that
        is not audio, or one larger than Soundverse fetches."""
        kind = (content_type or "").split(";")[0].strip().lower()
        if kind and not (kind.startswith("audio/") or kind in {"video/ogg", "video/webm"}):
            raise InvalidInput(
                f"`{name}` is not audio (it is {kind}): ask with a voice message or a recording."
            )
        if size > INPUT_MAX_BYTES:
            raise InvalidInput(
                f"`{name}` is {megabytes(size)}; Soundverse fetches recordings up to "
                f"{megabytes(INPUT_MAX_BYTES)}."
            )

    async def check_question(self, url: str, name: str, data: bytes) -> SpokenQuestion:
        """The recording `data` (found at `url`) as a question, or a precise refusal: it does
        not decode as audio, lasts longer than `longest`, or is silent. Nothing is billed."""
        self.check_upload(name, None, len(data))
        try:
            level = await in_probe_pool(
                lambda: measure_level(
                    io.BytesIO(data), longest=self.longest, time_limit=PROBE_TIME_LIMIT
                )
            )
        except AudioTooLong:
            raise InvalidInput(
                f"`{name}` is longer than {clock_time(self.longest)}: a spoken question can "
                f"last at most {clock_time(self.longest)}."
            ) from None
        except (NotAudio, TranscodeError) as error:
            raise InvalidInput(
                f"`{name}` could not be read as audio ({error}): ask with a voice message or "
                "a recording."
            ) from None
        if level.loudest_dbfs < SILENT_BELOW_DBFS:
            heard = (
                "nothing but digital silence"
                if math.isinf(level.loudest_dbfs)
                else f"nothing louder than {level.loudest_dbfs:.0f} dBFS"
            )
            raise InvalidInput(
                f"`{name}` is silent ({heard}): there is no question to answer. "
                "Check your microphone and record it again."
            )
        return SpokenQuestion(url, name, level.seconds)

    @asynccontextmanager
    async def answer(
        self, question: SpokenQuestion, requester: Requester
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """The spoken answer to `question`, as its bytes arrive (audio/mpeg).

        Entering holds one of the member's quick calls (`CallRefused` when they ask again too
        soon), reserves the `voice` units (`QuotaExceeded`), asks Soundverse and waits for the
        first bytes of the answer: the units are spent from then on, and refunded when
        Soundverse fails or sends nothing before. The call is held until the block ends.
        """
        async with self._limiter.call(requester.user_id):
            chunks = cast(AsyncGenerator[bytes, None], self._client.voice(question.url))
            async with aclosing(chunks):
                first = await self._quota.billed(
                    Operation.VOICE, requester, lambda: _first_bytes(chunks)
                )
                yield _the_rest(first, chunks)


async def _first_bytes(chunks: AsyncIterator[bytes]) -> bytes:
    """The first bytes of the answer; a refusal when Soundverse fails or sends none."""
    try:
        async for chunk in chunks:
            if chunk:
                return chunk
    except (UpstreamError, UpstreamTimeout) as error:
        raise UserFacingError(
            f"Soundverse could not answer this question ({error}). Try again in a moment."
        ) from error
    raise UserFacingError("Soundverse sent no answer to this question. Try again in a moment.")


async def _the_rest(first: bytes, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`first`, then the answer's other bytes; a refusal naming the break when it breaks off."""
    yield first
    try:
        async for chunk in chunks:
            yield chunk
    except (UpstreamError, UpstreamTimeout) as error:
        raise UserFacingError(f"Soundverse's answer broke off ({error}).") from error
