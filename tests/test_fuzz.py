"""Fuzz tests: nothing a user writes may crash policylint.

The contract: every problem a user causes is a finding (MAN001-MAN003) or exit 2 with a one-line
``policylint: error: ...`` message; ``Engine.check`` never raises for anything a manifest holds;
the output is deterministic.

- random bytes, random text and edited scenario texts through ``Engine.check`` and
  ``SourceIndex.from_text``;
- structure-aware: the scenario manifests parsed, mutated (keys deleted, values of every TOML
  type put in, unknown keys, waivers, ``ext`` tables), written back with a small TOML writer that
  also records the line of every key, then checked: findings point at the right line;
- the command line (through click's runner) on generated manifests, in every report format;
- configuration files (``policylint.toml`` and ``[tool.policylint]``) around the real keys.

Generated values include integers too long for ``str()`` (more than 4,300 decimal digits, written
in hex or in decimal) and arrays nested past tomli's limit of 400; each crash found has a minimal
regression test at the end.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import os
import random
import re
import sys
import tempfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import tomli
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policylint.cli import cli
from policylint.config import Settings, find_config, load_config
from policylint.engine import Engine
from policylint.errors import ConfigError
from policylint.findings import Finding
from policylint.manifest import FIELDS, dotted
from policylint.positions import SourceIndex

SCENARIOS = Path(__file__).parent / "scenarios"
SCENARIO_FILES = sorted(SCENARIOS.glob("[0-9]*.toml"))
SCENARIO_TEXTS = [p.read_text("utf-8") for p in SCENARIO_FILES]
SCENARIO_DOCS = [tomli.loads(text) for text in SCENARIO_TEXTS]
TODAY = "2026-12-01"

FUZZ = settings(
    deadline=None,
    database=None,  # nothing written to the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def fuzz(examples: int) -> settings:
    """The fuzz settings with this many examples (sized so each test takes a few seconds).

    ``POLICYLINT_FUZZ_SCALE=50`` multiplies every count, for a longer campaign by hand.
    """
    return settings(FUZZ, max_examples=examples * int(os.environ.get("POLICYLINT_FUZZ_SCALE", "1")))

RULE_IDS = [
    "RAG001", "RAG002", "PRM001", "PRM002", "PRM003", "PRM004", "FMT001", "FMT002", "FMT003", "FMT004",
    "DOM001", "DOM002", "DOM003", "DOM004", "DST001", "DST002", "DST003", "DST004", "DST005", "DST006",
    "BEH001", "BEH002", "DAT001", "DAT002", "DAT003", "DAT004", "FTF001",
    "MAN001", "MAN002", "MAN003", "WVR001", "WVR002", "WVR003", "WVR004", "WVR005",
]
ENUM_WORDS = [
    "classification", "extraction", "generation", "summarization", "reasoning", "other",
    "general", "medical", "legal", "financial", "technical", "none", "moderate", "strict",
    "prompting", "rag", "fine-tune", "distill", "collect-data", "error-handling", "frontier-api",
    "general-quality", "format-consistency", "domain-conventions", "cost-latency", "behavior", "knowledge",
    "hallucination", "frontier", "small", "format", "knowledge-gap", "retried", "system-failure",
    "data-corruption", "human-labeled", "frontier-generated", "production-logs", "mixed",
    "Fine-Tune", "fine_tune", "", " ", "\t", "\n", "a\nb", "\r", "\x1b[2J", "\u2028", "\x00",
]
FIELD_NAMES = [
    "schema_version", "project", "name", "owner", "description", "task", "kind", "narrow", "reasoning",
    "domain", "conventions", "proposal", "approach", "reasons", "model", "model_tier", "target_quality",
    "evaluation", "examples", "metric", "prompting", "zero_shot", "few_shot", "few_shot_examples",
    "few_shot_variants", "chain_of_thought", "format_constraints", "role", "domain_prompt", "failures",
    "mode", "malformed_rate", "reproducible", "volume", "requests_per_day", "requests_per_month",
    "downstream", "machine_parsed", "failure_impact", "retry_logic", "data", "high_quality",
    "domain_examples", "source", "distillation", "teacher_model", "teacher_quality", "student_quality",
    "max_quality_delta", "waivers", "rule", "reason", "expires", "ext",
]


# ------------------------------------------------------------------------------ strategies

class LongInt(int):
    """An integer too long for ``str()``, with a ``repr`` that works (hypothesis shows examples)."""

    def __repr__(self) -> str:
        return f"LongInt({'-' if self < 0 else ''}{self.bit_length()} bits)"

    __str__ = int.__repr__  # raises, as for a plain int: the writer then writes it in hex


#: Integers str() refuses (more than 4,300 digits): tomli cannot read them in decimal, but can in hex.
LONG_INTS = [LongInt(10**4300), LongInt(16**3572 - 1), LongInt(-(10**4300)), LongInt(2**20_000)]
ints = st.one_of(
    st.integers(-(2**200), 2**200),
    st.sampled_from([0, 1, -1, 2, 5, 10, 85, 100, 101, 200, 499, 500, 501, 100_000, 100_001, 10**6, 10**12,
                     10**12 + 1, 2**50, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 2**70, -(2**70), 10**15, 10**100,
                     *LONG_INTS]),
)
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.85, 0.849999999, 1.0, 1.0000001, 85.0, 100.0, 100.5, 1e12, 1e12 + 1,
                     1e15, 1e300, 5e-324, -1.0, math.inf, -math.inf, math.nan]),
)
strings = st.one_of(st.text(max_size=20), st.sampled_from(ENUM_WORDS + RULE_IDS))
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: datetime.timezone(datetime.timedelta(minutes=m)))
dates = st.one_of(
    st.dates(),
    st.sampled_from([datetime.date(2026, 12, 1), datetime.date(2026, 11, 30), datetime.date(2027, 5, 30),
                     datetime.date(2027, 5, 31), datetime.date(2027, 6, 1), datetime.date(1, 1, 1),
                     datetime.date(9999, 12, 31)]),
)
datetimes = st.one_of(st.datetimes(), st.datetimes(timezones=offsets))
times = st.times()
scalars = st.one_of(st.booleans(), ints, floats, strings, dates, datetimes, times)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=10))
#: Layouts of the TOML writer: None writes it plainly.
seeds = st.one_of(st.none(), st.integers(0, 2**32))

class RawToml(str):
    """TOML text the writer copies as it is: arrays nested too deep to build as Python lists here."""

    def __repr__(self) -> str:
        return f"RawToml({self[:12]!r}... {len(self)} characters)"


#: Arrays nested as deep as tomli reads (as a key's value), and one level deeper than that.
DEEP = [RawToml("[" * n + "]" * n) for n in (401, 402)]
toml_values = st.recursive(
    st.integers(0, 15).flatmap(lambda i: st.sampled_from(DEEP) if i == 0 else scalars),  # deep now and then
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=8,
)


# ------------------------------------------------------------------------------ a TOML writer

_BARE = re.compile(r"[A-Za-z0-9_-]+\Z")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(name: str, rng: random.Random | None = None) -> str:
    """A key, bare when it can be; with ``rng``, quoted in any of the ways TOML allows."""
    style = rng.randrange(6) if rng is not None else 0
    if style == 1:
        return toml_string(name)
    if style == 2 and "'" not in name and all(ord(c) >= 0x20 and ord(c) != 0x7F or c == "\t" for c in name):
        return f"'{name}'"
    if style == 3 and name and 0x20 <= ord(name[0]) <= 0xFFFF and name[0] not in '"\\':
        return '"' + f"\\u{ord(name[0]):04x}" + toml_string(name[1:])[1:]  # an escape where none is needed
    return name if _BARE.match(name) else toml_string(name)


def toml_int(value: int, rng: random.Random | None = None) -> str:
    """An integer literal; one too long for ``str()`` in hex (when positive) or in decimal."""
    try:
        return str(value)
    except ValueError:
        pass
    if value > 0 and (rng is None or rng.randrange(2)):
        return hex(value)
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return str(value)
    finally:
        sys.set_int_max_str_digits(limit)


def toml_inline(value: Any, rng: random.Random | None = None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return toml_int(value, rng)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, RawToml):
        return str.__str__(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_inline(v, rng) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k, rng)} = {toml_inline(v, rng)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def _is_aot(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def write_toml(doc: dict[str, Any], seed: int | None = None) -> tuple[str, dict[tuple[Any, ...], int]]:
    """The document as TOML text, and the line where each key path first appears.

    Tables are written as ``[headers]`` (every table gets one), non-empty lists of tables as
    ``[[arrays of tables]]``, everything else inline on the line of its key. With a ``seed``, the
    layout varies as people write TOML: quoted keys, blanks around `=` and dots, comments, blank
    lines, CRLF line ends.
    """
    rng = random.Random(seed) if seed is not None else None
    lines: list[str] = []
    where: dict[tuple[Any, ...], int] = {}

    def key(name: str) -> str:
        return toml_key(name, rng)

    def blank(options: tuple[str, ...] = ("", " ", "\t ")) -> str:
        return rng.choice(options) if rng is not None else ""

    def add(line: str) -> int:
        if rng is not None and rng.randrange(6) == 0:
            lines.append(rng.choice(["", "# a comment", "   ", "\t# [not.a.table]", "#x = 1"]))
        if rng is not None and rng.randrange(6) == 0:
            line += rng.choice([" # trailing", "\t#", "  "])
        lines.append(line)
        return len(lines)

    def inline_paths(path: tuple[Any, ...], value: Any, line: int) -> None:
        where.setdefault(path, line)
        if isinstance(value, dict):
            for k, v in value.items():
                inline_paths(path + (k,), v, line)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, (dict, list)):  # an array's scalars have no key path of their own
                    inline_paths(path + (i,), v, line)

    def header(names: tuple[str, ...], array: bool, *paths: tuple[Any, ...]) -> None:
        dot = blank(("", " ")) + "." + blank(("", " "))
        inner = blank() + dot.join(map(key, names)) + blank()
        line = add(f"[[{inner}]]" if array else f"[{inner}]")
        for path in paths:
            where.setdefault(path, line)

    def table(body: dict[str, Any], names: tuple[str, ...], path: tuple[Any, ...]) -> None:
        for k, v in body.items():
            if not isinstance(v, dict) and not _is_aot(v):
                line = add(f"{blank()}{key(k)}{blank()}={blank()}{toml_inline(v, rng)}")
                inline_paths(path + (k,), v, line)
        for k, v in body.items():
            if isinstance(v, dict):
                header(names + (k,), False, path + (k,))
                table(v, names + (k,), path + (k,))
        for k, v in body.items():
            if _is_aot(v):
                for i, element in enumerate(v):
                    header(names + (k,), True, path + (k,), path + (k, i))
                    table(element, names + (k,), path + (k, i))

    table(doc, (), ())
    newline = "\r\n" if rng is not None and rng.randrange(4) == 0 else "\n"
    return newline.join(lines) + newline, where


def _parsed(text: str) -> Any:
    """What tomli reads from the writer's text; ``UNREADABLE`` when it refuses (on purpose)."""
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError:
        raise  # the writer wrote something that is not TOML: a bug in this file
    except (ValueError, RecursionError):  # a decimal too long for int(), or nesting past 400
        return UNREADABLE


UNREADABLE = object()


def _has_raw(value: Any) -> bool:
    if isinstance(value, RawToml):
        return True
    if isinstance(value, dict):
        return any(map(_has_raw, value.values()))
    return isinstance(value, list) and any(map(_has_raw, value))


def _round_trips(doc: dict[str, Any], text: str) -> None:
    parsed = _parsed(text)
    if parsed is not UNREADABLE and not _has_raw(doc):
        assert _comparable(parsed) == _comparable(doc)


def _comparable(value: Any) -> Any:
    """NaN equal to itself, so a round trip can be compared with ``==``."""
    if isinstance(value, float) and math.isnan(value):
        return "<nan>"
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


@fuzz(200)
@given(st.dictionaries(keys, toml_values, max_size=6), seeds)
def test_writer_round_trips(doc: dict[str, Any], seed: int | None) -> None:
    text, where = write_toml(doc, seed)
    _round_trips(doc, text)
    if _has_raw(doc):
        return  # past 100 levels the index loses count (test_regression_positions_after_a_deep_array)
    index = SourceIndex.from_text(text)  # and the source index finds every key where it was written
    for path, line in where.items():
        found = index.position(path)
        assert found is not None and found[0] == line, (path, line, found, text)


def test_writer_round_trips_the_scenarios() -> None:
    for doc in SCENARIO_DOCS:
        for seed in (None, *range(20)):
            text, where = write_toml(doc, seed)
            assert tomli.loads(text) == doc
            index = SourceIndex.from_text(text)
            for path, line in where.items():
                assert index.position(path) is not None and index.position(path)[0] == line, (path, text)


# ------------------------------------------------------------------------------ mutations

def _slots(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, Any, tuple[Any, ...]]]:
    """Every (container, key, path) in the document, nested ones included."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found.append((node, key, path + (key,)))
        found.extend(_slots(value, path + (key,)))
    return found


def _tables(node: Any) -> list[dict[str, Any]]:
    found = [node] if isinstance(node, dict) else []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        found.extend(_tables(child))
    return found


def _typo(name: str, draw: Any) -> str:
    kind = draw(st.sampled_from(["case", "drop", "swap", "dash", "space"]))
    if not name:
        return "x"
    if kind == "case":
        return name.upper()
    if kind == "drop":
        i = draw(st.integers(0, len(name) - 1))
        return name[:i] + name[i + 1 :] or "x"
    if kind == "swap" and len(name) > 1:
        i = draw(st.integers(0, len(name) - 2))
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == "dash":
        return name.replace("_", "-")
    return name + " "


near_today = st.dates(datetime.date(2026, 5, 1), datetime.date(2027, 9, 1))
#: Mostly well-formed waivers (so they reach WVR001-WVR005), sometimes not.
waivers = st.one_of(
    st.fixed_dictionaries({
        "rule": st.sampled_from([*RULE_IDS, "XYZ999", "fmt001"]),
        "reason": st.sampled_from(["launch ramps volume", "x"]),
        "owner": st.sampled_from(["payments-ml", "o"]),
        "expires": near_today,
    }),
    st.fixed_dictionaries(
        {},
        optional={
            "rule": st.one_of(st.sampled_from(RULE_IDS + ["fmt001", "FMT", "XYZ999", ""]), scalars),
            "reason": st.one_of(st.sampled_from(["launch ramps volume", "", "   "]), scalars),
            "owner": st.one_of(st.sampled_from(["payments-ml", "", " "]), scalars),
            "expires": st.one_of(near_today, dates, scalars),
            "extra": scalars,
        },
    ),
)


BOUNDARIES = [0, 1, 5, 10, 99, 100, 199, 200, 499, 500, 501, 999, 1000, 5000, 5001, 100_000, 100_001,
              1_000_000, 1_000_001, 3_333_333, 10**12]
#: A value the format accepts, by field kind: mutations that keep a manifest valid reach the rules.
VALID_VALUES = {
    "fraction": st.one_of(st.floats(0, 1), st.sampled_from([0, 1, 0.0, 1.0, 0.85, 0.8499999, 0.8500001, 0.001, 0.03])),
    "count": st.one_of(st.integers(0, 10**12), st.sampled_from(BOUNDARIES)),
    "number": st.one_of(st.integers(0, 10**12), st.floats(0, 1e12), st.sampled_from(BOUNDARIES)),
    "bool": st.booleans(),
    "string": st.text(max_size=10),
    "text": st.text(min_size=1, max_size=10).filter(str.strip),
}


def valid_value(path: str) -> st.SearchStrategy[Any]:
    spec = FIELDS[path]
    if path == "schema_version":
        return st.just(1)
    if spec.kind == "enum":
        return st.sampled_from(spec.values)
    if spec.kind == "list" and spec.item is not None:
        return st.lists(st.sampled_from(spec.item.values), max_size=3)
    return VALID_VALUES[spec.kind]


LEAF_FIELDS = sorted(path for path, spec in FIELDS.items() if spec.kind != "table")


@st.composite
def mutated_manifests(draw: Any) -> dict[str, Any]:
    """A scenario manifest with one to five changes a user could make."""
    doc = copy.deepcopy(draw(st.sampled_from(SCENARIO_DOCS)))
    # Half the time only changes the format accepts (most such manifests stay valid and reach the rules).
    ops = ["valid", "valid", "valid", "waiver"] if draw(st.booleans()) else [
        "delete", "replace", "replace", "unknown", "typo", "waiver", "ext", "volume", "valid"]
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(ops))
        slots = _slots(doc)
        if op == "delete" and slots:
            container, key, _ = draw(st.sampled_from(slots))
            del container[key]
        elif op == "replace" and slots:
            container, key, _ = draw(st.sampled_from(slots))
            container[key] = draw(toml_values)
        elif op == "unknown":
            table = draw(st.sampled_from(_tables(doc)))
            table[draw(keys)] = draw(toml_values)
        elif op == "typo":
            named = [(c, k) for c, k, _ in slots if isinstance(k, str)]
            if named:
                container, key = draw(st.sampled_from(named))
                new = _typo(key, draw)
                if new not in container:
                    container[new] = container.pop(key)
        elif op == "waiver":
            listed = doc.get("waivers")
            if not isinstance(listed, list):
                listed = doc["waivers"] = []
            if listed and draw(st.booleans()):
                listed.append(copy.deepcopy(draw(st.sampled_from(listed))))  # a duplicate
            else:
                listed.append(draw(waivers))
        elif op == "ext":
            ext = doc.get("ext")
            if not isinstance(ext, dict) or draw(st.booleans()):
                ext = doc["ext"] = draw(st.one_of(st.dictionaries(keys, st.dictionaries(keys, toml_values, max_size=3),
                                                                  max_size=2), toml_values))
            if isinstance(ext, dict):
                ext[draw(st.sampled_from(["acme", "governance", "", "x y"]))] = draw(
                    st.one_of(st.dictionaries(keys, toml_values, max_size=3), toml_values)
                )
        elif op == "valid":  # a value the format accepts, at any field (its tables made as needed)
            path = draw(st.sampled_from(LEAF_FIELDS))
            *parents, leaf = path.split(".")
            table = doc
            for name in parents:
                if not isinstance(table.get(name), dict):
                    table[name] = {}
                table = table[name]
            table[leaf] = draw(valid_value(path))
        elif op == "volume":
            volume = doc.get("volume")
            if not isinstance(volume, dict):
                volume = doc["volume"] = {}
            volume[draw(st.sampled_from(["requests_per_day", "requests_per_month"]))] = draw(
                st.one_of(ints, floats, st.sampled_from([0, 30, 100_000, 3_000_000, 1e12]))
            )
    return doc


# ------------------------------------------------------------------------------ properties

def _check_result(result: Any, text: str | None) -> None:
    """What every result must satisfy, whatever the input."""
    assert result.decision.verdict in ("pass", "fail")
    line_count = text.count("\n") + 1 if text is not None else None
    for finding in result.findings:
        assert finding.line >= 1 and finding.column >= 1, finding
        if line_count is not None:
            assert finding.line <= line_count + 1, finding
    if any(f.rule.startswith("MAN") for f in result.findings):
        assert result.decision.recommendation is None
        assert result.decision.verdict == "fail"
    # The engine fixture fails on errors only: a manifest fails exactly when an unwaived error remains.
    failing = any(f.severity == "error" and not f.waived for f in result.findings)
    assert (result.decision.verdict == "fail") == failing, result
    rules = [f.rule for f in result.findings]
    if "MAN001" in rules or "MAN003" in rules:  # the only finding, when the file cannot be read as a manifest
        assert len(rules) == 1, result
    assert list(result.findings) == sorted(result.findings, key=Finding.sort_key)


def _text_of(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None


@fuzz(1000)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(engine: Engine, raw: bytes) -> None:
    result = engine.check("m.toml", raw)
    _check_result(result, _text_of(raw))


@fuzz(1000)
@given(st.text(max_size=300))
def test_random_text_never_crashes(engine: Engine, text: str) -> None:
    raw = text.encode("utf-8")
    result = engine.check("m.toml", raw)
    _check_result(result, _text_of(raw))
    assert engine.check("m.toml", raw) == result


TOMLISH = st.text(alphabet="[]{}=\"'.,#\n\r\t abcxyz_-0129e+:TZ\\\ufeff", max_size=120)


@fuzz(1000)
@given(TOMLISH)
def test_toml_like_text_never_crashes(engine: Engine, text: str) -> None:
    raw = ("schema_version = 1\n" + text).encode("utf-8")
    _check_result(engine.check("m.toml", raw), _text_of(raw))


@st.composite
def edited_scenarios(draw: Any) -> str:
    """A scenario's text with a few characters inserted, deleted or replaced."""
    text = draw(st.sampled_from(SCENARIO_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(TOMLISH.filter(bool), st.text(min_size=1, max_size=5)))
        end = at + draw(st.integers(1, 20))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[end:]
        else:
            text = text[:at] + piece + text[end:]
    return text


@fuzz(500)
@given(edited_scenarios(), st.booleans())
def test_edited_scenario_texts_never_crash(engine: Engine, text: str, bom: bool) -> None:
    raw = (("\ufeff" if bom else "") + text).encode("utf-8")
    result = engine.check("m.toml", raw)
    _check_result(result, text)
    assert engine.check("m.toml", raw) == result


@fuzz(500)
@given(st.one_of(edited_scenarios(), st.text(max_size=200), TOMLISH),
       st.lists(st.lists(st.one_of(keys, st.integers(0, 3)), max_size=4), max_size=5))
def test_source_index_never_raises(text: str, paths: list[list[Any]]) -> None:
    index = SourceIndex.from_text(text)
    line_count = text.removeprefix("\ufeff").count("\n") + 1
    for path in paths:
        line, column = index.locate(tuple(path))
        assert 1 <= line <= line_count and column >= 1


def _expected_lines(key: str, where: dict[tuple[Any, ...], int]) -> set[int]:
    """Lines a finding at ``key`` may point at: the key's own, else its nearest enclosing key's."""
    by_key: dict[str, set[int]] = {}
    ambiguous: set[str] = set()  # dotted names that could also be read as another path
    for path, line in where.items():
        by_key.setdefault(dotted(path), set()).add(line)
        if any(isinstance(n, str) and (not n or any(c in n for c in ".[]")) for n in path):
            ambiguous.add(dotted(path))
    if key in by_key and key not in ambiguous:
        return by_key[key]
    prefixes = [k for k in by_key if k and (key.startswith(k + ".") or key.startswith(k + "["))]
    longest = max(map(len, prefixes), default=0)
    enclosing = set().union(*(by_key[k] for k in prefixes if len(k) == longest)) if prefixes else {1}
    return enclosing | by_key.get(key, set())


@fuzz(500)
@given(mutated_manifests(), seeds)
def test_mutated_manifests_never_crash(engine: Engine, doc: dict[str, Any], seed: int | None) -> None:
    text, where = write_toml(doc, seed)
    _round_trips(doc, text)  # the writer wrote what we meant
    raw = text.encode("utf-8")
    result = engine.check("m.toml", raw)
    _check_result(result, text)
    assert engine.check("m.toml", raw) == result  # deterministic
    lines = text.split("\n")
    for finding in result.findings:
        assert finding.column <= len(lines[finding.line - 1]) + 1, finding
        # MAN001 has no key (it is at the syntax error); past 100 levels of nesting the index loses
        # count (test_regression_positions_after_a_deep_array).
        if finding.rule != "MAN001" and not _has_raw(doc):
            assert finding.line in _expected_lines(finding.key, where), (finding, text)


# ------------------------------------------------------------------------------ the command line

FORMATS = ["text", "sarif", "junit", "github", "gitlab", "markdown"]


def _run(args: list[str], stdin: bytes | None = None) -> Any:
    return CliRunner().invoke(cli, args, input=stdin, catch_exceptions=True)


def _one_line(message: str) -> bool:
    return "\n" not in message and "\r" not in message and "\x1b" not in message


def _assert_clean(result: Any, allowed: tuple[int, ...]) -> None:
    """No crash, an allowed exit code, and a tool error is one ``policylint: error:`` line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code in allowed, (result.exit_code, result.stdout, result.stderr)
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream and "internal error" not in stream, stream
    if result.exit_code == 2:
        # Warnings may come first (`no manifests found` is printed before the packs load).
        warnings, _, error = result.stderr.rpartition("policylint: error: ")
        assert all(line.startswith("policylint: warning: ") for line in warnings.splitlines()), result.stderr
        assert error.endswith("\n") and _one_line(error[:-1]), result.stderr


manifest_bytes = st.one_of(
    st.builds(lambda d, seed: write_toml(d, seed)[0].encode("utf-8"), mutated_manifests(), seeds),
    edited_scenarios().map(lambda t: t.encode("utf-8")),
    st.binary(max_size=100),
)


@fuzz(40)
@given(st.lists(manifest_bytes, min_size=1, max_size=3), st.sampled_from(FORMATS), st.booleans(), st.sampled_from([1, 1, 2]))
def test_cli_on_generated_manifests(files: list[bytes], other_format: str, use_stdin: bool, jobs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = root / "policylint.toml"
        config.write_text("", "utf-8")
        paths = []
        for i, raw in enumerate(files):
            (root / f"m{i}").mkdir()
            (root / f"m{i}" / "mlproject.toml").write_bytes(raw)
            paths.append(str(root / f"m{i}" / "mlproject.toml"))
        base = ["check", "--today", TODAY, "--config", str(config)]
        stdin = files[0] if use_stdin else None
        targets = ["-", *paths[1:]] if use_stdin else [folder]

        as_json = _run([*base, "--format", "json", *targets], stdin)
        _assert_clean(as_json, (0, 1))  # manifests alone never make the tool fail
        report = json.loads(as_json.stdout)
        assert report["summary"]["manifests"] == len(files)
        assert (as_json.exit_code == 1) == (report["summary"]["failed"] > 0)
        for manifest in report["manifests"]:
            assert manifest["decision"]["verdict"] in ("pass", "fail")
            for finding in manifest["findings"]:
                assert finding["line"] >= 1 and finding["column"] >= 1
        again = _run([*base, "--format", "json", "--jobs", str(jobs), *targets], stdin)
        assert again.stdout == as_json.stdout  # deterministic, in worker processes too

        other = _run([*base, "--format", other_format, *targets], stdin)
        _assert_clean(other, (0, 1))
        assert other.exit_code == as_json.exit_code
        if other_format == "text":  # a line per finding, one per manifest, the summary
            findings = sum(len(m["findings"]) for m in report["manifests"])
            lines = other.stdout.split("\n")
            assert lines[-1] == "" and len(lines) - 1 == findings + len(files) + 1, other.stdout
            assert all(_one_line(line) for line in lines), other.stdout
        elif other_format in ("sarif", "gitlab"):
            json.loads(other.stdout)
        elif other_format == "junit":
            ElementTree.fromstring(other.stdout.encode("utf-8"))


# ------------------------------------------------------------------------------ configuration

PARAM_NAMES = [
    "quality_bar", "format_volume_per_day", "distill_volume_per_month", "min_examples", "harmful_examples",
    "min_domain_examples", "few_shot_min", "few_shot_max", "format_floor", "distill_min_examples",
    "distill_max_examples", "min_eval_examples", "min_few_shot_variants", "max_quality_delta",
]
CONFIG_KEYS = ["select", "extend-select", "ignore", "fail-on", "severity", "params", "policy-paths", "exclude",
               "max-waiver-days", "disable-plugins"]
patterns = st.one_of(st.sampled_from(RULE_IDS + ["DST", "RAG", "D", "dst", "XYZ", "ALL", "", "FMT0011"]),
                     st.text(max_size=8))
# Policy paths stay inside the temporary folder: no separators, no parent folders.
policy_paths = st.one_of(st.sampled_from([".", "packs", "nope"]),
                         st.text(max_size=8).filter(lambda s: "/" not in s and "\\" not in s and ".." not in s))
config_values: dict[str, Any] = {
    "select": st.one_of(st.lists(patterns, max_size=4), toml_values),
    "extend-select": st.one_of(st.lists(patterns, max_size=3), toml_values),
    "ignore": st.one_of(st.lists(patterns, max_size=3), toml_values),
    "fail-on": st.one_of(st.sampled_from(["error", "warning", "Error", "info", ""]), toml_values),
    "severity": st.one_of(st.dictionaries(patterns, st.one_of(st.sampled_from(["error", "warning", "info"]), scalars),
                                          max_size=3), toml_values),
    "params": st.one_of(st.dictionaries(st.one_of(st.sampled_from(PARAM_NAMES), keys),
                                        st.one_of(ints, floats, scalars, toml_values), max_size=3), toml_values),
    "policy-paths": st.one_of(st.lists(policy_paths, max_size=2), scalars),
    "exclude": st.one_of(st.lists(st.one_of(st.sampled_from(["*", "m*", "[", "**/x", ""]), st.text(max_size=6)),
                                  max_size=3), toml_values),
    "max-waiver-days": st.one_of(ints, st.sampled_from([0, 180, 36_500, 36_501, -1]), scalars),
    "disable-plugins": st.one_of(st.lists(st.text(max_size=8), max_size=2), toml_values),
}


@st.composite
def configurations(draw: Any) -> tuple[str, str]:
    """(file name, text): a policylint.toml, or a pyproject.toml with [tool.policylint]."""
    table: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(CONFIG_KEYS), max_size=4, unique=True)):
        table[key] = draw(config_values[key])
    if draw(st.integers(0, 4)) == 0:
        table[draw(st.one_of(keys, st.sampled_from(["fail_on", "max_waiver_days", "Select"])))] = draw(toml_values)
    if draw(st.booleans()):
        tool: Any = table if draw(st.integers(0, 5)) else draw(toml_values)
        doc = {"tool": {"policylint": tool}} if draw(st.integers(0, 5)) else {"tool": draw(toml_values)}
        return "pyproject.toml", write_toml(doc, draw(seeds))[0]
    if draw(st.integers(0, 9)) == 0:
        return "policylint.toml", draw(st.one_of(TOMLISH, st.text(max_size=60)))
    return "policylint.toml", write_toml(table, draw(seeds))[0]


@fuzz(300)
@given(configurations())
def test_load_config_returns_settings_or_config_error(config: tuple[str, str]) -> None:
    name, text = config
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, "utf-8")
        try:
            settings_ = load_config(path)
        except ConfigError as exc:
            assert str(exc)  # the command line prints it escaped, on one line (checked below)
        else:
            assert isinstance(settings_, Settings)


@fuzz(60)
@given(configurations())
def test_cli_with_fuzzed_configuration(config: tuple[str, str]) -> None:
    name, text = config
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / name).write_text(text, "utf-8")
        (root / "m").mkdir()
        (root / "m" / "mlproject.toml").write_bytes(SCENARIO_FILES[0].read_bytes())
        result = _run(["check", "--today", TODAY, "--config", str(root / name), "--format", "json", str(root / "m")])
        _assert_clean(result, (0, 1, 2))
        if result.exit_code != 2:
            json.loads(result.stdout)
        explained = _run(["rule", "--all", "--format", "json", "--config", str(root / name)])
        _assert_clean(explained, (0, 2))
        if explained.exit_code == 0:
            json.loads(explained.stdout)


# ------------------------------------------------------------------------------ regressions
#
# Each found by the fuzz tests above, reduced to a minimal input.
#
# Python refuses to convert integers of more than 4,300 decimal digits to or from text
# (sys.get_int_max_str_digits()); TOML has no bound on integer literals. tomli raised a plain
# ValueError for a long decimal literal, and str() in messages raised for a long hex one.

DECIMAL_4301 = "1" + "0" * 4300  # 10**4300: the shortest decimal literal tomli cannot convert
HEX_4301 = "0x" + "f" * 3572  # the shortest run of hex f's whose value str() refuses to print


def test_regression_decimal_integer_too_long(engine: Engine) -> None:
    result = engine.check("m.toml", f"a = {DECIMAL_4301}\n".encode())
    assert [f.rule for f in result.findings] == ["MAN001"]


def test_regression_hex_schema_version_too_long(engine: Engine) -> None:
    result = engine.check("m.toml", f"schema_version = {HEX_4301}\n".encode())
    assert [f.rule for f in result.findings] == ["MAN003"]


def test_regression_hex_field_value_too_long(engine: Engine) -> None:
    result = engine.check("m.toml", f"schema_version = 1\nproject = {HEX_4301}\n".encode())
    assert "MAN002" in {f.rule for f in result.findings}


def test_regression_config_decimal_integer_too_long(tmp_path: Path) -> None:
    path = tmp_path / "policylint.toml"
    path.write_text(f"max-waiver-days = {DECIMAL_4301}\n", "utf-8")
    with pytest.raises(ConfigError):
        load_config(path)


def test_regression_config_hex_integer_too_long(tmp_path: Path) -> None:
    path = tmp_path / "policylint.toml"
    path.write_text(f"max-waiver-days = {HEX_4301}\n", "utf-8")
    with pytest.raises(ConfigError):
        load_config(path)


@pytest.mark.parametrize(
    "config, flags",
    [
        (f"params = {{ min_examples = {HEX_4301} }}\n", []),
        (f"params = {{ quality_bar = {HEX_4301} }}\n", []),
        ("", [f"--param=min_examples={DECIMAL_4301}"]),
    ],
    ids=["config-integer-param", "config-fraction-param", "flag-decimal"],
)
def test_regression_cli_huge_integer_param(tmp_path: Path, config: str, flags: list[str]) -> None:
    (tmp_path / "policylint.toml").write_text(config, "utf-8")
    (tmp_path / "mlproject.toml").write_bytes(SCENARIO_FILES[0].read_bytes())
    result = _run(["check", "--today", TODAY, "--config", str(tmp_path / "policylint.toml"), *flags,
                   str(tmp_path / "mlproject.toml")])
    _assert_clean(result, (2,))


def test_regression_cli_decimal_integer_too_long(tmp_path: Path) -> None:
    (tmp_path / "policylint.toml").write_text("", "utf-8")
    (tmp_path / "mlproject.toml").write_text(f"a = {DECIMAL_4301}\n", "utf-8")
    result = _run(["check", "--today", TODAY, "--config", str(tmp_path / "policylint.toml"),
                   str(tmp_path / "mlproject.toml")])
    _assert_clean(result, (1,))
    assert "MAN001" in result.stdout


# Nesting: tomli raises RecursionError (not TOMLDecodeError) past 400 levels of inline arrays or
# tables. load_manifest caught it (MAN001); configuration, discovery, --param and packs did not.

DEEP_402 = "[" * 402 + "]" * 402  # the shallowest array tomli refuses


def test_regression_config_nested_too_deeply(tmp_path: Path) -> None:
    path = tmp_path / "policylint.toml"
    path.write_text(f"a = {DEEP_402}\n", "utf-8")
    with pytest.raises(ConfigError):
        load_config(path)


def test_regression_pyproject_nested_too_deeply(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[tool.policylint]\nb = {DEEP_402}\n", "utf-8")
    assert find_config(tmp_path) == path  # claimed, so that loading reports the problem (fails closed)


def test_regression_cli_param_nested_too_deeply(tmp_path: Path) -> None:
    (tmp_path / "policylint.toml").write_text("", "utf-8")
    (tmp_path / "mlproject.toml").write_bytes(SCENARIO_FILES[0].read_bytes())
    result = _run(["check", "--today", TODAY, "--config", str(tmp_path / "policylint.toml"),
                   f"--param=quality_bar={DEEP_402}", str(tmp_path / "mlproject.toml")])
    _assert_clean(result, (2,))


@pytest.mark.parametrize("edit", ["long-integer", "deep-nesting"])
def test_regression_policy_pack_unreadable_values(tmp_path: Path, edit: str) -> None:
    from policylint.builtin import builtin_pack_path

    pack = tmp_path / "pack"
    pack.mkdir()
    builtin = Path(builtin_pack_path())
    (pack / "pack.toml").write_text((builtin / "pack.toml").read_text("utf-8").replace('name = "builtin"', 'name = "mine"', 1)
                                    .split("\n[params")[0] + "\n", "utf-8")
    rule = (builtin / "FMT004.toml").read_text("utf-8").replace('id = "FMT004"', 'id = "ORG001"')
    if edit == "long-integer":
        rule += f"\nx = {DECIMAL_4301}\n"
    elif edit == "deep-nesting":
        rule += f"\nx = {DEEP_402}\n"
    (pack / "ORG001.toml").write_text(rule, "utf-8")
    (tmp_path / "policylint.toml").write_text('policy-paths = ["pack"]\n', "utf-8")
    (tmp_path / "mlproject.toml").write_bytes(SCENARIO_FILES[0].read_bytes())
    result = _run(["check", "--today", TODAY, "--config", str(tmp_path / "policylint.toml"), str(tmp_path / "mlproject.toml")])
    _assert_clean(result, (2,))


# tomli's ValueError and RecursionError carry no position: the finding was placed at 1:1.
@pytest.mark.parametrize("value", [DECIMAL_4301, DEEP_402], ids=["long-integer", "deep-nesting"])
def test_regression_unreadable_value_is_reported_at_its_line(engine: Engine, value: str) -> None:
    text = f'schema_version = 1\n\n[project]\nname = "x"\nzz = {value}\n'
    (finding,) = engine.check("m.toml", text.encode()).findings
    assert finding.rule == "MAN001" and finding.line == 5


@pytest.mark.xfail(
    reason="toml.py:_LONG_NUMBER/_deep_bracket (via loads): the culprit is searched for in the raw text, strings "
    "and comments included: `s = \"` + 4300 zeros + `\"` on line 1 with `zz = 1` + 4300 zeros on line 5 gives "
    "MAN001 at 1:6; a line-1 comment `# ` + 300 `[` (or such a string) with 402 nested arrays on line 5 gives 1:259",
    strict=True,
)
@pytest.mark.parametrize(
    "first, fifth",
    [
        ('s = "' + "0" * 4300 + '"', f"zz = {DECIMAL_4301}"),
        ("# " + "[" * 300, f"zz = {DEEP_402}"),
        ('s = "' + "[" * 300 + '"', f"zz = {DEEP_402}"),
    ],
    ids=["digits-in-a-string", "brackets-in-a-comment", "brackets-in-a-string"],
)
def test_regression_unreadable_value_not_located_in_strings_or_comments(engine: Engine, first: str, fifth: str) -> None:
    text = f"{first}\n\n\n\n{fifth}\n"
    (finding,) = engine.check("m.toml", text.encode()).findings
    assert finding.rule == "MAN001" and finding.line == 5


@pytest.mark.xfail(
    reason="positions.py:_Scanner.brackets: past _MAX_DEPTH (100) opening brackets are stepped over but closing ones "
    "still pop frames, so the scan of the enclosing array ends early: `waivers = [` / `  ` + 101 nested `[` `]` + "
    "`,` / `  {extra = 1},` / `]` reports waivers[1].extra at line 2 (the `waivers` key), not line 4",
    strict=True,
)
def test_regression_positions_after_a_deep_array(engine: Engine) -> None:
    deep = "[" * 101 + "]" * 101
    text = f"schema_version = 1\nwaivers = [\n  {deep},\n  {{extra = 1}},\n]\n"
    (finding,) = [f for f in engine.check("m.toml", text.encode()).findings if f.key == "waivers[1].extra"]
    assert finding.line == 4
    assert SourceIndex.from_text(f"x = [{deep}, {{a = 1}}]\n").position(("x", 1)) is not None


# Line breaks: messages quoted keys and string values as they were decoded, control characters
# and all, so one message could span lines (or send a terminal escape sequence).


@pytest.mark.parametrize("config", ['"a\\nb" = false\n', 'select = ["A\\nB"]\n'], ids=["key", "value"])
def test_regression_config_error_with_line_break_is_one_line(tmp_path: Path, config: str) -> None:
    (tmp_path / "policylint.toml").write_text(config, "utf-8")
    (tmp_path / "mlproject.toml").write_bytes(SCENARIO_FILES[0].read_bytes())
    result = _run(["check", "--today", TODAY, "--config", str(tmp_path / "policylint.toml"),
                   str(tmp_path / "mlproject.toml")])
    _assert_clean(result, (2,))


@pytest.mark.parametrize(
    "extra",
    ['"a\\nb" = 1\n', '[proposal]\napproach = "fine\\ntune"\n', '"a\\u001b[2Jb" = 1\n'],
    ids=["key", "value", "escape-sequence"],
)
def test_regression_text_report_finding_with_line_break_is_one_line(tmp_path: Path, extra: str) -> None:
    (tmp_path / "policylint.toml").write_text("", "utf-8")
    (tmp_path / "mlproject.toml").write_text("schema_version = 1\n" + extra, "utf-8")
    result = _run(["check", "--today", TODAY, "--config", str(tmp_path / "policylint.toml"),
                   str(tmp_path / "mlproject.toml")])
    _assert_clean(result, (1,))
    assert "\x1b" not in result.stdout and "\r" not in result.stdout, result.stdout  # no colour: not a terminal
    lines = result.stdout.split("\n")[:-1]
    findings = [line for line in lines if " MAN002 [error] " in line]
    assert findings and len(lines) == len(findings) + 2, result.stdout  # findings, decision, summary
