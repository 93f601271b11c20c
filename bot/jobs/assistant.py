"""The chat assistant: the topic of a question, the prompt that carries a conversation, and the
billed, cooldown-limited call that answers it.

**Topic.** Soundverse's chat takes an `action` (§5.3) with every prompt. A member may choose it
(`/ask topic:`); otherwise it is picked from the question's words (`picked_topic`): the rules
below are tried in this order and the first that matches wins, so "loop the stems" is about
stems and "write a song" is about lyrics:

1. `separate_stems`: stem(s), acapella / a cappella, karaoke, or isolate / separate / split /
   extract / remove together with a part of the sound (vocals, voice, instruments, drums,
   bass, guitar, piano);
2. `loop_audio`: loop, looping, seamless;
3. `extend_music`: extend, extension, lengthen, "make it longer";
4. `auto_complete_music`: autocomplete, or complete / finish together with a music word
   (song, track, beat, tune, melody, music, instrumental, jingle, soundtrack, anthem);
5. `edit_music`: edit, remix, trim, fade, transpose, "speed (it) up", "slow (it) down", or
   change / raise / lower / adjust / shift together with tempo, bpm, pitch or key;
6. `lyric_writing`: lyrics, verse, chorus, rhyme, hook, poem, songwriting, or write /
   writing / wrote together with "song" or "words";
7. `generate_music`: a music word together with make / create / generate / compose /
   produce, or a music word in a request that does not open as a question (what, why,
   how, who, when, where, which, can, could, should, would, is, are, do, does, explain,
   tell): "rainy lofi song about trains";
8. nothing matched: `other` for a new conversation; a follow-up keeps its conversation's
   topic ("slower, with piano" after a song request is still about making music).

Words match whole (case-insensitive); a rule's stem matches its endings (loop, loops, looped).

**Turn window.** The endpoint is stateless, so a follow-up carries the conversation's last turns
inside its prompt (`chat_prompt`), within `CHAT_PROMPT_MAX_CHARS` (1024 characters; §3.16
documents no limit, so the bot keeps to the one documented prompt limit). At most
`MAX_CARRIED_TURNS` earlier turns go along, newest kept, oldest dropped first; in each, the
question is cut to `CARRIED_QUESTION_CHARS` and the answer to `CARRIED_ANSWER_CHARS` (with "…"),
so one long answer does not crowd out the rest. The new question always goes whole; when no
earlier turn fits beside it, it goes alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from bot.config import AssistantSettings
from bot.errors import InvalidInput, UserFacingError
from bot.jobs.access import Access, may_act
from bot.jobs.limits import CallLimiter
from bot.jobs.models import Requester
from bot.jobs.operations import Operation
from bot.jobs.quota import QuotaService
from bot.soundverse import ChatAction, SoundverseClient, UpstreamError, UpstreamTimeout
from bot.soundverse.limits import CHAT_PROMPT_MAX_CHARS, PROMPT_MAX_CHARS
from bot.storage import Conversation, ConversationRepository, NewTurn, Turn
from bot.storage.clock import Clock, SystemClock

QUESTION_MAX_CHARS = CHAT_PROMPT_MAX_CHARS
"""The longest question a member may ask: what the prompt holds with nothing carried."""
MAX_CARRIED_TURNS = 6
CARRIED_QUESTION_CHARS = 200
CARRIED_ANSWER_CHARS = 300
HISTORY_OPENING = "Earlier in this conversation:\n"
NEW_MESSAGE = "\nReply to the user's new message:\nUser: "

# --- the topic --------------------------------------------------------------------------------

_MUSIC_WORD = r"\b(?:songs?|tracks?|beats?|tunes?|melod(?:y|ies)|music|instrumentals?|jingles?"
_MUSIC_WORD += r"|soundtracks?|anthems?)\b"
_SOUND_PART = r"\b(?:vocals?|voices?|instruments?|instrumentals?|drums?|bass|guitars?|pianos?)\b"
_CREATE_WORD = r"\b(?:make|making|made|create\w*|generat\w*|compos\w*|produc\w*)\b"
_QUESTION_OPENING = (
    r"^\W*(?:what|why|how|who|when|where|which|can|could|should|would|is|are|do|does"
    r"|explain|tell)\b"
)


def _words(*stems: str) -> str:
    return r"\b(?:" + "|".join(stems) + r")\b"


def _both(first: str, second: str) -> str:
    return rf"(?=.*{first})(?=.*{second})"


_TOPIC_RULES: tuple[tuple[ChatAction, re.Pattern[str]], ...] = tuple(
    (action, re.compile(pattern, re.IGNORECASE | re.DOTALL))
    for action, pattern in (
        (
            ChatAction.SEPARATE_STEMS,
            _words(r"stems?", r"acapp?ellas?", r"a cappella", r"karaoke")
            + "|"
            + _both(
                _words(r"isolat\w*", r"separat\w*", r"split\w*", r"extract\w*", r"remov\w*"),
                _SOUND_PART,
            ),
        ),
        (ChatAction.LOOP_AUDIO, _words(r"loop\w*", r"seamless\w*")),
        (
            ChatAction.EXTEND_MUSIC,
            _words(r"extend\w*", r"extension", r"lengthen\w*", r"make it longer"),
        ),
        (
            ChatAction.AUTO_COMPLETE_MUSIC,
            _words(r"auto-?complet\w*")
            + "|"
            + _both(_words(r"complet\w*", r"finish\w*"), _MUSIC_WORD),
        ),
        (
            ChatAction.EDIT_MUSIC,
            _words(
                r"edit\w*",
                r"remix\w*",
                r"trim\w*",
                r"fade\w*",
                r"transpos\w*",
                r"speed (?:it )?up",
                r"slow (?:it )?down",
            )
            + "|"
            + _both(
                _words(r"chang\w*", r"rais\w*", r"lower\w*", r"adjust\w*", r"shift\w*"),
                _words(r"tempo", r"bpm", r"pitch", r"key"),
            ),
        ),
        (
            ChatAction.LYRIC_WRITING,
            _words(r"lyric\w*", r"verses?", r"chorus\w*", r"rhym\w*", r"hooks?", r"poems?")
            + "|"
            + _words(r"songwrit\w*")
            + "|"
            + _both(_words(r"write", r"writing", r"wrote"), _words(r"songs?", r"words")),
        ),
        (ChatAction.GENERATE_MUSIC, _both(_CREATE_WORD, _MUSIC_WORD)),
    )
)
_PLAIN_REQUEST = (
    re.compile(_MUSIC_WORD, re.IGNORECASE),
    re.compile(_QUESTION_OPENING, re.IGNORECASE),
)


def picked_topic(text: str) -> ChatAction | None:
    """The topic the words of `text` point to (the rules of the module docstring), or None."""
    for action, rule in _TOPIC_RULES:
        if rule.search(text):
            return action
    music_word, question = _PLAIN_REQUEST
    if music_word.search(text) and not question.search(text):
        return ChatAction.GENERATE_MUSIC
    return None


class TopicSource(StrEnum):
    """How a turn's topic was decided."""

    CHOSEN = "chosen"  # the member chose it
    PICKED = "picked"  # from the question's words
    KEPT = "kept"  # a follow-up whose words point nowhere keeps its conversation's topic
    DEFAULT = "default"  # nothing to go by: general conversation


@dataclass(frozen=True, slots=True)
class Topic:
    """A turn's topic and how it was decided."""

    action: ChatAction
    source: TopicSource


def topic_of(
    question: str, *, chosen: ChatAction | None = None, previous: ChatAction | None = None
) -> Topic:
    """The topic of `question`: the member's choice, else the words' (`picked_topic`), else the
    conversation's `previous` topic, else `other`."""
    if chosen is not None:
        return Topic(chosen, TopicSource.CHOSEN)
    picked = picked_topic(question)
    if picked is not None:
        return Topic(picked, TopicSource.PICKED)
    if previous is not None and previous is not ChatAction.OTHER:
        return Topic(previous, TopicSource.KEPT)
    return Topic(ChatAction.OTHER, TopicSource.DEFAULT)


# --- the prompt -------------------------------------------------------------------------------


class Exchange(Protocol):
    """An earlier turn as the prompt carries it."""

    @property
    def question(self) -> str: ...

    @property
    def answer(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ChatPrompt:
    """The prompt sent for a question, and how many earlier turns it carries."""

    text: str
    carried: int


def _clipped(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def carried_turn(exchange: Exchange) -> str:
    """One earlier turn as the prompt carries it (each side on one line, cut to its share)."""
    question = _clipped(exchange.question, CARRIED_QUESTION_CHARS)
    answer = _clipped(exchange.answer, CARRIED_ANSWER_CHARS)
    return f"User: {question}\nAssistant: {answer}\n"


def chat_prompt(
    question: str, earlier: Sequence[Exchange], limit: int = CHAT_PROMPT_MAX_CHARS
) -> ChatPrompt:
    """The prompt for `question` after the `earlier` turns (oldest first): as many of the last
    `MAX_CARRIED_TURNS` as fit within `limit` with the question, oldest dropped first."""
    question = question.strip()
    blocks: list[str] = []
    size = len(HISTORY_OPENING) + len(NEW_MESSAGE) + len(question)
    for exchange in reversed(earlier[-MAX_CARRIED_TURNS:]):
        block = carried_turn(exchange)
        if size + len(block) > limit:
            break
        blocks.insert(0, block)
        size += len(block)
    if not blocks:
        return ChatPrompt(question, 0)
    return ChatPrompt(HISTORY_OPENING + "".join(blocks) + NEW_MESSAGE + question, len(blocks))


def checked_question(text: str) -> str:
    """`text` without surrounding spaces, refused when empty or too long for a prompt."""
    question = text.strip()
    if not question:
        raise InvalidInput("The question is empty: ask the assistant something.")
    if len(question) > QUESTION_MAX_CHARS:
        raise InvalidInput(
            f"A question is at most {QUESTION_MAX_CHARS} characters (got {len(question)})."
        )
    return question


# --- from talk to music -----------------------------------------------------------------------

NEXT_STEPS: dict[ChatAction, Operation] = {
    ChatAction.GENERATE_MUSIC: Operation.SONG,
    ChatAction.EXTEND_MUSIC: Operation.EXTEND_SONG,
    ChatAction.LOOP_AUDIO: Operation.LOOP,
    ChatAction.SEPARATE_STEMS: Operation.STEMS,
    ChatAction.LYRIC_WRITING: Operation.LYRICS,
}
"""The work an answer on each generation topic leads to (the other topics lead to none)."""


def next_step_of(action: str) -> Operation | None:
    """The operation an answer on topic `action` leads to, if any."""
    try:
        return NEXT_STEPS.get(ChatAction(action))
    except ValueError:
        return None


def topic_run(turns: Sequence[Turn]) -> list[Turn]:
    """The last turns of `turns` (oldest first) that share the topic of the last one."""
    run: list[Turn] = []
    for turn in reversed(turns):
        if run and turn.action != run[0].action:
            break
        run.insert(0, turn)
    return run


def request_prompt(questions: Sequence[str], limit: int = PROMPT_MAX_CHARS) -> str:
    """What the member asked for, as the prompt of a new piece of work: their `questions`
    (oldest first), one per line, newest kept and oldest dropped to stay within `limit`."""
    lines: list[str] = []
    size = -1
    for question in reversed(questions):
        line = " ".join(question.split())
        if size + 1 + len(line) > limit:
            if not lines:
                lines.append(_clipped(line, limit))
            break
        lines.insert(0, line)
        size += 1 + len(line)
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class NextStep:
    """The work an answer leads to, with the prompt the conversation suggests for it."""

    operation: Operation
    prompt: str


# --- the service ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    """An answered question: the stored turn, its topic, and what was left out of its prompt."""

    turn: Turn
    topic: Topic
    left_out: int
    """Earlier turns of the conversation that were not sent along (the prompt is full)."""

    @property
    def next_step(self) -> Operation | None:
        """The work the answer leads to, if its topic is a generation."""
        return NEXT_STEPS.get(self.topic.action)


class ChatAssistant:
    """Answers members' questions through Soundverse's chat, one conversation at a time: billed
    as `chat`, held to the quick-call limits, and kept so a conversation can go on."""

    def __init__(
        self,
        client: SoundverseClient,
        quota: QuotaService,
        limiter: CallLimiter,
        conversations: ConversationRepository,
        settings: AssistantSettings,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._quota = quota
        self._limiter = limiter
        self._conversations = conversations
        self._continue_within = timedelta(seconds=settings.continue_within)
        self._clock = clock or SystemClock()

    async def ask(
        self,
        question: str,
        asker: Requester,
        channel_id: int,
        *,
        conversation_id: int | None = None,
        topic: ChatAction | None = None,
    ) -> ChatAnswer:
        """Answer `question`, in conversation `conversation_id` (None: a new one) on `topic`
        (None: decided by `topic_of`); the turn is stored once answered. Refused when the
        member asks again too soon or is out of quota; refunded when Soundverse fails."""
        question = checked_question(question)
        earlier: list[Turn] = []
        if conversation_id is not None:
            earlier = await self._conversations.latest_turns(conversation_id, MAX_CARRIED_TURNS)
        previous = ChatAction(earlier[-1].action) if earlier else None
        chosen = topic_of(question, chosen=topic, previous=previous)
        prompt = chat_prompt(question, earlier)
        async with self._limiter.call(asker.user_id):
            answer = await self._quota.billed(
                Operation.CHAT, asker, lambda: self._answer(prompt.text, chosen.action)
            )
        turn = await self._conversations.add_turn(
            conversation_id,
            NewTurn(
                user_id=asker.user_id,
                guild_id=asker.guild_id,
                channel_id=channel_id,
                question=question,
                action=chosen.action.value,
                answer=answer,
                carried=prompt.carried,
            ),
        )
        return ChatAnswer(turn, chosen, left_out=max(0, turn.number - 1 - prompt.carried))

    async def _answer(self, prompt: str, action: ChatAction) -> str:
        try:
            reply = await self._client.chat(prompt, action)
        except (UpstreamError, UpstreamTimeout) as error:
            raise UserFacingError(
                f"Soundverse could not answer ({error}). Try again in a moment."
            ) from error
        if not reply.text.strip():
            raise UserFacingError("Soundverse sent an empty answer; try asking another way.")
        return reply.text.strip()

    async def answered_in(self, turn_id: int, message_id: int) -> None:
        """The answer of turn `turn_id` is shown by message `message_id` (replies to it go on
        with its conversation)."""
        await self._conversations.record_message(turn_id, message_id)

    async def conversation(self, conversation_id: int) -> Conversation:
        """The conversation; refused, saying so, when it was deleted."""
        found = await self._conversations.find(conversation_id)
        if found is None:
            raise UserFacingError("This conversation was deleted; start a new one with /ask.")
        return found

    async def turn(self, turn_id: int) -> Turn:
        """The turn; refused, saying so, when its conversation was deleted."""
        found = await self._conversations.turn(turn_id)
        if found is None:
            raise UserFacingError("This conversation was deleted; start a new one with /ask.")
        return found

    async def conversation_to_continue(
        self, asker: Requester, channel_id: int, replied_to: int | None
    ) -> int | None:
        """Which conversation a message to the bot goes on with: the one whose answer it replies
        to (where the member may continue it), else the member's latest in this channel if they
        asked in it within `ASSISTANT_CONTINUE_WITHIN`; None: a new one."""
        if replied_to is not None:
            shown = await self._conversations.turn_shown_in(replied_to)
            if shown is not None:
                owner = await self._conversations.find(shown.conversation_id)
                if owner is not None and may_act(
                    Access.MEMBER, asker, owner_id=owner.user_id, guild_id=owner.guild_id
                ):
                    return owner.id
        since = self._clock.now() - self._continue_within
        latest = await self._conversations.latest_asked_by(asker.user_id, channel_id, since)
        return None if latest is None else latest.conversation_id

    async def next_step(self, turn_id: int) -> NextStep:
        """The work turn `turn_id`'s answer leads to, with a prompt made of what the member asked
        on that topic (the turn's question and the ones just before it on the same topic)."""
        turn = await self.turn(turn_id)
        operation = next_step_of(turn.action)
        if operation is None:
            raise UserFacingError("This answer does not lead to a song or another piece of work.")
        earlier = await self._conversations.latest_turns(
            turn.conversation_id, MAX_CARRIED_TURNS, up_to=turn.number
        )
        questions = [each.question for each in topic_run(earlier)]
        return NextStep(operation, request_prompt(questions))
