"""Text Discord would refuse never costs a member their result: clipped, made plain, or sent as
links when Discord still says no."""

from __future__ import annotations

from sandbox.discord.state import JSON
from sandbox.stack import SandboxStack
from tests.e2e.conftest import embed_text, result_for

LONG_WORD = "tra" * 100


async def result_of(stack: SandboxStack, prompt: str) -> JSON:
    alice = stack.discord.user("alice")
    await stack.discord.slash("song", user="alice", prompt=prompt, duration=15)
    message = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    await stack.bot.services.jobs.wait_until_idle()
    return message.to_dict()


async def test_a_song_name_over_discords_title_limit_is_clipped(stack: SandboxStack) -> None:
    """A 300-letter word makes Soundverse name the song with over 256 characters: the result
    arrives with its title clipped to Discord's limit."""
    result = await result_of(stack, LONG_WORD)
    title = str(result["embeds"][0]["title"])
    assert len(title) <= 256 and title.endswith("…")


async def test_a_masked_link_in_a_prompt_stays_text(stack: SandboxStack) -> None:
    """`[text](url)` in a prompt is shown as typed, never as a masked link."""
    result = await result_of(stack, "lofi [free nitro](https://evil.example) rain")
    prompt = next(f for f in result["embeds"][0]["fields"] if f["name"] == "Prompt")
    assert "[free nitro]\\(https://evil.example)" in prompt["value"]


async def test_a_result_discord_refuses_arrives_as_links(stack: SandboxStack) -> None:
    """When Discord refuses the full result (here: no attachments allowed at all), the member
    still gets it: a message that mentions them with a link button to each take."""
    stack.discord.rules.max_files = 0
    alice = stack.discord.user("alice")
    await stack.discord.slash("song", user="alice", prompt="lofi rain", duration=15)
    message = await stack.discord.wait_for_message(result_for(alice.id), timeout=30)
    links = [c for c in message.all_components() if c.get("style") == 5]
    assert "Discord refused the full card" in embed_text(message)
    assert len(links) == 2 and all(str(c["url"]).startswith("http") for c in links)


async def test_every_free_text_option_has_a_maximum_length(stack: SandboxStack) -> None:
    """Every string option a member types freely (no fixed choices) declares max_length."""

    def options(items: list[JSON]) -> list[JSON]:
        found: list[JSON] = []
        for item in items:
            found.append(item)
            found.extend(options(item.get("options") or []))
        return found

    unbounded = [
        f"/{command.name} {option['name']}"
        for command in stack.discord.commands
        for option in options(command.payload.get("options") or [])
        if option.get("type") == 3 and not option.get("choices") and "max_length" not in option
    ]
    assert unbounded == []
