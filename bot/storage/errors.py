"""The base of the errors the storage layer raises on purpose."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of the errors the storage layer raises on purpose."""
