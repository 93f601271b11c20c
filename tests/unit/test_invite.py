"""The invite URL and the permissions the README promises."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord

from bot.invite import NEEDED, invite_url, needed_permissions

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_url_asks_for_both_scopes_and_the_permissions() -> None:
    """The URL carries the application, both scopes and the permission integer."""
    query = parse_qs(urlsplit(invite_url(1234)).query)
    assert query == {
        "client_id": ["1234"],
        "scope": ["bot applications.commands"],
        "permissions": [str(needed_permissions().value)],
        "integration_type": ["0"],
    }


def test_a_guild_is_preselected_when_given() -> None:
    """With a server id, the URL picks that server and locks the choice."""
    query = parse_qs(urlsplit(invite_url(1234, guild_id=99)).query)
    assert (query["guild_id"], query["disable_guild_select"]) == (["99"], ["true"])


def test_voice_playback_and_voice_messages_are_asked_for() -> None:
    """Connect and Speak (playing in voice) and Send Voice Messages (spoken answers) are in."""
    permissions = needed_permissions()
    assert (permissions.connect, permissions.speak, permissions.send_voice_messages) == (
        True,
        True,
        True,
    )


def test_the_permissions_are_the_nine_the_features_use_and_no_others() -> None:
    """Text (cards, results, replies) and voice (playing, voice messages): nothing else."""
    assert needed_permissions() == discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        connect=True,
        speak=True,
        send_voice_messages=True,
    )


def test_the_readme_gives_the_same_integer() -> None:
    """The README's permission integer is the one the bot asks for."""
    stated = re.findall(r"permissions=(\d+)", README.read_text())
    assert stated and set(stated) == {str(needed_permissions().value)}


def test_the_readme_explains_every_permission() -> None:
    """Each permission the bot asks for has a row in the README saying why."""
    text = README.read_text()
    missing = [flag for flag, _ in NEEDED if f"| {flag.replace('_', ' ').title()} |" not in text]
    assert missing == []
