"""The stand-in's `/storage` files, kept in memory with a bound on their total size."""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass

DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    """A served file: its bytes and MIME type."""

    body: bytes
    content_type: str


class FileStore:
    """Path -> file, evicting the least recently used once the budget is exceeded.

    Many files share one rendered body (same tune and length), so a shared body is
    counted once.
    """

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._budget = budget_bytes
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._users: Counter[int] = Counter()
        self._size = 0

    def put(self, path: str, body: bytes, content_type: str) -> None:
        """Store (or replace) the file at `path`."""
        self._discard(path)
        self._files[path] = StoredFile(body, content_type)
        if self._users[id(body)] == 0:
            self._size += len(body)
        self._users[id(body)] += 1
        while self._size > self._budget and len(self._files) > 1:
            self._discard(next(iter(self._files)))

    def get(self, path: str) -> StoredFile | None:
        """The file at `path`, if it is still kept."""
        stored = self._files.get(path)
        if stored is not None:
            self._files.move_to_end(path)
        return stored

    def clear(self) -> None:
        """Drop every file."""
        self._files.clear()
        self._users.clear()
        self._size = 0

    @property
    def size(self) -> int:
        """Bytes held, shared bodies counted once."""
        return self._size

    def _discard(self, path: str) -> None:
        """Forget one file, releasing its body when nothing else uses it."""
        stored = self._files.pop(path, None)
        if stored is None:
            return
        key = id(stored.body)
        self._users[key] -= 1
        if self._users[key] == 0:
            del self._users[key]
            self._size -= len(stored.body)
