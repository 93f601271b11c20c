"""Settings: environment names, validation messages, secrets, and `.env.example`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    SettingsError,
    WorkerMode,
    load_settings,
    render_env_example,
    setting_names,
    settings_environment,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run each test in an empty directory (no .env) with no bot variables set."""
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.split("_", 1)[0] in {
            "DISCORD",
            "SOUNDVERSE",
            "ENDPOINTS",
            "STORAGE",
            "QUOTA",
            "JOBS",
            "AUDIO",
            "VOICE",
            "LOG",
        }:
            monkeypatch.delenv(name)


def test_defaults_load_without_any_setting() -> None:
    """With nothing configured the settings load, with no tokens."""
    settings = load_settings()
    assert settings.discord.token is None
    assert settings.soundverse.api_key is None


def test_group_and_field_join_with_one_underscore(monkeypatch: pytest.MonkeyPatch) -> None:
    """DISCORD_TOKEN, SOUNDVERSE_API_KEY and ENDPOINTS_SONG_V5 reach their nested fields."""
    monkeypatch.setenv("DISCORD_TOKEN", "t0k3n")
    monkeypatch.setenv("SOUNDVERSE_API_KEY", "k3y")
    monkeypatch.setenv("ENDPOINTS_SONG_V5", "/v9/song")
    settings = load_settings()
    assert settings.discord.token is not None
    assert settings.discord.token.get_secret_value() == "t0k3n"
    assert settings.soundverse.api_key is not None
    assert settings.soundverse.api_key.get_secret_value() == "k3y"
    assert settings.endpoints.song_v5 == "/v9/song"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    """A `.env` file in the working directory is read."""
    (tmp_path / ".env").write_text("QUOTA_UNITS_PER_PERIOD=42\n")
    assert load_settings().quota.units_per_period == 42


def test_empty_values_mean_default(tmp_path: Path) -> None:
    """A copied `.env.example` with empty values loads: empty means the default."""
    (tmp_path / ".env").write_text(render_env_example())
    settings = load_settings()
    assert settings.discord.dev_guild_id is None
    assert settings.discord.token is None


def test_each_problem_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two bad settings give two lines, each starting with the variable's name."""
    monkeypatch.setenv("QUOTA_UNITS_PER_PERIOD", "lots")
    monkeypatch.setenv("JOBS_GUILD_CONCURRENCY", "0")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    problems = caught.value.problems
    assert len(problems) == 2
    assert problems[0].startswith("QUOTA_UNITS_PER_PERIOD: ")
    assert problems[1] == "JOBS_GUILD_CONCURRENCY: Input should be greater than or equal to 1"


def test_endpoint_paths_must_be_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    """An endpoint path without a leading slash is refused with its variable named."""
    monkeypatch.setenv("ENDPOINTS_CHAT", "assistant/chat")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems == ["ENDPOINTS_CHAT: must start with '/'"]


def test_member_cap_above_guild_units_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A member cap larger than the guild's units per period is a settings error."""
    monkeypatch.setenv("QUOTA_UNITS_PER_PERIOD", "5")
    monkeypatch.setenv("QUOTA_MEMBER_CAP", "6")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "QUOTA_MEMBER_CAP must not exceed QUOTA_UNITS_PER_PERIOD" in caught.value.problems[0]


def test_secret_is_masked_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token never appears in the settings' repr."""
    monkeypatch.setenv("DISCORD_TOKEN", "very-secret-token")
    assert "very-secret-token" not in repr(load_settings())


def test_negative_cost_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A negative operation cost is refused and named."""
    monkeypatch.setenv("QUOTA_COSTS", '{"song": -1}')
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems == ["QUOTA_COSTS: costs must not be negative: song"]


def test_env_example_is_current() -> None:
    """`.env.example` lists exactly what `render_env_example` renders from the settings."""
    assert (REPO / ".env.example").read_text() == render_env_example()


def test_fallback_bitrates_must_be_mp3_bitrates(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bitrate MP3 cannot carry is refused at startup, not at delivery time."""
    monkeypatch.setenv("AUDIO_FALLBACK_BITRATES_KBPS", "[192, 100]")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems[0].startswith("AUDIO_FALLBACK_BITRATES_KBPS: 100 kbps")


def test_reservation_must_outlive_the_job_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reservation that could lapse before its job ends is a settings error."""
    monkeypatch.setenv("QUOTA_RESERVATION_TTL", "600")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert (
        "QUOTA_RESERVATION_TTL must be longer than SOUNDVERSE_JOB_DEADLINE"
        in (caught.value.problems[0])
    )


def test_settings_environment_rebuilds_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings passed to a child as environment variables load back equal, secrets included."""
    settings = load_settings(
        {"discord": {"token": "t0k3n", "dev_guild_id": 42}, "jobs": {"worker": "inline"}},
        _env_file=None,
    )
    settings.quota.costs["song"] = 7
    environment = settings_environment(settings)
    assert set(environment) <= setting_names()
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    rebuilt = load_settings(_env_file=None)
    assert rebuilt == settings
    assert rebuilt.discord.token is not None and rebuilt.discord.token.get_secret_value() == "t0k3n"
    assert rebuilt.jobs.worker is WorkerMode.INLINE


def test_a_list_may_be_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list setting written as comma-separated values reads like its JSON form."""
    monkeypatch.setenv("AUDIO_FALLBACK_BITRATES_KBPS", "128, 64")
    monkeypatch.setenv("SOUNDVERSE_DOWNLOAD_HOSTS", "a.example,b.example")
    settings = load_settings()
    assert settings.audio.fallback_bitrates_kbps == [128, 64]
    assert settings.soundverse.download_hosts == ["a.example", "b.example"]


def test_costs_left_out_keep_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """QUOTA_COSTS naming one operation changes that one; lyrics stay free."""
    monkeypatch.setenv("QUOTA_COSTS", '{"song": 5}')
    costs = load_settings().quota
    assert (costs.cost_of("song"), costs.cost_of("lyrics"), costs.cost_of("music")) == (5, 0, 1)


def test_costs_that_are_not_a_json_object_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """QUOTA_COSTS written as `song:2` is refused in one line that shows the form to use."""
    monkeypatch.setenv("QUOTA_COSTS", "song:2")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert refused.value.problems == [
        'QUOTA_COSTS: must be a JSON object, e.g. {"song":2,"music":1}'
    ]


def shard_problems(monkeypatch: pytest.MonkeyPatch, count: str | None, ids: str) -> list[str]:
    """The problems of DISCORD_SHARD_COUNT=`count` (unset: None) with DISCORD_SHARD_IDS=`ids`."""
    if count is not None:
        monkeypatch.setenv("DISCORD_SHARD_COUNT", count)
    monkeypatch.setenv("DISCORD_SHARD_IDS", ids)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    return refused.value.problems


def test_shards_default_to_all_of_what_discord_recommends() -> None:
    """Without shard settings the count is Discord's to recommend and this process runs all."""
    settings = load_settings()
    assert (settings.discord.shard_count, settings.discord.shard_ids) == (None, None)


def test_shard_ids_may_be_listed_or_ranged(monkeypatch: pytest.MonkeyPatch) -> None:
    """DISCORD_SHARD_IDS reads `0,1`, a range `4-6`, both together, or a JSON array."""
    monkeypatch.setenv("JOBS_WORKER", "shared")
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "8")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "0,1, 4-6")
    assert load_settings().discord.shard_ids == [0, 1, 4, 5, 6]
    monkeypatch.setenv("DISCORD_SHARD_IDS", "[7, 3]")
    assert load_settings().discord.shard_ids == [7, 3]


def test_shard_ids_need_the_shard_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids without DISCORD_SHARD_COUNT are refused, saying what is missing."""
    assert shard_problems(monkeypatch, None, "0,1") == [
        "DISCORD_SHARD_IDS: needs DISCORD_SHARD_COUNT, the number of shards in all processes"
    ]


def test_shard_ids_out_of_range_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """An id at or above the count (here in a range) is named with the ids the count allows."""
    assert shard_problems(monkeypatch, "2", "1-2") == [
        "DISCORD_SHARD_IDS: shard 2 is out of range: DISCORD_SHARD_COUNT=2 has shards 0 to 1"
    ]


def test_duplicate_shard_ids_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """An id listed twice (on its own and in a range) is named."""
    assert shard_problems(monkeypatch, "4", "0-2,1") == ["DISCORD_SHARD_IDS: shard 1 listed twice"]


@pytest.mark.parametrize(
    ("ids", "problem"),
    [
        ("a", "'a' is not a shard id (0 or more) or a range such as 0-3"),
        ("-1", "'-1' is not a shard id (0 or more) or a range such as 0-3"),
        ("3-1", "the range '3-1' ends before it starts (write 1-3)"),
        ("[]", "lists no shard; leave it unset to run every shard"),
    ],
)
def test_malformed_shard_ids_are_one_precise_line(
    monkeypatch: pytest.MonkeyPatch, ids: str, problem: str
) -> None:
    """Words, negative ids, backward ranges and an empty list are each refused saying why."""
    assert shard_problems(monkeypatch, "4", ids) == [f"DISCORD_SHARD_IDS: {problem}"]


def test_a_bad_shard_count_is_the_only_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shard count below 1 is refused; the ids that depend on it add no second line."""
    assert shard_problems(monkeypatch, "0", "0") == [
        "DISCORD_SHARD_COUNT: Input should be greater than or equal to 1"
    ]


def test_shard_settings_reach_the_worker_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shard count and ids survive the trip through the worker's environment."""
    settings = load_settings(
        {"discord": {"shard_count": 4, "shard_ids": "2-3"}, "jobs": {"worker": "shared"}},
        _env_file=None,
    )
    for name, value in settings_environment(settings).items():
        monkeypatch.setenv(name, value)
    rebuilt = load_settings(_env_file=None)
    assert (rebuilt.discord.shard_count, rebuilt.discord.shard_ids) == (4, [2, 3])


def test_storage_defaults_to_the_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without STORAGE_URL the bot opens the STORAGE_PATH file."""
    monkeypatch.setenv("STORAGE_PATH", "here/bot.db")
    storage = load_settings().storage
    assert (storage.target, storage.on_postgres) == (Path("here/bot.db"), False)


def test_a_sqlite_url_names_the_file_and_the_local_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """STORAGE_URL=sqlite:///x/bot.db opens x/bot.db and keeps local files beside it."""
    monkeypatch.setenv("STORAGE_URL", "sqlite:///x/bot.db")
    storage = load_settings().storage
    assert (storage.target, storage.local_dir) == (Path("x/bot.db"), Path("x"))


def test_a_postgres_url_is_taken_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """STORAGE_URL=postgresql://… is opened as given; local files stay in STORAGE_PATH's folder."""
    monkeypatch.setenv("STORAGE_URL", "postgresql://bot:secret@db:5432/bot")
    storage = load_settings().storage
    assert (storage.target, storage.on_postgres) == ("postgresql://bot:secret@db:5432/bot", True)
    assert storage.local_dir == Path("data")


def test_an_unknown_storage_scheme_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A STORAGE_URL of another kind is refused with the two accepted forms."""
    monkeypatch.setenv("STORAGE_URL", "mysql://db/bot")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "STORAGE_URL" in str(raised.value)
    assert "postgresql://" in str(raised.value)


def test_part_of_the_gateway_needs_shared_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process running only some shards is refused unless jobs are shared between processes."""
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "2")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "1")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "JOBS_WORKER=shared" in str(raised.value)


def test_every_shard_in_one_process_keeps_its_own_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing every shard (one process for the whole gateway) needs no shared jobs."""
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "2")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "0-1")
    assert load_settings().jobs.worker is WorkerMode.PROCESS
