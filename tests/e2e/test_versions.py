"""Every version of /song, /music and /extend reaches its own Soundverse endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.stack import SandboxStack
from tests.e2e.conftest import embed_text, result_for
from tests.e2e.test_tools import a_song

SONG_AND_MUSIC = [
    ("song", {"version": "v6"}, "/v6/generate/song"),
    ("song", {"version": "v7"}, "/v7/generate/song"),
    ("song", {"version": "v4"}, "/v4/generate/song-from-prompt"),
    ("song", {"version": "v4", "lyrics": "la la", "style": "Pop"}, "/v4/generate/song-from-lyrics"),
    ("song", {"version": "v1", "style": "Lofi"}, "/v1/generate/song-from-prompt"),
    (
        "song",
        {"version": "v1", "lyrics": "la la", "style": "Rock"},
        "/v1/generate/song-from-lyrics",
    ),
    ("music", {"version": "v5", "duration": 15}, "/v5/generate/music"),
    ("music", {"version": "v6"}, "/v6/generate/music"),
    ("music", {"version": "v4"}, "/v4/generate/song-from-prompt"),
    ("music", {"version": "v1", "style": "Jazz"}, "/v1/generate/song-from-prompt"),
]


@pytest.mark.parametrize(("command", "options", "path"), SONG_AND_MUSIC)
async def test_each_version_posts_once_to_its_endpoint_and_delivers(
    stack: SandboxStack, command: str, options: dict[str, Any], path: str
) -> None:
    """The chosen version reaches its documented path once and the member gets audio."""
    alice = stack.discord.user("alice")
    await stack.discord.slash(command, user="alice", prompt="rain on a window", **options)
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    assert [a for a in result.attachments if a.filename.endswith((".mp3", ".wav"))]
    assert f"Version {options['version']}" in embed_text(result)
    assert stack.soundverse.counters.posts == {path: 1}


@pytest.mark.parametrize(
    ("version", "path"),
    [("v6", "/v6/extend/music"), ("v1", "/v1/generate/extend")],
)
async def test_instrumental_extension_versions(
    stack: SandboxStack, version: str, path: str
) -> None:
    """/extend as an instrumental reaches the v6 and the deprecated v1 endpoints."""
    _, track_id = await a_song(stack)
    await stack.discord.slash(
        "extend", user="alice", track=str(track_id), mode="instrumental", version=version
    )
    alice = stack.discord.user("alice")
    await stack.discord.wait_for_message(
        lambda m: result_for(alice.id)(m) and "extended instrumental" in m.content, timeout=30
    )
    assert stack.soundverse.counters.posts[path] == 1


async def test_song_extension_v6(stack: SandboxStack) -> None:
    """/extend version v6 streams from POST /v6/extend/song."""
    _, track_id = await a_song(stack)
    await stack.discord.slash(
        "extend", user="alice", track=str(track_id), version="v6", at=10, lyrics="more"
    )
    alice = stack.discord.user("alice")
    await stack.discord.wait_for_message(
        lambda m: result_for(alice.id)(m) and "extended song" in m.content, timeout=30
    )
    assert stack.soundverse.counters.posts["/v6/extend/song"] == 1
