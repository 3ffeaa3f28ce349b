"""The condition language: what it evaluates to, and how it refuses what it must not run."""

from __future__ import annotations

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
    {"double": Function("double", lambda x: 2 * x, 1, "twice x")},
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
        ("(data.examples\n  > 3)", {"data__examples": 4}, True),  # may span lines
    ],
)
def test_evaluation(source: str, values: dict[str, Any], expected: bool) -> None:
    assert evaluate(source, **values) is expected


@pytest.mark.parametrize(
    ("source", "column", "message"),
    [
        ("proposal.reason == 'x'", 1, "unknown field 'proposal.reason' (did you mean 'proposal.reasons'?)"),
        ("data.examples > params.min_exmples", 17, "unknown parameter 'min_exmples' (did you mean 'min_examples'?)"),
        ("'knowlege' in reasons", 1, "'knowlege' can never match (did you mean 'knowledge'?)"),
        ("evaluation.failures.mode == 'knowledge_gap'", 29, "'knowledge_gap' can never match (did you mean 'knowledge-gap'?)"),
        ("task.kind in ['reasoning', 'chat']", 14, "'chat' can never match"),
        ("task.kind < 3", 1, "expected a number; task.kind is one of"),
        ("reasons in 'x'", 12, "'in' needs a list on its right; 'x' is a string"),
        ("definedd(data.examples)", 1, "unknown function 'definedd' (did you mean 'defined'?)"),
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
        ("__import__('os').system('true')", 1, "only named functions can be called"),
        ("open('/etc/passwd')", 1, "unknown function 'open'"),
        ("reasons.__class__", 1, "unknown field 'reasons.__class__'"),
        ("reasons[0] == 'x'", 1, "got a subscript"),
        ("(lambda: 1)()", 1, "only named functions can be called"),
        ("[x for x in reasons]", 1, "got a comprehension"),
        ("{'a': 1}", 1, "got a dict"),
        ("f'{reasons}'", 1, "got an f-string"),
        ("1 if task.narrow else 0", 1, "got an if-expression"),
        ("(y := 1)", 2, "got an assignment"),
        ("data.examples ** 2 > 1", 1, "expected one of + - * /"),
        ("['a', task.kind]", 7, "a list may hold only literal strings and numbers"),
        ("None", 1, "expected a string, number, true or false; got None"),
        ("data.examples > 'many'", 17, "expected a number; 'many' is a string"),
    ],
)
def test_compile_errors(source: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        COMPILER.condition(source)
    assert caught.value.column == column
    assert message in caught.value.message


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
