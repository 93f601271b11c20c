"""`/help` through the local Discord: built from the registered commands, with topics."""

from __future__ import annotations

from typing import Any

from discord import app_commands

from sandbox.discord.state import Message
from sandbox.stack import SandboxStack
from tests.e2e.conftest import embed_text


async def help_card(stack: SandboxStack, user: str = "bob") -> Message:
    interaction = await stack.discord.slash("help", user=user)
    return await stack.discord.wait_for_message(
        lambda m: m.interaction_id == interaction.id and bool(m.embeds)
    )


def registered(stack: SandboxStack) -> list[Any]:
    """Every slash command and message menu the bot's tree holds."""
    tree = stack.bot.tree
    commands: list[Any] = []
    for command in tree.get_commands():
        if isinstance(command, app_commands.Group):
            commands.extend(command.walk_commands())
        else:
            commands.append(command)
    return commands


async def test_help_lists_every_registered_command_privately(stack: SandboxStack) -> None:
    """The card is private and names every slash command and message menu that is registered."""
    card = await help_card(stack)
    text = embed_text(card)
    names = [
        f"`/{c.qualified_name}" if isinstance(c, app_commands.Command) else f"**{c.name}**"
        for c in registered(stack)
    ]
    assert card.ephemeral
    assert [name for name in names if name not in text] == []


def test_every_command_has_an_example(stack: SandboxStack) -> None:
    """No command or menu is registered without the example /help shows."""
    missing = [c.qualified_name for c in registered(stack) if not c.extras.get("example")]
    assert missing == []


async def test_commands_are_grouped_by_feature_with_examples(stack: SandboxStack) -> None:
    """The Song feature's field lists /song with its options and its example."""
    card = await help_card(stack)
    fields = {field["name"]: field["value"] for field in card.embeds[0]["fields"]}
    assert "`/song prompt [lyrics] [duration] [version] [style]`" in fields["Song"]
    assert "*e.g.* `/song prompt: lofi rain on a tin roof duration: 1:00`" in fields["Song"]


async def test_the_quota_topic_shows_this_servers_policy(stack: SandboxStack) -> None:
    """The Quota button answers privately with how units work and this server's policy."""
    card = await help_card(stack)
    click = await stack.discord.click(card, "Quota", user="bob")
    reply = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == click.id and m.ephemeral
    )
    text = embed_text(reply)
    assert "Each job holds its units when it starts" in text and "100 per day" in text


async def test_the_history_topic_says_how_long_audio_is_kept(stack: SandboxStack) -> None:
    """The History button explains /history, Delete and privacy, with the retention days."""
    card = await help_card(stack)
    click = await stack.discord.click(card, "History", user="bob")
    reply = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == click.id and m.ephemeral
    )
    assert "Audio files are kept for 14 days" in embed_text(reply)


async def test_the_voice_topic_says_when_the_bot_leaves(stack: SandboxStack) -> None:
    """The Voice button explains /play and its controls, with the idle time before leaving."""
    card = await help_card(stack)
    click = await stack.discord.click(card, "Voice", user="bob")
    reply = await stack.discord.wait_for_message(
        lambda m: m.interaction_id == click.id and m.ephemeral
    )
    assert "It leaves after 300 seconds" in embed_text(reply)


async def test_the_contests_topic_explains_how_to_run_one(stack: SandboxStack) -> None:
    """The Contests button explains creating, entering and voting, with an example."""
    card = await help_card(stack)
    pressed = await stack.discord.click(card, "Contests", user="bob")
    reply = await stack.discord.wait_for_message(lambda m: m.interaction_id == pressed.id)
    assert "/contest create title: Rain remix" in embed_text(reply)
