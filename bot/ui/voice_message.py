"""Discord voice messages, which discord.py cannot send: the request is built here and sent
through discord.py's own HTTP client, so its rate limits and retries still apply.

A voice message has the IS_VOICE_MESSAGE flag (1 << 13), no content, embeds or components,
and exactly one audio attachment whose entry in `attachments` carries `duration_secs` and a
base64 `waveform`. discord.py's `File` has no place for those two, so the multipart body is
assembled here: `payload_json` with the flag and the attachment's metadata, and `files[0]`
sent as `audio/ogg` (Discord reads the metadata only for an `audio/*` part).

Two routes carry one: Create Message (`POST /channels/{id}/messages`), which can reply to the
question's message, and Create Followup Message (`POST /webhooks/{application}/{token}`),
which answers an interaction. Both accept the flag; a voice message cannot be made by editing
one, so a deferred interaction's own response can never become one.
"""

from __future__ import annotations

import io
import json
from typing import Any

import discord
from discord.http import Route

from bot.audio import VOICE_MESSAGE_CONTENT_TYPE, VOICE_MESSAGE_FILENAME, VoiceMessageAudio

IS_VOICE_MESSAGE = 1 << 13


def voice_message_payload(
    audio: VoiceMessageAudio, *, reply_to: discord.Message | None = None
) -> dict[str, Any]:
    """The JSON part of a voice message: the flag, the attachment's metadata, and the reply
    (which pings no one)."""
    payload: dict[str, Any] = {
        "flags": IS_VOICE_MESSAGE,
        "attachments": [
            {
                "id": 0,
                "filename": VOICE_MESSAGE_FILENAME,
                "duration_secs": round(audio.duration_secs, 3),
                "waveform": audio.waveform_base64,
            }
        ],
        "allowed_mentions": {"parse": [], "replied_user": False},
    }
    if reply_to is not None:
        payload["message_reference"] = {
            "message_id": str(reply_to.id),
            "channel_id": str(reply_to.channel.id),
            "fail_if_not_exists": False,
        }
    return payload


async def send_voice_message(
    http: discord.http.HTTPClient,
    route: Route,
    audio: VoiceMessageAudio,
    *,
    reply_to: discord.Message | None = None,
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST `audio` as a voice message to `route`; the message Discord made, as JSON."""
    file = discord.File(io.BytesIO(audio.ogg), filename=VOICE_MESSAGE_FILENAME)
    form: list[dict[str, Any]] = [
        {
            "name": "payload_json",
            "value": json.dumps(voice_message_payload(audio, reply_to=reply_to)),
        },
        {
            "name": "files[0]",
            "value": file.fp,
            "filename": file.filename,
            "content_type": VOICE_MESSAGE_CONTENT_TYPE,
        },
    ]
    extra: dict[str, Any] = {} if params is None else {"params": params}
    try:
        # `files` lets discord.py rewind the file before each retry.
        data: dict[str, Any] = await http.request(route, form=form, files=[file], **extra)
    finally:
        file.close()
    return data


async def reply_with_voice_message(
    client: discord.Client, question: discord.Message, audio: VoiceMessageAudio
) -> int:
    """Answer `question` with a voice message in its channel (a reply); the message's id."""
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=question.channel.id)
    data = await send_voice_message(client.http, route, audio, reply_to=question)
    return int(data["id"])


async def follow_up_with_voice_message(
    interaction: discord.Interaction[Any], audio: VoiceMessageAudio
) -> int:
    """Answer `interaction` with a voice message as a follow-up; the message's id. Its own
    response must be settled first (not "thinking"): the first follow-up after a deferral
    would otherwise have to become that response, by an edit."""
    route = Route(
        "POST",
        "/webhooks/{webhook_id}/{webhook_token}",
        webhook_id=interaction.application_id,
        webhook_token=interaction.token,
    )
    data = await send_voice_message(interaction.client.http, route, audio, params={"wait": "true"})
    return int(data["id"])
