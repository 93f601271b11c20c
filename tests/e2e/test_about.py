"""`/about` through the local Discord with the real discord.py client."""

from __future__ import annotations

from sandbox.stack import SandboxStack


async def test_about_defers_then_shows_version_and_api_status(stack: SandboxStack) -> None:
    """`/about` is acknowledged with a defer and answered privately with the version and a
    healthy API."""
    interaction = await stack.discord.slash("about", user="bob")
    assert await interaction.wait_for_ack() == 5
    message = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and bool(m.embeds)
    )
    assert message.ephemeral
    embed = message.embeds[0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert embed["title"] == "Soundverse for Discord"
    assert fields["Version"]
    assert fields["Soundverse API"].startswith("🟢 reachable, key accepted")
