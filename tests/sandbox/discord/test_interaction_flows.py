"""Happy paths of interactions as a real discord.py bot drives them against the local Discord."""

from __future__ import annotations

import io
from typing import Any

import discord

from sandbox.discord import LocalDiscord
from tests.sandbox.discord.scripted_bot import ScriptedBot


async def test_slash_defer_edit_followup(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A deferred command's progress edits land on the original message, then a follow-up."""

    async def song(interaction: discord.Interaction, prompt: str, duration: int) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.edit_original_response(content=f"Making {prompt} ({duration}s)")
        await interaction.followup.send("Done", file=discord.File(io.BytesIO(b"RIFF"), "song.wav"))

    bot.scripts["song"] = song
    handle = await discord_.slash("song", prompt="lofi rain", duration=30)
    followup = await handle.wait_for_followup()
    original = await handle.original()
    assert handle.response_type == 5
    assert original is not None and original.content == "Making lofi rain (30s)"
    assert not original.loading and original.edits[0].content == ""
    assert followup is not original and followup.attachments[0].data == b"RIFF"


async def test_followup_right_after_defer_replaces_loading_message(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """The first follow-up after a deferral edits the loading message instead of adding one."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await interaction.followup.send("Here it is")

    bot.scripts["song"] = song
    handle = await discord_.slash("song", prompt="x")
    followup = await handle.wait_for_followup()
    assert followup is await handle.original()
    assert followup.content == "Here it is" and followup.ephemeral and not followup.loading


async def test_send_message_ephemeral_flag(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A type 4 answer with ephemeral=True becomes an ephemeral original message (flag 64)."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.send_message("only you", ephemeral=True)

    bot.scripts["song"] = song
    original = await (await discord_.slash("song", prompt="x")).original()
    assert original is not None and original.flags & 64 and original.content == "only you"


async def test_button_click_updates_message(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Clicking a button by label reaches the bot's view, which answers with type 7."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.send_message("Job running", view=bot.view())

    async def on_click(interaction: discord.Interaction, custom_id: str, **_: Any) -> None:
        await interaction.response.edit_message(content=f"clicked {custom_id}", view=None)

    bot.scripts.update(song=song, on_click=on_click)
    message = await (await discord_.slash("song", prompt="x")).original()
    assert message is not None
    click = await discord_.click(message, "Cancel", user="bob")
    assert await click.wait_for_ack() == 7
    assert message.content == "clicked job:cancel" and message.components == []


async def test_select_menu_values_reach_bot(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Choosing in a select menu delivers the values; a type 6 deferral leaves the message."""
    seen: list[list[str]] = []

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.send_message("Pick a genre", view=bot.view())

    async def on_click(interaction: discord.Interaction, values: list[str], **_: Any) -> None:
        seen.append(values)
        await interaction.response.defer()

    bot.scripts.update(song=song, on_click=on_click)
    message = await (await discord_.slash("song", prompt="x")).original()
    assert message is not None
    picked = await discord_.select(message, "Genre", values=["jazz"], user="carol")
    assert await picked.wait_for_ack() == 6
    assert seen == [["jazz"]] and message.content == "Pick a genre"


async def test_autocomplete_returns_bot_choices(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Autocomplete is answered with type 8 and the local Discord returns the choices."""
    choices = await discord_.autocomplete("extend", focused="track", value="lo", user="alice")
    assert [c["value"] for c in choices] == ["lofi rain", "lofi train"]


async def test_modal_then_submit(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A type 9 modal is recorded, and submitting it runs the bot's on_submit with the value."""
    submitted: list[str] = []

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.send_modal(bot.modal())

    async def on_modal(interaction: discord.Interaction, lyrics: str) -> None:
        submitted.append(lyrics)
        await interaction.response.send_message("thanks", ephemeral=True)

    bot.scripts.update(song=song, on_modal=on_modal)
    shown = await discord_.slash("song", prompt="x")
    assert await shown.wait_for_ack() == 9
    assert shown.modal is not None and shown.modal["title"] == "Lyrics"
    submit = await discord_.submit_modal(shown, {"lyrics": "la la la"})
    assert await submit.wait_for_ack() == 4
    assert submitted == ["la la la"]


async def test_context_menu_on_member_upload(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A message command carries the target message; the bot downloads its attachment by URL."""
    downloaded: list[bytes] = []

    async def separate(interaction: discord.Interaction, message: discord.Message) -> None:
        downloaded.append(await message.attachments[0].read())
        await interaction.response.send_message("splitting")

    bot.scripts["Separate stems"] = separate
    upload = discord_.upload("take.mp3", b"ID3 audio", "audio/mpeg")
    message = await discord_.post_message(channel="music", user="bob", attachments=[upload])
    handle = await discord_.context_menu("Separate stems", message, user="alice")
    assert await handle.wait_for_ack() == 4
    assert downloaded == [b"ID3 audio"]


async def test_attachment_option_resolved(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """An attachment option arrives through `resolved` with its size and content type."""
    seen: list[tuple[str, int, str | None, bytes]] = []

    async def stems(interaction: discord.Interaction, audio: discord.Attachment) -> None:
        seen.append((audio.filename, audio.size, audio.content_type, await audio.read()))
        await interaction.response.defer()

    bot.scripts["stems"] = stems
    clip = discord_.upload("clip.wav", b"RIFF....WAVE", "audio/wav")
    await (await discord_.slash("stems", audio=clip)).wait_for_ack()
    assert seen == [("clip.wav", 12, "audio/wav", b"RIFF....WAVE")]


async def test_sub_command_dispatch(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """`slash("loop generate")` reaches the sub-command with its option."""
    prompts: list[str] = []

    async def generate(interaction: discord.Interaction, prompt: str) -> None:
        prompts.append(prompt)
        await interaction.response.send_message("ok")

    bot.scripts["loop generate"] = generate
    await (await discord_.slash(["loop", "generate"], prompt="drums")).wait_for_ack()
    assert prompts == ["drums"]


async def test_delete_original_and_followup_edit(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Follow-ups can be edited by id and the original deleted, both through the webhook."""

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        await interaction.response.send_message("first")
        sent = await interaction.followup.send("second", wait=True)
        await sent.edit(content="second, edited")
        await interaction.delete_original_response()

    bot.scripts["song"] = song
    handle = await discord_.slash("song", prompt="x")
    await bot.done.wait()
    assert not bot.errors
    original = await handle.original()
    assert original is not None and original.deleted
    assert handle.followups[0].content == "second, edited"
