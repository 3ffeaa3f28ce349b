"""The namespace a policy condition reads: manifest fields with defaults, and derived facts.

Built once per manifest as a flat ``{dotted path: value}`` dict, so a compiled condition reads a
field with one dict lookup. A key that is absent and has no default is simply not in the dict:
absent is never zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from policylint import _manifest_spec
from policylint.manifest import FIELDS
from policylint.schema import ABSENT, FieldType

FINE_TUNING_APPROACHES = ("fine-tune", "distill")
CHECKLIST_STEPS = ("zero_shot", "few_shot", "chain_of_thought", "format_constraints", "role")
DAYS_PER_MONTH = 30
#: The normal quantile for a two-sided 95% interval, as the spec fixes it.
WILSON_Z = 1.959964

_REASON = FIELDS["proposal.reasons"]
_STEP_NAMES = FieldType("enum", CHECKLIST_STEPS)

#: Derived facts, typed like fields so conditions that misuse them fail when the pack loads.
FACTS: dict[str, FieldType] = {
    "proposes_fine_tuning": FieldType("bool"),
    "reasons": _REASON,
    "checklist": FieldType("table"),
    "checklist.applicable": FieldType("list", item=_STEP_NAMES),
    "checklist.missing": FieldType("list", item=_STEP_NAMES),
    "checklist.exhausted": FieldType("bool"),
    "checklist.best": FieldType("fraction"),
    "prompting": FieldType("table"),
    "prompting.best": FieldType("fraction"),
    "reasoning": FieldType("table"),
    "reasoning.applies": FieldType("bool"),
    "volume.per_day": FieldType("number"),
    "volume.per_month": FieldType("number"),
    "eval": FieldType("table"),
    "eval.interval": FieldType("table"),
    "eval.interval.low": FieldType("fraction"),
    "eval.interval.high": FieldType("fraction"),
}

#: What each fact means, for the field reference (docs/manifest.md) and whatever shows facts.
FACT_DESCRIPTIONS: dict[str, str] = {
    "proposes_fine_tuning": 'The approach is "fine-tune" or "distill".',
    "reasons": 'proposal.reasons without duplicates, plus "cost-latency" for a "distill" proposal.',
    "checklist": "Always present: the table of the prompting checklist's facts.",
    "checklist.applicable": (
        "The checklist steps this task owes, in checklist order: zero_shot, few_shot, format_constraints, "
        "role, and chain_of_thought when reasoning.applies."
    ),
    "checklist.missing": "The applicable steps with no score, in checklist order.",
    "checklist.exhausted": "No applicable step is missing.",
    "checklist.best": (
        "The highest score among the five checklist steps (chain_of_thought counts whenever declared, "
        "even when not owed; domain_prompt does not). Absent when no step was tried."
    ),
    "prompting": "Present when prompting.best is.",
    "prompting.best": (
        "The best prompting reached: the highest score among the five steps and domain_prompt. "
        "Absent when none was tried."
    ),
    "reasoning": "Always present: the table of reasoning.applies.",
    "reasoning.applies": 'task.reasoning (with its default), or evaluation.failures.mode is "reasoning".',
    "volume.per_day": "The declared volume per day (requests_per_month / 30 when given per month). Absent when no volume is declared.",
    "volume.per_month": "The declared volume per month (requests_per_day * 30 when given per day). Absent when no volume is declared.",
    "eval": "Present when eval.interval is.",
    "eval.interval": (
        "The Wilson 95% interval of prompting.best over evaluation.examples; absent when either is "
        "absent or examples is 0."
    ),
    "eval.interval.low": "The interval's lower bound.",
    "eval.interval.high": "The interval's upper bound.",
}

_STEP_KEYS = tuple((step, f"evaluation.prompting.{step}") for step in CHECKLIST_STEPS)
_APPLICABLE_STEPS = CHECKLIST_STEPS
_APPLICABLE_STEPS_WITHOUT_REASONING = tuple(step for step in CHECKLIST_STEPS if step != "chain_of_thought")
_DOMAIN_PROMPT = "evaluation.prompting.domain_prompt"
_STATIC_DEFAULTS = {path: spec.default for path, spec in FIELDS.items() if spec.default is not ABSENT}


def _child_paths(paths: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{table's path: {key: the key's dotted path}}`` ("" for the root) of the format's keys."""
    children: dict[str, dict[str, str]] = {}
    for path in paths:
        parent, _, key = path.rpartition(".")
        children.setdefault(parent, {})[key] = path
    return children


#: The dotted path of every key the format declares, by its table's path: the namespace's keys
#: are these strings, made once (their hashes too), not joined again for every manifest.
_CHILD_PATHS = _child_paths(_manifest_spec.FIELD_TYPES)
_NO_CHILDREN: dict[str, str] = {}


def _flatten(table: dict[str, Any], table_path: str, into: dict[str, Any]) -> None:
    """``{"a": {"b": 1}}`` -> ``{"a": {...}, "a.b": 1}`` (tables stay, so ``defined(a)`` works).

    The two levels every manifest has are loops, not calls: this runs once per manifest.
    """
    paths = _CHILD_PATHS.get(table_path, _NO_CHILDREN)
    for key, value in table.items():
        path = paths.get(key) or _joined(table_path, key)
        into[path] = value
        if type(value) is dict:  # a TOML table (exact type: cheaper than isinstance)
            sub_paths = _CHILD_PATHS.get(path, _NO_CHILDREN)
            for sub_key, sub_value in value.items():
                sub_path = sub_paths.get(sub_key) or path + "." + sub_key
                into[sub_path] = sub_value
                if type(sub_value) is dict:
                    _flatten(sub_value, sub_path, into)


def _joined(table_path: str, key: str) -> str:
    """A key's dotted path in a table the format does not declare (an ``ext`` table's keys)."""
    return f"{table_path}.{key}" if table_path else key


def defaults(fields: dict[str, FieldType]) -> dict[str, Any]:
    """The values absent keys read as: the core tables' defaults and those of ``ext`` tables."""
    return {**_STATIC_DEFAULTS, **{p: f.default for p, f in fields.items() if f.default is not ABSENT and p.startswith("ext.")}}


def namespace(data: dict[str, Any], defaults: dict[str, Any] = _STATIC_DEFAULTS) -> dict[str, Any]:
    """Fields and facts of a well-formed manifest (validated by :mod:`policylint.manifest`).

    ``defaults`` comes from :func:`defaults` when plugins add ``ext`` tables.
    """
    ns: dict[str, Any] = dict(defaults)
    _flatten(data, "", ns)
    ns.pop("waivers", None)  # read by the waiver checks, never by policies
    approach = ns["proposal.approach"]

    # Defaults that depend on other keys (manifest spec).
    ns.setdefault("task.reasoning", ns["task.kind"] == "reasoning")
    if approach == "distill":
        ns.setdefault("proposal.model_tier", "small")
    if "evaluation.prompting.few_shot" in ns:
        ns.setdefault("evaluation.prompting.few_shot_variants", 1)
    if "data.examples" in ns:
        ns.setdefault("data.high_quality", ns["data.examples"])

    ns["proposes_fine_tuning"] = approach in FINE_TUNING_APPROACHES
    declared_reasons = ns["proposal.reasons"]
    # Duplicates count once (a list of one or none has none: a copy is enough).
    reasons = list(dict.fromkeys(declared_reasons)) if len(declared_reasons) > 1 else list(declared_reasons)
    if approach == "distill" and "cost-latency" not in reasons:
        reasons.append("cost-latency")
    ns["reasons"] = reasons

    # Reasoning is owed chain-of-thought whether the task says so or the failures show it.
    reasoning = ns["task.reasoning"] or ns.get("evaluation.failures.mode") == "reasoning"
    ns["reasoning"] = True
    ns["reasoning.applies"] = reasoning
    # One pass over the steps, in checklist order, for their scores and the applicable ones
    # missing (a loop: cheaper than the comprehensions it replaces, once per manifest).
    scores = []
    missing = []
    for step, key in _STEP_KEYS:
        if key in ns:
            scores.append(ns[key])
        elif reasoning or step != "chain_of_thought":
            missing.append(step)
    ns["checklist"] = True
    ns["checklist.applicable"] = list(_APPLICABLE_STEPS if reasoning else _APPLICABLE_STEPS_WITHOUT_REASONING)
    ns["checklist.missing"] = missing
    ns["checklist.exhausted"] = not missing
    best = None
    if scores:
        best = ns["checklist.best"] = max(scores)
    # The best prompting reached: the checklist and the domain prompt (pack version 2); the
    # domain prompt's score wins only if higher, as in max() of the scores followed by it.
    if _DOMAIN_PROMPT in ns:
        domain_prompt = ns[_DOMAIN_PROMPT]
        if best is None or domain_prompt > best:
            best = domain_prompt
    if best is not None:
        ns["prompting"] = True
        ns["prompting.best"] = best

    if "volume.requests_per_day" in ns:
        ns["volume.per_day"] = ns["volume.requests_per_day"]
        ns["volume.per_month"] = ns["volume.requests_per_day"] * DAYS_PER_MONTH
    elif "volume.requests_per_month" in ns:
        ns["volume.per_month"] = ns["volume.requests_per_month"]
        ns["volume.per_day"] = ns["volume.requests_per_month"] / DAYS_PER_MONTH

    examples = ns.get("evaluation.examples")
    if best is not None and examples:
        low, high = wilson_interval(best, examples)
        ns["eval"] = ns["eval.interval"] = True
        ns["eval.interval.low"], ns["eval.interval.high"] = low, high
    return ns


def wilson_interval(p: float, n: int, z: float = WILSON_Z) -> tuple[float, float]:
    """Wilson score interval without continuity correction, the formula the spec fixes."""
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return centre - half, centre + half
