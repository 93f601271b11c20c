"""The follow-up registry and the rows of a result (`bot.ui.follow_ups`, `bot.ui.result_card`)."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.jobs.operations import FollowUp, Operation
from bot.ui.follow_ups import FollowUpEntry, FollowUpRegistry, ResultTrack, offered_for
from bot.ui.result_card import laid_out

SONG = ResultTrack(7, Operation.SONG)
MUSIC = ResultTrack(8, Operation.MUSIC)


def button(name: str) -> discord.ui.Button[Any]:
    return discord.ui.Button(label=name, custom_id=name)


def entry(name: str, position: int, **options: Any) -> FollowUpEntry:
    return FollowUpEntry(name, position, lambda track: button(name), **options)


def names(items: list[discord.ui.Item[Any]]) -> list[str]:
    return [str(getattr(item, "label", "")) for item in items]


def rows(view: discord.ui.View) -> list[list[str]]:
    return [
        [str(part.get("label") or part.get("placeholder")) for part in row["components"]]
        for row in view.to_components()
    ]


def test_follow_ups_come_in_the_order_of_their_positions() -> None:
    """Entries added in any order are offered by position."""
    registry = FollowUpRegistry()
    registry.add(entry("delete", 90), entry("extend", 10), entry("lyrics", 40))
    assert names(registry.items_for(SONG)) == ["extend", "lyrics", "delete"]


def test_an_entry_is_offered_only_where_it_applies() -> None:
    """The Lyrics entry appears under a song and not under an instrumental."""
    registry = FollowUpRegistry()
    registry.add(entry("lyrics", 40, applies=offered_for(FollowUp.LYRICS)), entry("delete", 90))
    assert names(registry.items_for(SONG)) == ["lyrics", "delete"]
    assert names(registry.items_for(MUSIC)) == ["delete"]


def test_an_unloaded_feature_takes_its_follow_ups_with_it() -> None:
    """After `remove`, an entry is no longer offered."""
    registry = FollowUpRegistry()
    lyrics = entry("lyrics", 40)
    registry.add(lyrics, entry("delete", 90))
    registry.remove(lyrics)
    assert registry.names() == ["delete"]


def test_two_follow_ups_cannot_share_a_name() -> None:
    """Registering a second entry under a name already taken is refused."""
    registry = FollowUpRegistry()
    registry.add(entry("extend", 10))
    with pytest.raises(ValueError, match="already registered"):
        registry.add(entry("extend", 20))


def test_buttons_fill_rows_of_five_then_each_select_then_links() -> None:
    """Seven buttons take two rows, a select the third, links the last."""
    buttons = [button(f"b{n}") for n in range(7)]
    select: discord.ui.Select[Any] = discord.ui.Select(placeholder="pick", custom_id="s")
    select.add_option(label="one")
    link: discord.ui.Button[Any] = discord.ui.Button(label="link", url="https://example.com/a.mp3")
    view = laid_out([*buttons[:3], select, *buttons[3:]], [link])
    assert rows(view) == [
        ["b0", "b1", "b2", "b3", "b4"],
        ["b5", "b6"],
        ["pick"],
        ["link"],
    ]
