"""Generates :mod:`policylint._manifest_spec`, the manifest format as data, from the models.

The models in :mod:`policylint.models` are the contract, but importing pydantic and building
them costs a cold ``policylint check`` about 70 ms. So the check path validates with
:mod:`policylint.validator`, which walks a table derived here from the validators pydantic
builds for the models (their core schemas, so the table says what pydantic enforces, not what
the annotations suggest). A schema this module does not know how to translate is an error, not
a guess: a model change that the validator cannot reproduce fails when the table is regenerated.

    python -m policylint.manifest_spec > policylint/_manifest_spec.py

A test regenerates the table and compares it with the committed file; another runs pydantic
and the validator on many manifests and compares their problems.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from policylint.schema import ABSENT, FieldType, _non_blank, describe_model

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
        "from typing import Any",
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
    lines.append("}")
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
