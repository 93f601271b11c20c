"""`python bench/_timed_bot.py`: the bot exactly as `python -m bot` runs it, printing stamps.

Wraps three steps of a delivery and prints one `TIMING {json}` line per step on stdout (the
job worker's stdout is the bot's), keyed by the interaction token: the end of the stream, the
download-and-fit step (with the pipeline's own download/fit split) and the posting of the
result. Wraps two steps of a spoken question too (Ask Soundverse, `/ask-voice`): the check of
the recording once it was read (keyed by its URL), and finding where to play the answer once
its first bytes came, joining the member's voice channel when the bot is not there (keyed by
the interaction id). Wraps three steps of a spoken turn (live listening): the turn reaching
the listening session once the silence ended it (with the bot's arrival time of its last
frame with speech), its upload (keyed by the upload's URL, the `speech_url`), and finding
where to play the answer once its first bytes came. Every stamp is `time.monotonic()`, one
clock for every process.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import bot.app
import cogs.assistant.listening
import cogs.assistant.spoken
from bot.__main__ import main
from bot.jobs.models import Delivery
from bot.jobs.service import JobService
from bot.jobs.spoken import VoiceAssistant
from bot.soundverse import GenerationResult
from bot.ui.job_card import JobCard


def emit(**fields: Any) -> None:
    print("TIMING " + json.dumps(fields), flush=True)


def stamp_stream_end() -> None:
    follow = JobService._follow

    async def timed(self: JobService, job: Any, *args: Any) -> GenerationResult:
        result = await follow(self, job, *args)
        emit(
            token=job.interaction_token,
            step="stream_end",
            at=time.monotonic(),
            message_id=result.message_id,
        )
        return result

    setattr(JobService, "_follow", timed)  # noqa: B010


def stamp_preparation() -> None:
    prepare = JobService._prepare_delivery

    async def timed(self: JobService, job_id: int, order: Any, *args: Any) -> Delivery:
        began = time.monotonic()
        delivery = await prepare(self, job_id, order, *args)
        emit(
            token=order.interaction_token,
            step="prepared",
            began=began,
            ended=time.monotonic(),
            download=delivery.timings.get("download", 0.0),
            fit=delivery.timings.get("fit", 0.0),
        )
        return delivery

    setattr(JobService, "_prepare_delivery", timed)  # noqa: B010


def stamp_posting() -> None:
    post = JobCard.post_result

    async def timed(self: JobCard, delivery: Delivery) -> Any:
        began = time.monotonic()
        message = await post(self, delivery)
        emit(
            token=delivery.order.interaction_token,
            step="posted",
            began=began,
            ended=time.monotonic(),
        )
        return message

    setattr(JobCard, "post_result", timed)  # noqa: B010


def stamp_spoken_questions() -> None:
    """Stamps a spoken question's steps; a step the bot no longer has by that name is left
    unstamped (the benchmark then shows no figure for it)."""
    check = getattr(VoiceAssistant, "check_question", None)
    if check is not None:

        async def timed_check(self: VoiceAssistant, url: str, *args: Any) -> Any:
            began = time.monotonic()
            try:
                return await check(self, url, *args)
            finally:
                emit(url=url, step="question_checked", began=began, ended=time.monotonic())

        setattr(VoiceAssistant, "check_question", timed_check)  # noqa: B010
    playback_for = getattr(cogs.assistant.spoken, "playback_for", None)
    if playback_for is not None:

        async def timed_playback(interaction: Any) -> Any:
            began = time.monotonic()
            playback = await playback_for(interaction)
            emit(
                interaction=str(interaction.id),
                step="playback_ready",
                began=began,
                ended=time.monotonic(),
                in_voice=getattr(playback, "session", None) is not None,
            )
            return playback

        setattr(cogs.assistant.spoken, "playback_for", timed_playback)  # noqa: B010


def stamp_spoken_turns() -> None:
    """Stamps a spoken turn's steps in live listening; a step the bot no longer has by that
    name is left unstamped (the benchmark then shows no figure for it)."""
    session = getattr(cogs.assistant.listening, "LiveSession", None)
    if session is None:
        return
    spawn = getattr(session, "_spawn_turn", None)
    if spawn is not None:

        def timed_spawn(self: Any, turn: Any) -> None:
            emit(
                step="turn_cut",
                at=time.monotonic(),
                last_speech=turn.ended_at,
                seconds=turn.seconds,
            )
            spawn(self, turn)

        setattr(session, "_spawn_turn", timed_spawn)  # noqa: B010
    upload = getattr(session, "_upload", None)
    if upload is not None:

        async def timed_upload(self: Any, *args: Any) -> Any:
            began = time.monotonic()
            message = await upload(self, *args)
            url = message.attachments[0].url if message.attachments else None
            emit(step="turn_uploaded", url=url, began=began, ended=time.monotonic())
            return message

        setattr(session, "_upload", timed_upload)  # noqa: B010
    where = getattr(session, "_where", None)
    if where is not None:

        async def timed_where(self: Any) -> Any:
            began = time.monotonic()
            playback = await where(self)
            emit(
                step="turn_playback",
                began=began,
                ended=time.monotonic(),
                in_voice=getattr(playback, "session", None) is not None,
            )
            return playback

        setattr(session, "_where", timed_where)  # noqa: B010


if __name__ == "__main__":
    # Jobs run in the worker process: it is started through this file, so it stamps too.
    bot.app.WORKER_COMMAND = (sys.executable, __file__, "worker")
    stamp_stream_end()
    stamp_preparation()
    stamp_posting()
    stamp_spoken_questions()
    stamp_spoken_turns()
    sys.exit(main(sys.argv[1:]))
