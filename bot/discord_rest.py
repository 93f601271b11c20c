"""One call to Discord's REST API as the bot, outside the running client: what `doctor` and
`invite` ask before (or instead of) starting the bot."""

from __future__ import annotations

from typing import Any

import aiohttp
from pydantic import SecretStr

from bot.config import Settings

DISCORD_API = "https://discord.com/api/v10"
TIMEOUT = aiohttp.ClientTimeout(total=10)


class DiscordCallFailed(Exception):
    """The call got no usable answer: `status` is Discord's (None when it was not reached)."""

    def __init__(self, base: str, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.base = base
        self.status = status


async def get_as_bot(settings: Settings, token: SecretStr, path: str) -> dict[str, Any]:
    """`GET path` with the bot's token; the JSON answer, or `DiscordCallFailed`."""
    base = str(settings.discord.api_base or DISCORD_API).rstrip("/")
    headers = {"Authorization": f"Bot {token.get_secret_value()}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.get(f"{base}{path}", headers=headers) as response,
        ):
            if response.status != 200:
                raise DiscordCallFailed(
                    base, response.status, f"Discord answered {response.status}"
                )
            answer: dict[str, Any] = await response.json()
            return answer
    except (aiohttp.ClientError, TimeoutError) as error:
        raise DiscordCallFailed(base, None, str(error) or type(error).__name__) from None
