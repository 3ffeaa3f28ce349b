"""Policy packs: a folder of declarative policy files, read and checked into a :class:`Pack`.

A pack is ``pack.toml`` (metadata and parameters) plus one ``<ID>.toml`` per policy. Reading a
pack checks its structure; :mod:`policylint.engine` compiles the conditions once the parameter
values are known. Every mistake in a pack is a :class:`~policylint.errors.PackError` that names
the file, line, column and key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

from policylint import toml
from policylint.errors import ConfigError, PackError, located
from policylint.files import read_bounded
from policylint.findings import RECOMMENDATIONS
from policylint.positions import SourceIndex
from policylint.schema import MAX_QUANTITY, FieldType, did_you_mean, show, type_name, value_problem

#: A policy or pack file larger than this (256 KiB) is refused: real ones are a few KiB.
MAX_POLICY_FILE_BYTES = 256 * 1024
RULE_ID = re.compile(r"[A-Z]{2,6}[0-9]{3}")
PACK_FILE = "pack.toml"
#: Which proposals a rule applies to: ``fine-tuning`` (fine-tune and distill), ``other`` (every
#: other proposal: advisory rules whose fine-tuning counterpart is a gate), or ``any``.
APPLIES_TO = ("fine-tuning", "other", "any")
#: The direction in which moving a parameter makes the gate harder to pass (configuration.md).
STRICTER = ("higher", "lower", "either")


class Key(NamedTuple):
    """What a key of a pack file must hold. Checked by hand, not by pydantic: packs load on
    every run, and building models for them cost more start-up time than reading them."""

    types: tuple[type, ...]
    required: bool = True
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    expected: str = ""
    default: Any = None

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, self.types) or (isinstance(value, bool) and bool not in self.types):
            return f"expected {self.expected}, got {type_name(value)} {show(value)}".rstrip()
        if self.choices and value not in self.choices:
            return f"expected one of {', '.join(map(repr, self.choices))}, got {show(value)}{did_you_mean(str(value), self.choices)}"
        if self.pattern and not re.fullmatch(self.pattern, str(value)):
            return f"expected {self.expected}, got {show(value)}"
        return None


_TEXT = Key((str,), expected="a string")
_LINE = Key((str,), pattern=r"[^\n]*\S[^\n]*", expected="one non-blank line of text")
_KEBAB = r"[a-z][a-z0-9]*(-[a-z0-9]+)*"

POLICY_KEYS: dict[str, Key] = {
    "id": Key((str,), pattern=RULE_ID.pattern, expected="a rule id: 2-6 capitals and 3 digits, e.g. FMT001"),
    "name": Key((str,), pattern=_KEBAB, expected="a kebab-case name, e.g. format-volume-too-low"),
    "title": _LINE,
    "severity": Key((str,), choices=("error", "warning"), expected="a string"),
    "waivable": Key((bool,), required=False, expected="true or false", default=True),
    "applies_to": Key((str,), choices=APPLIES_TO, expected="a string"),
    "recommends": Key((str,), required=False, choices=RECOMMENDATIONS, expected="a string"),
    "order": Key((int,), required=False, pattern=None, expected="a whole number"),
    "points_at": Key((str,), expected="a manifest key such as volume"),
    "framework": Key((str,), required=False, expected="a string"),
    "when": _TEXT,
    "message": _LINE,
    "messages": Key((list,), required=False, expected="an array of tables with when and message", default=[]),
    "rationale": _TEXT,
    "aliases": Key((list,), required=False, expected="a list of kebab-case names", default=[]),
    #: The pack version that introduced the policy (default: the pack's own version, so a rule
    #: added without it counts as new in the current version: preview until adopted).
    "since": Key((str,), required=False, pattern=r"[0-9]+(\.[0-9]+)*", expected='a pack version such as "1" or "2.1"'),
}
PACK_KEYS: dict[str, Key] = {
    "name": Key((str,), pattern=_KEBAB, expected="a kebab-case name"),
    "version": _TEXT,
    "description": _LINE,
    "framework": Key((str,), required=False, expected="a string"),
}
PARAM_KEYS: dict[str, Key] = {
    "type": Key((str,), choices=("fraction", "integer", "number"), expected="a string"),
    "default": Key((int, float), expected="a number"),
    "description": _LINE,
    "source": Key((str,), required=False, choices=("article", "project", "organisation"), expected="a string",
                  default="project"),
    "stricter": Key((str,), choices=STRICTER, expected="a string"),
}
#: One entry of a policy's ``[[messages]]``: the first whose ``when`` holds gives the message.
MESSAGE_KEYS: dict[str, Key] = {"when": _TEXT, "message": _LINE}


class Param(NamedTuple):
    """A named threshold: its type, default and where the number comes from."""

    name: str
    type: str
    default: float | int
    description: str
    source: str
    pack: str
    #: ``higher``, ``lower`` or ``either``: the direction that makes the gate harder to pass.
    stricter: str = "either"

    def check(self, value: Any) -> str | None:
        """Why ``value`` does not fit this parameter, or None (bounds as the manifest's own)."""
        kind = {"integer": "count", "number": "number", "fraction": "fraction"}[self.type]
        if self.type == "integer":
            ok = type(value) is int and 0 <= value <= MAX_QUANTITY
        else:
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = number and 0 <= value <= (1 if self.type == "fraction" else MAX_QUANTITY)
        return None if ok else value_problem(FieldType(kind), value)


def param_problem(declared: Mapping[str, Param], name: str, value: Any) -> str | None:
    """Why ``name = value`` cannot be set (unknown parameter, wrong type), or None.

    One wording for every layer that sets parameters: plugins, files and ``--param``.
    """
    if name not in declared:
        return f"unknown parameter {name!r}{did_you_mean(name, declared)}"
    problem = declared[name].check(value)
    return f"parameter {name!r} ({declared[name].type}): {problem}" if problem else None


def declared_params(packs: Iterable[Pack]) -> dict[str, Param]:
    """Every pack's parameters; two packs declaring one name stop the run."""
    declared: dict[str, Param] = {}
    for pack in packs:
        for name, param in pack.params.items():
            if name in declared:
                raise PackError(f"parameter {name!r} is declared by both pack {declared[name].pack!r} and pack {pack.name!r}")
            declared[name] = param
    return declared


class Policy(NamedTuple):
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
    text: str
    #: ``(when, message)`` pairs tried in order before ``message`` (absent values, special cases).
    messages: tuple[tuple[str, str], ...] = ()
    #: The pack version that introduced the policy (its ``since``; the pack's version when unset).
    since: str = "1"

    def where(self, key: tuple[str | int, ...], column_in_value: int | None = None) -> tuple[int, int]:
        """Line and column of ``key`` in the file, or of a column inside its one-line string value.

        Only an error asks, so the file's positions are indexed then, not when the pack loads.
        """
        index = SourceIndex.from_text(self.text)
        if column_in_value is not None:
            value_column = _single_line_value_column(index, self.text.splitlines(), key)
            if value_column is not None:
                return value_column[0], value_column[1] + column_in_value
        return index.locate(key)


class PackNameTaken(ConfigError):
    """A ``policy-paths`` pack named like a pack already loaded; ``config.layers`` names the
    setting that added it."""

    def __init__(self, path: Path, taken_by: Path, name: str) -> None:
        self.path = path
        super().__init__(f"{path}: pack {name!r} has the name of a pack already loaded "
                         f"({taken_by}); a pack from policy-paths needs a name of its own")


class Pack(NamedTuple):
    name: str
    version: str
    description: str
    framework: str | None
    path: Path
    params: dict[str, Param]
    policies: tuple[Policy, ...]
    #: Who offered the pack (a plugin, or the configuration's policy-paths), for error messages.
    owner: str = ""


def load_pack(folder: Path) -> Pack:
    """Read and check a pack folder."""
    pack_file = folder / PACK_FILE
    if not pack_file.is_file():
        raise PackError(f"{folder}: not a policy pack (no {PACK_FILE})")
    data, text = read_toml(pack_file)
    _check_keys(data, {"pack": None, "params": None}, (), pack_file, text)
    meta = _table(data, "pack", pack_file, text)
    meta = _check_keys(meta, PACK_KEYS, ("pack",), pack_file, text)
    params: dict[str, Param] = {}
    declared = data.get("params", {})
    if not isinstance(declared, dict):
        _fail(pack_file, text, ("params",), "params: expected a table of parameters")
    for name in declared:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            _fail(pack_file, text, ("params", name), f"params.{name}: expected a snake_case parameter name")
        spec = _check_keys(_table(declared, name, pack_file, text, ("params",)), PARAM_KEYS, ("params", name), pack_file, text)
        param = Param(
            name, spec["type"], spec["default"], spec["description"], spec["source"], meta["name"], spec["stricter"]
        )
        problem = param.check(param.default)
        if problem:
            _fail(pack_file, text, ("params", name, "default"), f"params.{name}.default: {problem}")
        params[name] = param
    policies = [_load_policy(path, meta["name"], meta["version"]) for path in sorted(folder.glob("*.toml")) if path.name != PACK_FILE]
    seen: dict[str, Policy] = {}
    for policy in policies:
        for alias in (policy.name, *policy.aliases):
            if alias in seen:
                raise PackError(f"{policy.file}: name {alias!r} is already used by {seen[alias].id} ({seen[alias].file})")
            seen[alias] = policy
    return Pack(meta["name"], meta["version"], meta["description"], meta["framework"], folder, params, tuple(policies))


def version_key(version: str) -> tuple[int, ...] | None:
    """``"2.1"`` -> ``(2, 1)`` for comparing pack versions; None when not dotted numbers."""
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", version):
        return None
    parts = [int(part) for part in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # "2.0" is "2"
    return tuple(parts)


def newer(version: str, than: str) -> bool:
    """Whether pack version ``version`` is newer than ``than`` (non-numeric versions never are)."""
    a, b = version_key(version), version_key(than)
    return a is not None and b is not None and a > b


def _load_policy(path: Path, pack: str, pack_version: str = "1") -> Policy:
    data, text = read_toml(path)
    spec = _check_keys(data, POLICY_KEYS, (), path, text)
    if spec["since"] is None:
        spec["since"] = pack_version
    elif version_key(pack_version) is None:
        _fail(path, text, ("since",), f"since: the pack's version {pack_version!r} is not a dotted number, so its policies cannot say which version introduced them")
    elif newer(spec["since"], pack_version):
        _fail(path, text, ("since",), f"since: {spec['since']!r} is newer than the pack's own version {pack_version!r}")
    for alias in spec["aliases"]:
        if not (isinstance(alias, str) and re.fullmatch(_KEBAB, alias)):
            _fail(path, text, ("aliases",), f"aliases: expected kebab-case names, got {show(alias)}")
    if spec["order"] is not None and spec["order"] < 0:
        _fail(path, text, ("order",), "order: expected a whole number >= 0")
    messages = []
    for index, entry in enumerate(spec["messages"]):
        if not isinstance(entry, dict):
            _fail(path, text, ("messages",), f"messages: item {index + 1}: expected a table with when and message")
        checked = _check_keys(entry, MESSAGE_KEYS, ("messages", index), path, text)
        messages.append((checked["when"], checked["message"]))
    if spec["id"] != path.stem:
        _fail(path, text, ("id",), f"id: {spec['id']!r} must match the file name {path.name!r}")
    if (spec["recommends"] is None) != (spec["order"] is None):
        key = "order" if spec["recommends"] is not None else "recommends"
        at = "order" if spec["order"] is not None else "recommends"
        _fail(path, text, (at,), f"{key}: a policy that recommends must set its decision order, and only such a policy may")
    return Policy(
        spec["id"], spec["name"], spec["title"], spec["severity"], spec["waivable"], spec["applies_to"],
        spec["recommends"], spec["order"], spec["points_at"], spec["framework"], spec["when"], spec["message"],
        spec["rationale"].strip(), tuple(spec["aliases"]), pack, str(path), text, tuple(messages), spec["since"],
    )


def _check_keys(
    data: Mapping[str, Any], keys: Mapping[str, Key | None], prefix: tuple[str | int, ...], path: Path, text: str
) -> dict[str, Any]:
    """The table's values with defaults filled in; the first problem raises, unknown keys first."""
    dotted = dotted_key(prefix) + "." if prefix else ""
    for name in data:
        if name not in keys:
            _fail(path, text, (*prefix, name), f"{dotted}{name}: unknown key{did_you_mean(name, keys)}")
    values: dict[str, Any] = {}
    for name, key in keys.items():
        if key is None:  # a sub-table, checked by the caller
            continue
        if name not in data:
            if key.required:
                _fail(path, text, prefix, f"{dotted}{name}: required key is missing")
            values[name] = key.default
            continue
        problem = key.problem(data[name])
        if problem:
            _fail(path, text, (*prefix, name), f"{dotted}{name}: {problem}")
        values[name] = data[name]
    return values


def dotted_key(key_path: tuple[str | int, ...]) -> str:
    """``("messages", 0, "when")`` -> ``messages[1].when`` (positions 1-based, as people count)."""
    text = ""
    for part in key_path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _table(data: Mapping[str, Any], name: str, path: Path, text: str, prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        what = "is missing" if value is None else f"must be a table, got {type_name(value)} {show(value)}".rstrip()
        _fail(path, text, (*prefix, name) if value is not None else prefix, f"{'.'.join((*prefix, name))}: {what}")
    return value  # type: ignore[return-value]


def _fail(path: Path, text: str, key_path: tuple[str | int, ...], message: str) -> None:
    line, column = SourceIndex.from_text(text).locate(key_path) if key_path else (1, 1)
    raise PackError(located(str(path), line, column, message))


def _single_line_value_column(index: SourceIndex, lines: list[str], key: tuple[str | int, ...]) -> tuple[int, int] | None:
    """Where a one-line basic or literal string value starts (the column before its first char)."""
    position = index.position(key)
    if position is None:
        return None
    line_no, column = position
    line = lines[line_no - 1]
    match = re.compile(r"\s*=\s*(\"(?!\"\")|'(?!''))").match(line, column - 1 + len(str(key[-1])))
    return (line_no, match.end()) if match else None


def read_toml(path: Path, what: str = "policy file", error: type[PackError] = PackError) -> tuple[dict[str, Any], str]:
    """A pack's TOML file (a policy, ``pack.toml``, a case file) and its text, read with bounds;
    ``error`` located in it when it cannot be read or parsed."""
    try:
        text = read_bounded(path, MAX_POLICY_FILE_BYTES).decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read the {what}: {exc}") from None
    try:
        return toml.loads(text), text
    except toml.TOMLError as exc:
        raise error(located(str(path), exc.line, exc.column, f"invalid TOML: {exc.message}")) from None
