"""The heartbeat file and how `python -m bot health` judges it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.health import (
    Beat,
    HeartbeatWriter,
    ShardBeat,
    ShardState,
    WorkerState,
    judge,
    read_beat,
    write_beat,
)

NOW = 1_800_000_000.0


def beat(**changes: object) -> Beat:
    fields: dict[str, object] = {
        "at": NOW,
        "every": 30.0,
        "discord": True,
        "worker": WorkerState.READY,
        "since": NOW - 600,
        "stopped": False,
        "pid": 4242,
        "version": "1.0",
    }
    fields.update(changes)
    return Beat(**fields)  # type: ignore[arg-type]


def verdict_of(tmp_path: Path, written: Beat, now: float = NOW) -> tuple[bool, str]:
    path = tmp_path / "heartbeat.json"
    write_beat(path, written)
    verdict = judge(path, now)
    return verdict.healthy, verdict.line


def test_a_fresh_connected_heartbeat_is_healthy(tmp_path: Path) -> None:
    """Connected, worker ready and 10 s old: healthy."""
    healthy, line = verdict_of(tmp_path, beat(), now=NOW + 10)
    assert healthy and line == (
        "ok: connected to Discord, the worker is ready, heartbeat 10 s old (pid 4242)"
    )


def test_a_heartbeat_three_intervals_old_is_stale(tmp_path: Path) -> None:
    """A heartbeat older than three intervals says the bot is stuck or gone."""
    healthy, line = verdict_of(tmp_path, beat(), now=NOW + 91)
    assert not healthy and line.startswith("the last heartbeat is 91 s old")


def test_just_within_three_intervals_is_still_fresh(tmp_path: Path) -> None:
    """Exactly three intervals old still counts as fresh."""
    healthy, _ = verdict_of(tmp_path, beat(), now=NOW + 90)
    assert healthy


def test_disconnected_from_discord_is_unhealthy(tmp_path: Path) -> None:
    """Not connected to the gateway is unhealthy, with the time it went."""
    healthy, line = verdict_of(tmp_path, beat(discord=False, since=0.0))
    assert not healthy and line == "not connected to Discord since 1970-01-01 00:00:00 UTC"


def test_a_worker_down_is_unhealthy(tmp_path: Path) -> None:
    """A job worker that does not take jobs is unhealthy."""
    healthy, line = verdict_of(tmp_path, beat(worker=WorkerState.DOWN))
    assert not healthy and line.startswith("the job worker has not taken jobs since ")


def test_jobs_run_inline_are_healthy(tmp_path: Path) -> None:
    """With JOBS_WORKER=inline there is no worker to wait for."""
    healthy, line = verdict_of(tmp_path, beat(worker=WorkerState.INLINE))
    assert healthy and "jobs run in the bot" in line


def test_jobs_sent_to_shared_workers_are_healthy(tmp_path: Path) -> None:
    """With JOBS_WORKER=shared the bot has no worker of its own to wait for."""
    healthy, line = verdict_of(tmp_path, beat(worker=WorkerState.SHARED))
    assert healthy and "jobs go to the shared workers" in line


def test_a_stopped_bot_is_unhealthy(tmp_path: Path) -> None:
    """The last heartbeat of a stopped bot says when it stopped."""
    healthy, line = verdict_of(tmp_path, beat(stopped=True, at=0.0), now=1.0)
    assert not healthy and line == "the bot stopped at 1970-01-01 00:00:00 UTC"


def test_an_unreadable_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    """A heartbeat that is not the bot's JSON is reported, not a traceback."""
    path = tmp_path / "heartbeat.json"
    path.write_text('{"at": 1}')
    verdict = judge(path, NOW)
    assert not verdict.healthy and verdict.line.startswith(f"the heartbeat at {path} cannot be")


class States:
    """A bot whose state a test sets."""

    def __init__(self) -> None:
        self.discord = False
        self.worker = WorkerState.DOWN
        self.now = NOW

    def state(self) -> tuple[bool, WorkerState]:
        return self.discord, self.worker

    def clock(self) -> float:
        return self.now


async def test_since_keeps_the_time_the_state_last_changed(tmp_path: Path) -> None:
    """Beats in the same state keep the time of the change; a new state takes its own."""
    states = States()
    writer = HeartbeatWriter(
        tmp_path / "beat.json", 30, states.state, version="1", clock=states.clock
    )
    await writer.write(stopped=False)
    states.now += 30
    await writer.write(stopped=False)
    kept = read_beat(writer.path).since
    states.discord, states.worker, states.now = True, WorkerState.READY, NOW + 45
    await writer.write(stopped=False)
    assert (kept, read_beat(writer.path).since) == (NOW, NOW + 45)


async def test_each_change_of_state_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The log gets one Health line per change, not one per beat."""
    states = States()
    writer = HeartbeatWriter(
        tmp_path / "beat.json", 30, states.state, version="1", clock=states.clock
    )
    with caplog.at_level(logging.INFO, logger="bot.health"):
        await writer.write(stopped=False)
        await writer.write(stopped=False)
        states.discord, states.worker = True, WorkerState.READY
        await writer.write(stopped=False)
        await writer.write(stopped=True)
    assert [record.getMessage() for record in caplog.records] == [
        "Health: not connected to Discord",
        "Health: ok: connected to Discord and taking jobs",
        "Health: stopped",
    ]


async def test_a_failed_write_warns_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A heartbeat that cannot be written warns once until writing works again."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    states = States()
    writer = HeartbeatWriter(blocker / "beat.json", 30, states.state, version="1")
    with caplog.at_level(logging.WARNING, logger="bot.health"):
        await writer.write(stopped=False)
        await writer.write(stopped=False)
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("Cannot write the heartbeat to ")


async def test_stop_leaves_a_stopped_heartbeat(tmp_path: Path) -> None:
    """After start and stop, the file says the bot stopped."""
    states = States()
    writer = HeartbeatWriter(tmp_path / "beat.json", 30, states.state, version="1")
    writer.start()
    writer.poke()
    await writer.stop()
    assert read_beat(writer.path).stopped


async def test_a_change_that_reads_the_same_is_not_logged_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The worker getting ready while Discord is still down adds no second identical line."""
    states = States()
    writer = HeartbeatWriter(tmp_path / "beat.json", 30, states.state, version="1")
    with caplog.at_level(logging.INFO, logger="bot.health"):
        await writer.write(stopped=False)
        states.worker = WorkerState.READY
        await writer.write(stopped=False)
    assert [record.getMessage() for record in caplog.records] == [
        "Health: not connected to Discord"
    ]


def test_every_shard_connected_is_healthy_with_each_latency(tmp_path: Path) -> None:
    """With two shards connected, the ok line gives each shard's heartbeat latency."""
    shards = (ShardBeat(0, True, 41.2, NOW - 600), ShardBeat(1, True, None, NOW - 600))
    healthy, line = verdict_of(tmp_path, beat(shards=shards), now=NOW + 10)
    assert healthy and line == (
        "ok: connected to Discord, the worker is ready, heartbeat 10 s old (pid 4242); "
        "shards 0 (41 ms), 1 (–)"
    )


def test_one_shard_down_is_unhealthy_naming_it(tmp_path: Path) -> None:
    """A process whose shard 1 is down is unhealthy; the line names that shard and since
    when, and the shards the process runs."""
    shards = (ShardBeat(0, True, 41.0, NOW - 600), ShardBeat(1, False, None, 0.0))
    healthy, line = verdict_of(tmp_path, beat(discord=False, shards=shards))
    assert not healthy and line == (
        "not connected to Discord on shard 1 since 1970-01-01 00:00:00 UTC "
        "(this process runs shards 0, 1)"
    )


def test_a_heartbeat_without_shards_still_reads(tmp_path: Path) -> None:
    """A heartbeat written before shards were reported reads with no shards."""
    path = tmp_path / "heartbeat.json"
    write_beat(path, beat())
    text = path.read_text().replace(', "shards": []', "")
    path.write_text(text)
    assert "shards" not in text and read_beat(path).shards == ()


class ShardedStates(States):
    """A bot with two shards whose states a test sets."""

    def __init__(self) -> None:
        super().__init__()
        self.shards = [ShardState(0, True, 40.0), ShardState(1, True, 42.0)]

    def shard_states(self) -> list[ShardState]:
        return self.shards


async def test_a_shard_keeps_the_time_of_its_last_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Each shard's `since` moves only when that shard connects or disconnects (not with its
    latency), and a shard going down is logged once, by number."""
    states = ShardedStates()
    states.discord, states.worker = True, WorkerState.READY
    writer = HeartbeatWriter(
        tmp_path / "beat.json",
        30,
        states.state,
        version="1",
        clock=states.clock,
        shards=states.shard_states,
    )
    with caplog.at_level(logging.INFO, logger="bot.health"):
        await writer.write(stopped=False)
        states.now += 30
        states.shards = [ShardState(0, True, 55.0), ShardState(1, False, None)]
        states.discord = False
        await writer.write(stopped=False)
        states.now += 30
        await writer.write(stopped=False)
    written = read_beat(writer.path).shards
    assert written == (ShardBeat(0, True, 55.0, NOW), ShardBeat(1, False, None, NOW + 30))
    assert [record.getMessage() for record in caplog.records] == [
        "Health: ok: connected to Discord and taking jobs",
        "Health: not connected to Discord on shard 1",
    ]
