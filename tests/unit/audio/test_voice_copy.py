"""Tests of the stored voice copy: encoded once to Ogg Opus, replayed packet by packet.

Rules under test: a source of N samples once resampled to 48 kHz is stored as exactly
ceil(N / 960) packets of one 20 ms frame each, the very packets `OpusPacketStream` makes;
`StoredOpusStream` gives them back as stored, from the one holding `start` on; `dest` holds
either a complete copy or what it held before.
"""

from __future__ import annotations

import io
import math
import statistics
from pathlib import Path

import av
import pytest

from bot.audio import (
    NotAudio,
    OpusPacketStream,
    StoredOpusStream,
    encode_opus,
    stored_opus_path,
)
from tests.unit.audio.voice_helpers import (
    decode_packets,
    opus_decoder,
    read_all,
    rms_per_20_ms,
    s16_samples,
    write_swelling_tone,
)


def stored_packets(source: Path, start: float = 0.0) -> list[bytes]:
    """Every packet of a voice copy of `source`, made beside it, from `start` on."""
    copy = encode_opus(source, stored_opus_path(source))
    with StoredOpusStream(copy, start) as stream:
        return read_all(stream)


@pytest.fixture
def two_second_copy(make_audio) -> Path:
    """The voice copy of a 2 s 48 kHz tone: 100 packets."""
    source = make_audio("two.wav", 2.0, rate=48000)
    return encode_opus(source, stored_opus_path(source))


def test_the_copy_sits_beside_the_track() -> None:
    """The voice copy of `music/song.mp3` is `music/song.mp3.voice.ogg`."""
    assert stored_opus_path(Path("music/song.mp3")) == Path("music/song.mp3.voice.ogg")


def test_encode_opus_returns_the_copy(make_audio) -> None:
    """`encode_opus` returns `dest`, where the file now is."""
    source = make_audio("tone.wav", 0.5)
    dest = source.with_name("copy.ogg")
    assert encode_opus(source, dest) == dest
    assert dest.stat().st_size > 0


@pytest.mark.parametrize(
    ("seconds", "rate", "expected"),
    [(1.0, 48000, 50), (1.01, 48000, 51), (0.3, 44100, 15), (1.01, 44100, 51), (0.005, 48000, 1)],
)
def test_copy_replays_one_packet_per_started_20_ms(make_audio, seconds, rate, expected) -> None:
    """ceil(N / 960) stored packets for N samples at 48 kHz, whatever the source rate."""
    assert math.ceil(round(seconds * 48000) / 960) == expected
    assert len(stored_packets(make_audio("tone.wav", seconds, rate=rate))) == expected


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".opus"])
def test_copy_decodes_to_the_source_length(
    tones: dict[str, Path], decode_all, tmp_path: Path, suffix: str
) -> None:
    """The stored packets decode to the decoded source's length, plus less than 20 ms."""
    source = tmp_path / f"tone{suffix}"
    source.write_bytes(tones[suffix].read_bytes())
    source_seconds = sum(frame.samples / frame.sample_rate for frame in decode_all(source))
    frames = decode_packets(stored_packets(source))
    excess = sum(frame.samples for frame in frames) / 48000 - source_seconds
    assert -1 / 48000 <= excess < 0.02


def test_copy_follows_the_loudness_of_the_source(tmp_path: Path, decode_all) -> None:
    """The decoded copy's RMS per 20 ms tracks the source's (Pearson r > 0.9)."""
    source = write_swelling_tone(tmp_path / "swell.wav", 3.0, 44100)
    source_envelope = rms_per_20_ms(s16_samples(decode_all(source)), 44100)
    copy_envelope = rms_per_20_ms(s16_samples(decode_packets(stored_packets(source))), 48000)
    length = min(len(source_envelope), len(copy_envelope))
    r = statistics.correlation(source_envelope[:length], copy_envelope[:length])
    assert r > 0.9


def test_copy_holds_the_packets_the_opus_stream_makes(make_audio) -> None:
    """The stored packets are byte for byte those `OpusPacketStream` encodes from the source."""
    source = make_audio("tone.mp3", 1.3)
    with OpusPacketStream(source) as encoded:
        assert stored_packets(source) == read_all(encoded)


def test_every_stored_packet_is_one_20_ms_frame(make_audio) -> None:
    """Each packet, decoded on its own, is exactly one frame of 960 stereo samples."""
    packets = stored_packets(make_audio("tone.ogg", 1.5))
    decoder = opus_decoder()
    shapes = [
        [(frame.samples, frame.layout.nb_channels) for frame in decoder.decode(av.Packet(packet))]
        for packet in packets
    ]
    assert shapes == [[(960, 2)]] * len(packets)


def test_no_stored_packet_is_an_ogg_opus_header(make_audio) -> None:
    """Neither the OpusHead nor the OpusTags header comes out as a packet."""
    packets = stored_packets(make_audio("tone.wav", 0.5))
    assert not [packet for packet in packets if packet.startswith((b"OpusHead", b"OpusTags"))]


def test_stored_start_gives_half_the_packets_of_a_2_s_clip(two_second_copy: Path) -> None:
    """`start=1.0` gives packets 50 to 99 of the whole copy."""
    with StoredOpusStream(two_second_copy) as whole, StoredOpusStream(two_second_copy, 1.0) as rest:
        assert read_all(rest) == read_all(whole)[50:]


def test_stored_start_inside_a_packet_begins_at_that_packet(two_second_copy: Path) -> None:
    """`start=1.019` begins at packet 50, the one holding that second."""
    with StoredOpusStream(two_second_copy) as whole:
        tail = read_all(whole)[50:]
    with StoredOpusStream(two_second_copy, 1.019) as rest:
        assert (rest.position, read_all(rest)) == (1.0, tail)


def test_stored_position_is_start_then_20_ms_more_per_read(two_second_copy: Path) -> None:
    """`position` is 1.0 before the first read after `start=1.0`, then 0.02 s more per read."""
    with StoredOpusStream(two_second_copy, 1.0) as stream:
        positions = [stream.position]
        for _ in range(3):
            stream.read()
            positions.append(stream.position)
    assert positions == pytest.approx([1.0, 1.02, 1.04, 1.06])


def test_stored_start_past_the_end_gives_nothing(two_second_copy: Path) -> None:
    """A start after the last packet gives no packets and a position at the end of the copy."""
    with StoredOpusStream(two_second_copy, 5.0) as stream:
        assert stream.read() == b""
        assert stream.position == pytest.approx(2.0)


@pytest.mark.parametrize("start", [-0.02, math.nan, math.inf])
def test_stored_start_must_be_a_second_of_the_track(two_second_copy: Path, start) -> None:
    """A negative or non-finite start raises `ValueError`."""
    with pytest.raises(ValueError, match="start"):
        StoredOpusStream(two_second_copy, start)


def test_stored_read_returns_empty_at_the_end_and_after(two_second_copy: Path) -> None:
    """After the last packet, every further `read()` returns `b""`."""
    with StoredOpusStream(two_second_copy) as stream:
        read_all(stream)
        assert (stream.read(), stream.read()) == (b"", b"")


def test_stored_read_after_close_returns_empty(two_second_copy: Path) -> None:
    """A closed stream gives no more packets."""
    stream = StoredOpusStream(two_second_copy)
    assert stream.read()
    stream.close()
    assert stream.read() == b""


def test_stored_stream_says_it_is_opus(two_second_copy: Path) -> None:
    """The stored stream's packets go out as Opus."""
    with StoredOpusStream(two_second_copy) as stream:
        assert stream.is_opus() is True


def test_stored_stream_refuses_audio_that_is_not_opus(tones: dict[str, Path]) -> None:
    """An MP3 given as a voice copy raises `NotAudio` when the stream is made."""
    with pytest.raises(NotAudio):
        StoredOpusStream(tones[".mp3"])


def test_stored_stream_of_a_missing_copy_raises_when_made(tmp_path: Path) -> None:
    """A copy that does not exist raises `FileNotFoundError` before any read."""
    with pytest.raises(FileNotFoundError):
        StoredOpusStream(tmp_path / "gone.voice.ogg")


@pytest.mark.parametrize("kind", ["text", "png", "empty", "video_only", "zero_length"])
def test_encode_opus_of_what_is_not_audio_leaves_no_file(
    not_audio: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    """Not audio, or audio of no samples, raises `NotAudio` and leaves neither copy nor temp."""
    before = set(tmp_path.iterdir())
    dest = tmp_path / "copy.voice.ogg"
    with pytest.raises(NotAudio):
        encode_opus(not_audio[kind], dest)
    assert set(tmp_path.iterdir()) == before


class FailingFile(io.BytesIO):
    """A file object whose reads fail once `fail_after` bytes have been read from it."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        super().__init__(data)
        self.fail_after = fail_after
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        if self.bytes_read > self.fail_after:
            raise OSError("the disk went away")
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_encode_opus_failing_part_way_leaves_no_file(long_wav: Path, tmp_path: Path) -> None:
    """A source that fails half-way through leaves neither copy nor temp file behind."""
    data = long_wav.read_bytes()
    dest = tmp_path / "copy.voice.ogg"
    with pytest.raises(OSError, match="disk went away"):
        encode_opus(FailingFile(data, len(data) // 2), dest)
    assert list(tmp_path.iterdir()) == []


def test_encode_opus_failing_part_way_keeps_the_previous_copy(
    long_wav: Path, tmp_path: Path
) -> None:
    """A failed encode leaves an existing copy at `dest` exactly as it was."""
    data = long_wav.read_bytes()
    dest = tmp_path / "copy.voice.ogg"
    dest.write_bytes(b"the previous copy")
    with pytest.raises(OSError, match="disk went away"):
        encode_opus(FailingFile(data, len(data) // 2), dest)
    assert dest.read_bytes() == b"the previous copy"


def test_encode_opus_replaces_an_existing_copy(make_audio) -> None:
    """Encoding over an old copy leaves the new packets at `dest`."""
    source = make_audio("tone.wav", 0.5)
    dest = stored_opus_path(source)
    dest.write_bytes(b"an old copy")
    encode_opus(source, dest)
    with StoredOpusStream(dest) as stream:
        assert len(read_all(stream)) == 25
