"""The pydantic-free validator gives exactly the answers of the pydantic models (issue 14).

``policylint check`` validates manifests with :mod:`policylint.validator`, which walks a table
generated from the models (:mod:`policylint._manifest_spec`), so that it never imports pydantic.
The models stay the contract. This module is the proof that nothing changed: it runs the old
path (cut the long lists, ``Manifest.model_validate``, :func:`~policylint.schema.explain`) as an
oracle beside the new one and asserts, on every manifest of the repository and on many
mutations of them, the same raw errors (location, missing / unknown key / bad value, input),
the same problems and the same findings, byte for byte. pydantic is imported here, as the
oracle, and nowhere on the check path (the last tests).
"""

from __future__ import annotations

import ast
import copy
import datetime
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from policylint import facts, manifest, toml, validator
from policylint.builtin import builtin_pack_path
from policylint.findings import Finding
from policylint.manifest import MAX_LIST_ITEMS, Source, man002
from policylint.models import Manifest, Text
from policylint.packs import load_pack
from policylint.packtest import load_cases, to_toml
from policylint.positions import KeyPath
from policylint.schema import Problem, RawError, describe_model, explain, explain_errors

REPO = Path(__file__).resolve().parent.parent
SHARED_SCENARIOS = REPO.parent / "shared" / "scenarios"  # ../shared beside the repository, as CI has it
#: Field types as the old code computed them, from the models.
DESCRIBED = describe_model(Manifest)
COMPARED: dict[str, int] = {}


# ------------------------------------------------------------------------------ the oracle


def old_cut(source: Source, value: Any, key_path: KeyPath, findings: list[Finding]) -> Any:
    """The old ``manifest._cut_long_lists``, verbatim: a copy with lists cut, one finding each."""
    if isinstance(value, dict):
        cut = {k: old_cut(source, v, (*key_path, k), findings) for k, v in value.items()}
        return cut if any(cut[k] is not value[k] for k in value) else value
    if isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            message = f"{len(value):,} items; a list holds at most {MAX_LIST_ITEMS:,} (only those were checked)"
            findings.append(man002(source, key_path, message))
            value = value[:MAX_LIST_ITEMS]
        items = [old_cut(source, item, (*key_path, index), findings) for index, item in enumerate(value)]
        return items if any(a is not b for a, b in zip(items, value)) or len(items) != len(value) else value
    return value


def pydantic_errors(data: Any) -> tuple[list[RawError], ValidationError | None]:
    try:
        Manifest.model_validate(data)
    except ValidationError as exc:
        errors = [RawError(tuple(e["loc"]), e["type"], e.get("input"), e["msg"]) for e in exc.errors(include_url=False)]
        return errors, exc
    return [], None


class OldPath(NamedTuple):
    cuts: list[Finding]
    errors: list[RawError]
    problems: list[Problem]
    findings: list[Finding]


def old_validate(source: Source, data: dict[str, Any], ext_models: manifest.ExtModels) -> OldPath:
    """The old ``manifest.validate`` (the models on a cut copy, their errors through explain()),
    with what it found on the way."""
    findings: list[Finding] = []
    data = old_cut(source, data, (), findings)
    cuts = list(findings)
    errors, exc = pydantic_errors(data)
    problems = explain(exc, DESCRIBED) if exc is not None else []
    findings.extend(manifest._findings(source, [p for p in problems if p.key_path[:1] != ("ext",)], ()))
    findings.extend(manifest._cross_field_problems(source, data, {f.key for f in findings}))
    findings.extend(manifest._ext_problems(source, data.get("ext"), ext_models))
    return OldPath(cuts, errors, problems, manifest._bounded(findings))


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same type (nan is nan; lists and tables item by item)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _full_walk(data: dict[str, Any]) -> tuple[validator.Errors, validator.Cuts]:
    """:func:`validator.check` without its fast path."""
    errors: validator.Errors = []
    cuts: validator.Cuts = []
    validator._ROOT(data, (), errors, cuts)
    return errors, cuts


def _kind(error_type: str) -> str:
    return error_type if error_type in ("missing", "extra_forbidden") else "value"


def compare(data: dict[str, Any], source: Source | None = None, ext_models: manifest.ExtModels | None = None,
            label: str = "input") -> None:
    """Both paths on ``data``: the same raw errors, problems and findings."""
    source = source or Source("<memory>", "")
    old = old_validate(source, data, ext_models or {})
    new_errors, cuts = validator.check(data)
    assert [f.key for f in old.cuts] == [manifest.dotted(p) for p, _ in cuts], label
    assert [(e.loc, _kind(e.type)) for e in new_errors] == [(e.loc, _kind(e.type)) for e in old.errors], label
    # pydantic saw the cut copy; the walk points into the data itself (the words never depend on
    # what a list or table holds: it is shown as "an array" or "a table").
    assert all(_same(manifest._cut_long_lists(n.input), o.input)
               for n, o in zip(new_errors, old.errors) if n.type != "missing"), label
    assert explain_errors(new_errors, manifest._ALL_FIELDS) == old.problems, label
    assert manifest.validate(source, data, ext_models or {}) == old.findings, label
    # The fast path says "clean" exactly when the full walk finds nothing (check() returns the
    # walk's answer otherwise, compared above).
    walked_errors, walked_cuts = _full_walk(data)
    assert validator.is_clean(data) == (not walked_errors and not walked_cuts) == (not old.errors and not old.cuts), label
    COMPARED[label] = COMPARED.get(label, 0) + 1


# ------------------------------------------------------------------------------ the corpus


def _parsed(text: str) -> dict[str, Any] | None:
    """The data of a manifest's text, or None. Text with a lone surrogate is left out: a manifest
    is UTF-8 decoded, so it never has one (and pydantic refuses such a key where the walk
    calls it unknown, a difference no file can reach)."""
    try:
        text.encode("utf-8")
        data = toml.loads(text)
    except (UnicodeEncodeError, toml.TOMLError):
        return None
    return data if isinstance(data, dict) else None


MINIMAL = 'schema_version = 1\n[project]\nname = "n"\n[task]\nkind = "extraction"\n[proposal]\napproach = "prompting"\n'
MINIMAL_DATA = toml.loads(MINIMAL)


def repository_manifests() -> list[tuple[str, str, dict[str, Any]]]:
    """Every manifest under tests/, examples/, fuzz/corpus/ and the shared scenarios, as
    (name, text, data): TOML files; the manifests tests write inline (string constants that
    name a schema_version, or that are valid TOML appended to a minimal manifest); the built-in
    pack's cases."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    files = [*REPO.glob("tests/**/*.toml"), *REPO.glob("examples/**/*.toml"), *SHARED_SCENARIOS.glob("*.toml")]
    for path in sorted(files):
        data = _parsed(path.read_text(encoding="utf-8"))
        if data is not None:
            found.append((str(path), path.read_text(encoding="utf-8"), data))
    for path in sorted((REPO / "fuzz" / "corpus" / "manifest").glob("*")):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        data = _parsed(text)
        if data is not None:
            found.append((str(path), text, data))
    for path in sorted(REPO.glob("tests/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            # A whole manifest, or a tail a test appends to its minimal one.
            text = node.value if "schema_version" in node.value else MINIMAL + "\n" + node.value
            data = _parsed(text) if "=" in node.value else None
            if data is not None and (text == node.value or data != MINIMAL_DATA):
                found.append((f"{path.name}:{node.lineno}", text, data))
    pack = load_pack(builtin_pack_path())
    for case in load_cases(pack):
        data = copy.deepcopy(dict(case.manifest))
        found.append((f"{case.where}", to_toml(data), data))
    return found


CORPUS = repository_manifests()
#: The well-formed manifests mutations start from (the richest first).
BASES = sorted(
    ((name, text, data) for name, text, data in CORPUS
     if not validator.check(data)[0] and "ext" not in data and data.get("schema_version") == 1),
    key=lambda item: -len(str(item[2])),
)


def paths(value: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key path in ``value``, list indexes included, parents before children."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


def tables(value: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """The paths of every table in ``value``, the root included."""
    if isinstance(value, dict):
        yield prefix
        for key, item in value.items():
            yield from tables(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from tables(item, (*prefix, index))


def replaced(data: Any, key_path: KeyPath, value: Any) -> Any:
    """``data`` with the value at ``key_path`` replaced (copied along the path only)."""
    if not key_path:
        return value
    head, *rest = key_path
    out = copy.copy(data)
    out[head] = replaced(data[head], tuple(rest), value)
    return out


def deleted(data: Any, key_path: KeyPath) -> Any:
    head, *rest = key_path
    out = copy.copy(data)
    if rest:
        out[head] = deleted(data[head], tuple(rest))
    else:
        del out[head]
    return out


def added(data: Any, table: KeyPath, key: str, value: Any) -> Any:
    """``data`` with ``key = value`` appended to the table at ``table``."""
    if not table:
        return {**data, key: value}
    head, *rest = table
    out = copy.copy(data)
    out[head] = added(data[head], tuple(rest), key, value)
    return out


NAN, INF = float("nan"), float("inf")
#: A value of every TOML type, and the edges of every field's range and form.
VALUES: list[Any] = [
    "", " ", "\t\n", "\u200b", "\u3164\u2800", "\u0301", "x", "general", "Medical", "fine-tune", "Fine_Tune", "knowledge",
    "FMT001", "2027-03-31", "é" * 45,
    0, 1, -1, 2, 7, 50, 85, 100, 101, 10**12, 10**12 + 1, -(10**12), 2**53 + 1, 2**63, 2**1023, 2**1024, 10**400, -(10**400),
    0.0, -0.0, 0.5, 1.0, 1.0000001, 1.5, 50.0, 85.5, 100.0, 100.5, -0.5, 1e12, 1e12 + 0.5, 1e300, NAN, INF, -INF,
    True, False,
    datetime.date(2027, 3, 31), datetime.datetime(2027, 3, 31, 12, 0), datetime.datetime(2027, 3, 31, tzinfo=datetime.timezone.utc),
    datetime.time(12, 30),
    [], [1], ["x"], ["knowledge"], ["knowledge", "nope", 3, "knowledge"], [[]], [{}], [[1] * 1001],
    [{"rule": "FMT001", "reason": " ", "owner": 3, "expires": "2027-01-01", "extra": 1}],
    list(range(MAX_LIST_ITEMS + 1)), ["knowledge"] * (MAX_LIST_ITEMS + 1), ["knowledge"] * MAX_LIST_ITEMS + ["nope"],
    ["nope"] * (MAX_LIST_ITEMS + 1), [{"rule": 1}] * (MAX_LIST_ITEMS + 1),
    {}, {"x": 1}, {"name": 1, "kind": "other", "approach": "rag"}, {"nested": {"deep": [1] * (MAX_LIST_ITEMS + 1)}},
    {"examples": -1, "high_quality": 2.0, "zero_shot": NAN},
]


def near_names(key: str) -> list[str]:
    """Unknown keys a typo away from ``key``."""
    return [key + "s", key[:-1], key.upper(), key.replace("_", "-"), key[1:] + key[0]]


FAR_NAMES = ["zzz", "unrelated_key_name", "kind", "examples", "waivers", "ext", "schema_version", "1"]


def systematic() -> Iterator[tuple[Source, dict[str, Any]]]:
    """Mutations of the well-formed manifests: each key deleted (in all of them); each key's
    value (tables and list items included) replaced by each of :data:`VALUES`, and unknown keys
    near and far from the real names added to every table (in the three richest manifests; a
    sample of both in the next twenty)."""
    for rank, (name, text, data) in enumerate(BASES):
        source = Source(name, text)
        every = list(paths(data))
        for key_path in every:
            yield source, deleted(data, key_path)
        if rank >= 23:
            continue
        values = VALUES if rank < 3 else VALUES[rank % 7::7]
        for key_path in every:
            for value in values:
                yield source, replaced(data, key_path, value)
        for table in tables(data):
            node = data
            for part in table:
                node = node[part]
            names = [n for key in node for n in near_names(str(key))] + FAR_NAMES
            for key in names if rank < 3 else names[rank % 4::4]:
                for value in (1, {"a": 1}, [1] * (MAX_LIST_ITEMS + 1)):
                    yield source, added(data, table, key, value)


def test_every_manifest_of_the_repository() -> None:
    assert len(CORPUS) > 500 and len(BASES) > 100
    for name, text, data in CORPUS:
        compare(data, Source(name, text), label="repository")
    print(f"\nrepository manifests compared: {COMPARED['repository']}")


def test_systematic_mutations() -> None:
    for source, data in systematic():
        compare(data, source, label="systematic")
    assert COMPARED["systematic"] > 20_000
    print(f"\nsystematic mutations compared: {COMPARED['systematic']}")


def test_ext_tables_are_validated_by_their_models_as_before() -> None:
    """The core drops ext problems; a plugin's model sees the lists cut to the limit, as before."""

    class Review(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        reviewer: Text
        scores: list[int] = []

    name, text, data = BASES[0]
    source = Source(name, text)
    tables_ = [
        {"review": {"reviewer": "ana", "scores": [1, 2]}},
        {"review": {"reviewer": " ", "scores": list(range(MAX_LIST_ITEMS)) + ["x"]}},
        {"review": {"reviewer": "ana", "scores": ["x"] * (MAX_LIST_ITEMS + 5)}, "other": [1] * (MAX_LIST_ITEMS + 1)},
        {"review": 1, "revue": {}},
        {"review": {"reviewer": "ana", "extra": {"deep": [[1] * (MAX_LIST_ITEMS + 1)]}}},
        [1] * (MAX_LIST_ITEMS + 1),
        "x",
    ]
    for ext in tables_:
        for models in ({}, {"review": Review}):
            compare({**data, "ext": ext}, source, models, label="ext")


# ------------------------------------------------------------------------------ hypothesis

KEYS = sorted({part for path in DESCRIBED for part in path.split(".")} | {"zzz", "Kind", "examplez", ""})
SCALARS = st.one_of(
    st.text(max_size=8), st.sampled_from(["", " ", "\u200b", "knowledge", "general", "fine-tune", "small", "none"]),
    st.integers(), st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([10**12, 10**12 + 1, 10**400, 2**1024]),
    st.floats(), st.floats(min_value=0, max_value=1), st.booleans(),
    st.dates(), st.datetimes(), st.datetimes(timezones=st.just(datetime.timezone.utc)), st.times(),
)
VALUE = st.recursive(
    st.one_of(SCALARS, st.sampled_from([[1] * (MAX_LIST_ITEMS + 1), ["knowledge"] * (MAX_LIST_ITEMS + 2)])),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(KEYS), children, max_size=5),
    max_leaves=12,
)
#: ``POLICYLINT_FUZZ_SCALE=50`` multiplies the examples, for a longer campaign by hand (as test_fuzz).
PROPERTY = settings(max_examples=500 * int(os.environ.get("POLICYLINT_FUZZ_SCALE", "1")), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed manifest with one to five keys replaced, deleted or added."""
    name, text, data = draw(st.sampled_from(BASES[:10]))
    for _ in range(draw(st.integers(1, 5))):
        every = list(paths(data))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "add" or not every:
            table = draw(st.sampled_from(list(tables(data))))
            data = added(data, table, draw(st.sampled_from(KEYS)), draw(VALUE))
        elif action == "delete":
            data = deleted(data, draw(st.sampled_from(every)))
        else:
            data = replaced(data, draw(st.sampled_from(every)), draw(VALUE))
    return data


@PROPERTY
@given(mutated())
def test_hypothesis_mutated_manifests(data: dict[str, Any]) -> None:
    compare(data, label="hypothesis-mutated")


@PROPERTY
@given(st.dictionaries(st.sampled_from(KEYS), VALUE, max_size=8))
def test_hypothesis_arbitrary_tables(data: dict[str, Any]) -> None:
    compare(data, label="hypothesis-arbitrary")


# ------------------------------------------------------------------------------ the check path


def test_check_imports_no_pydantic(tmp_path: Path) -> None:
    """A real ``policylint check`` of a well-formed manifest never loads pydantic."""
    path = REPO / "examples" / "prompting-only" / "mlproject.toml"
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('LOADED', sorted(m for m in ('pydantic', 'pydantic_core') if m in sys.modules)))\n"
        "from policylint.cli import main\n"
        f"sys.argv = ['policylint', 'check', '--today', '2026-12-01', {str(path)!r}]\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "pass" in proc.stdout.lower()
    assert proc.stdout.splitlines()[-1] == "LOADED []"


def test_the_manifest_modules_import_no_pydantic() -> None:
    code = (
        "import sys, policylint.cli, policylint.runner, policylint.engine, policylint.manifest, policylint.facts\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "[]"


# ------------------------------------------------------------------------------ the fast path's pieces


def test_has_visible_is_any_visible_character() -> None:
    """schema.has_visible skips the call per character for printable ASCII: the same answer."""
    from policylint.schema import has_visible, is_visible

    singles = [chr(code) for code in range(0x3200)] + ["\u3164", "\uffa0", "\u2800", "\u200b", "\u2060", "\ufeff", "\U0001f600"]
    texts = singles + ["", " ", "  ", " x ", "\tx", "x\x00", "\x00", " \x7f", "\x1f", "a b", "\u00a0", "é", "\u0301x"]
    for text in texts:
        assert has_visible(text) == any(map(is_visible, text)), repr(text)


def test_the_generator_refuses_floats_the_fast_path_cannot_compare_exactly() -> None:
    """An integer given for a float is compared as a float; past 2**53 it may round to the bound."""
    from policylint import manifest_spec

    fast = manifest_spec._FastPath()
    assert "0 <= value <= 1" in fast.test(("float", 0, 1, False), "value", "rate")
    for check in [("float", None, 1, False), ("float", 0, None, True), ("float", 0, 2**53, False)]:
        try:
            fast.test(check, "value", "rate")
        except ValueError:
            continue
        raise AssertionError(f"{check} was translated")


# ------------------------------------------------------------------------------ the namespace


def old_flatten(table: dict[str, Any], prefix: str, into: dict[str, Any]) -> None:
    """The old ``facts._flatten``, verbatim."""
    for key, value in table.items():
        path = prefix + key
        into[path] = value
        if type(value) is dict:
            for sub_key, sub_value in value.items():
                sub_path = path + "." + sub_key
                into[sub_path] = sub_value
                if type(sub_value) is dict:
                    old_flatten(sub_value, sub_path + ".", into)


def old_namespace(data: dict[str, Any], defaults: dict[str, Any] = facts._STATIC_DEFAULTS) -> dict[str, Any]:
    """The old ``facts.namespace``, verbatim: the oracle for the one that makes fewer dict operations."""
    ns: dict[str, Any] = dict(defaults)
    old_flatten(data, "", ns)
    ns.pop("waivers", None)
    approach = ns["proposal.approach"]
    ns.setdefault("task.reasoning", ns["task.kind"] == "reasoning")
    if approach == "distill":
        ns.setdefault("proposal.model_tier", "small")
    if "evaluation.prompting.few_shot" in ns:
        ns.setdefault("evaluation.prompting.few_shot_variants", 1)
    if "data.examples" in ns:
        ns.setdefault("data.high_quality", ns["data.examples"])
    ns["proposes_fine_tuning"] = approach in facts.FINE_TUNING_APPROACHES
    reasons = list(dict.fromkeys(ns["proposal.reasons"]))
    if approach == "distill" and "cost-latency" not in reasons:
        reasons.append("cost-latency")
    ns["reasons"] = reasons
    reasoning = ns["task.reasoning"] or ns.get("evaluation.failures.mode") == "reasoning"
    ns["reasoning"] = True
    ns["reasoning.applies"] = reasoning
    applicable = [s for s in facts.CHECKLIST_STEPS if s != "chain_of_thought" or reasoning]
    scores = {step: ns[key] for step, key in facts._STEP_KEYS if key in ns}
    ns["checklist"] = True
    ns["checklist.applicable"] = applicable
    ns["checklist.missing"] = [s for s in applicable if s not in scores]
    ns["checklist.exhausted"] = not ns["checklist.missing"]
    if scores:
        ns["checklist.best"] = max(scores.values())
    domain_prompt = "evaluation.prompting.domain_prompt"
    best = max((*scores.values(), ns[domain_prompt]) if domain_prompt in ns else scores.values(), default=None)
    if best is not None:
        ns["prompting"] = True
        ns["prompting.best"] = best
    if "volume.requests_per_day" in ns:
        ns["volume.per_day"] = ns["volume.requests_per_day"]
        ns["volume.per_month"] = ns["volume.requests_per_day"] * facts.DAYS_PER_MONTH
    elif "volume.requests_per_month" in ns:
        ns["volume.per_month"] = ns["volume.requests_per_month"]
        ns["volume.per_day"] = ns["volume.requests_per_month"] / facts.DAYS_PER_MONTH
    examples = ns.get("evaluation.examples")
    if best is not None and examples:
        low, high = facts.wilson_interval(best, examples)
        ns["eval"] = ns["eval.interval"] = True
        ns["eval.interval.low"], ns["eval.interval.high"] = low, high
    return ns


def compare_namespaces(data: dict[str, Any], label: str) -> None:
    """The same keys in the same order, and values of the same types and values."""
    if not validator.is_clean(data):
        return
    old, new = old_namespace(data), facts.namespace(data)
    assert list(new) == list(old), label
    assert all(_same(new[key], old[key]) for key in old), label
    with_ext = {**facts._STATIC_DEFAULTS, "ext.review.level": 1}
    assert list(facts.namespace(data, with_ext).items()) == list(old_namespace(data, with_ext).items()), label
    COMPARED[f"namespace {label}"] = COMPARED.get(f"namespace {label}", 0) + 1


SCORES = [0, 1, 0.0, 1.0, 0.5, 0.85, 0.9999]


def test_the_namespace_is_the_old_one() -> None:
    """Every well-formed manifest of the repository and its mutations; the prompting scores
    varied (integers and floats, ties: the best is the first highest, of its own type), and
    the keys the defaults and facts depend on deleted."""
    for name, text, data in CORPUS:
        compare_namespaces(data, "repository")
    for _, data in systematic():
        compare_namespaces(data, "systematic")
    for name, text, data in BASES[:20]:
        prompting = data.get("evaluation", {}).get("prompting")
        if not isinstance(prompting, dict):
            continue
        for step in [*facts.CHECKLIST_STEPS, "domain_prompt"]:
            for score in SCORES:
                if step in prompting:
                    compare_namespaces(replaced(data, ("evaluation", "prompting", step), score), "scores")
                else:
                    compare_namespaces(added(data, ("evaluation", "prompting"), step, score), "scores")
        for step in prompting:
            compare_namespaces(deleted(data, ("evaluation", "prompting", step)), "scores")
        for checklist_score in SCORES:  # ties between the checklist's best and the domain prompt
            for domain_score in SCORES:
                tie = {**prompting, "zero_shot": checklist_score, "domain_prompt": domain_score}
                compare_namespaces(replaced(data, ("evaluation", "prompting"), tie), "scores")
    compare_namespaces({**MINIMAL_DATA, "ext": {"review": {"level": 2, "nested": {"deep": {"x": [1]}}}}}, "ext")
    assert COMPARED["namespace systematic"] > 5_000 and COMPARED["namespace scores"] > 500
