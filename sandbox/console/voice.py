"""What the console shows and keeps of voice: who moves in and out of voice channels, where the
bot is and what it plays, and the sound the local voice server heard, saved as WAV.

The bot's line reads three places of the local Discord: the guild's voice states (where the
bot is), the voice server (what was heard in that channel) and the bot's latest now-playing
card in the guild (the track's name and length).
"""

from __future__ import annotations

import re
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sandbox.discord import LocalDiscord
from sandbox.discord.state import Message
from sandbox.discord.voice import PCM_FRAME_BYTES, Heard

# What the voice server decodes to: 48 kHz, stereo, 16-bit; one 20 ms packet per frame.
SAMPLE_RATE = 48000
CHANNELS = 2
SAMPLE_BYTES = 2
BYTES_PER_SECOND = SAMPLE_RATE * CHANNELS * SAMPLE_BYTES
assert PCM_FRAME_BYTES * 50 == BYTES_PER_SECOND
VOICE_ICON = "🔊"
LEFT_ICON = "🔇"
CARD_AUTHOR = "Now playing in "
# `0:05 / 0:20` (or with hours) on the card: where playback is, and the track's length.
CARD_POSITION = re.compile(r"(\d+(?::\d{2}){1,2}) / (\d+(?::\d{2}){1,2})")
TRACK_NUMBER = re.compile(r"^#\d+\s+")
UNSAFE_IN_NAME = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class Card:
    """The bot's now-playing card: the track's name (without its `#N`), and its length."""

    title: str
    length: str | None


def now_playing_card(messages: Iterable[Message], bot_id: str, guild_id: str) -> Card | None:
    """The newest bot message in the guild whose first embed's author is "Now playing in …"."""
    for message in reversed(list(messages)):
        if message.deleted or message.author.id != bot_id or message.guild_id != guild_id:
            continue
        embed = message.embeds[0] if message.embeds else {}
        author = str((embed.get("author") or {}).get("name") or "")
        title = str(embed.get("title") or "")
        if author.startswith(CARD_AUTHOR) and title:
            position = CARD_POSITION.search(str(embed.get("description") or ""))
            length = position.group(2) if position else None
            return Card(TRACK_NUMBER.sub("", title), length)
    return None


def clock(seconds: float) -> str:
    """`0:07`, `12:30`, `1:02:03`: seconds heard, to the nearest second."""
    whole = int(max(0.0, seconds) + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, second = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{second:02d}"
    return f"{minutes}:{second:02d}"


def being_heard(heard: Heard) -> bool:
    """Sound is arriving: the newest packet carried sound, not the silence that ends a stream
    (discord.py sends silence frames when a track ends and when it is paused)."""
    return bool(heard.packets) and not heard.packets[-1].silence


def stretch_start(heard: Heard) -> int:
    """Where in `heard.pcm` the sound arriving without a break since the last silence began;
    its end when nothing is arriving."""
    unbroken = 0
    for packet in reversed(heard.packets):
        if packet.silence:
            break
        unbroken += 1
    return max(0, len(heard.pcm) - unbroken * PCM_FRAME_BYTES)


def bot_line(name: str, place: str, heard: bool, seconds: float, card: Card | None) -> str:
    """The bot's voice state: `🔊 Soundverse is playing Rainy Night in Lounge, 0:12 / 0:20`."""
    position = clock(seconds)
    if card is not None:
        at = f"{position} / {card.length}" if card.length else position
        if heard:
            return f"{VOICE_ICON} {name} is playing {card.title} in {place}, {at}"
        return f"{VOICE_ICON} {name} is in {place}, silent, {card.title} at {at}"
    if heard:
        return f"{VOICE_ICON} {name} is in {place}, {position} heard"
    return f"{VOICE_ICON} {name} is in {place}, silent, {position} heard"


def move_line(who: str, before: str | None, after: str | None) -> str:
    """`bob joined 🔊 Lounge`, `bob left 🔊 Lounge`, `bob moved from 🔊 A to 🔊 B`."""
    if before is None:
        return f"{who} joined {VOICE_ICON} {after}"
    if after is None:
        return f"{who} left {VOICE_ICON} {before}"
    return f"{who} moved from {VOICE_ICON} {before} to {VOICE_ICON} {after}"


@dataclass(frozen=True)
class BotVoice:
    """What the bot's line shows that makes a new line when it changes."""

    channel_id: str | None = None
    heard: bool = False
    title: str | None = None


@dataclass(frozen=True)
class _Track:
    """Where in its channel's PCM the sound of the track on the card began."""

    channel_id: str
    title: str | None
    start: int


class VoiceWatch:
    """Remembers what the console last showed of voice, so that only changes are shown."""

    def __init__(self) -> None:
        self.members: dict[str, str] = {}
        """Member id -> voice channel id, as last shown (the bot left out)."""
        self.bot = BotVoice()
        self._track: _Track | None = None

    def pending(self, discord: LocalDiscord) -> bool:
        """Something changed that `changes` would show."""
        return self._members_now(discord) != self.members or self._bot_now(discord)[0] != self.bot

    def changes(self, discord: LocalDiscord) -> list[str]:
        """The lines for what changed since the last call: members' moves, then the bot's."""
        members = self._members_now(discord)
        lines: list[str] = []
        for user_id in [*members, *(user for user in self.members if user not in members)]:
            before, after = self.members.get(user_id), members.get(user_id)
            if before != after:
                who = self._user_name(discord, user_id)
                lines.append(move_line(who, _place(discord, before), _place(discord, after)))
        self.members = members
        state, card = self._bot_now(discord)
        if state == self.bot:
            return lines
        shown, self.bot = self.bot, state
        name = discord.bot_user.username
        if shown.channel_id is not None and shown.channel_id != state.channel_id:
            lines.append(f"{LEFT_ICON} {name} left {_place(discord, shown.channel_id)}")
        if state.channel_id is not None:
            seconds = self._track_seconds(discord, state)
            place = str(_place(discord, state.channel_id))
            lines.append(bot_line(name, place, state.heard, seconds, card))
        return lines

    def _members_now(self, discord: LocalDiscord) -> dict[str, str]:
        bot_id = discord.bot_user.id
        return {u: c for u, c in discord.guild.voice_channels.items() if u != bot_id}

    def _bot_now(self, discord: LocalDiscord) -> tuple[BotVoice, Card | None]:
        guild = discord.guild
        bot_id = discord.bot_user.id
        channel_id = guild.voice_channels.get(bot_id)
        if channel_id is None:
            return BotVoice(), None
        heard = being_heard(discord.voice.heard_in(channel_id))
        card = now_playing_card(discord.messages, bot_id, guild.id)
        return BotVoice(channel_id, heard, card.title if card else None), card

    def _track_seconds(self, discord: LocalDiscord, state: BotVoice) -> float:
        """Seconds heard of the track on the card: from the start of the sound arriving when
        the card's title changed (or of the next sound, when none was arriving then). With
        no card, everything heard in the channel."""
        assert state.channel_id is not None
        heard = discord.voice.heard_in(state.channel_id)
        if state.title is None:
            self._track = None
            return heard.seconds
        track = self._track
        if track is None or (track.channel_id, track.title) != (state.channel_id, state.title):
            track = _Track(state.channel_id, state.title, stretch_start(heard))
            self._track = track
        return (len(heard.pcm) - track.start) / BYTES_PER_SECOND

    @staticmethod
    def _user_name(discord: LocalDiscord, user_id: str) -> str:
        user = discord.world.users.get(user_id)
        return user.username if user else user_id


def _place(discord: LocalDiscord, channel_id: str | None) -> str | None:
    """The name of a channel (its id when unknown); None for none."""
    if channel_id is None:
        return None
    channel = discord.world.channel(channel_id)
    return channel.name if channel else channel_id


def heard_since(heard: Heard, pcm_bytes: int, packet_count: int) -> tuple[float, int]:
    """Seconds of sound and sound packets heard after the first `pcm_bytes` and `packet_count`."""
    seconds = max(0, len(heard.pcm) - pcm_bytes) / BYTES_PER_SECOND
    packets = sum(1 for packet in heard.packets[packet_count:] if not packet.silence)
    return seconds, packets


def next_wav_path(folder: Path, channel_name: str) -> Path:
    """`<folder>/<channel>-<n>.wav` with the first `n` from 1 not taken yet."""
    stem = UNSAFE_IN_NAME.sub("-", channel_name).strip("-") or "voice"
    number = 1
    while (folder / f"{stem}-{number}.wav").exists():
        number += 1
    return folder / f"{stem}-{number}.wav"


def write_wav(path: Path, pcm: bytes) -> None:
    """Writes 48 kHz stereo 16-bit PCM as a WAV file, making its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(CHANNELS)
        out.setsampwidth(SAMPLE_BYTES)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
