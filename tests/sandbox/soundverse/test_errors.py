"""Errors of contract 11.4: auth, FastAPI-style validation, unusable inputs and moderation."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.soundverse import SoundverseStandIn
from sandbox.soundverse.inputs import MAX_INPUT_BYTES
from tests.sandbox.soundverse.conftest import Api, SourceAudio

MALFORMED = {"detail": "Invalid API key format. Use Bearer <your_api_key>."}


@pytest.mark.parametrize("header", [None, "test-key", "Basic dGVzdA==", "Bearer ", "Token x"])
async def test_missing_or_malformed_authorization(api: Api, header: str | None) -> None:
    """A missing or non-Bearer Authorization header is 401 with the format message."""
    headers = {} if header is None else {"Authorization": header}
    async with api.session.post(
        api.base_url + "/v5/generate/song", json={"prompt": "x"}, headers=headers
    ) as response:
        assert (response.status, await response.json()) == (401, MALFORMED)


async def test_unknown_key(api: Api) -> None:
    """A well-formed but unknown key is 401 "Invalid API key"."""
    status, body = await api.post(
        "/v5/generate/song/sync", {"prompt": "x"}, {"Authorization": "Bearer nope"}
    )
    assert (status, body) == (401, {"detail": "Invalid API key"})


async def test_status_needs_auth(api: Api) -> None:
    """The status endpoint checks the key too."""
    async with api.session.get(api.base_url + "/v5/status?message_id=x") as response:
        assert response.status == 401


async def test_refused_request_starts_nothing(api: Api, standin: SoundverseStandIn) -> None:
    """A refused POST is counted but no job is started."""
    await api.post("/v5/generate/song/sync", {"prompt": "x"}, {"Authorization": "Bearer nope"})
    assert standin.counters.posts == {"/v5/generate/song/sync": 1}
    assert standin.counters.jobs_started == 0


async def first_error(api: Api, path: str, body: Any) -> dict[str, Any]:
    """POST `body` expecting a 422 and return its first error entry."""
    status, reply = await api.post(path, body)
    assert status == 422, reply
    error: dict[str, Any] = reply["detail"][0]
    assert {"loc", "msg", "type"} <= set(error)
    return error


async def test_missing_prompt(api: Api) -> None:
    """A missing required prompt is reported at ["body", "prompt"] as missing."""
    error = await first_error(api, "/v5/generate/song", {"duration": 30})
    assert (error["loc"], error["type"], error["msg"]) == (
        ["body", "prompt"],
        "missing",
        "Field required",
    )


async def test_prompt_too_long(api: Api) -> None:
    """A prompt over 1024 characters is string_too_long."""
    error = await first_error(api, "/v5/generate/music", {"prompt": "x" * 1025})
    assert (error["loc"], error["type"]) == (["body", "prompt"], "string_too_long")


async def test_prompt_of_1024_characters_is_accepted(api: Api) -> None:
    """Exactly 1024 characters is allowed."""
    status, _ = await api.post("/v5/generate/music/sync", {"prompt": "x" * 1024})
    assert status == 200


@pytest.mark.parametrize(
    ("extend_at", "kind"), [(7999, "greater_than_equal"), (420001, "less_than_equal")]
)
async def test_extend_at_range(
    api: Api, source_audio: SourceAudio, extend_at: int, kind: str
) -> None:
    """extend_at outside 8000..420000 ms is rejected with the bound's error type."""
    body = {"audio_url": source_audio(), "lyrics": "la", "extend_at": extend_at}
    error = await first_error(api, "/v6/extend/song", body)
    assert (error["loc"], error["type"]) == (["body", "extend_at"], kind)


async def test_extend_at_past_the_end_of_the_song(api: Api, source_audio: SourceAudio) -> None:
    """extend_at beyond the input's length is refused on extend_at."""
    body = {"audio_url": source_audio(seconds=10.0), "lyrics": "la", "extend_at": 20000}
    error = await first_error(api, "/v6/extend/song/sync", body)
    assert error["loc"] == ["body", "extend_at"]


async def test_extend_song_needs_lyrics(api: Api, source_audio: SourceAudio) -> None:
    """Blank lyrics on extend song are string_too_short."""
    body = {"audio_url": source_audio(), "lyrics": "  ", "extend_at": 8000}
    error = await first_error(api, "/v5/extend/song/sync", body)
    assert (error["loc"], error["type"]) == (["body", "lyrics"], "string_too_short")


async def test_v1_style_must_be_in_the_enum(api: Api) -> None:
    """v1 styleOfMusic outside section 5.1 is a literal_error."""
    body = {"prompt": "x", "styleOfMusic": "Polka"}
    error = await first_error(api, "/v1/generate/song-from-prompt", body)
    assert (error["loc"], error["type"]) == (["body", "styleOfMusic"], "literal_error")


async def test_v1_style_is_required(api: Api) -> None:
    """v1 song-from-prompt requires styleOfMusic."""
    error = await first_error(api, "/v1/generate/song-from-prompt", {"prompt": "x"})
    assert error["loc"] == ["body", "styleOfMusic"]


async def test_singing_style_enum(api: Api) -> None:
    """Singing styles follow section 5.2: plain "Pop" is refused."""
    body = {"lyrics": "la", "styleOfMusic": "Pop"}
    error = await first_error(api, "/v2/generate/ai-singing-gen", body)
    assert error["type"] == "literal_error"


async def test_chat_action_enum(api: Api) -> None:
    """Chat action outside section 5.3 is refused."""
    error = await first_error(api, "/assistant/chat", {"prompt": "hi", "action": "dance"})
    assert error["loc"] == ["body", "action"]


async def test_legacy_model_enum(api: Api) -> None:
    """Legacy model must be sansaar_1 or sansaar_1_lite."""
    body = {"prompt": "x", "model": "mureka-7.5"}
    error = await first_error(api, "/v1/generate/text-to-music", body)
    assert error["loc"] == ["body", "model"]


async def test_legacy_duration_enum(api: Api) -> None:
    """Legacy durations are 15, 30, 60 or 180."""
    error = await first_error(api, "/v1/generate/text-to-music", {"prompt": "x", "duration": 45})
    assert (error["loc"], error["msg"]) == (
        ["body", "duration"],
        "Input should be 15, 30, 60 or 180",
    )


async def test_extend_side_enum(api: Api, source_audio: SourceAudio) -> None:
    """Extend music side must be left or right."""
    body = {"audio_url": source_audio(), "side": "up"}
    error = await first_error(api, "/v5/extend/music/sync", body)
    assert error["loc"] == ["body", "side"]


async def test_loop_count_must_be_positive(api: Api, source_audio: SourceAudio) -> None:
    """count 0 is greater_than 0."""
    body = {"audioUrl": source_audio(), "count": 0}
    error = await first_error(api, "/v1/generate/trim-and-loop/auto", body)
    assert (error["loc"], error["type"]) == (["body", "count"], "greater_than")


async def test_gen_loop_count_must_be_positive(api: Api) -> None:
    """loopCount -1 is refused."""
    body = {"prompt": "x", "loopCount": -1}
    error = await first_error(api, "/v1/trim-and-loop/gen-and-loop/music/auto/", body)
    assert error["loc"] == ["body", "loopCount"]


async def test_song_gen_needs_user_and_project(api: Api) -> None:
    """The v5 song-gen variant requires userId and projectId."""
    status, reply = await api.post("/v5/generate/song-gen/sync", {"prompt": "x"})
    assert status == 422
    assert [e["loc"] for e in reply["detail"]] == [["body", "userId"], ["body", "projectId"]]


async def test_v7_needs_prompt_or_audio(api: Api) -> None:
    """v7 song with neither prompt nor an audio URL is a value_error on the body."""
    error = await first_error(api, "/v7/generate/song", {"lyrics": "la"})
    assert (error["loc"], error["type"]) == (["body"], "value_error")


async def test_lyrics_variant_needs_style_or_audio(api: Api) -> None:
    """song-from-lyrics without styleOfMusic or audioUrl is refused."""
    error = await first_error(api, "/v4/generate/song-from-lyrics", {"lyrics": "la"})
    assert error["type"] == "value_error"


async def test_wrong_type(api: Api) -> None:
    """A number where a string is expected is string_type."""
    error = await first_error(api, "/v5/generate/song", {"prompt": 12})
    assert (error["loc"], error["type"]) == (["body", "prompt"], "string_type")


async def test_invalid_json(api: Api) -> None:
    """A body that is not JSON is json_invalid."""
    async with api.session.post(
        api.base_url + "/v5/generate/song",
        data=b"{not json",
        headers={"Authorization": "Bearer test-key", "Content-Type": "application/json"},
    ) as response:
        body = await response.json()
    assert response.status == 422
    assert body["detail"][0]["type"] == "json_invalid"


async def test_snake_case_audio_url_on_v1_extend(api: Api, source_audio: SourceAudio) -> None:
    """v1 extend takes audio_url as well as audioUrl."""
    status, reply = await api.post("/v1/generate/extend", {"audio_url": source_audio()})
    assert status == 200, reply


async def test_unfetchable_input(api: Api) -> None:
    """An input URL that answers 404 is a 422 naming the field."""
    body = {"audioUrl": api.base_url + "/storage/x-one/nothing.mp3"}
    error = await first_error(api, "/v1/generate/stem-separation/vocals", body)
    assert error["loc"] == ["body", "audioUrl"]
    assert "HTTP 404" in error["msg"]


async def test_undecodable_input(api: Api, standin: SoundverseStandIn) -> None:
    """An input that is not audio is a 422 saying so."""
    standin.files.put("/storage/x-one/text.mp3", b"hello, not audio" * 100, "audio/mpeg")
    body = {"audioUrl": api.base_url + "/storage/x-one/text.mp3", "count": 2}
    error = await first_error(api, "/v1/generate/trim-and-loop/auto", body)
    assert error["loc"] == ["body", "audioUrl"]
    assert "not decodable" in error["msg"]


async def test_input_over_10_mb(api: Api, standin: SoundverseStandIn) -> None:
    """An input larger than 10 MB is refused."""
    standin.files.put("/storage/x-one/big.wav", bytes(MAX_INPUT_BYTES + 1), "audio/wav")
    body = {"speech_url": api.base_url + "/storage/x-one/big.wav"}
    error = await first_error(api, "/v1/assistant/voice", body)
    assert error["loc"] == ["body", "speech_url"]
    assert "10 MB" in error["msg"]


async def test_remix_source_too_short(api: Api, source_audio: SourceAudio) -> None:
    """Remix refuses a source shorter than 10 s."""
    body = {"song_reference_url": source_audio(seconds=5.0), "prompt": "x"}
    error = await first_error(api, "/v7/generate/remix", body)
    assert error["loc"] == ["body", "song_reference_url"]


async def test_v4_reference_shorter_than_30_s(api: Api, source_audio: SourceAudio) -> None:
    """v4 reference audio must last at least 30 s."""
    body = {"prompt": "x", "audioUrl": source_audio(seconds=12.0)}
    error = await first_error(api, "/v4/generate/song-from-prompt", body)
    assert error["loc"] == ["body", "audioUrl"]


async def test_not_a_url(api: Api) -> None:
    """A relative path is not a valid input URL."""
    error = await first_error(api, "/v6/generate/song", {"prompt": "x", "reference_url": "a.mp3"})
    assert (error["loc"], error["type"]) == (["body", "reference_url"], "url_parsing")


@pytest.mark.parametrize(
    ("prompt", "message"),
    [("some NSFW stuff", "NSFW words detected."), ("in the style of artist: Nobody", "Artist")],
)
async def test_prompt_moderation(
    api: Api, standin: SoundverseStandIn, prompt: str, message: str
) -> None:
    """Prompts with nsfw or artist: are refused 400 {success: false, message} and start nothing."""
    status, body = await api.post("/v5/generate/song/sync", {"prompt": prompt})
    assert status == 400
    assert body["success"] is False and body["message"].startswith(message)
    assert standin.counters.jobs_started == 0


async def test_unknown_route_is_json_404(api: Api) -> None:
    """Unknown paths answer like FastAPI: 404 {"detail": "Not Found"}."""
    assert await api.post("/v9/generate/song", {}) == (404, {"detail": "Not Found"})
