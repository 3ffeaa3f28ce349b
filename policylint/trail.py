"""The decision trail of one manifest (``policylint explain``) and what would make an error pass.

The walk follows the decision order (retrieval, prompting, the claimed case, data; then the
advisory rules). Each rule's inputs come from its compiled condition
(:class:`policylint.expr.CompiledCondition`: the fields, parameters and comparisons it reads),
never from its text.

What would make an error pass is found by search, not written by hand: the rule's inputs are
mapped back to the manifest keys a user edits (:data:`FACT_KEYS`), candidate values are tried
(the parameters and literal thresholds the rule reads, plus and minus the smallest step; a
search along the value's grid from the current value; each allowed value of a bool or an enum;
declaring an absent key), every candidate manifest is validated as ``check`` would and its
namespace rebuilt, and the rule re-evaluated until it stops firing. The cheapest candidate wins.
Removing a declared key is never suggested: passing by leaving evidence out is what pack
version 2 closed.
"""

from __future__ import annotations

import ast
import copy
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from policylint.engine import CompiledRule, Engine
from policylint.expr import CompiledCondition, Comparison, render
from policylint.facts import CHECKLIST_STEPS, DAYS_PER_MONTH, namespace
from policylint.findings import Finding, ManifestResult, RuleInfo
from policylint.manifest import FIELDS, LoadedManifest, Source, validate
from policylint.schema import ABSENT, MAX_QUANTITY, FieldType

_STEP_KEYS = tuple(f"evaluation.prompting.{step}" for step in CHECKLIST_STEPS)
_DOMAIN_PROMPT = "evaluation.prompting.domain_prompt"
_VOLUME = ("volume.requests_per_day", "volume.requests_per_month")
_REASONING = ("task.reasoning", "evaluation.failures.mode")

#: Each derived fact and the manifest keys a user edits to change it (facts.py computes them).
#:
#: =====================================  ==================================================
#: fact                                   manifest keys
#: =====================================  ==================================================
#: ``volume.per_day``                     ``volume.requests_per_day`` (or ``requests_per_month`` / 30)
#: ``volume.per_month``                   ``volume.requests_per_month`` (or ``requests_per_day`` * 30)
#: ``checklist.missing``, ``.exhausted``  the five ``evaluation.prompting`` step scores (declare one
#:                                        per missing step); ``task.reasoning`` and
#:                                        ``evaluation.failures.mode`` decide whether
#:                                        ``chain_of_thought`` is owed
#: ``checklist.applicable``               ``task.reasoning``, ``evaluation.failures.mode``
#: ``checklist.best``                     the five step scores (their maximum)
#: ``prompting.best``                     the five step scores and ``domain_prompt`` (their maximum)
#: ``reasoning.applies``                  ``task.reasoning``, ``evaluation.failures.mode``
#: ``eval.interval.low``, ``.high``       ``evaluation.examples`` and the scores of ``prompting.best``
#: ``reasons``                            ``proposal.reasons`` (``distill`` adds ``cost-latency``)
#: ``proposes_fine_tuning``               ``proposal.approach`` (never suggested: it is the proposal)
#: =====================================  ==================================================
FACT_KEYS: dict[str, tuple[str, ...]] = {
    "volume.per_day": _VOLUME,
    "volume.per_month": _VOLUME,
    "checklist.missing": (*_STEP_KEYS, *_REASONING),
    "checklist.exhausted": (*_STEP_KEYS, *_REASONING),
    "checklist.applicable": _REASONING,
    "checklist.best": _STEP_KEYS,
    "prompting.best": (*_STEP_KEYS, _DOMAIN_PROMPT),
    "reasoning.applies": _REASONING,
    "eval.interval.low": ("evaluation.examples", *_STEP_KEYS, _DOMAIN_PROMPT),
    "eval.interval.high": ("evaluation.examples", *_STEP_KEYS, _DOMAIN_PROMPT),
    "reasons": ("proposal.reasons",),
    "proposes_fine_tuning": (),
}
#: Keys a suggestion never changes: what the manifest is, not evidence about it.
_FIXED = frozenset({"schema_version", "proposal.approach", "proposal.model"})
_FIXED_TABLES = ("project.", "waivers")

#: The stages of the decision order, by the hundreds of a rule's ``order``.
STAGES = ("retrieval", "prompting", "case", "data", "advisory")


def stage_of(compiled: CompiledRule) -> str:
    return stage_of_order(compiled.rule.order)


def stage_of_order(order: int | None) -> str:
    """The decision stage of a place in the decision order (hundreds: 1 retrieval, 2 prompting,
    3-4 the claimed case, 5 data); a rule outside the order is advisory."""
    if order is None or order >= 600:
        return "advisory"
    return STAGES[{1: 0, 2: 1, 3: 2, 4: 2, 5: 3}.get(order // 100, 4)]


# -- the walk -----------------------------------------------------------------------------------


class Fix(NamedTuple):
    """What would make a fired error pass: ``edits`` is machine-readable (``set`` changes a
    declared key, ``declare`` adds an absent one), ``text`` says it."""

    text: str
    edits: dict[str, dict[str, Any]]
    #: True when a value stands in for a measurement (a score to take, not to type in).
    placeholder: bool = False


class Step(NamedTuple):
    """One rule in the walk."""

    rule: str
    name: str
    stage: str
    severity: str
    waivable: bool
    fired: bool
    reads: tuple[str, ...]
    messages: tuple[str, ...] = ()
    waived: bool = False
    waiver: dict[str, str] | None = None
    decided: bool = False
    fix: Fix | None = None
    #: Why no fix is offered, or what besides it would accept the finding.
    remedy: str = ""


class Trail(NamedTuple):
    path: str
    proposal: str | None
    recommendation: str | None
    verdict: str
    decided_by: str | None
    steps: tuple[Step, ...]
    facts: dict[str, Any]
    invalid: tuple[Finding, ...] = ()


def walk(engine: Engine, loaded: LoadedManifest, result: ManifestResult) -> Trail:
    """The decision trail of a checked manifest (``result`` is ``engine.decide(loaded)``)."""
    decision = result.decision
    if loaded.findings or loaded.data is None:
        return Trail(result.path, decision.proposal, None, decision.verdict, None, (), {}, result.findings)
    data = loaded.data
    ns = namespace(data, engine._defaults)
    evaluated = set(result.evaluated)
    by_rule: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    compiled_rules = sorted((c for c in engine.policies if c.rule.id in evaluated), key=lambda c: (c.rank, c.rule.id))
    steps = []
    for compiled in compiled_rules:
        rule_id = compiled.rule.id
        findings = by_rule.get(rule_id, [])
        fired = bool(findings)
        waived = fired and all(f.waived for f in findings)
        waiver = findings[0].waiver if waived else None
        waivable = engine.rules[rule_id].waivable
        fix, remedy = None, ""
        if fired and not waived and compiled.severity == "error":
            fix = counterfactual(engine, compiled, data)
            remedy = "this rule cannot be waived (non-waivable)" if not waivable else "or a waiver could accept it"
            if fix is None and compiled.condition is None:
                remedy = "a Python check, whose inputs explain cannot search; " + (
                    "a waiver could accept it" if waivable else "it cannot be waived (non-waivable)")
            elif fix is None:
                remedy = "no change of the values it reads passes it; " + (
                    "a waiver could accept it" if waivable else "and it cannot be waived (non-waivable)")
        steps.append(Step(
            rule_id, compiled.rule.name, stage_of(compiled), compiled.severity, waivable, fired,
            reads_of(compiled, ns), tuple(f.message for f in findings), waived,
            waiver._asdict() if waiver is not None else None, rule_id == decision.decided_by, fix, remedy,
        ))
    facts = {name: ns[name] for name in sorted(FACT_KEYS) if name in ns}
    return Trail(result.path, decision.proposal, decision.recommendation, decision.verdict, decision.decided_by,
                 tuple(steps), facts)


# -- the values a rule read ----------------------------------------------------------------------


def reads_of(compiled: CompiledRule, ns: Mapping[str, Any]) -> tuple[str, ...]:
    """The rule's tests with the values they read: ``volume.per_day = 20,000 <= params.x = 100,000``."""
    condition = compiled.condition
    if condition is None:
        return ("a Python check",)
    lines = [_comparison_text(c, ns) for c in condition.comparisons]
    shown = {o.path for c in condition.comparisons for o in c.operands if o.path}
    lines += [f"{path} = {render(ns.get(path, ABSENT))}" for path in sorted(condition.fields - shown)]
    return tuple(lines)


def _comparison_text(comparison: Comparison, ns: Mapping[str, Any]) -> str:
    holds = "true" if comparison.evaluate(ns) else "false"
    if not comparison.operators:  # defined(x) / missing(x)
        (operand,) = comparison.operands
        return f"{comparison.text}: {operand.text} = {render(ns.get(operand.text, ABSENT))} ({holds})"
    parts = [_operand_text(comparison.operands[0], ns)]
    for operator, operand in zip(comparison.operators, comparison.operands[1:]):
        parts += [operator, _operand_text(operand, ns)]
    return f"{' '.join(parts)} ({holds})"


def _operand_text(operand: Any, ns: Mapping[str, Any]) -> str:
    if operand.evaluate is None:
        return str(operand.text)
    return f"{operand.text} = {render(operand.evaluate(ns))}"


# -- what would make it pass ---------------------------------------------------------------------


class _Candidate(NamedTuple):
    cost: float
    edits: dict[str, Any]  # dotted key -> new value
    placeholder: bool = False


def editable_keys(condition: CompiledCondition, data: Mapping[str, Any]) -> list[str]:
    """The manifest keys behind what a condition reads (facts mapped through :data:`FACT_KEYS`)."""
    keys: list[str] = []
    for path in sorted(condition.fields):
        for key in FACT_KEYS.get(path, (path,)):
            if (key in FIELDS and FIELDS[key].kind != "table" and key not in _FIXED
                    and not key.startswith(_FIXED_TABLES) and key not in keys):
                keys.append(key)
    if "volume.requests_per_month" in keys and "volume.requests_per_day" in keys:
        # Both declared is a format error: edit the one the manifest uses (per day when neither).
        drop = "volume.requests_per_day" if _get(data, "volume.requests_per_month") is not ABSENT else "volume.requests_per_month"
        keys.remove(drop)
    return keys


def counterfactual(engine: Engine, compiled: CompiledRule, data: dict[str, Any]) -> Fix | None:
    """The cheapest change of the values the rule reads after which it no longer fires."""
    condition = compiled.condition
    if condition is None:
        return None
    defaults, ext = engine._defaults, engine.ext_models

    def passes(edits: Mapping[str, Any]) -> bool:
        changed = _apply(data, edits)
        if validate(Source("<explain>", ""), changed, ext):
            return False  # a change that makes the manifest invalid is no way to pass
        return not compiled.evaluate(namespace(changed, defaults))

    before = _errors(engine, namespace(data, defaults))

    def side_effects(edits: Mapping[str, Any]) -> float:
        """A change that makes another error fire (DAT002 passed by falling into DAT001) costs more."""
        return 10.0 * len(_errors(engine, namespace(_apply(data, edits), defaults)) - before)

    thresholds = _thresholds(engine, compiled)
    keys = editable_keys(condition, data)
    best: _Candidate | None = None
    pointed_at = ".".join(map(str, compiled.points_at))
    for candidate in _candidates(keys, data, thresholds, passes, condition):
        # The key the rule points at is the one it asks to change: it wins a near tie
        # (DST004: improve the student rather than lower the teacher's score).
        if pointed_at in candidate.edits:
            candidate = candidate._replace(cost=candidate.cost * 0.9)
        if (best is None or candidate.cost < best.cost) and passes(candidate.edits):
            candidate = candidate._replace(cost=candidate.cost + side_effects(candidate.edits))
            if best is None or candidate.cost < best.cost:
                best = candidate
    if best is None:  # two keys at once (FMT002: machine_parsed and failure_impact)
        singles = [c for key in keys for c in _discrete(key, _get(data, key))]
        for i, first in enumerate(singles):
            for second in singles[i + 1 :]:
                if set(first.edits) & set(second.edits):
                    continue
                pair = _Candidate(first.cost + second.cost, {**first.edits, **second.edits})
                if (best is None or pair.cost < best.cost) and passes(pair.edits):
                    best = pair
    if best is None:
        return None
    if all(_get(data, key) is ABSENT and _any_value_passes(key, passes) for key in best.edits):
        best = best._replace(placeholder=True)  # the rule wants the keys declared, whatever their values
    return _fix(best, data)


def _any_value_passes(key: str, passes: Callable[[Mapping[str, Any]], bool]) -> bool:
    field = FIELDS[key]
    if field.kind == "enum":
        return all(passes({key: value}) for value in field.values)
    if field.kind in ("fraction", "count", "number", "integer"):
        low, high = _bounds(field)
        return all(passes({key: _number(field, value)}) for value in (low, min(high, 10**6)))
    return False


def _errors(engine: Engine, ns: Mapping[str, Any]) -> set[str]:
    """The error rules that fire on a namespace (of the rules that apply to its proposal)."""
    group = "other" if ns["proposes_fine_tuning"] else "fine-tuning"
    return {c.rule.id for c in engine.policies
            if c.severity == "error" and c.rule.applies_to != group and c.evaluate(ns)}


def _thresholds(engine: Engine, compiled: CompiledRule) -> list[float]:
    """The numbers a condition compares with: its parameters' values and its numeric literals."""
    assert compiled.condition is not None
    numbers = [engine.params[name][0] for name in compiled.condition.params if name in engine.params]
    for comparison in compiled.condition.comparisons:
        for operand in comparison.operands:
            if operand.evaluate is None:
                try:
                    numbers.append(ast.literal_eval(operand.text))
                except (ValueError, SyntaxError):
                    pass
    return sorted({float(n) for n in numbers if isinstance(n, (int, float)) and not isinstance(n, bool)})


def _step(field: FieldType, value: Any) -> float:
    return 0.01 if field.kind == "fraction" or (isinstance(value, float) and not value.is_integer()) else 1


def _bounds(field: FieldType) -> tuple[float, float]:
    return (0.0, 1.0) if field.kind == "fraction" else (0.0, float(MAX_QUANTITY))


def _number(field: FieldType, value: float) -> Any:
    if field.kind == "fraction":
        return round(value, 6)
    return int(round(value)) if float(value).is_integer() or field.kind in ("count", "integer") else round(value, 6)


def _candidates(keys: list[str], data: Mapping[str, Any], thresholds: list[float],
                passes: Callable[[Mapping[str, Any]], bool], condition: CompiledCondition) -> Iterator[_Candidate]:
    for key in keys:
        field, current = FIELDS[key], _get(data, key)
        if field.kind in ("fraction", "count", "number", "integer"):
            yield from _numeric(key, field, current, thresholds, passes)
        else:
            yield from _discrete(key, current)
    if {"checklist.missing", "checklist.exhausted"} & condition.fields:
        owed = namespace(dict(data))["checklist.missing"]
        missing = [f"evaluation.prompting.{step}" for step in owed]
        scores = [v for k in _STEP_KEYS if (v := _get(data, k)) is not ABSENT]
        if missing:  # score every missing step (the value stands in for a measurement)
            value = min(scores) if scores else 0.5
            yield _Candidate(2.0 * len(missing), {k: value for k in missing}, placeholder=True)
    if {"prompting.best", "checklist.best"} & condition.fields:
        declared = {k: v for k in (*_STEP_KEYS, _DOMAIN_PROMPT) if (v := _get(data, k)) is not ABSENT}
        if declared:  # the best score lower: cap every score at the highest value the rule accepts
            top = max(declared.values())
            for cap in sorted({t - 0.01 for t in thresholds} | {t for t in thresholds}, reverse=True):
                if 0 <= cap < top:
                    edits = {k: round(cap, 6) for k, v in declared.items() if v > cap}
                    yield _Candidate(1.0 + (top - cap) / max(top, 1e-9) + 0.1 * len(edits), edits)


def _numeric(key: str, field: FieldType, current: Any, thresholds: list[float],
             passes: Callable[[Mapping[str, Any]], bool]) -> Iterator[_Candidate]:
    low, high = _bounds(field)
    step = _step(field, current if current is not ABSENT else thresholds[0] if thresholds else 0)
    values: set[float] = set()
    for t in thresholds:
        for scaled in (t, t * DAYS_PER_MONTH, t / DAYS_PER_MONTH):
            values.update((scaled, scaled + step, scaled - step))
            if step == 1:
                values.update((math.floor(scaled) + 1, math.ceil(scaled) - 1))
    origin = current if current is not ABSENT else 0
    for direction in (1, -1):  # along the grid from the current value, the first that passes
        found = _grid_search(key, field, origin, step * direction, low, high, passes)
        if found is not None:  # and the round values either side, which may pass too (0.87, not 0.879)
            values.update((found, math.floor(found * 100 + 1e-9) / 100, math.ceil(found * 100 - 1e-9) / 100)
                          if step != 1 else (found,))
    for value in values:
        if low <= value <= high and (current is ABSENT or value != current):
            number = _number(field, value)
            if current is ABSENT:  # declaring: the smallest value the rule accepts
                yield _Candidate(2.0 + abs(number) / (abs(number) + MAX_QUANTITY), {key: number})
            else:
                yield _Candidate(1.0 + abs(number - origin) / max(abs(origin), abs(number), 1e-9), {key: number})


def _grid_search(key: str, field: FieldType, origin: float, step: float, low: float, high: float,
                 passes: Callable[[Mapping[str, Any]], bool]) -> float | None:
    """The nearest value ``origin + k*step`` (k >= 1) that passes, assuming the rule is monotone
    along the way: doubling k, then bisecting. None when even the bound does not pass."""
    def at(k: int) -> float:
        return min(max(origin + k * step, low), high)

    k = 1
    while not passes({key: _number(field, at(k))}):
        if at(k) in (low, high):
            return None
        k *= 2
    lo = k // 2  # at(lo) does not pass (or is the origin)
    while k - lo > 1:
        mid = (lo + k) // 2
        if passes({key: _number(field, at(mid))}):
            k = mid
        else:
            lo = mid
    return at(k)


def _discrete(key: str, current: Any) -> Iterator[_Candidate]:
    field = FIELDS[key]
    if field.kind == "bool":
        for flag in (True, False):
            if flag != current:
                yield _Candidate(3.0, {key: flag})
    elif field.kind == "enum":
        for choice in field.values:
            if choice != current:
                yield _Candidate(3.0 if key != "evaluation.failures.mode" else 50.0, {key: choice})
    elif field.kind == "list" and field.item is not None and field.item.kind == "enum":
        items = list(current) if current is not ABSENT else []
        for item in items:  # drop a reason: the last resort (it changes the proposal's case)
            yield _Candidate(100.0, {key: [i for i in items if i != item]})
        for value in field.item.values:
            if value not in items:
                yield _Candidate(100.0, {key: [*items, value]})
                for item in items:  # or put another in its place (a fine-tune names at least one)
                    yield _Candidate(101.0, {key: [value if i == item else i for i in items]})


def _fix(candidate: _Candidate, data: Mapping[str, Any]) -> Fix:
    edits: dict[str, dict[str, Any]] = {}
    phrases = []
    for key, value in sorted(candidate.edits.items()):
        current = _get(data, key)
        edits.setdefault("set" if current is not ABSENT else "declare", {})[key] = value
        phrases.append(_phrase(key, value, current, candidate.placeholder))
    return Fix("; ".join(phrases), edits, candidate.placeholder)


def _phrase(key: str, value: Any, current: Any, placeholder: bool) -> str:
    field = FIELDS[key]
    now = f" (now {render(current)})"
    if key.startswith("evaluation.prompting.") and current is ABSENT and placeholder and field.kind == "fraction":
        return f"score {key.rsplit('.', 1)[1]}"
    if current is ABSENT and placeholder:
        if field.kind == "enum":
            return f"declare {key} (one of {', '.join(field.values)})"
        return f"declare {key} (measure it)"
    if field.kind == "list":
        before = list(current) if current is not ABSENT else []
        removed = [i for i in before if i not in value]
        added = [i for i in value if i not in before]
        words = []
        if removed:
            words.append(f"remove {', '.join(repr(i) for i in removed)} from {key}")
        if added:
            words.append(f"{'and ' if removed else ''}add {', '.join(repr(i) for i in added)}"
                         f"{'' if removed else ' to ' + key}")
        return " ".join(words)
    if field.kind in ("bool", "enum"):
        shown = render(value) if field.kind == "bool" else f'"{value}"'
        return f"set {key} = {shown}" + (now if current is not ABSENT else "")
    rising = current is ABSENT or value > current
    step = _step(field, value)
    if step == 1 and isinstance(value, int) and (current is ABSENT or abs(value - current) > 1):
        bound = f"above {render(value - 1)}" if rising else f"below {render(value + 1)}"
    else:
        bound = f"at least {render(value)}" if rising else f"at most {render(value)}"
    return f"declare {key} {bound}{now}"


def _get(data: Mapping[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return ABSENT
        node = node[part]
    return node


def _apply(data: Mapping[str, Any], edits: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the manifest's data with ``edits`` (dotted key -> value) made."""
    changed = copy.deepcopy(dict(data))
    for key, value in edits.items():
        node = changed
        *tables, last = key.split(".")
        for part in tables:
            node = node.setdefault(part, {})
        node[last] = value
    return changed


def apply_fix(data: Mapping[str, Any], edits: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``data`` with a :class:`Fix`'s ``edits`` (``{"set": {...}, "declare": {...}}``) made."""
    merged: dict[str, Any] = {}
    for group in edits.values():
        merged.update(group)
    return _apply(data, merged)


def as_data(trail: Trail, show_all: bool, facts: bool) -> dict[str, Any]:
    """The trail as ``--format json`` prints it (keys documented in docs/explain.md)."""
    steps = [s for s in trail.steps if show_all or s.fired or s.decided]
    out: dict[str, Any] = {
        "path": trail.path,
        "decision": {"proposal": trail.proposal, "recommendation": trail.recommendation,
                     "verdict": trail.verdict, "decided_by": trail.decided_by},
        "rules": [
            {
                "rule": s.rule, "name": s.name, "stage": s.stage, "severity": s.severity, "waivable": s.waivable,
                "fired": s.fired, "decided": s.decided, "waived": s.waived, "waiver": s.waiver,
                "reads": list(s.reads), "messages": list(s.messages),
                "fix": None if s.fix is None else {"text": s.fix.text, "edits": s.fix.edits,
                                                   "placeholder": s.fix.placeholder},
                "remedy": s.remedy or None,
            }
            for s in steps
        ],
        "invalid": [{"rule": f.rule, "message": f.message, "key": f.key, "line": f.line, "column": f.column}
                    for f in trail.invalid],
    }
    if facts:
        out["facts"] = {k: _json_value(v) for k, v in trail.facts.items()}
    return out


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def iter_text(trail: Trail, show_all: bool, facts: bool) -> Iterable[str]:
    """The trail as text, line by line."""
    yield f"{trail.path}: {trail.proposal or 'no proposal'} -> {trail.recommendation or 'no recommendation'} ({trail.verdict})"
    if trail.invalid:
        yield "  the manifest is invalid, so no rule was evaluated; fix these first:"
        for f in trail.invalid:
            yield f"  {f.line}:{f.column} {f.rule} {f.message}"
        return
    yield f"  decided by: {trail.decided_by or 'no rule (the proposal stands)'}"
    current = None
    for s in trail.steps:
        if not (show_all or s.fired or s.decided):
            continue
        if s.stage != current:
            current = s.stage
            yield f"  [{current}]"
        status = "fired" if s.fired else "did not fire"
        if s.waived and s.waiver:
            status += f", waived (owner {s.waiver.get('owner') or 'unnamed'}, expires {s.waiver.get('expires')})"
        elif s.waived:
            status += ", waived"
        mark = " <- decided" if s.decided else ""
        yield f"    {s.rule} {s.name} ({s.severity}): {status}{mark}"
        for line in s.reads:
            yield f"      {line}"
        for message in s.messages:
            yield f"      says: {message}"
        if s.fix is not None:
            yield f"      to pass: {s.fix.text}" + (f"; {s.remedy}" if s.remedy else "")
        elif s.remedy:
            yield f"      to pass: {s.remedy}"
    if facts:
        yield "  facts:"
        for name, value in trail.facts.items():
            yield f"    {name} = {render(value)}"


def mermaid_of_result(result: ManifestResult, rules: Mapping[str, RuleInfo]) -> str:
    """:func:`mermaid` from a checked manifest's result alone (what a report has): the rules it
    evaluated, placed in their stage by their decision order, and the findings they gave."""
    fired = {f.rule for f in result.findings}
    waived = {f.rule for f in result.findings if f.waived}
    steps = tuple(
        Step(rule, rules[rule].name, stage_of_order(rules[rule].order), rules[rule].severity, rules[rule].waivable,
             rule in fired, (), waived=rule in waived, decided=rule == result.decision.decided_by)
        for rule in sorted((r for r in result.evaluated if r in rules),
                           key=lambda r: (rules[r].order if rules[r].order is not None else 1 << 30, r))
    )
    invalid = tuple(f for f in result.findings if f.rule.startswith("MAN"))
    decision = result.decision
    return mermaid(Trail(result.path, decision.proposal, decision.recommendation, decision.verdict,
                         decision.decided_by, steps, {}, invalid=invalid))


def mermaid(trail: Trail) -> str:
    """A flowchart of the four stages with the path taken (GitHub renders ```mermaid blocks)."""
    lines = ["flowchart TD", f'  start(["{_label(trail.path)}: {trail.proposal or "invalid"}"])']
    if trail.invalid:
        lines += [f'  invalid["invalid manifest: {len(trail.invalid)} MAN finding(s)"]', "  start --> invalid",
                  '  verdict{{"fail"}}', "  invalid --> verdict"]
        return "\n".join(lines) + "\n"
    previous = "start"
    for stage in STAGES:
        steps = [s for s in trail.steps if s.stage == stage]
        if not steps:
            continue
        fired = [s.rule + (" (waived)" if s.waived else "") for s in steps if s.fired]
        label = f"{stage}: " + (", ".join(fired) + " fired" if fired else "passed")
        lines.append(f'  {stage}["{_label(label)}"]')
        lines.append(f"  {previous} --> {stage}")
        if any(s.decided for s in steps):
            lines.append(f"  class {stage} decided")
        previous = stage
    outcome = f"{trail.recommendation} ({trail.verdict})"
    by = f"decided by {trail.decided_by}" if trail.decided_by else "no rule decided"
    lines.append(f'  verdict{{{{"{_label(outcome)}"}}}}')
    lines.append(f"  {previous} -->|{_label(by)}| verdict")
    lines.append("  classDef decided stroke-width:3px,stroke:#d33")
    return "\n".join(lines) + "\n"


def _label(text: str) -> str:
    return text.replace('"', "'").replace("|", "/")
