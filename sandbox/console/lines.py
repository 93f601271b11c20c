"""What a console line means: the step it asks for, and slash-command options typed by payload.

Pure functions over text and registered command payloads, so they are tested without a Discord.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

JSON = dict[str, Any]

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11
TYPE_WORDS = {
    STRING: "text",
    INTEGER: "whole number",
    BOOLEAN: "true/false",
    USER: "member",
    CHANNEL: "channel",
    ROLE: "role",
    MENTIONABLE: "member or role",
    NUMBER: "number",
    ATTACHMENT: "file path",
}
TRUE_WORDS = {"true", "yes", "y", "on", "1"}
FALSE_WORDS = {"false", "no", "n", "off", "0"}

# `name:` starts an option when it stands alone: at the start or after a space, then a space or
# the end. So `http://x` or `time:5` inside a value is not mistaken for an option.
OPTION_NAME = re.compile(r"(?<!\S)([\w-]+):(?=\s|$)")


class LineError(ValueError):
    """A console line that cannot be run, with a message saying what would be right."""


@dataclass(frozen=True)
class FileOption:
    """A local file to upload as an attachment option."""

    path: Path


@dataclass(frozen=True)
class NamedTarget:
    """A member, channel or role given by name; `kind` is the option type (6, 7, 8 or 9)."""

    kind: int
    name: str


OptionValue = str | int | float | bool | FileOption | NamedTarget


@dataclass(frozen=True)
class SlashCall:
    """A resolved slash command: its path (`("admin", "quota")`) and typed option values."""

    path: tuple[str, ...]
    options: dict[str, OptionValue] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return " ".join(self.path)


# --- steps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slash:
    text: str


@dataclass(frozen=True)
class Click:
    """`target` is a button number (as listed) or its label; `message` a listed message number.

    With `every`, `target` is the start of a label: every such button here is pressed in turn.
    """

    target: str
    message: int | None = None
    every: bool = False


@dataclass(frozen=True)
class Select:
    target: str
    values: tuple[str, ...]
    message: int | None = None


@dataclass(frozen=True)
class ModalSubmit:
    text: str


@dataclass(frozen=True)
class ContextMenu:
    """`message` is a listed message number; None for the newest message in the channel."""

    name: str
    message: int | None


@dataclass(frozen=True)
class SwitchMember:
    name: str


@dataclass(frozen=True)
class SwitchChannel:
    name: str


@dataclass(frozen=True)
class Say:
    text: str
    attachment: Path | None = None


@dataclass(frozen=True)
class ListMessages:
    count: int = 10


@dataclass(frozen=True)
class ListMembers:
    pass


@dataclass(frozen=True)
class Expect:
    text: str


@dataclass(frozen=True)
class ExpectAttachment:
    suffix: str


@dataclass(frozen=True)
class WaitJobs:
    pass


@dataclass(frozen=True)
class KillWorker:
    """SIGKILL the shared job worker holding the newest running job."""


@dataclass(frozen=True)
class JoinVoice:
    """The current member joins the voice channel `name`."""

    name: str


@dataclass(frozen=True)
class LeaveVoice:
    pass


@dataclass(frozen=True)
class ExpectVoice:
    """Wait until `seconds` of the bot's audio were heard in the member's voice channel."""

    seconds: float


@dataclass(frozen=True)
class Hear:
    pass


@dataclass(frozen=True)
class Speak:
    """The current member speaks the sound file `path` in their voice channel."""

    path: Path


@dataclass(frozen=True)
class PostVoiceMessage:
    """The current member posts the sound file `path` as a voice message in their channel."""

    path: Path


@dataclass(frozen=True)
class ShowClock:
    """Print the bot's clock."""


@dataclass(frozen=True)
class MoveClock:
    """Move the bot's clock forward by `by`, so deadlines pass without waiting."""

    by: timedelta


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Quit:
    pass


Step = (
    Slash
    | Click
    | Select
    | ModalSubmit
    | ContextMenu
    | SwitchMember
    | SwitchChannel
    | Say
    | PostVoiceMessage
    | ListMessages
    | ListMembers
    | Expect
    | ExpectAttachment
    | WaitJobs
    | KillWorker
    | JoinVoice
    | LeaveVoice
    | ExpectVoice
    | Hear
    | Speak
    | ShowClock
    | MoveClock
    | Help
    | Quit
)
ACTIONS = (
    Slash,
    Click,
    Select,
    ModalSubmit,
    ContextMenu,
    Say,
    PostVoiceMessage,
    Speak,
    MoveClock,
    KillWorker,
)
VOICE_STEPS = (JoinVoice, LeaveVoice, ExpectVoice, Hear, Speak)

HELP = """\
/name opt: value ...      run a slash command (`/admin quota units: 50`); files: `audio: ./a.mp3`
click N | click Label     press button N of the newest bot message with buttons, or the button
                          Label (or the one label starting so) of the newest bot message with
                          it (`... on M`: of message M)
click every Label         press, oldest first, every button here whose label starts with Label
select N value ...        pick values in select menu N of the newest message with one, or in
                          the menu with that placeholder (`... on M`); a value is an option's
                          value, its label, or a piece of only one label
modal [field: value ...]  submit the modal the bot opened last (left-out fields keep their text)
menu "Name" M             run a message context menu on message M (`last`: the newest here)
as NAME | in CHANNEL      play another member (alice, bob, carol) | move to a channel or thread
say text [attach: path]   post a plain message, optionally with a file
voice-message PATH        post a sound file as your voice message (`voice-message ./q.wav`):
                          Ogg Opus, mono, 48 kHz, with its length and waveform
messages | ls [N]         list the last N messages of this channel, with numbers
members                   list the members of the server and the roles each holds
expect TEXT               wait until a bot message posted or edited since the last action shows TEXT
expect-attachment .mp3    wait until such a message carries a file whose name ends with .mp3
wait-jobs                 wait until the bot has no job queued or running
kill-worker               with --workers: SIGKILL the worker holding the newest running job;
                          another takes the job over once its lease runs out
join CHANNEL | leave      join a voice channel (`join Lounge`) | leave voice
expect-voice SECONDS      wait until that much of the bot's audio was heard in your voice channel
                          since the last action
hear                      save what was heard in your voice channel as a WAV under <output>/voice/
speak PATH                say a sound file (`speak ./question.wav`) in your voice channel, in real
                          time: the bot hears it as your voice
clock [+1d]               show the bot's clock | move it forward (`+12h`, `+90m`, `+1d 12h`), so
                          a contest's deadlines pass without waiting
help | quit               this help | stop everything"""


def parse_line(line: str) -> Step | None:
    """The step a console line asks for; None for blank lines and `# comments`."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith("/"):
        return Slash(text)
    word, _, rest = text.partition(" ")
    rest = rest.strip()
    keyword = word.lower()
    if keyword in _BARE:
        if rest:
            raise LineError(f"`{keyword}` takes no argument")
        return _BARE[keyword]
    if keyword in _OPTIONAL_ARGUMENT:
        return _OPTIONAL_ARGUMENT[keyword](rest)
    parser = _WITH_ARGUMENT.get(keyword)
    if parser is None:
        raise LineError(f"unknown console command {word!r}; type `help` for the list")
    if not rest:
        raise LineError(f"`{keyword}` needs an argument; type `help` for the list")
    return parser(rest)


CLOCK_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}
CLOCK_PART = re.compile(r"\s*(\d{1,5})\s*([wdhm])\s*", re.IGNORECASE)


def _clock(rest: str) -> ShowClock | MoveClock:
    """`clock` shows the bot's clock; `clock +1d 12h` moves it forward (w, d, h, m)."""
    if not rest:
        return ShowClock()
    wrong = LineError(
        f"`clock` moves forward by a length such as `+1d`, `+12h`, `+90m` or `+1d 12h`,"
        f" not {rest!r}"
    )
    if not rest.startswith("+"):
        raise wrong
    length = rest[1:].strip()
    parts = list(CLOCK_PART.finditer(length))
    if not parts or "".join(part[0] for part in parts) != length:
        raise wrong
    by = sum((int(part[1]) * CLOCK_UNITS[part[2].lower()] for part in parts), timedelta(0))
    if by <= timedelta(0):
        raise wrong
    return MoveClock(by)


def _list_messages(rest: str) -> ListMessages:
    if not rest:
        return ListMessages()
    if not rest.isdigit() or int(rest) < 1:
        raise LineError("`messages` takes a count, e.g. `messages 20`")
    return ListMessages(int(rest))


_BARE: dict[str, Step] = {
    "help": Help(),
    "quit": Quit(),
    "exit": Quit(),
    "wait-jobs": WaitJobs(),
    "kill-worker": KillWorker(),
    "members": ListMembers(),
    "leave": LeaveVoice(),
    "hear": Hear(),
}
_OPTIONAL_ARGUMENT: dict[str, Callable[[str], Step]] = {
    "messages": _list_messages,
    "ls": _list_messages,
    "modal": ModalSubmit,
    "clock": _clock,
}


def _on_message(rest: str) -> tuple[str, int | None]:
    """Splits a trailing `on M` off a click or select target."""
    match = re.fullmatch(r"(.*?)\s+on\s+(\d+)", rest)
    if match is None:
        return rest, None
    return match.group(1).strip(), int(match.group(2))


def _click(rest: str) -> Click:
    target, message = _on_message(rest)
    word, _, label = target.partition(" ")
    if word.lower() == "every" and label.strip():
        if message is not None:
            raise LineError("`click every` presses buttons on every message here: drop `on M`")
        return Click(_unquote(label.strip()), every=True)
    return Click(_unquote(target), message)


def _select(rest: str) -> Select:
    body, message = _on_message(rest)
    try:
        words = shlex.split(body)
    except ValueError as error:
        raise LineError(f"select: {error}") from error
    if len(words) < 2:
        raise LineError("select needs a menu and at least one value: `select 1 value`")
    return Select(words[0], tuple(words[1:]), message)


def _menu(rest: str) -> ContextMenu:
    match = re.fullmatch(r"(.+?)\s+(\d+|last)", rest)
    if match is None:
        raise LineError(
            'menu needs a name and a message number (or `last`): `menu "Separate stems" 3`'
        )
    number = match.group(2)
    return ContextMenu(_unquote(match.group(1).strip()), None if number == "last" else int(number))


def _say(rest: str) -> Say:
    match = re.fullmatch(r"(?:(.*?)\s+)?attach:\s+(.+)", rest, flags=re.DOTALL)
    if match is None:
        return Say(rest)
    return Say((match.group(1) or "").strip(), Path(_unquote(match.group(2).strip())))


def _expect_attachment(rest: str) -> ExpectAttachment:
    return ExpectAttachment(_unquote(rest))


def _expect_voice(rest: str) -> ExpectVoice:
    try:
        seconds = float(rest)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise LineError(f"`expect-voice` takes seconds above 0 (`expect-voice 2`), not {rest!r}")
    return ExpectVoice(seconds)


_WITH_ARGUMENT: dict[str, Callable[[str], Step]] = {
    "click": _click,
    "select": _select,
    "menu": _menu,
    "as": lambda rest: SwitchMember(rest.lstrip("@")),
    "in": lambda rest: SwitchChannel(_unquote(rest).lstrip("#")),
    "say": _say,
    "expect": lambda rest: Expect(_unquote(rest)),
    "expect-attachment": _expect_attachment,
    "expect-voice": _expect_voice,
    "join": lambda rest: JoinVoice(_unquote(rest).lstrip("#🔊 ")),
    "speak": lambda rest: Speak(Path(_unquote(rest)).expanduser()),
    "voice-message": lambda rest: PostVoiceMessage(Path(_unquote(rest)).expanduser()),
}


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


# --- options -----------------------------------------------------------------------------------


def split_options(text: str) -> list[tuple[str, str]]:
    """`a: x y b: "z: w"` -> [("a", "x y"), ("b", "z: w")]; a value runs to the next `name:`."""
    pairs: list[tuple[str, str]] = []
    position = 0
    while True:
        match = OPTION_NAME.search(text, position)
        before = text[position : match.start() if match else len(text)].strip()
        if before:
            raise LineError(f"expected `name: value`, got {before!r}")
        if match is None:
            return pairs
        value, position = _value_at(text, match.end())
        if not value:
            raise LineError(f"option {match.group(1)!r} needs a value")
        pairs.append((match.group(1), value))


def _value_at(text: str, start: int) -> tuple[str, int]:
    """The value that starts at `start` and where scanning resumes after it."""
    begin = len(text) - len(text[start:].lstrip())
    if begin < len(text) and text[begin] in "\"'":
        quote = text[begin]
        closing = re.compile(re.escape(quote) + r"(?=\s|$)").search(text, begin + 1)
        if closing is not None:
            return text[begin + 1 : closing.start()], closing.end()
    following = OPTION_NAME.search(text, begin)
    end = following.start() if following else len(text)
    return text[begin:end].strip(), end


def slash_call(text: str, commands: Sequence[JSON]) -> SlashCall:
    """Resolves `/name [sub ...] opt: value ...` against the registered command payloads."""
    name, rest = _first_word(text.strip().removeprefix("/"))
    command = _chat_command(name, commands)
    path = [name]
    declared: list[JSON] = list(command.get("options") or [])
    while declared and all(_is_sub(option) for option in declared):
        sub, rest = _first_word(rest)
        choices = ", ".join(str(option["name"]) for option in declared)
        if not sub:
            raise LineError(f"/{' '.join(path)} needs a sub-command: {choices}")
        chosen = next((option for option in declared if option["name"] == sub), None)
        if chosen is None:
            raise LineError(f"/{' '.join(path)} has no sub-command {sub!r}; it has: {choices}")
        path.append(sub)
        declared = list(chosen.get("options") or [])
    call_name = "/" + " ".join(path)
    by_name = {str(option["name"]): option for option in declared}
    values: dict[str, OptionValue] = {}
    for key, raw in split_options(rest):
        option = by_name.get(key)
        if option is None:
            raise LineError(f"{call_name} has no option {key!r}; {describe_options(declared)}")
        if key in values:
            raise LineError(f"{call_name}: option {key!r} is given twice")
        values[key] = typed_value(option, raw)
    missing = [
        name for name, option in by_name.items() if option.get("required") and name not in values
    ]
    if missing:
        raise LineError(f"{call_name}: missing {', '.join(missing)}; {describe_options(declared)}")
    return SlashCall(tuple(path), values)


def _first_word(text: str) -> tuple[str, str]:
    word, _, rest = text.strip().partition(" ")
    return word, rest


def _is_sub(option: JSON) -> bool:
    return option.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)


def _chat_command(name: str, commands: Sequence[JSON]) -> JSON:
    chat = [c for c in commands if int(c.get("type") or 1) == 1]
    found = next((c for c in chat if c.get("name") == name), None)
    if found is None:
        known = ", ".join(command_names(commands)) or "none yet (is the bot connected?)"
        raise LineError(f"unknown command /{name}; commands: {known}")
    return found


def command_names(commands: Sequence[JSON]) -> list[str]:
    """Every runnable slash command with its sub-commands spelled out: `/admin quota`."""
    names: list[str] = []
    for command in commands:
        if int(command.get("type") or 1) == 1:
            names.extend(_paths(f"/{command['name']}", list(command.get("options") or [])))
    return sorted(names)


def _paths(prefix: str, options: list[JSON]) -> list[str]:
    subs = [option for option in options if _is_sub(option)]
    if not subs:
        return [prefix]
    paths: list[str] = []
    for sub in subs:
        paths.extend(_paths(f"{prefix} {sub['name']}", list(sub.get("options") or [])))
    return paths


def describe_options(options: Sequence[JSON]) -> str:
    """`options: prompt (text, required), duration (whole number 5–300)`, or none taken."""
    if not options:
        return "it takes no options"
    return "options: " + ", ".join(_describe(option) for option in options)


def _describe(option: JSON) -> str:
    kind = int(option.get("type") or STRING)
    words = TYPE_WORDS.get(kind, f"type {kind}")
    choices = option.get("choices")
    if choices:
        words = "one of " + "/".join(str(choice["value"]) for choice in choices)
    elif "min_value" in option or "max_value" in option:
        words += f" {option.get('min_value', '')}–{option.get('max_value', '')}"
    if option.get("required"):
        words += ", required"
    return f"{option['name']} ({words})"


def typed_value(option: JSON, raw: str) -> OptionValue:
    """The value of `raw` for the option's declared type, checked the way Discord's client does."""
    name = str(option["name"])
    kind = int(option.get("type") or STRING)
    if kind == STRING:
        return _string(option, raw)
    if kind in (INTEGER, NUMBER):
        return _number(option, raw, kind)
    if kind == BOOLEAN:
        lowered = raw.lower()
        if lowered in TRUE_WORDS | FALSE_WORDS:
            return lowered in TRUE_WORDS
        raise LineError(f"{name} takes true or false, not {raw!r}")
    if kind == ATTACHMENT:
        return FileOption(Path(raw).expanduser())
    if kind in (USER, CHANNEL, ROLE, MENTIONABLE):
        return NamedTarget(kind, raw.lstrip("@#"))
    raise LineError(f"{name}: options of type {kind} cannot be typed in the console")


def _string(option: JSON, raw: str) -> str:
    name = str(option["name"])
    choices: list[JSON] = list(option.get("choices") or [])
    if choices:
        return str(_choice(name, choices, raw)["value"])
    low, high = option.get("min_length"), option.get("max_length")
    if (low is not None and len(raw) < low) or (high is not None and len(raw) > high):
        raise LineError(f"{name} takes {low or 0} to {high} characters, got {len(raw)}")
    return raw


def _choice(name: str, choices: list[JSON], raw: str) -> JSON:
    """The choice `raw` names, in any case: its value, the name a member sees, or the start of
    either when only one choice starts that way (`All stems` for `All stems (vocals, ...)`)."""
    typed = raw.casefold()
    spelt = [(c, str(c["value"]).casefold(), str(c["name"]).casefold()) for c in choices]
    rounds = (
        [c for c, value, _ in spelt if value == typed],
        [c for c, _, shown in spelt if shown == typed],
        [c for c, value, shown in spelt if value.startswith(typed) or shown.startswith(typed)],
    )
    found = next((matched for matched in rounds if matched), [])
    if len(found) == 1:
        return found[0]
    if found:
        could_be = ", ".join(f"“{choice['name']}”" for choice in found)
        raise LineError(f"{name}: {raw!r} could be {could_be}; type more of it")
    listed = ", ".join(str(choice["value"]) for choice in choices)
    shown_names = ", ".join(f"“{choice['name']}”" for choice in choices)
    raise LineError(f"{name} must be one of {listed} (or their names {shown_names}), not {raw!r}")


def _number(option: JSON, raw: str, kind: int) -> int | float:
    name = str(option["name"])
    try:
        value: int | float = int(raw) if kind == INTEGER else float(raw)
    except ValueError:
        raise LineError(f"{name} takes a {TYPE_WORDS[kind]}, not {raw!r}") from None
    low, high = option.get("min_value"), option.get("max_value")
    if (low is not None and value < low) or (high is not None and value > high):
        raise LineError(f"{name} must be between {low} and {high}, got {raw}")
    return value


def modal_values(text: str, modal: JSON) -> dict[str, str | list[str]]:
    """`field: value ...` for a modal, keyed by each input's custom_id (its label works too).

    Fields left out keep the text the bot prefilled, as they would in Discord's client.
    """
    inputs = modal_inputs(modal)
    values: dict[str, str | list[str]] = {
        field_.custom_id: field_.prefilled for field_ in inputs if field_.prefilled is not None
    }
    for key, raw in split_options(text):
        found = _modal_input(key, inputs)
        if found is None:
            fields = ", ".join(field_.custom_id for field_ in inputs) or "none"
            raise LineError(f"the modal has no field {key!r}; fields: {fields}")
        values[found.custom_id] = raw if found.is_text else raw.split()
    missing = [f.custom_id for f in inputs if f.required and not values.get(f.custom_id)]
    if missing:
        raise LineError(f"the modal needs {', '.join(missing)}")
    return values


@dataclass(frozen=True)
class ModalField:
    """One thing a member fills in on a modal: a text input or a select."""

    custom_id: str
    label: str
    is_text: bool
    required: bool
    prefilled: str | None = None
    hint: str | None = None


def modal_inputs(modal: JSON) -> list[ModalField]:
    """The modal's fields, wherever they are nested (action rows or labels).

    A field's label and hint (description) may come from the label component that holds it; its
    placeholder is part of its hint.
    """
    found: list[ModalField] = []
    stack: list[tuple[JSON, str, str]] = [(c, "", "") for c in modal.get("components") or []]
    while stack:
        component, label, hint = stack.pop(0)
        label = str(component.get("label") or label)
        hint = str(component.get("description") or hint)
        kind = component.get("type")
        if component.get("custom_id") is not None and kind in (3, 4, 5, 6, 7, 8):
            required = bool(component.get("required", True))
            if kind != 4:
                required = required and int(component.get("min_values", 1)) > 0
            prefilled = component.get("value") if kind == 4 else None
            hints = "; ".join(str(h) for h in (hint, component.get("placeholder")) if h)
            found.append(
                ModalField(
                    str(component["custom_id"]),
                    label,
                    kind == 4,
                    required,
                    prefilled,
                    hints or None,
                )
            )
        stack.extend((child, label, hint) for child in component.get("components") or [])
        if isinstance(component.get("component"), dict):
            stack.append((component["component"], label, hint))
    return found


def _modal_input(key: str, inputs: Sequence[ModalField]) -> ModalField | None:
    wanted = key.lower()
    for field_ in inputs:
        if wanted in (field_.custom_id.lower(), field_.label.lower().replace(" ", "_")):
            return field_
    return None
