"""A file that is still being downloaded, for PyAV to read while more of it arrives.

The event loop `feed`s the bytes as they come and `end`s the file once the download is over;
a reader in another thread (PyAV, in a voice player's thread) gets what has arrived, waits
when it has read everything so far, and sees the end of the file only once the download has
ended. Bytes already read are let go, so a long stream is never held whole.
"""

from __future__ import annotations

import io
import threading
from typing import Any


class GrowingBuffer(io.RawIOBase):
    """Bytes that arrive over time: `read` blocks until more come, and ends when they stop.

    Thread-safe: one side feeds (e.g. the event loop, as a download's chunks come), the other
    reads (e.g. PyAV in a player thread). `end(error)` makes the reader's next read past the
    arrived bytes raise that error instead of ending quietly. `close()` (the reader is done,
    say an answer cut short) makes later feeds free: nothing is kept any more.
    """

    def __init__(self) -> None:
        super().__init__()
        self._arrived = threading.Condition()
        self._waiting = bytearray()
        self._received = 0
        self._ended = False
        self._error: BaseException | None = None

    @property
    def received(self) -> int:
        """Bytes fed so far."""
        return self._received

    @property
    def ended(self) -> bool:
        """Whether the feeder said no more bytes will come."""
        return self._ended

    def feed(self, data: bytes) -> None:
        """Bytes that just arrived; ignored once the file ended or the reader closed it."""
        with self._arrived:
            if self._ended or self.closed:
                return
            self._received += len(data)
            self._waiting += data
            self._arrived.notify_all()

    def end(self, error: BaseException | None = None) -> None:
        """No more bytes will come: the download finished, or failed with `error`."""
        with self._arrived:
            if self._ended:
                return
            self._ended = True
            self._error = error
            self._arrived.notify_all()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        """Copy what has arrived into `buffer`, waiting while nothing is left to read; 0 at the
        end of the file (or once closed). A download that failed raises its error here."""
        view = memoryview(buffer).cast("B")
        with self._arrived:
            while not self._waiting and not self._ended and not self.closed:
                self._arrived.wait()
            if not self._waiting:
                if self._error is not None and not self.closed:
                    raise OSError(f"the stream broke off: {self._error}") from self._error
                return 0
            count = min(len(view), len(self._waiting))
            view[:count] = self._waiting[:count]
            del self._waiting[:count]
            return count

    def close(self) -> None:
        """The reader is done: a waiting read returns, and what arrives later is dropped."""
        with self._arrived:
            self._waiting.clear()
            super().close()
            self._arrived.notify_all()
