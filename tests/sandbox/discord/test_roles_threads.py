"""Member roles, join times, forum channels and threads, and scheduled events, as the real
discord.py client meets them in the local Discord (every request checked against the spec)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from sandbox.discord import LocalDiscord, Role, Thread
from sandbox.discord.state import (
    CONNECT,
    CREATE_EVENTS,
    CREATE_PUBLIC_THREADS,
    MANAGE_EVENTS,
    MANAGE_ROLES,
    MANAGE_THREADS,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    World,
)
from tests.sandbox.discord.scripted_bot import ScriptedBot

WITH_MEMBERS = discord.Intents.default()
WITH_MEMBERS.members = True


@pytest.fixture
async def members_bot(discord_: LocalDiscord) -> AsyncIterator[ScriptedBot]:
    """The scripted bot with the Guild Members intent, logged in and ready."""
    client = ScriptedBot(intents=WITH_MEMBERS)
    task = asyncio.create_task(client.start(discord_.bot_token))
    await asyncio.wait_for(client.wait_until_ready(), 10)
    yield client
    await client.close()
    await asyncio.wait_for(task, 5)


def guild_of(bot: ScriptedBot, discord_: LocalDiscord) -> discord.Guild:
    guild = bot.get_guild(int(discord_.guild.id))
    assert guild is not None
    return guild


def text_channel(bot: ScriptedBot, discord_: LocalDiscord, name: str) -> discord.TextChannel:
    channel = bot.get_channel(int(discord_.channel(name).id))
    assert isinstance(channel, discord.TextChannel)
    return channel


async def member(bot: ScriptedBot, discord_: LocalDiscord, name: str) -> discord.Member:
    return await guild_of(bot, discord_).fetch_member(int(discord_.user(name).id))


async def role_manager(discord_: LocalDiscord) -> Role:
    """The bot holds a role with Manage Roles above the default roles; returns that role."""
    own = await discord_.add_role("Soundverse", position=3, permissions=MANAGE_ROLES)
    await discord_.give_role("bot", own)
    return own


def dispatched(discord_: LocalDiscord) -> list[str]:
    """The names of the gateway events sent so far."""
    session = discord_.gateway.session
    assert session is not None
    return [name for _, name, _ in session.events]


async def forum(
    bot: ScriptedBot, discord_: LocalDiscord, name: str = "contests"
) -> discord.ForumChannel:
    """A new forum channel, once the bot has it."""
    created = asyncio.ensure_future(bot.wait_for("guild_channel_create", timeout=5))
    await discord_.add_channel(name, forum=True)
    channel = await created
    assert isinstance(channel, discord.ForumChannel)
    return channel


async def forum_post(
    bot: ScriptedBot, discord_: LocalDiscord, name: str = "Remix #1", **message: Any
) -> discord.Thread:
    """The bot posts `name` in a new forum channel; returns the thread once the bot has it."""
    message.setdefault("content", "Post your remix here")
    created = asyncio.ensure_future(bot.wait_for("thread_create", timeout=5))
    await (await forum(bot, discord_)).create_thread(name=name, **message)
    thread: discord.Thread = await created
    return thread


async def raw(bot: ScriptedBot, method: str, path: str, **fields: Any) -> Any:
    """A request the bot makes by hand (`fields`: the route's ids, then `json`)."""
    body = fields.pop("json", None)
    return await bot.http.request(discord.http.Route(method, path, **fields), json=body)


# -- member roles -------------------------------------------------------------------------------


async def test_add_role_reaches_the_bot(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A role an admin makes arrives in discord.py's cache through GUILD_ROLE_CREATE."""
    created = asyncio.ensure_future(bot.wait_for("guild_role_create", timeout=5))
    role = await discord_.add_role("Winner", permissions=0)
    assert (await created).id == int(role.id)


async def test_add_role_moves_the_roles_above_up(discord_: LocalDiscord) -> None:
    """A role made at position 1 pushes the roles at or above it up by one."""
    await discord_.add_role("Winner", position=1)
    positions = {r.name: r.position for r in discord_.guild.roles}
    assert positions == {"@everyone": 0, "Winner": 1, "DJ": 2, "Moderator": 3}


async def test_bot_gives_a_role(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """With Manage Roles and a higher role, the bot gives a member a role (204)."""
    await role_manager(discord_)
    winner = await discord_.add_role("Winner")
    await (await member(bot, discord_, "bob")).add_roles(discord.Object(int(winner.id)))
    assert discord_.roles_of("bob") == ["Winner"]


async def test_bot_takes_a_role(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """The bot removes a role it may manage."""
    await role_manager(discord_)
    await discord_.give_role("bob", await discord_.add_role("Winner"))
    await (await member(bot, discord_, "bob")).remove_roles(
        discord.Object(int(discord_.role("Winner").id))
    )
    assert discord_.roles_of("bob") == []


async def test_without_manage_roles_the_grant_is_refused(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A bot without Manage Roles gets 403 50013, whatever the role's position."""
    await discord_.give_role("bot", await discord_.add_role("Soundverse", position=3))
    winner = await discord_.add_role("Winner")
    with pytest.raises(discord.Forbidden) as refused:
        await (await member(bot, discord_, "bob")).add_roles(discord.Object(int(winner.id)))
    assert refused.value.code == 50013 and discord_.roles_of("bob") == []


async def test_a_role_above_the_bots_highest_is_refused(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """The role hierarchy: a role at or above the bot's highest role gets 403 50013."""
    await role_manager(discord_)
    top = await discord_.add_role("Champion", position=5)
    with pytest.raises(discord.Forbidden) as refused:
        await (await member(bot, discord_, "bob")).add_roles(discord.Object(int(top.id)))
    assert refused.value.code == 50013


async def test_an_unknown_role_is_10011(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Granting a role the guild does not have answers 404 Unknown Role."""
    await role_manager(discord_)
    with pytest.raises(discord.NotFound) as missing:
        await bot.http.add_role(discord_.guild.id, discord_.user("bob").id, "12345")
    assert missing.value.code == 10011


async def test_an_unknown_member_is_10007(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Granting a role to someone not in the guild answers 404 Unknown Member."""
    own = await role_manager(discord_)
    with pytest.raises(discord.NotFound) as missing:
        await bot.http.add_role(discord_.guild.id, "12345", own.id)
    assert missing.value.code == 10007


async def test_member_update_refreshes_the_member_cache(
    discord_: LocalDiscord, members_bot: ScriptedBot
) -> None:
    """With the Guild Members intent, GUILD_MEMBER_UPDATE gives the cached member the role."""
    await role_manager(discord_)
    winner = await discord_.add_role("Winner")
    bob = int(discord_.user("bob").id)
    updated = asyncio.ensure_future(
        members_bot.wait_for("member_update", check=lambda _, m: m.id == bob, timeout=5)
    )
    await (await member(members_bot, discord_, "bob")).add_roles(discord.Object(int(winner.id)))
    _, after = await updated
    assert [r.name for r in after.roles[1:]] == ["Winner"]


async def test_no_member_update_about_others_without_the_intent(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Without the Guild Members intent, Discord sends no GUILD_MEMBER_UPDATE about others."""
    await role_manager(discord_)
    sent = len(dispatched(discord_))
    await (await member(bot, discord_, "bob")).add_roles(
        discord.Object(int(discord_.role("DJ").id))
    )
    assert "GUILD_MEMBER_UPDATE" not in dispatched(discord_)[sent:]


async def test_the_bots_own_roles_update_without_the_intent(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """GUILD_MEMBER_UPDATE about the bot itself comes regardless of intents."""
    updated = asyncio.ensure_future(bot.wait_for("member_update", timeout=5))
    await role_manager(discord_)
    _, after = await updated
    assert after.id == int(discord_.bot_user.id) and after.top_role.name == "Soundverse"


async def test_roles_of_lists_names_lowest_first(discord_: LocalDiscord) -> None:
    """roles_of names a member's roles by position, without @everyone."""
    await discord_.give_role("alice", "DJ")
    assert discord_.roles_of("alice") == ["DJ", "Moderator"]


# -- join times ---------------------------------------------------------------------------------


async def test_joined_at_is_what_get_member_answers(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A member set to have joined at an instant is fetched with that `joined_at`."""
    instant = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    discord_.set_joined_at("bob", instant)
    assert (await member(bot, discord_, "bob")).joined_at == instant


async def test_joined_at_is_in_the_interaction(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """The member object of an interaction carries the join time that was set."""
    instant = datetime.now(UTC) - timedelta(hours=2)
    discord_.set_joined_at("bob", instant)
    seen: list[datetime | None] = []

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        assert isinstance(interaction.user, discord.Member)
        seen.append(interaction.user.joined_at)
        await interaction.response.send_message("ok")

    bot.scripts["song"] = song
    await (await discord_.slash("song", user="bob", prompt="x")).wait_for_ack()
    assert seen == [instant]


async def test_joined_at_wants_an_aware_datetime(discord_: LocalDiscord) -> None:
    """A naive datetime is refused: a join time has a time zone."""
    with pytest.raises(ValueError, match="aware"):
        discord_.set_joined_at("bob", datetime(2024, 5, 1))


# -- forum channels and threads -----------------------------------------------------------------


async def test_a_forum_channel_reaches_the_bot(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """add_channel(forum=True) makes a type 15 channel that discord.py caches as a forum."""
    channel = await forum(bot, discord_)
    assert discord_.channel("contests").type == 15 and channel.name == "contests"


async def test_a_forum_post_is_a_thread_with_its_starter_message(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A forum post is a public thread whose starter message has the thread's id."""
    posted = await (await forum(bot, discord_)).create_thread(name="Remix #1", content="Go!")
    thread = discord_.channel("Remix #1")
    assert isinstance(thread, Thread) and thread.type == PUBLIC_THREAD
    assert posted.thread.id == posted.message.id == int(thread.id)
    assert [m.content for m in discord_.messages_in("Remix #1")] == ["Go!"]


async def test_a_forum_post_can_carry_a_file(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A forum post sent as multipart keeps its upload on the starter message."""
    upload = discord.File(io.BytesIO(b"ID3 stems"), "stems.mp3")
    await forum_post(bot, discord_, file=upload)
    starter = discord_.messages_in("Remix #1")[0]
    assert [(a.filename, a.data) for a in starter.attachments] == [("stems.mp3", b"ID3 stems")]


async def test_a_forum_post_needs_a_message(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A thread in a forum without `message` is refused with 400 50035."""
    channel = await forum(bot, discord_)
    with pytest.raises(discord.HTTPException) as refused:
        await raw(
            bot, "POST", "/channels/{channel_id}/threads", channel_id=channel.id, json={"name": "x"}
        )
    assert refused.value.code == 50035 and not discord_.guild.threads


async def test_a_forum_post_needs_send_messages(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Without Send Messages in the forum, a post is refused with 403 50013."""
    channel = await forum(bot, discord_)
    await discord_.set_permissions("contests", "bot", deny=SEND_MESSAGES)
    with pytest.raises(discord.Forbidden) as refused:
        await channel.create_thread(name="Remix #1", content="Go!")
    assert refused.value.code == 50013


async def test_a_forum_post_ignores_create_public_threads(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Create Public Threads is not needed for a forum post."""
    channel = await forum(bot, discord_)
    await discord_.set_permissions("contests", "bot", deny=CREATE_PUBLIC_THREADS)
    posted = await channel.create_thread(name="Remix #1", content="Go!")
    assert posted.thread.name == "Remix #1"


async def test_messages_cannot_go_straight_into_a_forum(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A message to the forum channel itself is refused with 400 50008."""
    channel = await forum(bot, discord_)
    with pytest.raises(discord.HTTPException) as refused:
        await raw(
            bot,
            "POST",
            "/channels/{channel_id}/messages",
            channel_id=channel.id,
            json={"content": "hi"},
        )
    assert refused.value.code == 50008


async def test_thread_create_puts_the_thread_in_the_cache(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """THREAD_CREATE (newly created) makes discord.py cache the thread under its forum."""
    thread = await forum_post(bot, discord_)
    assert guild_of(bot, discord_).get_thread(thread.id) is thread
    assert isinstance(thread.parent, discord.ForumChannel)


async def test_the_bot_is_a_member_of_the_thread_it_made(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """THREAD_MEMBERS_UPDATE tells discord.py the bot joined its own thread."""
    joined = asyncio.ensure_future(bot.wait_for("thread_join", timeout=5))
    thread = await forum_post(bot, discord_)
    assert await joined is thread and thread.me is not None


async def test_a_text_channel_thread_is_private_by_default(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Without `type`, Start Thread without Message makes a private thread, as documented."""
    made = await raw(
        bot,
        "POST",
        "/channels/{channel_id}/threads",
        channel_id=discord_.channel("general").id,
        json={"name": "Backstage"},
    )
    assert made["type"] == PRIVATE_THREAD == discord_.channel("Backstage").type


async def test_a_public_thread_in_a_text_channel(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A public thread made in a text channel has it as parent."""
    thread = await text_channel(bot, discord_, "general").create_thread(
        name="Entries", type=discord.ChannelType.public_thread
    )
    assert thread.type is discord.ChannelType.public_thread
    stored = discord_.channel("Entries")
    assert isinstance(stored, Thread) and stored.parent_id == discord_.channel("general").id


async def test_a_public_thread_needs_create_public_threads(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Without Create Public Threads a public thread is refused with 403 50013."""
    await discord_.set_permissions("general", "bot", deny=CREATE_PUBLIC_THREADS)
    with pytest.raises(discord.Forbidden) as refused:
        await text_channel(bot, discord_, "general").create_thread(
            name="Entries", type=discord.ChannelType.public_thread
        )
    assert refused.value.code == 50013


async def test_a_thread_from_a_message_takes_its_id(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A thread from a message has the message's id; the message gets the HAS_THREAD flag."""
    card = await text_channel(bot, discord_, "general").send("Contest card")
    thread = await card.create_thread(name="Entries")
    assert thread.id == card.id and thread.type is discord.ChannelType.public_thread
    assert discord_.messages_in("general")[-1].flags & (1 << 5)


async def test_a_message_starts_one_thread_only(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A second thread from the same message is refused with 400 160004."""
    card = await text_channel(bot, discord_, "general").send("Contest card")
    await card.create_thread(name="Entries")
    with pytest.raises(discord.HTTPException) as refused:
        await card.create_thread(name="Again")
    assert refused.value.code == 160004


async def test_the_bots_thread_messages_are_found_in_the_thread(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Messages the bot sends into a thread are the thread's, not its parent's."""
    thread = await forum_post(bot, discord_)
    await thread.send("Entry 1")
    assert [m.content for m in discord_.messages_in("Remix #1")] == [
        "Post your remix here",
        "Entry 1",
    ]
    assert discord_.messages_in("contests") == []


async def test_sending_in_a_thread_needs_send_messages_in_threads(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Without Send Messages in Threads on the parent, a thread message gets 403 50013."""
    card = await text_channel(bot, discord_, "general").send("Contest card")
    thread = await card.create_thread(name="Entries")
    await discord_.set_permissions("general", "bot", deny=SEND_MESSAGES_IN_THREADS)
    with pytest.raises(discord.Forbidden) as refused:
        await thread.send("Entry 1")
    assert refused.value.code == 50013


async def test_send_messages_does_not_count_in_threads(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Denying Send Messages on the parent leaves threads open, files included."""
    card = await text_channel(bot, discord_, "general").send("Contest card")
    thread = await card.create_thread(name="Entries")
    await discord_.set_permissions("general", "bot", deny=SEND_MESSAGES)
    sent = await thread.send("Entry 1", file=discord.File(io.BytesIO(b"ID3"), "entry.mp3"))
    assert sent.attachments[0].filename == "entry.mp3"


async def test_get_channel_answers_the_thread_with_its_counts(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """GET /channels/{thread} is the thread, counting messages but not the starter message."""
    thread = await forum_post(bot, discord_)
    await thread.send("Entry 1")
    await discord_.post_message(thread.name, "bob", "Entry 2")
    fetched = await bot.fetch_channel(thread.id)
    assert isinstance(fetched, discord.Thread) and fetched.message_count == 2
    assert fetched.member_count == 2


async def test_messages_in_takes_a_thread_id(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """messages_in finds a thread by its id as well as by its name."""
    thread = await forum_post(bot, discord_)
    assert discord_.messages_in(str(thread.id)) == discord_.messages_in("Remix #1") != []


async def test_guild_create_carries_threads_and_events(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A rejoined guild's GUILD_CREATE carries its threads (the bot's membership too) and events."""
    thread = await forum_post(bot, discord_)
    event = await voice_event(bot, discord_)
    left = asyncio.ensure_future(bot.wait_for("guild_remove", timeout=5))
    discord_.remove_guild(discord_.guild)
    await left
    joined = asyncio.ensure_future(bot.wait_for("guild_join", timeout=5))
    discord_.return_guild(discord_.guild)
    guild: discord.Guild = await joined
    again = guild.get_thread(thread.id)
    assert again is not None and again.me is not None
    assert guild.get_scheduled_event(event.id) is not None


async def test_a_members_thread_message_reaches_the_bot(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A member's message in a thread arrives with the thread as its channel."""
    thread = await forum_post(bot, discord_)
    heard = asyncio.ensure_future(bot.wait_for("message", timeout=5))
    await discord_.post_message("Remix #1", "bob", "my entry")
    assert (await heard).channel is thread


async def test_a_slash_command_in_a_thread(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A slash command run in a thread has the thread as channel, and its answer lands there."""
    thread = await forum_post(bot, discord_)
    channels: list[Any] = []

    async def song(interaction: discord.Interaction, **_: Any) -> None:
        channels.append(interaction.channel)
        await interaction.response.send_message("Entry noted")

    bot.scripts["song"] = song
    handle = await discord_.slash("song", channel="Remix #1", prompt="x")
    answer = await handle.original()
    assert channels == [thread] and answer in discord_.messages_in("Remix #1")


async def test_a_button_click_in_a_thread(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A button on a forum post's starter message is clicked in the thread."""
    channels: list[Any] = []

    async def on_click(interaction: discord.Interaction, custom_id: str, **_: Any) -> None:
        channels.append(interaction.channel)
        await interaction.response.send_message(f"clicked {custom_id}", ephemeral=True)

    bot.scripts["on_click"] = on_click
    thread = await forum_post(bot, discord_, view=bot.view())
    starter = discord_.messages_in("Remix #1")[0]
    await (await discord_.click(starter, "Again", user="bob")).wait_for_ack()
    assert channels == [thread]


def test_a_private_thread_is_hidden_from_non_members() -> None:
    """A private thread is seen by its members and by those who may manage threads only."""
    world = World()
    guild = world.add_guild("G")
    parent = guild.channels[0]
    thread = Thread("7", guild.id, "Backstage", PRIVATE_THREAD, 0, parent_id=parent.id)
    thread.join(world.user_named("bob").id)
    guild.threads.append(thread)
    bob, carol = (guild.member(world.user_named(n).id) for n in ("bob", "carol"))
    assert bob is not None and carol is not None
    assert guild.permissions_in(bob, thread) & VIEW_CHANNEL
    assert not guild.permissions_in(carol, thread) & VIEW_CHANNEL
    guild.roles[0].permissions |= MANAGE_THREADS
    assert guild.permissions_in(carol, thread) & VIEW_CHANNEL


# -- scheduled events ---------------------------------------------------------------------------


def soon(hours: float = 24) -> datetime:
    return discord.utils.utcnow() + timedelta(hours=hours)


async def lounge(bot: ScriptedBot, discord_: LocalDiscord) -> discord.VoiceChannel:
    channel = bot.get_channel(int(discord_.channel("Lounge").id))
    assert isinstance(channel, discord.VoiceChannel)
    return channel


async def voice_event(bot: ScriptedBot, discord_: LocalDiscord) -> discord.ScheduledEvent:
    return await guild_of(bot, discord_).create_scheduled_event(
        name="Listening party",
        start_time=soon(),
        end_time=soon(25),
        channel=await lounge(bot, discord_),
        entity_type=discord.EntityType.voice,
        privacy_level=discord.PrivacyLevel.guild_only,
    )


def external_event(start: datetime | None = None, **changes: Any) -> dict[str, Any]:
    """A create body for an external event."""
    start = start or soon()
    body: dict[str, Any] = {
        "name": "Results show",
        "privacy_level": 2,
        "entity_type": 3,
        "scheduled_start_time": start.isoformat(),
        "scheduled_end_time": (start + timedelta(hours=1)).isoformat(),
        "entity_metadata": {"location": "https://example.com/show"},
    }
    body.update(changes)
    return body


async def post_event(bot: ScriptedBot, discord_: LocalDiscord, body: dict[str, Any]) -> Any:
    return await raw(
        bot, "POST", "/guilds/{guild_id}/scheduled-events", guild_id=discord_.guild.id, json=body
    )


async def patch_event(
    bot: ScriptedBot, discord_: LocalDiscord, event_id: Any, body: dict[str, Any]
) -> Any:
    return await raw(
        bot,
        "PATCH",
        "/guilds/{guild_id}/scheduled-events/{event_id}",
        guild_id=discord_.guild.id,
        event_id=event_id,
        json=body,
    )


async def test_a_voice_event_is_created(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A voice event in a voice channel is stored with its channel and creator."""
    event = await voice_event(bot, discord_)
    [stored] = discord_.scheduled_events()
    assert (stored.id, stored.entity_type, stored.channel_id) == (
        str(event.id),
        2,
        discord_.channel("Lounge").id,
    )
    assert (
        event.creator_id == int(discord_.bot_user.id)
        and event.status is discord.EventStatus.scheduled
    )


async def test_an_external_event_is_created(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """An external event keeps its location and end time."""
    event = await guild_of(bot, discord_).create_scheduled_event(
        name="Results show",
        start_time=soon(),
        end_time=soon(26),
        entity_type=discord.EntityType.external,
        location="https://example.com/show",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    assert event.location == "https://example.com/show" and event.channel_id is None
    assert discord_.scheduled_events()[0].location == "https://example.com/show"


async def test_an_external_event_needs_an_end(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """An external event without `scheduled_end_time` is refused with 400 50035."""
    with pytest.raises(discord.HTTPException) as refused:
        await post_event(bot, discord_, external_event(scheduled_end_time=None))
    assert refused.value.code == 50035 and not discord_.scheduled_events()


async def test_an_event_cannot_start_in_the_past(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A start time already gone is refused with 400 50035."""
    with pytest.raises(discord.HTTPException) as refused:
        await post_event(bot, discord_, external_event(soon(-1)))
    assert refused.value.code == 50035


async def test_creating_an_event_needs_create_events(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Without Create Events the bot's event is refused with 403 50013."""
    discord_.guild.roles[0].permissions &= ~CREATE_EVENTS
    with pytest.raises(discord.Forbidden) as refused:
        await post_event(bot, discord_, external_event())
    assert refused.value.code == 50013


async def test_manage_events_alone_does_not_create(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Since February 2026 Manage Events without Create Events cannot create an event."""
    discord_.guild.roles[0].permissions &= ~CREATE_EVENTS
    await discord_.give_role("bot", await discord_.add_role("Events", permissions=MANAGE_EVENTS))
    with pytest.raises(discord.Forbidden) as refused:
        await post_event(bot, discord_, external_event())
    assert refused.value.code == 50013


async def test_a_voice_event_needs_connect_there(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A voice event in a channel the bot may not connect to is refused with 403 50013."""
    await discord_.set_permissions("Lounge", "bot", deny=CONNECT)
    with pytest.raises(discord.Forbidden) as refused:
        await voice_event(bot, discord_)
    assert refused.value.code == 50013


async def test_a_voice_event_needs_a_voice_channel(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A voice event placed in a text channel is refused with 400 50024."""
    body = {
        "name": "Listening party",
        "privacy_level": 2,
        "entity_type": 2,
        "channel_id": discord_.channel("general").id,
        "scheduled_start_time": soon().isoformat(),
    }
    with pytest.raises(discord.HTTPException) as refused:
        await post_event(bot, discord_, body)
    assert refused.value.code == 50024


async def test_a_stage_event_needs_manage_channels_there(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """A stage event also takes Manage Channels, Mute and Move Members: without, 403 50013."""
    stage = await discord_.add_channel("Stage", stage=True)
    body = {
        "name": "Results show",
        "privacy_level": 2,
        "entity_type": 1,
        "channel_id": stage.id,
        "scheduled_start_time": soon().isoformat(),
    }
    with pytest.raises(discord.Forbidden) as refused:
        await post_event(bot, discord_, body)
    assert refused.value.code == 50013


async def test_event_create_reaches_the_bots_cache(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """GUILD_SCHEDULED_EVENT_CREATE puts the event in the guild's cache."""
    created = asyncio.ensure_future(bot.wait_for("scheduled_event_create", timeout=5))
    event = await voice_event(bot, discord_)
    assert (await created).id == event.id
    assert guild_of(bot, discord_).get_scheduled_event(event.id) is not None


async def test_the_events_are_listed(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """GET scheduled-events lists the guild's events with their user counts."""
    made = await voice_event(bot, discord_)
    listed = await guild_of(bot, discord_).fetch_scheduled_events()
    assert [(e.id, e.user_count) for e in listed] == [(made.id, 0)]


async def test_an_event_is_edited(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """PATCH renames the event and the bot hears GUILD_SCHEDULED_EVENT_UPDATE."""
    event = await voice_event(bot, discord_)
    updated = asyncio.ensure_future(bot.wait_for("scheduled_event_update", timeout=5))
    await event.edit(name="Listening party, round 2")
    _, after = await updated
    assert after.name == discord_.scheduled_events()[0].name == "Listening party, round 2"


async def test_an_event_is_started_then_completed(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Scheduled -> active -> completed is the way an event ends."""
    event = await voice_event(bot, discord_)
    await patch_event(bot, discord_, event.id, {"status": 2})
    ended = await patch_event(bot, discord_, event.id, {"status": 3})
    assert ended["status"] == 3 == discord_.scheduled_events()[0].status


async def test_a_scheduled_event_cannot_jump_to_completed(
    discord_: LocalDiscord, bot: ScriptedBot
) -> None:
    """Scheduled -> completed is no valid status change: 400 50035."""
    event = await voice_event(bot, discord_)
    with pytest.raises(discord.HTTPException) as refused:
        await patch_event(bot, discord_, event.id, {"status": 3})
    assert refused.value.code == 50035


async def test_a_finished_event_cannot_be_updated(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """A canceled event refuses any change with 400 180000."""
    event = await voice_event(bot, discord_)
    await patch_event(bot, discord_, event.id, {"status": 4})
    with pytest.raises(discord.HTTPException) as refused:
        await patch_event(bot, discord_, event.id, {"name": "Back on"})
    assert refused.value.code == 180000


async def test_an_event_is_deleted(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """DELETE removes the event (204) and the bot hears GUILD_SCHEDULED_EVENT_DELETE."""
    event = await voice_event(bot, discord_)
    deleted = asyncio.ensure_future(bot.wait_for("scheduled_event_delete", timeout=5))
    await event.delete()
    assert (await deleted).id == event.id and discord_.scheduled_events() == []


async def test_an_unknown_event_is_10070(discord_: LocalDiscord, bot: ScriptedBot) -> None:
    """Editing an event that does not exist answers 404 Unknown Guild Scheduled Event."""
    with pytest.raises(discord.NotFound) as missing:
        await patch_event(bot, discord_, "12345", {"name": "x"})
    assert missing.value.code == 10070
