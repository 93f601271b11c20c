"""Each Discord rule the local Discord enforces, shown by a real bot that breaks it."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import discord
import pytest

from sandbox.discord import LocalDiscord
from tests.sandbox.discord.scripted_bot import ScriptedBot, spec_flags, take_violations


async def _run_failing(discord_: LocalDiscord, bot: ScriptedBot, script: Any) -> BaseException:
    """Runs `script` as /song and returns the error the bot got."""
    bot.scripts["song"] = script
    await discord_.slash("song", prompt="x")
    await asyncio.wait_for(bot.error_seen.wait(), 5)
    return bot.errors[0]


async def test_late_ack_is_unknown_interaction(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """An acknowledgement after 3 s (by the clock) gets 404 code 10062."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        discord_.clock.advance(3.01)
        await interaction.response.defer()

    error = await _run_failing(discord_, bot, song)
    assert isinstance(error, discord.NotFound) and error.code == 10062


async def test_double_ack_rejected(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A second callback for one interaction gets 400 code 40060."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.defer()
        route = discord.http.Route(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
            interaction_id=interaction.id,
            interaction_token=interaction.token,
        )
        await interaction.client.http.request(route, json={"type": 5})

    error = await _run_failing(discord_, bot, song)
    assert isinstance(error, discord.HTTPException) and error.code == 40060


async def test_expired_token_rejected(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """An edit 15 minutes after the interaction gets 401 code 50027."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.defer()
        discord_.clock.advance(15 * 60 + 1)
        await interaction.edit_original_response(content="too late")

    error = await _run_failing(discord_, bot, song)
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (401, 50027)


async def test_token_valid_just_before_expiry(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """An edit at 14 min 59 s still works."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.defer()
        discord_.clock.advance(15 * 60 - 1)
        await interaction.edit_original_response(content="in time")

    bot.scripts["song"] = song
    handle = await discord_.slash("song", prompt="x")
    await discord_.wait_for_edit(lambda m: m.content == "in time")
    assert not bot.errors and handle.acknowledged


async def test_file_over_interaction_limit(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A file larger than the interaction's attachment_size_limit gets 413 code 40005."""
    discord_.rules.attachment_limits[0] = 1000

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        assert interaction.filesize_limit == 1000
        big = discord.File(io.BytesIO(b"x" * 1001), "song.wav")
        await interaction.response.send_message(file=big)

    error = await _run_failing(discord_, bot, song)
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (413, 40005)


async def test_request_over_25_mib_rejected(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A request body over the request cap gets 413 code 40005 whatever the file limits."""
    discord_.rules.max_request_bytes = 4000
    discord_.rules.attachment_limits[0] = 10_000
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(file=discord.File(io.BytesIO(b"x" * 5000), "a.wav"))
    assert (caught.value.status, caught.value.code) == (413, 40005)


async def test_eleven_files_rejected(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Eleven attachments get 400 code 30015 (and break the spec's maxItems 10)."""
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    files = [discord.File(io.BytesIO(b"a"), f"{i}.txt") for i in range(11)]
    with (
        discord.http.handle_message_parameters(files=files) as params,
        pytest.raises(discord.HTTPException) as caught,
    ):
        await bot.http.send_message(channel.id, params=params)
    assert caught.value.code == 30015
    assert spec_flags(discord_, "/messages")


async def test_content_over_2000_rejected(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """2001 characters of content get 400 code 50035 naming the field."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.send_message("a" * 2001)

    error = await _run_failing(discord_, bot, song)
    assert isinstance(error, discord.HTTPException) and error.code == 50035
    assert "content" in error.text
    assert spec_flags(discord_, "/callback", "data/content")


async def test_eleven_embeds_rejected(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Eleven embeds get 400 code 50035 (and break the spec's maxItems 10)."""
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    embeds = [{"title": str(i)} for i in range(11)]
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.request(route, json={"embeds": embeds})
    assert caught.value.code == 50035 and "embeds" in caught.value.text
    assert spec_flags(discord_, "/messages")


async def test_embed_field_limits(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """An embed title over 256 characters is rejected with 50035."""
    channel = bot.get_channel(int(discord_.channel("general").id))
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=discord.Embed(title="t" * 257))
    assert caught.value.code == 50035 and "title" in caught.value.text
    take_violations(discord_, "/messages")


async def test_invalid_command_name_rejected_at_sync(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A command name with upper case or spaces is refused by the bulk overwrite."""
    payload = [{"name": "Bad Name", "description": "x", "type": 1}]
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.bulk_upsert_global_commands(discord_.application_id, payload)
    assert caught.value.code == 50035 and "name" in caught.value.text
    take_violations(discord_, "/commands")


async def test_too_many_options_rejected_at_sync(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A command with 26 options is refused."""
    options = [{"name": f"o{i}", "description": "d", "type": 3} for i in range(26)]
    payload = [{"name": "many", "description": "x", "type": 1, "options": options}]
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.bulk_upsert_global_commands(discord_.application_id, payload)
    assert caught.value.code == 50035 and "options" in caught.value.text
    take_violations(discord_, "/commands")


async def test_command_over_8000_characters_rejected(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Names, descriptions and choices adding up to more than 8000 characters are refused."""
    choices = [{"name": "n" * 100, "value": f"{i:02d}" + "v" * 98} for i in range(25)]
    options = [
        {"name": f"o{i}", "description": "d" * 100, "type": 3, "choices": choices} for i in range(2)
    ]
    payload = [{"name": "big", "description": "x", "type": 1, "options": options}]
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.bulk_upsert_global_commands(discord_.application_id, payload)
    assert "maximum size (8000)" in caught.value.text


async def test_too_many_buttons_in_a_row(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Six buttons in one action row are rejected with 50035."""
    buttons = [{"type": 2, "style": 1, "label": str(i), "custom_id": f"b{i}"} for i in range(6)]
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=discord_.channel("general").id
    )
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.request(route, json={"components": [{"type": 1, "components": buttons}]})
    assert caught.value.code == 50035
    take_violations(discord_, "/messages")


async def test_duplicate_custom_id_rejected(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Two components with the same custom_id in one message are rejected."""
    buttons = [{"type": 2, "style": 1, "label": str(i), "custom_id": "same"} for i in range(2)]
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=discord_.channel("general").id
    )
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.request(route, json={"components": [{"type": 1, "components": buttons}]})
    assert "custom id cannot be duplicated" in caught.value.text


async def test_button_label_over_80_rejected(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A button label of 81 characters is rejected."""
    button = {"type": 2, "style": 1, "label": "l" * 81, "custom_id": "b"}
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=discord_.channel("general").id
    )
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.request(route, json={"components": [{"type": 1, "components": [button]}]})
    assert caught.value.code == 50035 and "label" in caught.value.text
    take_violations(discord_, "/messages")


async def test_modal_title_over_45_rejected(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A modal whose title exceeds 45 characters is refused, and the interaction stays open."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        modal = bot.modal()
        modal.title = "t" * 46
        await interaction.response.send_modal(modal)

    error = await _run_failing(discord_, bot, song)
    assert isinstance(error, discord.HTTPException) and "title" in error.text
    take_violations(discord_, "/callback")


async def test_autocomplete_over_25_choices_rejected(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """An autocomplete answer with 26 choices is refused with 50035 and not acknowledged."""
    bot.track_names = [f"track {i}" for i in range(26)]
    with pytest.raises(TimeoutError):
        await discord_.autocomplete("extend", focused="track", value="", timeout=0.5)
    refused = await discord_.wait_for_request(lambda r: r.path.endswith("/callback"))
    assert refused.status == 400 and refused.response["code"] == 50035
    take_violations(discord_, "/callback")
