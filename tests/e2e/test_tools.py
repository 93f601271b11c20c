"""Every audio capability through the local Discord: commands, follow-ups, context menus.

Each test names the Soundverse endpoint it reaches and checks it on the stand-in's counter.
"""

from __future__ import annotations

from pathlib import Path

from bot.storage import NewTrack
from sandbox.discord.state import Attachment, Message
from sandbox.soundverse.media import render_audio
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, decoded_duration, embed_text, result_for, stored_tracks
from tests.unit.audio.conftest import Tone, write_tone


async def finished_result(stack: SandboxStack, user: str, text: str) -> Message:
    """The newest result for `user` whose card mentions `text`, once its job has ended."""
    member = stack.discord.user(user)
    message = await stack.discord.wait_for_message(
        lambda m: result_for(member.id)(m) and text in embed_text(m), timeout=30
    )
    await stack.bot.services.jobs.wait_until_idle()
    return message


async def a_song(stack: SandboxStack, seconds: int = 20) -> tuple[Message, int]:
    """Alice's song result and the id of its first take."""
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=seconds)
    result = await finished_result(stack, "alice", "lofi rain")
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    return result, min(t.id for t in tracks)


def alice(stack: SandboxStack) -> int:
    return int(stack.discord.user("alice").id)


def mp3_upload(stack: SandboxStack, seconds: float = 12, name: str = "mine.mp3") -> Attachment:
    return stack.discord.upload(name, render_audio(7, seconds, "mp3"), "audio/mpeg")


def audio_files(message: Message) -> list[Attachment]:
    return [a for a in message.attachments if a.filename.endswith((".mp3", ".wav"))]


async def private_reply(stack: SandboxStack, interaction_id: str) -> str:
    message = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction_id and m.ephemeral
    )
    return embed_text(message)


async def test_extend_song_continues_a_track_with_its_lineage(stack: SandboxStack) -> None:
    """/extend (POST /v5/extend/song) continues a track at 10 s; the new track's parent is it."""
    _, track_id = await a_song(stack)
    await stack.discord.slash(
        "extend", user="alice", track=str(track_id), at=10, lyrics="la la la", prompt="brighter"
    )
    result = await finished_result(stack, "alice", "extended song")
    assert abs(decoded_duration(audio_files(result)[0].data) - 40) < 0.5
    assert stack.soundverse.counters.posts["/v5/extend/song"] == 1
    lineage = await stack.bot.services.library.lineage(track_id)
    assert lineage is not None and len(lineage.children) == 1
    assert "Made from" in embed_text(result)


async def test_extend_instrumental_from_an_upload(stack: SandboxStack) -> None:
    """/extend mode instrumental (POST /v5/extend/music/sync) continues an uploaded file."""
    await stack.discord.slash("extend", user="alice", audio=mp3_upload(stack), mode="instrumental")
    result = await finished_result(stack, "alice", "extended instrumental")
    assert abs(decoded_duration(audio_files(result)[0].data) - 42) < 0.5
    assert stack.soundverse.counters.posts["/v5/extend/music/sync"] == 1


async def test_extend_uses_latest_track_and_says_so(stack: SandboxStack) -> None:
    """Without a track or file, /extend takes the member's latest track here and names it."""
    _, track_id = await a_song(stack)
    interaction = await stack.discord.slash("extend", user="alice", lyrics="more words")
    card = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and "latest track" in embed_text(m)
    )
    assert f"#{track_id + 1} " in embed_text(card) or f"#{track_id} " in embed_text(card)
    await finished_result(stack, "alice", "extended song")


async def test_sing_in_a_style(stack: SandboxStack) -> None:
    """/sing (POST /v2/generate/ai-singing-gen) delivers sung audio."""
    await stack.discord.slash("sing", user="alice", lyrics="hello moon hello sun", style="Rap")
    result = await finished_result(stack, "alice", "singing")
    assert audio_files(result)
    assert stack.soundverse.counters.posts["/v2/generate/ai-singing-gen"] == 1


async def test_all_stems_arrive_in_one_message_as_child_tracks(stack: SandboxStack) -> None:
    """/stems all (POST .../all-stems) posts every stem as its own file, each a child track."""
    _, track_id = await a_song(stack)
    await stack.discord.slash("stems", user="alice", track=str(track_id), kind="all-stems")
    result = await finished_result(stack, "alice", "stems")
    names = sorted(a.filename.split("-")[0] for a in audio_files(result))
    assert names == ["bass", "drums", "other", "vocals"]
    assert stack.soundverse.counters.posts["/v1/generate/stem-separation/all-stems"] == 1
    lineage = await stack.bot.services.library.lineage(track_id)
    assert lineage is not None and len(lineage.children) == 4


async def test_loop_audio_repeats_the_detected_loop(stack: SandboxStack) -> None:
    """/loop audio (POST /v1/generate/trim-and-loop/auto) lasts count times the loop."""
    await stack.discord.slash("loop audio", user="alice", audio=mp3_upload(stack), count=3)
    result = await finished_result(stack, "alice", "loop")
    assert abs(decoded_duration(audio_files(result)[0].data) - 12) < 0.5
    assert stack.soundverse.counters.posts["/v1/generate/trim-and-loop/auto"] == 1


async def test_loop_generate_delivers_generated_and_looped(stack: SandboxStack) -> None:
    """/loop generate (POST /v1/trim-and-loop/gen-and-loop/music/auto/) posts both files."""
    await stack.discord.slash("loop generate", user="alice", prompt="drums", duration=15, count=2)
    result = await finished_result(stack, "alice", "loop")
    durations = sorted(round(decoded_duration(a.data)) for a in audio_files(result))
    assert durations == [8, 15]
    assert stack.soundverse.counters.posts["/v1/trim-and-loop/gen-and-loop/music/auto/"] == 1


async def test_text_to_music_is_reachable(stack: SandboxStack) -> None:
    """/text-to-music (POST /v1/generate/text-to-music) delivers 15 s of audio."""
    await stack.discord.slash("text-to-music", user="alice", prompt="calm piano", duration=15)
    result = await finished_result(stack, "alice", "music")
    assert abs(decoded_duration(audio_files(result)[0].data) - 15) < 0.5
    assert stack.soundverse.counters.posts["/v1/generate/text-to-music"] == 1


async def test_extend_button_opens_modal_and_continues(stack: SandboxStack) -> None:
    """The result's Extend button opens a modal; its submission extends that track."""
    result, track_id = await a_song(stack)
    click = await stack.discord.click(result, "Extend", user="alice")
    await click.wait_for_ack()
    await stack.discord.submit_modal(click, {"position": "12", "lyrics": "la", "prompt": ""})
    extended = await finished_result(stack, "alice", "extended song")
    assert abs(decoded_duration(audio_files(extended)[0].data) - 42) < 0.5
    lineage = await stack.bot.services.library.lineage(track_id)
    assert lineage is not None and len(lineage.children) == 1


async def test_stems_menu_under_a_result(stack: SandboxStack) -> None:
    """Choosing Vocals in the result's stems menu delivers the vocals stem of that track."""
    result, _ = await a_song(stack)
    await stack.discord.select(result, "Separate stems…", ["vocals"], user="alice")
    stems = await finished_result(stack, "alice", "stems")
    assert [a.filename.split("-")[0] for a in audio_files(stems)] == ["vocals"]
    assert stack.soundverse.counters.posts["/v1/generate/stem-separation/vocals"] == 1


async def test_loop_button_opens_modal_and_loops(stack: SandboxStack) -> None:
    """The result's Loop button asks for the repeats and loops that track."""
    result, _ = await a_song(stack)
    click = await stack.discord.click(result, "Loop", user="alice")
    await click.wait_for_ack()
    await stack.discord.submit_modal(click, {"count": "2"})
    looped = await finished_result(stack, "alice", "loop")
    assert abs(decoded_duration(audio_files(looped)[0].data) - 8) < 0.5


async def test_lyrics_button_shows_the_lyrics_used(stack: SandboxStack) -> None:
    """The Lyrics button privately shows the lyrics the song was made with."""
    await stack.discord.slash("song", user="alice", prompt="rain", lyrics="drip drop on the roof")
    result = await finished_result(stack, "alice", "rain")
    click = await stack.discord.click(result, "Lyrics", user="bob")
    assert "drip drop on the roof" in await private_reply(stack, click.id)


async def test_context_menu_separates_stems_of_a_posted_file(stack: SandboxStack) -> None:
    """ "Separate stems" on a member's audio message offers the kinds, then delivers them."""
    posted = await stack.discord.post_message(user="bob", attachments=[mp3_upload(stack)])
    menu = await stack.discord.context_menu("Separate stems", posted, user="bob")
    offer = await stack.discord.wait_for_message(lambda m: m.interaction_id == menu.id)
    await stack.discord.select(offer, "Which stems?", ["instruments"], user="bob")
    stems = await finished_result(stack, "bob", "stems")
    assert [a.filename.split("-")[0] for a in audio_files(stems)] == ["instruments"]


async def test_context_menu_extend_and_loop_open_modals(stack: SandboxStack) -> None:
    """ "Extend" and "Make a loop" on an audio message open their modals and run."""
    posted = await stack.discord.post_message(user="bob", attachments=[mp3_upload(stack)])
    loop = await stack.discord.context_menu("Make a loop", posted, user="bob")
    await loop.wait_for_ack()
    await stack.discord.submit_modal(loop, {"count": "2"})
    await finished_result(stack, "bob", "loop")
    extend = await stack.discord.context_menu("Extend", posted, user="bob")
    await extend.wait_for_ack()
    await stack.discord.submit_modal(extend, {"position": "", "lyrics": "", "prompt": "jazzier"})
    await finished_result(stack, "bob", "extended instrumental")


async def test_a_menu_on_a_text_file_names_it_in_one_sentence(stack: SandboxStack) -> None:
    """A message menu on a message with only README.md says "`README.md` is not audio"."""
    readme = stack.discord.upload("README.md", b"# notes", "text/markdown")
    posted = await stack.discord.post_message(user="bob", attachments=[readme])
    menu = await stack.discord.context_menu("Make a loop", posted, user="bob")
    assert "(`README.md` is not audio)." in await private_reply(stack, menu.id)


async def test_context_menu_without_audio_is_refused(stack: SandboxStack) -> None:
    """A context menu on a message without audio says so, privately."""
    posted = await stack.discord.post_message(user="bob", content="just words")
    menu = await stack.discord.context_menu("Make a loop", posted, user="bob")
    assert "no audio attachment" in await private_reply(stack, menu.id)


async def test_wrong_file_type_is_refused_before_anything(stack: SandboxStack) -> None:
    """A PNG given as audio is refused with its name and type; no quota, no POST."""
    image = stack.discord.upload("cover.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
    interaction = await stack.discord.slash("stems", user="alice", audio=image)
    text = await private_reply(stack, interaction.id)
    assert "`cover.png` is not an audio file (it is image/png)" in text
    assert sum(stack.soundverse.counters.posts.values()) == 0


async def test_file_that_is_not_really_audio_is_refused(stack: SandboxStack) -> None:
    """A file labelled audio that does not decode is refused after probing."""
    fake = stack.discord.upload("song.mp3", b"this is not audio" * 10, "audio/mpeg")
    interaction = await stack.discord.slash("loop audio", user="alice", audio=fake)
    assert "`song.mp3` could not be read as audio" in await private_reply(stack, interaction.id)
    assert sum(stack.soundverse.counters.posts.values()) == 0


async def test_too_large_file_is_refused_with_the_limit(stack: SandboxStack) -> None:
    """An 11 MB upload is refused naming its size and Soundverse's 10 MB limit."""
    big = stack.discord.upload("big.mp3", b"\xff" * (11 * 1024 * 1024), "audio/mpeg")
    interaction = await stack.discord.slash("stems", user="alice", audio=big)
    assert "is 11.0 MB; Soundverse takes audio files up to 10.0 MB" in await private_reply(
        stack, interaction.id
    )


async def test_position_out_of_range_is_refused(stack: SandboxStack) -> None:
    """A position before 8 s, or past the end of the audio, is refused with the numbers."""
    _, track_id = await a_song(stack)
    early = await stack.discord.slash("extend", user="alice", track=str(track_id), at=5, lyrics="a")
    assert "The position must be from 0:08 to 7:00 (got 0:05)." in await private_reply(
        stack, early.id
    )
    late = await stack.discord.slash("extend", user="alice", track=str(track_id), at=60, lyrics="a")
    assert "The position (1:00) must be inside the audio, which lasts 0:20." in await private_reply(
        stack, late.id
    )
    assert "/v5/extend/song" not in stack.soundverse.counters.posts


async def test_empty_lyrics_are_refused_for_song_extension(stack: SandboxStack) -> None:
    """Extending a song needs lyrics; the refusal says so and gives the limit."""
    _, track_id = await a_song(stack)
    interaction = await stack.discord.slash("extend", user="alice", track=str(track_id), at=10)
    assert "Lyrics are required to extend a song; at most 3000 characters" in await private_reply(
        stack, interaction.id
    )


async def test_too_long_upload_is_refused_with_the_limit(make_stack: StackFactory) -> None:
    """An upload longer than AUDIO_MAX_INPUT_SECONDS is refused naming both lengths."""
    stack = await make_stack(tweak=lambda s: setattr(s.audio, "max_input_seconds", 10))
    interaction = await stack.discord.slash("loop audio", user="alice", audio=mp3_upload(stack))
    assert "`mine.mp3` lasts 0:12; the longest audio accepted is 0:10" in await private_reply(
        stack, interaction.id
    )
    assert sum(stack.soundverse.counters.posts.values()) == 0


async def test_someone_elses_private_track_is_refused(stack: SandboxStack) -> None:
    """A track from bob's DMs cannot be used by alice in the server."""
    bob = int(stack.discord.user("bob").id)
    private = await stored_tracks(stack).add(
        NewTrack(channel_id=1, user_id=bob, operation="song", audio_url=stack.soundverse.url)
    )
    interaction = await stack.discord.slash("stems", user="alice", track=str(private.id))
    assert f"Track #{private.id} belongs to someone else's private history" in (
        await private_reply(stack, interaction.id)
    )


async def test_track_autocomplete_offers_own_tracks(stack: SandboxStack) -> None:
    """Typing in the track option lists the member's tracks by prompt."""
    await a_song(stack)
    choices = await stack.discord.autocomplete("stems", focused="track", value="lofi", user="alice")
    assert choices and all("Lofi" in c["name"] or "lofi" in c["name"] for c in choices)
    assert not await stack.discord.autocomplete("stems", focused="track", value="lofi", user="bob")


async def test_an_upload_that_hides_its_length_is_read_no_further_than_allowed(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    """An upload that does not declare its length (costly to measure) is refused as soon as
    reading it passes AUDIO_MAX_INPUT_SECONDS, naming the limit; nothing is sent."""
    stack = await make_stack(tweak=lambda s: setattr(s.audio, "max_input_seconds", 5))
    hidden = write_tone(tmp_path / "hidden.mka", Tone(30.0, rate=48000))
    upload = stack.discord.upload("hidden.mka", hidden.read_bytes(), "audio/x-matroska")
    interaction = await stack.discord.slash("loop audio", user="alice", audio=upload)
    assert "`hidden.mka` is longer than 0:05, the longest audio accepted" in await private_reply(
        stack, interaction.id
    )
    assert sum(stack.soundverse.counters.posts.values()) == 0


async def test_positions_and_lengths_take_minutes_and_seconds(stack: SandboxStack) -> None:
    """`/song duration: 0:40` then `/extend at: 0:30` make a 40 s song continued at 30 s."""
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration="0:40")
    song = await finished_result(stack, "alice", "lofi rain")
    track_id = min(t.id for t in await stored_tracks(stack).user_history(alice(stack)))
    await stack.discord.slash(
        "extend", user="alice", track=str(track_id), at="0:30", lyrics="la la la"
    )
    extended = await finished_result(stack, "alice", "extended song")
    assert abs(decoded_duration(audio_files(song)[0].data) - 40) < 0.5
    assert abs(decoded_duration(audio_files(extended)[0].data) - 60) < 0.5


async def test_a_position_that_is_no_time_is_refused_naming_both_forms(
    stack: SandboxStack,
) -> None:
    """`at: soon` is refused with the two accepted forms; nothing reaches Soundverse."""
    interaction = await stack.discord.slash("extend", user="alice", at="soon", lyrics="a")
    assert (
        "The position must be in seconds or minutes:seconds, like `95` or `1:35` (got `soon`)."
        in await private_reply(stack, interaction.id)
    )
    assert sum(stack.soundverse.counters.posts.values()) == 0


async def test_the_extend_form_takes_minutes_and_seconds(stack: SandboxStack) -> None:
    """The Extend form's position `0:12` continues a 20 s song at 12 s."""
    result, _ = await a_song(stack)
    click = await stack.discord.click(result, "Extend", user="alice")
    await click.wait_for_ack()
    await stack.discord.submit_modal(click, {"position": "0:12", "lyrics": "la", "prompt": ""})
    extended = await finished_result(stack, "alice", "extended song")
    assert abs(decoded_duration(audio_files(extended)[0].data) - 42) < 0.5


async def test_the_extend_form_refuses_a_position_past_the_end(stack: SandboxStack) -> None:
    """Position 45 on a 20 s song is refused as /extend refuses it; nothing is submitted."""
    result, _ = await a_song(stack)
    click = await stack.discord.click(result, "Extend", user="alice")
    await click.wait_for_ack()
    form = await stack.discord.submit_modal(click, {"position": "45", "lyrics": "la"})
    assert "The position (0:45) must be inside the audio, which lasts 0:20." in (
        await private_reply(stack, form.id)
    )
    assert "/v5/extend/song" not in stack.soundverse.counters.posts


async def test_the_extend_form_needs_lyrics_to_continue_a_song(stack: SandboxStack) -> None:
    """Empty lyrics on a sung track are refused, not made into an instrumental."""
    result, _ = await a_song(stack)
    click = await stack.discord.click(result, "Extend", user="alice")
    await click.wait_for_ack()
    form = await stack.discord.submit_modal(click, {"position": "", "lyrics": " "})
    assert "Lyrics are required to extend a song" in await private_reply(stack, form.id)
    assert stack.soundverse.counters.posts.keys() == {"/v5/generate/song"}


async def test_the_extend_form_refuses_a_position_for_an_instrumental(
    stack: SandboxStack,
) -> None:
    """A position without lyrics on an upload is refused as /extend refuses it."""
    posted = await stack.discord.post_message(user="bob", attachments=[mp3_upload(stack)])
    extend = await stack.discord.context_menu("Extend", posted, user="bob")
    await extend.wait_for_ack()
    form = await stack.discord.submit_modal(extend, {"position": "0:10", "lyrics": ""})
    assert "A position only applies to extending a song" in await private_reply(stack, form.id)
    assert sum(stack.soundverse.counters.posts.values()) == 0
