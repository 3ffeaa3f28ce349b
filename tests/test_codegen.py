"""Generated evaluation (:mod:`policylint.codegen`) against the closures it replaces on the hot path.

(a) Each condition's generated function gives what its closure gives (the same value of the
    same type, or the same exception) on the namespaces of every manifest under tests/, of the
    shared scenarios and of Hypothesis-made namespaces, for the built-in pack's conditions and
    Hypothesis-made ones, including functions that raise.
(b) :meth:`Engine.decide` gives equal results through the generated function and the closures,
    and the same error (type, message, cause) when a rule raises.
(c) No text of a policy file reaches the generated source: its only literals are integers.
"""

from __future__ import annotations

import datetime
import io
import math
import re
import tokenize
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_expr_properties import FUNCTIONS, NAMESPACES, PARAMS, PLACEHOLDERS, TREES, typed, without_one_key

from conftest import REPO
from policylint import codegen
from policylint.builtin import builtin_pack_path
from policylint.checks import Check
from policylint.engine import Engine, EngineOptions, RuleSet
from policylint.errors import PolicylintError
from policylint.expr import MAX_DEPTH, Code, Compiler, ExpressionError, Function
from policylint.facts import FACTS, namespace
from policylint.manifest import FIELDS, load_manifest
from policylint.packs import load_pack
from policylint.schema import ABSENT

TESTS = Path(__file__).parent
SHARED_SCENARIOS = REPO.parent / "shared" / "scenarios"  # ../shared beside the repository, as CI has it
TODAY = datetime.date(2026, 12, 1)
ALL_FIELDS = {**FIELDS, **FACTS}
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _boom(value: Any) -> Any:
    """A plugin's function with a bug for some inputs."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 100:
        raise ValueError(f"too big: {value}")
    return value


RAISING = {**FUNCTIONS, "boom": Function("boom", _boom, 1, "raises for numbers above 100")}
COMPILER = Compiler(ALL_FIELDS, PARAMS, RAISING)


def _manifest_files() -> list[Path]:
    files = sorted(TESTS.rglob("*.toml"))
    if SHARED_SCENARIOS.is_dir():
        files += sorted(SHARED_SCENARIOS.glob("*.toml"))
    return files


def _manifests() -> list[tuple[str, bytes]]:
    """Every TOML file under tests/ and in the shared scenarios (most are manifests)."""
    return [(str(path), path.read_bytes()) for path in _manifest_files()]


MANIFESTS = _manifests()


def _namespaces() -> list[dict[str, Any]]:
    found = []
    for path, raw in MANIFESTS:
        loaded = load_manifest(path, raw, {})
        if not loaded.findings and loaded.data is not None:
            found.append(namespace(loaded.data))
    return found


FILE_NAMESPACES = _namespaces()
EVERY_NAMESPACE = FILE_NAMESPACES + NAMESPACES


def _outcome(evaluate: Callable[[dict[str, Any]], Any], ns: dict[str, Any]) -> tuple[Any, ...]:
    """What evaluating gives: the value (its type and repr, so NaN equals NaN) or the exception."""
    try:
        value = evaluate(ns)
    except Exception as exc:
        return ("raised", type(exc), str(exc))
    return ("value", type(value), repr(value))


def _agree(source: str, namespaces: list[dict[str, Any]], compiler: Compiler | None = None) -> bool:
    """The generated function gives what the closure gives on every namespace; False if refused."""
    try:
        compiled = (compiler or COMPILER).compile_condition(source)
    except ExpressionError:
        return False
    assert compiled.code is not None
    generated = codegen.condition_function(compiled.code)
    for ns in namespaces:
        assert _outcome(generated, ns) == _outcome(compiled.evaluate, ns), (source, ns)
    return True


def test_the_corpus_is_large() -> None:
    assert len(FILE_NAMESPACES) >= 25
    assert len(EVERY_NAMESPACE) > 150


# -- (a) conditions -------------------------------------------------------------------------------


def _pack_conditions() -> list[str]:
    pack = load_pack(builtin_pack_path())
    return [source for policy in pack.policies for source in (policy.when, *(when for when, _ in policy.messages))]


PACK = load_pack(builtin_pack_path())


def _pack_params() -> dict[str, Any]:
    engine = Engine([PACK], options=EngineOptions(today=TODAY))
    return {name: value for name, (value, _) in engine.params.items()}


@pytest.mark.parametrize("source", _pack_conditions())
def test_the_packs_conditions(source: str) -> None:
    assert _agree(source, EVERY_NAMESPACE, Compiler(ALL_FIELDS, _pack_params()))


HAND_WRITTEN = [
    "boom(data.examples) > 0",  # raises on most manifests
    "task.narrow or boom(data.examples) > 0",  # ...only where the first part is false
    "missing(data.examples) and boom(data.examples) > 0",
    "boom(data.examples) == boom(evaluation.examples)",  # the second raises after the first ran
    "data.examples < boom(evaluation.examples) < 100",
    "boom(1) < boom(data.examples) <= boom(evaluation.examples)",
    "len(ident(reasons)) > 1 and ident(task.kind) in ['extraction', 'reasoning'] and not ident(task.narrow)",
    "ident(data.examples) in ident(reasons)",
    "ident(task.kind) in 'extraction reasoning'",
    "'ex' in ident(task.kind)",
    "junk(1) == junk(1) or junk(2) in reasons",
    "ident(data.examples) < ident(evaluation.examples)",
    "-ident(data.examples) < -data.examples + 1",
    "data.examples / (evaluation.examples - evaluation.examples) > 0",  # division by zero is absent
    "coalesce(ident(volume.per_day), data.examples, 3) * 1e15 * 1e15 * 1e15 > 1",
    "min(data.examples, ident(task.kind)) < 1",  # a misfit argument makes the call absent
    "max(data.examples, evaluation.examples, 1) >= 1 and abs(-data.examples) == data.examples",
    "any_in(reasons, ['behavior', 'cost-latency']) and defined(volume.per_day) and missing(volume.per_month)",
    "(task.narrow and data.examples) or (evaluation.examples and 0)",
    "task.narrow and data.examples and evaluation.examples",
    "task.narrow or data.examples or evaluation.examples or 0",
    "1 < 2 < 3 < data.examples != evaluation.examples",
    "shout(task.kind) == 'EXTRACTION'",
    "params.quality_bar <= evaluation.prompting.few_shot < 1",
    "not not not task.narrow",
]


@pytest.mark.parametrize("source", HAND_WRITTEN)
def test_hand_written_conditions(source: str) -> None:
    assert _agree(source, EVERY_NAMESPACE)


def test_conditions_at_the_depth_limit_are_generated() -> None:
    """The deepest condition of each construct compiles as Python, not by the closures' fallback."""
    shapes: list[Callable[[int], str]] = [
        lambda n: "not " * n + "task.narrow",
        lambda n: "data.examples" + " + 1" * n + " > 0",
        lambda n: "(" * n + "task.narrow" + " and task.narrow)" * n,
        lambda n: "(" * n + "task.narrow" + " == true)" * n,
        lambda n: "(" * n + "ident(data.examples)" + " == ident(1) != ident(data.examples) == ident(true))" * n,
        lambda n: "ident(1) < " * n + "data.examples",
        lambda n: "abs(" * n + "data.examples" + ")" * n + " > 0",
        lambda n: "coalesce(" * n + "ident(data.examples)" + ", 1)" * n + " > 0",
    ]
    for shape in shapes:
        deepest = next(n for n in range(MAX_DEPTH, 0, -1) if _compiles(shape(n)))
        assert deepest >= MAX_DEPTH - 5, shape(1)
        compiled = COMPILER.compile_condition(shape(deepest))
        assert compiled.code is not None
        codegen.condition_function(compiled.code)  # would raise if Python refused it
        assert _agree(shape(deepest), NAMESPACES[:20])


def _compiles(source: str) -> bool:
    try:
        COMPILER.compile_condition(source)
    except ExpressionError:
        return False
    return True


def test_a_tree_python_cannot_compile_runs_its_closure() -> None:
    deep = Code("field", "task.narrow")
    for _ in range(5_000):
        deep = Code("not", parts=(deep,))
    calls: list[str] = []
    rules = [
        codegen.Rule(deep, lambda ns: calls.append("closure") or True, lambda ns: "deep"),
        codegen.Rule(Code("field", "task.narrow"), None, lambda ns: "shallow"),
    ]
    run = codegen.rules_function(rules, lambda path, index, exc: exc)
    assert run({"task.narrow": True}, "m.toml") == [(0, ["deep"]), (1, ["shallow"])]
    assert calls == ["closure"]


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20), st.floats(),
    st.text(max_size=6), st.sampled_from(["extraction", "reasoning", "format-consistency", "behavior", "legal"]),
    st.lists(st.one_of(st.text(max_size=4), st.integers(), st.sampled_from(["behavior", "cost-latency"])), max_size=4),
    st.tuples(st.integers(), st.text(max_size=3)), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.dates(), st.datetimes(),
)
PATHS = sorted(ALL_FIELDS)


@st.composite
def namespaces(draw: st.DrawFn) -> dict[str, Any]:
    """A scenario's namespace with some keys removed and some given values of any type."""
    ns = dict(draw(st.sampled_from(EVERY_NAMESPACE)))
    for path in draw(st.lists(st.sampled_from(PATHS), max_size=6)):
        ns.pop(path, None)
    for path, value in draw(st.dictionaries(st.sampled_from(PATHS), VALUES, max_size=6)).items():
        ns[path] = value
    return ns


@PROPERTY
@given(typed("bool", 3), st.lists(namespaces(), min_size=1, max_size=8))
def test_well_typed_conditions_agree(source: str, extra: list[dict[str, Any]]) -> None:
    # Refused ones (a membership test of a number, say) are discarded, not passed: should the
    # strategy ever give only those, Hypothesis fails the test as unsatisfiable.
    assume(_agree(source, NAMESPACES[::7] + extra))


@PROPERTY
@given(TREES, st.lists(namespaces(), min_size=1, max_size=4))
def test_any_syntax_tree_agrees(tree: Any, extra: list[dict[str, Any]]) -> None:
    import ast

    try:
        source = ast.unparse(ast.fix_missing_locations(ast.Expression(tree)))
    except Exception:
        return
    _agree(source, NAMESPACES[::11] + extra)


KNOWN_COMPILER = Compiler(ALL_FIELDS, _pack_params() | PARAMS, RAISING)


@PROPERTY
@given(st.sampled_from(HAND_WRITTEN + _pack_conditions()), st.lists(namespaces(), min_size=1, max_size=10))
def test_known_conditions_agree_on_any_values(source: str, extra: list[dict[str, Any]]) -> None:
    assert _agree(source, extra, KNOWN_COMPILER)


@PROPERTY
@given(st.lists(st.one_of(PLACEHOLDERS, st.text(max_size=5), st.sampled_from(["{{", "}}"])), max_size=6),
       st.lists(namespaces(), min_size=1, max_size=6))
def test_messages_agree(parts: list[str], extra: list[dict[str, Any]]) -> None:
    """A generated message is the text its template's closure renders, as a [[messages]] entry's
    text (when its condition holds) and as the default."""
    try:
        template = COMPILER.compile_template("".join(parts))
    except ExpressionError:
        return
    fallback = COMPILER.compile_template("no examples")
    when = COMPILER.compile_condition("defined(data.examples)")
    assert when.code is not None
    rule = codegen.Rule(Code("const", True), None, lambda ns: "", variants=((when.code, template.pieces),),
                        default=fallback.pieces)
    as_entry = codegen.rules_function([rule], lambda path, index, exc: exc)
    as_default = codegen.rules_function([rule._replace(variants=(), default=template.pieces)], lambda path, index, exc: exc)
    for ns in NAMESPACES[::13] + extra:
        expected = template.render(ns) if "data.examples" in ns else fallback.render(ns)
        assert as_entry(ns, "m.toml") == [(0, [expected])]
        assert as_default(ns, "m.toml") == [(0, [template.render(ns)])]


# -- (b) the engine -------------------------------------------------------------------------------


def _engines(packs: tuple[Any, ...] = (PACK,), **kwargs: Any) -> tuple[Engine, Engine]:
    """Two engines with rule sets of their own: one runs closures, one the generated function."""
    closures = Engine(packs, options=EngineOptions(today=TODAY), **kwargs)
    generated = Engine(packs, options=EngineOptions(today=TODAY), **kwargs)
    return closures, generated


def _decide(engine: Engine, generate: bool, path: str, raw: bytes, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(RuleSet, "GENERATE_AFTER", 0 if generate else 10**9)
    try:
        return ("result", engine.check(path, raw))
    except PolicylintError as exc:
        return ("error", type(exc), str(exc), type(exc.__cause__), str(exc.__cause__))


def _without_one_key(raw: bytes) -> Iterator[bytes]:
    """A manifest with each of its keys or tables (at any depth) removed in turn, written back."""
    try:
        data = tomli.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomli.TOMLDecodeError):
        return
    for variant in without_one_key(data):
        yield _dumps(variant).encode()


def _dumps(data: dict[str, Any], prefix: str = "") -> str:
    """Just enough TOML writing for manifests (tables, scalars, arrays of scalars and tables)."""
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.extend((key, [v]) for v in value)
        else:
            lines.append(f"{key} = {_value(value)}")
    text = "\n".join(lines) + "\n"
    for key, value in tables:
        name = f"{prefix}{key}"
        if isinstance(value, list):
            text += f"\n[[{name}]]\n" + _dumps(value[0], name + ".")
        else:
            text += f"\n[{name}]\n" + _dumps(value, name + ".")
    return text


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def test_decide_agrees_on_every_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    closures, generated = _engines()
    checked = 0
    for path, raw in MANIFESTS:
        for variant in (raw, *_without_one_key(raw)):
            expected = _decide(closures, False, path, variant, monkeypatch)
            assert _decide(generated, True, path, variant, monkeypatch) == expected, path
            checked += 1
    assert generated._rules_functions and not closures._rules_functions
    assert checked > 900


def _failing_check(ns: Any, params: Any) -> list[str]:
    if ns.get("data.examples", 0) > 2_000:
        raise KeyError("examples")
    return ["checked"] if ns.get("task.narrow") else []


def test_errors_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin's check or function that raises stops the run with the same error either way."""
    check = Check("XPL001", "x", "x", "warning", "data.examples", "x", _failing_check, applies_to="any")
    for kwargs in ({"checks": [(check, "plugin x")]}, {}):
        closures, generated = _engines(**kwargs)
        outcomes = set()
        for path, raw in MANIFESTS:
            expected = _decide(closures, False, path, raw, monkeypatch)
            assert _decide(generated, True, path, raw, monkeypatch) == expected, path
            outcomes.add(expected[0])
        assert outcomes == ({"result", "error"} if kwargs else {"result"})


def test_a_raising_condition_names_its_rule(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A condition whose function raises: the error names the manifest and the rule, from the cause."""
    pack_dir = tmp_path / "pack"
    pack_dir.mkdir()
    (pack_dir / "pack.toml").write_text('[pack]\nname = "t"\nversion = "1"\ndescription = "t"\n', encoding="utf-8")
    builtin = (builtin_pack_path() / "FMT004.toml").read_text(encoding="utf-8")
    policy = builtin.replace('"FMT004"', '"TST001"').replace(
        'when = "downstream.machine_parsed and not downstream.retry_logic"', 'when = "boom(data.examples) > 0"'
    )
    assert "boom" in policy
    (pack_dir / "TST001.toml").write_text(policy, encoding="utf-8")
    pack = load_pack(pack_dir)
    closures, generated = _engines((pack,), functions={"boom": RAISING["boom"]})
    outcomes = []
    for path, raw in MANIFESTS:
        expected = _decide(closures, False, path, raw, monkeypatch)
        assert _decide(generated, True, path, raw, monkeypatch) == expected, path
        outcomes.append(expected)
    assert generated._rules_functions and not closures._rules_functions
    assert any(o[0] == "error" and "TST001" in o[2] and o[3] is ValueError for o in outcomes)


# -- (c) safety ----------------------------------------------------------------------------------

_NUMBERED_NAME = re.compile(r"_[kvtfmcs][0-9]+")
_FIXED_NAMES = {
    *codegen._RUNTIME, "_fail", "_get", "_fired", "_path", "_e", "_r", "_condition", "_rules", "ns", "get", "append",
    "True", "False", "def", "return", "and", "or", "not", "in", "is", "if", "else", "try", "except", "raise", "from", "as",
} - {"__builtins__"}


def _assert_no_user_text(source: str) -> None:
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            raise AssertionError(f"a string literal in generated code: {token.string}")
        if token.type == tokenize.NUMBER:
            assert token.string.isdigit(), token.string
        if token.type == tokenize.NAME:
            assert token.string in _FIXED_NAMES or _NUMBERED_NAME.fullmatch(token.string), token.string


def test_no_policy_text_becomes_code() -> None:
    hostile = {"evil": "')); __import__('os').system('true'); ('", "__import__": 2}
    compiler = Compiler(ALL_FIELDS, _pack_params() | hostile | PARAMS, RAISING)
    sources = [
        "project.name == \"')); __import__('os').system('true'); ('\" or params.evil in project.owner",
        "params.__import__ < data.examples",
        "'\\n    import os\\n' in project.owner or data.examples > 1e15",
        "ident(task.kind) in ['a\"b', \"c'd\", '{x}', '\\\\']",
        *HAND_WRITTEN,
        *_pack_conditions(),
    ]
    codes = []
    for source in sources:
        compiled = compiler.compile_condition(source)
        assert compiled.code is not None
        codes.append(compiled.code)
        _assert_no_user_text(codegen.condition_source(compiled.code)[0])
    rules = [codegen.Rule(code, lambda ns: True, lambda ns: "") for code in codes]
    rules.append(codegen.Rule(None, None, lambda ns: [], is_check=True))
    source, table = codegen.rules_source(rules, lambda path, index, exc: exc, by_closure={1})
    _assert_no_user_text(source)
    assert table["__builtins__"] == {}


def test_the_generated_code_has_no_builtins() -> None:
    code = COMPILER.compile_condition("len(reasons) > 0").code
    assert code is not None
    function = codegen.condition_function(code)
    assert function.__globals__["__builtins__"] == {}
    assert function({"reasons": ["a"]}) is True
    assert function({"reasons": ABSENT}) is False


def test_a_function_too_deep_to_compile_falls_back_to_every_rules_closures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the whole function fail to compile even with the too-deep conditions left to
    their closures, every rule runs its closures: the same results, never a SyntaxError."""
    pack = load_pack(builtin_pack_path())
    engine = Engine([pack])
    applicable = engine._applicable[True]
    rules = [codegen.Rule(None, c.evaluate, c.evaluate, is_check=True) for c in applicable]
    compiled_sources: list[set[int]] = []
    real = codegen._rules_function

    def refusing(rules: Any, fail: Any, by_closure: Any) -> Any:
        closures = set(by_closure)
        compiled_sources.append(closures)
        if len(closures) < len(applicable):
            raise RecursionError("too deep for the compiler")
        return real(rules, fail, closures)

    monkeypatch.setattr(codegen, "_rules_function", refusing)
    function = codegen.rules_function(rules, lambda path, index, exc: exc)
    assert compiled_sources[-1] == set(range(len(applicable))) and len(compiled_sources) == 3
    ns = namespace(tomli.loads((REPO / "tests" / "scenarios" / "02-knowledge-via-fine-tuning.toml").read_text("utf-8")))
    assert function(ns, "m.toml") == [(i, m) for i, c in enumerate(applicable) if (m := c.evaluate(ns))]
