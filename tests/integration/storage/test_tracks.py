"""Tracks: recording, history and pagination, lineage, autocomplete and deletion."""

from __future__ import annotations

from pathlib import Path

from bot.storage import AudioFile, NewTrack, Track, TrackRepository

GUILD = 1000


async def add(
    tracks: TrackRepository,
    *,
    user_id: int = 1,
    guild_id: int | None = GUILD,
    channel_id: int = 5,
    prompt: str | None = "rainy lofi",
    song_name: str | None = None,
    parent: Track | None = None,
) -> Track:
    """Record one track with the given details."""
    return await tracks.add(
        NewTrack(
            channel_id=channel_id,
            user_id=user_id,
            operation="song" if parent is None else "extend",
            guild_id=guild_id,
            prompt=prompt,
            song_name=song_name,
            parent_id=None if parent is None else parent.id,
        )
    )


async def test_a_track_reads_back_as_recorded(tracks: TrackRepository) -> None:
    """Every field given to add() comes back from get()."""
    new = NewTrack(
        channel_id=5,
        user_id=1,
        operation="song",
        guild_id=GUILD,
        prompt="rainy lofi",
        lyrics="[Verse]\nrain",
        song_name="Rain Train",
        soundverse_message_id="65f0",
        soundverse_job_id="job-1",
        take_index=1,
        audio_url="https://storage.soundverse.ai/a.mp3",
        audio_file=AudioFile(Path("data/audio/1.mp3"), 123_456, 61.5, "mp3"),
        album_art_url="https://storage.soundverse.ai/a.png",
        license="royalty-free",
    )
    added = await tracks.add(new)
    stored = await tracks.get(added.id)
    assert stored == added
    assert stored is not None and stored.audio_file == new.audio_file
    assert stored is not None
    assert (stored.lyrics, stored.take_index, stored.license) == (
        "[Verse]\nrain",
        1,
        "royalty-free",
    )


async def test_attach_message_sets_the_message_later(tracks: TrackRepository) -> None:
    """attach_message stores the channel and message that show the track."""
    track = await add(tracks)
    updated = await tracks.attach_message(track.id, channel_id=6, message_id=700)
    assert (updated.message_channel_id, updated.message_id) == (6, 700)


async def test_lineage_walks_ancestors_and_descendants(tracks: TrackRepository) -> None:
    """Lineage lists ancestors nearest first, direct children, and all descendants by depth."""
    root = await add(tracks, prompt="root")
    extended = await add(tracks, parent=root)
    extended_again = await add(tracks, parent=extended)
    leaf = await add(tracks, parent=extended_again)
    sibling = await add(tracks, parent=extended)

    middle = await tracks.lineage(extended_again.id)
    top = await tracks.lineage(root.id)

    assert middle is not None and top is not None
    assert [t.id for t in middle.ancestors] == [extended.id, root.id]
    assert [t.id for t in middle.children] == [leaf.id]
    assert [t.id for t in top.children] == [extended.id]
    assert [t.id for t in top.descendants] == [extended.id, extended_again.id, sibling.id, leaf.id]


async def test_lineage_of_a_missing_track_is_none(tracks: TrackRepository) -> None:
    """lineage() of an unknown id returns None."""
    assert await tracks.lineage(12345) is None


async def test_deleting_a_parent_keeps_its_children(tracks: TrackRepository) -> None:
    """Deleting a track returns it and leaves its children without a parent."""
    root = await add(tracks)
    child = await add(tracks, parent=root)
    deleted = await tracks.delete(root.id)
    orphan = await tracks.get(child.id)
    assert deleted == root and orphan is not None and orphan.parent_id is None
    assert await tracks.get(root.id) is None


async def test_autocomplete_takes_like_wildcards_literally(tracks: TrackRepository) -> None:
    """A prefix with % and _ matches only tracks that really start with those characters."""
    literal = await add(tracks, prompt="100% pure_joy")
    await add(tracks, prompt="100 pure joy")
    await add(tracks, prompt="1000 pure xjoy")
    backslash = await add(tracks, prompt="a\\b song")
    assert [t.id for t in await tracks.autocomplete(1, "100% pure_")] == [literal.id]
    assert [t.id for t in await tracks.autocomplete(1, "a\\b")] == [backslash.id]
    assert await tracks.autocomplete(1, "_") == ()


async def test_autocomplete_ignores_case_and_searches_song_names(tracks: TrackRepository) -> None:
    """The prefix matches prompts or song names in any case, newest first, limited."""
    older = await add(tracks, prompt="Rainy lofi")
    named = await add(tracks, prompt="something else", song_name="RAIN TRAIN")
    await add(tracks, prompt="sunny pop")
    await add(tracks, user_id=2, prompt="rain of someone else")
    found = await tracks.autocomplete(1, "rAiN")
    assert [t.id for t in found] == [named.id, older.id]
    assert len(await tracks.autocomplete(1, "", limit=2)) == 2


async def test_guild_history_pages_with_a_total(tracks: TrackRepository) -> None:
    """Pages of a guild's history are newest first, sized per_page, with total and has_more."""
    added = [await add(tracks, prompt=f"track {n}") for n in range(7)]
    await add(tracks, guild_id=2000)
    first = await tracks.guild_history(GUILD, page=1, per_page=3)
    last = await tracks.guild_history(GUILD, page=3, per_page=3)
    assert [t.id for t in first.items] == [t.id for t in reversed(added[4:])]
    assert (first.total, first.page_count, first.has_more) == (7, 3, True)
    assert [t.id for t in last.items] == [added[0].id]
    assert not last.has_more


async def test_user_history_pages_in_one_guild_or_everywhere(tracks: TrackRepository) -> None:
    """A user's history pages count only their tracks, in the guild given or in all places."""
    mine = [await add(tracks, prompt=f"track {n}") for n in range(4)]
    elsewhere = await add(tracks, guild_id=2000)
    await add(tracks, user_id=2)
    in_guild = await tracks.user_history_page(1, GUILD, page=2, per_page=3)
    everywhere = await tracks.user_history_page(1, page=1, per_page=3)
    assert ([t.id for t in in_guild.items], in_guild.total) == ([mine[0].id], 4)
    assert [t.id for t in everywhere.items] == [elsewhere.id, mine[3].id, mine[2].id]
    assert everywhere.total == 5


async def test_user_history_filters_and_uses_a_cursor(tracks: TrackRepository) -> None:
    """user_history lists one user's tracks newest first, by guild, before a track id."""
    mine = [await add(tracks) for _ in range(4)]
    elsewhere = await add(tracks, guild_id=2000)
    await add(tracks, user_id=2)
    everywhere = await tracks.user_history(1, limit=10)
    in_guild = await tracks.user_history(1, GUILD, limit=2, before=mine[3].id)
    assert [t.id for t in everywhere] == [elsewhere.id, *(t.id for t in reversed(mine))]
    assert [t.id for t in in_guild] == [mine[2].id, mine[1].id]


async def test_latest_in_channel_is_the_users_newest_there(tracks: TrackRepository) -> None:
    """latest_in_channel returns the user's newest track in that channel, else None."""
    await add(tracks, channel_id=5)
    newest = await add(tracks, channel_id=5)
    await add(tracks, channel_id=6)
    await add(tracks, channel_id=5, user_id=2)
    latest = await tracks.latest_in_channel(1, 5)
    assert latest is not None and latest.id == newest.id
    assert await tracks.latest_in_channel(1, 99) is None
