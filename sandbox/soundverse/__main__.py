"""`python -m sandbox.soundverse`: serve the local Soundverse until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal

from sandbox.soundverse.server import DEFAULT_API_KEY, SoundverseStandIn


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: where to listen, how fast to run, which key to accept."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.soundverse", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--time-scale", type=float, default=1.0, help="1.0 = real-feeling speed")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    return parser.parse_args(argv)


async def serve(arguments: argparse.Namespace) -> None:
    """Run the stand-in until a termination signal arrives."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    standin = SoundverseStandIn(api_keys={arguments.api_key}, time_scale=arguments.time_scale)
    url = await standin.start(arguments.host, arguments.port)
    print(f"Local Soundverse at {url} (API key: {arguments.api_key})", flush=True)
    try:
        await stop.wait()
    finally:
        await standin.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    asyncio.run(serve(parse_arguments(argv)))


if __name__ == "__main__":
    main()
