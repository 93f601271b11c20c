"""Tolerant decoding of `bot.soundverse.results`: both spellings, unknown fields kept."""

from __future__ import annotations

from bot.soundverse.results import (
    ChatReply,
    GenerationResult,
    GenLoopResult,
    JobState,
    JobStatus,
    LyricsResult,
    Stem,
    canonical_keys,
)

AUDIO = "https://storage.soundverse.ai/x-one/a/b/song.mp3"


def test_result_accepts_legacy_camel_case_reply() -> None:
    """A v4 reply (camelCase, string licence, two takes) decodes."""
    result = GenerationResult.model_validate(
        {
            "messageId": "68b7079d56bb5b8b8ff8f4fb",
            "albumArt": "https://x/art.webp",
            "aiReply": "Here you go",
            "audioData": [
                {"audioUrl": "https://x/1.mp3", "songName": "One", "licenses": "Sample"},
                {"audioUrl": "https://x/2.mp3", "songName": "Two", "licenses": "Sample"},
            ],
        }
    )
    assert result.message_id == "68b7079d56bb5b8b8ff8f4fb"
    assert [take.song_name for take in result.takes] == ["One", "Two"]
    assert result.takes[0].license == "Sample"
    assert result.ai_reply == "Here you go"


def test_result_accepts_nested_licence_and_single_audio_data_object() -> None:
    """`licenses` as an object and `audio_data` as one object both decode."""
    result = GenerationResult.model_validate(
        {
            "message_id": "m1",
            "audio_data": {
                "audio_url": "https://x/e.mp3",
                "song_name": "Extended",
                "licenses": {"licenses": "Royalty Free"},
            },
        }
    )
    assert result.takes[0].license == "Royalty Free"
    assert result.audio_url == "https://x/e.mp3"


def test_result_keeps_unknown_fields() -> None:
    """Fields the model does not know are kept, not refused."""
    result = GenerationResult.model_validate({"message_id": "m", "brand_new": 7})
    assert result.model_extra == {"brand_new": 7}


def test_result_with_only_a_top_level_audio_url_has_one_take() -> None:
    """A reply with `audio_url` but no `audio_data` yields one take."""
    result = GenerationResult.model_validate({"audio_url": "https://x/a.mp3", "song_name": "A"})
    assert [(t.audio_url, t.song_name) for t in result.takes] == [("https://x/a.mp3", "A")]


def test_stem_decodes_the_documented_names() -> None:
    """Stems decode from `{audioName, audioUrl}`."""
    stem = Stem.model_validate({"audioName": "vocals", "audioUrl": "https://x/v.wav"})
    assert (stem.name, stem.audio_url) == ("vocals", "https://x/v.wav")


def test_gen_loop_result_splits_generated_and_looped() -> None:
    """Gen-loop replies keep generated and looped takes apart."""
    result = GenLoopResult.model_validate(
        {
            "generatedAudio": [{"audioUrl": "https://x/g.wav"}],
            "loopedAudio": [{"audioUrl": "https://x/l.wav"}],
        }
    )
    assert result.generated[0].audio_url == "https://x/g.wav"
    assert result.looped[0].audio_url == "https://x/l.wav"


def test_chat_and_lyrics_replies_decode() -> None:
    """Chat's `aiReply` and lyrics' `{prompt, lyrics}` decode."""
    assert ChatReply.model_validate({"aiReply": "hi"}).text == "hi"
    assert LyricsResult.model_validate({"prompt": "p", "lyrics": "l"}).lyrics == "l"


def test_job_status_knows_terminal_and_failed_states() -> None:
    """`completed` and `failed` are terminal; only `failed` is a failure."""
    done = JobStatus.model_validate({"status": "completed", "message_id": "m"})
    failed = JobStatus.model_validate({"status": "failed", "error": "boom"})
    running = JobStatus.model_validate({"status": "streaming", "progress": 40})
    assert (done.is_terminal, done.is_failed) == (True, False)
    assert (failed.is_terminal, failed.is_failed) == (True, True)
    assert running.is_terminal is False


def test_canonical_keys_renames_camel_case_spellings() -> None:
    """camelCase spellings become the snake_case names used for merging."""
    assert canonical_keys({"messageId": "m", "albumArt": "a", "chunkIndex": 1}) == {
        "message_id": "m",
        "album_art": "a",
        "chunkIndex": 1,
    }


def test_job_state_from_a_failed_chunk_is_failed() -> None:
    """A terminal chunk with status failed yields a failed, complete state."""
    state = JobState.from_merged({"isComplete": True, "status": "failed", "error": "bad"})
    assert state.is_complete and state.is_failed
    assert state.error == "bad"


def test_job_state_ignores_audio_data_items_without_url() -> None:
    """Placeholder audio_data items without a URL are not takes."""
    state = JobState.from_merged({"status": "streaming", "audio_data": [{"song_name": "x"}]})
    assert state.takes == ()


def test_a_result_kept_as_json_reads_back_with_every_take() -> None:
    """A result dumped to JSON (as a job keeps it) and read back has the same takes, though
    the reply's top-level audio_url is kept with it."""
    reply = {
        "message_id": "m1",
        "audio_url": "https://storage.soundverse.ai/a.mp3",
        "audio_data": [
            {"audio_url": "https://storage.soundverse.ai/a.mp3"},
            {"audio_url": "https://storage.soundverse.ai/b.mp3"},
        ],
    }
    kept = GenerationResult.model_validate(reply).model_dump(mode="json")
    again = GenerationResult.model_validate(kept)
    assert [take.audio_url for take in again.takes] == [
        "https://storage.soundverse.ai/a.mp3",
        "https://storage.soundverse.ai/b.mp3",
    ]
