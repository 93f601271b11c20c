"""Every endpoint method of the client against the local Soundverse over loopback HTTP,
with the returned audio downloaded and decoded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import pytest

from bot.soundverse import (
    ChatAction,
    ExtendMusicRequest,
    ExtendMusicVersion,
    ExtendSongRequest,
    ExtendSongVersion,
    GenerationResult,
    GenerationStream,
    GenLoopRequest,
    JobState,
    LegacyDuration,
    LegacySongFromLyricsRequest,
    LegacySongRequest,
    LegacyVersion,
    LyricsRequest,
    MusicRequest,
    MusicStyle,
    MusicVersion,
    RemixRequest,
    SingingRequest,
    SingingStyle,
    SongRequest,
    SongVersion,
    SoundverseClient,
    StemKind,
    TextToMusicRequest,
)
from sandbox.soundverse import SoundverseStandIn
from tests.integration.soundverse.conftest import FakeTime

Probe = Callable[[Path], Any]
ClientFactory = Callable[..., SoundverseClient]
PROMPT = "rainy lofi about trains"
LYRICS = "Rain on the window, trains in the night\nHumming along till the morning light"


async def downloaded_audio(
    client: SoundverseClient, url: str, tmp_path: Path, probe: Probe, name: str = "take"
) -> Any:
    """Download `url` into `tmp_path` and decode it."""
    file = await client.download(url, tmp_path / name)
    assert file.bytes == file.path.stat().st_size > 0
    return probe(file.path)


def assert_audio(audio: Any, kind: str, seconds: float) -> None:
    """`audio` is of format `kind` and lasts `seconds` within 0.2 s."""
    assert kind in audio.format_names
    assert audio.duration == pytest.approx(seconds, abs=0.2)


async def collect(stream: GenerationStream) -> list[JobState]:
    """Every state a stream yields."""
    return [state async for state in stream]


@pytest.mark.parametrize(
    ("version", "duration", "seconds"),
    [(SongVersion.V5, 6, 6), (SongVersion.V6, None, 30), (SongVersion.V7, None, 30)],
)
async def test_stream_song_yields_stages_and_two_decodable_takes(
    client: SoundverseClient,
    version: SongVersion,
    duration: int | None,
    seconds: float,
    tmp_path: Path,
    audio_probe: Probe,
) -> None:
    """A streamed song completes with two MP3 takes of the requested (or default) length."""
    stream = client.stream_song(SongRequest(prompt=PROMPT, duration=duration), version)
    states = await collect(stream)
    assert states[-1].stage == "completed" and states[-1].is_complete
    assert stream.result.message_id == stream.message_id is not None
    assert len(stream.result.takes) == 2
    audio = await downloaded_audio(client, stream.result.takes[0].audio_url, tmp_path, audio_probe)
    assert_audio(audio, "mp3", seconds)


async def test_stream_song_v7_reports_the_job_id_on_the_first_state(
    client: SoundverseClient,
) -> None:
    """v7 streams announce `job_id` on the very first yielded state."""
    stream = client.stream_song(SongRequest(prompt=PROMPT), SongVersion.V7)
    states = await collect(stream)
    assert states[0].job_id is not None
    assert stream.job_id == states[0].job_id


async def test_stream_song_message_id_first_appears_at_validation(
    client: SoundverseClient,
) -> None:
    """The message id is absent on `initializing` and present from `validated` on."""
    states = await collect(client.stream_song(SongRequest(prompt=PROMPT)))
    assert states[0].message_id is None
    first_with_id = next(state for state in states if state.message_id)
    assert first_with_id.stage == "validated"


async def test_stream_progress_never_decreases(client: SoundverseClient) -> None:
    """Merged progress rises monotonically to 100."""
    states = await collect(client.stream_song(SongRequest(prompt=PROMPT)))
    progress = [state.progress for state in states if state.progress is not None]
    assert progress == sorted(progress) and progress[-1] == 100


@pytest.mark.parametrize(
    ("version", "duration", "seconds"),
    [(SongVersion.V5, 5, 5), (SongVersion.V6, None, 30), (SongVersion.V7, None, 30)],
)
async def test_song_sync_returns_two_takes(
    client: SoundverseClient,
    version: SongVersion,
    duration: int | None,
    seconds: float,
    tmp_path: Path,
    audio_probe: Probe,
) -> None:
    """Sync songs return two MP3 takes of the requested (or default) length."""
    result = await client.song_sync(SongRequest(prompt=PROMPT, duration=duration), version)
    assert len(result.takes) == 2
    audio = await downloaded_audio(client, result.takes[1].audio_url, tmp_path, audio_probe)
    assert_audio(audio, "mp3", seconds)


@pytest.mark.parametrize(
    ("version", "kind", "takes"), [(LegacyVersion.V4, "mp3", 2), (LegacyVersion.V1, "wav", 1)]
)
async def test_legacy_song_from_prompt(
    client: SoundverseClient,
    version: LegacyVersion,
    kind: str,
    takes: int,
    tmp_path: Path,
    audio_probe: Probe,
) -> None:
    """Deprecated song-from-prompt: v4 two MP3 takes, v1 one WAV take, 30 s by default."""
    request = LegacySongRequest(prompt=PROMPT, style_of_music=MusicStyle.LOFI)
    result = await client.legacy_song(request, version)
    assert len(result.takes) == takes
    audio = await downloaded_audio(client, result.takes[0].audio_url, tmp_path, audio_probe)
    assert_audio(audio, kind, 30)


@pytest.mark.parametrize(
    ("version", "kind"), [(LegacyVersion.V4, "mp3"), (LegacyVersion.V1, "wav")]
)
async def test_legacy_song_from_lyrics(
    client: SoundverseClient, version: LegacyVersion, kind: str, tmp_path: Path, audio_probe: Probe
) -> None:
    """Deprecated song-from-lyrics returns decodable audio of the version's format."""
    request = LegacySongFromLyricsRequest(lyrics=LYRICS, style_of_music=MusicStyle.POP)
    result = await client.legacy_song_from_lyrics(request, version)
    audio = await downloaded_audio(client, result.takes[0].audio_url, tmp_path, audio_probe)
    assert kind in audio.format_names


@pytest.mark.parametrize("version", [MusicVersion.V5, MusicVersion.V6])
async def test_stream_music_yields_one_take(
    client: SoundverseClient, version: MusicVersion, tmp_path: Path, audio_probe: Probe
) -> None:
    """A streamed instrumental completes with one MP3 take."""
    stream = client.stream_music(MusicRequest(prompt="upbeat jazz", style="jazz"), version)
    result = await stream.wait()
    assert len(result.takes) == 1
    audio = await downloaded_audio(client, result.takes[0].audio_url, tmp_path, audio_probe)
    assert_audio(audio, "mp3", 30)


@pytest.mark.parametrize("version", [MusicVersion.V5, MusicVersion.V6])
async def test_music_sync_returns_one_take(client: SoundverseClient, version: MusicVersion) -> None:
    """Sync instrumentals return one take."""
    result = await client.music_sync(MusicRequest(prompt="calm piano", duration=5), version)
    assert len(result.takes) == 1


@pytest.mark.parametrize(
    ("version", "kind"), [(LegacyVersion.V4, "mp3"), (LegacyVersion.V1, "wav")]
)
async def test_legacy_music(
    client: SoundverseClient, version: LegacyVersion, kind: str, tmp_path: Path, audio_probe: Probe
) -> None:
    """Deprecated instrumental endpoints return audio of the version's format."""
    request = LegacySongRequest(prompt="ambient pads", style_of_music=MusicStyle.CHILLOUT)
    result = await client.legacy_music(request, version)
    audio = await downloaded_audio(client, result.takes[0].audio_url, tmp_path, audio_probe)
    assert kind in audio.format_names


async def test_text_to_music_honours_legacy_duration(
    client: SoundverseClient, tmp_path: Path, audio_probe: Probe
) -> None:
    """Text-to-music v1 returns a WAV of the requested legacy duration."""
    request = TextToMusicRequest(prompt="sea shanty", duration=LegacyDuration.S15)
    result = await client.text_to_music(request)
    audio = await downloaded_audio(client, result.takes[0].audio_url, tmp_path, audio_probe)
    assert_audio(audio, "wav", 15)


async def song_url(client: SoundverseClient) -> str:
    """The URL of a freshly generated song to feed into audio-input endpoints."""
    result = await client.song_sync(SongRequest(prompt=PROMPT, duration=12))
    return result.takes[0].audio_url


@pytest.mark.parametrize("version", [ExtendSongVersion.V5, ExtendSongVersion.V6])
async def test_stream_extend_song(
    client: SoundverseClient, version: ExtendSongVersion, tmp_path: Path, audio_probe: Probe
) -> None:
    """Streamed extend-song completes with one decodable MP3 take."""
    request = ExtendSongRequest(audio_url=await song_url(client), lyrics=LYRICS, extend_at=10000)
    result = await client.stream_extend_song(request, version).wait()
    assert len(result.takes) == 1
    audio = await downloaded_audio(client, result.takes[0].audio_url, tmp_path, audio_probe)
    assert "mp3" in audio.format_names


@pytest.mark.parametrize("version", [ExtendSongVersion.V5, ExtendSongVersion.V6])
async def test_extend_song_sync(client: SoundverseClient, version: ExtendSongVersion) -> None:
    """Sync extend-song returns one take."""
    request = ExtendSongRequest(audio_url=await song_url(client), lyrics=LYRICS, extend_at=8000)
    result = await client.extend_song_sync(request, version)
    assert len(result.takes) == 1


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        (ExtendMusicVersion.V6, "mp3"),
        (ExtendMusicVersion.V5, "mp3"),
        (ExtendMusicVersion.V1, "wav"),
    ],
)
async def test_extend_music(
    client: SoundverseClient,
    version: ExtendMusicVersion,
    kind: str,
    tmp_path: Path,
    audio_probe: Probe,
) -> None:
    """Extend-music (sync) returns decodable audio of the version's format."""
    request = ExtendMusicRequest(audio_url=await song_url(client), duration=15)
    result = await client.extend_music(request, version)
    audio = await downloaded_audio(client, result.takes[0].audio_url, tmp_path, audio_probe)
    assert kind in audio.format_names


async def test_stream_remix(client: SoundverseClient, tmp_path: Path, audio_probe: Probe) -> None:
    """A v7 remix streams to one decodable MP3 take."""
    request = RemixRequest(song_reference_url=await song_url(client), prompt="drum and bass")
    result = await client.stream_remix(request).wait()
    audio = await downloaded_audio(client, result.takes[0].audio_url, tmp_path, audio_probe)
    assert "mp3" in audio.format_names


async def test_lyrics(client: SoundverseClient) -> None:
    """Lyrics v1 returns non-empty lyrics for the prompt."""
    result = await client.lyrics(LyricsRequest(prompt="trains at night", mood="sad"))
    assert result.lyrics.strip()


async def test_singing(client: SoundverseClient, tmp_path: Path, audio_probe: Probe) -> None:
    """Singing v2 returns decodable audio."""
    request = SingingRequest(lyrics=LYRICS, style_of_music=SingingStyle.POP_FEMALE)
    result = await client.singing(request)
    audio = await downloaded_audio(client, result.takes[0].audio_url, tmp_path, audio_probe)
    assert audio.duration > 0


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        (StemKind.VOCALS, ["vocals"]),
        (StemKind.INSTRUMENTS, ["instruments"]),
        (StemKind.ALL_STEMS, ["vocals", "drums", "bass", "other"]),
    ],
)
async def test_stems(
    client: SoundverseClient, kind: StemKind, names: list[str], tmp_path: Path, audio_probe: Probe
) -> None:
    """Each stem route returns its named stems, each a decodable file."""
    stems = await client.stems(await song_url(client), kind)
    assert [stem.name for stem in stems] == names
    audio = await downloaded_audio(client, stems[-1].audio_url, tmp_path, audio_probe)
    assert audio.duration > 0


async def test_loop_lasts_count_times_the_loop(
    client: SoundverseClient, tmp_path: Path, audio_probe: Probe
) -> None:
    """A loop of count 3 lasts three times a loop of count 1."""
    source = await song_url(client)
    once = await client.loop(source, 1)
    thrice = await client.loop(source, 3)
    single = await downloaded_audio(client, once.takes[0].audio_url, tmp_path, audio_probe, "a")
    triple = await downloaded_audio(client, thrice.takes[0].audio_url, tmp_path, audio_probe, "b")
    assert triple.duration == pytest.approx(3 * single.duration, abs=0.2)


async def test_gen_loop_returns_generated_and_looped(
    client: SoundverseClient, tmp_path: Path, audio_probe: Probe
) -> None:
    """Gen-loop returns the generated track (30 s default) and its loop repeated `loop_count`."""
    twice = await client.gen_loop(GenLoopRequest(prompt="chill beat", loop_count=2))
    four = await client.gen_loop(GenLoopRequest(prompt="chill beat", loop_count=4))
    made = await downloaded_audio(client, twice.generated[0].audio_url, tmp_path, audio_probe, "g")
    short = await downloaded_audio(client, twice.looped[0].audio_url, tmp_path, audio_probe, "2")
    long = await downloaded_audio(client, four.looped[0].audio_url, tmp_path, audio_probe, "4")
    assert_audio(made, "wav", 30)
    assert long.duration == pytest.approx(2 * short.duration, abs=0.2)


async def test_chat_reply_reflects_the_action(client: SoundverseClient) -> None:
    """Chat answers with text, different per action."""
    writing = await client.chat("help me with a chorus", ChatAction.LYRIC_WRITING)
    stems = await client.chat("help me with a chorus", ChatAction.SEPARATE_STEMS)
    assert writing.text and stems.text and writing.text != stems.text


async def test_voice_streams_decodable_mp3(
    client: SoundverseClient, tmp_path: Path, audio_probe: Probe
) -> None:
    """The voice assistant's byte stream, written to disk, decodes as MP3."""
    speech = await song_url(client)
    chunks = [chunk async for chunk in client.voice(speech)]
    path = tmp_path / "answer.mp3"
    path.write_bytes(b"".join(chunks))
    audio = audio_probe(path)
    assert "mp3" in audio.format_names and audio.duration > 0


async def test_save_voice_writes_the_answer(client: SoundverseClient, tmp_path: Path) -> None:
    """`save_voice` writes the whole answer and reports its size."""
    file = await client.save_voice(await song_url(client), tmp_path / "voice.mp3")
    assert file.bytes == file.path.stat().st_size > 0


async def test_status_v5_by_message_id(client: SoundverseClient) -> None:
    """v5 status reports a finished job as completed with its takes."""
    result = await client.stream_song(SongRequest(prompt=PROMPT)).wait()
    assert result.message_id is not None
    status = await client.status(message_id=result.message_id)
    assert status.status == "completed" and status.is_terminal
    assert [t.audio_url for t in status.takes] == [t.audio_url for t in result.takes]


async def test_status_v7_by_job_id(client: SoundverseClient) -> None:
    """v7 status finds a v7 job by its job id."""
    stream = client.stream_song(SongRequest(prompt=PROMPT), SongVersion.V7)
    await stream.wait()
    assert stream.job_id is not None
    status = await client.status(job_id=stream.job_id)
    assert status.status == "completed" and status.job_id == stream.job_id


async def test_resume_finishes_a_job_abandoned_after_its_id(
    make_client: ClientFactory, standin: SoundverseStandIn, fake_time: FakeTime
) -> None:
    """A stream closed once its id is known is finished by `resume` on a new client, one POST."""
    first = make_client()
    stream = first.stream_song(SongRequest(prompt=PROMPT))
    async for state in stream:
        if state.message_id:
            break
    await stream.aclose()
    await first.close()
    message_id = stream.message_id
    assert message_id is not None

    async def job_done() -> None:
        await standin.wait_for_job_terminal(message_id)

    fake_time.wake_on = job_done
    resumed = await make_client().resume(message_id=message_id).wait()
    assert resumed.message_id == message_id
    assert len(resumed.takes) == 2
    assert standin.counters.posts == {"/v5/generate/song": 1}


async def test_resume_of_a_finished_job_returns_its_takes(client: SoundverseClient) -> None:
    """`resume` with the id of a finished job returns the same takes as the original stream."""
    original = await client.stream_song(SongRequest(prompt=PROMPT)).wait()
    assert original.message_id is not None
    resumed = await client.resume(message_id=original.message_id).wait()
    assert_same_takes(resumed, original)


def assert_same_takes(left: GenerationResult, right: GenerationResult) -> None:
    """Both results point at the same audio."""
    assert [t.audio_url for t in left.takes] == [t.audio_url for t in right.takes]


async def test_album_art_is_a_png_image(client: SoundverseClient, tmp_path: Path) -> None:
    """The album art of a generation downloads as an image/png file."""
    result = await client.song_sync(SongRequest(prompt=PROMPT, duration=5))
    assert result.album_art is not None
    file = await client.download(result.album_art, tmp_path / "art.png")
    assert file.content_type == "image/png"
    assert file.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with av.open(str(file.path)) as container:
        frame = next(container.decode(video=0))
        assert frame.width > 0 and frame.height > 0
