"""Properties of the condition language: it is closed, and what it accepts it can run.

(a) Any text either compiles or raises :class:`ExpressionError`, never another exception: plain
    strings, soups of the language's and Python's tokens, and Python syntax trees of any shape.
(b) Whatever compiles evaluates without raising on every valid manifest: the namespaces of the
    scenario manifests, and of each of them with one key or table removed.
"""

from __future__ import annotations

import ast
import copy
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from policylint.expr import BUILTIN_FUNCTIONS, PRESENCE_FUNCTIONS, Compiler, ExpressionError, Function
from policylint.facts import FACTS, namespace
from policylint.manifest import FIELDS, Manifest
from policylint.schema import FieldType

SCENARIOS = Path(__file__).parent / "scenarios"
PARAMS = {"quality_bar": 0.85, "min_examples": 500, "flag": True}
FUNCTIONS = {
    "ident": Function("ident", lambda x: x, 1, "its argument: a result of a type the compiler cannot know"),
    "junk": Function("junk", lambda *a: {"a": a}, None, "a value of no type the language has"),
    "shout": Function("shout", str.upper, 1, "typed: takes a string", takes=("string",)),
}
ALL_FIELDS = {**FIELDS, **FACTS}
COMPILER = Compiler(ALL_FIELDS, PARAMS, FUNCTIONS)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def without_one_key(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``data`` with each key or table removed in turn (at any depth)."""

    def paths(table: dict[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        for key, value in table.items():
            yield (*prefix, key)
            if isinstance(value, dict):
                yield from paths(value, (*prefix, key))

    for path in paths(data, ()):
        variant = copy.deepcopy(data)
        table = variant
        for key in path[:-1]:
            table = table[key]
        del table[path[-1]]
        yield variant


def _valid_namespaces() -> list[dict[str, Any]]:
    namespaces = []
    for path in sorted(SCENARIOS.glob("*.toml")):
        if path.name in ("13-invalid.toml", "expected.toml"):
            continue
        data = tomli.loads(path.read_text(encoding="utf-8"))
        for variant in (data, *without_one_key(data)):
            try:
                Manifest.model_validate(variant)
            except ValidationError:
                continue  # a required key: no valid manifest lacks it
            namespaces.append(namespace(variant))
    return namespaces


NAMESPACES = _valid_namespaces()


def test_the_namespaces_cover_absent_values() -> None:
    assert len(NAMESPACES) > 100
    assert any("data.examples" not in ns for ns in NAMESPACES)
    assert any("evaluation.examples" not in ns for ns in NAMESPACES)


def compiles_or_refuses(source: str) -> Callable[[dict[str, Any]], bool] | None:
    """Property (a): the compiled condition, or None when refused with the language's own error."""
    try:
        condition = COMPILER.condition(source)
    except ExpressionError as exc:
        assert exc.message and exc.column >= 1
        return None
    return condition


def runs_everywhere(condition: Callable[[dict[str, Any]], bool] | None) -> None:
    """Property (b): a compiled condition evaluates on every valid namespace."""
    if condition is None:
        return
    for ns in NAMESPACES:
        assert condition(ns) in (True, False)


# -- (a) text ---------------------------------------------------------------------------------


@PROPERTY
@given(st.text(max_size=120))
def test_any_text(source: str) -> None:
    runs_everywhere(compiles_or_refuses(source))


PATHS = sorted(ALL_FIELDS)
TOKENS = [
    *PATHS[:: max(1, len(PATHS) // 25)], "data.examples", "task.kind", "reasons", "checklist.missing", "project",
    "params.quality_bar", "params.flag", "params.nope", *BUILTIN_FUNCTIONS, *PRESENCE_FUNCTIONS, *FUNCTIONS,
    "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", ":=", "==", "!=", "<", "<=", ">", ">=", "in", "not", "and", "or",
    "is", "+", "-", "*", "/", "//", "%", "**", "&", "|", "^", "~", "<<", "lambda", "if", "else", "for", "await",
    "yield", "True", "False", "None", "true", "false", "...", "0", "1", "-1", "0.5", "1e15", "1e16", "0x1f", "1_0",
    "1j", "'knowledge'", "'generation'", "'x'", '"y"', "b'z'", "f'{x}'", "'\\d'", "*", "\\", "#", "\n", "\t", "é", "\x00",
]


@PROPERTY
@given(st.lists(st.sampled_from(TOKENS), max_size=20), st.sampled_from([" ", ""]))
def test_token_soup(tokens: list[str], separator: str) -> None:
    runs_everywhere(compiles_or_refuses(separator.join(tokens)))


# -- (a) syntax trees of any shape --------------------------------------------------------------

_NAMES = st.sampled_from(["data", "task", "reasons", "params", "x", "len", "true", "false", "project"])
_CONSTANTS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5), st.binary(max_size=3),
    st.complex_numbers(max_magnitude=10, allow_nan=False, allow_infinity=False), st.just(...),
)
_LEAVES = st.one_of(
    _NAMES.map(lambda n: ast.Name(n, ast.Load())),
    st.sampled_from(PATHS).map(lambda p: ast.parse(p, mode="eval").body),
    st.sampled_from([*PARAMS, "nope"]).map(lambda n: ast.parse(f"params.{n}", mode="eval").body),
    _CONSTANTS.map(ast.Constant),
)
_OPERATORS = st.sampled_from([ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod, ast.BitAnd, ast.BitOr,
                              ast.LShift, ast.MatMult])
_COMPARISONS = st.sampled_from([ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot])
_FUNCTION_NAMES = st.sampled_from([*BUILTIN_FUNCTIONS, *PRESENCE_FUNCTIONS, *FUNCTIONS, "open", "eval"])


def _composites(child: st.SearchStrategy[ast.expr]) -> st.SearchStrategy[ast.expr]:
    children = st.lists(child, min_size=1, max_size=3)
    return st.one_of(
        st.builds(ast.BoolOp, st.sampled_from([ast.And(), ast.Or()]), st.lists(child, min_size=2, max_size=3)),
        st.builds(ast.UnaryOp, st.sampled_from([ast.Not(), ast.USub(), ast.UAdd(), ast.Invert()]), child),
        st.builds(ast.BinOp, child, _OPERATORS.map(lambda op: op()), child),
        st.builds(lambda left, pairs: ast.Compare(left, [op() for op, _ in pairs], [c for _, c in pairs]),
                  child, st.lists(st.tuples(_COMPARISONS, child), min_size=1, max_size=3)),
        st.builds(lambda name, args: ast.Call(ast.Name(name, ast.Load()), args, []), _FUNCTION_NAMES, children),
        st.builds(lambda value, args: ast.Call(ast.Attribute(value, "f", ast.Load()), args, []), child, children),
        st.builds(lambda name, arg: ast.Call(ast.Name(name, ast.Load()), [], [ast.keyword("k", arg)]), _FUNCTION_NAMES, child),
        st.builds(lambda name, arg: ast.Call(ast.Name(name, ast.Load()), [ast.Starred(arg, ast.Load())], []),
                  _FUNCTION_NAMES, child),
        st.builds(lambda elts: ast.List(elts, ast.Load()), st.lists(child, max_size=3)),
        st.builds(lambda elts: ast.Tuple(elts, ast.Load()), st.lists(child, max_size=3)),
        st.builds(ast.Set, children),
        st.builds(lambda k, v: ast.Dict([k], [v]), child, child),
        st.builds(lambda v, s: ast.Subscript(v, s, ast.Load()), child, child),
        st.builds(ast.IfExp, child, child, child),
        st.builds(lambda v: ast.Attribute(v, "real", ast.Load()), child),
        st.builds(lambda v: ast.NamedExpr(ast.Name("y", ast.Store()), v), child),
        st.builds(lambda v: ast.Lambda(ast.arguments([], [], None, [], [], None, []), v), child),
        st.builds(lambda v: ast.JoinedStr([ast.FormattedValue(v, -1, None)]), child),
    )


TREES = st.recursive(_LEAVES, _composites, max_leaves=12)


@PROPERTY
@given(TREES)
def test_any_syntax_tree(tree: ast.expr) -> None:
    try:
        source = ast.unparse(ast.fix_missing_locations(ast.Expression(tree)))
    except Exception:  # a tree Python itself cannot print is no input a policy could hold
        return
    runs_everywhere(compiles_or_refuses(source))


# -- (b) well-typed conditions, which mostly compile ---------------------------------------------

def _paths_of(*types: str) -> list[str]:
    kinds = {"number": ("fraction", "count", "number", "integer"), "string": ("string", "text", "enum"),
             "bool": ("bool",), "list": ("list",)}
    return sorted(p for p, t in ALL_FIELDS.items() if any(t.kind in kinds[k] for k in types))


def _values_of(path: str) -> list[str]:
    field_type: FieldType | None = ALL_FIELDS[path]
    if field_type is not None and field_type.kind == "list":
        field_type = field_type.item
    return [repr(v) for v in field_type.values] if field_type is not None else []


ENUM_LITERALS = sorted({v for p in _paths_of("string", "list") for v in _values_of(p)}) + ["'x'", "''"]
NUMBER_LITERALS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).map(repr),
    st.sampled_from(["0", "0.0", "1e-9", "1e15", "-1e15"]),
)
LEAVES: dict[str, st.SearchStrategy[str]] = {
    "number": st.one_of(st.sampled_from(_paths_of("number") + ["params.quality_bar", "params.min_examples"]),
                        NUMBER_LITERALS),
    "string": st.one_of(st.sampled_from(_paths_of("string")), st.sampled_from(ENUM_LITERALS)),
    "bool": st.sampled_from(_paths_of("bool") + ["true", "false", "params.flag"]),
    "list": st.one_of(
        st.sampled_from(_paths_of("list")),
        st.lists(st.sampled_from(ENUM_LITERALS), max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        st.lists(NUMBER_LITERALS, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
    ),
}


def _call(name: str, *args: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*args).map(lambda values: f"{name}({', '.join(values)})")


@functools.cache
def typed(kind: str, depth: int) -> st.SearchStrategy[str]:
    """Conditions (or operands) of one type, at most ``depth`` levels of operators deep."""
    if depth == 0:
        return LEAVES[kind]
    number, string, boolean, listed = (typed(k, depth - 1) for k in ("number", "string", "bool", "list"))
    anything = st.one_of(number, string, boolean, listed)
    unknown = st.one_of(_call("ident", anything), _call("junk", anything))
    binary = st.tuples(number, st.sampled_from(["+", "-", "*", "/"]), number).map(lambda t: f"({' '.join(t)})")
    compound = {
        "number": st.one_of(
            binary, number.map(lambda s: f"-{s}"), _call("len", st.one_of(listed, unknown)),
            _call("abs", st.one_of(number, unknown)), _call("min", number, st.one_of(number, unknown)),
            _call("max", number, number, number), _call("coalesce", number, st.one_of(number, unknown)), unknown,
        ),
        "string": st.one_of(_call("coalesce", string, string), _call("shout", st.one_of(string, unknown)), unknown),
        "list": st.one_of(_call("coalesce", listed, listed), unknown),
        "bool": st.one_of(
            st.tuples(number, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), number).map(" ".join),
            st.tuples(number, number, number).map(lambda t: f"{t[0]} < {t[1]} <= {t[2]}"),
            st.tuples(string, st.sampled_from(["==", "!=", "in", "not in"]), string).map(" ".join),
            st.tuples(st.one_of(string, number, unknown), st.sampled_from(["in", "not in"]), st.one_of(listed, unknown))
            .map(" ".join),
            st.tuples(unknown, st.sampled_from(["<", "==", "in"]), st.one_of(number, string, unknown)).map(" ".join),
            st.tuples(boolean, st.sampled_from(["and", "or"]), boolean).map(lambda t: f"({' '.join(t)})"),
            boolean.map(lambda s: f"not {s}"),
            _call("any_in", listed, listed),
            st.sampled_from(PATHS).map(lambda p: f"defined({p})"),
            st.sampled_from(PATHS).map(lambda p: f"missing({p})"),
            anything, unknown,
        ),
    }
    return st.one_of(LEAVES[kind], compound[kind])


@PROPERTY
@given(typed("bool", 3))
def test_well_typed_conditions(source: str) -> None:
    runs_everywhere(compiles_or_refuses(source))


def test_well_typed_conditions_mostly_compile() -> None:
    """The generator above is only useful if most of what it writes compiles."""
    compiled = []

    @settings(max_examples=200, deadline=None, database=None)
    @given(typed("bool", 2))
    def count(source: str) -> None:
        compiled.append(compiles_or_refuses(source) is not None)

    count()
    assert sum(compiled) > len(compiled) / 2


# -- templates ----------------------------------------------------------------------------------

PLACEHOLDERS = st.one_of(
    st.sampled_from(PATHS), st.sampled_from(["params.quality_bar", "params.nope", "", "0", "x!r"]),
    st.tuples(st.sampled_from(PATHS), st.sampled_from(["example", "query/queries", ">10", ""])).map(":".join),
).map(lambda inner: "{" + inner + "}")


@PROPERTY
@given(st.lists(st.one_of(PLACEHOLDERS, st.text(max_size=5), st.sampled_from(["{", "}", "{{", "}}"])), max_size=6))
def test_templates_compile_or_refuse_and_render_everywhere(parts: list[str]) -> None:
    try:
        template = COMPILER.template("".join(parts))
    except ExpressionError as exc:
        assert exc.column >= 1
        return
    for ns in NAMESPACES:
        rendered = template(ns)
        assert "{'" not in rendered or "{'" in "".join(parts)  # no table shows as a Python dict


@pytest.mark.parametrize("path", [p for p, t in ALL_FIELDS.items() if t.kind == "table"])
def test_no_table_interpolates(path: str) -> None:
    with pytest.raises(ExpressionError, match="which a message cannot show"):
        COMPILER.template(f"{{{path}}}")
