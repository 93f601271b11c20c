"""What a member reads when Soundverse misbehaves: the reason in a sentence, never its markup."""

from __future__ import annotations

from sandbox.stack import SandboxStack
from tests.e2e.conftest import card_shows, embed_text, member_usage

SONG_PATH = "/v5/generate/song"


async def test_a_proxy_error_page_reads_as_its_status(stack: SandboxStack) -> None:
    """An HTML 502 page in front of Soundverse shows as "502 Bad Gateway"; nothing was
    started, so the units are refunded."""
    stack.soundverse.inject("html:502", path=SONG_PATH)
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    text = embed_text(await card_shows(stack, call, "❌"))
    assert "Soundverse error 502 Bad Gateway" in text and "<" not in text
    assert "refunded" in text


async def test_a_job_that_made_no_audio_is_reported_failed(stack: SandboxStack) -> None:
    """A job Soundverse completed without audio fails with that reason instead of posting an
    empty result; Soundverse billed it, so its units stay charged."""
    stack.soundverse.inject("empty", path=SONG_PATH)
    call = await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    text = embed_text(await card_shows(stack, call, "❌"))
    await stack.bot.services.jobs.wait_until_idle()
    assert "finished the job without any audio" in text
    assert await member_usage(stack, "alice") == 2
