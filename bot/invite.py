"""`python -m bot invite`: the URL that adds the bot to a server, with the permissions it uses.

The scopes are `bot` (the bot user joins the server) and `applications.commands` (its slash
commands and menus). Each permission below is one the bot needs, and why; nothing more.
"""

from __future__ import annotations

import discord
import yarl

from bot.config import Settings
from bot.discord_rest import DiscordCallFailed, get_as_bot

AUTHORIZE = "https://discord.com/oauth2/authorize"
SCOPES = ("bot", "applications.commands")

# (discord.Permissions flag, what the bot does with it)
NEEDED: tuple[tuple[str, str], ...] = (
    ("view_channel", "see the channel a command came from, to post its card and results there"),
    (
        "send_messages",
        "post a job's card and results in the channel once the 15-minute interaction token "
        "has run out, and for jobs resumed after a restart",
    ),
    ("send_messages_in_threads", "the same, when the command came from a thread"),
    ("embed_links", "show job cards, result cards, history and quota as embeds"),
    (
        "attach_files",
        "deliver finished tracks and stems as audio files, and spoken answers as voice messages",
    ),
    (
        "read_message_history",
        "after a restart, find a result it had already posted, so nothing is posted twice; "
        "answer a voice message with a reply to it",
    ),
    ("connect", "join a member's voice channel to play tracks, previews and spoken answers"),
    ("speak", "play in that voice channel"),
    (
        "send_voice_messages",
        "post the voice assistant's spoken answers as voice messages (Ask Soundverse, /ask-voice)",
    ),
)


def needed_permissions() -> discord.Permissions:
    """Every permission in `NEEDED`."""
    return discord.Permissions(**dict.fromkeys((flag for flag, _ in NEEDED), True))


def invite_url(application_id: int, guild_id: int | None = None) -> str:
    """The authorize URL for `application_id`, for one server when `guild_id` is given."""
    query = {
        "client_id": str(application_id),
        "scope": " ".join(SCOPES),
        "permissions": str(needed_permissions().value),
        "integration_type": "0",
    }
    if guild_id is not None:
        query.update(guild_id=str(guild_id), disable_guild_select="true")
    return str(yarl.URL(AUTHORIZE).with_query(query))


class ApplicationLookupFailed(Exception):
    """The application id could not be read from Discord; the message says why."""


async def application_id(settings: Settings) -> int:
    """The id of the application DISCORD_TOKEN belongs to, as Discord says."""
    token = settings.discord.token
    if token is None:
        raise ApplicationLookupFailed(
            "DISCORD_TOKEN is not set: set it, or pass --application-id (General Information "
            "in the Developer Portal)"
        )
    try:
        application = await get_as_bot(settings, token, "/oauth2/applications/@me")
    except DiscordCallFailed as failed:
        if failed.status == 401:
            raise ApplicationLookupFailed("DISCORD_TOKEN: Discord refused the token") from None
        if failed.status is not None:
            raise ApplicationLookupFailed(str(failed)) from None
        raise ApplicationLookupFailed(
            f"cannot reach {failed.base} ({failed}): pass --application-id"
        ) from None
    return int(application["id"])
