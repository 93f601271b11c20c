"""Tests of the voice streams: 20 ms frames at 48 kHz stereo, as Opus packets or PCM.

Packet rule under test: a source of N samples once resampled to 48 kHz gives exactly
ceil(N / 960) packets (or PCM frames), the last one padded with silence.
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


def read_all(stream: OpusPacketStream | PCMFrameStream) -> list[bytes]:
    """Every chunk `read()` gives before the first `b""`."""
    chunks = []
    while chunk := stream.read():
        chunks.append(chunk)
    return chunks


def decode_packets(packets: list[bytes]) -> list[av.AudioFrame]:
    """Decode raw Opus packets with FFmpeg's own Opus decoder."""
    decoder = av.CodecContext.create("opus", "r")
    decoder.sample_rate = 48000
    decoder.layout = "stereo"
    return [frame for packet in packets for frame in decoder.decode(av.Packet(packet))]


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
