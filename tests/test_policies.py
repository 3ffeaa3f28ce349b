"""The built-in policy pack (version 2) against the contract in spec/policies.md.

Every rule is exercised on both sides of every boundary the spec names, by varying one field
of a manifest that passes every rule (BASE). Expected outcomes, positions and message numbers
are worked out from the spec, the policy templates and the inputs, never copied from output.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import math
import re
from typing import Any

import pytest
import tomli

from policylint.builtin import builtin_pack_path
from policylint.engine import Engine, EngineOptions
from policylint.errors import ConfigError
from policylint.findings import ManifestResult
from policylint.packs import load_pack

TODAY = datetime.date(2026, 12, 1)

# --------------------------------------------------------------------------------- the base

#: A fine-tuning proposal that claims all four specific cases and satisfies every one of them,
#: so that one changed field makes (at most) the rule under test fire.
BASE_TOML = """\
schema_version = 1

[project]
name = "base"

[task]
kind = "extraction"
narrow = true
domain = "legal"
conventions = "strict"

[proposal]
approach = "fine-tune"
reasons = ["format-consistency", "domain-conventions", "cost-latency", "behavior"]
model_tier = "small"

[evaluation]
examples = 600

[evaluation.prompting]
zero_shot = 0.60
few_shot = 0.66
few_shot_examples = 8
few_shot_variants = 3
format_constraints = 0.70
role = 0.68
domain_prompt = 0.72

[evaluation.failures]
mode = "format"
malformed_rate = 0.02
reproducible = true

[volume]
requests_per_day = 240_000

[downstream]
machine_parsed = true
failure_impact = "data-corruption"
retry_logic = true

[data]
examples = 3_000
domain_examples = 600

[distillation]
teacher_quality = 0.90
student_quality = 0.88
"""
BASE = tomli.loads(BASE_TOML)

ALL4 = ["format-consistency", "domain-conventions", "cost-latency", "behavior"]
GQ = ["general-quality"]
DROP = object()  # an override value that removes the key

#: The rule table of the spec (pack version 2): severity, family (FT: fine-tune and distill
#: only; any; other: only the proposals that are not to fine-tune), recommends, points at.
SPEC: dict[str, tuple[str, str, str | None, str]] = {
    "RAG001": ("error", "FT", "rag", "proposal.reasons"),
    "RAG002": ("error", "FT", "rag", "proposal.reasons"),
    "PRM001": ("error", "FT", "prompting", "evaluation.prompting"),
    "PRM002": ("error", "FT", "prompting", "evaluation.prompting"),
    "PRM003": ("warning", "any", None, "evaluation.prompting.few_shot_examples"),
    "PRM004": ("warning", "any", None, "evaluation.prompting"),
    "PRM005": ("error", "FT", "prompting", "evaluation.failures"),
    "FMT001": ("error", "FT", "error-handling", "volume"),
    "FMT002": ("error", "FT", "error-handling", "downstream.failure_impact"),
    "FMT003": ("warning", "FT", None, "evaluation.failures.malformed_rate"),
    "FMT004": ("warning", "any", None, "downstream.retry_logic"),
    "FMT005": ("error", "FT", "error-handling", "evaluation.failures"),
    "DOM001": ("error", "FT", "prompting", "evaluation.prompting"),
    "DOM002": ("error", "FT", "collect-data", "data.domain_examples"),
    "DOM003": ("error", "FT", "prompting", "evaluation.prompting.domain_prompt"),
    "DOM004": ("error", "FT", "prompting", "task.domain"),
    "DST001": ("error", "FT", "frontier-api", "volume"),
    "DST002": ("error", "FT", "frontier-api", "task.narrow"),
    "DST003": ("error", "FT", "prompting", "distillation"),
    "DST004": ("error", "FT", "frontier-api", "distillation.student_quality"),
    "DST005": ("warning", "FT", None, "data.examples"),
    "DST006": ("error", "FT", "frontier-api", "proposal.model_tier"),
    "BEH001": ("error", "FT", "prompting", "evaluation.prompting"),
    "BEH002": ("error", "FT", "prompting", "evaluation.failures"),
    "BEH003": ("error", "FT", "prompting", "evaluation.prompting.few_shot"),
    "DAT001": ("error", "FT", "collect-data", "data"),
    "DAT002": ("error", "FT", "collect-data", "data.high_quality"),
    "DAT003": ("warning", "other", None, "evaluation.examples"),
    "DAT004": ("warning", "any", None, "evaluation.prompting"),
    "DAT005": ("error", "FT", "collect-data", "evaluation.examples"),
    "FTF001": ("warning", "FT", None, "proposal.model_tier"),
}
#: The spec's "waivable: no" column.
NOT_WAIVABLE = {"RAG001", "RAG002", "PRM001", "DAT001"}
#: The spec's decision order (stages 1 to 4, and the order of the list inside each).
DECISION_ORDER = [
    "RAG001", "RAG002",
    "PRM001", "PRM002", "PRM005",
    "FMT001", "FMT002", "FMT005", "DOM001", "DOM002", "DOM003", "DOM004",
    "DST001", "DST002", "DST003", "DST004", "DST006", "BEH001", "BEH002", "BEH003",
    "DAT001", "DAT002", "DAT005",
]
ADVISORY = sorted(rule for rule, (_, family, _, _) in SPEC.items() if family != "FT")
#: The advisory rules a fine-tune or distill proposal still gets (DAT003 is for the others only).
ANY_FAMILY = sorted(rule for rule, (_, family, _, _) in SPEC.items() if family == "any")
NON_FT_APPROACHES = ["prompting", "rag", "collect-data", "error-handling"]


# --------------------------------------------------------------------------------- helpers


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(value)


def to_toml(data: dict[str, Any]) -> str:
    """A nested dict as TOML: a table's scalars first, then its sub-tables as [headers]."""
    lines: list[str] = []

    def table(prefix: str, body: dict[str, Any]) -> None:
        for key, value in body.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {_scalar(value)}")
        for key, value in body.items():
            if isinstance(value, dict):
                name = f"{prefix}.{key}" if prefix else key
                lines.extend(["", f"[{name}]"])
                table(name, value)

    table("", data)
    return "\n".join(lines) + "\n"


def manifest(overrides: dict[str, Any] | None = None) -> str:
    """BASE with dotted-path overrides applied (DROP removes a key or table)."""
    data = copy.deepcopy(BASE)
    for path, value in (overrides or {}).items():
        *parents, last = path.split(".")
        table = data
        for part in parents:
            table = table.setdefault(part, {})
        if value is DROP:
            table.pop(last, None)
        else:
            table[last] = copy.deepcopy(value)
    return to_toml(data)


@functools.lru_cache(maxsize=None)
def _engine(params: tuple[tuple[str, Any], ...]) -> Engine:
    return Engine([load_pack(builtin_pack_path())], options=EngineOptions(params=dict(params), today=TODAY))


def engine(params: dict[str, Any] | None = None) -> Engine:
    return _engine(tuple(sorted((params or {}).items())))


def check_text(text: str, params: dict[str, Any] | None = None) -> ManifestResult:
    result = engine(params).check("m.toml", text.encode())
    man = [(f.rule, f.message) for f in result.findings if f.rule.startswith(("MAN", "WVR"))]
    assert not man, f"the test manifest itself is broken: {man}\n{text}"
    return result


def check(overrides: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> ManifestResult:
    return check_text(manifest(overrides), params)


def rules(result: ManifestResult) -> set[str]:
    return {f.rule for f in result.findings}


def only(result: ManifestResult, rule: str):
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, (rule, [(f.rule, f.message) for f in result.findings])
    return found[0]


def wilson(p: float, n: int) -> tuple[float, float]:
    """The Wilson interval exactly as spec/policies.md writes it (z = 1.959964, no correction)."""
    z = 1.959964
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


# --------------------------------------------------------------------------------- the base


def test_base_passes_every_rule() -> None:
    result = check()
    assert result.findings == ()
    assert (result.decision.proposal, result.decision.recommendation, result.decision.verdict) == (
        "fine-tune", "fine-tune", "pass",
    )


def test_base_as_distill_passes_every_rule() -> None:
    result = check({"proposal.approach": "distill"})
    assert result.findings == ()
    assert (result.decision.recommendation, result.decision.verdict) == ("distill", "pass")


def test_renderer_round_trips_the_base() -> None:
    assert tomli.loads(manifest()) == BASE
    assert "few_shot" not in tomli.loads(manifest({"evaluation.prompting.few_shot": DROP}))["evaluation"]["prompting"]


def test_pack_has_exactly_the_31_rules_of_the_spec() -> None:
    pack = load_pack(builtin_pack_path())
    assert pack.version == "2"
    assert len(SPEC) == 31
    assert sorted(p.id for p in pack.policies) == sorted(SPEC)
    family_of = {"fine-tuning": "FT", "any": "any", "other": "other"}
    for p in pack.policies:
        severity, family, recommends, points_at = SPEC[p.id]
        assert (p.severity, family_of[p.applies_to], p.recommends, p.points_at) == (severity, family, recommends, points_at), p.id
    assert {p.id for p in pack.policies if not p.waivable} == NOT_WAIVABLE


def test_pack_decision_order_is_the_specs() -> None:
    """Every error rule of the FT family has a place in the decision order, in the spec's order."""
    pack = load_pack(builtin_pack_path())
    ordered = sorted((p for p in pack.policies if p.order is not None), key=lambda p: p.order)
    assert [p.id for p in ordered] == DECISION_ORDER
    assert sorted(DECISION_ORDER) == sorted(r for r, spec in SPEC.items() if spec[2] is not None)


# --------------------------------------------------------------------------------- boundaries


def case(rule: str, fires: bool, overrides: dict[str, Any], id: str) -> Any:  # noqa: A002
    return pytest.param(rule, fires, overrides, id=f"{rule}-{id}-{'fires' if fires else 'quiet'}")


def volume(**table: Any) -> dict[str, Any]:
    return {"volume": table}


NO_STEPS = {s: DROP for s in ("zero_shot", "few_shot", "chain_of_thought", "format_constraints", "role")}


def steps(**scores: Any) -> dict[str, Any]:
    return {f"evaluation.prompting.{k}": v for k, v in scores.items()}


def data(**table: Any) -> dict[str, Any]:
    """A whole [data] table (pack 2: domain_examples may not exceed high_quality, so it goes)."""
    return {"data": table}


#: A proposal that is not to fine-tune: only the advisory rules (any, other) run.
PROMPTING = {"proposal.approach": "prompting"}


CASES = [
    # RAG001: knowledge by reason or by failure mode
    case("RAG001", False, {}, "base"),
    case("RAG001", True, {"proposal.reasons": ALL4 + ["knowledge"]}, "reason"),
    case("RAG001", True, {"evaluation.failures.mode": "knowledge-gap"}, "mode"),
    case("RAG001", False, {"evaluation.failures.mode": "hallucination"}, "other-mode"),
    case("RAG001", True, {"proposal.approach": "distill", "proposal.reasons": ["knowledge"]}, "distill"),
    # RAG002: hallucination by reason or by failure mode
    case("RAG002", False, {}, "base"),
    case("RAG002", True, {"proposal.reasons": ALL4 + ["hallucination"]}, "reason"),
    case("RAG002", True, {"evaluation.failures.mode": "hallucination"}, "mode"),
    case("RAG002", False, {"evaluation.failures.mode": "knowledge-gap"}, "other-mode"),
    # PRM001: every applicable step scored; chain_of_thought applies only when task.reasoning
    case("PRM001", False, {}, "base"),
    case("PRM001", True, steps(zero_shot=DROP), "no-zero-shot"),
    case("PRM001", True, steps(few_shot=DROP), "no-few-shot"),
    case("PRM001", True, steps(format_constraints=DROP), "no-format-constraints"),
    case("PRM001", True, steps(role=DROP), "no-role"),
    case("PRM001", True, {"evaluation.prompting": {"domain_prompt": 0.72}}, "no-steps"),
    case("PRM001", True, {"evaluation": {"examples": 600}}, "no-prompting-table"),
    case("PRM001", False, {"task.reasoning": False}, "no-cot-not-reasoning"),
    case("PRM001", True, {"task.reasoning": True}, "reasoning-no-cot"),
    case("PRM001", False, {"task.reasoning": True, **steps(chain_of_thought=0.5)}, "reasoning-with-cot"),
    case("PRM001", True, {"task.kind": "reasoning"}, "kind-reasoning-default"),
    # pack 2: reasoning.applies also when the dominant failure is reasoning, whatever task.reasoning says
    case("PRM001", True, {"evaluation.failures.mode": "reasoning"}, "mode-reasoning-no-cot"),
    case("PRM001", True, {"task.reasoning": False, "evaluation.failures.mode": "reasoning"}, "reasoning-false-mode-reasoning"),
    case("PRM001", False, {"evaluation.failures.mode": "reasoning", **steps(chain_of_thought=0.5)}, "mode-reasoning-with-cot"),
    case("PRM001", False, {"evaluation.failures.mode": "behavior"}, "mode-behavior-no-cot"),
    case("PRM001", True, {"proposal.approach": "distill", "evaluation.failures.mode": "reasoning"}, "distill-mode-reasoning"),
    # PRM002: best >= quality_bar and no excusing reason
    case("PRM002", False, {"proposal.reasons": GQ}, "gq-below-bar"),
    case("PRM002", True, {"proposal.reasons": GQ, **steps(role=0.85)}, "best-0.85"),
    case("PRM002", False, {"proposal.reasons": GQ, **steps(role=0.8499)}, "best-0.8499"),
    case("PRM002", True, {"proposal.reasons": GQ, **steps(role=1)}, "best-integer-1"),
    case("PRM002", True, {"proposal.reasons": GQ, **steps(chain_of_thought=0.9)}, "cot-counts-when-not-applicable"),
    # pack 2: PRM002 reads prompting.best, the five steps and domain_prompt
    case("PRM002", True, {"proposal.reasons": GQ, **steps(domain_prompt=0.95)}, "domain-prompt-counts"),
    case("PRM002", True, {"proposal.reasons": GQ, **steps(domain_prompt=0.85)}, "domain-prompt-0.85"),
    case("PRM002", False, {"proposal.reasons": GQ, **steps(domain_prompt=0.8499)}, "domain-prompt-0.8499"),
    case("PRM002", False, {"proposal.reasons": GQ + ["format-consistency"], **steps(role=0.9)}, "excused-format"),
    case("PRM002", False, {"proposal.reasons": GQ + ["domain-conventions"], **steps(role=0.9)}, "excused-domain"),
    case("PRM002", False, {"proposal.reasons": GQ + ["cost-latency"], **steps(role=0.9)}, "excused-cost"),
    case("PRM002", False, {"proposal.reasons": GQ + ["behavior"], **steps(role=0.9)}, "excused-behavior"),
    case("PRM002", False, {"proposal.approach": "distill", "proposal.reasons": GQ, **steps(role=0.9)}, "distill-implies-cost"),
    case("PRM002", True, {"proposal.reasons": GQ, "evaluation.prompting": {"domain_prompt": 0.9}}, "domain-prompt-only"),
    case("PRM002", False, {"proposal.reasons": GQ, "evaluation.prompting": DROP}, "no-scores-absent"),
    # PRM003 (any): few_shot_examples in [5, 10]
    case("PRM003", True, steps(few_shot_examples=4), "4"),
    case("PRM003", False, steps(few_shot_examples=5), "5"),
    case("PRM003", False, steps(few_shot_examples=10), "10"),
    case("PRM003", True, steps(few_shot_examples=11), "11"),
    case("PRM003", True, steps(few_shot_examples=0), "0"),
    case("PRM003", False, steps(few_shot_examples=DROP), "absent"),
    # PRM004 (any): task.reasoning (default from kind) and no chain_of_thought
    case("PRM004", False, {}, "base"),
    case("PRM004", True, {"task.kind": "reasoning"}, "kind-reasoning-default"),
    case("PRM004", True, {"evaluation.failures.mode": "reasoning"}, "mode-reasoning"),
    case("PRM004", True, {"task.reasoning": False, "evaluation.failures.mode": "reasoning"}, "reasoning-false-mode-reasoning"),
    case("PRM004", False, {"evaluation.failures.mode": "reasoning", **steps(chain_of_thought=0.5)}, "mode-reasoning-with-cot"),
    case("PRM004", False, {"evaluation.failures.mode": DROP}, "mode-absent"),
    # PRM005 (pack 2): evaluation.failures.mode must be declared ("none" is a diagnosis)
    case("PRM005", False, {}, "base-format"),
    case("PRM005", True, {"evaluation.failures.mode": DROP}, "absent"),
    case("PRM005", True, {"evaluation.failures": DROP}, "no-failures-table"),
    case("PRM005", False, {"evaluation.failures.mode": "none"}, "none"),
    case("PRM005", False, {"evaluation.failures.mode": "behavior"}, "behavior"),
    case("PRM005", True, {"proposal.approach": "distill", "evaluation.failures.mode": DROP}, "distill-absent"),
    case("PRM005", False, {"proposal.approach": "distill", "evaluation.failures.mode": "none"}, "distill-none"),
    case("PRM005", True, {"proposal.reasons": GQ, "evaluation.failures.mode": DROP}, "general-quality-absent"),
    case("PRM004", True, {"task.reasoning": True}, "explicit-reasoning"),
    case("PRM004", False, {"task.kind": "reasoning", **steps(chain_of_thought=0.5)}, "with-cot"),
    # FMT001: per_day <= 100_000 or unknown; per_month converted (/30), threshold never converted
    case("FMT001", False, {}, "base-240000"),
    case("FMT001", True, volume(requests_per_day=100_000), "100000-day"),
    case("FMT001", False, volume(requests_per_day=100_001), "100001-day"),
    case("FMT001", True, volume(requests_per_day=99_999), "99999-day"),
    case("FMT001", False, volume(requests_per_day=100_000.5), "100000.5-day"),
    case("FMT001", True, volume(requests_per_month=3_000_000), "3000000-month"),
    case("FMT001", False, volume(requests_per_month=3_000_030), "3000030-month"),
    case("FMT001", False, volume(requests_per_month=3_000_001), "3000001-month-no-tolerance"),
    case("FMT001", True, volume(requests_per_month=2_999_999), "2999999-month"),
    case("FMT001", True, {"volume": DROP}, "volume-absent"),
    case("FMT001", True, {"volume": {}}, "volume-empty"),
    case("FMT001", False, {"proposal.reasons": GQ, "volume": DROP}, "no-format-reason"),
    # FMT002: machine_parsed and failure_impact in (system-failure, data-corruption); defaults apply
    case("FMT002", False, {}, "base-data-corruption"),
    case("FMT002", False, {"downstream.failure_impact": "system-failure"}, "system-failure"),
    case("FMT002", True, {"downstream.failure_impact": "retried"}, "retried"),
    case("FMT002", True, {"downstream.failure_impact": "none"}, "impact-none"),
    case("FMT002", True, {"downstream.failure_impact": DROP}, "impact-absent"),
    case("FMT002", True, {"downstream.machine_parsed": False}, "not-machine-parsed"),
    case("FMT002", True, {"downstream.machine_parsed": DROP}, "machine-parsed-absent"),
    case("FMT002", True, {"downstream": DROP}, "downstream-absent"),
    case("FMT002", False, {"proposal.reasons": GQ, "downstream": DROP}, "no-format-reason"),
    # FMT003: malformed_rate < 0.001
    case("FMT003", False, {"evaluation.failures.malformed_rate": 0.001}, "0.001"),
    case("FMT003", True, {"evaluation.failures.malformed_rate": 0.0009}, "0.0009"),
    case("FMT003", True, {"evaluation.failures.malformed_rate": 0}, "0"),
    case("FMT003", False, {"evaluation.failures.malformed_rate": DROP}, "absent"),
    case("FMT003", False, {"proposal.reasons": GQ, "evaluation.failures.malformed_rate": 0.0009}, "no-format-reason"),
    # FMT005 (pack 2): a format case states its measured malformed rate
    case("FMT005", False, {}, "base-0.02"),
    case("FMT005", True, {"evaluation.failures.malformed_rate": DROP}, "rate-absent"),
    case("FMT005", True, {"evaluation.failures": DROP}, "no-failures-table"),
    case("FMT005", False, {"evaluation.failures.malformed_rate": 0}, "rate-0-declared"),
    case("FMT005", False, {"proposal.reasons": GQ, "evaluation.failures.malformed_rate": DROP}, "format-mode-alone-not-a-case"),
    case("FMT005", False, {"proposal.reasons": ["behavior"], "evaluation.failures.malformed_rate": DROP}, "no-format-reason"),
    case("FMT005", True, {"proposal.approach": "distill", "proposal.reasons": ["format-consistency"],
                          "evaluation.failures.malformed_rate": DROP}, "distill-format"),
    # FMT004 (any): machine_parsed and not retry_logic
    case("FMT004", False, {}, "base"),
    case("FMT004", True, {"downstream.retry_logic": False}, "no-retry"),
    case("FMT004", True, {"downstream.retry_logic": DROP}, "retry-absent"),
    case("FMT004", False, {"downstream.retry_logic": False, "downstream.machine_parsed": False}, "not-parsed"),
    case("FMT004", False, {"downstream": DROP}, "downstream-absent"),
    # DOM001: domain reason and no domain_prompt score
    case("DOM001", False, {}, "base"),
    case("DOM001", True, steps(domain_prompt=DROP), "no-domain-prompt"),
    case("DOM001", False, {"proposal.reasons": GQ, **steps(domain_prompt=DROP)}, "no-domain-reason"),
    # DOM002: domain_examples <= 500 or unknown
    case("DOM002", True, {"data.domain_examples": 500}, "500"),
    case("DOM002", False, {"data.domain_examples": 501}, "501"),
    case("DOM002", True, {"data.domain_examples": 0}, "0"),
    case("DOM002", True, {"data.domain_examples": DROP}, "unknown"),
    case("DOM002", True, {"data": DROP}, "no-data-table"),
    case("DOM002", False, {"proposal.reasons": GQ, "data.domain_examples": 10}, "no-domain-reason"),
    # DOM003: domain_prompt >= quality_bar
    case("DOM003", True, steps(domain_prompt=0.85), "0.85"),
    case("DOM003", False, steps(domain_prompt=0.8499), "0.8499"),
    case("DOM003", False, steps(domain_prompt=DROP), "absent"),
    case("DOM003", False, {"proposal.reasons": GQ, **steps(domain_prompt=0.9)}, "no-domain-reason"),
    # DOM004: domain general or conventions none (both defaults)
    case("DOM004", False, {}, "base-legal-strict"),
    case("DOM004", False, {"task.conventions": "moderate"}, "moderate"),
    case("DOM004", True, {"task.domain": "general"}, "general"),
    case("DOM004", True, {"task.domain": DROP}, "domain-absent"),
    case("DOM004", True, {"task.conventions": "none"}, "conventions-none"),
    case("DOM004", True, {"task.conventions": DROP}, "conventions-absent"),
    case("DOM004", False, {"proposal.reasons": GQ, "task.domain": "general"}, "no-domain-reason"),
    # DST001: per_month <= 1_000_000 or unknown (per_day * 30, no tolerance)
    case("DST001", False, {}, "base"),
    case("DST001", True, volume(requests_per_month=1_000_000), "1000000-month"),
    case("DST001", False, volume(requests_per_month=1_000_001), "1000001-month"),
    case("DST001", False, volume(requests_per_day=33_334), "33334-day"),
    case("DST001", True, volume(requests_per_day=33_333), "33333-day"),
    case("DST001", True, {"volume": DROP}, "unknown"),
    case("DST001", False, {"proposal.reasons": ["behavior"], **volume(requests_per_month=10)}, "no-cost-reason"),
    case("DST001", True, {"proposal.approach": "distill", "proposal.reasons": [], **volume(requests_per_month=10)}, "distill-implied"),
    # DST002: not task.narrow (default false)
    case("DST002", False, {}, "base"),
    case("DST002", True, {"task.narrow": False}, "false"),
    case("DST002", True, {"task.narrow": DROP}, "absent"),
    case("DST002", False, {"proposal.reasons": ["behavior"], "task.narrow": False}, "no-cost-reason"),
    # DST003: teacher_quality absent or < quality_bar
    case("DST003", False, {}, "base-0.90"),
    case("DST003", False, {"distillation.teacher_quality": 0.85}, "0.85"),
    case("DST003", True, {"distillation.teacher_quality": 0.8499, "distillation.student_quality": 0.84}, "0.8499"),
    case("DST003", True, {"distillation.teacher_quality": DROP}, "absent"),
    case("DST003", True, {"distillation": DROP}, "no-table"),
    case("DST003", False, {"proposal.reasons": ["behavior"], "distillation": DROP}, "no-cost-reason"),
    # DST004: (teacher - student) - delta > 1e-9; manifest delta wins; no cost-latency needed
    case("DST004", False, {}, "base-0.02"),
    case("DST004", False, {"distillation.student_quality": 0.87}, "0.90-0.87-tolerance"),
    case("DST004", True, {"distillation.student_quality": 0.869}, "0.90-0.869"),
    # pack 2: allowed drop = min(param 0.03, manifest's max_quality_delta): a larger one cannot loosen
    case("DST004", True, {"distillation.student_quality": 0.86, "distillation.max_quality_delta": 0.05}, "manifest-0.05-drop-0.04"),
    case("DST004", True, {"distillation.student_quality": 0.85, "distillation.max_quality_delta": 0.05}, "manifest-0.05-drop-0.05"),
    case("DST004", False, {"distillation.student_quality": 0.87, "distillation.max_quality_delta": 0.05}, "manifest-0.05-drop-0.03-tolerance"),
    case("DST004", True, {"distillation.student_quality": 0.869, "distillation.max_quality_delta": 0.05}, "manifest-0.05-drop-0.031"),
    case("DST004", True, {"distillation.max_quality_delta": 0.01}, "manifest-0.01-drop-0.02"),
    case("DST004", False, {"distillation.max_quality_delta": 0.02}, "manifest-0.02-drop-0.02-tolerance"),
    case("DST004", True, {"distillation.student_quality": 0.87, "distillation.max_quality_delta": 0.02}, "manifest-0.02-drop-0.03"),
    case("DST004", True, {"distillation.student_quality": 0.879, "distillation.max_quality_delta": 0.02}, "manifest-0.02-drop-0.021"),
    case("DST004", False, {"distillation.student_quality": 0.87, "distillation.max_quality_delta": 0.03}, "manifest-equal-0.03"),
    case("DST004", False, {"distillation.student_quality": 0.95}, "student-better"),
    case("DST004", False, {"distillation.student_quality": DROP}, "student-absent"),
    case("DST004", False, {"distillation.teacher_quality": DROP, "distillation.student_quality": 0.1}, "teacher-absent"),
    case("DST004", True, {"proposal.reasons": GQ, "distillation.student_quality": 0.80}, "no-cost-reason"),
    # DST005: data.examples in [1_000, 5_000]
    case("DST005", True, {"data.examples": 999}, "999"),
    case("DST005", False, {"data.examples": 1_000}, "1000"),
    case("DST005", False, {"data.examples": 5_000}, "5000"),
    case("DST005", True, {"data.examples": 5_001}, "5001"),
    case("DST005", False, {"data.examples": DROP}, "absent"),
    case("DST005", False, {"proposal.reasons": ["behavior"], "data.examples": 999}, "no-cost-reason"),
    case("DST005", True, {"proposal.approach": "distill", "proposal.reasons": [], "data.examples": 999}, "distill-implied"),
    # DST006: model_tier frontier (small by default for distill)
    case("DST006", True, {"proposal.model_tier": "frontier"}, "frontier"),
    case("DST006", False, {"proposal.model_tier": "small"}, "small"),
    case("DST006", True, {"proposal.model_tier": DROP}, "fine-tune-absent"),
    case("DST006", True, {"proposal.reasons": ["cost-latency"], "proposal.model_tier": DROP}, "fine-tune-cost-only-absent"),
    case("DST006", False, {"proposal.approach": "distill", "proposal.model_tier": DROP}, "distill-default-small"),
    case("DST006", True, {"proposal.approach": "distill", "proposal.reasons": [], "proposal.model_tier": "frontier"}, "distill-frontier"),
    case("DST006", False, {"proposal.reasons": ["behavior"], "proposal.model_tier": "frontier"}, "no-cost-reason"),
    case("DST006", False, {"proposal.reasons": ["behavior"], "proposal.model_tier": DROP}, "no-cost-reason-absent"),
    # FTF001: general-quality and model_tier frontier
    case("FTF001", True, {"proposal.reasons": GQ, "proposal.model_tier": "frontier"}, "frontier"),
    case("FTF001", False, {"proposal.reasons": GQ, "proposal.model_tier": "small"}, "small"),
    case("FTF001", False, {"proposal.reasons": GQ, "proposal.model_tier": DROP}, "absent"),
    case("FTF001", False, {"proposal.model_tier": "frontier"}, "no-gq-reason"),
    # BEH001: few_shot_variants < 3 (default 1 with a few_shot score) or no few_shot score
    case("BEH001", True, steps(few_shot_variants=2), "2"),
    case("BEH001", False, steps(few_shot_variants=3), "3"),
    case("BEH001", True, steps(few_shot_variants=DROP), "default-1"),
    case("BEH001", True, steps(few_shot=DROP), "no-few-shot-score"),
    case("BEH001", True, steps(few_shot=DROP, few_shot_variants=DROP), "no-few-shot-at-all"),
    case("BEH001", False, {"proposal.reasons": GQ, **steps(few_shot_variants=DROP)}, "no-behavior-reason"),
    # BEH002: reproducible is not true
    case("BEH002", False, {}, "true"),
    case("BEH002", True, {"evaluation.failures.reproducible": False}, "false"),
    case("BEH002", True, {"evaluation.failures.reproducible": DROP}, "absent"),
    case("BEH002", True, {"evaluation.failures": DROP}, "no-failures-table"),
    case("BEH002", False, {"proposal.reasons": GQ, "evaluation.failures.reproducible": False}, "no-behavior-reason"),
    # BEH003 (pack 2): few_shot alone at or above the bar voids the behaviour case
    case("BEH003", False, {}, "base-0.66"),
    case("BEH003", True, steps(few_shot=0.85), "0.85"),
    case("BEH003", False, steps(few_shot=0.8499), "0.8499"),
    case("BEH003", True, steps(few_shot=1), "integer-1"),
    case("BEH003", False, steps(few_shot=DROP), "absent"),
    case("BEH003", False, steps(role=0.95, domain_prompt=0.95), "other-steps-above-bar"),
    case("BEH003", False, {"proposal.reasons": GQ, **steps(few_shot=0.9)}, "no-behavior-reason"),
    case("BEH003", True, {"proposal.approach": "distill", "proposal.reasons": ["behavior"], **steps(few_shot=0.9)}, "distill"),
    # DAT001: high_quality (default examples) < 200 or unknown
    case("DAT001", True, data(examples=3_000, high_quality=199), "hq-199"),
    case("DAT001", False, data(examples=3_000, high_quality=200), "hq-200"),
    case("DAT001", True, data(examples=3_000, high_quality=0), "hq-0"),
    case("DAT001", True, data(examples=199), "examples-199-default"),
    case("DAT001", False, data(examples=200), "examples-200-default"),
    case("DAT001", True, {"data": DROP}, "no-data"),
    case("DAT001", True, {"data": {"domain_examples": 600}}, "no-counts"),
    case("DAT001", True, {"proposal.approach": "distill", **data(examples=150)}, "distill"),
    # DAT002: 200 <= high_quality < 500
    case("DAT002", False, data(examples=3_000, high_quality=199), "hq-199"),
    case("DAT002", True, data(examples=3_000, high_quality=200), "hq-200"),
    case("DAT002", True, data(examples=3_000, high_quality=499), "hq-499"),
    case("DAT002", False, data(examples=3_000, high_quality=500), "hq-500"),
    case("DAT002", True, data(examples=499), "examples-499-default"),
    case("DAT002", False, {"data": DROP}, "no-data"),
    case("DAT002", True, {"proposal.approach": "distill", **data(examples=300)}, "distill"),
    # DAT003 (other, pack 2): a checklist step scored and evaluation.examples < 100 or unknown
    case("DAT003", True, {**PROMPTING, "evaluation.examples": 99}, "99"),
    case("DAT003", False, {**PROMPTING, "evaluation.examples": 100}, "100"),
    case("DAT003", True, {**PROMPTING, "evaluation.examples": 0}, "0"),
    case("DAT003", True, {**PROMPTING, "evaluation.examples": DROP}, "unknown"),
    case("DAT003", False, {**PROMPTING, "evaluation.examples": 50, "evaluation.prompting": {"domain_prompt": 0.72}}, "domain-prompt-only"),
    case("DAT003", False, {**PROMPTING, "evaluation.examples": DROP, "evaluation.prompting": {"domain_prompt": 0.72}},
         "domain-prompt-only-unknown"),
    case("DAT003", True, {**PROMPTING, "evaluation.examples": 50, "evaluation.prompting": {"chain_of_thought": 0.5}}, "cot-only"),
    case("DAT003", False, {"evaluation.examples": 99}, "fine-tune-gets-DAT005-instead"),
    case("DAT003", False, {"proposal.approach": "distill", "evaluation.examples": DROP}, "distill-gets-DAT005-instead"),
    # DAT005 (pack 2): the evaluation set gate for fine-tune and distill, whatever scores are declared
    case("DAT005", True, {"evaluation.examples": 99}, "99"),
    case("DAT005", False, {"evaluation.examples": 100}, "100"),
    case("DAT005", True, {"evaluation.examples": DROP}, "absent"),
    case("DAT005", True, {"evaluation.examples": 0}, "0"),
    case("DAT005", True, {"evaluation.examples": 1}, "1"),
    case("DAT005", True, {"evaluation": {"failures": BASE["evaluation"]["failures"]}}, "no-scores-no-examples"),
    case("DAT005", True, {"evaluation.examples": 50, "evaluation.prompting": {"domain_prompt": 0.72}}, "domain-prompt-only"),
    case("DAT005", True, {"proposal.approach": "distill", "evaluation.examples": 99}, "distill-99"),
    case("DAT005", False, {"proposal.approach": "distill", "evaluation.examples": 100}, "distill-100"),
    case("DAT005", True, {"proposal.approach": "distill", "evaluation.examples": DROP}, "distill-absent"),
    case("DAT005", True, {"proposal.approach": "distill", "evaluation.examples": 0}, "distill-0"),
    case("DAT005", False, {**PROMPTING, "evaluation.examples": 99}, "prompting-proposal"),
]


@pytest.mark.parametrize(("rule", "fires", "overrides"), CASES)
def test_rule_boundary(rule: str, fires: bool, overrides: dict[str, Any]) -> None:
    result = check(overrides)
    assert (rule in rules(result)) is fires, [(f.rule, f.message) for f in result.findings]
    if fires:
        finding = only(result, rule)
        severity, _, recommends, points_at = SPEC[rule]
        assert (finding.severity, finding.recommends, finding.key) == (severity, recommends, points_at)
        assert finding.waived is False


def test_every_rule_has_boundary_cases_on_both_sides() -> None:
    covered = {(p.values[0], p.values[1]) for p in CASES}
    missing = [(rule, fires) for rule in SPEC for fires in (True, False) if (rule, fires) not in covered]
    # DAT004 has its own hand-computed cases below.
    assert missing == [("DAT004", True), ("DAT004", False)]


# --------------------------------------------------------------------------------- DAT004


#: (best, n, fires): worked out by hand with the spec's formula at the edges where the
#: interval's upper (best 0.80) or lower (best 0.90) end crosses 0.85 as n grows.
WILSON_CASES = [
    pytest.param(0.80, 195, True, id="0.80-n195-high-above-bar"),
    pytest.param(0.80, 196, False, id="0.80-n196-high-below-bar"),
    pytest.param(0.90, 195, True, id="0.90-n195-low-below-bar"),
    pytest.param(0.90, 196, False, id="0.90-n196-low-above-bar"),
    pytest.param(0.85, 600, True, id="best-equals-bar"),
    pytest.param(0.70, 600, False, id="base-far-below"),
    pytest.param(0.70, 21, True, id="0.70-n21"),
    pytest.param(0.70, 22, False, id="0.70-n22"),
]


@pytest.mark.parametrize(("best", "n", "fires"), WILSON_CASES)
def test_dat004_wilson_interval(best: float, n: int, fires: bool) -> None:
    low, high = wilson(best, n)
    assert (low < 0.85 < high) is fires  # the test's own arithmetic agrees with the case
    # domain_prompt counts toward prompting.best in pack 2: take it out so `best` is the best.
    result = check({**steps(format_constraints=best, domain_prompt=DROP), "evaluation.examples": n})
    assert ("DAT004" in rules(result)) is fires
    if fires:
        finding = only(result, "DAT004")
        assert (finding.severity, finding.key, finding.recommends) == ("warning", "evaluation.prompting", None)
        shown = [float(x) for x in re.findall(r"runs from ([0-9.]+) to ([0-9.]+)", finding.message)[0]]
        assert shown == pytest.approx([low, high], abs=1e-5)
        assert f"best prompting score {best:g} " in finding.message
        assert "contains the 0.85 bar" in finding.message


def test_dat004_hand_arithmetic_for_one_case() -> None:
    # best 0.80 over 195 examples, z = 1.959964: z^2 = 3.8414589, z^2/n = 0.0196998,
    # centre = (0.8 + 0.0098499) / 1.0196998 = 0.7942042,
    # half = 1.959964 * sqrt(0.16/195 + 3.8414589/152100) / 1.0196998
    #      = 1.959964 * sqrt(0.00084577) / 1.0196998 = 0.0558987
    low, high = wilson(0.80, 195)
    assert low == pytest.approx(0.7942042 - 0.0558987, abs=2e-6)
    assert high == pytest.approx(0.7942042 + 0.0558987, abs=2e-6)
    assert high > 0.85


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({**steps(format_constraints=0.80), "evaluation.examples": DROP}, id="examples-unknown"),
        pytest.param({**steps(format_constraints=0.80), "evaluation.examples": 0}, id="examples-0"),
        pytest.param({"evaluation.examples": 5, "evaluation.prompting": DROP}, id="no-score"),
    ],
)
def test_dat004_needs_an_interval(overrides: dict[str, Any]) -> None:
    assert "DAT004" not in rules(check(overrides))


@pytest.mark.parametrize(
    ("domain_prompt", "n", "fires"),
    [
        # best = domain_prompt (the steps stay at 0.70 or below); edges as in WILSON_CASES
        pytest.param(0.80, 195, True, id="domain-0.80-n195"),
        pytest.param(0.80, 196, False, id="domain-0.80-n196"),
        pytest.param(0.85, 5, True, id="domain-only-0.85-n5"),
    ],
)
def test_dat004_reads_prompting_best_with_the_domain_prompt(domain_prompt: float, n: int, fires: bool) -> None:
    low, high = wilson(domain_prompt, n)
    assert (low < 0.85 < high) is fires
    overrides: dict[str, Any] = {**steps(domain_prompt=domain_prompt), "evaluation.examples": n}
    if n == 5:
        overrides["evaluation.prompting"] = {"domain_prompt": domain_prompt}
    result = check(overrides)
    assert ("DAT004" in rules(result)) is fires
    if fires:
        assert f"best prompting score {domain_prompt:g} " in only(result, "DAT004").message


# --------------------------------------------------------------------------------- FT vs advisory

#: Trips every advisory rule and, for a fine-tuning proposal, every FT rule but PRM002, DOM003,
#: DAT001 (which cannot fire together with PRM001's excusing reasons, DOM001 and DAT002) and the
#: pack-2 evidence rules PRM005, FMT005, BEH003 (tripped by TRIGGER_EVIDENCE below).
TRIGGER_ALL = {
    "task.kind": "reasoning",  # PRM004 (and PRM001 for FT)
    "task.narrow": False,  # DST002
    "task.domain": "general",  # DOM004
    **steps(few_shot_examples=3, format_constraints=0.80, few_shot_variants=1, domain_prompt=DROP),  # PRM003, BEH001, DOM001
    "downstream.retry_logic": False,  # FMT004
    "downstream.failure_impact": "retried",  # FMT002
    "evaluation.examples": 50,  # DAT003 (other) or DAT005 (FT), and DAT004 (0.80 over 50)
    "proposal.reasons": ALL4 + ["knowledge", "general-quality"],  # RAG001
    "evaluation.failures.mode": "hallucination",  # RAG002
    "evaluation.failures.malformed_rate": 0.0001,  # FMT003
    "evaluation.failures.reproducible": False,  # BEH002
    "proposal.model_tier": "frontier",  # DST006, FTF001
    "data": {"examples": 300, "domain_examples": 10},  # DAT002, DST005, DOM002
    "volume": DROP,  # FMT001, DST001
    "distillation": {"teacher_quality": 0.84, "student_quality": 0.5},  # DST003, DST004
}
FT_TRIGGERED = sorted(set(SPEC) - {"PRM002", "DOM003", "DAT001", "PRM005", "FMT005", "BEH003", "DAT003"})

#: The pack-2 evidence rules: no failure mode (PRM005), no malformed rate (FMT005), few-shot at
#: the bar in a behaviour case (BEH003), no evaluation set (DAT005), no model tier (DST006).
TRIGGER_EVIDENCE = {
    "evaluation.failures": {"reproducible": True},
    "evaluation.examples": DROP,
    **steps(few_shot=0.9),
    "proposal.model_tier": DROP,
}


@pytest.mark.parametrize("approach", NON_FT_APPROACHES)
def test_non_fine_tuning_proposals_get_only_advisory_rules(approach: str) -> None:
    result = check({**TRIGGER_ALL, "proposal.approach": approach})
    assert sorted(rules(result)) == ADVISORY
    assert all(f.severity == "warning" for f in result.findings)
    assert (result.decision.proposal, result.decision.recommendation, result.decision.verdict) == (approach, approach, "pass")
    assert result.decision.decided_by is None


@pytest.mark.parametrize("approach", ["fine-tune", "distill"])
def test_fine_tuning_proposals_get_both_families(approach: str) -> None:
    result = check({**TRIGGER_ALL, "proposal.approach": approach})
    assert sorted(rules(result)) == FT_TRIGGERED
    assert (result.decision.recommendation, result.decision.verdict, result.decision.decided_by) == ("rag", "fail", "RAG001")


@pytest.mark.parametrize("approach", ["fine-tune", "distill"])
def test_evidence_rules_fire_on_fine_tuning_proposals(approach: str) -> None:
    result = check({**TRIGGER_EVIDENCE, "proposal.approach": approach})
    fired = rules(result)
    assert {"PRM005", "FMT005", "BEH003", "DAT005"} <= fired
    # DST006 reads model_tier with its default: small for distill, absent for fine-tune.
    assert ("DST006" in fired) is (approach == "fine-tune")
    assert "DAT003" not in fired
    assert (result.decision.recommendation, result.decision.decided_by) == ("prompting", "PRM005")


@pytest.mark.parametrize("approach", NON_FT_APPROACHES)
def test_evidence_rules_never_fire_on_other_proposals(approach: str) -> None:
    result = check({**TRIGGER_EVIDENCE, "proposal.approach": approach})
    # Only the advisory DAT003 (scores declared, evaluation.examples absent).
    assert rules(result) == {"DAT003"}
    assert (result.decision.recommendation, result.decision.verdict, result.decision.decided_by) == (approach, "pass", None)


@pytest.mark.parametrize("approach", NON_FT_APPROACHES)
@pytest.mark.parametrize("rule", ADVISORY)
def test_each_advisory_rule_fires_on_non_fine_tuning_proposals(approach: str, rule: str) -> None:
    one = {
        "PRM003": steps(few_shot_examples=11),
        "PRM004": {"task.reasoning": True},
        "FMT004": {"downstream.retry_logic": False},
        "DAT003": {"evaluation.examples": 99},
        "DAT004": {**steps(format_constraints=0.80), "evaluation.examples": 195},
    }[rule]
    result = check({**one, "proposal.approach": approach})
    assert rules(result) == {rule}
    assert (result.decision.recommendation, result.decision.verdict) == (approach, "pass")


@pytest.mark.parametrize("approach", NON_FT_APPROACHES + ["fine-tune", "distill"])
def test_reasoning_failure_mode_owes_chain_of_thought_for_every_proposal(approach: str) -> None:
    """reasoning.applies = task.reasoning or failures.mode == "reasoning", for every proposal."""
    result = check({"proposal.approach": approach, "task.reasoning": False, "evaluation.failures.mode": "reasoning"})
    fired = rules(result)
    assert "PRM004" in fired
    if approach in ("fine-tune", "distill"):
        assert "chain_of_thought" in only(result, "PRM001").message
        assert (result.decision.recommendation, result.decision.decided_by) == ("prompting", "PRM001")
    else:
        assert fired == {"PRM004"}
    with_cot = check({"proposal.approach": approach, "evaluation.failures.mode": "reasoning", **steps(chain_of_thought=0.5)})
    assert not {"PRM001", "PRM004"} & rules(with_cot)


def test_kind_reasoning_with_reasoning_false_is_a_contradiction() -> None:
    # manifest.md: `false` with kind `reasoning` is a contradiction (MAN002 at this key).
    result = engine().check("m.toml", manifest({"task.kind": "reasoning", "task.reasoning": False}).encode())
    assert [f.rule for f in result.findings] == ["MAN002"]
    assert result.findings[0].key == "task.reasoning"
    assert (result.decision.recommendation, result.decision.verdict, result.decision.decided_by) == (None, "fail", None)


# --------------------------------------------------------------------------------- the decision

#: Reasons without domain-conventions, so that a small dataset trips no DOM rule.
NO_DOMAIN = ["format-consistency", "cost-latency", "behavior"]

#: One change that makes exactly one error rule fire (with warnings at most).
ERROR_ALONE = [
    ("RAG001", {"proposal.reasons": ALL4 + ["knowledge"]}),
    ("RAG002", {"proposal.reasons": ALL4 + ["hallucination"]}),
    ("PRM001", steps(role=DROP)),
    ("PRM002", {"proposal.reasons": GQ, **steps(role=0.9)}),
    ("PRM005", {"evaluation.failures.mode": DROP}),
    ("FMT001", volume(requests_per_day=100_000)),
    ("FMT002", {"downstream.failure_impact": "retried"}),
    ("FMT005", {"evaluation.failures.malformed_rate": DROP}),
    ("DOM001", steps(domain_prompt=DROP)),
    ("DOM002", {"data.domain_examples": 500}),
    ("DOM003", steps(domain_prompt=0.85)),
    ("DOM004", {"task.conventions": "none"}),
    ("DST001", {"proposal.reasons": ["cost-latency"], **volume(requests_per_month=1_000_000)}),
    ("DST002", {"task.narrow": False}),
    ("DST003", {"distillation.teacher_quality": 0.84, "distillation.student_quality": 0.83}),
    ("DST004", {"distillation.student_quality": 0.869}),
    ("DST006", {"proposal.model_tier": "frontier"}),
    ("BEH001", steps(few_shot_variants=2)),
    ("BEH002", {"evaluation.failures.reproducible": False}),
    ("BEH003", steps(few_shot=0.9)),
    ("DAT001", {"proposal.reasons": NO_DOMAIN, **data(examples=3_000, high_quality=199)}),
    ("DAT002", {"proposal.reasons": NO_DOMAIN, **data(examples=3_000, high_quality=499)}),
    ("DAT005", {"evaluation.examples": 99}),
]


def test_error_alone_covers_every_error_rule() -> None:
    assert sorted(r for r, _ in ERROR_ALONE) == sorted(r for r, spec in SPEC.items() if spec[0] == "error")


@pytest.mark.parametrize(("rule", "overrides"), [pytest.param(r, o, id=r) for r, o in ERROR_ALONE])
@pytest.mark.parametrize("approach", ["fine-tune", "distill"])
def test_a_lone_error_sets_recommendation_and_fails(rule: str, overrides: dict[str, Any], approach: str) -> None:
    if approach == "distill" and rule == "PRM002":
        pytest.skip("distill implies cost-latency, which excuses PRM002 (case PRM002-distill-implies-cost)")
    result = check({**overrides, "proposal.approach": approach})
    assert [f.rule for f in result.findings if f.severity == "error"] == [rule]
    assert result.decision.recommendation == SPEC[rule][2]
    assert result.decision.decided_by == rule
    assert result.decision.verdict == "fail"


#: One change that makes exactly one warning rule fire.
WARNING_ALONE = [
    ("PRM003", steps(few_shot_examples=4)),
    ("FMT003", {"evaluation.failures.malformed_rate": 0.0005}),
    ("FMT004", {"downstream.retry_logic": False}),
    ("DST005", {"data.examples": 999}),
    ("DAT004", {**steps(format_constraints=0.80), "evaluation.examples": 195}),
    ("FTF001", {"proposal.reasons": GQ, "proposal.model_tier": "frontier"}),
]


def test_warning_alone_covers_every_warning_rule_a_fine_tune_can_get_alone() -> None:
    # PRM004 needs a missing chain_of_thought, which is PRM001 on a fine-tune; DAT003 is for
    # the other proposals only.
    warnings = {r for r, spec in SPEC.items() if spec[0] == "warning"}
    assert {r for r, _ in WARNING_ALONE} == warnings - {"PRM004", "DAT003"}


@pytest.mark.parametrize(("rule", "overrides"), [pytest.param(r, o, id=r) for r, o in WARNING_ALONE])
@pytest.mark.parametrize("approach", ["fine-tune", "distill"])
def test_warnings_never_fail_nor_redirect(rule: str, overrides: dict[str, Any], approach: str) -> None:
    if approach == "distill" and rule == "FTF001":
        pytest.skip("distill implies cost-latency, so a frontier tier is DST006 (an error): see the next test")
    result = check({**overrides, "proposal.approach": approach})
    assert [f.rule for f in result.findings] == [rule]
    assert all(f.severity == "warning" for f in result.findings)
    assert (result.decision.recommendation, result.decision.verdict, result.decision.decided_by) == (approach, "pass", None)


def test_distill_into_a_frontier_model_is_an_error_even_for_general_quality() -> None:
    result = check({"proposal.approach": "distill", "proposal.reasons": GQ, "proposal.model_tier": "frontier"})
    assert rules(result) == {"FTF001", "DST006"}  # distill implies cost-latency
    assert only(result, "DST006").severity == "error"
    assert (result.decision.recommendation, result.decision.verdict, result.decision.decided_by) == (
        "frontier-api", "fail", "DST006",
    )


def test_all_warnings_together_still_pass() -> None:
    overrides: dict[str, Any] = {}
    for rule, change in WARNING_ALONE:
        if rule != "FTF001":  # a frontier tier with cost-latency is DST006, an error in pack 2
            overrides.update(change)
    result = check(overrides)
    fired = rules(result)
    assert fired == {"PRM003", "FMT003", "FMT004", "DST005", "DAT004"}
    assert all(f.severity == "warning" for f in result.findings)
    assert (result.decision.recommendation, result.decision.verdict, result.decision.decided_by) == ("fine-tune", "pass", None)


def order(overrides: dict[str, Any], decided_by: str, expected_rules: set[str], id: str) -> Any:  # noqa: A002
    return pytest.param(overrides, decided_by, expected_rules, id=id)


ORDER_CASES = [
    order({"proposal.reasons": ALL4 + ["knowledge"], **steps(role=DROP)}, "RAG001", {"RAG001", "PRM001"}, "RAG001-beats-PRM001"),
    order({"proposal.reasons": GQ + ["hallucination"], **steps(role=0.9)}, "RAG002", {"RAG002", "PRM002"}, "RAG002-beats-PRM002"),
    order({**steps(zero_shot=DROP), **volume(requests_per_day=10)}, "PRM001", {"PRM001", "FMT001"}, "PRM001-beats-FMT001"),
    order(
        {"proposal.reasons": ["domain-conventions", "format-consistency"], **steps(domain_prompt=DROP), **volume(requests_per_day=10)},
        "FMT001", {"FMT001", "DOM001"}, "FMT001-beats-DOM001-domain-listed-first",
    ),
    order(
        {"proposal.reasons": ["format-consistency", "domain-conventions"], **steps(domain_prompt=DROP), **volume(requests_per_day=10)},
        "FMT001", {"FMT001", "DOM001"}, "FMT001-beats-DOM001-format-listed-first",
    ),
    order(
        {"proposal.reasons": ["cost-latency", "domain-conventions"], "data.domain_examples": 10, **volume(requests_per_month=10)},
        "DOM002", {"DOM002", "DST001"}, "DOM002-beats-DST001-cost-listed-first",
    ),
    order(
        {"proposal.reasons": ["cost-latency"], **volume(requests_per_month=10), "distillation.teacher_quality": DROP},
        "DST001", {"DST001", "DST003"}, "DST001-beats-DST003",
    ),
    order(
        {"distillation.teacher_quality": 0.84, "distillation.student_quality": 0.5},
        "DST003", {"DST003", "DST004"}, "DST003-beats-DST004",
    ),
    order({"distillation.student_quality": 0.5, **steps(few_shot_variants=1)}, "DST004", {"DST004", "BEH001"}, "DST004-beats-BEH001"),
    order(
        {"proposal.reasons": ["behavior"], "evaluation.failures.reproducible": False, **data(examples=150)},
        "BEH002", {"BEH002", "DAT001"}, "BEH002-beats-DAT001",
    ),
    order({"data": DROP}, "DOM002", {"DOM002", "DAT001"}, "DOM002-before-DAT001"),
    order(
        {"proposal.reasons": ["format-consistency"], "downstream.failure_impact": "none", **data(examples=300)},
        "FMT002", {"FMT002", "DAT002"}, "FMT002-beats-DAT002",
    ),
    order({"data": DROP, "proposal.model_tier": "frontier"}, "DOM002", {"DOM002", "DST006", "DAT001"}, "DOM002-beats-DST006-and-DAT001"),
    order({"data": DROP, "proposal.reasons": GQ}, "DAT001", {"DAT001"}, "DAT001-alone-general-quality"),
    order({"data": DROP, "proposal.reasons": GQ, **steps(role=0.9)}, "PRM002", {"PRM002", "DAT001"}, "PRM002-beats-DAT001"),
    # pack 2: the new rules in their places
    order({"proposal.reasons": GQ + ["knowledge"], "evaluation.failures.mode": DROP}, "RAG001", {"RAG001", "PRM005"}, "RAG001-beats-PRM005"),
    order({**steps(role=DROP), "evaluation.failures.mode": DROP}, "PRM001", {"PRM001", "PRM005"}, "PRM001-beats-PRM005"),
    order({"proposal.reasons": GQ, **steps(role=0.9), "evaluation.failures.mode": DROP}, "PRM002", {"PRM002", "PRM005"},
          "PRM002-beats-PRM005"),
    order({"evaluation.failures.mode": DROP, **volume(requests_per_day=10)}, "PRM005", {"PRM005", "FMT001"}, "PRM005-beats-FMT001"),
    order({"evaluation.failures": DROP}, "PRM005", {"PRM005", "FMT005", "BEH002"}, "PRM005-beats-FMT005"),
    order({"downstream.failure_impact": "retried", "evaluation.failures.malformed_rate": DROP}, "FMT002", {"FMT002", "FMT005"},
          "FMT002-beats-FMT005"),
    order({**volume(requests_per_day=10), "evaluation.failures.malformed_rate": DROP}, "FMT001", {"FMT001", "FMT005"},
          "FMT001-beats-FMT005"),
    order({**steps(domain_prompt=DROP), "evaluation.failures.malformed_rate": DROP}, "FMT005", {"FMT005", "DOM001"},
          "FMT005-beats-DOM001"),
    order({**steps(domain_prompt=0.9), "task.domain": "general"}, "DOM003", {"DOM003", "DOM004"}, "DOM003-beats-DOM004"),
    order({"data.domain_examples": 10, "task.conventions": "none"}, "DOM002", {"DOM002", "DOM004"}, "DOM002-beats-DOM004"),
    order({"task.domain": "general", **volume(requests_per_month=10), "proposal.reasons": ["domain-conventions", "cost-latency"]},
          "DOM004", {"DOM004", "DST001"}, "DOM004-beats-DST001"),
    order({"distillation.student_quality": 0.5, "proposal.model_tier": "frontier"}, "DST004", {"DST004", "DST006"}, "DST004-beats-DST006"),
    order({"task.narrow": False, "proposal.model_tier": DROP}, "DST002", {"DST002", "DST006"}, "DST002-beats-DST006"),
    order({"proposal.model_tier": "frontier", **steps(few_shot_variants=1)}, "DST006", {"DST006", "BEH001"}, "DST006-beats-BEH001"),
    order({"evaluation.failures.reproducible": False, **steps(few_shot=0.9)}, "BEH002", {"BEH002", "BEH003"}, "BEH002-beats-BEH003"),
    order({**steps(few_shot_variants=1, few_shot=0.9)}, "BEH001", {"BEH001", "BEH003"}, "BEH001-beats-BEH003"),
    order({"proposal.reasons": NO_DOMAIN, **steps(few_shot=0.9), **data(examples=150)}, "BEH003", {"BEH003", "DAT001"},
          "BEH003-beats-DAT001"),
    order({"proposal.reasons": NO_DOMAIN, **data(examples=300), "evaluation.examples": 99}, "DAT002", {"DAT002", "DAT005"},
          "DAT002-beats-DAT005"),
    order({"proposal.reasons": NO_DOMAIN, **data(examples=150), "evaluation.examples": 99}, "DAT001", {"DAT001", "DAT005"},
          "DAT001-beats-DAT005"),
    order({"distillation.student_quality": 0.5, "evaluation.examples": 99}, "DST004", {"DST004", "DAT005"}, "DST004-beats-DAT005"),
]


@pytest.mark.parametrize(("overrides", "decided_by", "expected_rules"), ORDER_CASES)
def test_first_firing_rule_in_decision_order_recommends(overrides: dict[str, Any], decided_by: str, expected_rules: set[str]) -> None:
    result = check(overrides)
    assert expected_rules <= rules(result)
    # decided_by is the first firing rule in the spec's order, and it alone sets the recommendation
    first = next(r for r in DECISION_ORDER if r in rules(result))
    assert first == decided_by
    assert result.decision.decided_by == decided_by
    assert result.decision.recommendation == SPEC[decided_by][2]
    assert result.decision.verdict == "fail"


@pytest.mark.parametrize("reasons", [pytest.param(DROP, id="absent"), pytest.param([], id="empty")])
def test_fine_tune_without_reasons_is_a_manifest_error(reasons: Any) -> None:
    # spec/manifest.md: reasons is "required and non-empty when approach is fine-tune".
    result = engine().check("m.toml", manifest({"proposal.reasons": reasons}).encode())
    assert rules(result) == {"MAN002"}  # a manifest with MAN findings gets no policy evaluation
    assert (result.decision.recommendation, result.decision.verdict, result.decision.decided_by) == (None, "fail", None)


def test_distill_without_reasons_is_valid() -> None:
    result = check({"proposal.approach": "distill", "proposal.reasons": DROP})
    assert result.findings == ()
    assert (result.decision.recommendation, result.decision.decided_by) == ("distill", None)


def test_decided_by_is_none_when_nothing_fires() -> None:
    assert check().decision.decided_by is None
    assert check({"proposal.approach": "distill"}).decision.decided_by is None


def waiver(rule: str, expires: str = "2027-01-15") -> str:
    return f'\n[[waivers]]\nrule = "{rule}"\nreason = "accepted for the pilot"\nowner = "platform"\nexpires = {expires}\n'


def test_waivers_do_not_change_the_recommendation() -> None:
    text = manifest(volume(requests_per_day=50_000)) + waiver("FMT001")
    result = check_text(text)
    finding = only(result, "FMT001")
    assert finding.waived is True
    assert (result.decision.recommendation, result.decision.verdict, result.decision.decided_by) == (
        "error-handling", "pass", "FMT001",
    )


def test_decided_by_names_a_waived_rule_while_a_later_one_fails() -> None:
    # FMT001 (waived) decides; DAT005 (unwaived) still fails the manifest.
    result = check_text(manifest({**volume(requests_per_day=50_000), "evaluation.examples": 99}) + waiver("FMT001"))
    assert only(result, "FMT001").waived is True
    assert only(result, "DAT005").waived is False
    assert (result.decision.recommendation, result.decision.verdict, result.decision.decided_by) == (
        "error-handling", "fail", "FMT001",
    )


@pytest.mark.parametrize("approach", ["fine-tune", "distill", "prompting"])
def test_prm001_cannot_be_waived(approach: str) -> None:
    text = manifest({**steps(role=DROP), "proposal.approach": approach}) + waiver("PRM001")
    result = engine().check("m.toml", text.encode())
    wvr = [f for f in result.findings if f.rule.startswith("WVR")]
    assert [f.rule for f in wvr] == ["WVR003"]
    assert wvr[0].key.startswith("waivers")  # at the waiver's rule key
    if approach == "prompting":
        assert "PRM001" not in rules(result)  # not in its family; the waiver is still WVR003
    else:
        assert only(result, "PRM001").waived is False
        assert (result.decision.recommendation, result.decision.decided_by) == ("prompting", "PRM001")
    assert result.decision.verdict == "fail"  # WVR003 is an error whatever the proposal


@pytest.mark.parametrize(
    ("rule", "overrides"),
    [
        pytest.param("PRM005", {"evaluation.failures.mode": DROP}, id="PRM005"),
        pytest.param("FMT005", {"evaluation.failures.malformed_rate": DROP}, id="FMT005"),
        pytest.param("BEH003", steps(few_shot=0.9), id="BEH003"),
        pytest.param("DAT005", {"evaluation.examples": 99}, id="DAT005"),
        pytest.param("DOM004", {"task.domain": "general"}, id="DOM004"),
        pytest.param("DST006", {"proposal.model_tier": DROP}, id="DST006"),
    ],
)
def test_new_and_promoted_errors_are_waivable(rule: str, overrides: dict[str, Any]) -> None:
    result = check_text(manifest(overrides) + waiver(rule))
    assert only(result, rule).waived is True
    assert (result.decision.verdict, result.decision.decided_by) == ("pass", rule)


# --------------------------------------------------------------------------------- params


PARAM_CASES = [
    pytest.param({"quality_bar": 0.9}, {"proposal.reasons": GQ, **steps(role=0.85)}, "PRM002", False, id="bar0.9-PRM002-0.85"),
    pytest.param({"quality_bar": 0.9}, {"proposal.reasons": GQ, **steps(role=0.9)}, "PRM002", True, id="bar0.9-PRM002-0.9"),
    pytest.param({"quality_bar": 0.9}, steps(domain_prompt=0.85), "DOM003", False, id="bar0.9-DOM003-0.85"),
    pytest.param({"quality_bar": 0.9}, steps(domain_prompt=0.9), "DOM003", True, id="bar0.9-DOM003-0.9"),
    pytest.param({"quality_bar": 0.9}, {"distillation.teacher_quality": 0.89}, "DST003", True, id="bar0.9-DST003-0.89"),
    pytest.param({"quality_bar": 0.9}, {}, "DST003", False, id="bar0.9-DST003-0.90"),
    pytest.param({"quality_bar": 0.9}, {**steps(format_constraints=0.80), "evaluation.examples": 195}, "DAT004", False, id="bar0.9-DAT004-0.80"),
    pytest.param({"quality_bar": 0.9}, {**steps(format_constraints=0.90), "evaluation.examples": 196}, "DAT004", True, id="bar0.9-DAT004-0.90"),
    pytest.param({"format_volume_per_day": 200_000}, volume(requests_per_day=200_000), "FMT001", True, id="fmt-volume-200000"),
    pytest.param({"format_volume_per_day": 200_000}, volume(requests_per_day=200_001), "FMT001", False, id="fmt-volume-200001"),
    pytest.param({"format_volume_per_day": 200_000}, {}, "FMT001", False, id="fmt-volume-base-240000"),
    pytest.param({"format_volume_per_day": 300_000}, {}, "FMT001", True, id="fmt-volume-300000-base"),
    pytest.param({"distill_volume_per_month": 2_000_000}, volume(requests_per_month=2_000_000), "DST001", True, id="distill-volume-2M"),
    pytest.param({"distill_volume_per_month": 2_000_000}, volume(requests_per_day=66_667), "DST001", False, id="distill-volume-66667-day"),
    pytest.param({"min_examples": 1_000}, {"data.high_quality": 999}, "DAT002", True, id="min-examples-999"),
    pytest.param({"min_examples": 1_000}, {"data.high_quality": 1_000}, "DAT002", False, id="min-examples-1000"),
    pytest.param({"harmful_examples": 300}, data(examples=3_000, high_quality=299), "DAT001", True, id="harmful-299"),
    pytest.param({"harmful_examples": 300}, data(examples=3_000, high_quality=300), "DAT001", False, id="harmful-300-DAT001"),
    pytest.param({"harmful_examples": 300}, data(examples=3_000, high_quality=300), "DAT002", True, id="harmful-300-DAT002"),
    pytest.param({"harmful_examples": 300}, data(examples=3_000, high_quality=299), "DAT002", False, id="harmful-299-DAT002"),
    pytest.param({"min_domain_examples": 600}, {}, "DOM002", True, id="domain-600-base"),
    pytest.param({"min_domain_examples": 600}, {"data.domain_examples": 601}, "DOM002", False, id="domain-601"),
    pytest.param({"few_shot_min": 3}, steps(few_shot_examples=3), "PRM003", False, id="few-shot-min-3"),
    pytest.param({"few_shot_min": 3}, steps(few_shot_examples=2), "PRM003", True, id="few-shot-min-2"),
    pytest.param({"few_shot_max": 12}, steps(few_shot_examples=12), "PRM003", False, id="few-shot-max-12"),
    pytest.param({"few_shot_max": 12}, steps(few_shot_examples=13), "PRM003", True, id="few-shot-max-13"),
    pytest.param({"format_floor": 0.05}, {}, "FMT003", True, id="floor-0.05-base-0.02"),
    pytest.param({"format_floor": 0.02}, {}, "FMT003", False, id="floor-0.02-base-0.02"),
    pytest.param({"distill_min_examples": 500, "distill_max_examples": 2_000}, {}, "DST005", True, id="distill-range-base-3000"),
    pytest.param({"distill_min_examples": 500, "distill_max_examples": 2_000}, {"data.examples": 999}, "DST005", False, id="distill-range-999"),
    pytest.param({"min_eval_examples": 1_000}, PROMPTING, "DAT003", True, id="eval-1000-base-600"),
    pytest.param({"min_eval_examples": 1_000}, {**PROMPTING, "evaluation.examples": 1_000}, "DAT003", False, id="eval-1000-1000"),
    pytest.param({"min_eval_examples": 1_000}, {}, "DAT005", True, id="eval-1000-DAT005-base-600"),
    pytest.param({"min_eval_examples": 1_000}, {"evaluation.examples": 999}, "DAT005", True, id="eval-1000-DAT005-999"),
    pytest.param({"min_eval_examples": 1_000}, {"evaluation.examples": 1_000}, "DAT005", False, id="eval-1000-DAT005-1000"),
    pytest.param({"min_eval_examples": 50}, {"evaluation.examples": 50}, "DAT005", False, id="eval-50-DAT005-50"),
    pytest.param({"min_eval_examples": 50}, {"evaluation.examples": 49}, "DAT005", True, id="eval-50-DAT005-49"),
    pytest.param({"quality_bar": 0.9}, steps(few_shot=0.85), "BEH003", False, id="bar0.9-BEH003-0.85"),
    pytest.param({"quality_bar": 0.9}, steps(few_shot=0.9), "BEH003", True, id="bar0.9-BEH003-0.9"),
    pytest.param({"quality_bar": 0.9}, {"proposal.reasons": GQ, **steps(domain_prompt=0.9)}, "PRM002", True, id="bar0.9-PRM002-domain-0.9"),
    pytest.param({"min_few_shot_variants": 4}, {}, "BEH001", True, id="variants-4-base-3"),
    pytest.param({"min_few_shot_variants": 2}, steps(few_shot_variants=2), "BEH001", False, id="variants-2-2"),
    pytest.param({"max_quality_delta": 0.01}, {}, "DST004", True, id="delta-0.01-base-0.02"),
    # pack 2: min(param, manifest): a larger manifest value cannot loosen a tightened parameter
    pytest.param({"max_quality_delta": 0.01}, {"distillation.max_quality_delta": 0.05}, "DST004", True, id="manifest-cannot-loosen"),
    pytest.param({"max_quality_delta": 0.05}, {"distillation.student_quality": 0.86, "distillation.max_quality_delta": 0.03},
                 "DST004", True, id="manifest-tightens-0.03-drop-0.04"),
    pytest.param({"max_quality_delta": 0.05}, {"distillation.student_quality": 0.87, "distillation.max_quality_delta": 0.03},
                 "DST004", False, id="manifest-tightens-0.03-drop-0.03"),
    pytest.param({"max_quality_delta": 0.05}, {"distillation.student_quality": 0.85}, "DST004", False, id="delta-0.05-tolerance"),
    pytest.param({"max_quality_delta": 0.05}, {"distillation.student_quality": 0.849}, "DST004", True, id="delta-0.05-0.849"),
]


@pytest.mark.parametrize(("params", "overrides", "rule", "fires"), PARAM_CASES)
def test_params_move_boundaries(params: dict[str, Any], overrides: dict[str, Any], rule: str, fires: bool) -> None:
    result = check(overrides, params)
    assert (rule in rules(result)) is fires, [(f.rule, f.message) for f in result.findings]


@pytest.mark.parametrize(
    ("params", "overrides", "rule"),
    [
        pytest.param({"quality_bar": 0.9}, {"proposal.reasons": GQ, **steps(role=0.85)}, "PRM002", id="PRM002"),
        pytest.param({"format_volume_per_day": 200_000}, volume(requests_per_day=200_000), "FMT001", id="FMT001"),
        pytest.param({"min_examples": 1_000}, {"data.high_quality": 999}, "DAT002", id="DAT002"),
        pytest.param({"format_floor": 0.05}, {}, "FMT003", id="FMT003"),
        pytest.param({"min_eval_examples": 1_000}, PROMPTING, "DAT003", id="DAT003"),
        pytest.param({"min_eval_examples": 1_000}, {}, "DAT005", id="DAT005"),
        pytest.param({"quality_bar": 0.9}, steps(few_shot=0.85), "BEH003", id="BEH003"),
        pytest.param({"max_quality_delta": 0.01}, {}, "DST004", id="DST004"),
    ],
)
def test_params_differ_from_defaults(params: dict[str, Any], overrides: dict[str, Any], rule: str) -> None:
    """Each override flips the outcome the default gives on the same manifest."""
    assert (rule in rules(check(overrides))) is not (rule in rules(check(overrides, params)))


def test_overridden_param_shows_in_message() -> None:
    finding = only(check(volume(requests_per_day=150_000), {"format_volume_per_day": 200_000}), "FMT001")
    assert finding.message.startswith("150,000 requests/day is not above the 200,000 ")


@pytest.mark.parametrize(
    ("param", "manifest_delta", "applied"),
    [
        pytest.param(0.01, 0.05, "0.01", id="param-0.01-manifest-0.05-larger-ignored"),
        pytest.param(0.05, 0.02, "0.02", id="param-0.05-manifest-0.02-tightens"),
        pytest.param(0.05, DROP, "0.05", id="param-0.05-no-manifest-value"),
    ],
)
def test_dst004_message_names_the_drop_applied(param: float, manifest_delta: Any, applied: str) -> None:
    # teacher 0.90, student 0.80: a 0.10 drop, above every allowed drop here
    result = check({"distillation.student_quality": 0.80, "distillation.max_quality_delta": manifest_delta},
                   {"max_quality_delta": param})
    message = only(result, "DST004").message
    assert f"than the {applied} " in message, message
    others = {"0.01", "0.02", "0.05"} - {applied}
    assert not any(f"than the {o} " in message for o in others), message


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"quality_barr": 0.9}, id="unknown-name"),
        pytest.param({"quality_bar": 85}, id="fraction-above-1"),
        pytest.param({"min_examples": 500.5}, id="integer-as-float"),
    ],
)
def test_bad_param_overrides_are_rejected(params: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        engine(params)


# --------------------------------------------------------------------------------- positions

POSITIONS_TOML = """\
schema_version = 1

[project]
name = "positions"

[task]
kind = "extraction"
domain = "legal"
conventions = "strict"

[proposal]
approach = "fine-tune"
reasons = ["format-consistency", "domain-conventions", "cost-latency"]
  model_tier = "frontier"

[evaluation]
examples = 600

[evaluation.prompting]
zero_shot = 0.6
few_shot = 0.66
    few_shot_examples = 4
format_constraints = 0.7
role = 0.68

[data]
examples = 3000
"""


def positions(result: ManifestResult) -> list[tuple[str, int, int]]:
    return sorted((f.rule, f.line, f.column) for f in result.findings)


def test_positions_at_key_enclosing_table_or_1_1() -> None:
    result = check_text(POSITIONS_TOML)
    assert positions(result) == sorted([
        ("FMT001", 1, 1),  # volume: no [volume], no enclosing table -> 1:1
        ("DST001", 1, 1),  # volume
        ("FMT002", 1, 1),  # downstream.failure_impact: no [downstream]
        ("DST003", 1, 1),  # distillation: absent
        ("DOM001", 19, 1),  # evaluation.prompting: its header
        ("DOM002", 26, 1),  # data.domain_examples absent -> [data]
        ("DST002", 6, 1),  # task.narrow absent -> [task]
        ("DST006", 14, 3),  # proposal.model_tier, indented two spaces (an error in pack 2)
        ("PRM003", 22, 5),  # few_shot_examples, indented four spaces
        ("PRM005", 16, 1),  # evaluation.failures absent -> [evaluation]
        ("FMT005", 16, 1),  # evaluation.failures absent -> [evaluation]
    ])


def test_positions_ignore_a_byte_order_mark() -> None:
    plain = positions(check_text(POSITIONS_TOML))
    assert positions(engine().check("m.toml", ("\ufeff" + POSITIONS_TOML).encode())) == plain


INLINE_TOML = """\
schema_version = 1
project = { name = "inline" }
task = { kind = "extraction", narrow = true }
proposal.approach = "fine-tune"
proposal.reasons = ["format-consistency", "behavior"]
distillation = { teacher_quality = 0.9, student_quality = 0.8 }

[evaluation]
examples = 600
prompting = { zero_shot = 0.6, few_shot = 0.66, few_shot_variants = 2, format_constraints = 0.7, role = 0.68 }
failures.mode = "format"
failures.malformed_rate = 0.0005

[volume]
requests_per_day = 50_000

[downstream]
machine_parsed = true
retry_logic = true

[data]
examples = 3000
"""


def test_positions_in_inline_tables_and_dotted_keys() -> None:
    result = check_text(INLINE_TOML)
    assert positions(result) == sorted([
        ("FMT001", 14, 1),  # [volume]
        ("FMT002", 17, 1),  # failure_impact absent -> [downstream]
        ("FMT003", 12, 1),  # the dotted key failures.malformed_rate starts the line
        ("BEH001", 10, 1),  # evaluation.prompting is the key `prompting` of [evaluation]
        ("BEH002", 11, 1),  # evaluation.failures first named by the dotted key on line 11
        ("DST004", 6, 41),  # student_quality inside the inline table (no cost-latency needed)
    ])
    # DST004's column by hand: 'distillation = { ' is 17 characters, 'teacher_quality = 0.9, ' 23.
    assert INLINE_TOML.splitlines()[5][40:].startswith("student_quality")


def test_positions_of_rules_that_point_into_proposal_and_data() -> None:
    text = (
        "schema_version = 1\n"  # 1
        "[project]\n"  # 2
        "name = \"p\"\n"  # 3
        "[task]\n"  # 4
        "kind = \"extraction\"\n"  # 5
        "[proposal]\n"  # 6
        "approach = \"fine-tune\"\n"  # 7
        "reasons = [\"knowledge\"]\n"  # 8
        "[evaluation.prompting]\n"  # 9
        "zero_shot = 0.9\n"  # 10
        "[data]\n"  # 11
        "\texamples = 300\n"  # 12: a tab is one column
    )
    result = check_text(text)
    got = {(f.rule, f.line, f.column) for f in result.findings}
    assert ("RAG001", 8, 1) in got  # proposal.reasons
    assert ("PRM001", 9, 1) in got  # evaluation.prompting
    assert ("DAT002", 11, 1) in got  # data.high_quality absent (defaults to examples) -> [data]
    # evaluation.examples is absent; [evaluation] has no header of its own, but it first
    # appears in the header [evaluation.prompting] (spec: a key's position is its header or
    # the first dotted key that names it).
    assert ("DAT005", 9, 1) in got  # pack 2: DAT005, not DAT003, for a fine-tune
    assert ("PRM005", 9, 1) in got  # evaluation.failures absent -> evaluation, first named on line 9
    assert not any(rule == "DAT003" for rule, _, _ in got)


# --------------------------------------------------------------------------------- messages

MESSAGE_CASES = [
    pytest.param({"proposal.reasons": ["knowledge"]}, "RAG001", ["'knowledge' is a reason", "retrieval"], id="RAG001-reason"),
    pytest.param({"evaluation.failures.mode": "knowledge-gap"}, "RAG001", ["knowledge-gap is the dominant failure", "retrieval"],
                 id="RAG001-mode"),
    pytest.param({"proposal.approach": "distill", "proposal.reasons": ["hallucination"]}, "RAG002",
                 ["'hallucination' is a reason"], id="RAG002-distill-reason"),
    pytest.param({"evaluation.failures.mode": "hallucination"}, "RAG002", ["hallucination is the dominant failure"], id="RAG002-mode"),
    pytest.param({"task.reasoning": True, **steps(few_shot=DROP, role=DROP)}, "PRM001",
                 ["no score: few_shot, chain_of_thought, role;", "[evaluation.prompting]", "cannot be waived"], id="PRM001-checklist-order"),
    pytest.param({"evaluation.failures.mode": "reasoning"}, "PRM001",
                 ["no score: chain_of_thought ", "reasoning is the dominant failure"], id="PRM001-mode-reasoning"),
    pytest.param({"proposal.reasons": GQ, **steps(role=0.85)}, "PRM002",
                 ["best prompting score 0.85 already meets the 0.85 bar"], id="PRM002"),
    pytest.param({"proposal.reasons": GQ, **steps(domain_prompt=0.9)}, "PRM002",
                 ["best prompting score 0.9 already meets the 0.85 bar"], id="PRM002-domain-prompt"),
    pytest.param(steps(few_shot_examples=4), "PRM003", ["holds 4 examples", "recommended 5 to 10"], id="PRM003"),
    pytest.param({"task.kind": "reasoning"}, "PRM004", ["multi-step reasoning", "evaluation.prompting.chain_of_thought"], id="PRM004"),
    pytest.param({"evaluation.failures.mode": "reasoning"}, "PRM004",
                 ["reasoning is the dominant failure", "evaluation.prompting.chain_of_thought"], id="PRM004-mode-reasoning"),
    pytest.param({"evaluation.failures.mode": DROP}, "PRM005", ["evaluation.failures.mode is not declared", "none"], id="PRM005"),
    pytest.param(volume(requests_per_day=20_000), "FMT001", ["20,000 requests/day", "the 100,000 at which"], id="FMT001-day"),
    pytest.param(volume(requests_per_month=600_000), "FMT001", ["20,000 requests/day", "the 100,000 at which"], id="FMT001-month"),
    pytest.param({**volume(requests_per_day=20_000), "downstream.retry_logic": False}, "FMT001",
                 ["20,000 requests/day", "retry the malformed"], id="FMT001-no-retries-yet"),
    pytest.param({"volume": DROP, "downstream.retry_logic": False}, "FMT001",
                 ["no request volume is declared", "volume.requests_per_day", "100,000", "retry the malformed"], id="FMT001-unknown"),
    pytest.param({"downstream": DROP}, "FMT002", ["downstream.machine_parsed"], id="FMT002-defaults"),
    pytest.param({"downstream.failure_impact": "none"}, "FMT002", ["impact is none", "downstream.failure_impact"], id="FMT002-impact-none"),
    pytest.param({"evaluation.failures.malformed_rate": 0.0009}, "FMT003",
                 ["rate 0.0009 is already below 0.001", "fine-tuning brings a model down to"], id="FMT003"),
    pytest.param({"evaluation.failures.malformed_rate": 0.00001}, "FMT003", ["rate 0.00001 is already below 0.001"], id="FMT003-tiny"),
    pytest.param({"downstream.retry_logic": False}, "FMT004", ["retry_logic = true"], id="FMT004"),
    pytest.param({"evaluation.failures.malformed_rate": DROP}, "FMT005", ["evaluation.failures.malformed_rate is not declared"], id="FMT005"),
    pytest.param(steps(domain_prompt=DROP), "DOM001", ["domain_prompt"], id="DOM001"),
    pytest.param({"data.domain_examples": 500}, "DOM002", ["500 reviewed in-domain examples", "than the 500 "], id="DOM002"),
    pytest.param({"data.domain_examples": 1}, "DOM002", ["1 reviewed in-domain example is"], id="DOM002-one"),
    pytest.param({"data.domain_examples": DROP}, "DOM002", ["data.domain_examples is not declared", "more than 500"], id="DOM002-unknown"),
    pytest.param(steps(domain_prompt=0.9), "DOM003", ["scores 0.9, at or above the 0.85 bar"], id="DOM003"),
    pytest.param({"task.domain": DROP}, "DOM004", ["task.domain is general and task.conventions is strict"], id="DOM004"),
    pytest.param({"task.conventions": "none"}, "DOM004", ["task.domain is legal and task.conventions is none"], id="DOM004-none"),
    pytest.param(volume(requests_per_day=33_333), "DST001", ["999,990 requests/month", "the 1,000,000 at which"], id="DST001"),
    pytest.param(volume(requests_per_day=1_000), "DST001", ["30,000 requests/month", "the 1,000,000 at which"], id="DST001-30000"),
    pytest.param({"volume": DROP}, "DST001", ["no request volume is declared", "volume.requests_per_month", "1,000,000"], id="DST001-unknown"),
    pytest.param({"task.narrow": DROP}, "DST002", ["task.narrow"], id="DST002"),
    pytest.param({"distillation.teacher_quality": 0.84, "distillation.student_quality": 0.83}, "DST003",
                 ["teacher scores 0.84, below the 0.85 bar"], id="DST003"),
    pytest.param({"distillation.teacher_quality": DROP}, "DST003",
                 ["distillation.teacher_quality is not declared", "the 0.85 bar"], id="DST003-unknown"),
    pytest.param({"distillation.student_quality": 0.869}, "DST004",
                 ["student scores 0.869 against the teacher's 0.9,", "than the 0.03 allowed"], id="DST004"),
    pytest.param({"distillation.max_quality_delta": 0.01}, "DST004",
                 ["student scores 0.88 against the teacher's 0.9,", "than the 0.01 ", "distillation.max_quality_delta"],
                 id="DST004-manifest-tightens"),
    pytest.param({"distillation.student_quality": 0.5, "distillation.max_quality_delta": 0.05}, "DST004",
                 ["than the 0.03 allowed"], id="DST004-manifest-larger-has-no-effect"),
    pytest.param({"data.examples": 999}, "DST005", ["999 training examples", "usual 1,000 to 5,000"], id="DST005"),
    pytest.param({"proposal.model_tier": "frontier"}, "DST006", ["is frontier-tier", 'proposal.model_tier = "small"'], id="DST006"),
    pytest.param({"proposal.model_tier": DROP}, "DST006", ["proposal.model_tier is not declared"], id="DST006-unknown"),
    pytest.param({"proposal.reasons": GQ, "proposal.model_tier": "frontier"}, "FTF001", ["for a frontier-tier model"], id="FTF001"),
    pytest.param(steps(few_shot_variants=2), "BEH001", ["2 distinct few-shot example sets tried, fewer than 3"], id="BEH001"),
    pytest.param(steps(few_shot_variants=DROP), "BEH001", ["1 distinct few-shot example set tried, fewer than 3"], id="BEH001-default-1"),
    pytest.param({"evaluation.failures.reproducible": False}, "BEH002", ["evaluation.failures.reproducible = false"], id="BEH002"),
    pytest.param({"evaluation.failures.reproducible": DROP}, "BEH002", ["evaluation.failures.reproducible is not declared"],
                 id="BEH002-unknown"),
    pytest.param(steps(few_shot=0.9), "BEH003", ["few-shot prompting scores 0.9, at or above the 0.85 bar"], id="BEH003"),
    pytest.param(data(examples=3_000, high_quality=150), "DAT001", ["150 high-quality training examples, fewer than 200"], id="DAT001"),
    pytest.param(data(examples=1), "DAT001", ["1 high-quality training example, fewer than 200"], id="DAT001-one"),
    pytest.param({"data": DROP}, "DAT001", ["no training data is declared", "data.examples", "200"], id="DAT001-unknown"),
    pytest.param(data(examples=350), "DAT002", ["350 high-quality training examples is below the 500"], id="DAT002-default"),
    pytest.param({**PROMPTING, "evaluation.examples": 99}, "DAT003", ["measured on 99 examples, fewer than 100"], id="DAT003"),
    pytest.param({**PROMPTING, "evaluation.examples": 1}, "DAT003", ["measured on 1 example, fewer than 100"], id="DAT003-one"),
    pytest.param({**PROMPTING, "evaluation.examples": DROP}, "DAT003", ["evaluation.examples", "at least 100"], id="DAT003-unknown"),
    pytest.param({"evaluation.examples": 99}, "DAT005", ["measured on 99 examples, fewer than the 100"], id="DAT005"),
    pytest.param({"evaluation.examples": 1}, "DAT005", ["measured on 1 example, fewer than the 100"], id="DAT005-one"),
    pytest.param({"evaluation.examples": 0}, "DAT005", ["measured on 0 examples, fewer than the 100"], id="DAT005-zero"),
    pytest.param({"evaluation.examples": DROP}, "DAT005", ["evaluation.examples is not declared", "at least 100"], id="DAT005-unknown"),
]


@pytest.mark.parametrize(("overrides", "rule", "expected"), MESSAGE_CASES)
def test_message_interpolates_input_and_params(overrides: dict[str, Any], rule: str, expected: list[str]) -> None:
    message = only(check(overrides), rule).message
    for part in expected:
        assert part in message, (part, message)
    assert "{" not in message and "}" not in message
    assert_readable(message)


#: Never in a message: Python's words for absent or not-a-number, "unknown" for an absent
#: value (pack 2 says what to declare instead), and exponent forms such as 1e+06 or 1e-05.
_UNREADABLE = re.compile(r"\bunknown\b|\bNone\b|\bnan\b|\binf\b|\d[eE][+-]?\d")


def assert_readable(message: str) -> None:
    assert not _UNREADABLE.search(message), message
    assert not re.search(r"\b1 [a-z -]*?examples\b", message), message  # "1 example", never "1 examples"
    assert not re.search(r"(?<![\d.,])\d{4,}", message), message  # 1,000,000, never 1000000


#: (rule, overrides that leave the rule's inputs absent, the key the message must name).
ABSENT_FIRES = [
    ("PRM001", {"evaluation.prompting": DROP}, "[evaluation.prompting]"),
    ("PRM004", {"task.reasoning": True}, "evaluation.prompting.chain_of_thought"),
    ("PRM004", {"evaluation.failures.mode": "reasoning", "task.reasoning": DROP}, "evaluation.prompting.chain_of_thought"),
    ("PRM005", {"evaluation.failures.mode": DROP}, "evaluation.failures.mode"),
    ("PRM005", {"evaluation.failures": DROP}, "evaluation.failures.mode"),
    ("FMT001", {"volume": DROP}, "volume.requests_per_day"),
    ("FMT001", {"volume": DROP, "downstream.retry_logic": False}, "volume.requests_per_day"),
    ("FMT001", {"volume": DROP, "downstream": DROP}, "volume.requests_per_day"),
    ("FMT002", {"downstream": DROP}, "downstream.machine_parsed"),
    ("FMT002", {"downstream.failure_impact": DROP}, "downstream.failure_impact"),
    ("FMT004", {"downstream.retry_logic": DROP}, "downstream.retry_logic"),
    ("FMT005", {"evaluation.failures.malformed_rate": DROP}, "evaluation.failures.malformed_rate"),
    ("FMT005", {"evaluation.failures": DROP}, "evaluation.failures.malformed_rate"),
    ("DOM001", steps(domain_prompt=DROP), "domain_prompt"),
    ("DOM002", {"data.domain_examples": DROP}, "data.domain_examples"),
    ("DOM002", {"data": DROP}, "data.domain_examples"),
    ("DOM004", {"task.domain": DROP, "task.conventions": DROP}, "task.domain"),
    ("DST001", {"volume": DROP}, "volume.requests_per_month"),
    ("DST002", {"task.narrow": DROP}, "task.narrow"),
    ("DST003", {"distillation": DROP}, "distillation.teacher_quality"),
    ("DST006", {"proposal.model_tier": DROP}, "proposal.model_tier"),
    ("BEH002", {"evaluation.failures.reproducible": DROP}, "evaluation.failures.reproducible"),
    ("BEH002", {"evaluation.failures": DROP}, "evaluation.failures.reproducible"),
    ("DAT001", {"data": DROP}, "data.examples"),
    ("DAT001", {"data": {}}, "data.high_quality"),
    ("DAT003", {**PROMPTING, "evaluation.examples": DROP}, "evaluation.examples"),
    ("DAT005", {"evaluation.examples": DROP}, "evaluation.examples"),
    ("DAT005", {"evaluation": {"failures": BASE["evaluation"]["failures"]}}, "evaluation.examples"),
]


@pytest.mark.parametrize(
    ("rule", "overrides", "key"),
    [pytest.param(r, o, k, id=f"{r}-{i}") for i, (r, o, k) in enumerate(ABSENT_FIRES)]
    + [
        pytest.param(
            "BEH001", steps(few_shot=DROP, few_shot_variants=DROP), "evaluation.prompting.few_shot ", id="BEH001-no-few-shot",
        ),
    ],
)
def test_message_on_absent_input_names_the_key_to_declare(rule: str, overrides: dict[str, Any], key: str) -> None:
    message = only(check(overrides), rule).message
    assert_readable(message)
    assert "not declared tried" not in message
    assert key in message, (key, message)


def test_every_rule_that_fires_on_absence_has_an_absence_message_case() -> None:
    # The rules whose condition is about absence (spec table: "or unknown", "absent", "not
    # true", defaults, "no ... score"), BEH001 included (its case is above).
    about_absence = {"PRM001", "PRM004", "PRM005", "FMT001", "FMT002", "FMT004", "FMT005", "DOM001", "DOM002", "DOM004",
                     "DST001", "DST002", "DST003", "DST006", "BEH001", "BEH002", "DAT001", "DAT003", "DAT005"}
    assert {r for r, _, _ in ABSENT_FIRES} | {"BEH001"} == about_absence


#: (rule, overrides that leave its inputs absent): "a rule whose inputs are absent does not fire".
ABSENT_QUIET = [
    ("RAG001", {"evaluation.failures.mode": DROP}),
    ("RAG002", {"evaluation.failures": DROP}),
    ("PRM002", {"proposal.reasons": GQ, "evaluation.prompting": DROP}),
    ("PRM003", steps(few_shot_examples=DROP)),
    ("FMT003", {"evaluation.failures.malformed_rate": DROP}),
    ("DOM003", steps(domain_prompt=DROP)),
    ("DST004", {"distillation": DROP}),
    ("DST004", {"distillation.student_quality": DROP}),
    ("DST005", {"data": DROP}),
    ("BEH003", steps(few_shot=DROP)),
    ("DAT002", {"data": DROP}),
    ("DAT004", {"evaluation.examples": DROP}),
    ("DAT004", {"evaluation.prompting": DROP}),
    ("FTF001", {"proposal.reasons": GQ, "proposal.model_tier": DROP}),
]


@pytest.mark.parametrize(("rule", "overrides"), [pytest.param(r, o, id=f"{r}-{i}") for i, (r, o) in enumerate(ABSENT_QUIET)])
def test_rule_with_absent_inputs_does_not_fire(rule: str, overrides: dict[str, Any]) -> None:
    result = check(overrides)
    assert rule not in rules(result)
    for finding in result.findings:  # whatever else fires on the absence reads well
        assert_readable(finding.message)


def test_absence_cases_cover_every_rule() -> None:
    assert {r for r, _, _ in ABSENT_FIRES} | {"BEH001"} | {r for r, _ in ABSENT_QUIET} == set(SPEC)


def test_fmt001_does_not_tell_a_team_with_retries_to_add_them() -> None:
    for overrides in ({"volume": DROP}, volume(requests_per_day=20_000)):
        with_retries = only(check(overrides), "FMT001").message
        assert "retry the malformed" not in with_retries, with_retries
        assert "already in place" in with_retries, with_retries
        without = only(check({**overrides, "downstream.retry_logic": False}), "FMT001").message
        assert "retry the malformed" in without, without


@pytest.mark.parametrize(
    ("overrides", "rule", "expected"),
    [
        pytest.param(volume(requests_per_month=0.0000003), "FMT001", "0.00000001 requests/day", id="FMT001-tiny-volume"),
        pytest.param(volume(requests_per_month=0.0000003), "DST001", "0.0000003 requests/month", id="DST001-tiny-volume"),
        pytest.param(volume(requests_per_day=33_333.33), "DST001", "999,999.9 requests/month", id="DST001-fractional"),
        pytest.param(volume(requests_per_month=999_999), "FMT001", "33,333.3 requests/day", id="FMT001-fractional"),
        pytest.param({"distillation.student_quality": 0.00001}, "DST004", "student scores 0.00001 ", id="DST004-tiny-score"),
    ],
)
def test_numbers_never_print_in_exponent_form(overrides: dict[str, Any], rule: str, expected: str) -> None:
    message = only(check(overrides), rule).message
    assert_readable(message)
    assert expected in message, message


@pytest.mark.parametrize(
    ("overrides", "rule", "expected"),
    [
        pytest.param({"evaluation.examples": 1}, "DAT005", "1 example,", id="DAT005"),
        pytest.param({**PROMPTING, "evaluation.examples": 1}, "DAT003", "1 example,", id="DAT003"),
        pytest.param(data(examples=1), "DAT001", "1 high-quality training example,", id="DAT001"),
        pytest.param({"data.examples": 1, "data.domain_examples": 1}, "DST005", "1 training example is", id="DST005"),
        pytest.param({"data.domain_examples": 1}, "DOM002", "1 reviewed in-domain example is", id="DOM002"),
        pytest.param(steps(few_shot_variants=1), "BEH001", "1 distinct few-shot example set tried", id="BEH001"),
        pytest.param(steps(few_shot_examples=1), "PRM003", "holds 1 example,", id="PRM003"),
    ],
)
def test_counts_of_one_are_singular(overrides: dict[str, Any], rule: str, expected: str) -> None:
    message = only(check(overrides), rule).message
    assert expected in message, message
    assert_readable(message)
