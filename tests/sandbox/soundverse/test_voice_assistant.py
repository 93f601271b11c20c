"""The local Soundverse's voice assistant: it fetches `speech_url` (from the local Discord's
CDN too), refuses what does not decode, and answers with speech-like audio whose length follows
the question's, the same each time, sent in chunks that a hold can stop after the first."""

from __future__ import annotations

import io

import aiohttp

from bot.audio import waveform
from sandbox.discord import LocalDiscord
from sandbox.holds import HoldPoint
from sandbox.soundverse import SoundverseStandIn
from sandbox.soundverse.media import probe_duration, render_audio
from tests.sandbox.soundverse.conftest import AUTH, Api, SourceAudio

VOICE = "/v1/assistant/voice"


async def answer_to(api: Api, speech_url: str) -> bytes:
    async with api.session.post(
        api.base_url + VOICE, json={"speech_url": speech_url}, headers=AUTH
    ) as response:
        assert response.status == 200
        return await response.read()


async def test_a_short_question_gets_a_3_s_answer(api: Api, source_audio: SourceAudio) -> None:
    """A 4 s question is answered in 3 s (the shortest answer)."""
    answer = await answer_to(api, source_audio(seconds=4.0))
    assert abs(probe_duration(answer) - 3.0) < 0.05


async def test_a_longer_question_gets_a_longer_answer(api: Api, source_audio: SourceAudio) -> None:
    """A 17 s question is answered in 9 s: half its length, in whole seconds up."""
    answer = await answer_to(api, source_audio(seconds=17.0))
    assert abs(probe_duration(answer) - 9.0) < 0.05


async def test_the_same_question_gets_the_same_answer(api: Api, source_audio: SourceAudio) -> None:
    """Asked twice, one question gets byte-identical answers."""
    url = source_audio(seconds=6.0)
    assert await answer_to(api, url) == await answer_to(api, url)


async def test_the_answer_sounds_spoken(api: Api, source_audio: SourceAudio) -> None:
    """Unlike music, the answer comes in syllables: of its 100 ms stretches, some are near
    silent (below 5 % of full scale) and some loud (above 30 %)."""
    answer = await answer_to(api, source_audio(seconds=10.0))
    points = waveform(io.BytesIO(answer), 50)
    assert min(points) < 0.05 and max(points) > 0.3


async def test_a_question_that_does_not_decode_is_a_422(
    api: Api, standin: SoundverseStandIn
) -> None:
    """A speech_url holding no audio is refused, naming the field."""
    standin.files.put("/storage/x-one/q.ogg", b"OggS" + bytes(500), "audio/ogg")
    status, body = await api.post(VOICE, {"speech_url": standin.url + "/storage/x-one/q.ogg"})
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "speech_url"]
    assert "not decodable" in body["detail"][0]["msg"]


async def test_a_hold_stops_the_answer_after_its_first_chunk(
    api: Api, standin: SoundverseStandIn, source_audio: SourceAudio
) -> None:
    """Held at STREAMING, the answer's first 8 KB arrive and the rest waits for the release."""
    held = standin.hold("POST", VOICE, HoldPoint.STREAMING)
    url = source_audio(seconds=8.0)
    async with api.session.post(
        api.base_url + VOICE, json={"speech_url": url}, headers=AUTH
    ) as response:
        first = await response.content.readexactly(8 * 1024)
        await held.wait_for_arrival()
        assert response.content.at_eof() is False and not held.released.is_set()
        held.release()
        rest = await response.read()
    assert abs(probe_duration(first + rest) - 4.0) < 0.05


async def test_a_recording_on_the_local_discord_is_fetched(standin: SoundverseStandIn) -> None:
    """The URL of a file a member uploaded to the local Discord is a speech_url it answers."""
    discord_ = LocalDiscord(validate_openapi=False)
    await discord_.start()
    try:
        upload = discord_.upload("question.wav", render_audio(3, 6.0, "wav"), "audio/wav")
        message = await discord_.post_message("general", "alice", attachments=[upload])
        url = message.attachments[0].url
        async with aiohttp.ClientSession() as session:
            answer = await answer_to(Api(session, standin.url), url)
        assert abs(probe_duration(answer) - 3.0) < 0.05
        assert any(r.path.startswith("/attachments/") for r in discord_.requests)
    finally:
        await discord_.stop()
