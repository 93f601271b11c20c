"""The one base of restart-proof components: buttons, selects and forms (modals).

A component keeps all it needs in its custom_id, `<prefix>:<key>`. When a member uses one,
the base (`Restartable.run`):

1. parses the key from the custom_id (discord.py rebuilds buttons and selects through
   `DynamicItem`; forms arrive through `bot.ui.forms.FormRouter`);
2. loads its subject through the core: a track, a job, an upload held for the member...;
3. applies the access rule (`bot.jobs.access`): only where the subject was made (its
   server, or its owner's DMs), and there as the component declares: the subject's owner
   only, its owner or a member with Manage Server, or any member of its server;
4. runs the component's action;

and sends every error, expected or not, through the one error handler (`bot.ui.errors`), so
a member never sees "This interaction failed".

A component is a subject (`TrackSubject`, `JobSubject`, `UploadSubject`, or another
`Restartable[...]` with its own `load`) combined with a shape (`RestartProofButton`,
`RestartProofSelect`, `RestartProofForm`), given a `prefix` and an `act`:

    class ExtendButton(TrackSubject, RestartProofButton[Track], prefix="track:extend"):
        label = "Extend"

        async def act(self, interaction, track: Track) -> None: ...

Its cog registers it when it loads (`bot.ui.feature.FeatureCog.components`).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import discord

from bot.errors import UserFacingError
from bot.jobs.access import Access, in_its_place, may_act
from bot.jobs.models import Requester
from bot.storage import Job, Track
from bot.ui.application import Application, app_of, requester_of
from bot.ui.errors import report_error
from bot.ui.forms import form_values
from bot.ui.uploads import HeldUpload

# A form opened but never submitted is dropped from discord.py's memory after this long; its
# submission is routed by custom_id anyway, so a later one still works.
FORM_MEMORY_SECONDS = 15 * 60.0
# Matches no custom_id: the template of the abstract bases below.
NEVER = r"(?!)"
ELSEWHERE = "This was made in another server (or in someone's DMs); it can be used only there."


class Owned(Protocol):
    """A subject's owner and the server it belongs to (None: made in DMs)."""

    @property
    def user_id(self) -> int: ...

    @property
    def guild_id(self) -> int | None: ...


SubjectT = TypeVar("SubjectT", bound=Owned)


class Restartable(Generic[SubjectT]):
    """What every restart-proof component does when a member uses it."""

    KEY: ClassVar[str] = r"\d+"
    """The regular expression of the key part of the custom_id ("": the component has none)."""
    access: ClassVar[Access] = Access.MEMBER
    """Who besides the subject's owner may use the component."""
    refusal: ClassVar[str] = "This is not yours to use."
    """What a member whom `access` refuses is told."""

    key: str

    def authorise(self, actor: Requester, subject: SubjectT) -> None:
        """Refuse, saying why, unless `actor` may use this component on `subject` here."""
        owner, guild = subject.user_id, subject.guild_id
        if not in_its_place(actor, owner_id=owner, guild_id=guild):
            raise UserFacingError(ELSEWHERE)
        if not may_act(self.access, actor, owner_id=owner, guild_id=guild):
            raise UserFacingError(self.refusal)

    @abstractmethod
    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> SubjectT:
        """The subject the key names, through the core; a `UserFacingError` when it is gone."""

    @abstractmethod
    async def act(self, interaction: discord.Interaction[Any], subject: SubjectT) -> None:
        """What the component does, once the member may."""

    async def run(self, interaction: discord.Interaction[Any]) -> None:
        """Load, authorise and act; every error goes to the error handler."""
        try:
            subject = await self.load(app_of(interaction), interaction)
            self.authorise(requester_of(interaction), subject)
            await self.act(interaction, subject)
        except Exception as error:
            await report_error(interaction, error)


# --- subjects ---------------------------------------------------------------------------------


class TrackSubject(Restartable[Track]):
    """A component about one track: the key is its id."""

    refusal = "This track belongs to someone else's private history."

    @property
    def track_id(self) -> int:
        return int(self.key)

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> Track:
        return await app.services.library.track(self.track_id)


class JobSubject(Restartable[Job]):
    """A component about one job: the key is its id."""

    @property
    def job_id(self) -> int:
        return int(self.key)

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> Job:
        job = await app.services.jobs.find(self.job_id)
        if job is None:
            raise UserFacingError("This job has already ended.")
        return job


class MemberSubject(Restartable[Requester]):
    """A component with no subject but the member using it (its key is empty): a form that
    starts something new, a button on a card anyone may use."""

    KEY = ""

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> Requester:
        return requester_of(interaction)


class UploadSubject(Restartable[HeldUpload]):
    """A component about an upload a member picked through a message menu: the key is the
    upload's key in `bot.ui.uploads.HeldUploads`."""

    KEY = r"[0-9a-f]{16}"
    access = Access.REQUESTER
    refusal = "Only the member who picked this file can go on with it."

    async def load(self, app: Application, interaction: discord.Interaction[Any]) -> HeldUpload:
        return app.uploads.get(self.key)


# --- shapes -----------------------------------------------------------------------------------


def _template(cls: type[Restartable[Any]], prefix: str | None) -> str:
    if prefix is None:
        return NEVER
    if not cls.KEY:
        return rf"{re.escape(prefix)}(?P<key>)"
    return rf"{re.escape(prefix)}:(?P<key>{cls.KEY})"


def custom_id(prefix: str, key: str | int) -> str:
    """`<prefix>:<key>`, or the prefix alone for a component with no key."""
    return f"{prefix}:{key}" if str(key) else prefix


class _RestartProofItem(Restartable[SubjectT]):
    """What buttons and selects share: a template made from the prefix, how discord.py
    rebuilds one from a click, and a callback that runs the base."""

    prefix: ClassVar[str]

    def __init_subclass__(cls, *, prefix: str | None = None, **kwargs: Any) -> None:
        # The template is for DynamicItem, which follows this class in every shape's bases.
        super().__init_subclass__(template=_template(cls, prefix), **kwargs)  # type: ignore[call-arg]
        if prefix is not None:
            cls.prefix = prefix

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        # Each shape's __init__ takes the key.
        return cls(match["key"])  # type: ignore[call-arg]

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await self.run(interaction)


class RestartProofButton(
    _RestartProofItem[SubjectT], discord.ui.DynamicItem[discord.ui.Button[Any]]
):
    """A button whose custom_id is `<prefix>:<key>`; set `label`, `emoji` and `style`."""

    label: ClassVar[str]
    emoji: ClassVar[str | None] = None
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary

    def __init__(self, key: str | int) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.label,
                emoji=self.emoji,
                style=self.style,
                custom_id=custom_id(self.prefix, key),
            )
        )
        self.key = str(key)


class RestartProofSelect(
    _RestartProofItem[SubjectT], discord.ui.DynamicItem[discord.ui.Select[Any]]
):
    """A select menu whose custom_id is `<prefix>:<key>`; set `placeholder` and `options`."""

    placeholder: ClassVar[str]
    options: ClassVar[Sequence[discord.SelectOption]]

    def __init__(self, key: str | int) -> None:
        super().__init__(
            discord.ui.Select(
                placeholder=self.placeholder,
                options=list(self.options),
                custom_id=custom_id(self.prefix, key),
            )
        )
        self.key = str(key)

    @property
    def chosen(self) -> list[str]:
        """The values the member picked."""
        return list(self.item.values)


@dataclass(frozen=True, slots=True)
class FormField:
    """One text field of a form."""

    id: str
    label: str
    description: str | None = None
    paragraph: bool = False
    required: bool = True
    max_length: int | None = None
    default: str | None = None

    def label_item(self) -> discord.ui.Label[Any]:
        text_input: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id=self.id,
            style=discord.TextStyle.paragraph if self.paragraph else discord.TextStyle.short,
            required=self.required,
            max_length=self.max_length,
            default=self.default or None,
        )
        return discord.ui.Label(text=self.label, description=self.description, component=text_input)


class RestartProofForm(Restartable[SubjectT]):
    """A form (modal) whose custom_id is `<prefix>:<key>`; its submission is routed by
    `FormRouter`, so it works after a restart. Open one with `modal`; read `values` in `act`."""

    prefix: ClassVar[str]
    title: ClassVar[str]
    template: ClassVar[re.Pattern[str]] = re.compile(NEVER)

    def __init_subclass__(cls, *, prefix: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix is not None:
            cls.prefix = prefix
            cls.template = re.compile(_template(cls, prefix))

    def __init__(self, key: str | int, values: Mapping[str, str] | None = None) -> None:
        self.key = str(key)
        self.values = dict(values or {})

    def value(self, field_id: str) -> str:
        """What the member typed in a field, without surrounding spaces ("" when empty)."""
        return self.values.get(field_id, "").strip()

    @classmethod
    def modal(cls, key: str | int, fields: Sequence[FormField]) -> discord.ui.Modal:
        """The form to send, opened for the subject `key` names."""
        modal = discord.ui.Modal(
            title=cls.title, custom_id=custom_id(cls.prefix, key), timeout=FORM_MEMORY_SECONDS
        )
        for field in fields:
            modal.add_item(field.label_item())
        return modal

    @classmethod
    async def submitted(cls, interaction: discord.Interaction[Any], match: re.Match[str]) -> None:
        await cls(match["key"], form_values(interaction)).run(interaction)
