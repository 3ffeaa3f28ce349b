"""The manifest's field types, shared by validation messages and the condition compiler.

A field's type is a :class:`FieldType`, looked up by dotted path: the expression compiler checks
conditions against the table and :func:`explain_errors` words validation errors with it. The
manifest's own table is generated data (:mod:`policylint._manifest_spec`); :func:`describe_model`
builds one from a pydantic model whose annotations carry :class:`Kind` markers (plugins' ``ext``
tables, the configuration file). Nothing here imports pydantic at import time: ``policylint
check`` does not need it. The annotated value types (``Fraction``, ``Count``, ``Volume``,
``Text``) live with the models, in :mod:`policylint.models`, and are still importable from here.
"""

from __future__ import annotations

import datetime
import decimal
import difflib
import functools
import math
import types
import typing
import unicodedata
from dataclasses import dataclass
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, Union

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from policylint.models import Count as Count
    from policylint.models import Fraction as Fraction
    from policylint.models import Text as Text
    from policylint.models import Volume as Volume
else:

    def __getattr__(name: str) -> Any:
        """The annotated value types, from :mod:`policylint.models` on first use (which imports
        pydantic): ``from policylint.schema import Count`` keeps working."""
        if name in ("Count", "Fraction", "Text", "Volume"):
            from policylint import models

            return getattr(models, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: The largest count or volume the format accepts (the spec's bound).
MAX_QUANTITY = 10**12


class _Absent:
    """The value of a key that is not in the manifest and has no default."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Kind:
    """Marks an annotation with the user-facing kind of value it holds."""

    name: str


class FieldType(NamedTuple):
    """What a field holds, as policies and error messages see it."""

    kind: str  # table fraction count number bool string text enum list date any
    values: tuple[str, ...] = ()
    item: FieldType | None = None
    default: Any = ABSENT

    def describe(self) -> str:
        """The expectation, worded for an error message."""
        if self.kind == "enum":
            return "one of " + ", ".join(repr(v) for v in self.values)
        if self.kind == "list" and self.item is not None:
            return "an array of tables" if self.item.kind == "table" else f"a list of {self.item.describe()}"
        return _EXPECTATIONS.get(self.kind, self.kind)


_EXPECTATIONS = {
    "table": "a table",
    "fraction": "a fraction from 0 to 1",
    "count": "a whole number from 0 to 10^12",
    "number": "a number from 0 to 10^12",
    "bool": "true or false",
    "string": "a string",
    "text": "a non-blank string",
    "date": "a TOML local date such as 2027-03-31",
    "integer": "an integer",
    "rule-pattern": "a rule id or prefix such as DST or DST001",
    "waiver-days": "a whole number of days from 0 to 36500",
    "any": "a value",
}


#: Letters that render as nothing (Hangul and Mongolian fillers, the blank Braille pattern).
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u180e\u2800\u3164\uffa0")


def is_visible(char: str) -> bool:
    """A character that shows on screen: not a space, a control, a format mark (U+200B,
    U+2060, U+FEFF...), a combining mark on its own, or a filler letter that renders blank."""
    return not char.isspace() and char not in _INVISIBLE_LETTERS and unicodedata.category(char)[0] not in "CZM"


def has_visible(text: str) -> bool:
    """Whether ``text`` has a character that shows (:func:`is_visible`), without a call per
    character for the usual case: printable ASCII shows unless it is all spaces."""
    if text.isascii() and text.isprintable():
        return text != "" and not text.isspace()
    return any(map(is_visible, text))


def _non_blank(value: str) -> str:
    """The ``Text`` type's validator (the generated validation table names it ``text``)."""
    if not has_visible(value):
        raise ValueError("blank")
    return value


def describe_model(model: type[BaseModel], prefix: str = "") -> dict[str, FieldType]:
    """Flatten a model into ``{dotted path: FieldType}``, tables included.

    pydantic is imported only by the callers that hold a model (it is then loaded already).
    """
    table: dict[str, FieldType] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{info.alias or name}"
        field_type = _field_type(info.annotation, info.metadata)
        default = ABSENT if info.is_required() or info.default is None else info.default
        if info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
        table[path] = FieldType(field_type.kind, field_type.values, field_type.item, default)
        nested = _model_of(info.annotation)
        if nested is not None:  # a sub-table, or an array of tables (indexes are not in paths)
            table.update(describe_model(nested, prefix=f"{path}."))
    return table


def _model_of(annotation: Any) -> type[BaseModel] | None:
    from pydantic import BaseModel

    for candidate in _union_members(annotation):
        if typing.get_origin(candidate) is list:
            (candidate,) = typing.get_args(candidate)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _union_members(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    return (annotation,)


def _field_type(annotation: Any, metadata: list[Any]) -> FieldType:
    from pydantic import BaseModel

    for marker in metadata:
        if isinstance(marker, Kind):
            return FieldType(marker.name)
    (annotation,) = _union_members(annotation)[:1]
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *extra = typing.get_args(annotation)
        return _field_type(base, list(extra))
    if origin is Literal:
        values = typing.get_args(annotation)
        if all(type(v) is int for v in values):  # schema_version: a number, not the string "1"
            return FieldType("integer")
        return FieldType("enum", tuple(str(v) for v in values))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return FieldType("list", item=_field_type(item, []))
    if origin is dict:  # a table of free keys: its values' type is the item
        _, item = typing.get_args(annotation)
        return FieldType("table", item=_field_type(item, []))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return FieldType("table")
    simple = {bool: "bool", int: "integer", float: "number", str: "string", datetime.date: "date"}
    return FieldType(simple.get(annotation, "any"))


class Problem(NamedTuple):
    """One validation problem as a user would fix it: the key, what is wrong, where to point."""

    key_path: tuple[str | int, ...]
    message: str
    #: Where to locate it when not at the key itself (a missing key: its table).
    at: tuple[str | int, ...] | None = None


class RawError(NamedTuple):
    """One validation error, as pydantic reports it and :func:`explain_errors` reads it: where
    (``loc``), what failed (``type``: only ``"missing"`` and ``"extra_forbidden"`` are told apart
    from a bad value), the value (``input``), and pydantic's message, used only for a value no
    field type describes (a validator of our own may leave it empty)."""

    loc: tuple[str | int, ...]
    type: str
    input: Any
    msg: str = ""


def explain(exc: ValidationError, fields: Mapping[str, FieldType]) -> list[Problem]:
    """pydantic's errors in our words (see :func:`explain_errors`)."""
    errors = exc.errors(include_url=False)
    return explain_errors((RawError(tuple(e["loc"]), e["type"], e.get("input"), e["msg"]) for e in errors), fields)


def keys_by_table(fields: Iterable[str]) -> dict[str, list[str]]:
    """Each table's keys (``""`` for the root), in the order of ``fields``: what an unknown key's
    message suggests, made once for a set of fields rather than for every unknown key."""
    tables: dict[str, list[str]] = {}
    for path in fields:
        parent, _, key = path.rpartition(".")
        tables.setdefault(parent, []).append(key)
    return tables


def explain_errors(
    errors: Iterable[RawError], fields: Mapping[str, FieldType], table_keys: Mapping[str, list[str]] | None = None
) -> list[Problem]:
    """Validation errors in our words, one per problem (a bad list element at the list's key).

    ``table_keys`` is :func:`keys_by_table` of ``fields`` when the caller keeps it (made here
    otherwise, on the first unknown key)."""
    problems: list[Problem] = []
    seen: set[tuple[Any, ...]] = set()
    for loc, error_type, value, pydantic_message in errors:
        field_path = ".".join(str(p) for p in loc if not isinstance(p, int))
        if error_type == "extra_forbidden":
            if table_keys is None:
                table_keys = keys_by_table(fields)
            known = table_keys.get(field_path.rpartition(".")[0], [])
            what = "table" if isinstance(value, dict) else "key"
            hint = did_you_mean(str(loc[-1]), known) or (f" (expected one of: {', '.join(sorted(known))})" if known else "")
            message = f"unknown {what}{hint}"
        elif error_type == "missing":
            what = "table" if fields.get(field_path, FieldType("any")).kind == "table" else "key"
            message = f"required {what} is missing"
        else:
            spec = fields.get(field_path)
            if spec is None:  # a value in a table of free keys is described by the table
                parent_spec = fields.get(field_path.rpartition(".")[0])
                spec = parent_spec.item if parent_spec is not None else None
            if spec is None:
                message = pydantic_message
            elif spec.kind == "list" and loc and isinstance(loc[-1], int) and spec.item is not None:
                message = f"item {loc[-1] + 1}: {value_problem(spec.item, value)}"
            else:
                message = value_problem(spec, value)
        key_path = loc
        if key_path and isinstance(key_path[-1], int) and error_type != "missing":
            key_path = key_path[:-1]  # a bad list element is reported at the list's key
        if (key_path, message) in seen:
            continue
        seen.add((key_path, message))
        problems.append(Problem(key_path, message, key_path[:-1] if error_type == "missing" else None))
    return problems


def value_problem(field_type: FieldType, value: Any) -> str:
    """Why ``value`` is not acceptable for ``field_type``, as a user would read it."""
    shown = show(value)
    kind = field_type.kind
    if kind == "text" and isinstance(value, str):
        return "must contain a visible character (spaces and invisible characters do not count)"
    if kind == "fraction" and is_number(value) and _finite(value) and 1 < value <= 100:
        return f"score {shown} is not a fraction; did you mean {_as_fraction(value)}?"
    if kind in ("fraction", "number", "count") and is_number(value):
        if not _finite(value):
            return f"expected {field_type.describe()}, got {shown} (numbers must be finite)"
        if kind == "count" and isinstance(value, float):
            return f"expected {field_type.describe()}, got the float {shown} (write it without a decimal point)"
        return f"expected {field_type.describe()}, got {shown} (out of range)"
    if kind == "enum" and isinstance(value, str):
        return f"expected {field_type.describe()}, got {shown}{did_you_mean(value, field_type.values)}"
    if kind == "date" and isinstance(value, datetime.datetime):
        return f"expected {field_type.describe()}, got the date-time {value.isoformat()}"
    return f"expected {field_type.describe()}, got {type_name(value)} {shown}".rstrip()


def is_number(value: Any) -> bool:
    """A TOML integer or float (booleans are never numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: float) -> bool:
    return isinstance(value, int) or math.isfinite(value)


def _as_fraction(value: float) -> str:
    return f"{value / 100:.6f}".rstrip("0").rstrip(".") if value != 100 else "1.0"


def type_name(value: Any) -> str:
    """TOML's name for a Python value's type."""
    if isinstance(value, bool):
        return "the boolean"
    if isinstance(value, int):
        return "the integer"
    if isinstance(value, float):
        return "the float"
    if isinstance(value, str):
        return "the string"
    if isinstance(value, datetime.datetime):
        return "the date-time"
    if isinstance(value, datetime.date):
        return "the date"
    if isinstance(value, datetime.time):
        return "the time"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "the value"


def number_text(value: float, grouping: bool = False) -> str:
    """A finite float as people write it: never in exponent form, at most 6 significant digits
    below 1 and 2 decimals above (``33,333.33``, ``0.021``, ``0.00001``), no trailing zeros."""
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e18:
        return f"{int(value):,}" if grouping else str(int(value))
    if abs(value) >= 1:
        text = f"{value:,.2f}" if grouping else f"{value:.2f}"
    else:
        text = format(decimal.Decimal(f"{value:.6g}"), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def show(value: Any) -> str:
    """A value as TOML would write it, shortened for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int) and value.bit_length() > 50:
        # Shown by size: str() of a long enough integer raises (Python's digit limit).
        return f"a {'negative ' if value < 0 else ''}{value.bit_length()}-bit integer"
    if isinstance(value, float):
        # A whole float keeps its point (600.0): it is how TOML tells it from the integer.
        return repr(value) if value.is_integer() and abs(value) < 1e16 else number_text(value)
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def did_you_mean(word: str, candidates: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string.

    Case is ignored when looking (``fmt001`` suggests ``FMT001``) but kept in the suggestion.
    """
    return _closest(word, tuple(candidates))


@functools.lru_cache(maxsize=1024)
def _closest(word: str, candidates: tuple[str, ...]) -> str:
    """Cached: the same typo repeats across the manifests of a monorepo."""
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(candidate.casefold(), candidate)
    folded = word.casefold()
    if folded in by_folded and by_folded[folded] != word:
        return f" (did you mean {by_folded[folded]!r}?)"
    matches = difflib.get_close_matches(folded, list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean {by_folded[matches[0]]!r}?)" if matches else ""
