"""`python bench/_profiled_bot.py`: the bot exactly as `python -m bot` runs it, except that its
job worker runs under cProfile, timed by the CPU time of its main thread (where the event loop
runs), and writes its profile to BENCH_WORKER_PROFILE when it stops (the bot stops it with
SIGTERM, which ends it normally).
"""

from __future__ import annotations

import cProfile
import os
import runpy
import sys
import time

import bot.app


def profile_worker() -> None:
    """`python bench/_profiled_bot.py worker --link-fd N`: the job worker, profiled."""
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    try:
        runpy.run_module("bot", run_name="__main__", alter_sys=False)
    except SystemExit:
        pass
    finally:
        profiler.disable()
        profiler.dump_stats(os.environ["BENCH_WORKER_PROFILE"])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        profile_worker()
    else:
        bot.app.WORKER_COMMAND = (sys.executable, __file__, "--worker", "worker")
        from bot.__main__ import main

        main()
