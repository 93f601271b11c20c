"""Response bodies of the local Soundverse: sync replies per API generation and error bodies."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aiohttp import web

from sandbox.soundverse.endpoints import ReplyStyle
from sandbox.soundverse.faults import Fault, FaultKind
from sandbox.soundverse.jobs import Job
from sandbox.soundverse.validation import ErrorEntry, field_error

MALFORMED_AUTH = "Invalid API key format. Use Bearer <your_api_key>."
NSFW_MESSAGE = "NSFW words detected. Please remove them from your prompt and try again."
ARTIST_MESSAGE = "Artist name detected. Please remove the artist name and try again."
FAULT_FAILURE = "Generation failed (sandbox fault)"


def sync_reply(style: ReplyStyle, job: Job) -> Any:
    """The JSON a sync endpoint returns for a completed job."""
    plan = job.plan
    if style is ReplyStyle.STEMS:
        return [{"audioName": o.label, "audioUrl": job.output_url(o)} for o in plan.outputs]
    if style is ReplyStyle.LOOP:
        loops = [{"audioUrl": t["audio_url"], "songName": t["song_name"]} for t in job.takes]
        return {"albumArt": job.album_art, "aiReply": plan.ai_reply, "audioData": loops}
    if style is ReplyStyle.GEN_LOOP:
        return {
            "prompt": plan.prompt,
            "albumArt": job.album_art,
            "aiReply": plan.ai_reply,
            "generatedAudio": _camel_takes(job, "generated"),
            "loopedAudio": _camel_takes(job, "looped"),
        }
    if style in (ReplyStyle.LEGACY, ReplyStyle.LEGACY_WITH_ID):
        legacy: dict[str, Any] = {}
        if style is ReplyStyle.LEGACY_WITH_ID:
            legacy["messageId"] = job.message_id
        legacy.update(
            prompt=plan.prompt,
            albumArt=job.album_art,
            aiReply=plan.ai_reply,
            audioData=_camel_takes(job, "audio"),
        )
        return legacy
    return _current_reply(style, job)


def _current_reply(style: ReplyStyle, job: Job) -> dict[str, Any]:
    """v5-and-newer sync replies (snake_case), with the song-gen variant's extras."""
    reply: dict[str, Any] = {}
    if style is ReplyStyle.CURRENT_ALT:
        takes = job.takes
        reply.update(success=True, messageId=job.message_id, audio_url=takes[0]["audio_url"])
    reply.update(
        message_id=job.message_id,
        album_art=job.album_art,
        audio_data=job.takes,
        ai_reply=job.plan.ai_reply,
        song_name=job.plan.song_name,
    )
    if job.job_id is not None:
        reply["job_id"] = job.job_id
    return reply


def _camel_takes(job: Job, group: str) -> list[dict[str, Any]]:
    """Takes in the legacy camelCase shape."""
    return [
        {"audioUrl": t["audio_url"], "songName": t["song_name"], "licenses": t["licenses"]}
        for t in job.takes_in(group)
    ]


def detail(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    """A FastAPI-style `{"detail": text}` error."""
    return web.json_response({"detail": text}, status=status, headers=headers)


def validation_error(errors: list[ErrorEntry]) -> web.Response:
    """422 with FastAPI's list of errors."""
    return web.json_response({"detail": errors}, status=422)


def generation_failed(text: str) -> web.Response:
    """500 with the capital-D `Detail` body of failed generations."""
    return web.json_response({"Detail": text}, status=500)


def moderation_refusal(reason: str) -> web.Response:
    """400 in the legacy `{success, message}` style."""
    message = NSFW_MESSAGE if reason == "nsfw" else ARTIST_MESSAGE
    return web.json_response({"success": False, "message": message}, status=400)


HTML_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
OUTAGE = "The generation service is temporarily unavailable"
AUDIO_FIELDS = ("audio_url", "audioUrl", "audio_data", "audioData", "stream_url")


def html_error(status: int) -> web.Response:
    """The HTML page a proxy in front of the API answers with when the API is down."""
    reason = HTTPStatus(status).phrase
    page = HTML_PAGE.format(status=status, reason=reason)
    return web.Response(status=status, text=page, content_type="text/html")


def without_audio(reply: Any) -> Any:
    """A reply (or chunk) with every audio field taken out: a job that produced nothing."""
    if isinstance(reply, list):
        return []
    if not isinstance(reply, dict):
        return reply
    kept = {key: value for key, value in reply.items() if key not in AUDIO_FIELDS}
    for group in ("generatedAudio", "loopedAudio"):
        if group in kept:
            kept[group] = []
    return kept


def fault_reply(fault: Fault) -> web.Response | None:
    """The immediate answer a status, moderation, error-body or HTML fault calls for, if any."""
    if fault.kind is FaultKind.MODERATION:
        return moderation_refusal(fault.reason)
    if fault.kind is FaultKind.ERROR_BODY:
        return web.json_response({"detail": OUTAGE})
    if fault.kind is FaultKind.HTML:
        return html_error(fault.amount)
    if fault.kind is not FaultKind.STATUS:
        return None
    if fault.amount == 401:
        return detail(401, "Invalid API key")
    if fault.amount == 422:
        entry = field_error(
            ["body", "prompt"], "Value error, rejected (sandbox fault)", "value_error", None
        )
        return validation_error([entry])
    if fault.amount == 429:
        return detail(429, "Rate limit exceeded", {"Retry-After": str(fault.retry_after)})
    if fault.amount == 500:
        return generation_failed("Generation failed")
    return detail(504, "Gateway Timeout")
