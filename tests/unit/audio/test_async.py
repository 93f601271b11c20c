"""The async wrappers run their work in a worker thread while the event loop stays free.

Each test's work waits on a gate that only a callback on the event loop opens: if the work
blocked the loop, the gate would stay shut and the test would fail, never hang.
"""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path

import bot.audio.fit as fit_module
from bot.audio import (
    StoredOpusStream,
    encode_opus_async,
    fit_to_size_async,
    probe_async,
    waveform_async,
)

GATE_TIMEOUT = 10.0


class GatedFile(io.BytesIO):
    """A file object whose first read waits until `gate` opens, noting the reading thread."""

    def __init__(self, data: bytes, gate: threading.Event) -> None:
        super().__init__(data)
        self.gate = gate
        self.opened_in_time: bool | None = None
        self.reader_thread: int | None = None

    def read(self, size: int | None = -1) -> bytes:
        if self.opened_in_time is None:
            self.reader_thread = threading.get_ident()
            self.opened_in_time = self.gate.wait(GATE_TIMEOUT)
        return super().read(size)


async def test_probe_async_leaves_the_loop_free(tones: dict[str, Path]) -> None:
    """`probe_async` reads in another thread while a loop callback runs."""
    gate = threading.Event()
    source = GatedFile(tones[".mp3"].read_bytes(), gate)
    probing = asyncio.create_task(probe_async(source))
    asyncio.get_running_loop().call_soon(gate.set)
    info = await probing
    assert source.opened_in_time is True
    assert source.reader_thread != threading.get_ident()
    assert info.codec == "mp3"


async def test_waveform_async_leaves_the_loop_free(tones: dict[str, Path]) -> None:
    """`waveform_async` decodes in another thread while a loop callback runs."""
    gate = threading.Event()
    source = GatedFile(tones[".wav"].read_bytes(), gate)
    rendering = asyncio.create_task(waveform_async(source, 8))
    asyncio.get_running_loop().call_soon(gate.set)
    envelope = await rendering
    assert source.opened_in_time is True
    assert source.reader_thread != threading.get_ident()
    assert len(envelope) == 8


async def test_fit_to_size_async_leaves_the_loop_free(make_audio, tmp_path, monkeypatch) -> None:
    """`fit_to_size_async` transcodes in another thread while a loop callback runs."""
    gate = threading.Event()
    seen: dict[str, object] = {}
    transcode = fit_module.transcode_to_mp3

    def gated_transcode(src: Path, dest: Path, bitrate_kbps: int) -> int:
        seen["thread"] = threading.get_ident()
        seen["opened_in_time"] = gate.wait(GATE_TIMEOUT)
        return transcode(src, dest, bitrate_kbps)

    monkeypatch.setattr(fit_module, "transcode_to_mp3", gated_transcode)
    source = make_audio("source.wav", 1.0)
    fitting = asyncio.create_task(fit_to_size_async(source, 30_000, tmp_path / "out", [128]))
    asyncio.get_running_loop().call_soon(gate.set)
    result = await fitting
    assert seen == {"thread": seen["thread"], "opened_in_time": True}
    assert seen["thread"] != threading.get_ident()
    assert result.transcoded


async def test_encode_opus_async_leaves_the_loop_free(tones: dict[str, Path], tmp_path) -> None:
    """`encode_opus_async` decodes and encodes in another thread while a loop callback runs."""
    gate = threading.Event()
    source = GatedFile(tones[".wav"].read_bytes(), gate)
    encoding = asyncio.create_task(encode_opus_async(source, tmp_path / "tone.voice.ogg"))
    asyncio.get_running_loop().call_soon(gate.set)
    copy = await encoding
    assert source.opened_in_time is True
    assert source.reader_thread != threading.get_ident()
    with StoredOpusStream(copy) as stream:
        assert stream.read()
