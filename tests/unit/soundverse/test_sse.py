"""Unit tests for the WHATWG event stream parser in bot.soundverse.sse."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.soundverse.sse import ServerSentEvent, SSEParser, SSEProtocolError, iter_events


def ev(
    data: str, event: str = "message", id: str = "", retry: int | None = None
) -> ServerSentEvent:
    """An expected event, with the spec's defaults."""
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


def parse(stream: bytes, parser: SSEParser | None = None) -> list[ServerSentEvent]:
    """Feed the whole stream at once, then close it."""
    parser = parser if parser is not None else SSEParser()
    return parser.feed(stream) + parser.close()


def parse_in_pieces(pieces: list[bytes], parser: SSEParser | None = None) -> list[ServerSentEvent]:
    """Feed the chunks in order, then close the stream."""
    parser = parser if parser is not None else SSEParser()
    events: list[ServerSentEvent] = []
    for piece in pieces:
        events += parser.feed(piece)
    return events + parser.close()


def split_at(stream: bytes, cuts: list[int]) -> list[bytes]:
    """The stream cut at the given offsets; a cut at either end gives an empty chunk."""
    bounds = [0, *sorted(set(cuts)), len(stream)]
    return [stream[start:end] for start, end in pairwise(bounds)]


class Case(NamedTuple):
    """A table row: what it shows, a whole stream, and the events it must give."""

    doc: str
    stream: bytes
    events: list[ServerSentEvent]


RULES = [
    Case("LF ends lines", b"data: a\n\n", [ev("a")]),
    Case("CRLF ends lines", b"data: a\r\n\r\n", [ev("a")]),
    Case("a lone CR ends lines", b"data: a\r\r", [ev("a")]),
    Case("mixed endings in one stream", b"data: a\rdata: b\r\ndata: c\n\r\n", [ev("a\nb\nc")]),
    Case("CR CR LF is a line then a blank line", b"data: a\r\r\n", [ev("a")]),
    Case("LF CR is two line endings", b"data: a\n\rdata: b\n\n", [ev("a"), ev("b")]),
    Case(
        "a lone CR inside a block between LF blocks ends a line",
        b"data: a\n\ndata: b\rdata: c\n\ndata: d\n\n",
        [ev("a"), ev("b\nc"), ev("d")],
    ),
    Case(
        "a CRLF ending before an LF blank line is one line ending",
        b"data: a\n\ndata: b\r\n\ndata: c\n\n",
        [ev("a"), ev("b"), ev("c")],
    ),
    Case("a comment line is ignored", b": ping\ndata: a\n: ping\n\n", [ev("a")]),
    Case("a bare colon is a comment", b":\ndata: a\n\n", [ev("a")]),
    Case("one leading space is removed", b"data: a\n\n", [ev("a")]),
    Case("only one leading space is removed", b"data:  a\n\n", [ev(" a")]),
    Case("a value without a space is kept whole", b"data:a\n\n", [ev("a")]),
    Case("trailing spaces are kept", b"data: a  \n\n", [ev("a  ")]),
    Case("a leading tab is kept", b"data:\ta\n\n", [ev("\ta")]),
    Case("later colons belong to the value", b"data: a: b:c\n\n", [ev("a: b:c")]),
    Case("a line without a colon is a field with an empty value", b"data\n\n", [ev("")]),
    Case("data lines are joined with LF", b"data: a\ndata: b\ndata: c\n\n", [ev("a\nb\nc")]),
    Case("only the final LF of data is removed", b"data:\ndata:\n\n", [ev("\n")]),
    Case("an empty data value still dispatches", b"data:\n\n", [ev("")]),
    Case("event sets the type", b"event: job\ndata: a\n\n", [ev("a", event="job")]),
    Case("the last event field wins", b"event: a\nevent: b\ndata: x\n\n", [ev("x", event="b")]),
    Case("an empty event type means message", b"event:\ndata: a\n\n", [ev("a")]),
    Case(
        "the type resets after dispatch",
        b"event: job\ndata: a\n\ndata: b\n\n",
        [ev("a", event="job"), ev("b")],
    ),
    Case("a block without data dispatches nothing", b"event: job\nid: 1\n\n", []),
    Case("a block without data resets the type", b"event: job\n\ndata: a\n\n", [ev("a", id="")]),
    Case("id sets the event id", b"id: 7\ndata: a\n\n", [ev("a", id="7")]),
    Case("id set after data in a block applies to it", b"data: a\nid: 7\n\n", [ev("a", id="7")]),
    Case(
        "the id persists across events",
        b"id: 7\ndata: a\n\ndata: b\n\n",
        [ev("a", id="7"), ev("b", id="7")],
    ),
    Case(
        "an empty id resets the id",
        b"id: 7\ndata: a\n\nid\ndata: b\n\n",
        [ev("a", id="7"), ev("b", id="")],
    ),
    Case(
        "an id containing NUL is ignored",
        b"id: 7\ndata: a\n\nid: 8\x009\ndata: b\n\n",
        [ev("a", id="7"), ev("b", id="7")],
    ),
    Case(
        "an id set in a data-less block applies to later events",
        b"id: 7\n\ndata: a\n\n",
        [ev("a", id="7")],
    ),
    Case("retry of ASCII digits is kept", b"retry: 2500\ndata: a\n\n", [ev("a", retry=2500)]),
    Case(
        "retry applies only to its own block",
        b"retry: 5\ndata: a\n\ndata: b\n\n",
        [ev("a", retry=5), ev("b")],
    ),
    Case("retry with a sign is ignored", b"retry: +5\ndata: a\n\n", [ev("a")]),
    Case("retry with a decimal point is ignored", b"retry: 1.5\ndata: a\n\n", [ev("a")]),
    Case("retry with two leading spaces is ignored", b"retry:  5\ndata: a\n\n", [ev("a")]),
    Case("an empty retry is ignored", b"retry:\ndata: a\n\n", [ev("a")]),
    Case("retry with non-ASCII digits is ignored", "retry: ٥\ndata: a\n\n".encode(), [ev("a")]),
    Case("unknown fields are ignored", b"foo: bar\ndata: a\nDATA: b\n\n", [ev("a")]),
    Case("a block of unknown fields dispatches nothing", b"foo: bar\n\n", []),
    Case("blank lines without data dispatch nothing", b"\n\n\r\n\r\r", []),
    Case("a leading BOM is stripped", b"\xef\xbb\xbfdata: a\n\n", [ev("a")]),
    Case("only one BOM is stripped", b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n", []),
    Case("a BOM after the start is kept", b"data: \xef\xbb\xbfa\n\n", [ev("\ufeffa")]),
    Case("UTF-8 is decoded", "data: é ♫ 🎵\n\n".encode(), [ev("é ♫ 🎵")]),
    Case("an invalid byte becomes U+FFFD", b"data: a\xffb\n\n", [ev("a\ufffdb")]),
    Case("a truncated sequence before LF becomes U+FFFD", b"data: a\xe2\x82\n\n", [ev("a\ufffd")]),
    Case("an unterminated last event is discarded", b"data: a\n\ndata: b\n", [ev("a")]),
    Case("an unterminated last line is discarded", b"data: a\n\ndata: b", [ev("a")]),
]


@pytest.mark.parametrize("case", RULES, ids=[case.doc for case in RULES])
def test_rule(case: Case) -> None:
    """The stream in each table row parses to exactly the listed events."""
    assert parse(case.stream) == case.events


@pytest.mark.parametrize("case", RULES, ids=[case.doc for case in RULES])
def test_rule_byte_by_byte(case: Case) -> None:
    """Feeding each table row one byte at a time gives the same events as feeding it whole."""
    pieces = [case.stream[i : i + 1] for i in range(len(case.stream))]
    assert parse_in_pieces(pieces) == case.events


WHATWG_EXAMPLES = [
    Case(
        "stock ticker: three data lines form one event",
        b"data: YHOO\ndata: +2\ndata: 10\n\n",
        [ev("YHOO\n+2\n10")],
    ),
    Case(
        "comment, ids, an empty id and two spaces before a value",
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
        b"data:  third event\n\n",
        [ev("first event", id="1"), ev("second event"), ev(" third event")],
    ),
    Case(
        "the end of the stream does not dispatch the last block",
        b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
        b"data:  third event\n",
        [ev("first event", id="1"), ev("second event")],
    ),
    Case("empty data and a lone newline", b"data\n\ndata\ndata\n\ndata:", [ev(""), ev("\n")]),
    Case(
        "a space after the colon is optional",
        b"data:test\n\ndata: test\n\n",
        [ev("test"), ev("test")],
    ),
]


@pytest.mark.parametrize("case", WHATWG_EXAMPLES, ids=[case.doc for case in WHATWG_EXAMPLES])
def test_whatwg_example(case: Case) -> None:
    """Each example stream from the WHATWG HTML standard parses to the events it describes."""
    assert parse(case.stream) == case.events


class ChunkedCase(NamedTuple):
    """A table row: what it shows, a stream as chunks, and the events it must give."""

    doc: str
    chunks: list[bytes]
    events: list[ServerSentEvent]


CHUNKED = [
    ChunkedCase("one event per chunk", [b"data: a\n\n", b"data: b\n\n"], [ev("a"), ev("b")]),
    ChunkedCase(
        "a type from an earlier chunk", [b"event: job\n", b"data: a\n\n"], [ev("a", "job")]
    ),
    ChunkedCase("an id from an earlier chunk", [b"id: 5\n", b"data: a\n\n"], [ev("a", id="5")]),
    ChunkedCase(
        "a retry from an earlier chunk", [b"retry: 9\n", b"data: a\n\n"], [ev("a", retry=9)]
    ),
    ChunkedCase("data from an earlier chunk", [b"data: a\n", b"data: b\n\n"], [ev("a\nb")]),
    ChunkedCase("a line begun in an earlier chunk", [b"data: a", b"data: b\n\n"], [ev("adata: b")]),
    ChunkedCase("an event chunk after a lone BOM", [b"\xef\xbb\xbf", b"data: a\n\n"], [ev("a")]),
    ChunkedCase(
        "a BOM after a first event chunk is kept",
        [b"data: a\n\n", b"\xef\xbb\xbfdata: b\n\n"],
        [ev("a")],
    ),
    ChunkedCase("an event chunk after a held CR", [b"data: a\r", b"data: b\n\n"], [ev("a\nb")]),
    ChunkedCase("an event chunk after a comment", [b": ping\n", b"data: a\n\n"], [ev("a")]),
    ChunkedCase(
        "a chunk with an extra line",
        [b"data: a\n\n", b"data: b\nid: 1\n\n"],
        [ev("a"), ev("b", id="1")],
    ),
]


@pytest.mark.parametrize("case", CHUNKED, ids=[case.doc for case in CHUNKED])
def test_chunked(case: ChunkedCase) -> None:
    """The chunks in each table row, fed in order, parse to exactly the listed events."""
    assert parse_in_pieces(case.chunks) == case.events


def test_comments_are_counted() -> None:
    """Every comment line increments comments_seen, wherever it appears."""
    parser = SSEParser()
    parse(b": ping\n:\ndata: a\n: ping\n\n:x\r", parser)
    assert parser.comments_seen == 4


def test_last_event_id_is_kept_on_the_parser() -> None:
    """last_event_id holds the id of the last dispatched block, for a Last-Event-ID header."""
    parser = SSEParser()
    parse(b"id: 1\ndata: a\n\nid: 2\n\nid: 3\ndata: c\n", parser)
    assert parser.last_event_id == "2"


def test_retry_is_kept_on_the_parser() -> None:
    """parser.retry keeps the last valid reconnection time after later blocks."""
    parser = SSEParser()
    parse(b"retry: 300\n\nretry: x\ndata: a\n\n", parser)
    assert parser.retry == 300


def test_retry_with_too_many_digits_is_ignored() -> None:
    """A retry value longer than int() accepts is ignored instead of raising."""
    parser = SSEParser()
    events = parse(b"retry: " + b"9" * 10_000 + b"\ndata: a\n\n", parser)
    assert (events, parser.retry) == ([ev("a")], None)


def test_crlf_split_across_chunks() -> None:
    """A CR ending one chunk and the LF opening the next form one line ending, not two."""
    events = parse_in_pieces([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])
    assert events == [ev("a\nb")]


def test_cr_at_chunk_end_is_a_line_ending_even_without_lf() -> None:
    """A CR ending a chunk still ends the line when the next chunk starts with other text."""
    events = parse_in_pieces([b"data: a\r", b"data: b\r", b"\r"])
    assert events == [ev("a\nb")]


def test_event_is_returned_before_the_lf_of_its_crlf() -> None:
    """An event ended by CRLF split after the CR is returned without waiting for the LF."""
    parser = SSEParser()
    assert parser.feed(b"data: a\r\n\r") == [ev("a")]


def test_lf_after_held_cr_is_not_a_blank_line() -> None:
    """The LF completing a CRLF split across chunks does not dispatch the event early."""
    parser = SSEParser()
    parser.feed(b"data: a\r")
    assert parser.feed(b"\n") == []


def test_cr_followed_by_text_in_same_chunk_does_not_swallow_next_lf() -> None:
    """A CR followed by more text in its chunk leaves a LF opening the next chunk as a line end."""
    events = parse_in_pieces([b"data: a\rdata: b", b"\n\n"])
    assert events == [ev("a\nb")]


def test_multibyte_character_split_across_chunks() -> None:
    """A UTF-8 character whose bytes arrive in separate chunks decodes to that character."""
    note = "🎵".encode()
    events = parse_in_pieces([b"data: " + note[:1], note[1:3], note[3:] + b"\n\n"])
    assert events == [ev("🎵")]


def test_bom_split_across_chunks() -> None:
    """A leading BOM whose bytes arrive in separate chunks is still stripped."""
    events = parse_in_pieces([b"\xef", b"\xbb", b"\xbfdata: a\n\n"])
    assert events == [ev("a")]


def test_bom_after_a_leading_blank_line_is_kept() -> None:
    """A BOM is only stripped at the very start of the stream."""
    events = parse(b"\n\xef\xbb\xbfdata: a\n\ndata: b\n\n")
    assert events == [ev("b")]


def test_one_mib_data_line() -> None:
    """A 1 MiB data line fed in 4 KiB chunks arrives whole."""
    payload = b"x" * (1024 * 1024)
    stream = b"data: " + payload + b"\n\n"
    events = parse_in_pieces(split_at(stream, list(range(4096, len(stream), 4096))))
    assert events == [ev(payload.decode())]


def test_line_at_the_limit_is_accepted() -> None:
    """A line of exactly max_line_bytes bytes is parsed."""
    parser = SSEParser(max_line_bytes=16)
    assert parse_in_pieces([b"data: 0123456789", b"\r\n\r\n"], parser) == [ev("0123456789")]


def test_long_line_across_chunks_raises() -> None:
    """An unterminated line growing past max_line_bytes over several chunks raises."""
    parser = SSEParser(max_line_bytes=16)
    parser.feed(b"data: 0123456789")
    with pytest.raises(SSEProtocolError, match="exceeds 16 bytes"):
        parser.feed(b"a")


def test_long_line_inside_one_chunk_raises() -> None:
    """A complete line longer than max_line_bytes inside a single chunk raises."""
    parser = SSEParser(max_line_bytes=16)
    with pytest.raises(SSEProtocolError, match="exceeds 16 bytes"):
        parser.feed(b"data: a\n\ndata: 0123456789a\n\n")


def test_limit_counts_bytes_not_characters() -> None:
    """The line limit is measured in encoded bytes, so multi-byte characters count fully."""
    parser = SSEParser(max_line_bytes=16)
    with pytest.raises(SSEProtocolError):
        parser.feed("data: éééééé\n".encode())


def test_max_line_bytes_must_be_positive() -> None:
    """A zero line limit is rejected when the parser is built."""
    with pytest.raises(ValueError, match="positive"):
        SSEParser(max_line_bytes=0)


def test_eof_mid_event_is_recorded() -> None:
    """Closing after data lines without a blank line discards them and sets discarded_at_eof."""
    parser = SSEParser()
    parser.feed(b'data: {"isComplete": true}\n')
    assert (parser.close(), parser.discarded_at_eof) == ([], True)


def test_eof_mid_line_is_recorded() -> None:
    """Closing inside an unterminated line sets discarded_at_eof."""
    parser = SSEParser()
    parser.feed(b"data: {")
    parser.close()
    assert parser.discarded_at_eof


def test_eof_mid_event_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Discarding an unterminated event at EOF logs a warning."""
    with caplog.at_level(logging.WARNING, logger="bot.soundverse.sse"):
        parse(b"data: a\n")
    assert "ended mid-event" in caplog.text


def test_clean_eof_is_not_recorded() -> None:
    """A stream ending right after a blank line leaves discarded_at_eof False."""
    parser = SSEParser()
    parse(b"data: a\n\n: ping\n", parser)
    assert not parser.discarded_at_eof


def test_feed_after_close_raises() -> None:
    """Feeding a closed parser is a protocol error."""
    parser = SSEParser()
    parser.close()
    with pytest.raises(SSEProtocolError, match="after close"):
        parser.feed(b"data: a\n\n")


def test_empty_chunks_are_harmless() -> None:
    """Empty chunks between real ones, including after a held CR, change nothing."""
    events = parse_in_pieces([b"", b"data: a\r", b"", b"\n", b"", b"\n"])
    assert events == [ev("a")]


async def test_iter_events_over_async_generator() -> None:
    """iter_events yields every event of an async byte source and closes the parser at the end."""

    async def chunks() -> AsyncIterator[bytes]:
        for piece in (
            b'data: {"chunkIndex": 0}\n',
            b"\n: ping\n",
            b'data: {"chunk',
            b'Index": 1}\n',
        ):
            yield piece

    parser = SSEParser()
    events = [event async for event in iter_events(chunks(), parser)]
    assert (events, parser.discarded_at_eof) == ([ev('{"chunkIndex": 0}')], True)


async def test_iter_events_builds_its_own_parser() -> None:
    """iter_events works without a parser being passed in."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"event: job_created\ndata: 1\n\n"

    assert [event async for event in iter_events(chunks())] == [ev("1", event="job_created")]


# --- property tests -----------------------------------------------------------------------

_text_values = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=12
).map(str.encode)
_raw_values = st.binary(max_size=8).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b""))
_values = st.one_of(_text_values, _raw_values, st.sampled_from([b"", b" ", b"  x", b"\xe2\x82"]))
_field_lines = st.one_of(
    st.tuples(st.sampled_from([b"data", b"event", b"id", b"retry", b"foo", b""]), _values).map(
        lambda pair: pair[0] + b":" + pair[1]
    ),
    st.sampled_from([b"data", b"id", b"retry: 1500", b"id: a\x00b", b": ping", b":", b""]),
    st.integers(0, 99999).map(lambda n: b"retry: " + str(n).encode()),
    _values.map(lambda value: b"data: " + value),
)
_endings = st.sampled_from([b"\n", b"\r", b"\r\n"])
_blank_lines = _endings
_lines = st.lists(
    st.one_of(_blank_lines, st.tuples(_field_lines, _endings).map(b"".join)), max_size=40
)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """Event streams mixing every kind of line and ending, maybe a BOM and an unfinished end."""
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf"]))
    tail = draw(st.sampled_from([b"", b"data: cut", b"\xf0\x9f"]))
    return bom + b"".join(draw(_lines)) + tail


def parser_state(parser: SSEParser) -> tuple[str, int | None, int, bool]:
    """Everything a parser exposes besides its events."""
    return parser.last_event_id, parser.retry, parser.comments_seen, parser.discarded_at_eof


@settings(deadline=None, max_examples=500, derandomize=True)
@given(stream=streams(), cuts=st.lists(st.integers(min_value=1), max_size=12))
def test_any_split_matches_whole_stream(stream: bytes, cuts: list[int]) -> None:
    """Splitting a stream into chunks at any points yields the same events and state as whole."""
    positions = [cut % (len(stream) + 1) for cut in cuts]
    whole, pieces = SSEParser(), SSEParser()
    expected = parse(stream, whole)
    assert parse_in_pieces(split_at(stream, positions), pieces) == expected
    assert parser_state(pieces) == parser_state(whole)


@settings(deadline=None, max_examples=500, derandomize=True)
@given(stream=streams(), data=st.data())
def test_splits_at_line_endings_match_whole_stream(stream: bytes, data: st.DataObject) -> None:
    """Chunks that start and end on line endings (event by event) give the same result as whole."""
    endings = [index + 1 for index, byte in enumerate(stream) if byte in b"\r\n"]
    cuts = data.draw(st.lists(st.sampled_from(endings), max_size=20) if endings else st.just([]))
    whole, pieces = SSEParser(), SSEParser()
    expected = parse(stream, whole)
    assert parse_in_pieces(split_at(stream, cuts), pieces) == expected
    assert parser_state(pieces) == parser_state(whole)


def spec_lines(text: str) -> Iterator[str]:
    """The lines of a stream as the WHATWG algorithm cuts them: at CRLF, LF or CR; a last line
    with no ending is never processed."""
    position = 0
    while True:
        end = position
        while end < len(text) and text[end] not in "\r\n":
            end += 1
        if end == len(text):
            return
        yield text[position:end]
        position = end + 2 if text[end : end + 2] == "\r\n" else end + 1


@dataclass
class SpecBuffers:
    """The data, event type, last event id and retry buffers of the WHATWG algorithm."""

    data: str = ""
    event_type: str = ""
    last_id: str = ""
    retry: int | None = None

    def process_field(self, line: str) -> None:
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self.event_type = value
        elif name == "data":
            self.data += value + "\n"
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value and all("0" <= char <= "9" for char in value):
            self.retry = int(value)

    def dispatch(self) -> ServerSentEvent | None:
        event = None
        if self.data:
            event_type = self.event_type or "message"
            event = ServerSentEvent(event_type, self.data[:-1], self.last_id, self.retry)
        self.data, self.event_type, self.retry = "", "", None
        return event


def reference_events(stream: bytes) -> list[ServerSentEvent]:
    """A literal, line-by-line transcription of the WHATWG algorithm."""
    buffers = SpecBuffers()
    events: list[ServerSentEvent] = []
    for line in spec_lines(stream.decode("utf-8", "replace").removeprefix("\ufeff")):
        if line == "":
            event = buffers.dispatch()
            if event is not None:
                events.append(event)
        elif not line.startswith(":"):
            buffers.process_field(line)
    return events


@settings(deadline=None, max_examples=500, derandomize=True)
@given(stream=streams())
def test_whole_stream_matches_reference_algorithm(stream: bytes) -> None:
    """The parser's events equal those of a literal transcription of the spec algorithm."""
    assert parse(stream) == reference_events(stream)
