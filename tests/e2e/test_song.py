"""`/song` and `/music` end to end: job card, delivery, quota, faults, restarts."""

from __future__ import annotations

from bot.config import Settings, WorkerMode
from sandbox.stack import SandboxStack
from tests.e2e.conftest import (
    BOTH_BACKENDS,
    BOTH_MODES,
    StackFactory,
    card_shows,
    decoded_duration,
    embed_text,
    in_mode,
    member_usage,
    result_for,
    stored_tracks,
)

SONG_PATH = "/v5/generate/song"


def watchable(settings: Settings) -> None:
    """Edit the card often, so a test can see each stage of a slower generation."""
    settings.jobs.progress_interval = 0.05


@BOTH_BACKENDS
async def test_song_is_deferred_then_progresses_then_delivered(stack: SandboxStack) -> None:
    """`/song` defers, edits its card at least twice, and posts two decodable 20 s takes."""
    alice = stack.discord.user("alice")
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=20)
    assert await interaction.wait_for_ack() == 5
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=20)
    audio = [a for a in result.attachments if a.filename.endswith(".mp3")]
    assert len(audio) == 2
    assert all(abs(decoded_duration(a.data) - 20) < 0.3 for a in audio)
    card = await card_shows(stack, interaction, "Done")
    assert len(card.edits) >= 2


async def test_result_mentions_only_the_requester(stack: SandboxStack) -> None:
    """The result pings the requester and nobody else, even with mentions in the prompt."""
    alice = stack.discord.user("alice")
    bob = stack.discord.user("bob")
    await stack.discord.slash("song", user="alice", prompt=f"a song for <@{bob.id}> and @everyone")
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=20)
    assert result.allowed_mentions is not None
    assert result.allowed_mentions.get("users") in ([alice.id], [int(alice.id)])
    assert not result.allowed_mentions.get("parse")
    assert [user.id for user in result.mentions] == [alice.id]
    assert not result.mention_everyone


@BOTH_BACKENDS
async def test_song_records_tracks_and_commits_quota(stack: SandboxStack) -> None:
    """A delivered song leaves one track per take, linked to its message, and 2 units used."""
    alice = stack.discord.user("alice")
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=20)
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=20)
    await stack.bot.services.jobs.wait_until_idle()
    tracks = await stored_tracks(stack).user_history(int(alice.id))
    assert len(tracks) == 2
    assert {t.take_index for t in tracks} == {1, 2}
    assert all(t.message_id == int(result.id) for t in tracks)
    assert all(t.prompt == "lofi rain" and t.audio_file is not None for t in tracks)
    assert await member_usage(stack, "alice") == 2


async def test_music_delivers_one_take(stack: SandboxStack) -> None:
    """`/music` posts one instrumental take and costs one unit."""
    alice = stack.discord.user("alice")
    await stack.discord.slash("music", user="alice", prompt="jazz trio", style="jazz")
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=20)
    assert [a.filename.endswith(".mp3") for a in result.attachments].count(True) == 1
    assert "instrumental" in result.content
    await stack.bot.services.jobs.wait_until_idle()
    assert await member_usage(stack, "alice") == 1


def one_unit(settings: Settings) -> None:
    settings.quota.units_per_period = 1
    settings.quota.member_cap = 1


@BOTH_MODES
async def test_exhausted_quota_is_refused_privately_and_nothing_is_sent(
    make_stack: StackFactory, mode: WorkerMode
) -> None:
    """With too few units the member gets an ephemeral refusal with the reset time; no POST."""
    stack = await make_stack(tweak=in_mode(mode, one_unit))
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    refusal = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and m.ephemeral and "quota" in embed_text(m)
    )
    assert "<t:" in embed_text(refusal) and ":R>" in embed_text(refusal)
    assert sum(stack.soundverse.counters.posts.values()) == 0


async def test_invalid_input_is_refused_before_anything_else(stack: SandboxStack) -> None:
    """A v6 song with a duration is refused ephemerally, naming the field; nothing reserved."""
    interaction = await stack.discord.slash(
        "song", user="alice", prompt="lofi", duration=20, version="v6"
    )
    assert await interaction.wait_for_ack() == 4
    text = embed_text(
        await stack.discord.wait_for_message(lambda m: m.interaction_id == interaction.id)
    )
    assert "only song v5 takes a duration" in text
    assert await member_usage(stack, "alice") == 0


async def test_moderation_refusal_is_explained_and_refunded(stack: SandboxStack) -> None:
    """A prompt Soundverse refuses ends the card with its reason, and the units come back."""
    interaction = await stack.discord.slash("song", user="alice", prompt="something nsfw")
    card = await card_shows(stack, interaction, "refunded")
    assert "NSFW" in embed_text(card)
    assert await member_usage(stack, "alice") == 0


async def test_upstream_failure_is_explained_and_refunded(stack: SandboxStack) -> None:
    """A 500 from Soundverse on the generation ends the card with a message and a refund."""
    stack.soundverse.inject("status:500", path=SONG_PATH)
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    card = await card_shows(stack, interaction, "❌")
    assert "Generation failed. Its 2 units were refunded." in embed_text(card)
    assert await member_usage(stack, "alice") == 0


async def test_dropped_stream_is_recovered_with_one_post(stack: SandboxStack) -> None:
    """A stream cut after three events still delivers, through status, with a single POST."""
    stack.soundverse.inject("drop:3", path=SONG_PATH)
    alice = stack.discord.user("alice")
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=20)
    await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    assert stack.soundverse.counters.posts[SONG_PATH] == 1


async def test_too_large_audio_is_transcoded_to_fit(make_stack: StackFactory) -> None:
    """Takes over the upload limit arrive re-encoded at a lower bitrate, under the limit."""
    stack = await make_stack()
    stack.discord.rules.attachment_limits = dict.fromkeys(range(4), 300_000)
    alice = stack.discord.user("alice")
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=20)
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    audio = [a for a in result.attachments if a.filename.endswith(".mp3")]
    assert len(audio) == 2
    assert all(a.size <= 300_000 for a in audio)
    assert all(abs(decoded_duration(a.data) - 20) < 0.5 for a in audio)
    assert "re-encoded" in embed_text(result)


async def test_audio_that_cannot_fit_is_linked(make_stack: StackFactory) -> None:
    """When even the lowest bitrate is too large, the result links to the audio instead."""
    stack = await make_stack()
    stack.discord.rules.attachment_limits = dict.fromkeys(range(4), 60_000)
    alice = stack.discord.user("alice")
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=20)
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    assert not [a for a in result.attachments if a.filename.endswith(".mp3")]
    links = [c for c in result.all_components() if c.get("style") == 5]
    assert len(links) == 2
    assert all(str(link["url"]).startswith(stack.soundverse.url) for link in links)


async def test_card_moves_to_channel_message_when_token_expires(make_stack: StackFactory) -> None:
    """After the token dies (401, 50027) the card and the result go out with the bot token."""
    stack = await make_stack(time_scale=0.1, tweak=watchable)
    alice = stack.discord.user("alice")
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    await card_shows(stack, interaction, "Composing")
    stack.discord.clock.advance(16 * 60)
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    assert result.webhook_id is None
    moved_card = await stack.discord.wait_for_message(
        lambda m: m.webhook_id is None and m.id != result.id and "Done" in embed_text(m)
    )
    assert moved_card.edits, "the re-posted card was not kept up to date"
    assert any(
        r.status == 401 for r in stack.discord.requests if r.path.startswith("/api/v10/webhooks")
    )


async def test_rate_limits_never_lose_the_result(stack: SandboxStack) -> None:
    """Three 429s in a row on webhook posts are waited out and the result still arrives."""
    alice = stack.discord.user("alice")
    stack.discord.rate_limit_next(3, method="POST", path_prefix="/webhooks")
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=20)
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    assert result.attachments


@BOTH_BACKENDS
@BOTH_MODES
async def test_restart_mid_job_delivers_once_with_one_post(
    make_stack: StackFactory, mode: WorkerMode
) -> None:
    """A bot stopped after submitting resumes through status and delivers exactly once."""
    stack = await make_stack(time_scale=0.1, tweak=in_mode(mode, watchable))
    alice = stack.discord.user("alice")
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    await card_shows(stack, interaction, "Composing")
    await stack.stop_bot()
    await stack.start_bot()
    await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    await stack.bot.services.jobs.wait_until_idle()
    results = [m for m in stack.discord.messages if result_for(alice.id)(m)]
    assert len(results) == 1
    assert stack.soundverse.counters.posts[SONG_PATH] == 1


def one_slot(settings: Settings) -> None:
    """One job at a time per guild, and frequent card edits."""
    settings.jobs.guild_concurrency = 1
    settings.jobs.progress_interval = 0.05


@BOTH_MODES
async def test_cancel_while_queued_refunds_and_never_starts(
    make_stack: StackFactory, mode: WorkerMode
) -> None:
    """A queued job cancelled by its requester never reaches Soundverse and is refunded."""
    stack = await make_stack(time_scale=0.5, tweak=in_mode(mode, one_slot))
    first = await stack.discord.slash("song", user="alice", prompt="first")
    await card_shows(stack, first, "Composing")
    second = await stack.discord.slash("song", user="bob", prompt="second")
    queued_card = await card_shows(stack, second, "Queued: next in line")
    await stack.discord.click(queued_card, "Cancel", user="bob")
    bob = stack.discord.user("bob").id
    await card_shows(stack, second, f"Cancelled by <@{bob}>. Its 2 units were refunded.")
    assert stack.soundverse.counters.posts[SONG_PATH] == 1
    assert await member_usage(stack, "bob") == 0


@BOTH_MODES
async def test_cancel_while_running_stops_following(
    make_stack: StackFactory, mode: WorkerMode
) -> None:
    """A running job cancelled after billing ends its card saying its units were used."""
    stack = await make_stack(time_scale=0.5, tweak=in_mode(mode, one_slot))
    interaction = await stack.discord.slash("song", user="alice", prompt="long one")
    card = await card_shows(stack, interaction, "Composing")
    await stack.discord.click(card, "Cancel", user="alice")
    alice = stack.discord.user("alice").id
    await card_shows(
        stack,
        interaction,
        f"Cancelled by <@{alice}>. Its 2 units were used: Soundverse had already started it.",
    )
    await stack.bot.services.jobs.wait_until_idle()
    assert await member_usage(stack, "alice") == 2


async def test_a_manager_cancelling_is_named_on_the_card_and_in_the_ledger(
    make_stack: StackFactory,
) -> None:
    """Bob's running job cancelled by alice (Manage Server) names her on the card and in
    the ledger's commit, and says the units were used."""
    stack = await make_stack(time_scale=0.5, tweak=one_slot)
    interaction = await stack.discord.slash("song", user="bob", prompt="mine")
    card = await card_shows(stack, interaction, "Composing")
    await stack.discord.click(card, "Cancel", user="alice")
    alice = stack.discord.user("alice").id
    await card_shows(stack, interaction, f"Cancelled by <@{alice}>. Its 2 units were used")
    await stack.bot.services.jobs.wait_until_idle()
    async with stack.bot.database.snapshot() as transaction:
        commit = await transaction.fetch_one(
            "SELECT actor_id FROM quota_ledger WHERE event = 'commit'"
        )
    assert commit is not None and commit["actor_id"] == int(alice)


async def test_a_delivered_card_says_what_it_used(stack: SandboxStack) -> None:
    """The done card says how many units the song used."""
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    assert "It used 2 units." in embed_text(await card_shows(stack, interaction, "Done"))


async def test_only_requester_or_manager_can_cancel(make_stack: StackFactory) -> None:
    """Another plain member pressing Cancel is told no, privately, and the job goes on."""
    stack = await make_stack(time_scale=0.5, tweak=one_slot)
    interaction = await stack.discord.slash("song", user="bob", prompt="mine")
    card = await card_shows(stack, interaction, "Composing")
    click = await stack.discord.click(card, "Cancel", user="carol")
    refusal = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == click.id and m.ephemeral
    )
    assert "Only the member who started this job" in embed_text(refusal)
    assert "Cancelled" not in embed_text(await card_shows(stack, interaction, "Composing"))


async def test_deleted_card_does_not_lose_the_job(make_stack: StackFactory) -> None:
    """If a moderator deletes the job card, the card comes back as a channel message."""
    stack = await make_stack(time_scale=0.1, tweak=watchable)
    alice = stack.discord.user("alice")
    interaction = await stack.discord.slash("song", user="alice", prompt="lofi rain")
    card = await card_shows(stack, interaction, "Composing")
    card.deleted = True
    result = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    assert result.attachments
    await stack.discord.wait_for_message(
        lambda m: m.webhook_id is None and m.id != result.id and "Done" in embed_text(m)
    )
