"""Generated files: real audio of the promised length and format, PNG art, served from /storage."""

from __future__ import annotations

import io
import time

import av
import pytest

from sandbox.soundverse import SoundverseStandIn, media
from tests.sandbox.soundverse.conftest import API_KEY, Api, SourceAudio


def decoded_seconds(data: bytes) -> tuple[str, float]:
    """The container format name and the decoded length of an audio file."""
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return container.format.name, samples / stream.rate


@pytest.mark.parametrize("seconds", [1.0, 12.5, 30.0, 181.0])
@pytest.mark.parametrize("fmt", ["mp3", "wav"])
def test_rendered_audio_lasts_what_was_asked(seconds: float, fmt: media.AudioFormat) -> None:
    """MP3 and WAV files decode with PyAV to the requested length within 0.1 s."""
    container, length = decoded_seconds(media.render_audio(3, seconds, fmt))
    assert container == fmt
    assert abs(length - seconds) < 0.1


def test_rendered_audio_is_deterministic() -> None:
    """Rendering again from scratch gives the same WAV and MP3 bytes."""
    first = media.render_audio(5, 7.0, "wav"), media.render_audio(5, 7.0, "mp3")
    media.clear_caches()
    assert (media.render_audio(5, 7.0, "wav"), media.render_audio(5, 7.0, "mp3")) == first


def test_rendered_audio_is_not_silent() -> None:
    """The tune has sound in it."""
    pcm = media.loop_pcm(1)
    assert max(pcm[1::2]) > 16


def test_cached_mp3_costs_little() -> None:
    """Once a tune is encoded, a 30 s MP3 of a new length takes well under 100 ms."""
    media.render_audio(2, 5.0, "mp3")
    started = time.perf_counter()
    media.render_audio(2, 30.25, "mp3")
    assert time.perf_counter() - started < 0.1


def test_mp3_frame_ends_cover_the_file() -> None:
    """Every frame of a rendered MP3 is found: one per 1152 samples, the last ending the file."""
    data = media.render_audio(3, 5.0, "mp3")
    ends = media.mp3_frame_ends(data)
    assert (len(ends), ends[-1]) == (round(5.0 * 44100 / 1152), len(data))
    assert media.mp3_frame_ends(b"not audio") == []


def test_released_part_ends_on_a_frame() -> None:
    """A released part stops at the last whole frame inside it, and 1 releases everything."""
    data = media.render_audio(3, 5.0, "mp3")
    ends = media.mp3_frame_ends(data)
    part = media.released_end(ends, len(data), 0.25)
    assert part in ends and len(data) * 0.25 - 420 < part <= len(data) * 0.25
    assert media.released_end(ends, len(data), 1.0) == len(data)
    assert media.released_end(ends, len(data), 0.0) == 0


def test_album_art_is_a_png_image() -> None:
    """Album art decodes with PyAV as a 256x256 PNG image."""
    with av.open(io.BytesIO(media.render_album_art(4)), "r") as container:
        frame = next(container.decode(video=0))
        assert container.format.name == "png_pipe"
        assert (frame.width, frame.height) == (256, 256)


def test_probe_refuses_non_audio() -> None:
    """probe_duration raises UndecodableAudio for bytes that are not audio."""
    with pytest.raises(media.UndecodableAudio):
        media.probe_duration(b"not audio at all" * 64)


async def fetch_audio(api: Api, url: str) -> tuple[str, float]:
    """Download a generated file and decode it."""
    status, _, body = await api.download(url)
    assert status == 200
    return decoded_seconds(body)


async def test_v5_song_has_requested_duration(api: Api) -> None:
    """A v5 song with duration 12 is a 12 s MP3."""
    _, reply = await api.post("/v5/generate/song/sync", {"prompt": "x", "duration": 12})
    container, seconds = await fetch_audio(api, reply["audio_data"][1]["audio_url"])
    assert container == "mp3" and seconds == pytest.approx(12, abs=0.1)


async def test_default_duration_is_30_seconds(api: Api) -> None:
    """Without a duration, v5 music lasts 30 s."""
    _, reply = await api.post("/v5/generate/music/sync", {"prompt": "x"})
    _, seconds = await fetch_audio(api, reply["audio_data"][0]["audio_url"])
    assert seconds == pytest.approx(30, abs=0.1)


async def test_v1_text_to_music_is_wav(api: Api) -> None:
    """v1 text-to-music with duration 15 is a 15 s WAV."""
    _, reply = await api.post("/v1/generate/text-to-music", {"prompt": "x", "duration": 15})
    container, seconds = await fetch_audio(api, reply["audioData"][0]["audioUrl"])
    assert container == "wav" and seconds == pytest.approx(15, abs=0.1)


async def test_stems_last_as_long_as_the_input(api: Api, source_audio: SourceAudio) -> None:
    """Every stem lasts as long as the input audio."""
    url = source_audio(seconds=9.0)
    _, reply = await api.post("/v1/generate/stem-separation/all-stems", {"audioUrl": url})
    for stem in reply:
        _, seconds = await fetch_audio(api, stem["audioUrl"])
        assert seconds == pytest.approx(9, abs=0.1)


async def test_loop_lasts_count_times_the_loop(api: Api, source_audio: SourceAudio) -> None:
    """A 3x loop of a long input lasts 3 x 4 s; of a 2.5 s input, 3 x 2.5 s."""
    for source_seconds, expected in ((20.0, 12.0), (2.5, 7.5)):
        body = {"audioUrl": source_audio(seconds=source_seconds), "count": 3}
        _, reply = await api.post("/v1/generate/trim-and-loop/auto", body)
        _, seconds = await fetch_audio(api, reply["audioData"][0]["audioUrl"])
        assert seconds == pytest.approx(expected, abs=0.1)


async def test_extend_song_length(api: Api, source_audio: SourceAudio) -> None:
    """Extending at 8000 ms gives 8 s of the song plus 30 s."""
    body = {"audio_url": source_audio(seconds=12.0), "lyrics": "la", "extend_at": 8000}
    _, reply = await api.post("/v6/extend/song/sync", body)
    _, seconds = await fetch_audio(api, reply["audio_data"][0]["audio_url"])
    assert seconds == pytest.approx(38, abs=0.1)


async def test_extend_music_adds_duration(api: Api, source_audio: SourceAudio) -> None:
    """Extend music adds `duration` seconds to the input."""
    body = {"audio_url": source_audio(seconds=10.0), "duration": 20, "side": "left"}
    _, reply = await api.post("/v5/extend/music/sync", body)
    _, seconds = await fetch_audio(api, reply["audio_data"][0]["audio_url"])
    assert seconds == pytest.approx(30, abs=0.1)


async def first_take(api: Api, body: dict[str, object]) -> bytes:
    """The audio of the first take of a v5 song made from `body`."""
    _, reply = await api.post("/v5/generate/song/sync", body)
    return (await api.download(reply["audio_data"][0]["audio_url"]))[2]


async def test_the_first_job_of_a_request_sounds_the_same_on_a_new_stand_in(api: Api) -> None:
    """A request's first job gives byte-identical audio on a fresh stand-in with the same seed."""
    body = {"prompt": "deterministic please", "duration": 6}
    first = await first_take(api, body)
    fresh = SoundverseStandIn(api_keys={API_KEY}, time_scale=0.001, seed=0)
    await fresh.start()
    try:
        again = await first_take(Api(api.session, fresh.url), body)
    finally:
        await fresh.stop()
    assert again == first


async def test_a_repeated_request_sounds_different_from_the_job_before(api: Api) -> None:
    """A variation (the same request as a new job) gives audio whose bytes differ."""
    body = {"prompt": "vary me", "duration": 6}
    assert await first_take(api, body) != await first_take(api, body)


async def test_storage_headers(api: Api) -> None:
    """Files are served with their Content-Type and Content-Length, also to HEAD."""
    _, reply = await api.post("/v5/generate/music/sync", {"prompt": "x", "style": "jazz"})
    url = reply["audio_data"][0]["audio_url"]
    async with api.session.head(url) as head:
        assert head.status == 200
        assert head.headers["Content-Type"] == "audio/mpeg"
        length = int(head.headers["Content-Length"])
    status, content_type, body = await api.download(url)
    assert (status, content_type, len(body)) == (200, "audio/mpeg", length)


async def test_album_art_is_served_as_png(api: Api) -> None:
    """The album_art URL serves a PNG image."""
    _, reply = await api.post("/v5/generate/music/sync", {"prompt": "x"})
    status, content_type, body = await api.download(reply["album_art"])
    assert (status, content_type) == (200, "image/png")
    assert body.startswith(b"\x89PNG")


async def test_storage_url_shapes(api: Api) -> None:
    """Audio lives under /storage/x-one/<24hex>/<24hex>/, art under soundverse-album-art."""
    _, reply = await api.post("/v5/generate/music/sync", {"prompt": "x"})
    audio_parts = reply["audio_data"][0]["audio_url"].removeprefix(api.base_url).split("/")
    art_parts = reply["album_art"].removeprefix(api.base_url).split("/")
    assert audio_parts[:3] == ["", "storage", "x-one"] and len(audio_parts[3]) == 24
    assert art_parts[:3] == ["", "storage", "soundverse-album-art"]
    assert art_parts[-1].endswith("_album_art.png") and len(art_parts[4]) == 24


async def test_missing_file_is_404(api: Api) -> None:
    """An unknown storage path is 404."""
    status, _, _ = await api.download(api.base_url + "/storage/x-one/none.mp3")
    assert status == 404
