"""The fuzz targets of ``fuzz/run.py`` and their contracts, importable without atheris.

Each ``fuzz_<target>(data)`` returns for an input that meets the target's contract and raises
otherwise (see ``fuzz/run.py`` and ``docs/fuzzing.md``). ``tests/test_fuzz_regressions.py``
replays the seed corpus and the crashes found through these same functions.
"""

from __future__ import annotations

import datetime
import random
import re
import traceback
from pathlib import Path

import tomli

from policylint import positions
from policylint.builtin import builtin_pack_path
from policylint.engine import Engine, EngineOptions
from policylint.expr import Compiler, ExpressionError
from policylint.facts import FACTS, defaults, namespace
from policylint.manifest import FIELDS, LoadedManifest, load_manifest
from policylint.packs import load_pack
from policylint.positions import SourceIndex

FUZZ = Path(__file__).resolve().parent

TARGETS = ("manifest", "positions", "expr", "eval")

#: Signatures of crashes already recorded in ``tests/test_fuzz_regressions.py``, skipped so
#: that a run finds new ones: (target, exception type, "file:function" of the innermost
#: frame in policylint). Remove an entry once the crash is fixed.
KNOWN: set[tuple[str, str, str]] = set()

PATH = "fuzz/mlproject.toml"
TODAY = datetime.date(2026, 12, 1)

_engine: Engine | None = None
_compiler: Compiler | None = None
_namespaces: list[dict] | None = None


def engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = Engine([load_pack(builtin_pack_path())], options=EngineOptions(today=TODAY))
    return _engine


def compiler() -> Compiler:
    global _compiler
    if _compiler is None:
        params = {name: value for name, (value, _) in engine().params.items()}
        _compiler = Compiler({**FIELDS, **FACTS}, params)
    return _compiler


def valid_namespaces() -> list[dict]:
    """The namespace of every scenario and example manifest that loads without a finding."""
    global _namespaces
    if _namespaces is None:
        fields = {**FIELDS, **FACTS}
        found = []
        for seed in sorted((FUZZ / "corpus" / "manifest").iterdir()):
            loaded = load_manifest(PATH, seed.read_bytes())
            if loaded.data is not None and not loaded.findings:
                found.append(namespace(loaded.data, defaults(fields)))
        _namespaces = found
    return _namespaces


def signature(target: str, exc: BaseException) -> tuple[str, str, str]:
    where = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        parts = Path(frame.filename).parts
        if "policylint" in parts:
            where = f"{'/'.join(parts[parts.index('policylint'):])}:{frame.name}"
    return (target, type(exc).__name__, where)


# ----------------------------------------------------------------------------- targets


_INTERESTING = [
    0, 1, -1, 2, 3, 10, 499, 500, 100_000, 1_000_001, 2**63 - 1, -(2**63), 10**4400, 0.0, -0.0, 0.5, 0.85, 1.0,
    1.5, -0.5, float("nan"), float("inf"), float("-inf"), True, False, "", " ", "\u200b", "x" * 300, "fine-tune",
    "distill", "prompting", "rag", "format-consistency", "knowledge", "behavior", "format", "legal", "strict",
    "frontier", "small", "none", "human-labeled", "DAT001", "PRM001", "FMT001", "*",
    datetime.date(2026, 1, 15), datetime.date(2027, 1, 15), datetime.datetime(2026, 1, 15, 10, 0),
    datetime.time(10, 0), [], [1], ["format-consistency", "knowledge"], [{}], {}, {"x": 1},
    [{"rule": "DAT001", "owner": "a", "reason": "b", "expires": datetime.date(2027, 1, 1)}],
]


def _toml_value(value) -> str:
    """A value as inline TOML (TOML 1.1: tables inline, any depth)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return hex(value) if abs(value) > 10**4000 and value > 0 else str(value)
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value == float("inf") else "-inf" if value == float("-inf") else repr(value))
    if isinstance(value, str):
        return _toml_key(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_name(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def _toml_key(text: str) -> str:
    out = ['"']
    for char in text:
        if char in '"\\' or ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out) + '"'


def _toml_name(key: str) -> str:
    return key if _BARE.fullmatch(key) else _toml_key(key)


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _dump(doc: dict) -> str:
    """Top-level scalars first, then one ``[table]`` per top-level table, the rest inline."""
    lines = [f"{_toml_name(k)} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append(f"[{_toml_name(key)}]")
            lines.extend(f"{_toml_name(k)} = {_toml_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"


def _containers(doc, found):
    """Every table and array of the document (to edit one in place)."""
    found.append(doc)
    for value in doc.values() if isinstance(doc, dict) else doc:
        if isinstance(value, (dict, list)):
            _containers(value, found)
    return found


def structural_mutation(data: bytes, max_size: int, seed: int) -> bytes | None:
    """For TOML, a structural edit; None when ``data`` is not TOML (or the edit is too long).

    A structural edit parses the document, sets or deletes one key (or array item) or adds one,
    with an interesting value of any TOML type, and writes the document back: the result stays
    TOML and reaches the schema and the policies, which byte edits of TOML rarely do.
    """
    rng = random.Random(seed)
    try:
        doc = tomli.loads(data.decode("utf-8").removeprefix("\ufeff"))
    except Exception:
        return None
    for _ in range(rng.randint(1, 3)):
        container = rng.choice(_containers(doc, []))
        value = rng.choice(_INTERESTING)
        if isinstance(value, (list, dict)):
            value = eval(repr(value), {"datetime": datetime})  # a fresh copy: no shared objects
        action = rng.random()
        if isinstance(container, dict):
            keys = list(container)
            if keys and action < 0.2:
                del container[rng.choice(keys)]
            elif keys and action < 0.8:
                container[rng.choice(keys)] = value
            else:
                name = rng.choice([*_FIELD_NAMES, "ext", "waivers", "unknown"])
                container[name] = value
        elif container and action < 0.3:
            del container[rng.randrange(len(container))]
        elif container:
            container[rng.randrange(len(container))] = value
        else:
            container.append(value)
    try:
        out = _dump(doc).encode("utf-8")
    except (TypeError, ValueError):
        return None
    return out if len(out) <= max_size else None


_FIELD_NAMES = sorted({part for path in FIELDS for part in path.split(".")})


def fuzz_manifest(data: bytes) -> None:
    loaded = load_manifest(PATH, data)
    assert isinstance(loaded, LoadedManifest), loaded
    assert loaded.data is not None or loaded.findings, "no data and no finding"
    for finding in loaded.findings:
        assert finding.rule.startswith("MAN"), finding
        assert finding.line >= 1 and finding.column >= 1, finding
    engine().check(PATH, data)


def _walk(data, path=()):
    """The key paths ``tests/test_positions.py`` requires a position for."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield path + (key,)
            yield from _walk(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, (dict, list)) and _has_table(value):
                yield path + (i,)
                yield from _walk(value, path + (i,))


def _has_table(data) -> bool:
    if isinstance(data, dict):
        return True
    return isinstance(data, list) and any(_has_table(v) for v in data)


def _depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def fuzz_positions(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    index = SourceIndex.from_text(text)
    for path in (("a",), ("a", "b"), ("waivers", 0, "rule"), ("project", "name"), (0,), ()):
        index.locate(path)
        index.position(path)
    body = text.removeprefix("\ufeff")
    try:
        doc = tomli.loads(body)
    except Exception:  # not TOML: only "never raises" applies
        return
    offsets: dict = {}
    positions._run(body, offsets)  # the scan itself: _scan would swallow an exception
    if _depth(body) >= positions._MAX_DEPTH - 5:  # documented limit: deeper keys may go unindexed
        return
    for n, path in enumerate(_walk(doc)):
        if n >= 500:
            break
        found = index.position(path)
        assert found is not None, f"no position for {path!r}"
        line, column = found
        assert line >= 1 and column >= 1, (path, found)
        assert index.locate(path) == found


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # a policy file is TOML: always valid Unicode
        return None


def fuzz_expr(data: bytes) -> None:
    text = _text(data)
    if text is None:
        return
    comp = compiler()
    try:
        comp.predicate(text)
    except ExpressionError:
        pass
    try:
        comp.template(text)
    except ExpressionError:
        pass


def fuzz_eval(data: bytes) -> None:
    text = _text(data)
    if text is None:
        return
    comp = compiler()
    try:
        evaluate = comp.predicate(text)
    except ExpressionError:
        evaluate = None
    if evaluate is not None:
        for ns in valid_namespaces():
            evaluate(ns)
    try:
        render = comp.template(text)
    except ExpressionError:
        return
    for ns in valid_namespaces():
        render(ns)


FUNCTIONS = {"manifest": fuzz_manifest, "positions": fuzz_positions, "expr": fuzz_expr, "eval": fuzz_eval}
