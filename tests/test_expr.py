"""The condition language: what it evaluates to, and how it refuses what it must not run."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from policylint.expr import Compiler, ExpressionError, Function, render
from policylint.facts import FACTS
from policylint.manifest import FIELDS
from policylint.schema import ABSENT

PARAMS = {"quality_bar": 0.85, "min_examples": 500, "max_quality_delta": 0.03}
COMPILER = Compiler(
    {**FIELDS, **FACTS},
    PARAMS,
    {
        "double": Function("double", lambda x: 2 * x, 1, "twice x"),
        "shout": Function("shout", str.upper, 1, "the text in capitals", takes=("string",)),
        "ident": Function("ident", lambda x: x, 1, "its argument, of a type the compiler cannot know"),
    },
)


def evaluate(source: str, **values: Any) -> bool:
    ns = {key.replace("__", "."): value for key, value in values.items()}
    return COMPILER.condition(source)(ns)


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("data.examples >= params.min_examples", {"data__examples": 500}, True),
        ("data.examples >= params.min_examples", {"data__examples": 499}, False),
        ("data.examples < params.min_examples", {}, False),  # absent: a comparison is false
        ("data.examples >= params.min_examples", {}, False),
        ("data.examples != 3", {}, False),  # != with an absent value is false too
        ("not data.examples < 5", {}, True),  # ... so its negation is true
        ("missing(data.examples)", {}, True),
        ("missing(data.examples)", {"data__examples": 0}, False),  # zero is not absent
        ("defined(data.examples)", {"data__examples": 0}, True),
        ("data.examples - 1 > -5", {}, False),  # arithmetic with absent stays absent
        ("data.examples / 0 > 1", {"data__examples": 4}, False),  # division by zero is absent
        ("-data.examples < 0", {"data__examples": 4}, True),
        ("'knowledge' in reasons", {"reasons": ["knowledge"]}, True),
        ("'knowledge' not in reasons", {"reasons": ["knowledge"]}, False),
        ("'knowledge' in reasons", {}, False),
        ("task.kind in ['reasoning', 'generation']", {"task__kind": "generation"}, True),
        ("eval.interval.low < params.quality_bar < eval.interval.high",
         {"eval__interval__low": 0.8, "eval__interval__high": 0.9}, True),
        ("eval.interval.low < params.quality_bar < eval.interval.high",
         {"eval__interval__low": 0.85, "eval__interval__high": 0.9}, False),  # strictly inside
        ("eval.interval.low < params.quality_bar < eval.interval.high", {"eval__interval__low": 0.8}, False),
        ("task.narrow", {"task__narrow": True}, True),
        ("task.narrow == true and not task.reasoning", {"task__narrow": True}, True),
        ("task.narrow or data.examples > 1", {"task__narrow": False}, False),
        ("len(checklist.missing) > 0", {"checklist__missing": ["role"]}, True),
        ("len(checklist.missing) > 0", {}, False),
        ("any_in(reasons, ['behavior', 'knowledge'])", {"reasons": ["knowledge"]}, True),
        ("any_in(reasons, ['behavior', 'cost-latency'])", {"reasons": ["knowledge"]}, False),
        ("coalesce(distillation.max_quality_delta, params.max_quality_delta) == 0.03", {}, True),
        ("coalesce(distillation.max_quality_delta, params.max_quality_delta) == 0.05",
         {"distillation__max_quality_delta": 0.05}, True),
        ("double(data.examples) == 10", {"data__examples": 5}, True),
        ("double(data.examples) == 10", {}, False),  # a plugin function never sees absent
        ("abs(0.90 - 0.87 - 0.03) < 1e-9", {}, True),
        ("min(data.examples) == 3", {"data__examples": 3}, True),  # one argument: itself
        ("max(params.quality_bar) == 0.85", {}, True),
        ("(data.examples\n  > 3)", {"data__examples": 4}, True),  # may span lines
        ("data.examples > 1_000", {"data__examples": 1001}, True),
        ("'gen' in task.kind", {"task__kind": "generation"}, True),  # a string on the right: substring
        ("coalesce(task.kind, 'other') == 'other'", {}, True),  # types differ: the result is a string
        ("coalesce(data.examples, 0.5) < 1", {}, True),
        ("data.examples * 1e15 * 1e15 * 1e15 > 1", {"data__examples": 10**12}, True),
        # Too large for a float: absent, like a division by zero (never an OverflowError).
        ("data.examples" + " * 1000000000000000" * 25 + " / 3 > 0", {"data__examples": 10**12}, False),
        ("volume.per_day" + " * 1e15" * 25 + " - volume.per_day" + " * 1e15" * 25 + " > 0", {"volume__per_day": 1.0}, False),
        # A plugin function's result has no known type: it is checked when the condition runs, and
        # reads as absent where it does not fit (here task.kind, a string, used as a number or list).
        ("ident(task.kind) < 3", {"task__kind": "generation"}, False),
        ("not ident(task.kind) < 3", {"task__kind": "generation"}, True),
        ("ident(data.examples) < 3", {"data__examples": 2}, True),
        ("-ident(task.kind) < 0", {"task__kind": "generation"}, False),
        ("ident(task.kind) + 1 > 0", {"task__kind": "generation"}, False),
        ("len(ident(task.kind)) > 0", {"task__kind": "generation"}, False),
        ("len(ident(reasons)) > 0", {"reasons": ["knowledge"]}, True),
        ("'a' in ident(data.examples)", {"data__examples": 3}, False),
        ("ident(data.examples) in 'abc'", {"data__examples": 3}, False),
        ("ident(data.examples) in ['abc']", {"data__examples": 3}, False),
        ("max(ident(task.kind), 1) == 1", {"task__kind": "generation"}, False),
        ("shout(ident(data.examples)) == 'X'", {"data__examples": 3}, False),
        ("shout(ident(task.kind)) == 'GENERATION'", {"task__kind": "generation"}, True),
        ("(data.examples or 0) + 1 == 1", {}, True),  # 'or' gives an operand: here a number
        ("shout(task.narrow and task.kind) == 'X'", {"task__narrow": True, "task__kind": "x"}, True),
        ("schema_version == 1", {"schema_version": 1}, True),  # an integer, as the manifest holds it
    ],
)
def test_evaluation(source: str, values: dict[str, Any], expected: bool) -> None:
    assert evaluate(source, **values) is expected


ENUM_KIND = "one of 'classification', 'extraction', 'generation', 'summarization', 'reasoning', 'other'"


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("proposal.reason == 'x'", 1, "unknown field 'proposal.reason' (did you mean 'proposal.reasons'?)"),
        ("data.examples > params.min_exmples", 17, "unknown parameter 'min_exmples' (did you mean 'min_examples'?)"),
        ("'knowlege' in reasons", 1, "'knowlege' can never match (did you mean 'knowledge'?)"),
        ("evaluation.failures.mode == 'knowledge_gap'", 29, "'knowledge_gap' can never match (did you mean 'knowledge-gap'?)"),
        ("task.kind in ['reasoning', 'chat']", 14, "'chat' can never match"),
        ("task.kind < 3", 1, f"expected a number; task.kind is {ENUM_KIND}"),
        ("definedd(data.examples)", 1, "unknown function 'definedd' (did you mean 'defined'?)"),
        ("any(x for x in reasons)", 1, "unknown function 'any' (did you mean 'any_in'?)"),
        ("len(reasons, 1)", 1, "len() takes 1 argument(s), got 2"),
        ("defined(params.quality_bar)", 9, "defined() takes a field path such as data.examples"),
        ("defined(1)", 9, "defined() takes a field path"),
        ("len(x=reasons)", 1, "len() takes positional arguments only"),
        ("data.examples > ", 16, "invalid syntax (the condition ends too early)"),
        ("data.examples task.kind", 15, "invalid syntax"),
        ("", 1, "the condition is empty"),
        ("   ", 1, "the condition is empty"),
        ("  task.kind ==", 15, "invalid syntax (the condition ends too early)"),
        # Nothing a policy file says can reach Python's machinery.
        ("__import__('os').system('true')", 1, "only named functions can be called, e.g. defined(data.examples)"),
        ("reasons.count('x') > 0", 1, "only named functions can be called"),
        ("open('/etc/passwd')", 1, "unknown function 'open'"),
        ("reasons.__class__", 1, "unknown field 'reasons.__class__'"),
        ("(lambda: 1)()", 1, "only named functions can be called"),
        # Python syntax outside the language: refused at its column, with what to write instead.
        ("data.examples is 3", 15, "'is' is not supported; use =="),
        ("data.examples is not 3", 15, "'is not' is not supported; use !="),
        ("  data.examples is 3", 17, "'is' is not supported; use =="),
        ("(data.examples) is 3", 17, "'is' is not supported; use =="),
        ("data.examples ** 2 > 1", 15, "'**' is not supported; the arithmetic operators are + - * /"),
        ("data.examples // 2 > 1", 15, "'//' is not supported; use /"),
        ("data.examples % 2 == 1", 15, "'%' is not supported"),
        ("task.narrow & task.reasoning", 13, "'&' is not supported; use and"),
        ("task.narrow | task.reasoning", 13, "'|' is not supported; use or"),
        ("task.narrow ^ task.reasoning", 13, "'^' is not supported; use !="),
        ("data.examples << 2 > 1", 15, "'<<' is not supported"),
        ("data.examples >> 2 > 1", 15, "'>>' is not supported"),
        ("+data.examples > 1", 1, "unary '+' is not supported; drop it"),
        ("~data.examples > 1", 1, "'~' is not supported; use not"),
        ("reasons[0] == 'x'", 1, "a subscript ([...]) is not supported; test membership with in"),
        ("lambda: 1", 1, "a lambda is not supported"),
        ("[x for x in reasons]", 1, "a comprehension is not supported; use any_in(list, [...])"),
        ("{x for x in reasons}", 1, "a comprehension is not supported"),
        ("{x: 1 for x in reasons}", 1, "a comprehension is not supported"),
        ("{'a': 1}", 1, "a dict is not supported; write a list [...]"),
        ("{'a'}", 1, "a set is not supported; write a list [...]"),
        ("f'{reasons}'", 1, "an f-string is not supported; write a plain string"),
        ("1 if task.narrow else 0", 1, "an if-expression is not supported; combine conditions with and, or"),
        ("(y := 1)", 2, "an assignment (:=) is not supported; compare with =="),
        ("len(*reasons) > 0", 5, "a starred expression (*x) is not supported"),
        ("True", 1, "'True' is not supported; write true"),
        ("task.narrow == False", 16, "'False' is not supported; write false"),
        ("None", 1, "'None' is not supported; test for an absent key with missing(path)"),
        ("data.examples == None", 18, "'None' is not supported; test for an absent key with missing(path)"),
        ("(1, 2)", 1, "a tuple is not supported; write a list [...]"),
        ("task.kind in ('extraction', 'generation')", 14, "a tuple is not supported; write a list [...]"),
        ("'a' in reasons in checklist.missing", 5, "'in' cannot be chained with another comparison; join the tests with and"),
        ("'a' not in reasons in checklist.missing", 5, "'not in' cannot be chained with another comparison"),
        ("task.kind == 'extraction' in reasons", 27, "'in' cannot be chained with another comparison"),
        ("b'x' == 'x'", 1, "expected a string, number, true or false; got b'x'"),
        ("1j == 1", 1, "expected a string, number, true or false; got 1j"),
        ("... == 1", 1, "expected a string, number, true or false; got ..."),
        ("0xff > 1", 1, "0xff is not a decimal number; write numbers such as 3, 0.85 or 1e6"),
        ("data.examples > 0o17", 17, "0o17 is not a decimal number"),
        ("data.examples > 0b101", 17, "0b101 is not a decimal number"),
        # Types: operators.
        ("data.examples > 'many'", 17, "expected a number; 'many' is a string"),
        ("-task.kind < 1", 2, f"expected a number; task.kind is {ENUM_KIND}"),
        ("task.narrow + 1 > 0", 1, "expected a number; task.narrow is true or false"),
        ("'a' + 'b' == 'ab'", 1, "expected a number; 'a' is a string"),
        ("task.narrow == 1", 16, "task.narrow (true or false) is never equal to 1 (a number)"),
        ("task.kind == 3", 14, f"task.kind ({ENUM_KIND}) is never equal to 3 (a number)"),
        ("project == 1", 12, "project (a table) is never equal to 1 (a number)"),
        ("schema_version == '1'", 19, "schema_version (an integer) is never equal to '1' (a string)"),
        ("'a' in 3", 8, "'in' needs a list or a string on its right; 3 is a number"),
        ("'a' in data.examples", 8, "'in' needs a list or a string on its right; data.examples is a count"),
        ("'x' in project", 8, "'in' needs a list or a string on its right; project is a table"),
        ("reasons in 'x'", 1, "'in' with a string on its right needs a string on its left; reasons is a list"),
        ("3 in reasons", 1, "3 (a number) can never be in reasons, a list of strings"),
        ("task.kind in [1, 2]", 1, f"task.kind ({ENUM_KIND}) can never be in [1, 2], a list of numbers"),
        ("['a', 1] == reasons", 1, "a list's items must be all strings, all numbers or all true or false"),
        ("['a', task.kind]", 7, "a list may hold only literal strings, numbers, true or false"),
        ("[params.min_examples] == []", 2, "a list may hold only literal strings"),
        ("[[1]] == reasons", 2, "a list may hold only literal strings"),
        # Types: function signatures.
        ("len(data.examples) > 0", 5, "len() takes a list, got data.examples (a count)"),
        ("len(project) > 0", 5, "len() takes a list, got project (a table)"),
        ("abs(task.kind) > 0", 5, f"abs() takes a number, got task.kind ({ENUM_KIND})"),
        ("max(reasons) > 1", 5, "max() takes numbers, got reasons (a list)"),
        ("min(data.examples, reasons) > 1", 20, "min() takes numbers, got reasons (a list)"),
        ("min(1, task.narrow == true) > 0", 8, "min() takes numbers, got task.narrow == true (true or false)"),
        ("any_in(task.kind, reasons)", 8, f"any_in() takes a list, got task.kind ({ENUM_KIND})"),
        ("any_in(reasons, 'behavior')", 17, "any_in() takes a list, got 'behavior' (a string)"),
        ("coalesce(data.examples, task.kind) == 1", 25, "coalesce() takes arguments of one type; data.examples is a count, task.kind is"),
        ("coalesce(data.examples, 0) == 'x'", 31, "coalesce(data.examples, 0) (a number) is never equal to 'x' (a string)"),
        ("abs(len(reasons)) > 'x'", 21, "expected a number; 'x' is a string"),
        ("shout(data.examples) == 'X'", 7, "shout() takes a string, got data.examples (a count)"),
        # Bounds.
        ("data.examples > 1234567890123456789012345678901", 17, "a number may be at most 30 characters long; this one is 31"),
        ("data.examples > 1e16", 17, "1e16 is out of range; numbers in conditions are at most 10^15 in magnitude"),
        ("data.examples > -1e999", 18, "1e999 is out of range"),
        ("task.kind == '" + "x" * 1001 + "'", 14, "a string may hold at most 1,000 characters; this one holds 1,001"),
        ("data.examples in [" + "1," * 1001 + "]", 18, "a list may hold at most 1,000 items; this one holds 1,001"),
        ("data.examples" + " + 1" * 60 + " > 0", 61, "the condition is nested more than 50 levels deep; split it"),
        ("not " * 60 + "task.narrow", 201, "the condition is nested more than 50 levels deep"),
        ("data.examples > 1 or " * 500 + "true", 10_001, "the condition is 10,504 characters long; the limit is 10,000"),
        ("data.examples > " + "1" * 5000, 17, "a number may be at most 30 characters long; this one is 5,000"),
        ("data.examples > 1\x00", 18, "the condition contains a NUL character"),
        ("(" * 300 + "1" + ")" * 300, 201, "invalid syntax: too many nested parentheses"),
    ],
)
def test_compile_errors(source: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        COMPILER.condition(source)
    assert caught.value.column == column
    assert message in caught.value.message


def test_refusals_hold_when_warnings_are_errors() -> None:
    """Python warns about ``x is 3`` while parsing; as an error that must not become a syntax error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ExpressionError, match="'is' is not supported; use =="):
            COMPILER.condition("'a' is 'a'")
        assert COMPILER.condition("'\\d' == '\\d'")({})


@pytest.mark.parametrize(
    ("takes", "arity"),
    [(("text",), 1), (("number", "number"), 1), (("number", "number"), None), (("number",), 2)],
)
def test_function_signatures_are_checked(takes: tuple[str, ...], arity: int | None) -> None:
    with pytest.raises(ValueError, match="takes must give"):
        Compiler({}, {}, {"f": Function("f", lambda *a: 0, arity, takes=takes)})


def test_untyped_functions_take_anything() -> None:
    """Plugins written before ``takes`` existed keep working: their arguments are not checked."""
    assert COMPILER.condition("double(reasons) == reasons")({"reasons": ["x"]}) is False
    assert COMPILER.condition("double(task.kind) == 'xx'")({"task.kind": "x"}) is True


def test_absent_is_falsy_and_not_zero() -> None:
    assert not ABSENT
    assert ABSENT != 0


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("{volume.per_day} requests/day", {"volume.per_day": 20000}, "20,000 requests/day"),
        ("{volume.per_day} requests/day", {"volume.per_day": 3333.3333333}, "3,333.33 requests/day"),
        ("{volume.per_month} a month", {"volume.per_month": 1e6}, "1,000,000 a month"),
        ("{volume.per_day} a day", {"volume.per_day": 1e6 / 30}, "33,333.33 a day"),
        ("{volume.per_month} a month", {"volume.per_month": 1.5e20}, "150,000,000,000,000,000,000 a month"),
        ("{volume.per_day} requests/day", {"volume.per_day": 100000.0}, "100,000 requests/day"),
        ("bar {params.quality_bar}", {}, "bar 0.85"),
        ("{data.examples} examples", {}, "not declared examples"),
        ("{data.examples:example}", {"data.examples": 1}, "1 example"),
        ("{data.examples:example}", {"data.examples": 0}, "0 examples"),
        ("{data.examples:example}", {"data.examples": 30000}, "30,000 examples"),
        ("{data.examples:example}", {}, "examples not declared"),
        ("{data.examples:query/queries}", {"data.examples": 2}, "2 queries"),
        ("{data.examples:query/queries}", {"data.examples": 1}, "1 query"),
        ("{params.quality_bar:bar}", {}, "0.85 bars"),
        ("missing: {checklist.missing}", {"checklist.missing": ["few_shot", "role"]}, "missing: few_shot, role"),
        ("missing: {checklist.missing}", {"checklist.missing": []}, "missing: none"),
        ("narrow: {task.narrow}", {"task.narrow": False}, "narrow: false"),
        ("{{literal}} braces", {}, "{literal} braces"),
    ],
)
def test_templates(template: str, values: dict[str, Any], expected: str) -> None:
    assert COMPILER.template(template)(values) == expected


@pytest.mark.parametrize(
    ("template", "column", "message"),
    [
        ("{volume.per_dya}", 1, "unknown field 'volume.per_dya' (did you mean 'volume.per_day'?)"),
        ("x {params.bar}", 3, "unknown parameter 'bar'"),
        ("{data.examples.__class__}", 1, "unknown field 'data.examples.__class__'"),
        ("{data.examples:>10}", 1, "{data.examples:>10}: only a field path or params.<name> may be interpolated"),
        ("{data.examples:}", 1, "{data.examples:}: only a field path"),
        ("{data.examples:a/b/c}", 1, "{data.examples:a/b/c}: only a field path"),
        ("{data.examples!r}", 1, "{data.examples!r}: only a field path"),
        ("{0}", 1, "{0}: only a field path"),
        ("{}", 1, "{}: only a field path"),
        ("a } b", 3, "unbalanced brace"),
        ("a { b", 3, "unbalanced brace"),
        ("owner: {project}", 8, "{project} is a table, which a message cannot show; interpolate one of its keys, "
         "e.g. {project.name}"),
        ("{evaluation}", 1, "{evaluation} is a table, which a message cannot show"),
        ("{checklist:step}", 1, "{checklist} is a table, which a message cannot show; interpolate one of its keys, "
         "e.g. {checklist.applicable}"),
    ],
)
def test_template_errors(template: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        COMPILER.template(template)
    assert caught.value.column == column
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (ABSENT, "not declared"), (True, "true"), (1234567, "1,234,567"), (0.85, "0.85"), (1e-9, "0.000000001"),
        (1e6, "1,000,000"), (2.5e-5, "0.000025"), (0.8449162, "0.844916"), (1234.5678, "1,234.57"), ([], "none"),
    ],
)
def test_render(value: Any, text: str) -> None:
    assert render(value) == text
