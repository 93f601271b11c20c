"""`/play` and the commands around it, the now-playing card, and "▶ Play in voice" under
results.

The bot joins the member's voice channel and plays through a per-server queue (a
`bot.voice.session.VoiceSession`). Only members in the bot's channel control playback; the
requester or a member with Manage Channels skips at once, others vote (more than half of the
listeners). Playback is stored: after a restart the bot rejoins where members still listen,
the card comes back and the current item goes on from its stored second.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.jobs.inputs import AudioSource
from bot.jobs.models import JobView
from bot.jobs.operations import Operation
from bot.jobs.service import order_from_job
from bot.storage import Job, Track
from bot.ui.application import Application, app_of
from bot.ui.audio_input import (
    AUDIO_OPTION,
    TRACK_OPTION,
    TrackReference,
    resolve_audio,
    track_choices,
)
from bot.ui.components import JobSubject, RestartProofButton, TrackSubject
from bot.ui.errors import refuse, report_for
from bot.ui.feature import FeatureCog
from bot.ui.follow_ups import FollowUpEntry, ResultTrack, WhileRunning
from bot.ui.voice import CONNECT_TIMEOUT, joinable, session_for_member, voice_channel_of
from bot.voice.queue import QueuedTrack, queued_track
from bot.voice.session import MAX_VOLUME, VoiceSession
from cogs.voice.card import CARD_BUTTONS, VOICE_COG, VOICE_COLOUR, CardKeeper

log = logging.getLogger(__name__)

QUEUE_SHOWN = 10


def queued_from(source: AudioSource, track: Track | None, requester_id: int) -> QueuedTrack:
    """What to play for `source`: the stored track, or the upload."""
    if track is not None:
        return queued_track(track, requester_id)
    return QueuedTrack(source.label.strip("`"), requester_id, source.url, None, source.duration)


class PlayInVoice(TrackSubject, RestartProofButton[Track], prefix="track:play"):
    """Queue this take in the member's voice channel."""

    label = "Play in voice"
    emoji = "▶️"

    async def act(self, interaction: discord.Interaction[Any], track: Track) -> None:
        cog = app_of(interaction).client.get_cog(VOICE_COG)
        assert isinstance(cog, VoiceCog)
        voice_channel_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        source = AudioSource(track.audio_url or "", track.title, None, track.id)
        text = await cog.play_for(interaction, queued_from(source, track, interaction.user.id))
        await interaction.followup.send(text, ephemeral=True)


class PreviewInVoice(JobSubject, RestartProofButton[Job], prefix="job:listen"):
    """Play a job's audio in the member's voice channel while it is made; once the job has
    delivered, its finished take plays on from where the stream had got to."""

    label = "Preview in voice"
    emoji = "🔊"

    async def act(self, interaction: discord.Interaction[Any], job: Job) -> None:
        cog = app_of(interaction).client.get_cog(VOICE_COG)
        assert isinstance(cog, VoiceCog)
        voice_channel_of(interaction)
        if job.preview_url is None:
            raise UserFacingError("Soundverse is not streaming this one yet; try in a moment.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        order = order_from_job(job)
        subject = f": {order.prompt}" if order.prompt else ""
        item = QueuedTrack(
            f"Preview of {order.operation.card_title}{subject}"[:100],
            interaction.user.id,
            job.preview_url,
            job_id=job.id,
        )
        text = await cog.play_for(interaction, item)
        await interaction.followup.send(text, ephemeral=True)


def preview_button(job: JobView) -> PreviewInVoice | None:
    """Offered once Soundverse streams the audio as it is made."""
    return PreviewInVoice(job.job_id) if job.preview_url is not None else None


def playable(track: ResultTrack) -> bool:
    """Every audio result can be played (in DMs, the button says voice needs a server)."""
    return track.operation is not Operation.LYRICS


class VoiceCog(FeatureCog):
    """Voice: play tracks in the member's voice channel."""

    components = (PlayInVoice, PreviewInVoice, *CARD_BUTTONS)
    follow_ups = (FollowUpEntry("play", 50, lambda track: PlayInVoice(track.track_id), playable),)
    while_running = (WhileRunning("preview in voice", preview_button),)

    queue = app_commands.Group(
        name="queue", description="What plays next in voice, and its order", guild_only=True
    )

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.cards: dict[int, CardKeeper] = {}
        self._rejoining: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        await super().cog_load()
        self.app.voice.watch(self)
        if not self.app.is_job_worker:
            self._rejoining = asyncio.create_task(self.rejoin_stored(), name="voice-rejoin")

    async def cog_unload(self) -> None:
        if self._rejoining is not None:
            self._rejoining.cancel()
        await self.app.voice.close_all()
        self.app.voice.unwatch(self)
        await super().cog_unload()

    # --- the now-playing cards, as sessions open, change and close ------------------------

    def opened(self, session: VoiceSession) -> None:
        self.cards[session.guild_id] = CardKeeper(session, self.app.settings.voice.card_refresh)

    def changed(self, session: VoiceSession) -> None:
        keeper = self.cards.get(session.guild_id)
        if keeper is not None:
            keeper.changed()

    def left(self, session: VoiceSession) -> None:
        keeper = self.cards.pop(session.guild_id, None)
        if keeper is not None:
            self.app.keep_task(keeper.finish())

    def session_in(self, guild_id: int | None) -> VoiceSession | None:
        """The server's session while the bot is in voice there."""
        return self.app.voice.get(guild_id)

    async def play_for(self, interaction: discord.Interaction[Any], item: QueuedTrack) -> str:
        """Queue `item` in the member's voice channel, joining it; what to tell the member."""
        session = await session_for_member(interaction)
        place = session.enqueue(item)
        keeper = self.cards.get(session.guild_id)
        if (
            keeper is not None
            and session.card_message_id is None
            and isinstance(interaction.channel, discord.abc.Messageable)
        ):
            await keeper.post(interaction.channel)
        if place == 0:
            return f"▶ Playing **{item.name}** in {session.channel.mention}."
        return f"Queued **{item.name}**: number {place} in line."

    async def rejoin_stored(self) -> None:
        """After a restart: rejoin where members still listen, bring the card back, and go
        on from the stored second; forget playback no one is left to hear. Servers of shards
        another process runs are left to that process."""
        client = self.app.client
        await client.wait_until_ready()
        store = self.app.services.voice_sessions
        for stored in await store.all():
            if not self.app.runs_guild(stored.guild_id):
                continue
            guild = client.get_guild(stored.guild_id)
            channel = guild.get_channel(stored.voice_channel_id) if guild else None
            items = [QueuedTrack.from_stored(data) for data in stored.queue]
            listening = isinstance(channel, discord.VoiceChannel) and any(
                not member.bot for member in channel.members
            )
            if not listening or not items or self.session_in(stored.guild_id) is not None:
                await store.forget(stored.guild_id)
                continue
            assert isinstance(channel, discord.VoiceChannel)
            try:
                session = await self.app.voice.join(joinable(channel), timeout=CONNECT_TIMEOUT)
            except (UserFacingError, discord.ClientException, TimeoutError) as error:
                log.warning("Could not rejoin %s after a restart: %s", channel, error)
                await store.forget(stored.guild_id)
                continue
            session.queue.now, *upcoming = items
            session.queue.upcoming.extend(upcoming)
            session.queue.looping = stored.looping
            session.volume = stored.volume
            session.text_channel_id = stored.text_channel_id
            session.card_message_id = stored.card_message_id
            await session.begin(start=stored.position_seconds, paused=stored.paused)
            keeper = self.cards.get(stored.guild_id)
            if keeper is not None:
                keeper.start()
            log.info(
                "Rejoined %s: %s from %.1f s", channel.name, items[0].name, stored.position_seconds
            )

    def controlled(self, interaction: discord.Interaction[Any]) -> VoiceSession:
        """The server's session, when the member is in its channel."""
        session = self.session_in(interaction.guild_id)
        if session is None:
            raise UserFacingError("I'm not playing in a voice channel here.")
        member = interaction.user
        if not isinstance(member, discord.Member) or member not in session.channel.members:
            raise UserFacingError(f"Only members in {session.channel.mention} control playback.")
        return session

    def skip_for(self, interaction: discord.Interaction[Any], session: VoiceSession) -> str:
        """Skip at once for the requester or a member with Manage Channels; count the vote of
        anyone else. What to tell the member."""
        now = session.queue.now
        member = interaction.user
        assert isinstance(member, discord.Member)
        at_once = (now is not None and now.requester_id == member.id) or (
            session.channel.permissions_for(member).manage_channels
        )
        vote = session.queue.vote_skip(member.id, len(session.listeners()), at_once=at_once)
        if vote.skipped:
            session.skip()
            return f"⏭ Skipped **{now.name if now else ''}**."
        return f"Your vote to skip counts: {vote.votes} of {vote.needed} needed."

    # --- commands --------------------------------------------------------------------------

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

    @queue.command(
        name="show", description="What plays now and next", extras={"example": "/queue show"}
    )
    async def show_queue(self, interaction: discord.Interaction[Any]) -> None:
        session = self.session_in(interaction.guild_id)
        now = session.queue.now if session is not None else None
        if session is None or now is None:
            raise UserFacingError("Nothing is playing. `/play` starts something.")
        queue = session.queue
        lines = [f"▶ **{now.name}** (asked by <@{now.requester_id}>)"]
        lines += [
            f"{place}. {item.name} (<@{item.requester_id}>)"
            for place, item in enumerate(list(queue.upcoming)[:QUEUE_SHOWN], start=1)
        ]
        if len(queue.upcoming) > QUEUE_SHOWN:
            lines.append(f"… and {len(queue.upcoming) - QUEUE_SHOWN} more")
        embed = discord.Embed(
            title=f"Playing in {session.channel.name}",
            description="\n".join(lines),
            colour=VOICE_COLOUR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @queue.command(
        name="remove",
        description="Take an item out of the queue (yours, or any with Manage Channels)",
        extras={"example": "/queue remove place: 2"},
    )
    @app_commands.describe(place="Its place in line, as /queue show numbers it")
    async def remove_from_queue(
        self, interaction: discord.Interaction[Any], place: app_commands.Range[int, 1]
    ) -> None:
        session = self.controlled(interaction)
        self._may_rearrange(interaction, session, place)
        item = session.remove(place)
        await interaction.response.send_message(f"Removed **{item.name}** from the queue.")

    @queue.command(
        name="move",
        description="Move an item to another place in line (yours, or any with Manage Channels)",
        extras={"example": "/queue move place: 3 to: 1"},
    )
    @app_commands.describe(
        place="Its place in line now, as /queue show numbers it", to="The place it moves to"
    )
    async def move_in_queue(
        self,
        interaction: discord.Interaction[Any],
        place: app_commands.Range[int, 1],
        to: app_commands.Range[int, 1],
    ) -> None:
        session = self.controlled(interaction)
        self._may_rearrange(interaction, session, place)
        item = session.move(place, to)
        where = list(session.queue.upcoming).index(item) + 1
        await interaction.response.send_message(f"Moved **{item.name}** to number {where}.")

    @staticmethod
    def _may_rearrange(
        interaction: discord.Interaction[Any], session: VoiceSession, place: int
    ) -> None:
        upcoming = list(session.queue.upcoming)
        member = interaction.user
        assert isinstance(member, discord.Member)
        if not 1 <= place <= len(upcoming):
            session.queue.remove(place)  # raises the precise error
        if upcoming[place - 1].requester_id != member.id and not (
            session.channel.permissions_for(member).manage_channels
        ):
            raise UserFacingError(
                "Only its requester or a member with Manage Channels can change that item."
            )

    @app_commands.command(
        name="skip",
        description="Skip what plays (its requester at once; others vote)",
        extras={"example": "/skip"},
    )
    @app_commands.guild_only()
    async def skip(self, interaction: discord.Interaction[Any]) -> None:
        text = self.skip_for(interaction, self.controlled(interaction))
        await interaction.response.send_message(text, ephemeral=not text.startswith("⏭"))

    @app_commands.command(
        name="pause", description="Pause what plays", extras={"example": "/pause"}
    )
    @app_commands.guild_only()
    async def pause(self, interaction: discord.Interaction[Any]) -> None:
        session = self.controlled(interaction)
        if not session.voice.is_playing():
            raise UserFacingError("Nothing is playing to pause.")
        session.pause()
        await interaction.response.send_message("⏸ Paused. `/resume` goes on.")

    @app_commands.command(
        name="resume", description="Go on playing after a pause", extras={"example": "/resume"}
    )
    @app_commands.guild_only()
    async def resume(self, interaction: discord.Interaction[Any]) -> None:
        session = self.controlled(interaction)
        if not session.paused:
            raise UserFacingError("Nothing is paused.")
        session.resume()
        await interaction.response.send_message("▶ Resumed.")

    @app_commands.command(
        name="volume",
        description="How loud playback is, for everyone in the channel",
        extras={"example": "/volume percent: 60"},
    )
    @app_commands.describe(percent=f"0 to {MAX_VOLUME}; 100 is the track as made")
    @app_commands.guild_only()
    async def volume(
        self, interaction: discord.Interaction[Any], percent: app_commands.Range[int, 0, MAX_VOLUME]
    ) -> None:
        session = self.controlled(interaction)
        session.set_volume(percent)
        await interaction.response.send_message(f"🔉 Volume {percent} %.")

    @app_commands.command(
        name="summon",
        description="Bring the bot to your voice channel",
        extras={"example": "/summon"},
    )
    @app_commands.guild_only()
    async def summon(self, interaction: discord.Interaction[Any]) -> None:
        channel = voice_channel_of(interaction)
        session = self.session_in(channel.guild.id)
        if session is None:
            raise UserFacingError("I'm not in a voice channel here: `/play` brings me to yours.")
        if session.channel.id == channel.id:
            raise UserFacingError(f"I'm already in {channel.mention}.")
        member = interaction.user
        assert isinstance(member, discord.Member)
        now = session.queue.now
        allowed = (
            not session.listeners()
            or (now is not None and now.requester_id == member.id)
            or session.channel.permissions_for(member).move_members
        )
        if not allowed:
            raise UserFacingError(
                f"Members are listening in {session.channel.mention}: only the requester of "
                "what plays, or a member with Move Members, can take me away."
            )
        await interaction.response.defer(thinking=True)
        try:
            await session.move_to(channel, connect_timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            await session.leave()
            await refuse(
                interaction,
                report_for(
                    UserFacingError(
                        f"I could not connect to {channel.mention} in time; `/play` there "
                        "to try again."
                    )
                ),
            )
            return
        await interaction.followup.send(f"Moved to {channel.mention}.")

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        session = self.session_in(member.guild.id)
        if session is not None and session.channel in (before.channel, after.channel):
            session.company_changed()

    @app_commands.command(
        name="stop", description="Stop playing and clear the queue", extras={"example": "/stop"}
    )
    @app_commands.guild_only()
    async def stop(self, interaction: discord.Interaction[Any]) -> None:
        session = self.controlled(interaction)
        session.stop()
        await interaction.response.send_message("⏹ Stopped, and the queue is empty.")

    @app_commands.command(
        name="leave", description="Leave the voice channel", extras={"example": "/leave"}
    )
    @app_commands.guild_only()
    async def leave(self, interaction: discord.Interaction[Any]) -> None:
        session = self.controlled(interaction)
        channel = session.channel
        await session.leave()
        await interaction.response.send_message(f"Left {channel.mention}.")
