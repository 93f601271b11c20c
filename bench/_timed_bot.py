"""`python bench/_timed_bot.py`: the bot exactly as `python -m bot` runs it, printing stamps.

Wraps three steps of a delivery and prints one `TIMING {json}` line per step on stdout (the
job worker's stdout is the bot's), keyed by the interaction token: the end of the stream, the
download-and-fit step (with the pipeline's own download/fit split) and the posting of the
result.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import bot.app
from bot.__main__ import main
from bot.jobs.models import Delivery
from bot.jobs.service import JobService
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


if __name__ == "__main__":
    # Jobs run in the worker process: it is started through this file, so it stamps too.
    bot.app.WORKER_COMMAND = (sys.executable, __file__, "worker")
    stamp_stream_end()
    stamp_preparation()
    stamp_posting()
    sys.exit(main(sys.argv[1:]))
