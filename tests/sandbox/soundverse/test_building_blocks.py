"""Fault specs, the fault queue, the file store and field checks, without a server."""

from __future__ import annotations

import pytest

from sandbox.soundverse.faults import Fault, FaultKind, FaultQueue, InvalidFault, parse_fault
from sandbox.soundverse.files import FileStore
from sandbox.soundverse.texts import chat_reply, write_lyrics
from sandbox.soundverse.validation import Field, FieldKind, ValidationFailed, validate


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("drop:3", Fault(FaultKind.DROP, 3)),
        ("stall:0", Fault(FaultKind.STALL, 0)),
        ("early-end:2", Fault(FaultKind.EARLY_END, 2)),
        ("fail:4", Fault(FaultKind.FAIL, 4)),
        ("status:429", Fault(FaultKind.STATUS, 429, retry_after=1)),
        ("status:429:3", Fault(FaultKind.STATUS, 429, retry_after=3)),
        ("moderation:artist", Fault(FaultKind.MODERATION, reason="artist")),
        ("drip:250", Fault(FaultKind.DRIP, 250)),
        ("keepalive:2", Fault(FaultKind.KEEPALIVE, 2)),
        ("error-event:3", Fault(FaultKind.ERROR_EVENT, 3)),
        ("flood:1", Fault(FaultKind.FLOOD, 1)),
        ("error-body", Fault(FaultKind.ERROR_BODY)),
        ("html:502", Fault(FaultKind.HTML, 502)),
        ("empty", Fault(FaultKind.EMPTY)),
        ("redirect:307", Fault(FaultKind.REDIRECT, 307)),
    ],
)
def test_parse_fault(spec: str, fault: Fault) -> None:
    """Every documented spec parses to its fault."""
    assert parse_fault(spec) == fault


@pytest.mark.parametrize(
    "spec",
    ["", "boom:1", "drop", "drop:x", "status:418", "moderation:rude", "html:404", "redirect:200"],
)
def test_parse_fault_refuses_bad_specs(spec: str) -> None:
    """Unknown kinds, missing numbers and unsupported statuses are refused."""
    with pytest.raises(InvalidFault):
        parse_fault(spec)


def test_queue_without_path_skips_storage() -> None:
    """A fault injected without a path does not hit /storage downloads."""
    queue = FaultQueue()
    queue.inject("status:500")
    assert queue.take("/storage/x-one/a.mp3", is_api_route=False, applies=lambda f: True) is None
    assert queue.take("/v5/status", is_api_route=True, applies=lambda f: True) is not None


def test_queue_consumes_count() -> None:
    """A fault injected for two requests is taken twice, then no more."""
    queue = FaultQueue()
    queue.inject("drip:5", count=2)
    taken = [queue.take("/v5/generate/song", True, lambda f: True) for _ in range(3)]
    assert [fault is not None for fault in taken] == [True, True, False]


def test_file_store_evicts_least_recently_used() -> None:
    """Past its budget the store drops the least recently used file."""
    store = FileStore(budget_bytes=25)
    store.put("/a", b"a" * 10, "audio/mpeg")
    store.put("/b", b"b" * 10, "audio/mpeg")
    store.get("/a")
    store.put("/c", b"c" * 10, "audio/mpeg")
    assert (store.get("/a") is not None, store.get("/b"), store.get("/c") is not None) == (
        True,
        None,
        True,
    )


def test_file_store_counts_shared_bodies_once() -> None:
    """Two paths sharing one body take its size once."""
    store = FileStore()
    body = b"x" * 100
    store.put("/one", body, "audio/mpeg")
    store.put("/two", body, "audio/mpeg")
    assert store.size == 100


def test_alias_is_stored_under_canonical_name() -> None:
    """A field given under an alias is read back under its canonical name."""
    fields = [Field("styleOfMusic", aliases=("StyleOfMusic",))]
    assert validate({"StyleOfMusic": "Pop"}, fields).text("styleOfMusic") == "Pop"


def test_all_errors_are_reported_together() -> None:
    """Validation lists every failing field, not just the first."""
    fields = [Field("prompt", required=True), Field("count", FieldKind.INTEGER, positive=True)]
    with pytest.raises(ValidationFailed) as caught:
        validate({"count": 0}, fields)
    assert [e["loc"] for e in caught.value.errors] == [["body", "prompt"], ["body", "count"]]


def test_lyrics_mention_the_prompt() -> None:
    """Generated lyrics use words of the prompt."""
    assert "trains" in write_lyrics("trains in the rain", None, None, None).lower()


def test_chat_reply_depends_on_action() -> None:
    """Different actions give different replies to the same prompt."""
    assert chat_reply("my song", "loop_audio") != chat_reply("my song", "lyric_writing")
