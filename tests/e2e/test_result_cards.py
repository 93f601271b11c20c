"""Result cards that say what they hold: each file labelled, actions per take, where it came
from, and the lossless original when a file had to be re-encoded."""

from __future__ import annotations

from sandbox.discord.state import Message
from sandbox.stack import SandboxStack
from tests.e2e.conftest import StackFactory, embed_text, stored_tracks
from tests.e2e.test_tools import a_song, audio_files, finished_result, mp3_upload


def link_labels(message: Message) -> list[str]:
    return [str(c["label"]) for c in message.all_components() if c.get("style") == 5]


async def test_stems_are_labelled_by_what_they_are(stack: SandboxStack) -> None:
    """All stems are listed as Vocals, Drums, Bass and Other, not as takes."""
    _, track_id = await a_song(stack)
    await stack.discord.slash("stems", user="alice", track=str(track_id), kind="all-stems")
    text = embed_text(await finished_result(stack, "alice", "stems"))
    assert all(f"**{name}**" in text for name in ("Vocals", "Drums", "Bass", "Other"))
    assert "Take" not in text


async def test_a_generated_loop_labels_the_original_and_the_loop(stack: SandboxStack) -> None:
    """/loop generate shows an Original and a Loop, and history tells them apart."""
    await stack.discord.slash("loop generate", user="alice", prompt="drums", duration=15, count=2)
    text = embed_text(await finished_result(stack, "alice", "loop"))
    tracks = await stored_tracks(stack).user_history(int(stack.discord.user("alice").id))
    assert "**Original**" in text and "**Loop**" in text
    assert len({track.song_name for track in tracks}) == 2


async def test_the_second_take_has_its_own_actions(stack: SandboxStack) -> None:
    """Loop chosen in take 2's menu loops take 2, whose track becomes the loop's parent."""
    result, first = await a_song(stack)
    second = first + 1
    menu = next(
        c
        for c in result.all_components()
        if c.get("type") == 3 and "Take 2" in str(c.get("placeholder"))
    )
    click = await stack.discord.select(result, str(menu["custom_id"]), ["loop"], user="alice")
    await click.wait_for_ack()
    await stack.discord.submit_modal(click, {"count": "2"})
    await finished_result(stack, "alice", "loop")
    lineage = await stack.bot.services.library.lineage(second)
    assert lineage is not None and len(lineage.children) == 1


async def test_an_upload_is_named_as_what_a_result_was_made_from(stack: SandboxStack) -> None:
    """A loop of an upload says it was made from that file."""
    await stack.discord.slash("loop audio", user="alice", audio=mp3_upload(stack), count=3)
    text = embed_text(await finished_result(stack, "alice", "loop"))
    assert "Made from `mine.mp3` (an upload)" in text


async def test_server_history_says_who_made_each_track(stack: SandboxStack) -> None:
    """`/history server: True` names the member who made each track."""
    await a_song(stack)
    alice = stack.discord.user("alice").id
    interaction = await stack.discord.slash("history", user="bob", server=True)
    listing = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and bool(m.embeds)
    )
    assert f"by <@{alice}>" in embed_text(listing)


async def test_a_re_encoded_stem_links_its_lossless_original(make_stack: StackFactory) -> None:
    """A WAV stem too large to attach as is arrives re-encoded, with a link to the WAV."""
    stack = await make_stack()
    _, track_id = await a_song(stack)
    stack.discord.rules.attachment_limits = dict.fromkeys(range(4), 300_000)
    await stack.discord.slash("stems", user="alice", track=str(track_id), kind="vocals")
    result = await finished_result(stack, "alice", "stems")
    assert audio_files(result)
    assert "(the WAV original is linked below)" in embed_text(result)
    assert "Vocals (WAV original)" in link_labels(result)


async def test_take_menus_leave_out_what_acts_on_the_whole_result(stack: SandboxStack) -> None:
    """Take 2's menu offers what applies to one take; Delete stays a button for the result."""
    result, _ = await a_song(stack)
    menu = next(c for c in result.all_components() if "Take 2" in str(c.get("placeholder")))
    assert [option["value"] for option in menu["options"]] == [
        "extend",
        "loop",
        "variation",
        "lyrics",
        "play",
        "contest",
    ]


async def test_a_result_shows_the_ids_track_options_take(stack: SandboxStack) -> None:
    """Each file of a song shows its track's #id, and the footer names them all."""
    result, first = await a_song(stack)
    text = embed_text(result)
    assert f"**Take 1** #{first}" in text and f"**Take 2** #{first + 1}" in text
    assert result.embeds[0]["footer"]["text"] == f"Tracks #{first} #{first + 1}"


async def test_a_track_option_takes_the_id_a_card_shows(stack: SandboxStack) -> None:
    """`/stems track: #35`, typed as the card shows it, separates that take."""
    _, first = await a_song(stack)
    await stack.discord.slash("stems", user="alice", track=f"#{first + 1}", kind="vocals")
    await finished_result(stack, "alice", "stems")
    lineage = await stack.bot.services.library.lineage(first + 1)
    assert lineage is not None and len(lineage.children) == 1
