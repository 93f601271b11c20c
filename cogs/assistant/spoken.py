"""Spoken questions to the Soundverse voice assistant: "Ask Soundverse" on a voice message (or
any message with audio) and `/ask-voice audio:`.

The recording's URL is the assistant's `speech_url`. A recording that is not audio, too long
or silent is refused privately before anything is billed; then the `voice` units and the
member's call limits apply. The answer streams: when the member is in a voice channel it is
played there as its first bytes arrive (over any music, which then goes on from where it
was), and once it has all come it is posted as a Discord voice message, a reply to the
question's message, or the command's follow-up. The member's private reply says where.
`spoken_answer` is that path without the interaction; live listening answers turns through it.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.audio import GrowingBuffer, VoiceMessageAudio, encode_voice_message_async
from bot.errors import InvalidInput, UserFacingError
from bot.jobs.models import Requester
from bot.jobs.spoken import SpokenQuestion, VoiceAssistant
from bot.ui.application import Application, app_of, requester_of
from bot.ui.audio_input import AUDIO_SUFFIXES
from bot.ui.errors import error_embed, report_for
from bot.ui.feature import FeatureCog
from bot.ui.voice import session_for_member
from bot.ui.voice_message import follow_up_with_voice_message, reply_with_voice_message
from bot.voice.session import LiveOpusSource, VoiceSession
from bot.words import listed

log = logging.getLogger(__name__)

HOW_TO_ASK = "use Ask Soundverse on a voice message or a message with an audio recording"
NOT_ALLOWED_HERE = frozenset({50001, 50013, 50173})
"""Discord's codes for a channel the bot may not post (a voice message) in: Missing Access,
Missing Permissions, and no voice messages in this channel. The answer then goes as the
interaction's follow-up, which needs no permission in the channel."""


@dataclass(frozen=True, slots=True)
class Playback:
    """Where the answer is played aloud (if anywhere), and why not when it is not."""

    session: VoiceSession | None = None
    note: str | None = None


def is_audio(attachment: discord.Attachment) -> bool:
    """A voice message, or a file Discord or its name says is audio."""
    kind = (attachment.content_type or "").lower()
    return (
        attachment.is_voice_message()
        or kind.startswith("audio/")
        or attachment.filename.lower().endswith(AUDIO_SUFFIXES)
    )


def question_attachment(message: discord.Message) -> discord.Attachment:
    """The recording a message holds (its voice message first); a precise refusal if none."""
    recordings = sorted(
        (a for a in message.attachments if is_audio(a)), key=lambda a: not a.is_voice_message()
    )
    if recordings:
        return recordings[0]
    if message.attachments:
        names = [f"`{a.filename}`" for a in message.attachments[:3]]
        verb = "is" if len(names) == 1 else "are"
        raise InvalidInput(
            f"That message holds no audio ({listed(names)} {verb} not audio): {HOW_TO_ASK}."
        )
    raise InvalidInput(f"That message holds no recording: {HOW_TO_ASK}.")


async def playback_for(interaction: discord.Interaction[Any]) -> Playback:
    """Play the answer in the member's voice channel when they are in one (joining it when the
    bot is not in voice); not when the bot plays in another channel, or cannot play there."""
    member = interaction.user
    app = app_of(interaction)
    if (
        not app.settings.voice.enabled
        or app.is_job_worker
        or not isinstance(member, discord.Member)
    ):
        return Playback()
    if member.voice is None or member.voice.channel is None:
        return Playback()
    elsewhere = app.voice.get(member.guild.id)
    if elsewhere is not None and elsewhere.channel.id != member.voice.channel.id:
        return Playback(
            note=f"I'm in {elsewhere.channel.mention}, so I did not answer aloud in "
            f"{member.voice.channel.mention}."
        )
    try:
        return Playback(await session_for_member(interaction))
    except UserFacingError as error:
        return Playback(note=f"Not answered aloud: {error}")
    except discord.DiscordException as error:
        log.warning("Could not join %s to answer aloud: %s", member.voice.channel, error)
        return Playback(
            note=f"Not answered aloud: I could not join {member.voice.channel.mention}."
        )


async def play_as_it_arrives(session: VoiceSession, buffer: GrowingBuffer) -> None:
    """Play what arrives in `buffer` over the session's queue, from its first bytes."""
    try:
        interjection = await session.interject(LiveOpusSource(buffer, volume=session.volume))
    except Exception as error:
        buffer.close()
        log.warning("Could not play a spoken answer in voice: %s", error)
        return
    await interjection.wait()


async def collect(chunks: AsyncIterator[bytes], buffer: GrowingBuffer) -> bytes:
    """Every byte of the answer, each also fed to `buffer` as it comes (ended with the
    answer, or with its error)."""
    answer = bytearray()
    try:
        async for chunk in chunks:
            answer += chunk
            buffer.feed(chunk)
    except BaseException as error:
        buffer.end(error)
        raise
    buffer.end()
    return bytes(answer)


PlaybackFinder = Callable[[], Awaitable[Playback]]
"""Where to play an answer, found once Soundverse has begun to answer."""
Player = Callable[[VoiceSession, GrowingBuffer], Coroutine[Any, Any, None]]
"""Plays what arrives in the buffer in the session (`play_as_it_arrives`, or a wrapper)."""


async def spoken_answer(
    app: Application,
    question: SpokenQuestion,
    requester: Requester,
    playback: PlaybackFinder,
    *,
    play: Player = play_as_it_arrives,
) -> tuple[Playback, VoiceMessageAudio]:
    """Ask `question` for `requester` (billed as `voice`, within their call limits) and, while
    the answer streams, play it where `playback` says through `play`. `playback` is awaited
    once Soundverse has begun to answer, so joining a channel overlaps that wait. Returns where
    the answer played and the whole answer as a voice message."""
    buffer = GrowingBuffer()
    playing = False
    try:
        async with app.services.voice_assistant.answer(question, requester) as chunks:
            collecting = asyncio.ensure_future(collect(chunks, buffer))
            try:
                where = await playback()
                if where.session is not None:
                    app.keep_task(play(where.session, buffer))
                    playing = True
                answer = await collecting
            except BaseException:
                collecting.cancel()
                await asyncio.gather(collecting, return_exceptions=True)
                raise
    finally:
        if not playing:
            buffer.close()
    return where, await encode_voice_message_async(io.BytesIO(answer))


class SpokenCog(FeatureCog):
    """Ask the Soundverse voice assistant by voice."""

    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.add_message_menu(
            "Ask Soundverse",
            self.ask_message,
            example="Apps → Ask Soundverse, on a voice message",
        )

    @property
    def assistant(self) -> VoiceAssistant:
        return self.app.services.voice_assistant

    @app_commands.command(
        name="ask-voice",
        description="Ask the Soundverse voice assistant with a recording; it answers aloud",
        extras={"example": "/ask-voice audio: question.ogg"},
    )
    @app_commands.describe(audio="Your question, recorded (a voice recording or an audio file)")
    async def ask_voice(
        self, interaction: discord.Interaction[Any], audio: discord.Attachment
    ) -> None:
        await self.answer(interaction, audio, question=None)

    async def ask_message(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        await self.answer(interaction, question_attachment(message), question=message)

    async def answer(
        self,
        interaction: discord.Interaction[Any],
        recording: discord.Attachment,
        *,
        question: discord.Message | None,
    ) -> None:
        """Check the recording, ask, play the answer as it arrives, then post it as a voice
        message (a reply to `question`, or the command's follow-up); refusals are private."""
        self.assistant.check_upload(recording.filename, recording.content_type, recording.size)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await self._answer(interaction, recording, question)
        except Exception as error:
            report = report_for(error)
            await interaction.edit_original_response(content=None, embed=error_embed(report))

    async def _answer(
        self,
        interaction: discord.Interaction[Any],
        recording: discord.Attachment,
        question: discord.Message | None,
    ) -> None:
        data = await recording.read()
        asked = await self.assistant.check_question(recording.url, recording.filename, data)
        playback, audio = await spoken_answer(
            self.app, asked, requester_of(interaction), lambda: playback_for(interaction)
        )
        await interaction.edit_original_response(content=status_line(playback))
        if question is not None:
            try:
                await reply_with_voice_message(self.app.client, question, audio)
                return
            except discord.HTTPException as error:
                if error.code not in NOT_ALLOWED_HERE:
                    raise
                log.info("Voice message refused in the question's channel: %s", error.text)
        await follow_up_with_voice_message(interaction, audio)


def status_line(playback: Playback) -> str:
    """What the member is told privately once the answer is out."""
    if playback.session is not None:
        return (
            f"🔊 Answered aloud in {playback.session.channel.mention}, and below as a voice "
            "message."
        )
    line = "💬 Answered below as a voice message."
    return f"{line} {playback.note}" if playback.note else line
