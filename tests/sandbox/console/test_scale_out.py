"""`--shards` and `--workers` in the sandbox: every process shares the bot's data."""

from __future__ import annotations

from pathlib import Path

from sandbox.console.session import ScaleOut, SessionOptions
from sandbox.stack import SandboxStack


async def test_a_song_in_the_other_shards_server_is_run_by_the_shared_worker(
    tmp_path: Path,
) -> None:
    """With 2 shards and 1 worker on SQLite, /song in the other bot's server is stored in the
    bot's database file and delivered by the worker."""
    scale = ScaleOut(SessionOptions(output=tmp_path, workers=1, shards=2), None, tmp_path / "w")
    stack = SandboxStack(tmp_path / "data", time_scale=0.01, **scale.stack_options())
    await stack.start()
    try:
        await scale.start(stack)
        elsewhere = next(
            g for g in stack.discord.world.guilds.values() if g.name.startswith("Shard")
        )
        await stack.discord.slash(
            "song",
            user="alice",
            channel=stack.discord.channel("general", elsewhere),
            prompt="rain",
            duration=5,
        )
        mention = f"<@{stack.discord.user('alice').id}>"
        await stack.discord.wait_for_message(lambda m: mention in m.content, timeout=30)
    finally:
        await scale.stop()
        await stack.stop()
    assert "Job 1 delivered" in (tmp_path / "w" / "worker-1.log").read_text()
