"""Audio work done in-process with PyAV: probe, fit under an upload limit, waveform, voice,
loudness, voice messages, and streams read while they still arrive.

Every CPU-heavy function has an `_async` twin that runs it in a worker thread.
"""

from bot.audio.errors import AudioError, AudioTooLong, NotAudio, TranscodeError
from bot.audio.fit import (
    CONTAINER_OVERHEAD_BYTES,
    MP3_BITRATES_KBPS,
    SAFETY_MARGIN,
    FitAction,
    FitPlan,
    FitResult,
    estimate_mp3_size,
    fit_to_size,
    fit_to_size_async,
    mp3_sample_rate,
    plan_fit,
    transcode_to_mp3,
)
from bot.audio.growing import GrowingBuffer
from bot.audio.level import AudioLevel, measure_level, measure_level_async
from bot.audio.probe import (
    AudioInfo,
    AudioInput,
    in_probe_pool,
    open_audio,
    probe,
    probe_async,
    probe_bytes,
)
from bot.audio.voice import (
    CHANNELS,
    FRAME_DURATION,
    FRAME_SAMPLES,
    PCM_FRAME_BYTES,
    SAMPLE_RATE,
    VOICE_COPY_SUFFIX,
    OpusPacketStream,
    PCMFrameStream,
    StoredOpusStream,
    encode_opus,
    encode_opus_async,
    stored_opus_path,
)
from bot.audio.voice_message import (
    VOICE_MESSAGE_CONTENT_TYPE,
    VOICE_MESSAGE_FILENAME,
    VoiceMessageAudio,
    encode_voice_message,
    encode_voice_message_async,
)
from bot.audio.waveform import waveform, waveform_async

__all__ = [
    "CHANNELS",
    "CONTAINER_OVERHEAD_BYTES",
    "FRAME_DURATION",
    "FRAME_SAMPLES",
    "MP3_BITRATES_KBPS",
    "PCM_FRAME_BYTES",
    "SAFETY_MARGIN",
    "SAMPLE_RATE",
    "VOICE_COPY_SUFFIX",
    "VOICE_MESSAGE_CONTENT_TYPE",
    "VOICE_MESSAGE_FILENAME",
    "AudioError",
    "AudioInfo",
    "AudioInput",
    "AudioLevel",
    "AudioTooLong",
    "FitAction",
    "FitPlan",
    "FitResult",
    "GrowingBuffer",
    "NotAudio",
    "OpusPacketStream",
    "PCMFrameStream",
    "StoredOpusStream",
    "TranscodeError",
    "VoiceMessageAudio",
    "encode_opus",
    "encode_opus_async",
    "encode_voice_message",
    "encode_voice_message_async",
    "estimate_mp3_size",
    "fit_to_size",
    "fit_to_size_async",
    "in_probe_pool",
    "measure_level",
    "measure_level_async",
    "mp3_sample_rate",
    "open_audio",
    "plan_fit",
    "probe",
    "probe_async",
    "probe_bytes",
    "stored_opus_path",
    "transcode_to_mp3",
    "waveform",
    "waveform_async",
]
