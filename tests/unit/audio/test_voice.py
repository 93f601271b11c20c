"""Tests of the decoding voice streams: 20 ms frames at 48 kHz stereo, as Opus packets or PCM.

Packet rule under test: a source of N samples once resampled to 48 kHz gives exactly
ceil(N / 960) packets (or PCM frames), the last one padded with silence. `start` drops the
frames before the one holding that second; `volume` multiplies the samples.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import av
import pytest

from bot.audio import (
    FRAME_SAMPLES,
    PCM_FRAME_BYTES,
    NotAudio,
    OpusPacketStream,
    PCMFrameStream,
)
from tests.unit.audio.voice_helpers import (
    decode_packets,
    pcm_samples,
    read_all,
    rms,
    s16_samples,
)


@pytest.mark.parametrize(
    ("seconds", "rate", "expected"),
    [(1.0, 48000, 50), (1.01, 48000, 51), (0.3, 44100, 15), (1.01, 44100, 51), (0.005, 48000, 1)],
)
def test_opus_packet_count_is_one_per_started_20_ms(make_audio, seconds, rate, expected) -> None:
    """ceil(N / 960) packets for N samples at 48 kHz, whatever the source rate."""
    assert math.ceil(round(seconds * 48000) / FRAME_SAMPLES) == expected
    with OpusPacketStream(make_audio("tone.wav", seconds, rate=rate)) as stream:
        assert len(read_all(stream)) == expected


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".opus", ".flac"])
def test_opus_packets_decode_to_the_input_duration(
    tones: dict[str, Path], decode_all, suffix: str
) -> None:
    """Decoded packets last as long as the decoded source, plus less than one 20 ms frame."""
    source_seconds = sum(frame.samples / frame.sample_rate for frame in decode_all(tones[suffix]))
    with OpusPacketStream(tones[suffix]) as stream:
        frames = decode_packets(read_all(stream))
    excess = sum(frame.samples for frame in frames) / 48000 - source_seconds
    assert -1 / 48000 <= excess < 0.02


def test_opus_packets_decode_to_48_khz_stereo_20_ms_frames(tones: dict[str, Path]) -> None:
    """Each packet holds one 20 ms frame of 48 kHz stereo audio."""
    with OpusPacketStream(tones[".mp3"]) as stream:
        frames = decode_packets(read_all(stream))
    shapes = {(frame.samples, frame.sample_rate, frame.layout.nb_channels) for frame in frames}
    assert shapes == {(960, 48000, 2)}


def test_opus_packets_carry_the_sound(tones: dict[str, Path], peak_of) -> None:
    """The decoded audio of a half-scale tone peaks near 0.5, not silence or noise."""
    with OpusPacketStream(tones[".wav"]) as stream:
        frames = decode_packets(read_all(stream))
    assert peak_of(frames) == pytest.approx(0.5, abs=0.06)


def test_mono_source_is_played_in_stereo(make_audio) -> None:
    """A mono 22.05 kHz source still gives 48 kHz stereo packets of full length."""
    with OpusPacketStream(make_audio("mono.wav", 0.5, rate=22050, channels=1)) as stream:
        frames = decode_packets(read_all(stream))
    assert {frame.layout.nb_channels for frame in frames} == {2}
    assert len(frames) == 25


def test_opus_read_returns_empty_at_the_end_and_after(tones: dict[str, Path]) -> None:
    """After the last packet, every further `read()` returns `b""`."""
    with OpusPacketStream(tones[".mp3"]) as stream:
        read_all(stream)
        assert (stream.read(), stream.read()) == (b"", b"")


def test_opus_read_after_close_returns_empty(tones: dict[str, Path]) -> None:
    """A closed stream gives no more packets."""
    stream = OpusPacketStream(tones[".mp3"])
    assert stream.read()
    stream.close()
    assert stream.read() == b""


def test_streams_say_what_they_yield(tones: dict[str, Path]) -> None:
    """The Opus stream says it is Opus; the PCM stream says it is not."""
    with OpusPacketStream(tones[".wav"]) as opus, PCMFrameStream(tones[".wav"]) as pcm:
        assert (opus.is_opus(), pcm.is_opus()) == (True, False)


class CountingFile(io.BytesIO):
    """A file object that counts the bytes read from it."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_opus_stream_decodes_lazily(long_wav: Path) -> None:
    """The first packet of a 100 s WAV is ready after reading under a tenth of the file."""
    data = long_wav.read_bytes()
    source = CountingFile(data)
    with OpusPacketStream(source) as stream:
        assert stream.read()
        assert source.bytes_read < len(data) / 10


def test_opus_stream_refuses_what_is_not_audio(not_audio: dict[str, Path]) -> None:
    """A text file raises `NotAudio` when the stream is opened."""
    with pytest.raises(NotAudio):
        OpusPacketStream(not_audio["text"])


def test_pcm_frames_are_3840_bytes(tones: dict[str, Path]) -> None:
    """Every PCM frame, the padded last one included, is 3840 bytes."""
    with PCMFrameStream(tones[".ogg"]) as stream:
        assert {len(frame) for frame in read_all(stream)} == {PCM_FRAME_BYTES}


@pytest.mark.parametrize(("seconds", "expected"), [(1.0, 50), (1.01, 51)])
def test_pcm_frame_count_is_one_per_started_20_ms(make_audio, seconds, expected) -> None:
    """ceil(N / 960) frames for N samples at 48 kHz."""
    with PCMFrameStream(make_audio("tone.wav", seconds, rate=48000)) as stream:
        assert len(read_all(stream)) == expected


def test_pcm_of_a_48_khz_stereo_source_is_its_samples_then_silence(make_audio) -> None:
    """A 48 kHz stereo s16 source comes out sample for sample, padded with zeros to 20 ms."""
    path = make_audio("tone.wav", 1.01, rate=48000)
    with av.open(str(path)) as container:
        source = b"".join(bytes(frame.planes[0]) for frame in container.decode(audio=0))
    with PCMFrameStream(path) as stream:
        pcm = b"".join(read_all(stream))
    assert pcm == source + bytes(len(pcm) - len(source))


def test_pcm_read_returns_empty_at_the_end(tones: dict[str, Path]) -> None:
    """After the last frame, `read()` returns `b""`."""
    with PCMFrameStream(tones[".mp3"]) as stream:
        read_all(stream)
        assert stream.read() == b""


@pytest.fixture
def two_seconds(make_audio) -> Path:
    """A 2 s half-scale 48 kHz stereo tone: 100 frames of 20 ms."""
    return make_audio("two.wav", 2.0, rate=48000)


def test_pcm_start_gives_the_frames_from_that_second_on(two_seconds: Path) -> None:
    """`start=1.0` gives frames 50 to 99 of the whole stream, sample for sample."""
    with PCMFrameStream(two_seconds) as whole, PCMFrameStream(two_seconds, start=1.0) as rest:
        assert read_all(rest) == read_all(whole)[50:]


def test_pcm_start_inside_a_frame_begins_at_that_frame(two_seconds: Path) -> None:
    """`start=1.019` begins at frame 50, the one holding that second."""
    with PCMFrameStream(two_seconds) as whole, PCMFrameStream(two_seconds, start=1.019) as rest:
        assert read_all(rest) == read_all(whole)[50:]


def test_start_on_a_frame_boundary_is_not_lost_to_rounding(two_seconds: Path) -> None:
    """`start=1.14` begins at frame 57, though 1.14 / 0.02 is 56.99999999999999 in floats."""
    with PCMFrameStream(two_seconds) as whole, PCMFrameStream(two_seconds, start=1.14) as rest:
        assert read_all(rest) == read_all(whole)[57:]


def test_opus_start_gives_half_the_packets_of_a_2_s_clip(two_seconds: Path) -> None:
    """`start=1.0` on 100 packets of audio leaves the last 50."""
    with OpusPacketStream(two_seconds, start=1.0) as stream:
        assert len(read_all(stream)) == 50


@pytest.mark.parametrize("stream_type", [OpusPacketStream, PCMFrameStream])
def test_position_is_start_then_20_ms_more_per_read(two_seconds: Path, stream_type) -> None:
    """`position` is 1.0 before the first read after `start=1.0`, then 0.02 s more per read."""
    with stream_type(two_seconds, start=1.0) as stream:
        positions = [stream.position]
        for _ in range(3):
            stream.read()
            positions.append(stream.position)
    assert positions == pytest.approx([1.0, 1.02, 1.04, 1.06])


@pytest.mark.parametrize("stream_type", [OpusPacketStream, PCMFrameStream])
def test_position_at_the_end_is_the_padded_length(two_seconds: Path, stream_type) -> None:
    """After the last frame `position` is the length in whole frames, and stays there."""
    with stream_type(two_seconds) as stream:
        read_all(stream)
        stream.read()
        assert stream.position == pytest.approx(2.0)


@pytest.mark.parametrize("stream_type", [OpusPacketStream, PCMFrameStream])
def test_start_past_the_end_gives_nothing(two_seconds: Path, stream_type) -> None:
    """A start after the last frame gives no frames and a position at the end of the audio."""
    with stream_type(two_seconds, start=5.0) as stream:
        assert stream.read() == b""
        assert stream.position == pytest.approx(2.0)


@pytest.mark.parametrize("stream_type", [OpusPacketStream, PCMFrameStream])
@pytest.mark.parametrize("start", [-0.02, math.nan, math.inf])
def test_start_must_be_a_second_of_the_track(two_seconds: Path, stream_type, start) -> None:
    """A negative or non-finite start raises `ValueError`."""
    with pytest.raises(ValueError, match="start"):
        stream_type(two_seconds, start=start)


def test_half_volume_halves_the_decoded_rms(two_seconds: Path) -> None:
    """`volume=0.5` gives Opus packets whose decoded RMS is half that at full volume."""
    with OpusPacketStream(two_seconds) as full, OpusPacketStream(two_seconds, volume=0.5) as half:
        full_rms = rms(s16_samples(decode_packets(read_all(full))))
        half_rms = rms(s16_samples(decode_packets(read_all(half))))
    assert half_rms / full_rms == pytest.approx(0.5, rel=0.1)


def test_volume_one_gives_the_packets_of_no_volume(two_seconds: Path) -> None:
    """`volume=1.0` gives byte-identical packets to a stream made without `volume`."""
    with OpusPacketStream(two_seconds) as plain, OpusPacketStream(two_seconds, volume=1.0) as one:
        assert read_all(one) == read_all(plain)


def test_pcm_volume_multiplies_every_sample(two_seconds: Path) -> None:
    """`volume=0.5` halves each PCM sample, to the nearest integer."""
    with PCMFrameStream(two_seconds) as full, PCMFrameStream(two_seconds, volume=0.5) as half:
        pairs = zip(pcm_samples(read_all(full)), pcm_samples(read_all(half)), strict=True)
    assert max(abs(scaled - original * 0.5) for original, scaled in pairs) <= 1


def test_loud_volume_clips_instead_of_wrapping(two_seconds: Path) -> None:
    """`volume=4` on a half-scale tone saturates at the int16 limits, keeping each sign."""
    with PCMFrameStream(two_seconds) as full, PCMFrameStream(two_seconds, volume=4.0) as loud:
        original = pcm_samples(read_all(full))
        scaled = pcm_samples(read_all(loud))
    expected = [max(-32768, min(32767, value * 4)) for value in original]
    assert max(abs(got - want) for got, want in zip(scaled, expected, strict=True)) <= 1


@pytest.mark.parametrize("stream_type", [OpusPacketStream, PCMFrameStream])
@pytest.mark.parametrize("volume", [-0.5, math.nan, math.inf])
def test_volume_must_be_a_finite_factor(two_seconds: Path, stream_type, volume) -> None:
    """A negative or non-finite volume raises `ValueError`."""
    with pytest.raises(ValueError, match="volume"):
        stream_type(two_seconds, volume=volume)
