"""The console of `python -m sandbox`: a person (or a script) plays a Discord member.

Lines become member actions on the local Discord (slash commands, clicks, selects, modals,
context menus, plain messages, voice messages, joining, leaving and speaking in voice
channels), or move the bot's clock ahead (`clock +1d`: a contest's deadline passes); every
message and edit the bot makes is shown as it happens, and so are moves in and out of voice
channels and what the bot plays there; every file the bot posts is saved under
`<output>/attachments/<message id>/`, and what was heard in a voice channel under
`<output>/voice/` on request (`hear`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sandbox.console.lines import (
    ACTIONS,
    CHANNEL,
    HELP,
    MENTIONABLE,
    ROLE,
    USER,
    VOICE_STEPS,
    Click,
    ContextMenu,
    Expect,
    ExpectAttachment,
    ExpectVoice,
    FileOption,
    Hear,
    Help,
    JoinVoice,
    KillWorker,
    LeaveVoice,
    LineError,
    ListMembers,
    ListMessages,
    ModalSubmit,
    MoveClock,
    NamedTarget,
    OptionValue,
    PostVoiceMessage,
    Quit,
    Say,
    Select,
    ShowClock,
    Slash,
    Speak,
    Step,
    SwitchChannel,
    SwitchMember,
    WaitJobs,
    modal_values,
    parse_line,
    slash_call,
)
from sandbox.console.view import (
    MessageLook,
    Screen,
    buttons,
    member_line,
    menus,
    message_block,
    modal_lines,
    searchable_text,
)
from sandbox.console.voice import (
    BYTES_PER_SECOND,
    VOICE_ICON,
    VoiceWatch,
    heard_since,
    move_line,
    next_wav_path,
    write_wav,
)
from sandbox.console.voice_message import (
    CONTENT_TYPE,
    FILENAME,
    IS_VOICE_MESSAGE,
    record_voice_message,
)
from sandbox.discord import LocalDiscord
from sandbox.discord.local import InteractionHandle
from sandbox.discord.state import JSON, Attachment, Channel, Message, Role, User
from sandbox.discord.voice import FRAME_SECONDS, NotAudio, opus_frames
from sandbox.stack import SandboxStack, SharedWorkers, newest_holder, unfinished_jobs

log = logging.getLogger(__name__)

# How long the watcher sleeps on one wait before waiting again: it wakes on every change anyway.
WATCH_SPAN = 3600.0
# Job state lives in the bot's database, which changes without any Discord traffic; `wait-jobs`
# looks again at least this often.
JOB_RECHECK = 0.1
# Discord gives the bot 3 s to answer an interaction; a little more absorbs scheduling noise.
ACK_WAIT = 5.0

ComponentsOf = Callable[[Message], list[JSON]]
# What a button or a select menu is named by in `click` and `select`, the shown name first.
BUTTON_KEYS = ("label", "custom_id")
MENU_KEYS = ("placeholder", "custom_id")


class StepFailed(Exception):
    """A console step that ran but did not get what it waited for."""


class HandClock(Protocol):
    """The clock the bot stores and schedules by, which `clock +1d` moves forward."""

    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> None: ...


@dataclass
class _Seen:
    """What the console has shown of one message: how many edits, and whether it was deleted."""

    edits: int
    deleted: bool


@dataclass
class ConsoleState:
    """Who the member is, where, and what the console remembers of the messages."""

    member: str = "alice"
    channel: str = "general"
    numbers: dict[str, int] = field(default_factory=dict)
    seen: dict[str, _Seen] = field(default_factory=dict)
    mark: dict[str, int] = field(default_factory=dict)
    voice_mark: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per voice channel: the PCM bytes and packets heard there at the last action."""
    saved: dict[str, str] = field(default_factory=dict)
    started: list[InteractionHandle] = field(default_factory=list)
    modal: InteractionHandle | None = None
    ahead: timedelta = timedelta(0)
    """How far `clock` moved the bot's clock ahead of real time."""


class Console:
    """Runs console lines against a running `SandboxStack` and shows what the bot does."""

    def __init__(
        self,
        stack: SandboxStack,
        screen: Screen,
        output: Path,
        *,
        timeout: float = 60.0,
        clock: HandClock | None = None,
        workers: SharedWorkers | None = None,
    ) -> None:
        """`clock` is the bot's storage clock, for `clock`; None when the bot runs on real time.
        `workers` run the jobs when they are shared (`--workers`)."""
        self.stack = stack
        self.workers = workers
        self.clock = clock
        self.screen = screen
        self.attachments_dir = output / "attachments"
        self.voice_dir = output / "voice"
        self.timeout = timeout
        self.state = ConsoleState()
        self.voice_watch = VoiceWatch()

    @property
    def discord(self) -> LocalDiscord:
        return self.stack.discord

    @property
    def prompt_text(self) -> str:
        return f"{self.state.member} #{self.state.channel}> "

    # --- running lines -------------------------------------------------------------------

    async def run_line(self, line: str) -> bool:
        """Runs one line; False when it asks to quit. Raises `LineError` or `StepFailed`."""
        step = parse_line(line)
        if step is None:
            return True
        if isinstance(step, Quit):
            return False
        if isinstance(step, ACTIONS):
            self._set_mark()
        try:
            await self._run(step)
        except (LineError, StepFailed):
            raise
        except (LookupError, ValueError, RuntimeError, OSError) as error:
            raise StepFailed(str(error)) from error
        except Exception as error:
            log.exception("Console step %r failed", line)
            raise StepFailed(f"{type(error).__name__}: {error} (traceback in the log)") from error
        finally:
            self.show_changes()
        return True

    async def run_script(self, lines: list[str]) -> int:
        """Runs each line in order, echoing it; stops at the first failure. Past the last line
        (not after `quit`) it waits, as `wait-jobs` does, for every answer and job still in
        flight. Returns an exit code."""
        for number, line in enumerate(lines, start=1):
            if cancel_requested():
                raise asyncio.CancelledError
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            self.screen.note(f"> {line.strip()}")
            try:
                if not await self.run_line(line):
                    break
            except (LineError, StepFailed) as error:
                self.screen.note(f"✗ line {number} failed: {error}")
                return 1
        else:
            try:
                await self._until_idle()
            except StepFailed as error:
                self.screen.note(f"✗ at the end of the script: {error}")
                return 1
            finally:
                self.show_changes()
        self.screen.note("✓ all steps passed")
        return 0

    async def _run(self, step: Step) -> None:
        if isinstance(step, Slash):
            await self._slash(step.text)
        elif isinstance(step, Click):
            await self._click(step)
        elif isinstance(step, Select):
            await self._select(step)
        elif isinstance(step, ModalSubmit):
            await self._submit_modal(step.text)
        elif isinstance(step, ContextMenu):
            await self._context_menu(step)
        elif isinstance(step, Say):
            await self._say(step)
        elif isinstance(step, PostVoiceMessage):
            await self._post_voice_message(step.path)
        elif isinstance(step, VOICE_STEPS):
            await self._run_voice(step)
        else:
            await self._run_local(step)

    async def _run_local(self, step: Step) -> None:
        """Steps that change or inspect only the console, or wait on the bot."""
        if isinstance(step, SwitchMember):
            self._switch_member(step.name)
        elif isinstance(step, SwitchChannel):
            self._switch_channel(step.name)
        elif isinstance(step, ListMessages):
            self._list(step.count)
        elif isinstance(step, ListMembers):
            self._list_members()
        elif isinstance(step, Help):
            self.screen.note(HELP)
        elif isinstance(step, Expect | ExpectAttachment | WaitJobs | KillWorker):
            await self._run_on_jobs(step)
        elif isinstance(step, ShowClock | MoveClock):
            self._clock(step)

    async def _run_on_jobs(self, step: Expect | ExpectAttachment | WaitJobs | KillWorker) -> None:
        """Steps that wait on the bot's work, or interrupt it."""
        if isinstance(step, Expect):
            await self._expect(step.text)
        elif isinstance(step, ExpectAttachment):
            await self._expect_attachment(step.suffix)
        elif isinstance(step, WaitJobs):
            await self._wait_jobs()
        else:
            await self._kill_worker()

    # --- member actions ------------------------------------------------------------------

    async def _slash(self, text: str) -> None:
        call = slash_call(text, [command.payload for command in self.discord.commands])
        options = {name: await self._option(value) for name, value in call.options.items()}
        handle = await self.discord.slash(
            list(call.path), user=self.state.member, channel=self.state.channel, **options
        )
        await self._answered(handle, f"/{call.name}")

    async def _option(self, value: OptionValue) -> object:
        if isinstance(value, FileOption):
            return await self._upload(value.path)
        if isinstance(value, NamedTarget):
            return self._target(value)
        return value

    async def _upload(self, path: Path) -> Attachment:
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as error:
            raise LineError(f"cannot read {path}: {error.strerror}") from error
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return self.discord.upload(path.name, data, content_type)

    def _target(self, target: NamedTarget) -> User | Channel | Role:
        if target.kind == CHANNEL:
            return self._channel_named(target.name)
        if target.kind == ROLE:
            return self._role_named(target.name)
        if target.kind == MENTIONABLE and target.name not in self._member_names():
            return self._role_named(target.name)
        self._check_member(target.name)
        return self.discord.user(target.name)

    async def _click(self, step: Click) -> None:
        if step.every:
            await self._click_every(step.target)
            return
        message = self._message_for(step.message, buttons, "buttons", step.target, BUTTON_KEYS)
        pressable = buttons(message)
        button = _pick(step.target, pressable, BUTTON_KEYS, "button")
        handle = await self.discord.click(message, str(button["custom_id"]), self.state.member)
        await self._answered(handle, f"click {button.get('label') or button['custom_id']}")

    async def _click_every(self, start: str) -> None:
        """Presses, oldest first, every enabled button of the bot's messages here whose label
        starts with `start`, each once its previous one was answered."""
        wanted = start.casefold()
        bot_id = self.discord.bot_user.id
        found = [
            (message, button)
            for message in self._in_channel()
            if message.author.id == bot_id
            for button in buttons(message)
            if not button.get("disabled")
            and str(button.get("label") or "").casefold().startswith(wanted)
        ]
        if not found:
            raise LineError(f"no button in #{self.state.channel} has a label starting {start!r}")
        for message, button in found:
            label = str(button.get("label"))
            self.show_changes()
            self.screen.note(f"{self.state.member} presses “{label}”")
            handle = await self.discord.click(message, str(button["custom_id"]), self.state.member)
            await self._answered(handle, f"click {label}")

    async def _select(self, step: Select) -> None:
        message = self._message_for(step.message, menus, "select menus", step.target, MENU_KEYS)
        menu = _pick(step.target, menus(message), MENU_KEYS, "menu")
        values = [self._menu_value(menu, value) for value in step.values]
        handle = await self.discord.select(
            message, str(menu["custom_id"]), values, self.state.member
        )
        await self._answered(handle, f"select {', '.join(values)}")

    def _menu_value(self, menu: JSON, typed: str) -> str:
        options = menu.get("options")
        if options:
            for option in options:
                if typed in (option.get("value"), option.get("label")):
                    return str(option["value"])
            piece = typed.casefold()
            holding = [o for o in options if piece in str(o.get("label") or "").casefold()]
            if len(holding) == 1:
                return str(holding[0]["value"])
            known = ", ".join(str(option.get("value")) for option in options)
            if holding:
                labels = ", ".join(f"“{o.get('label')}”" for o in holding)
                raise LineError(f"{typed!r} is in several options' labels: {labels}")
            raise LineError(f"the menu has no option {typed!r}; options: {known}")
        kind = {5: USER, 6: ROLE, 7: CHANNEL, 8: MENTIONABLE}.get(int(menu.get("type") or 3))
        if kind is None:
            return typed
        return self._target(NamedTarget(kind, typed.lstrip("@#"))).id

    async def _submit_modal(self, text: str) -> None:
        shown = self.state.modal
        if shown is None or shown.modal is None:
            raise LineError("the bot has not opened a modal")
        values = modal_values(text, shown.modal)
        self.state.modal = None
        handle = await self.discord.submit_modal(shown, values, self.state.member)
        await self._answered(handle, "the modal")

    async def _context_menu(self, step: ContextMenu) -> None:
        message_commands = sorted(c.name for c in self.discord.commands if c.type == 3)
        if step.name not in message_commands:
            known = ", ".join(f'"{name}"' for name in message_commands) or "none"
            raise LineError(f"no message command {step.name!r}; message commands: {known}")
        message = self._newest() if step.message is None else self._numbered(step.message)
        handle = await self.discord.context_menu(step.name, message, self.state.member)
        await self._answered(handle, f'"{step.name}"')

    async def _say(self, step: Say) -> None:
        files = [await self._upload(step.attachment)] if step.attachment else []
        if not step.text and not files:
            raise LineError("say needs some text or `attach: path`")
        await self.discord.post_message(
            self.state.channel, self.state.member, step.text, attachments=files
        )

    async def _post_voice_message(self, path: Path) -> None:
        """The current member records the sound file `path` and posts it as a voice message
        in their channel: one Ogg Opus file with its length and waveform, no text."""
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as error:
            raise LineError(f"cannot read {path}: {error.strerror}") from error
        try:
            recording = await asyncio.to_thread(record_voice_message, data)
        except NotAudio as error:
            raise LineError(f"{path} is not audio: {error}") from error
        attachment = self.discord.upload(
            FILENAME,
            recording.ogg,
            CONTENT_TYPE,
            duration_secs=recording.duration_secs,
            waveform=recording.waveform,
        )
        message = await self.discord.post_message(
            self.state.channel, self.state.member, attachments=[attachment], flags=IS_VOICE_MESSAGE
        )
        self.show_changes()
        self.screen.note(
            f"✓ {self.state.member} posted a voice message of {recording.duration_secs:.1f} s"
            f" in #{self.state.channel}: message {self.state.numbers.get(message.id)}"
        )

    async def _answered(self, handle: InteractionHandle, what: str) -> None:
        """Waits for the bot's acknowledgement; a modal answer is remembered for `modal`."""
        self.state.started.append(handle)
        try:
            kind = await handle.wait_for_ack(min(ACK_WAIT, self.timeout))
        except TimeoutError:
            raise StepFailed(f"the bot did not answer {what} in time") from None
        if kind == 9 and handle.modal is not None:
            self.state.modal = handle
            self.screen.note("\n".join(modal_lines(handle.modal)))

    # --- where the member is -----------------------------------------------------------------

    def _member_names(self) -> list[str]:
        users = (m.user for m in self.discord.guild.members)
        return [user.username for user in users if not user.bot]

    def _check_member(self, name: str) -> None:
        if name not in self._member_names():
            known = ", ".join(self._member_names())
            raise LineError(f"no member named {name!r}; members: {known}")

    def _list_members(self) -> None:
        guild = self.discord.guild
        people = [member for member in guild.members if not member.user.bot]
        self.screen.note("\n".join(member_line(member, guild) for member in people))

    def _switch_member(self, name: str) -> None:
        self._check_member(name)
        self.state.member = name
        self.screen.note(f"you are now {name}")

    def _channel_named(self, name: str) -> Channel:
        try:
            return self.discord.channel(name)
        except KeyError:
            known = ", ".join(c.name for c in self.discord.guild.channels)
            raise LineError(f"no channel named {name!r}; channels: {known}") from None

    def _switch_channel(self, name: str) -> None:
        guild = self.discord.guild
        text_channels = [c.name for c in guild.channels if not c.is_voice]
        threads = [thread.name for thread in guild.threads]
        if name not in text_channels + threads:
            known = ", ".join(text_channels) + "".join(f", thread “{t}”" for t in threads)
            raise LineError(f"no text channel or thread named {name!r}; channels: {known}")
        self.state.channel = name
        self.screen.note(f"you are now in #{name}")

    def _role_named(self, name: str) -> Role:
        roles = self.discord.guild.roles
        found = next((role for role in roles if role.name.lstrip("@") == name.lstrip("@")), None)
        if found is None:
            known = ", ".join(role.name for role in roles)
            raise LineError(f"no role named {name!r}; roles: {known}")
        return found

    # --- voice -------------------------------------------------------------------------------

    async def _run_voice(self, step: JoinVoice | LeaveVoice | ExpectVoice | Hear | Speak) -> None:
        if isinstance(step, JoinVoice):
            await self._join(step.name)
        elif isinstance(step, LeaveVoice):
            await self._leave()
        elif isinstance(step, ExpectVoice):
            await self._expect_voice(step.seconds)
        elif isinstance(step, Speak):
            await self._speak(step.path)
        else:
            await self._hear()

    def _voice_channel_names(self) -> str:
        return ", ".join(c.name for c in self.discord.guild.channels if c.is_voice) or "none"

    def _voice_channel_named(self, name: str) -> Channel:
        """The voice channel `name` (in any case when only one is spelt so)."""
        channels = self.discord.guild.channels
        found = next((c for c in channels if c.name == name), None)
        if found is None:
            alike = [c for c in channels if c.name.casefold() == name.casefold()]
            found = alike[0] if len(alike) == 1 else None
        known = self._voice_channel_names()
        if found is None:
            raise LineError(f"no voice channel named {name!r}; voice channels: {known}")
        if not found.is_voice:
            raise LineError(
                f"#{found.name} is a text channel, not a voice channel; voice channels: {known}"
            )
        return found

    def _my_voice_channel(self) -> Channel:
        """The voice channel the current member is in."""
        member = self.discord.user(self.state.member)
        channel_id = self.discord.guild.voice_channels.get(member.id)
        channel = self.discord.world.channel(channel_id) if channel_id else None
        if channel is None:
            raise LineError(
                f"{member.username} is not in a voice channel; `join CHANNEL` first"
                f" (voice channels: {self._voice_channel_names()})"
            )
        return channel

    async def _join(self, name: str) -> None:
        channel = self._voice_channel_named(name)
        member = self.discord.user(self.state.member)
        before = self.discord.guild.voice_channels.get(member.id)
        if before == channel.id:
            raise LineError(f"{member.username} is already in {VOICE_ICON} {channel.name}")
        self.voice_watch.members[member.id] = channel.id  # shown here, not again by the watch
        await self.discord.move_to_voice(member, channel)
        old = self.discord.world.channel(before) if before else None
        self.screen.note(move_line(member.username, old.name if old else None, channel.name))

    async def _leave(self) -> None:
        channel = self._my_voice_channel()
        member = self.discord.user(self.state.member)
        self.voice_watch.members.pop(member.id, None)  # shown here, not again by the watch
        await self.discord.move_to_voice(member, None)
        self.screen.note(move_line(member.username, channel.name, None))

    async def _expect_voice(self, seconds: float) -> None:
        """Waits until `seconds` of sound were heard in the member's voice channel since the
        last action; the voice server wakes the wait at every packet."""
        channel = self._my_voice_channel()
        heard = self.discord.voice.heard_in(channel.id)
        pcm_mark, packet_mark = self.state.voice_mark.get(channel.id, (0, 0))
        wanted = seconds * BYTES_PER_SECOND
        started = time.monotonic()
        where = f"{VOICE_ICON} {channel.name}"
        try:
            await self.discord.wait_until(
                lambda: len(heard.pcm) - pcm_mark >= wanted or None, self.timeout
            )
        except TimeoutError:
            got, packets = heard_since(heard, pcm_mark, packet_mark)
            raise StepFailed(
                f"heard {got:.1f} s of audio ({packets} packets) in {where} since the last"
                f" action, not the {seconds:g} s wanted (waited {self.timeout:g} s);"
                f" {self._bot_whereabouts()}"
            ) from None
        got, packets = heard_since(heard, pcm_mark, packet_mark)
        self.screen.note(
            f"✓ heard {got:.1f} s of audio ({packets} packets) in {where}"
            f" after {time.monotonic() - started:.1f} s"
        )

    def _bot_whereabouts(self) -> str:
        bot = self.discord.bot_user
        channel_id = self.discord.guild.voice_channels.get(bot.id)
        channel = self.discord.world.channel(channel_id) if channel_id else None
        if channel is None:
            return f"{bot.username} is not in a voice channel"
        return f"{bot.username} is in {VOICE_ICON} {channel.name}"

    async def _speak(self, path: Path) -> None:
        """The current member says the sound file `path` in their voice channel, 20 ms packets
        paced as a person talks: the bot, if it is there, hears it as that member's voice."""
        channel = self._my_voice_channel()
        member = self.discord.user(self.state.member)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as error:
            raise LineError(f"cannot read {path}: {error.strerror}") from error
        try:
            frames = await asyncio.to_thread(opus_frames, data)
        except NotAudio as error:
            raise LineError(f"{path} is not audio: {error}") from error
        heard_by = await self.discord.speak(member, opus=frames, realtime=True)
        seconds = len(frames) * FRAME_SECONDS
        said = f"{member.username} said {seconds:.1f} s in {VOICE_ICON} {channel.name}"
        if heard_by == 0:
            self.screen.note(
                f"{said}, but no voice connection there heard it; {self._bot_whereabouts()}"
            )
        else:
            self.screen.note(f"✓ {said}; heard by {self.discord.bot_user.username}")

    async def _hear(self) -> None:
        """Saves everything heard in the member's voice channel as a WAV file."""
        channel = self._my_voice_channel()
        heard = self.discord.voice.heard_in(channel.id)
        where = f"{VOICE_ICON} {channel.name}"
        if not heard.pcm:
            self.screen.note(f"nothing was heard in {where} yet")
            return
        pcm, packets = bytes(heard.pcm), len(heard.audio_packets)
        path = next_wav_path(self.voice_dir, channel.name)
        await asyncio.to_thread(write_wav, path, pcm)
        seconds = len(pcm) / BYTES_PER_SECOND
        self.screen.note(f"saved {seconds:.1f} s heard in {where} ({packets} packets) to {path}")

    # --- the bot's clock -----------------------------------------------------------------------

    def _clock(self, step: ShowClock | MoveClock) -> None:
        """Shows the bot's clock, after moving it forward for `clock +…`."""
        if self.clock is None:
            raise LineError("this bot runs on the real clock; the console cannot move it")
        if isinstance(step, MoveClock):
            self.clock.advance(step.by)
            self.state.ahead += step.by
        now = self.clock.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        ahead = f"{length_text(self.state.ahead)} ahead of" if self.state.ahead else "on"
        self.screen.note(f"🕒 the bot's clock is now {now} ({ahead} real time)")

    # --- messages ----------------------------------------------------------------------------

    def _visible(self, message: Message) -> bool:
        """What the current member can see: not deleted, and ephemeral only when it is theirs."""
        if message.deleted:
            return False
        if not message.ephemeral:
            return True
        interaction = self.discord.world.interactions.get(message.interaction_id or "")
        return interaction is None or interaction.user.username == self.state.member

    def _in_channel(self) -> list[Message]:
        channel = self.discord.channel(self.state.channel)
        return [m for m in self.discord.messages if m.channel_id == channel.id and self._visible(m)]

    def _numbered(self, number: int) -> Message:
        self.show_changes()
        for message_id, assigned in self.state.numbers.items():
            if assigned == number:
                message = self.discord.world.message(message_id)
                if message is None or not self._visible(message):
                    raise LineError(f"message {number} is gone or not visible to you")
                return message
        raise LineError(f"there is no message {number}; `messages` lists them")

    def _newest(self) -> Message:
        """The newest message the member sees in this channel, numbered as it is shown."""
        self.show_changes()
        shown = self._in_channel()
        if not shown:
            raise LineError(f"there is no message in #{self.state.channel} yet")
        return shown[-1]

    def _message_for(
        self,
        number: int | None,
        parts: ComponentsOf,
        what: str,
        target: str = "",
        keys: tuple[str, str] = BUTTON_KEYS,
    ) -> Message:
        """Message `number`; else the newest bot message in this channel with a part named
        `target` (not a number) by one of `keys`; else the newest with `what` on it."""
        if number is not None:
            message = self._numbered(number)
            if not parts(message):
                raise LineError(f"message {number} has no {what}")
            return message
        bot_id = self.discord.bot_user.id
        shown = [m for m in reversed(self._in_channel()) if m.author.id == bot_id and parts(m)]
        if not shown:
            raise LineError(f"no bot message with {what} in #{self.state.channel}")
        if target and not target.isdigit():
            named = (m for m in shown if _find(target, parts(m), keys) is not None)
            return next(named, shown[0])
        return shown[0]

    def _list(self, count: int) -> None:
        self.show_changes()
        shown = self._in_channel()[-count:]
        if not shown:
            self.screen.note(f"no messages in #{self.state.channel} yet")
            return
        self.screen.listing(self._block(message) for message in shown)

    def _block(self, message: Message) -> list[str]:
        number = self.state.numbers.setdefault(message.id, len(self.state.numbers) + 1)
        look = MessageLook(number, self.state.member, self.state.saved)
        return message_block(message, look, self.discord.world)

    def _changes(self) -> list[tuple[Message, bool]] | None:
        """Messages created, edited or deleted since last shown, each with "is it an edit"."""
        changed = []
        for message in self.discord.messages:
            seen = self.state.seen.get(message.id)
            if seen is None:
                if not message.deleted:
                    changed.append((message, False))
            elif seen.edits != len(message.edits) or seen.deleted != message.deleted:
                changed.append((message, True))
        return changed or None

    def show_changes(self) -> None:
        """Saves new attachments and shows every message created or changed since last time,
        then what changed in voice."""
        for message, edited in self._changes() or []:
            self.state.seen[message.id] = _Seen(len(message.edits), message.deleted)
            if message.author.bot:
                self._save_attachments(message)
            edited = edited and not message.deleted
            self.screen.block(message.id, self._block(message), edited=edited)
        voice = self.voice_watch.changes(self.discord)
        if voice:
            self.screen.activity(voice)

    def _save_attachments(self, message: Message) -> None:
        for attachment in message.attachments:
            if attachment.id in self.state.saved:
                continue
            folder = self.attachments_dir / message.id
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / Path(attachment.filename).name
            path.write_bytes(attachment.data)
            self.state.saved[attachment.id] = str(path)
            if self.screen.quiet:
                self.screen.note(f"saved {path}")

    async def watch(self) -> None:
        """Shows the bot's messages, edits and voice as they happen, until cancelled."""
        while not cancel_requested():
            with contextlib.suppress(TimeoutError):
                await self.discord.wait_until(self._anything_new, WATCH_SPAN)
            self.show_changes()

    def _anything_new(self) -> bool | None:
        """A message or voice change `show_changes` has not shown yet."""
        return bool(self._changes()) or self.voice_watch.pending(self.discord) or None

    # --- expectations ------------------------------------------------------------------------

    def _set_mark(self) -> None:
        self.state.mark = {m.id: len(m.edits) for m in self.discord.messages}
        self.state.voice_mark = {
            channel_id: (len(heard.pcm), len(heard.packets))
            for channel_id, heard in self.discord.voice.heard.items()
        }

    def _since_mark(self) -> list[Message]:
        """Bot messages the member can see that appeared or changed since the last action."""
        bot_id = self.discord.bot_user.id
        return [
            m
            for m in self.discord.messages
            if m.author.id == bot_id
            and self._visible(m)
            and (m.id not in self.state.mark or len(m.edits) > self.state.mark[m.id])
        ]

    async def _expect(self, text: str) -> None:
        wanted = text.casefold()

        def found() -> Message | None:
            return next(
                (m for m in self._since_mark() if wanted in searchable_text(m).casefold()), None
            )

        await self._wait_for(found, f"no bot message since the last action shows {text!r}")

    async def _expect_attachment(self, suffix: str) -> None:
        wanted = suffix.casefold()

        def found() -> Message | None:
            return next(
                (
                    m
                    for m in self._since_mark()
                    if any(a.filename.casefold().endswith(wanted) for a in m.attachments)
                ),
                None,
            )

        message = await self._wait_for(found, f"no file ending in {suffix!r} since the last action")
        self.show_changes()
        files = [self.state.saved.get(a.id, a.filename) for a in message.attachments]
        self.screen.note("✓ " + ", ".join(f for f in files if f.casefold().endswith(wanted)))

    async def _wait_for(self, probe: Callable[[], Message | None], failure: str) -> Message:
        started = time.monotonic()
        try:
            message: Message = await self.discord.wait_until(probe, self.timeout)
        except TimeoutError:
            raise StepFailed(f"{failure} (waited {self.timeout:g} s){self._recent()}") from None
        self.show_changes()
        number = self.state.numbers.get(message.id)
        self.screen.note(f"✓ found in message {number} after {time.monotonic() - started:.1f} s")
        return message

    def _recent(self) -> str:
        recent = self._since_mark()[-3:]
        if not recent:
            return "; the bot posted or edited nothing since the last action"
        shown = [" | ".join(searchable_text(m).splitlines())[:200] for m in recent]
        return "; newest bot messages since then:\n  " + "\n  ".join(shown)

    async def _wait_jobs(self) -> None:
        await self._until_idle()
        self.screen.note("✓ no job queued or running")

    async def _kill_worker(self) -> None:
        if self.workers is None:
            raise StepFailed("`kill-worker` needs shared job workers: start with --workers 2")
        holder = await newest_holder(self.stack.bot.database)
        if holder is None:
            raise StepFailed("no worker holds a job now: try while a job card says Composing")
        number = self.workers.number_of(holder.pid)
        self.workers.kill(holder.pid)
        lease = self.stack.bot.settings.jobs.lease
        self.screen.note(
            f"✓ killed worker {number} (pid {holder.pid}), which held job {holder.job_id};"
            f" another takes it over once its lease runs out (within {lease:g} s)"
        )

    async def _until_idle(self) -> None:
        """Returns once `_idle`; fails after the console's timeout."""
        deadline = time.monotonic() + self.timeout
        while not await self._idle():
            if cancel_requested():
                raise asyncio.CancelledError
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StepFailed(
                    f"after {self.timeout:g} s the bot still has a job queued or running,"
                    " or has not answered an interaction beyond “thinking”"
                )
            await self._next_request(min(JOB_RECHECK, remaining))

    async def _next_request(self, limit: float) -> None:
        """Returns at the next request the local Discord serves, or after `limit` seconds."""
        served = len(self.discord.requests)
        with contextlib.suppress(TimeoutError):
            await self.discord.wait_until(lambda: len(self.discord.requests) != served, limit)

    async def _idle(self) -> bool:
        """Every interaction got its first answer, and no job is queued or running."""
        self.state.started = [h for h in self.state.started if _still_thinking(h)]
        if self.state.started:
            return False
        if self.workers is not None:
            return await unfinished_jobs(self.stack.bot.database) == 0
        return self.stack.bot.services.jobs.is_idle()


def cancel_requested() -> bool:
    """The current task was asked to stop.

    On Python 3.11, `asyncio.wait_for` drops a cancellation that arrives together with its
    result, so every loop that waits through it checks this before waiting again.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def length_text(length: timedelta) -> str:
    """`1d 12h 30m`: a length in days, hours and minutes, leaving out the zeros."""
    minutes = int(length.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return " ".join(parts) or "0m"


def _still_thinking(handle: InteractionHandle) -> bool:
    if handle.response_type is None:
        return True
    original = handle.record.original
    return original is not None and original.loading and not original.deleted


def _pick(target: str, components: list[JSON], keys: tuple[str, str], what: str) -> JSON:
    """A component by its number as listed, or by one of `keys` (label, custom_id...)."""
    if target.isdigit():
        index = int(target)
        if 1 <= index <= len(components):
            return components[index - 1]
        raise LineError(f"there is no {what} {index}; there are {len(components)}")
    found = _find(target, components, keys)
    if found is not None:
        return found
    known = ", ".join(str(c.get(keys[0]) or c.get("custom_id")) for c in components)
    raise LineError(f"no {what} {target!r}; there are: {known}")


def _find(target: str, components: list[JSON], keys: tuple[str, str]) -> JSON | None:
    """The component one of `keys` names exactly (in any case), else the only one whose
    `keys[0]` (its label or placeholder) starts with `target`."""
    wanted = target.casefold()
    for component in components:
        if any(str(component.get(key) or "").casefold() == wanted for key in keys):
            return component
    starting = [c for c in components if str(c.get(keys[0]) or "").casefold().startswith(wanted)]
    return starting[0] if len(starting) == 1 else None
