"""Lyrics written by Soundverse, paid through the quota, with failures said in a member's words."""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.jobs.limits import CallLimiter
from bot.jobs.models import Requester
from bot.jobs.operations import Operation
from bot.jobs.quota import QuotaService
from bot.soundverse import (
    LyricsRequest,
    LyricsResult,
    SoundverseClient,
    UpstreamError,
    UpstreamTimeout,
)


class LyricsWriter:
    """Asks Soundverse for lyrics and bills them like any other operation."""

    def __init__(self, client: SoundverseClient, quota: QuotaService, limiter: CallLimiter) -> None:
        self._client = client
        self._quota = quota
        self._limiter = limiter

    async def write(self, request: LyricsRequest, requester: Requester) -> LyricsResult:
        """The lyrics for `request`; refunded and told as worth retrying when Soundverse fails,
        and refused when it returns none, or when the member asks again too soon."""
        async with self._limiter.call(requester.user_id):
            return await self._quota.billed(Operation.LYRICS, requester, lambda: self._ask(request))

    async def _ask(self, request: LyricsRequest) -> LyricsResult:
        try:
            result = await self._client.lyrics(request)
        except (UpstreamError, UpstreamTimeout) as error:
            raise UserFacingError(
                f"Soundverse could not write these lyrics ({error}). Try again in a moment."
            ) from error
        if not result.lyrics.strip():
            raise UserFacingError(
                "Soundverse returned no lyrics for this prompt; try rewording it."
            )
        return result
