"""Server-Sent Events parser following the WHATWG "event stream interpretation" rules.

Fed raw bytes in any split (e.g. from ``aiohttp``'s ``iter_any()``), it yields complete events
without relying on a line reader that caps line length or splits on LF only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, fields

__all__ = ["SSEParser", "SSEProtocolError", "ServerSentEvent", "iter_events"]

log = logging.getLogger(__name__)

_BOM = "\ufeff"
_DEFAULT_EVENT = "message"
_DATA_BLOCK_SEPARATOR = "\n\ndata: "


class SSEProtocolError(Exception):
    """The byte stream cannot be parsed as an event stream within our limits."""


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event.

    ``event`` is "message" when the block had no event field; ``id`` is the last event id, which
    persists across events; ``retry`` is the reconnection time in ms if this block set one.
    """

    event: str
    data: str
    id: str
    retry: int | None


# A frozen dataclass's __init__ sets every field through object.__setattr__; writing the slots
# directly builds the same object in about half the time, and with short events that is a third
# of the parsing cost. Unpacking fields() makes a new field fail loudly here at import.
_set_event, _set_data, _set_id, _set_retry = (
    vars(ServerSentEvent)[field.name].__set__ for field in fields(ServerSentEvent)
)


def _new_event(event: str, data: str, id: str, retry: int | None) -> ServerSentEvent:
    """The same object as ``ServerSentEvent(event, data, id, retry)``, built faster."""
    built: ServerSentEvent = object.__new__(ServerSentEvent)
    _set_event(built, event)
    _set_data(built, data)
    _set_id(built, id)
    _set_retry(built, retry)
    return built


def _last_line_end(chunk: bytes) -> int:
    """Index of the last CR or LF byte in ``chunk``, or -1."""
    return max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))


def _longest_line(block: bytes) -> int:
    """Byte length of the longest line in ``block``, whatever its line endings."""
    return max(map(len, block.replace(b"\r", b"\n").split(b"\n")))


def _normalize_line_endings(text: str) -> str:
    """``text`` with CRLF and lone CR line endings turned into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _block_lines(piece: str) -> list[str]:
    """Lines of a piece that was followed by LF LF (its last line's ending and a blank line)."""
    if "\r" in piece:
        # A CR ending the piece pairs with the LF that followed it: one CRLF line ending.
        piece = _normalize_line_endings(piece.removesuffix("\r"))
    return piece.split("\n")


def _tail_lines(piece: str) -> list[str]:
    """Lines of a piece that ends with its own line ending."""
    if "\r" in piece:
        piece = _normalize_line_endings(piece)
    lines = piece.split("\n")
    lines.pop()
    return lines


class SSEParser:
    """Incremental event stream parser: ``feed`` bytes as they arrive, ``close`` at EOF.

    Bytes are buffered up to the last line ending and decoded a block of whole lines at a time.
    CR and LF bytes never occur inside a multi-byte UTF-8 sequence, so this decodes exactly like
    an incremental decoder (a character split across chunks waits in the buffer; invalid bytes
    become U+FFFD) while letting the unfinished line be measured in bytes.

    Public state: ``last_event_id`` (for a ``Last-Event-ID`` header), ``retry`` (the last valid
    reconnection time in ms), ``comments_seen`` (keep-alives count as activity) and
    ``discarded_at_eof`` (set by ``close`` when the stream ended inside a line or an event).
    """

    def __init__(
        self,
        *,
        max_line_bytes: int = 16 * 1024 * 1024,
        max_event_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        if max_line_bytes < 1 or max_event_bytes < 1:
            raise ValueError("max_line_bytes and max_event_bytes must be positive")
        self.max_line_bytes = max_line_bytes
        self.max_event_bytes = max_event_bytes
        self.last_event_id = ""
        self.retry: int | None = None
        self.comments_seen = 0
        self.discarded_at_eof = False
        self._tail: list[bytes] = []
        self._tail_bytes = 0
        self._skip_lf = False
        self._at_start = True
        self._closed = False
        self._data: list[str] = []
        self._data_size = 0
        self._event_type = ""
        self._id_buffer = ""
        self._block_retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Parse the next bytes of the stream and return the events they complete."""
        if self._closed:
            raise SSEProtocolError("feed() called after close()")
        if not chunk:
            return []
        if self._is_single_data_event(chunk):
            data = chunk[6:-2].decode("utf-8", "replace")
            return [_new_event(_DEFAULT_EVENT, data, self.last_event_id, None)]
        chunk = self._without_crlf_rest(chunk)
        if not chunk:
            return []
        end = _last_line_end(chunk) + 1
        if not end:
            self._hold(chunk)
            return []
        block = self._whole_lines(chunk, end)
        if end < len(chunk):
            self._hold(chunk[end:])
        else:
            self._skip_lf = chunk[-1] == 0x0D
        return self._process(self._decode(block))

    def _without_crlf_rest(self, chunk: bytes) -> bytes:
        """`chunk`, less a LF opening it when the previous chunk ended in CR (one CRLF)."""
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                return chunk[1:]
        return chunk

    def _whole_lines(self, chunk: bytes, end: int) -> bytes:
        """The held start of a line and `chunk` up to its last line ending, as one block."""
        block = chunk[:end] if end < len(chunk) else chunk
        if self._tail:
            self._tail.append(block)
            block = b"".join(self._tail)
            self._tail = []
            self._tail_bytes = 0
        # Only a block longer than the limit plus one line ending can hold a line over the limit.
        if len(block) > self.max_line_bytes + 1:
            self._check_line_lengths(block)
        return block

    def close(self) -> list[ServerSentEvent]:
        """End of stream: discard (and record) an unterminated event, as the spec requires."""
        if self._closed:
            return []
        self._closed = True
        self.discarded_at_eof = bool(self._data or self._tail)
        if self.discarded_at_eof:
            log.warning(
                "event stream ended mid-event: discarded %d data line(s), %d unterminated byte(s)",
                len(self._data),
                self._tail_bytes,
            )
        self._tail = []
        self._tail_bytes = 0
        self._data = []
        self._data_size = 0
        return []

    def _is_single_data_event(self, chunk: bytes) -> bool:
        """Whether ``chunk`` is exactly one ``data: `` line and a blank line, between events.

        Servers usually write and flush one event at a time, so this is the most common chunk
        and it skips the buffering and splitting below.
        """
        return (
            chunk.startswith(b"data: ")
            and chunk.endswith(b"\n\n")
            and chunk.find(b"\n") == len(chunk) - 2
            and b"\r" not in chunk
            and len(chunk) - 2 <= self.max_line_bytes
            and not (self._tail or self._skip_lf or self._at_start)
            and self._is_between_events()
        )

    def _hold(self, partial_line: bytes) -> None:
        """Buffer the start of a line whose ending has not arrived yet."""
        self._tail.append(partial_line)
        self._tail_bytes += len(partial_line)
        if self._tail_bytes > self.max_line_bytes:
            self._raise_too_long(self._tail_bytes)

    def _check_line_lengths(self, block: bytes) -> None:
        longest = _longest_line(block)
        if longest > self.max_line_bytes:
            self._raise_too_long(longest)

    def _raise_too_long(self, length: int) -> None:
        raise SSEProtocolError(
            f"event stream line exceeds {self.max_line_bytes} bytes (at least {length} bytes)"
        )

    def _decode(self, block: bytes) -> str:
        text = block.decode("utf-8", "replace")
        if self._at_start:
            self._at_start = False
            if text.startswith(_BOM):
                text = text[1:]
        return text

    def _process(self, text: str) -> list[ServerSentEvent]:
        """Handle ``text``, whole lines with any line endings; return the events it completes."""
        events: list[ServerSentEvent] = []
        # A Soundverse stream is almost only "data: <json>" blocks. Splitting on LF LF "data: "
        # (a line end, a blank line that dispatches, the start of a data line) leaves each such
        # event as one piece without line endings: one C-level split and no per-line work.
        # Whatever else a piece holds (CRs, comments, other fields) goes through the line rules.
        pieces = text.split(_DATA_BLOCK_SEPARATOR)
        first = pieces[0]
        if first.startswith("data: ") and self._is_between_events():
            # Text opening with a data line between events reads like any later piece.
            pieces[0] = first[6:]
        elif len(pieces) == 1:
            self._lines(_tail_lines(first), events)
            return events
        else:
            self._lines(_block_lines(pieces.pop(0)), events)
            self._dispatch_into(events)
        self._data_pieces(pieces, events)
        return events

    def _data_pieces(self, pieces: list[str], events: list[ServerSentEvent]) -> None:
        """Handle pieces that each open with a data value right after a dispatch.

        Every piece but the last was followed by LF LF; the last ends with its own line ending.
        """
        last_id = self.last_event_id
        for index in range(len(pieces) - 1):
            piece = pieces[index]
            if "\n" in piece or "\r" in piece:
                self._data_lines(_block_lines(piece), events)
                self._dispatch_into(events)
                last_id = self.last_event_id
            else:
                # The state is clean after a dispatch: a single data line is the whole event.
                events.append(_new_event(_DEFAULT_EVENT, piece, last_id, None))
        tail = pieces[-1]
        if tail.find("\n") == len(tail) - 2 and tail.endswith("\n\n") and "\r" not in tail:
            # One data line and its blank line: how a stream written event by event arrives.
            events.append(_new_event(_DEFAULT_EVENT, tail[:-2], last_id, None))
        else:
            self._data_lines(_tail_lines(tail), events)

    def _is_between_events(self) -> bool:
        """Whether nothing is pending, so that the next blank line would dispatch nothing."""
        return (
            not self._data
            and not self._event_type
            and self._block_retry is None
            and self._id_buffer == self.last_event_id
        )

    def _data_lines(self, lines: list[str], events: list[ServerSentEvent]) -> None:
        """Handle lines after a dispatch whose first is a data value (``data: `` split off)."""
        self._add_data(lines[0])
        self._lines(lines[1:], events)

    def _add_data(self, value: str) -> None:
        """One more data line of the pending event, which may not grow past the event limit."""
        self._data_size += len(value) + 1
        if self._data_size > self.max_event_bytes:
            raise SSEProtocolError(
                f"an event grew past {self.max_event_bytes} bytes without ending; "
                "the stream is not well-formed"
            )
        self._data.append(value)

    def _dispatch_into(self, events: list[ServerSentEvent]) -> None:
        event = self._dispatch()
        if event is not None:
            events.append(event)

    def _lines(self, lines: list[str], events: list[ServerSentEvent]) -> None:
        for line in lines:
            if not line:
                self._dispatch_into(events)
            elif line[0] == ":":
                self.comments_seen += 1
            else:
                self._field(line)

    def _field(self, line: str) -> None:
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event_type = value
        elif name == "data":
            self._add_data(value)
        elif name == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._set_retry(value)

    def _set_retry(self, digits: str) -> None:
        try:
            milliseconds = int(digits)
        except ValueError:
            # More digits than int() accepts by default: no meaningful delay, ignore the field.
            return
        self.retry = self._block_retry = milliseconds

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_event_id = self._id_buffer
        block_retry, self._block_retry = self._block_retry, None
        event_type, self._event_type = self._event_type, ""
        if not self._data:
            return None
        data = "\n".join(self._data)
        self._data = []
        self._data_size = 0
        return _new_event(event_type or _DEFAULT_EVENT, data, self.last_event_id, block_retry)


async def iter_events(
    chunks: AsyncIterable[bytes], parser: SSEParser | None = None
) -> AsyncIterator[ServerSentEvent]:
    """Events parsed from an async iterable of byte chunks, e.g. ``response.content.iter_any()``."""
    parser = parser if parser is not None else SSEParser()
    async for chunk in chunks:
        for event in parser.feed(chunk):
            yield event
    for event in parser.close():
        yield event
