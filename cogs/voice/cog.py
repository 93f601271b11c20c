"""`/play` and the commands around it, and "▶ Play in voice" under results.

The bot joins the member's voice channel and plays through a per-server queue. Only members
in the bot's channel control playback; the requester or a member with Manage Channels skips
at once, others vote (more than half of the listeners).
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.jobs.inputs import AudioSource
from bot.jobs.operations import Operation
from bot.storage import Track
from bot.ui.application import Application, app_of
from bot.ui.audio_input import (
    AUDIO_OPTION,
    TRACK_OPTION,
    TrackReference,
    resolve_audio,
    track_choices,
)
from bot.ui.components import RestartProofButton, TrackSubject
from bot.ui.errors import refuse, report_for
from bot.ui.feature import FeatureCog
from bot.ui.follow_ups import FollowUpEntry, ResultTrack
from bot.voice.queue import QueuedTrack
from bot.voice.session import VoiceSession, add_player, player_for

VOICE_COLOUR = discord.Colour.from_rgb(120, 86, 255)
QUEUE_SHOWN = 10


def voice_channel_of(interaction: discord.Interaction[Any]) -> discord.VoiceChannel:
    """The voice channel the member is in, or a precise refusal."""
    member = interaction.user
    if not isinstance(member, discord.Member) or interaction.guild is None:
        raise UserFacingError("Playing in voice works in a server, not in direct messages.")
    state = member.voice
    if state is None or state.channel is None:
        raise UserFacingError("Join a voice channel first, then ask again.")
    channel = state.channel
    if isinstance(channel, discord.StageChannel):
        raise UserFacingError(
            f"{channel.mention} is a stage channel: I play in voice channels only."
        )
    assert isinstance(channel, discord.VoiceChannel)
    allowed = channel.permissions_for(interaction.guild.me)
    missing = [
        name for name, ok in (("Connect", allowed.connect), ("Speak", allowed.speak)) if not ok
    ]
    if missing:
        raise UserFacingError(
            f"I need the {' and '.join(missing)} permission in {channel.mention}."
        )
    limit = channel.user_limit
    if limit and len(channel.members) >= limit and not allowed.move_members:
        raise UserFacingError(f"{channel.mention} is full ({limit} members).")
    return channel


def queued_from(source: AudioSource, track: Track | None, requester_id: int) -> QueuedTrack:
    """What to play for `source`: the track's local file when it is still here."""
    if track is not None:
        path = track.audio_file.path if track.audio_file else None
        where = str(path) if path is not None and path.exists() else track.audio_url
        seconds = track.audio_file.duration_seconds if track.audio_file else None
        return QueuedTrack(track.title, requester_id, str(where), track.id, seconds)
    return QueuedTrack(source.label.strip("`"), requester_id, source.url, None, source.duration)


class PlayInVoice(TrackSubject, RestartProofButton[Track], prefix="track:play"):
    """Queue this take in the member's voice channel."""

    label = "Play in voice"
    emoji = "▶️"

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        cog = app_of(interaction).client.get_cog(VoiceCog.__cog_name__)
        assert isinstance(cog, VoiceCog)
        voice_channel_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        source = AudioSource(track.audio_url or "", track.title, None, track.id)
        text = await cog.play_for(interaction, queued_from(source, track, interaction.user.id))
        await interaction.followup.send(text, ephemeral=True)


def playable(track: ResultTrack) -> bool:
    """Every audio result can be played (in DMs, the button says voice needs a server)."""
    return track.operation is not Operation.LYRICS


class VoiceCog(FeatureCog):
    """Voice: play tracks in the member's voice channel."""

    components = (PlayInVoice,)
    follow_ups = (FollowUpEntry("play", 50, lambda track: PlayInVoice(track.track_id), playable),)

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.players: dict[int, VoiceSession] = {}

    async def cog_unload(self) -> None:
        for player in list(self.players.values()):
            await player.leave()
        await super().cog_unload()

    async def play_for(self, interaction: discord.Interaction[Any], item: QueuedTrack) -> str:
        """Queue `item` in the member's voice channel, joining it; what to tell the member."""
        channel = voice_channel_of(interaction)
        assert interaction.guild is not None
        player = player_for(self.players, interaction.guild.id)
        if player is None:
            try:
                voice: discord.VoiceClient = await channel.connect(timeout=15, self_deaf=True)
            except TimeoutError:
                raise UserFacingError(
                    f"I could not connect to {channel.mention} in time; please try again."
                ) from None
            player = add_player(
                self.players, self.app.client, voice, self.app.settings.voice.idle_disconnect
            )
        elif player.channel.id != channel.id:
            raise UserFacingError(
                f"I'm playing in {player.channel.mention}; join it, or `/stop` there first."
            )
        place = player.enqueue(item)
        if place == 0:
            return f"▶ Playing **{item.name}** in {player.channel.mention}."
        return f"Queued **{item.name}**: number {place} in line."

    def controlled(self, interaction: discord.Interaction[Any]) -> VoiceSession:
        """The server's player, when the member is in its channel."""
        guild_id = interaction.guild_id
        player = player_for(self.players, guild_id) if guild_id is not None else None
        if player is None:
            raise UserFacingError("I'm not playing in a voice channel here.")
        member = interaction.user
        if not isinstance(member, discord.Member) or member not in player.channel.members:
            raise UserFacingError(f"Only members in {player.channel.mention} control playback.")
        return player

    @app_commands.command(
        name="play",
        description="Play a track or an audio file in your voice channel",
        extras={"example": "/play track: #34"},
    )
    @app_commands.describe(track=TRACK_OPTION, audio=AUDIO_OPTION)
    @app_commands.autocomplete(track=track_choices)
    @app_commands.guild_only()
    async def play(
        self,
        interaction: discord.Interaction[Any],
        track: TrackReference | None = None,
        audio: discord.Attachment | None = None,
    ) -> None:
        voice_channel_of(interaction)  # refused before anything is read
        await interaction.response.defer(thinking=True)
        try:
            source, _ = await resolve_audio(interaction, track=track, audio=audio)
            stored = (
                await self.app.services.library.track(source.track_id)
                if source.track_id is not None
                else None
            )
            item = queued_from(source, stored, interaction.user.id)
            text = await self.play_for(interaction, item)
        except UserFacingError as error:
            await refuse(interaction, report_for(error))
            return
        await interaction.followup.send(text)

    @app_commands.command(
        name="queue", description="What plays now and next", extras={"example": "/queue"}
    )
    @app_commands.guild_only()
    async def show_queue(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = interaction.guild_id
        player = player_for(self.players, guild_id) if guild_id is not None else None
        now = player.queue.now if player is not None else None
        if player is None or now is None:
            raise UserFacingError("Nothing is playing. `/play` starts something.")
        queue = player.queue
        lines = [f"▶ **{now.name}** (asked by <@{now.requester_id}>)"]
        lines += [
            f"{place}. {item.name} (<@{item.requester_id}>)"
            for place, item in enumerate(list(queue.upcoming)[:QUEUE_SHOWN], start=1)
        ]
        if len(queue.upcoming) > QUEUE_SHOWN:
            lines.append(f"… and {len(queue.upcoming) - QUEUE_SHOWN} more")
        embed = discord.Embed(
            title=f"Playing in {player.channel.name}",
            description="\n".join(lines),
            colour=VOICE_COLOUR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(
        name="skip",
        description="Skip what plays (its requester at once; others vote)",
        extras={"example": "/skip"},
    )
    @app_commands.guild_only()
    async def skip(self, interaction: discord.Interaction[Any]) -> None:
        player = self.controlled(interaction)
        now = player.queue.now
        member = interaction.user
        assert isinstance(member, discord.Member)
        at_once = (now is not None and now.requester_id == member.id) or (
            player.channel.permissions_for(member).manage_channels
        )
        vote = player.queue.vote_skip(member.id, len(player.listeners()), at_once=at_once)
        if vote.skipped:
            player.skip()
            await interaction.response.send_message(f"⏭ Skipped **{now.name if now else ''}**.")
        else:
            await interaction.response.send_message(
                f"Your vote to skip counts: {vote.votes} of {vote.needed} needed.", ephemeral=True
            )

    @app_commands.command(
        name="pause", description="Pause what plays", extras={"example": "/pause"}
    )
    @app_commands.guild_only()
    async def pause(self, interaction: discord.Interaction[Any]) -> None:
        player = self.controlled(interaction)
        if not player.voice.is_playing():
            raise UserFacingError("Nothing is playing to pause.")
        player.voice.pause()
        await interaction.response.send_message("⏸ Paused. `/resume` goes on.")

    @app_commands.command(
        name="resume", description="Go on playing after a pause", extras={"example": "/resume"}
    )
    @app_commands.guild_only()
    async def resume(self, interaction: discord.Interaction[Any]) -> None:
        player = self.controlled(interaction)
        if not player.voice.is_paused():
            raise UserFacingError("Nothing is paused.")
        player.voice.resume()
        await interaction.response.send_message("▶ Resumed.")

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        player = player_for(self.players, member.guild.id)
        if player is not None and player.channel in (before.channel, after.channel):
            player.company_changed()

    @app_commands.command(
        name="stop", description="Stop playing and clear the queue", extras={"example": "/stop"}
    )
    @app_commands.guild_only()
    async def stop(self, interaction: discord.Interaction[Any]) -> None:
        player = self.controlled(interaction)
        player.stop()
        await interaction.response.send_message("⏹ Stopped, and the queue is empty.")

    @app_commands.command(
        name="leave", description="Leave the voice channel", extras={"example": "/leave"}
    )
    @app_commands.guild_only()
    async def leave(self, interaction: discord.Interaction[Any]) -> None:
        player = self.controlled(interaction)
        channel = player.channel
        await player.leave()
        await interaction.response.send_message(f"Left {channel.mention}.")
