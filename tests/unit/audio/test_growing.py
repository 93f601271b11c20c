"""Tests of `GrowingBuffer`: reads wait for bytes still to come, end when the feeder ends, and
PyAV decodes a stream from it as the stream arrives."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from bot.audio import GrowingBuffer, OpusPacketStream


def read_in_thread(buffer: GrowingBuffer, size: int) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(buffer.read(size)))
    reader.start()
    return reader, got


def test_a_read_returns_what_has_arrived() -> None:
    """Fed 3 bytes, a read of 10 gives those 3 at once."""
    buffer = GrowingBuffer()
    buffer.feed(b"abc")
    assert buffer.read(10) == b"abc"


def test_a_read_waits_until_bytes_arrive() -> None:
    """A read with nothing to give waits (it does not return empty), and returns the bytes
    fed afterwards."""
    buffer = GrowingBuffer()
    reader, got = read_in_thread(buffer, 10)
    buffer.feed(b"late")
    reader.join(5)
    assert got == [b"late"]


def test_the_end_is_seen_once_everything_is_read() -> None:
    """After `end`, what was fed is still read, then reads give b""."""
    buffer = GrowingBuffer()
    buffer.feed(b"all")
    buffer.end()
    assert (buffer.read(10), buffer.read(10)) == (b"all", b"")


def test_a_waiting_read_ends_with_the_stream() -> None:
    """A read waiting for bytes returns b"" when the feeder ends."""
    buffer = GrowingBuffer()
    reader, got = read_in_thread(buffer, 10)
    buffer.end()
    reader.join(5)
    assert got == [b""]


def test_a_broken_stream_raises_once_read_to_where_it_broke() -> None:
    """Ended with an error, the buffer gives what came, then raises OSError."""
    buffer = GrowingBuffer()
    buffer.feed(b"part")
    buffer.end(RuntimeError("connection reset"))
    assert buffer.read(10) == b"part"
    with pytest.raises(OSError, match="connection reset"):
        buffer.read(10)


def test_closing_lets_a_waiting_read_go_and_drops_later_bytes() -> None:
    """The reader closing the buffer ends its own waiting read; later feeds keep nothing."""
    buffer = GrowingBuffer()
    reader, got = read_in_thread(buffer, 10)
    buffer.close()
    reader.join(5)
    buffer.feed(b"ignored")
    assert got == [b""] and buffer.received == 0


def test_opus_packets_come_from_the_first_bytes(tones: dict[str, Path]) -> None:
    """With only the first 8 KB of an MP3 fed, an arriving stream already gives packets; fed
    the rest and ended, it gives every 20 ms of the tone's 1.5 s."""
    data = tones[".mp3"].read_bytes()
    buffer = GrowingBuffer()
    buffer.feed(data[:8192])
    stream = OpusPacketStream(buffer, arriving=True)
    first = stream.read()
    buffer.feed(data[8192:])
    buffer.end()
    count = 1
    while stream.read():
        count += 1
    stream.close()
    assert first and count == pytest.approx(75, abs=2)


def test_a_file_object_is_readable_like_any_stream() -> None:
    """It is a raw binary stream that cannot seek."""
    buffer = GrowingBuffer()
    assert isinstance(buffer, io.RawIOBase) and buffer.readable() and not buffer.seekable()
