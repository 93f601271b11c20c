"""Live listening (experimental): `/listen` lets the bot hear, in a voice channel, the members who
opted in, and answer what they say aloud.

It is off unless the operator turned it on (`VOICE_LIVE_LISTENING`) and a member with Manage
Server enabled it in the server (`/listen enable`); each member opts in for themselves
(`/listen me`; the rules are `bot.jobs.listening`). `/listen start` joins the member's voice
channel undeafened (Discord sends a deafened connection no voice), says in the text channel
whom it hears and how to opt in or out and stop, and chimes. From then on the receiver drops
the packets of anyone not opted in unread. Each turn of a member who is heard is uploaded to
the text channel (its URL is the `speech_url`), answered through the spoken-question path
(billed as `voice` to that member, within their call limits), played over whatever plays, and
posted as a voice message; the upload is deleted once used, unless the member keeps their
recordings (`/listen me keep: on`: a kept one carries a button that deletes it).

Barge-in: when a member who is heard starts a turn, the answer playing stops, and answers not
begun yet are not played (they are still posted). `/listen stop`, the last member leaving, the
bot leaving or moving, and `/listen disable` end listening; so does a restart (it is never
resumed on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands
from discord.http import Route

from bot.audio import GrowingBuffer, VoiceMessageAudio
from bot.audio.chime import chime_wav
from bot.errors import UserFacingError
from bot.jobs.access import Access
from bot.jobs.listening import TURNED_OFF, Audience, Choice, LiveListening, StartRequest
from bot.jobs.models import Requester
from bot.ui.application import Application, requester_of
from bot.ui.components import RestartProofButton
from bot.ui.errors import report_for
from bot.ui.feature import FeatureCog
from bot.ui.voice import CONNECT_TIMEOUT, joinable
from bot.ui.voice_message import reply_with_voice_message, send_voice_message
from bot.voice.receive import VoiceReceiver
from bot.voice.session import VoiceSession
from bot.voice.turns import SpeechStarted, Turn, TurnSettings
from bot.words import listed
from cogs.assistant.spoken import NOT_ALLOWED_HERE, Playback, play_as_it_arrives, spoken_answer

log = logging.getLogger(__name__)

QUIET = discord.AllowedMentions.none()
TURN_FILENAME = "spoken-turn.wav"
OnOff = Literal["on", "off"]
ENDING_WAIT = 2.0
"""Seconds listening waits, as it ends, for the answer it cut short to stop playing."""
TextPlace = discord.TextChannel | discord.VoiceChannel | discord.StageChannel | discord.Thread
"""Where turns are uploaded: the channel `/listen start` was used in."""


def turn_settings(longest: float) -> TurnSettings:
    """Turns cut where conversation suits, and never longer than the longest spoken question
    the voice assistant is asked (`VOICE_QUESTION_MAX_SECONDS`), so none is refused for it."""
    usual = TurnSettings()
    if usual.min_speech < longest < usual.max_turn:
        return TurnSettings(max_turn=longest)
    return usual


def member_requester(member: discord.Member) -> Requester:
    """`member` as the core sees whoever asks (for billing a turn to its speaker)."""
    roles = tuple(role.id for role in member.roles)
    return Requester(member.id, member.guild.id, roles, member.guild_permissions.manage_guild)


def chime_buffer() -> GrowingBuffer:
    """The start chime, ready to play as an interjection."""
    buffer = GrowingBuffer()
    buffer.feed(chime_wav())
    buffer.end()
    return buffer


def announcement(channel: discord.abc.GuildChannel, heard: Sequence[discord.Member]) -> str:
    """What the text channel is told when listening starts: whom the bot hears, that no one
    else is, what happens to recordings, and how to opt in or out and stop."""
    names = listed([member.mention for member in heard])
    return (
        f"🎙️ **Listening in {channel.mention}** (experimental)\n"
        f"I hear only {names}, who opted in. No one else in {channel.mention} is heard: their "
        "voice is dropped unread.\n"
        "• Each turn is uploaded here for Soundverse to hear and deleted once it is answered, "
        "unless its speaker keeps their recordings (`/listen me keep: on`).\n"
        "• Start speaking over an answer to cut it short.\n"
        "• `/listen me` opts you in or out · `/listen stop` ends listening."
    )


def choice_text(choice: Choice, *, allowed_here: bool) -> str:
    """What a member is told privately once they chose with `/listen me`."""
    if not choice.heard:
        if not choice.was_heard:
            return "🔇 You had not opted in: I never hear you here."
        return (
            "🔇 You are no longer heard: from now on I drop your voice unread, and turns of "
            "yours not answered yet are dropped. `/listen me` opts you in again."
        )
    kept = (
        "Your recordings stay in the channel after they are answered, each with a button to "
        "delete it (`/listen me keep: off` stops keeping them)."
        if choice.keep_recordings
        else "Your recordings are deleted once they are answered (`/listen me keep: on` keeps "
        "them)."
    )
    first = (
        "🎙️ You are heard when I listen in this server, from now on."
        if not choice.was_heard
        else "🎙️ You are still heard when I listen in this server."
    )
    text = f"{first} {kept} `/listen me` again opts you out."
    if not allowed_here:
        text += (
            "\nLive listening is not enabled in this server yet: a member with the Manage "
            "Server permission can enable it with `/listen enable`."
        )
    return text


# --- a kept recording -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeptRecording:
    """A turn's upload its speaker kept: theirs, in the server it was posted in."""

    user_id: int
    guild_id: int | None


class DeleteRecording(RestartProofButton[KeptRecording], prefix="listen:delete"):
    """Deletes a kept recording (the message it is on); its key is the speaker's user id."""

    label = "Delete recording"
    emoji = "🗑️"
    access = Access.REQUESTER_OR_MANAGER
    refusal = "Only the member who said this, or a member with Manage Server, can delete it."

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> KeptRecording:
        return KeptRecording(int(self.key), interaction.guild_id)

    async def act(self, interaction: discord.Interaction[Any], subject: KeptRecording) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if interaction.message is not None:
            with contextlib.suppress(discord.NotFound):
                await interaction.message.delete()
        await interaction.followup.send("🗑️ The recording is deleted.", ephemeral=True)


def delete_recording_view(user_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(DeleteRecording(user_id))
    return view


# --- one server's listening -------------------------------------------------------------------


class LiveSession:
    """Live listening in one voice channel: a receiver on the voice session's connection that
    hears only the `audience`, each turn answered (one member's turns in order), and barge-in.
    """

    def __init__(
        self,
        app: Application,
        session: VoiceSession,
        audience: Audience,
        text_channel: TextPlace,
    ) -> None:
        self.app = app
        self.session = session
        self.voice = session.voice
        """The connection it hears through; another one (a move, a rejoin) ends it."""
        self.audience = audience
        self.text_channel = text_channel
        self.receiver = VoiceReceiver(
            session.voice,
            allowed=audience.hears,
            settings=turn_settings(app.settings.voice.question_max_seconds),
        )
        self.ended = False
        self._reading: asyncio.Task[None] | None = None
        self._turns: dict[asyncio.Task[None], int] = {}
        self._in_turn: dict[int, asyncio.Lock] = {}
        self._aloud = asyncio.Lock()
        self._spoken_over = 0
        """Counts turns begun: an answer to a turn that ended before the latest is not played."""

    @property
    def channel(self) -> discord.VoiceChannel | discord.StageChannel:
        return self.session.channel

    def start(self) -> None:
        """Hear from now on, and chime."""
        self.session.set_hearing(True)
        self.receiver.start()
        self._reading = asyncio.create_task(self._read(), name="listen-read")
        self.app.keep_task(play_as_it_arrives(self.session, chime_buffer()))

    async def end(self, reason: str | None = None) -> None:
        """Stop hearing: the receiver detaches, turns not answered yet are dropped (their
        uploads deleted), what plays over the queue stops, and `reason` is posted."""
        if self.ended:
            return
        self.ended = True
        self.app.services.listening.close(self.audience)
        self.receiver.stop()
        self._spoken_over += 1
        turns = list(self._turns)
        for task in turns:
            task.cancel()
        if self._reading is not None:
            await asyncio.gather(self._reading, return_exceptions=True)
        await asyncio.gather(*turns, return_exceptions=True)
        interjection = self.session.interjection
        if interjection is not None and self.session.end_interjection():
            with contextlib.suppress(TimeoutError):  # a player already gone never says so
                async with asyncio.timeout(ENDING_WAIT):
                    await interjection.wait()
        self.session.set_hearing(False)
        log.info("Stopped listening in %s (%s)", self.channel, self.channel.guild)
        if reason is not None:
            await self.tell(reason)

    def forget(self, user_id: int) -> None:
        """`user_id` opted out: their turns not answered yet are dropped."""
        for task, speaker in list(self._turns.items()):
            if speaker == user_id:
                task.cancel()

    async def tell(self, text: str) -> None:
        """Post `text` in the text channel, pinging no one."""
        try:
            await self.text_channel.send(text, allowed_mentions=QUIET, silent=True)
        except Exception as error:  # a notice is not worth failing for (Discord may be gone)
            log.warning("Could not post in the listening channel: %s", error)

    # --- what the receiver hears ----------------------------------------------------------

    async def _read(self) -> None:
        async for event in self.receiver:
            if not self.audience.hears(event.user_id):
                continue  # opted out after the event was made
            if isinstance(event, SpeechStarted):
                self._barge_in()
            else:
                self._spawn_turn(event)

    def _barge_in(self) -> None:
        """A member who is heard started a turn: the answer playing stops, and answers to
        earlier turns not begun yet are not played."""
        self._spoken_over += 1
        if self.session.interjection is not None:
            self.session.end_interjection()

    def _spawn_turn(self, turn: Turn) -> None:
        task = asyncio.create_task(self._answer(turn, self._spoken_over), name="listen-turn")
        self._turns[task] = turn.user_id
        task.add_done_callback(self._turn_done)

    def _turn_done(self, task: asyncio.Task[None]) -> None:
        self._turns.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("A turn was not answered", exc_info=task.exception())

    # --- answering a turn -----------------------------------------------------------------

    async def _answer(self, turn: Turn, spoken_over: int) -> None:
        """Upload the turn, ask, play and post the answer, then delete the upload (unless its
        speaker keeps recordings); a refusal is posted. One member's turns go in order."""
        lock = self._in_turn.setdefault(turn.user_id, asyncio.Lock())
        async with lock:
            member = await self._member(turn.user_id)
            if member is None or self.ended or not self.audience.hears(turn.user_id):
                return
            keep = self.audience.keeps_recordings_of(turn.user_id)
            wav = await asyncio.to_thread(turn.wav)
            upload = await self._upload(member, wav, keep)
            try:
                audio = await self._ask(upload, wav, member, spoken_over)
                await self._post(audio, upload if keep else None)
            except Exception as error:
                report = report_for(error)
                await self.tell(f"🎙️ {member.mention}, your turn was not answered: {report.text}")
            finally:
                if not keep:
                    with contextlib.suppress(discord.HTTPException):
                        await upload.delete()

    async def _member(self, user_id: int) -> discord.Member | None:
        """The member who spoke (from the cache, which voice states fill, else from Discord)."""
        guild = self.channel.guild
        member = guild.get_member(user_id)
        if member is None:
            with contextlib.suppress(discord.HTTPException):
                member = await guild.fetch_member(user_id)
        return member

    async def _upload(self, member: discord.Member, wav: bytes, keep: bool) -> discord.Message:
        """Post the turn as an audio file; cancelled meanwhile, a posted upload is deleted."""
        where = self.channel.mention
        if keep:
            text = f"🎙️ {member.mention} in {where} (kept: its speaker keeps their recordings)"
        else:
            text = f"🎙️ {member.mention} in {where} (deleted once answered)"
        sending = asyncio.ensure_future(
            self.text_channel.send(
                text,
                file=discord.File(io.BytesIO(wav), filename=TURN_FILENAME),
                allowed_mentions=QUIET,
                silent=True,
                view=delete_recording_view(member.id) if keep else discord.utils.MISSING,
            )
        )
        try:
            return await asyncio.shield(sending)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                posted = await sending
                if not keep:
                    await posted.delete()
            raise

    async def _ask(
        self, upload: discord.Message, wav: bytes, member: discord.Member, spoken_over: int
    ) -> VoiceMessageAudio:
        recording = upload.attachments[0]
        assistant = self.app.services.voice_assistant
        question = await assistant.check_question(recording.url, recording.filename, wav)
        _, audio = await spoken_answer(
            self.app,
            question,
            member_requester(member),
            self._where,
            play=functools.partial(self._play, spoken_over=spoken_over),
        )
        return audio

    async def _where(self) -> Playback:
        if self.ended or not self.session.voice.is_connected():
            return Playback()
        return Playback(self.session)

    async def _play(self, session: VoiceSession, buffer: GrowingBuffer, spoken_over: int) -> None:
        """Play an answer, one at a time; not when a turn began after the one it answers."""
        async with self._aloud:
            if self.ended or spoken_over != self._spoken_over:
                buffer.close()
                return
            await play_as_it_arrives(session, buffer)

    async def _post(self, audio: VoiceMessageAudio, reply_to: discord.Message | None) -> None:
        """Post the answer as a voice message (a reply to the kept upload)."""
        client = self.app.client
        try:
            if reply_to is not None:
                await reply_with_voice_message(client, reply_to, audio)
            else:
                route = Route(
                    "POST", "/channels/{channel_id}/messages", channel_id=self.text_channel.id
                )
                await send_voice_message(client.http, route, audio)
        except discord.HTTPException as error:
            if error.code not in NOT_ALLOWED_HERE:
                raise
            log.info("No voice message in the listening channel: %s", error.text)


# --- the commands -----------------------------------------------------------------------------


class ListenCog(FeatureCog, name="Live listening"):
    """Live listening in voice channels: experimental, opt-in per server and per member."""

    components = (DeleteRecording,)

    listen = app_commands.Group(
        name="listen",
        description="Live listening in voice (experimental): hears only members who opt in",
        guild_only=True,
    )

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.live: dict[int, LiveSession] = {}
        """The listening sessions of this process, by server."""

    @property
    def rules(self) -> LiveListening:
        return self.app.services.listening

    async def cog_load(self) -> None:
        await super().cog_load()
        self.app.voice.watch(self)

    async def cog_unload(self) -> None:
        self.app.voice.unwatch(self)
        for live in list(self.live.values()):
            await self._end(live)
        await super().cog_unload()

    # --- the server -------------------------------------------------------------------------

    @listen.command(
        name="enable",
        description="Allow live listening in this server (Manage Server)",
        extras={"example": "/listen enable"},
    )
    async def enable(self, interaction: discord.Interaction[Any]) -> None:
        if await self.rules.allow(requester_of(interaction)):
            text = (
                "🎙️ Live listening is enabled in this server. Members who want to be heard opt "
                "in with `/listen me`; `/listen start` in a voice channel begins it."
            )
        else:
            text = "Live listening was already enabled in this server."
        await interaction.response.send_message(text, allowed_mentions=QUIET)

    @listen.command(
        name="disable",
        description="Stop allowing live listening in this server (Manage Server)",
        extras={"example": "/listen disable"},
    )
    async def disable(self, interaction: discord.Interaction[Any]) -> None:
        if not await self.rules.forbid(requester_of(interaction)):
            await interaction.response.send_message(
                "Live listening was not enabled in this server.", ephemeral=True
            )
            return
        live = self.live.get(interaction.guild_id or 0)
        if live is None:
            await interaction.response.send_message(
                "🔇 Live listening is disabled in this server.", allowed_mentions=QUIET
            )
            return
        await interaction.response.defer(thinking=True)
        place = live.channel.mention
        await self._end(live, settle=True)
        await interaction.followup.send(
            f"🔇 Live listening is disabled in this server: I stopped listening in {place}.",
            allowed_mentions=QUIET,
        )

    # --- a member ---------------------------------------------------------------------------

    @listen.command(
        name="me",
        description="Choose whether I may hear you when I listen in this server",
        extras={"example": "/listen me heard: on"},
    )
    @app_commands.describe(
        heard="on: I may hear you when I listen here; off: I never do (left out: switches)",
        keep="on: your recordings stay in the channel once answered; off (default): deleted",
    )
    async def me(
        self,
        interaction: discord.Interaction[Any],
        heard: OnOff | None = None,
        keep: OnOff | None = None,
    ) -> None:
        member = requester_of(interaction)
        choice = await self.rules.choose(
            member,
            heard=None if heard is None else heard == "on",
            keep=None if keep is None else keep == "on",
        )
        allowed_here = await self.rules.allows(member.guild_id or 0)
        await interaction.response.send_message(
            choice_text(choice, allowed_here=allowed_here), ephemeral=True
        )
        live = self.live.get(member.guild_id or 0)
        if live is not None and choice.heard != choice.was_heard:
            await self._member_changed(live, interaction.user, choice)

    async def _member_changed(
        self, live: LiveSession, user: discord.User | discord.Member, choice: Choice
    ) -> None:
        """Say in the listening channel that a member there is now heard, or no longer is."""
        if not choice.heard:
            live.forget(user.id)
        if not any(member.id == user.id for member in live.channel.members):
            return
        if choice.heard:
            await live.tell(f"🎙️ I now hear {user.mention} too (they opted in).")
        else:
            await live.tell(f"🔇 I no longer hear {user.mention} (they opted out).")

    # --- listening --------------------------------------------------------------------------

    @listen.command(
        name="start",
        description="Listen in your voice channel to the members who opted in, and answer them",
        extras={"example": "/listen start"},
    )
    async def start(self, interaction: discord.Interaction[Any]) -> None:
        member = interaction.user
        assert isinstance(member, discord.Member) and interaction.guild_id is not None
        state = member.voice
        channel = state.channel if state is not None else None
        present = [m.id for m in channel.members if not m.bot] if channel is not None else []
        request = StartRequest(
            interaction.guild_id, channel.mention if channel is not None else None, present
        )
        audience = await self.rules.open(request)
        try:
            assert channel is not None
            voice_channel = joinable(channel)
            text_channel = self._text_channel(interaction)
            await interaction.response.defer(thinking=True)
            session = await self._hearing_session(voice_channel)
            live = LiveSession(self.app, session, audience, text_channel)
        except BaseException:
            self.rules.close(audience)
            raise
        self.live[interaction.guild_id] = live
        live.start()
        heard = [m for m in voice_channel.members if audience.hears(m.id)]
        log.info(
            "Listening in %s (%s) for %s, started by %s",
            voice_channel,
            voice_channel.guild,
            ", ".join(str(m.id) for m in heard),
            member.id,
        )
        await interaction.followup.send(announcement(voice_channel, heard), allowed_mentions=QUIET)

    @listen.command(
        name="stop",
        description="Stop listening in voice; no one is heard any more",
        extras={"example": "/listen stop"},
    )
    async def stop(self, interaction: discord.Interaction[Any]) -> None:
        if not self.rules.turned_on:
            raise UserFacingError(TURNED_OFF)
        live = self.live.get(interaction.guild_id or 0)
        if live is None:
            raise UserFacingError("I'm not listening in this server.")
        member = interaction.user
        place = live.channel.mention
        in_channel = any(m.id == member.id for m in live.channel.members)
        if not in_channel and not interaction.permissions.manage_guild:
            raise UserFacingError(
                f"Only members in {place}, or with Manage Server, can stop live listening."
            )
        await interaction.response.defer(thinking=True)
        left = await self._end(live, settle=True)
        after = f" I left {place}." if left else f" I stay in {place}, deafened."
        await interaction.followup.send(
            f"🔇 Stopped listening in {place}: no one is heard any more.{after}",
            allowed_mentions=QUIET,
        )

    def _text_channel(self, interaction: discord.Interaction[Any]) -> TextPlace:
        """The channel turns are uploaded to (where `/listen start` was used), when the bot
        may post files there."""
        channel = interaction.channel
        if not isinstance(channel, TextPlace):
            raise UserFacingError("Use `/listen start` in a server's text channel.")
        allowed = interaction.app_permissions
        missing = [
            name
            for name, ok in (
                ("Send Messages", allowed.send_messages),
                ("Attach Files", allowed.attach_files),
            )
            if not ok
        ]
        if missing:
            raise UserFacingError(
                f"I need the {' and '.join(missing)} permission{'s' if len(missing) > 1 else ''} "
                f"in {channel.mention}: each turn is uploaded there for Soundverse to hear."
            )
        return channel

    async def _hearing_session(self, channel: discord.VoiceChannel) -> VoiceSession:
        """The server's voice session in `channel`, connected undeafened: joined, or the
        bot's connection there made again undeafened."""
        sessions = self.app.voice
        session = sessions.get(channel.guild.id)
        try:
            if session is None:
                return await sessions.join(channel, timeout=CONNECT_TIMEOUT, deafened=False)
            if session.channel.id != channel.id:
                raise UserFacingError(
                    f"I'm in {session.channel.mention}: `/listen start` there, or `/summon` me "
                    "here first."
                )
            if session.deafened:
                await session.rejoin(deafened=False, connect_timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            raise UserFacingError(
                f"I could not connect to {channel.mention} in time; please try again."
            ) from None
        return session

    async def _end(
        self, live: LiveSession, reason: str | None = None, *, settle: bool = False
    ) -> bool:
        """End `live` (posting `reason`); with `settle`, the bot then leaves the channel when
        nothing plays there, else connects again deafened. Whether it left."""
        if self.live.get(live.channel.guild.id) is live:
            del self.live[live.channel.guild.id]
        await live.end(reason)
        session = live.session
        if not settle or session.voice is not live.voice or not session.voice.is_connected():
            return False
        if session.queue.now is None and session.interjection is None:
            await session.leave()
            return True
        await session.rejoin(deafened=True, connect_timeout=CONNECT_TIMEOUT)
        return False

    # --- what ends listening ----------------------------------------------------------------

    def opened(self, session: VoiceSession) -> None:
        """A voice session opened (nothing to do: listening starts with `/listen start`)."""

    def changed(self, session: VoiceSession) -> None:
        live = self.live.get(session.guild_id)
        if live is not None and not live.ended and session.voice is not live.voice:
            reason = f"🔇 Live listening has ended: I moved to {session.channel.mention}."
            self.app.keep_task(self._ended(live, reason))

    def left(self, session: VoiceSession) -> None:
        live = self.live.get(session.guild_id)
        if live is not None and not live.ended:
            reason = f"🔇 Live listening in {live.channel.mention} has ended: I left the channel."
            self.app.keep_task(self._ended(live, reason))

    async def _ended(self, live: LiveSession, reason: str, *, settle: bool = False) -> None:
        await self._end(live, reason, settle=settle)

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        live = self.live.get(member.guild.id)
        if live is None or live.ended:
            return
        channel = live.channel
        if member.id == member.guild.me.id:
            if after.channel is None or after.channel.id != channel.id:
                reason = f"🔇 Live listening in {channel.mention} has ended: I left the channel."
                await self._end(live, reason)
            return
        joined = after.channel is not None and after.channel.id == channel.id
        if joined and (before.channel is None or before.channel.id != channel.id):
            if live.audience.hears(member.id):
                await live.tell(
                    f"🎙️ {member.mention} joined {channel.mention} and is heard (they opted "
                    "in; `/listen me` opts out)."
                )
            return
        if not joined and not any(not m.bot for m in channel.members):
            reason = f"🔇 Live listening in {channel.mention} has ended: everyone left."
            await self._end(live, reason, settle=True)
