"""Generates :mod:`policylint._manifest_spec`, the manifest format as data, from the models.

The models in :mod:`policylint.models` are the contract, but importing pydantic and building
them costs a cold ``policylint check`` about 70 ms. So the check path validates with
:mod:`policylint.validator`, which walks a table derived here from the validators pydantic
builds for the models (their core schemas, so the table says what pydantic enforces, not what
the annotations suggest). A schema this module does not know how to translate is an error, not
a guess: a model change that the validator cannot reproduce fails when the table is regenerated.

    python -m policylint.manifest_spec > policylint/_manifest_spec.py

It also writes the validator's fast path, :func:`is_clean` there: one function per table that
tests each key's value with ``type(value) is`` and a comparison, inline, for the manifests that
are well-formed (most of them); the table-driven walk runs only when it says no, and gives the
errors. Generated code rather than closures over the table: about two thirds of their cost per key.

A test regenerates the table and compares it with the committed file; another runs pydantic
and the validator on many manifests and compares their problems, and whether the fast path says
"clean" exactly when the walk finds nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from policylint.schema import ABSENT, FieldType, _non_blank, describe_model
from policylint.validator import MAX_LIST_ITEMS

#: The command that rewrites the generated module (the staleness test names it).
REGENERATE = "python -m policylint.manifest_spec > policylint/_manifest_spec.py"

#: Schema keys that say nothing about validation (descriptions, defaults' values, references).
_INERT = {"type", "metadata", "ref", "serialization"}


def _keys(schema: dict[str, Any], *allowed: str) -> None:
    """Refuse a schema with a setting the validator does not reproduce (a length, a pattern...)."""
    unknown = set(schema) - _INERT - set(allowed)
    if unknown:
        raise ValueError(f"unsupported setting(s) {sorted(unknown)} in a {schema['type']!r} schema")


def _check(schema: dict[str, Any], tables: dict[str, tuple[Any, ...]], defs: dict[str, Any]) -> tuple[Any, ...]:
    """One value's check, as the validator reads it (see :mod:`policylint.validator`)."""
    kind = schema["type"]
    if kind == "definitions":
        _keys(schema, "schema", "definitions")
        defs.update({d["ref"]: d for d in schema["definitions"]})
        return _check(schema["schema"], tables, defs)
    if kind == "definition-ref":
        _keys(schema, "schema_ref")
        return _check(defs[schema["schema_ref"]], tables, defs)
    if kind == "model":
        return ("table", _table(schema, tables, defs))
    if kind == "nullable":  # TOML has no null: "X | None" only makes the key optional
        _keys(schema, "schema")
        return _check(schema["schema"], tables, defs)
    if kind == "list":
        _keys(schema, "items_schema")
        return ("list", _check(schema["items_schema"], tables, defs))
    if kind == "dict":
        _keys(schema, "keys_schema", "values_schema")
        if schema.get("keys_schema", {"type": "str"}) != {"type": "str"}:
            raise ValueError("a dict's keys must be plain strings (TOML keys are)")
        return ("dict", _check(schema.get("values_schema", {"type": "any"}), tables, defs))
    if kind == "literal":
        _keys(schema, "expected")
        values = tuple(schema["expected"])
        if not all(type(v) in (str, int) for v in values):
            raise ValueError(f"literal values must be strings or integers, got {values!r}")
        return ("literal", values)
    if kind in ("str", "bool", "date", "any"):
        _keys(schema)
        return (kind,)
    if kind == "int":
        _keys(schema, "ge", "le")
        return ("int", schema.get("ge"), schema.get("le"))
    if kind == "float":
        _keys(schema, "ge", "le", "allow_inf_nan")
        return ("float", schema.get("ge"), schema.get("le"), schema.get("allow_inf_nan", True))
    if kind == "function-after":
        _keys(schema, "function", "schema")
        if schema["function"].get("function") is _non_blank and schema["schema"] == {"type": "str"}:
            return ("text",)
        raise ValueError(f"unsupported validator {schema['function']!r}")
    raise ValueError(f"unsupported schema type {kind!r}")


def _table(schema: dict[str, Any], tables: dict[str, tuple[Any, ...]], defs: dict[str, Any]) -> str:
    """A model's fields as ``(key, required, check)`` rows, in declaration order; its name."""
    _keys(schema, "cls", "schema", "config", "custom_init", "root_model", "post_init")
    config = schema.get("config", {})
    name = schema["cls"].__name__
    if config.get("strict") is not True or config.get("extra_fields_behavior") != "forbid":
        raise ValueError(f"{name}: the validator reproduces strict models that forbid unknown keys only")
    if schema.get("custom_init") or schema.get("root_model") or schema.get("post_init"):
        raise ValueError(f"{name}: custom __init__, root models and post-init hooks are not reproduced")
    fields = schema["schema"]
    _keys(fields, "fields", "model_name", "computed_fields")
    if defs.setdefault(f"class:{name}", schema["cls"]) is not schema["cls"]:
        raise ValueError(f"two models are named {name!r}")
    if name in tables:
        return name
    rows = []
    for key, field in fields["fields"].items():
        _keys(field, "schema", "frozen")
        inner = field["schema"]
        required = inner["type"] != "default"
        if not required:
            _keys(inner, "schema", "default", "default_factory")
            inner = inner["schema"]
        rows.append((key, required, _check(inner, tables, defs)))
    tables[name] = tuple(rows)
    return name


#: Bounds under this (in magnitude) compare with an integer as with its float: pydantic compares
#: an integer given for a float as a float, and a larger integer may round to the bound.
_EXACT_FLOAT_INTEGERS = 2**53


class _FastPath:
    """The source of the fast path: a ``_clean_<Table>`` function per table, and the constants
    and helper functions their tests name."""

    def __init__(self) -> None:
        self.constants: list[str] = []
        self.functions: list[str] = []
        self._names: dict[str, str] = {}

    def constant(self, hint: str, value: tuple[Any, ...]) -> str:
        """A module constant holding ``value`` (a literal's values), named after ``hint``."""
        name = f"_{hint.upper()}"
        self.constants.append(f"{name} = frozenset({value!r})")
        return name

    def predicate(self, check: tuple[Any, ...], hint: str) -> str:
        """The name of a function testing one value against ``check`` (for ``map``)."""
        kind = check[0]
        if kind == "table":
            return f"_clean_{check[1]}"
        if kind == "any":
            return "_clean_any"
        name = f"_clean_{hint}"
        if name not in self._names:
            self._names[name] = name
            body = self.test(check, "value", hint)
            self.functions.append(f"def {name}(value: Any) -> bool:\n    return {body}\n")
        return name

    def test(self, check: tuple[Any, ...], value: str, hint: str) -> str:
        """A Python expression: whether ``value`` passes ``check`` with no list over the limit.
        Exact for what TOML gives (exact ``str``, ``int``, ``float``, ``bool``, dates and times,
        lists and dicts), as :mod:`policylint.validator`'s walk judges it."""
        kind, *args = check
        if kind in ("table", "any"):
            return f"{self.predicate(check, hint)}({value})"
        if kind == "str":
            return f"type({value}) is str"
        if kind == "text":
            return f"(type({value}) is str and has_visible({value}))"
        if kind == "bool":
            return f"({value} is True or {value} is False)"
        if kind == "date":
            return f"type({value}) is date"
        if kind == "literal":
            allowed = self.constant(hint, args[0])
            if all(type(v) is str for v in args[0]):  # only a string equals a string
                return f"(type({value}) is str and {value} in {allowed})"
            # Equality, as pydantic's literals (True and 1.0 are 1); a list or table is not hashable.
            return f"(type({value}) is not list and type({value}) is not dict and {value} in {allowed})"
        if kind == "int":
            ge, le = args
            low = "" if ge is None else f"{ge!r} <= "
            high = "" if le is None else f" <= {le!r}"
            return f"(type({value}) is int and {low}{value}{high})" if low or high else f"type({value}) is int"
        if kind == "float":
            ge, le, _allow_inf_nan = args
            if ge is None or le is None or max(abs(ge), abs(le)) >= _EXACT_FLOAT_INTEGERS:
                raise ValueError(f"{hint}: the fast path reproduces floats between bounds under 2**53 only")
            # Between such bounds an integer compares as its float does, and neither nan nor an
            # infinity is in range (so whether they are allowed makes no difference).
            return f"((type({value}) is float or type({value}) is int) and {ge!r} <= {value} <= {le!r})"
        if kind == "list":
            limit = f"type({value}) is list and len({value}) <= {MAX_LIST_ITEMS}"
            if args[0][0] == "literal":  # one set operation for the whole list
                allowed = self.constant(hint, args[0][1])
                return f"({limit} and {allowed}.issuperset({value}))"
            return f"({limit} and all(map({self.predicate(args[0], hint + '_item')}, {value})))"
        if kind == "dict":
            return f"(type({value}) is dict and all(map({self.predicate(args[0], hint + '_value')}, {value}.values())))"
        raise ValueError(f"{hint}: no fast test for {kind!r}")

    def table(self, name: str, rows: tuple[Any, ...]) -> None:
        """``_clean_<name>``: a dict, its required keys present, each key known and its value clean."""
        required = "".join(f" or {key!r} not in value" for key, is_required, _ in rows if is_required)
        lines = [
            f"def _clean_{name}(value: Any) -> bool:",
            f"    if type(value) is not dict{required}:",
            "        return False",
            "    for key, item in value.items():",
        ]
        for index, (key, _, check) in enumerate(rows):
            lines.append(f"        {'elif' if index else 'if'} key == {key!r}:")
            test = self.test(check, "item", f"{name}_{key}")
            lines.append(f"            if not {test if test.startswith('(') or ' ' not in test else f'({test})'}:")
            lines.append("                return False")
        lines += ["        else:", "            return False", "    return True", ""]
        self.functions.append("\n".join(lines))


#: The helper the ``any`` check names (an ``ext`` table's values): any value, but no list over
#: the limit anywhere in it (the walk reports those).
_CLEAN_ANY = f"""def _clean_any(value: Any) -> bool:
    if type(value) is list:
        return len(value) <= {MAX_LIST_ITEMS} and all(map(_clean_any, value))
    if type(value) is dict:
        return all(map(_clean_any, value.values()))
    return True
"""


def _fast_path(tables: dict[str, tuple[Any, ...]], root: str) -> list[str]:
    """The lines of the fast path's section of the generated module."""
    fast = _FastPath()
    for name, rows in tables.items():
        fast.table(name, rows)
    return [
        "# ------------------------------------------------------------------------------ the fast path",
        "# policylint.validator.is_clean: whether a manifest is well-formed with no list over the limit,",
        "# exactly as the walk of TABLES judges values of the types TOML gives. A literal's values are",
        "# compared by equality (a list tested against a set raises TypeError, which is_clean catches).",
        "",
        *fast.constants,
        "",
        "",
        *("\n".join(function.splitlines()) + "\n\n" for function in [_CLEAN_ANY, *fast.functions]),
        f"is_clean: Callable[[Any], bool] = _clean_{root}",
    ]


def _field_type(spec: FieldType) -> dict[str, Any]:
    """A :class:`FieldType` as a literal: only what differs from its defaults."""
    out: dict[str, Any] = {"kind": spec.kind}
    if spec.values:
        out["values"] = spec.values
    if spec.item is not None:
        out["item"] = _field_type(spec.item)
    if spec.default is not ABSENT:
        out["default"] = spec.default
    return out


def generate() -> str:
    """The text of ``policylint/_manifest_spec.py``."""
    from policylint.models import Manifest

    tables: dict[str, tuple[Any, ...]] = {}
    root = _check(dict(Manifest.__pydantic_core_schema__), tables, {})
    if root[0] != "table":
        raise ValueError("the manifest's model must be a table")
    lines = [
        '"""Manifest format v1 as data, generated from the models in policylint/models.py: do not edit.',
        "",
        f"Regenerate with ``{REGENERATE}`` (a test fails",
        "while it is stale). :mod:`policylint.validator` walks ``TABLES``; ``FIELD_TYPES`` is",
        ":func:`policylint.schema.describe_model` of the root model, read by policies and messages.",
        '"""',
        "",
        "from collections.abc import Callable",
        "from datetime import date",
        "from typing import Any",
        "",
        "from policylint.schema import has_visible",
        "",
        "#: The table validation starts at.",
        f"ROOT = {root[1]!r}",
        "",
        "#: Each table's keys in declaration order: (key, required, check); a check is",
        "#: (\"table\", name), (\"list\", check), (\"dict\", check), (\"literal\", values), (\"str\",), (\"text\",),",
        "#: (\"bool\",), (\"date\",), (\"any\",), (\"int\", ge, le) or (\"float\", ge, le, allow_inf_nan).",
        "#: Every table is strict and forbids unknown keys.",
        "TABLES: dict[str, tuple[tuple[str, bool, tuple[Any, ...]], ...]] = {",
    ]
    for name, rows in tables.items():
        lines.append(f"    {name!r}: (")
        lines += [f"        {row!r}," for row in rows]
        lines.append("    ),")
    lines += ["}", "", "#: Every field by dotted path, tables included (a FieldType's non-default parts).",
              "FIELD_TYPES: dict[str, dict[str, Any]] = {"]
    lines += [f"    {path!r}: {_field_type(spec)!r}," for path, spec in describe_model(Manifest).items()]
    lines += ["}", "", ""]
    lines += _fast_path(tables, root[1])
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the generated module (see :data:`REGENERATE`)."""
    if list(sys.argv[1:] if argv is None else argv):
        print(f"usage: {REGENERATE}", file=sys.stderr)
        return 2
    sys.stdout.write(generate())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
