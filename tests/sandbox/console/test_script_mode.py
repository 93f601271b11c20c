"""`python -m sandbox --script`: the whole stack run from a file of console lines, as CI runs it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.sandbox.console.conftest import RunSandbox

SCRIPTS = Path(__file__).resolve().parents[3] / "sandbox" / "scripts"
SMOKE = SCRIPTS / "smoke.txt"
TOUR = SCRIPTS / "tour.txt"
ASSISTANTS = SCRIPTS / "assistants.txt"
CONTEST = SCRIPTS / "contest.txt"
SCALE = SCRIPTS / "scale.txt"


def test_a_script_with_about_and_a_song_passes_and_saves_the_mp3(
    run_sandbox: RunSandbox, tmp_path: Path
) -> None:
    """Every step passes (exit 0), each is echoed, and the song's .mp3 is saved."""
    result = run_sandbox(
        "/about\nexpect Soundverse for Discord\n"
        "/song prompt: lofi rain duration: 5\nexpect-attachment .mp3\n"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "> /song prompt: lofi rain duration: 5" in result.stdout
    saved = list((tmp_path / "out" / "attachments").glob("*/*.mp3"))
    assert saved
    assert saved[0].stat().st_size > 0


def test_a_failing_expect_exits_1_quickly_with_the_line_that_failed(
    run_sandbox: RunSandbox,
) -> None:
    """An expectation nothing meets fails its line after `--timeout`, and later lines never run."""
    started = time.monotonic()
    result = run_sandbox("/about\nexpect no such text anywhere\n/quota\n", "--timeout", "0.5")
    assert result.returncode == 1
    assert "line 2 failed" in result.stdout
    assert "'no such text anywhere'" in result.stdout
    assert "> /quota" not in result.stdout
    assert time.monotonic() - started < 20


def test_an_unknown_command_fails_the_script_with_the_list_of_commands(
    run_sandbox: RunSandbox,
) -> None:
    """A typo in a script is a failed step that names the commands the bot registered."""
    result = run_sandbox("/sogn prompt: x\n")
    assert result.returncode == 1
    assert "unknown command /sogn; commands: /about" in result.stdout


def test_the_smoke_script_passes(run_sandbox: RunSandbox) -> None:
    """`sandbox/scripts/smoke.txt` (about, song, quota, history) passes from start to end."""
    result = run_sandbox(SMOKE.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ all steps passed" in result.stdout


def test_the_scale_script_survives_a_killed_worker_with_two_shards(
    run_sandbox: RunSandbox, postgres_server: object, tmp_path: Path
) -> None:
    """`sandbox/scripts/scale.txt` with `--postgres --shards 2 --workers 2`: the worker holding
    the song is killed, and the song is still delivered once and charged once."""
    result = run_sandbox(
        SCALE.read_text(encoding="utf-8"),
        *("--postgres", "--shards", "2", "--workers", "2", "--time-scale", "0.3"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database:            postgresql://postgres@127.0.0.1:" in result.stdout
    assert "shards:              2 bot processes, one shard each" in result.stdout
    assert re.search(r"✓ killed worker [12] \(pid \d+\), which held job 1", result.stdout)
    posted = {path.parent for path in (tmp_path / "out" / "attachments").glob("*/*.mp3")}
    assert len(posted) == 1


def test_shards_without_workers_are_refused_with_an_example(run_sandbox: RunSandbox) -> None:
    """`--shards 2` alone exits 2 at once, saying to add --workers."""
    result = run_sandbox("/about\n", "--shards", "2")
    assert result.returncode == 2
    assert "--shards needs --workers" in result.stderr
    assert "--shards 2 --workers 2" in result.stderr


def test_the_tour_script_makes_extends_splits_and_loops(run_sandbox: RunSandbox) -> None:
    """`sandbox/scripts/tour.txt` makes a song, extends it, splits stems and loops it."""
    result = run_sandbox(TOUR.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("✓ no job queued or running") == 4


def test_the_tour_script_plays_the_loop_in_voice_and_saves_what_was_heard(
    run_sandbox: RunSandbox, tmp_path: Path
) -> None:
    """The tour's voice part hears 2 s of the loop in Lounge and saves it as Lounge-1.wav."""
    result = run_sandbox(TOUR.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ heard 2.0 s of audio" in result.stdout
    assert (tmp_path / "out" / "voice" / "Lounge-1.wav").stat().st_size > 0


def test_the_tour_script_asks_by_voice_message_and_is_answered_aloud_and_in_kind(
    run_sandbox: RunSandbox, tmp_path: Path
) -> None:
    """The tour's spoken question: the answer is heard in Lounge and saved as an .ogg."""
    result = run_sandbox(TOUR.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("✓ heard 2.0 s of audio") == 2
    assert list((tmp_path / "out" / "attachments").glob("*/voice-message.ogg"))


def test_the_assistants_script_makes_the_song_and_answers_the_spoken_question(
    run_sandbox: RunSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With live listening on, `assistants.txt` turns an /ask answer into a song and has
    alice's spoken question answered aloud in Lounge and as a voice message."""
    monkeypatch.setenv("VOICE_LIVE_LISTENING", "true")
    result = run_sandbox(ASSISTANTS.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "your song is ready" in result.stdout and "✓ heard 2.0 s of audio" in result.stdout
    assert list((tmp_path / "out" / "attachments").glob("*/voice-message.ogg"))


def test_the_contest_script_runs_a_contest_from_song_to_winner(run_sandbox: RunSandbox) -> None:
    """`sandbox/scripts/contest.txt` creates a contest, enters three remixes, refuses each
    member's vote for their own entry, and the results card names one winner."""
    result = run_sandbox(CONTEST.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ all steps passed" in result.stdout
    assert result.stdout.count("Entered track #") == 3
    assert result.stdout.count("you cannot vote for your own entry.") == 3
    assert "(2d ahead of real time)" in result.stdout
    assert re.search(r"Winner: @(alice|bob|carol) wins!", result.stdout)


def test_a_second_run_leaves_only_its_own_files(run_sandbox: RunSandbox, tmp_path: Path) -> None:
    """After two runs that each make a song, the attachments folder holds the second run's only."""
    song = "/song prompt: lofi rain duration: 5\n"
    assert run_sandbox(song, "--quiet").returncode == 0
    second = run_sandbox(song, "--quiet")
    saved = {line.removeprefix("saved ") for line in second.stdout.splitlines()}
    files = (tmp_path / "out" / "attachments").rglob("*")
    on_disk = {str(path) for path in files if path.is_file()}
    assert on_disk and on_disk <= saved


def test_each_run_rewrites_the_log(run_sandbox: RunSandbox, tmp_path: Path) -> None:
    """What an earlier run wrote to sandbox.log is gone once the next run starts."""
    log = tmp_path / "out" / "sandbox.log"
    log.parent.mkdir(parents=True)
    log.write_text("written by an earlier run\n", encoding="utf-8")
    assert run_sandbox("/about\n").returncode == 0
    assert "written by an earlier run" not in log.read_text(encoding="utf-8")
