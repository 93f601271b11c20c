"""Request body checks that answer like FastAPI: 422 with a list of `{loc, msg, type}` errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

ErrorEntry = dict[str, Any]


class FieldKind(StrEnum):
    """The JSON type a field must have."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    FLAG = "flag"
    URL = "url"
    OBJECT = "object"
    LIST = "list"


@dataclass(frozen=True)
class Field:
    """One body field and its constraints; `aliases` are other accepted spellings."""

    name: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    max_length: int | None = None
    non_empty: bool = False
    choices: tuple[str, ...] | tuple[int, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every key under which the field may arrive."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class AtLeastOne:
    """A rule that one of several optional fields must be present."""

    names: tuple[str, ...]
    message: str


class ValidationFailed(Exception):
    """The request does not satisfy the endpoint's schema."""

    def __init__(self, errors: list[ErrorEntry]) -> None:
        super().__init__(errors)
        self.errors = errors


def field_error(
    loc: Sequence[str | int], msg: str, kind: str, given: object, **ctx: object
) -> ErrorEntry:
    """One FastAPI-style error entry."""
    entry: ErrorEntry = {"type": kind, "loc": list(loc), "msg": msg, "input": given}
    if ctx:
        entry["ctx"] = ctx
    return entry


class Body:
    """A validated request body, keyed by the fields' canonical names."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = dict(values)

    def has(self, name: str) -> bool:
        """Whether the field was given."""
        return name in self._values

    def text(self, name: str, default: str | None = None) -> str | None:
        """A text or URL field."""
        value = self._values.get(name)
        return value if isinstance(value, str) else default

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer field."""
        value = self._values.get(name)
        return value if isinstance(value, int) else default

    def as_dict(self) -> dict[str, object]:
        """Every given field, canonical names as keys."""
        return dict(self._values)


def decode_json(raw: bytes) -> object:
    """The JSON document in a request body, or a 422 like FastAPI's for bad JSON."""
    if not raw.strip():
        raise ValidationFailed([field_error(["body"], "Field required", "missing", None)])
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        position = getattr(error, "pos", 0)
        raise ValidationFailed(
            [
                field_error(
                    ["body", position], "JSON decode error", "json_invalid", {}, error=str(error)
                )
            ]
        ) from None


def validate(document: object, fields: Sequence[Field], rules: Sequence[AtLeastOne] = ()) -> Body:
    """Check a decoded body against `fields` and `rules`; all problems are reported at once."""
    if not isinstance(document, dict):
        raise ValidationFailed(
            [
                field_error(
                    ["body"],
                    "Input should be a valid dictionary or object to extract fields from",
                    "model_attributes_type",
                    document,
                )
            ]
        )
    errors: list[ErrorEntry] = []
    values: dict[str, object] = {}
    for spec in fields:
        key = next((k for k in spec.spellings if document.get(k) is not None), None)
        if key is None:
            if spec.required:
                errors.append(
                    field_error(["body", spec.name], "Field required", "missing", document)
                )
            continue
        value, problem = _check(spec, key, document[key])
        if problem is None:
            values[spec.name] = value
        else:
            errors.append(problem)
    for rule in rules:
        if not any(name in values for name in rule.names):
            errors.append(
                field_error(["body"], f"Value error, {rule.message}", "value_error", document)
            )
    if errors:
        raise ValidationFailed(errors)
    return Body(values)


def _check(spec: Field, key: str, value: object) -> tuple[object, ErrorEntry | None]:
    """The converted value, or the first error found in it."""
    loc = ["body", key]
    converted, problem = _convert(spec.kind, loc, value)
    if problem is not None:
        return None, problem
    return converted, _constraint_error(spec, loc, converted)


_INVALID = object()


def _as_text(value: object) -> object:
    return value if isinstance(value, str) else _INVALID


def _as_integer(value: object) -> object:
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return _INVALID


def _as_number(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return _INVALID


def _of_type(kind: type) -> Callable[[object], object]:
    def check(value: object) -> object:
        return value if isinstance(value, kind) else _INVALID

    return check


# How each kind is coerced the way pydantic's lax mode does, and what its refusal says.
_CONVERTERS: dict[FieldKind, tuple[Callable[[object], object], str, str]] = {
    FieldKind.TEXT: (_as_text, "Input should be a valid string", "string_type"),
    FieldKind.URL: (_as_text, "Input should be a valid string", "string_type"),
    FieldKind.INTEGER: (_as_integer, "Input should be a valid integer", "int_type"),
    FieldKind.NUMBER: (_as_number, "Input should be a valid number", "float_type"),
    FieldKind.FLAG: (_of_type(bool), "Input should be a valid boolean", "bool_type"),
    FieldKind.OBJECT: (_of_type(dict), "Input should be a valid dictionary", "dict_type"),
    FieldKind.LIST: (_of_type(list), "Input should be a valid list", "list_type"),
}


def _convert(kind: FieldKind, loc: list[str], value: object) -> tuple[object, ErrorEntry | None]:
    """Coerce the JSON value to the field's type the way pydantic's lax mode does."""
    convert, message, error_type = _CONVERTERS[kind]
    converted = convert(value)
    if converted is _INVALID:
        return None, field_error(loc, message, error_type, value)
    if kind is FieldKind.URL:
        assert isinstance(converted, str)
        return converted, _url_error(loc, converted)
    return converted, None


def _url_error(loc: list[str], value: str) -> ErrorEntry | None:
    """An error unless `value` is an absolute http(s) URL."""
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        return field_error(
            loc, "Input should be a valid URL, relative URL without a base", "url_parsing", value
        )
    if parts.scheme not in ("http", "https"):
        return field_error(loc, "URL scheme should be 'http' or 'https'", "url_scheme", value)
    return None


def _constraint_error(spec: Field, loc: list[str], value: object) -> ErrorEntry | None:
    """The first constraint of `spec` that `value` breaks, if any."""
    if isinstance(value, str):
        if spec.non_empty and not value.strip():
            return field_error(
                loc,
                "String should have at least 1 character",
                "string_too_short",
                value,
                min_length=1,
            )
        if spec.max_length is not None and len(value) > spec.max_length:
            return field_error(
                loc,
                f"String should have at most {spec.max_length} characters",
                "string_too_long",
                value,
                max_length=spec.max_length,
            )
    if spec.choices is not None and value not in spec.choices:
        return field_error(
            loc,
            f"Input should be {_one_of(spec.choices)}",
            "literal_error",
            value,
            expected=_one_of(spec.choices),
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _range_error(spec, loc, value)
    return None


def _range_error(spec: Field, loc: list[str], value: float) -> ErrorEntry | None:
    """An error when a number is outside the field's bounds."""
    if spec.positive and value <= 0:
        return field_error(loc, "Input should be greater than 0", "greater_than", value, gt=0)
    if spec.minimum is not None and value < spec.minimum:
        bound = _plain(spec.minimum)
        return field_error(
            loc,
            f"Input should be greater than or equal to {bound}",
            "greater_than_equal",
            value,
            ge=bound,
        )
    if spec.maximum is not None and value > spec.maximum:
        bound = _plain(spec.maximum)
        return field_error(
            loc,
            f"Input should be less than or equal to {bound}",
            "less_than_equal",
            value,
            le=bound,
        )
    return None


def _plain(number: float) -> int | float:
    """`8000.0` as `8000`, for messages."""
    return int(number) if float(number).is_integer() else number


def _one_of(choices: Sequence[object]) -> str:
    """Pydantic's wording for a set of allowed values: `'a', 'b' or 'c'`."""
    shown = [repr(c) if isinstance(c, str) else str(c) for c in choices]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
