"""Policy packs: a folder of declarative policy files, read and checked into a :class:`Pack`.

A pack is ``pack.toml`` (metadata and parameters) plus one ``<ID>.toml`` per policy. Reading a
pack checks its structure; :mod:`policylint.engine` compiles the conditions once the parameter
values are known. Every mistake in a pack is a :class:`~policylint.errors.PackError` that names
the file, line, column and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from policylint.errors import PackError, located
from policylint.findings import RECOMMENDATIONS
from policylint.positions import SourceIndex
from policylint.schema import FieldType, did_you_mean, show, type_name, value_problem

RULE_ID = re.compile(r"[A-Z]{2,6}[0-9]{3}")
PACK_FILE = "pack.toml"

RuleId = Annotated[str, StringConstraints(pattern=RULE_ID.pattern)]
KebabName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
Line = Annotated[str, StringConstraints(min_length=1, pattern=r"^[^\n]*\S[^\n]*$")]
ParamName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ParamSpec(_Strict):
    type: Literal["fraction", "integer", "number"]
    default: float | int
    description: Line
    source: Literal["article", "project", "organisation"] = "project"


class PackMeta(_Strict):
    name: KebabName
    version: str
    description: Line
    framework: str | None = None


class PackFile(_Strict):
    pack: PackMeta
    params: dict[ParamName, ParamSpec] = {}


class PolicyFile(_Strict):
    id: RuleId
    name: KebabName
    title: Line
    severity: Literal["error", "warning"]
    waivable: bool = True
    applies_to: Literal["fine-tuning", "any"]
    recommends: Literal[RECOMMENDATIONS] | None = None  # type: ignore[valid-type]
    order: Annotated[int, Field(ge=0)] | None = None
    points_at: str
    framework: str | None = None
    when: str
    message: Line
    rationale: str
    aliases: list[KebabName] = []


@dataclass(frozen=True)
class Param:
    """A named threshold: its type, default and where the number comes from."""

    name: str
    type: str
    default: float | int
    description: str
    source: str
    pack: str

    def check(self, value: Any) -> str | None:
        """Why ``value`` does not fit this parameter, or None."""
        kind = {"integer": "count", "number": "number", "fraction": "fraction"}[self.type]
        if self.type == "integer":
            ok = type(value) is int and 0 <= value
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
            ok = ok and 0 <= value <= (1 if self.type == "fraction" else float("inf"))
        return None if ok else value_problem(FieldType(kind), value)


@dataclass(frozen=True)
class Policy:
    """One policy as declared; ``file`` and ``positions`` let compile errors point into it."""

    id: str
    name: str
    title: str
    severity: Literal["error", "warning"]
    waivable: bool
    applies_to: str
    recommends: str | None
    order: int | None
    points_at: str
    framework: str | None
    when: str
    message: str
    rationale: str
    aliases: tuple[str, ...]
    pack: str
    file: str
    positions: dict[str, tuple[int, int]]

    def where(self, key: str, column_in_value: int | None = None) -> tuple[int, int]:
        """Line and column of ``key`` in the file, or of a column inside its one-line string value."""
        line, column = self.positions.get(key, (1, 1))
        if column_in_value is not None and key in self.positions:
            value_column = self.positions.get(f"{key}=value")
            if value_column is not None:
                return value_column[0], value_column[1] + column_in_value
        return line, column


@dataclass(frozen=True)
class Pack:
    name: str
    version: str
    description: str
    framework: str | None
    path: Path
    params: dict[str, Param]
    policies: tuple[Policy, ...]


def load_pack(folder: Path) -> Pack:
    """Read and check a pack folder."""
    pack_file = folder / PACK_FILE
    if not pack_file.is_file():
        raise PackError(f"{folder}: not a policy pack (no {PACK_FILE})")
    data, index, _ = _read(pack_file)
    meta = _validate(PackFile, data, pack_file, index)
    params = {
        name: Param(name, spec.type, spec.default, spec.description, spec.source, meta.pack.name)
        for name, spec in meta.params.items()
    }
    for name, param in params.items():
        problem = param.check(param.default)
        if problem:
            line, column = index.locate(("params", name, "default"))
            raise PackError(located(str(pack_file), line, column, f"params.{name}.default: {problem}"))
    policies = []
    for path in sorted(folder.glob("*.toml")):
        if path.name != PACK_FILE:
            policies.append(_load_policy(path, meta.pack.name))
    seen: dict[str, Policy] = {}
    for policy in policies:
        for alias in (policy.name, *policy.aliases):
            if alias in seen:
                raise PackError(f"{policy.file}: name {alias!r} is already used by {seen[alias].id} ({seen[alias].file})")
            seen[alias] = policy
    return Pack(meta.pack.name, meta.pack.version, meta.pack.description, meta.pack.framework, folder, params, tuple(policies))


def _load_policy(path: Path, pack: str) -> Policy:
    data, index, lines = _read(path)
    spec = _validate(PolicyFile, data, path, index)
    where = lambda key: index.locate((key,))  # noqa: E731
    if spec.id != path.stem:
        line, column = where("id")
        raise PackError(located(str(path), line, column, f"id: {spec.id!r} must match the file name {path.name!r}"))
    if (spec.recommends is None) != (spec.order is None):
        key = "order" if spec.recommends is not None else "recommends"
        line, column = where("order" if spec.order is not None else "recommends")
        raise PackError(
            located(str(path), line, column, f"{key}: a policy that recommends must set its decision order, and only such a policy may")
        )
    positions = {key: index.locate((key,)) for key in data}
    for key in ("when", "message"):
        value_column = _single_line_value_column(index, lines, key)
        if value_column is not None:
            positions[f"{key}=value"] = value_column
    return Policy(
        spec.id, spec.name, spec.title, spec.severity, spec.waivable, spec.applies_to, spec.recommends,
        spec.order, spec.points_at, spec.framework, spec.when, spec.message, spec.rationale.strip(),
        tuple(spec.aliases), pack, str(path), positions,
    )


def _single_line_value_column(index: SourceIndex, lines: list[str], key: str) -> tuple[int, int] | None:
    """Where a one-line basic or literal string value starts (the column before its first char)."""
    position = index.position((key,))
    if position is None:
        return None
    line_no, column = position
    line = lines[line_no - 1]
    match = re.compile(r"\s*=\s*(\"(?!\"\")|'(?!''))").match(line, column - 1 + len(key))
    return (line_no, match.end()) if match else None


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the table at ``loc`` (``params.<name>`` tables are ParamSpecs)."""
    if loc[:1] == ("params",) and len(loc) == 2:
        return list(ParamSpec.model_fields)
    for part in loc:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _read(path: Path) -> tuple[dict[str, Any], SourceIndex, list[str]]:
    try:
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(f"{path}: cannot read the policy file: {exc}") from None
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise PackError(located(str(path), exc.lineno, exc.colno, f"invalid TOML: {exc.msg}")) from None
    return data, SourceIndex.from_text(text), text.splitlines()


def _validate(model: type[_Strict], data: dict[str, Any], path: Path, index: SourceIndex) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # An unknown key first: its "did you mean" also explains the "missing" error it causes.
        error = min(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
        loc = tuple(error["loc"])
        key = ".".join(str(p) for p in loc)
        if error["type"] == "extra_forbidden":
            message = f"unknown key{did_you_mean(str(loc[-1]), _known_keys(model, loc[:-1]))}"
        elif error["type"] == "missing":
            message = "required key is missing"
            loc = loc[:-1]
        else:
            value = error.get("input")
            message = f"{error['msg'].lower()}, got {type_name(value)} {show(value)}".rstrip()
        line, column = index.locate(loc)
        raise PackError(located(str(path), line, column, f"{key}: {message}")) from None
