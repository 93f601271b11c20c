"""Every route of contract 11.1 (aliases and newer versions included) answers in its own shape."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.soundverse.endpoints import ENDPOINTS, Endpoint, ReplyStyle, Transport
from sandbox.soundverse.validation import FieldKind
from tests.sandbox.soundverse.conftest import Api, SourceAudio

SAMPLES: dict[str, Any] = {
    "prompt": "rainy lofi about trains",
    "lyrics": "Rain on the rails\nTrains in the night",
    "extend_at": 8000,
    "count": 2,
    "loopCount": 2,
    "userId": "u" * 24,
    "projectId": "p" * 24,
    "styleOfMusic": "Lofi",
}

CONTRACT_PATHS = {
    "/v5/generate/song", "/v5/generate/song/sync", "/v5/generate/song/streaming",
    "/v5/generate/song-gen", "/v5/generate/song-gen/sync", "/v4/generate/song-from-prompt",
    "/v4/generate/song-from-lyrics", "/v1/generate/song-from-prompt",
    "/v1/generate/song-from-lyrics", "/v5/generate/music", "/v5/generate/music/sync",
    "/v5/generate/music-gen", "/v5/generate/music-gen/sync", "/v1/generate/text-to-music",
    "/v5/extend/song", "/v5/extend/song/sync", "/v5/extend/music/sync", "/v5/extend/music",
    "/v1/generate/extend", "/v1/generate/stem-separation/vocals",
    "/v1/generate/stem-separation/instruments", "/v1/generate/stem-separation/all-stems",
    "/v1/generate/trim-and-loop/auto", "/v1/trim-and-loop/gen-and-loop/music/auto/",
    "/v1/trim-and-loop/gen-and-loop/music/auto", "/v2/generate/ai-singing-gen",
    "/v6/generate/song", "/v6/generate/song/sync", "/v7/generate/song", "/v7/generate/song/sync",
    "/v6/generate/music", "/v6/generate/music/sync", "/v6/extend/song", "/v6/extend/song/sync",
    "/v6/extend/music", "/v7/generate/remix",
}  # fmt: skip


def minimal_body(endpoint: Endpoint, audio_url: str) -> dict[str, Any]:
    """The required fields of `endpoint` (and one field of each at-least-one rule)."""
    body: dict[str, Any] = {}
    for spec in endpoint.fields:
        if spec.required:
            body[spec.name] = audio_url if spec.kind is FieldKind.URL else SAMPLES[spec.name]
    for rule in endpoint.rules:
        body.setdefault(rule.names[0], SAMPLES[rule.names[0]])
    return body


def test_every_contract_path_has_an_endpoint() -> None:
    """The endpoint table covers every path and alias the contract lists."""
    assert {endpoint.path for endpoint in ENDPOINTS} >= CONTRACT_PATHS


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.path)
async def test_generation_route_answers(
    api: Api, source_audio: SourceAudio, endpoint: Endpoint
) -> None:
    """Each generation route accepts a minimal valid body and finishes with audio URLs."""
    body = minimal_body(endpoint, source_audio(seconds=20.0))
    if endpoint.transport is Transport.SSE:
        status, events = await api.stream(endpoint.path, body)
        assert status == 200
        assert events[-1]["status"] == "completed"
        assert events[-1]["audio_url"].startswith(api.base_url + "/storage/x-one/")
        return
    status, reply = await api.post(endpoint.path, body)
    assert status == 200, reply
    assert reply_audio_urls(endpoint.reply, reply)


def reply_audio_urls(style: ReplyStyle, reply: Any) -> list[str]:
    """The audio URLs of a sync reply, read the way its shape says."""
    if style is ReplyStyle.STEMS:
        return [item["audioUrl"] for item in reply]
    if style is ReplyStyle.GEN_LOOP:
        return [item["audioUrl"] for item in reply["generatedAudio"] + reply["loopedAudio"]]
    if style in (ReplyStyle.CURRENT, ReplyStyle.CURRENT_ALT):
        return [take["audio_url"] for take in reply["audio_data"]]
    return [item["audioUrl"] for item in reply["audioData"]]


async def test_v5_sync_reply_is_snake_case(api: Api) -> None:
    """v5 sync: message_id, album_art, ai_reply, song_name and two royalty-free takes."""
    status, reply = await api.post("/v5/generate/song/sync", {"prompt": "lofi rain"})
    assert status == 200
    assert set(reply) == {"message_id", "album_art", "audio_data", "ai_reply", "song_name"}
    assert len(reply["message_id"]) == 24
    assert [set(t) for t in reply["audio_data"]] == [{"audio_url", "song_name", "licenses"}] * 2
    assert reply["audio_data"][0]["licenses"] == {"licenses": "Royalty Free"}


async def test_song_gen_sync_reply_has_success_and_message_id(api: Api) -> None:
    """The v5 song-gen variant answers with success and camelCase messageId too."""
    body = {"prompt": "lofi", "userId": "u", "projectId": "p"}
    status, reply = await api.post("/v5/generate/song-gen/sync", body)
    assert status == 200
    assert reply["success"] is True
    assert reply["messageId"] == reply["message_id"]


async def test_v7_sync_reply_carries_job_id(api: Api) -> None:
    """v7 sync replies include the job_id next to message_id."""
    status, reply = await api.post("/v7/generate/song/sync", {"prompt": "lofi"})
    assert status == 200
    assert reply["job_id"] and reply["message_id"]


async def test_v4_reply_is_camel_case_with_two_sample_takes(api: Api) -> None:
    """v4 song-from-prompt: messageId, albumArt, aiReply and two takes licensed "Sample"."""
    status, reply = await api.post("/v4/generate/song-from-prompt", {"prompt": "lofi"})
    assert status == 200
    assert {"messageId", "prompt", "albumArt", "aiReply", "audioData"} == set(reply)
    assert [t["licenses"] for t in reply["audioData"]] == ["Sample", "Sample"]
    assert all(t["audioUrl"].endswith(".mp3") for t in reply["audioData"])


async def test_v1_reply_has_one_wav_take_and_no_message_id(api: Api) -> None:
    """v1 song-from-prompt: one WAV take licensed "Sync", and no messageId."""
    body = {"prompt": "lofi", "StyleOfMusic": "Lofi"}
    status, reply = await api.post("/v1/generate/song-from-prompt", body)
    assert status == 200
    assert set(reply) == {"prompt", "albumArt", "aiReply", "audioData"}
    assert len(reply["audioData"]) == 1
    assert reply["audioData"][0]["licenses"] == "Sync"
    assert reply["audioData"][0]["audioUrl"].endswith(".wav")


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        ("vocals", ["vocals"]),
        ("instruments", ["instruments"]),
        ("all-stems", ["vocals", "drums", "bass", "other"]),
    ],
)
async def test_stems_reply_names(
    api: Api, source_audio: SourceAudio, kind: str, names: list[str]
) -> None:
    """Stem separation answers a list of {audioName, audioUrl} with the contract's names."""
    status, reply = await api.post(
        f"/v1/generate/stem-separation/{kind}", {"audioUrl": source_audio()}
    )
    assert status == 200
    assert [item["audioName"] for item in reply] == names


async def test_unknown_stem_kind_is_not_found(api: Api, source_audio: SourceAudio) -> None:
    """A stem kind outside vocals/instruments/all-stems is a JSON 404."""
    status, reply = await api.post(
        "/v1/generate/stem-separation/drums", {"audioUrl": source_audio()}
    )
    assert (status, reply) == (404, {"detail": "Not Found"})


async def test_loop_reply_has_no_licenses(api: Api, source_audio: SourceAudio) -> None:
    """Loop and trim answers {albumArt, aiReply, audioData:[{audioUrl, songName}]}."""
    status, reply = await api.post(
        "/v1/generate/trim-and-loop/auto", {"audioUrl": source_audio(), "count": 3}
    )
    assert status == 200
    assert set(reply) == {"albumArt", "aiReply", "audioData"}
    assert set(reply["audioData"][0]) == {"audioUrl", "songName"}


async def test_gen_loop_reply_has_generated_and_looped_audio(api: Api) -> None:
    """Gen-and-loop answers prompt, albumArt, aiReply, generatedAudio and loopedAudio."""
    body = {"prompt": "ambient piano", "loopCount": 4, "duration": 15}
    status, reply = await api.post("/v1/trim-and-loop/gen-and-loop/music/auto/", body)
    assert status == 200
    assert set(reply) == {"prompt", "albumArt", "aiReply", "generatedAudio", "loopedAudio"}
    assert reply["loopedAudio"][0]["audioUrl"].endswith("_trimmed_x4.wav")


async def test_singing_reply_has_message_id(api: Api) -> None:
    """AI singing v2 answers with messageId and camelCase audioData."""
    body = {"lyrics": "la la la", "styleOfMusic": "Pop(Female)"}
    status, reply = await api.post("/v2/generate/ai-singing-gen", body)
    assert status == 200
    assert reply["messageId"] and reply["audioData"][0]["audioUrl"]


async def test_lyrics_reply_has_sections(api: Api) -> None:
    """Lyrics answers {prompt, lyrics} with [Verse] and [Chorus] sections."""
    status, reply = await api.post("/v1/generate/lyrics", {"prompt": "trains in the rain"})
    assert status == 200
    assert reply["prompt"] == "trains in the rain"
    assert "[Verse 1]" in reply["lyrics"] and "[Chorus]" in reply["lyrics"]


async def test_lyrics_honour_section(api: Api) -> None:
    """Asking for one section returns only that section."""
    body = {"prompt": "trains", "section": "chorus"}
    status, reply = await api.post("/v1/generate/lyrics", body)
    assert status == 200
    assert reply["lyrics"].startswith("[Chorus]") and "[Verse" not in reply["lyrics"]


async def test_lyrics_are_deterministic(api: Api) -> None:
    """The same lyrics request gives the same lyrics."""
    body = {"prompt": "summer road trip", "mood": "happy", "genre": "pop"}
    first = await api.post("/v1/generate/lyrics", body)
    second = await api.post("/v1/generate/lyrics", body)
    assert first == second


@pytest.mark.parametrize("path", ["/assistant/chat", "/api/assistant/chat"])
async def test_chat_reply_reflects_action(api: Api, path: str) -> None:
    """Chat answers {"aiReply"} mentioning the action it was given."""
    status, reply = await api.post(path, {"prompt": "how to loop this?", "action": "loop_audio"})
    assert status == 200
    assert set(reply) == {"aiReply"}
    assert "loop_audio" in reply["aiReply"]


@pytest.mark.parametrize("path", ["/v1/assistant/voice", "/api/assistant/voice"])
async def test_voice_streams_mpeg_in_chunks(api: Api, source_audio: SourceAudio, path: str) -> None:
    """Voice assistant answers an audio/mpeg body with chunked transfer encoding."""
    url = api.base_url + path
    headers = {"Authorization": "Bearer test-key"}
    body = {"speech_url": source_audio(seconds=6.0)}
    async with api.session.post(url, json=body, headers=headers) as response:
        assert response.status == 200
        assert response.content_type == "audio/mpeg"
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert len(await response.read()) > 10_000
