"""`python -m sandbox.discord`: run the local Discord alone and print where to point a bot."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from sandbox.discord.local import LocalDiscord


async def serve(host: str, port: int, token: str) -> None:
    local = LocalDiscord(bot_token=token, validate_openapi=False)
    await local.start(host=host, port=port)
    print(f"REST    {local.api_base}")
    print(f"gateway {local.gateway_url}")
    print(f"token   {token}")
    try:
        await asyncio.Event().wait()
    finally:
        await local.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="test-token")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.token))


if __name__ == "__main__":
    main()
