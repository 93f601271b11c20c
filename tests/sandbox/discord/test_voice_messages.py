"""Voice messages as the local Discord takes them: the IS_VOICE_MESSAGE flag with one audio file
and its metadata is kept and served back; anything else is refused with Discord's codes
(50159, 50160, 50161), a voice message is never edited (50162), and a channel where the bot
may not send voice messages refuses them (50173)."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import discord
import pytest
from discord.http import Route

from sandbox.discord import LocalDiscord
from sandbox.discord.state import SEND_VOICE_MESSAGES
from tests.sandbox.discord.scripted_bot import ScriptedBot, spec_flags

IS_VOICE_MESSAGE = 1 << 13
OGG = b"OggS" + bytes(200)
WAVEFORM = base64.b64encode(bytes(range(0, 250, 10))).decode()


def entry(**fields: Any) -> dict[str, Any]:
    """An attachment entry for files[0], with a voice message's metadata unless overridden."""
    described: dict[str, Any] = {"id": 0, "filename": "voice-message.ogg"}
    described.update(duration_secs=2.5, waveform=WAVEFORM)
    described.update(fields)
    return {key: value for key, value in described.items() if value is not None}


def form_of(
    payload: dict[str, Any], files: list[tuple[str, bytes, str]]
) -> tuple[list[dict[str, Any]], list[discord.File]]:
    uploads = [discord.File(io.BytesIO(data), filename=name) for name, data, _ in files]
    form: list[dict[str, Any]] = [{"name": "payload_json", "value": json.dumps(payload)}]
    for index, (upload, (_, _, kind)) in enumerate(zip(uploads, files, strict=True)):
        form.append(
            {
                "name": f"files[{index}]",
                "value": upload.fp,
                "filename": upload.filename,
                "content_type": kind,
            }
        )
    return form, uploads


async def post(
    bot: ScriptedBot,
    route: Route,
    payload: dict[str, Any],
    files: list[tuple[str, bytes, str]] | None = None,
) -> dict[str, Any]:
    """POST a message with `files` (default: one Ogg file) through discord.py's HTTP client."""
    form, uploads = form_of(payload, files or [("voice-message.ogg", OGG, "audio/ogg")])
    data: dict[str, Any] = await bot.http.request(route, form=form, files=uploads)
    return data


def channel_route(discord_: LocalDiscord, name: str = "general") -> Route:
    return Route("POST", "/channels/{channel_id}/messages", channel_id=discord_.channel(name).id)


def voice(**payload: Any) -> dict[str, Any]:
    """A voice message's payload with `payload` on top (attachments: one entry by default)."""
    return {"flags": IS_VOICE_MESSAGE, "attachments": [entry()], **payload}


async def refusal(call: Any) -> discord.HTTPException:
    with pytest.raises(discord.HTTPException) as caught:
        await call
    return caught.value


async def test_a_voice_message_keeps_its_flag_and_metadata(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Posted with the flag, one audio/ogg file, its duration and waveform, the message is a
    voice message, and discord.py reads its attachment as one."""
    sent = await post(bot, channel_route(discord_), voice())
    stored = discord_.messages[-1]
    (attachment,) = stored.attachments
    assert stored.is_voice_message and sent["flags"] == IS_VOICE_MESSAGE
    assert (attachment.content_type, attachment.duration_secs) == ("audio/ogg", 2.5)
    assert attachment.waveform == WAVEFORM
    parsed = discord.Attachment(data=sent["attachments"][0], state=bot._connection)
    assert parsed.is_voice_message() and parsed.waveform == base64.b64decode(WAVEFORM)


async def test_content_is_refused_with_50159(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A voice message with text is refused: 50159."""
    error = await refusal(post(bot, channel_route(discord_), voice(content="hi")))
    assert (error.status, error.code) == (400, 50159)
    assert error.text == "Voice messages do not support additional content."


async def test_an_embed_is_refused_with_50159(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A voice message with an embed is refused: 50159."""
    error = await refusal(post(bot, channel_route(discord_), voice(embeds=[{"description": "x"}])))
    assert error.code == 50159


async def test_two_files_are_refused_with_50160(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A voice message with two audio files is refused: 50160."""
    files = [("a.ogg", OGG, "audio/ogg"), ("b.ogg", OGG, "audio/ogg")]
    payload = voice(attachments=[entry(), entry(id=1, filename="b.ogg")])
    error = await refusal(post(bot, channel_route(discord_), payload, files))
    assert (error.code, error.text) == (
        50160,
        "Voice messages must have a single audio attachment.",
    )


async def test_a_file_that_is_not_audio_is_refused_with_50160(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A voice message whose one file is a PNG is refused: 50160."""
    files = [("a.png", b"\x89PNG", "image/png")]
    error = await refusal(post(bot, channel_route(discord_), voice(), files))
    assert error.code == 50160


@pytest.mark.parametrize(
    "metadata",
    [
        {"duration_secs": None},
        {"waveform": None},
        {"waveform": "not base64!"},
        {"waveform": ""},
        {"waveform": base64.b64encode(bytes(257)).decode()},
    ],
    ids=["no duration", "no waveform", "waveform not base64", "empty waveform", "257 points"],
)
async def test_missing_or_bad_metadata_is_refused_with_50161(
    discord_: LocalDiscord, bot: ScriptedBot, metadata: dict[str, Any]
) -> None:
    """Without a duration, or without a waveform of 1 to 256 base64 bytes: 50161."""
    payload = voice(attachments=[entry(**metadata)])
    error = await refusal(post(bot, channel_route(discord_), payload))
    assert (error.code, error.text) == (50161, "Voice messages must have supporting metadata.")


async def test_a_waveform_over_400_characters_is_an_invalid_form(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A waveform longer than the 400 characters Discord's schema allows: 50035."""
    payload = voice(attachments=[entry(waveform="A" * 404)])
    error = await refusal(post(bot, channel_route(discord_), payload))
    assert error.code == 50035
    assert spec_flags(discord_, "/messages", "waveform")


async def test_a_voice_message_cannot_be_edited(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """PATCH on a voice message is refused: 50162."""
    sent = await post(bot, channel_route(discord_), voice())
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    message = await channel.fetch_message(int(sent["id"]))
    error = await refusal(message.edit(content="changed"))
    assert (error.code, error.text) == (50162, "Voice messages cannot be edited.")


async def test_a_channel_without_send_voice_messages_refuses_with_50173(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Where the bot is denied Send Voice Messages, a voice message is refused: 50173."""
    await discord_.set_permissions("general", "bot", deny=SEND_VOICE_MESSAGES)
    error = await refusal(post(bot, channel_route(discord_), voice()))
    assert (error.status, error.code) == (403, 50173)
    assert error.text == "You cannot send voice messages in this channel."


async def test_a_follow_up_after_a_settled_deferral_can_be_a_voice_message(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Deferred, then edited, a command's follow-up may be a voice message: a new message."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await interaction.edit_original_response(content="Answered below.")
        route = Route(
            "POST",
            "/webhooks/{webhook_id}/{webhook_token}",
            webhook_id=interaction.application_id,
            webhook_token=interaction.token,
        )
        await post(bot, route, voice())

    bot.scripts["song"] = song
    handle = await discord_.slash("song", prompt="x")
    followup = await handle.wait_for_followup()
    assert followup is not await handle.original()
    assert followup.is_voice_message and not followup.ephemeral


async def test_the_first_follow_up_of_a_deferral_cannot_be_a_voice_message(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A voice message sent as the follow-up that would replace the "thinking" message would
    be made by an edit: 50162."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.defer(thinking=True)
        route = Route(
            "POST",
            "/webhooks/{webhook_id}/{webhook_token}",
            webhook_id=interaction.application_id,
            webhook_token=interaction.token,
        )
        await post(bot, route, voice())

    bot.scripts["song"] = song
    await discord_.slash("song", prompt="x")
    await bot.error_seen.wait()
    (error,) = bot.errors
    assert isinstance(error, discord.HTTPException) and error.code == 50162


async def test_an_attachment_url_serves_the_recording(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """The voice message's file is served back at its URL, as from Discord's CDN."""
    sent = await post(bot, channel_route(discord_), voice())
    fetched = await bot.http.get_from_cdn(sent["attachments"][0]["url"])
    assert fetched == OGG
