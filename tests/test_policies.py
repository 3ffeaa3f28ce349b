"""The built-in policy pack against the contract in spec/policies.md.

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

#: The rule table of the spec: severity, FT (applies only to fine-tune/distill), recommends,
#: points at.
SPEC: dict[str, tuple[str, bool, str | None, str]] = {
    "RAG001": ("error", True, "rag", "proposal.reasons"),
    "RAG002": ("error", True, "rag", "proposal.reasons"),
    "PRM001": ("error", True, "prompting", "evaluation.prompting"),
    "PRM002": ("error", True, "prompting", "evaluation.prompting"),
    "PRM003": ("warning", False, None, "evaluation.prompting.few_shot_examples"),
    "PRM004": ("warning", False, None, "evaluation.prompting"),
    "FMT001": ("error", True, "error-handling", "volume"),
    "FMT002": ("error", True, "error-handling", "downstream.failure_impact"),
    "FMT003": ("warning", True, None, "evaluation.failures.malformed_rate"),
    "FMT004": ("warning", False, None, "downstream.retry_logic"),
    "DOM001": ("error", True, "prompting", "evaluation.prompting"),
    "DOM002": ("error", True, "collect-data", "data.domain_examples"),
    "DOM003": ("error", True, "prompting", "evaluation.prompting.domain_prompt"),
    "DOM004": ("warning", True, None, "task.domain"),
    "DST001": ("error", True, "frontier-api", "volume"),
    "DST002": ("error", True, "frontier-api", "task.narrow"),
    "DST003": ("error", True, "prompting", "distillation"),
    "DST004": ("error", True, "frontier-api", "distillation.student_quality"),
    "DST005": ("warning", True, None, "data.examples"),
    "DST006": ("warning", True, None, "proposal.model_tier"),
    "BEH001": ("error", True, "prompting", "evaluation.prompting"),
    "BEH002": ("error", True, "prompting", "evaluation.failures"),
    "DAT001": ("error", True, "collect-data", "data"),
    "DAT002": ("error", True, "collect-data", "data.high_quality"),
    "DAT003": ("warning", False, None, "evaluation.examples"),
    "DAT004": ("warning", False, None, "evaluation.prompting"),
    "FTF001": ("warning", True, None, "proposal.model_tier"),
}
ADVISORY = sorted(rule for rule, (_, ft, _, _) in SPEC.items() if not ft)
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


def test_pack_has_exactly_the_27_rules_of_the_spec() -> None:
    pack = load_pack(builtin_pack_path())
    assert sorted(p.id for p in pack.policies) == sorted(SPEC)
    for p in pack.policies:
        severity, ft, recommends, points_at = SPEC[p.id]
        assert (p.severity, p.applies_to == "fine-tuning", p.recommends, p.points_at) == (severity, ft, recommends, points_at), p.id
    assert {p.id for p in pack.policies if not p.waivable} == {"RAG001", "RAG002", "DAT001"}


# --------------------------------------------------------------------------------- boundaries


def case(rule: str, fires: bool, overrides: dict[str, Any], id: str) -> Any:  # noqa: A002
    return pytest.param(rule, fires, overrides, id=f"{rule}-{id}-{'fires' if fires else 'quiet'}")


def volume(**table: Any) -> dict[str, Any]:
    return {"volume": table}


NO_STEPS = {s: DROP for s in ("zero_shot", "few_shot", "chain_of_thought", "format_constraints", "role")}


def steps(**scores: Any) -> dict[str, Any]:
    return {f"evaluation.prompting.{k}": v for k, v in scores.items()}


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
    case("PRM001", False, {"task.kind": "reasoning", "task.reasoning": False}, "kind-reasoning-explicit-false"),
    # PRM002: best >= quality_bar and no excusing reason
    case("PRM002", False, {"proposal.reasons": GQ}, "gq-below-bar"),
    case("PRM002", True, {"proposal.reasons": GQ, **steps(role=0.85)}, "best-0.85"),
    case("PRM002", False, {"proposal.reasons": GQ, **steps(role=0.8499)}, "best-0.8499"),
    case("PRM002", True, {"proposal.reasons": GQ, **steps(role=1)}, "best-integer-1"),
    case("PRM002", True, {"proposal.reasons": GQ, **steps(chain_of_thought=0.9)}, "cot-counts-when-not-applicable"),
    case("PRM002", False, {"proposal.reasons": GQ, **steps(domain_prompt=0.95)}, "domain-prompt-not-a-step"),
    case("PRM002", False, {"proposal.reasons": GQ + ["format-consistency"], **steps(role=0.9)}, "excused-format"),
    case("PRM002", False, {"proposal.reasons": GQ + ["domain-conventions"], **steps(role=0.9)}, "excused-domain"),
    case("PRM002", False, {"proposal.reasons": GQ + ["cost-latency"], **steps(role=0.9)}, "excused-cost"),
    case("PRM002", False, {"proposal.reasons": GQ + ["behavior"], **steps(role=0.9)}, "excused-behavior"),
    case("PRM002", False, {"proposal.approach": "distill", "proposal.reasons": GQ, **steps(role=0.9)}, "distill-implies-cost"),
    case("PRM002", False, {"proposal.reasons": GQ, "evaluation.prompting": {"domain_prompt": 0.9}}, "no-steps-absent"),
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
    case("PRM004", False, {"task.kind": "reasoning", "task.reasoning": False}, "kind-reasoning-explicit-false"),
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
    case("DST004", False, {"distillation.student_quality": 0.86, "distillation.max_quality_delta": 0.05}, "manifest-delta-0.05"),
    case("DST004", False, {"distillation.student_quality": 0.85, "distillation.max_quality_delta": 0.05}, "manifest-delta-exact"),
    case("DST004", True, {"distillation.student_quality": 0.849, "distillation.max_quality_delta": 0.05}, "manifest-delta-exceeded"),
    case("DST004", True, {"distillation.max_quality_delta": 0.01}, "manifest-delta-0.01"),
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
    case("DST006", False, {"proposal.model_tier": DROP}, "fine-tune-absent"),
    case("DST006", False, {"proposal.approach": "distill", "proposal.model_tier": DROP}, "distill-default-small"),
    case("DST006", True, {"proposal.approach": "distill", "proposal.reasons": [], "proposal.model_tier": "frontier"}, "distill-frontier"),
    case("DST006", False, {"proposal.reasons": ["behavior"], "proposal.model_tier": "frontier"}, "no-cost-reason"),
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
    # DAT001: high_quality (default examples) < 200 or unknown
    case("DAT001", True, {"data.high_quality": 199}, "hq-199"),
    case("DAT001", False, {"data.high_quality": 200}, "hq-200"),
    case("DAT001", True, {"data.high_quality": 0}, "hq-0"),
    case("DAT001", True, {"data.examples": 199}, "examples-199-default"),
    case("DAT001", False, {"data.examples": 200}, "examples-200-default"),
    case("DAT001", True, {"data": DROP}, "no-data"),
    case("DAT001", True, {"data": {"domain_examples": 600}}, "no-counts"),
    case("DAT001", True, {"proposal.approach": "distill", "data.examples": 150}, "distill"),
    # DAT002: 200 <= high_quality < 500
    case("DAT002", False, {"data.high_quality": 199}, "hq-199"),
    case("DAT002", True, {"data.high_quality": 200}, "hq-200"),
    case("DAT002", True, {"data.high_quality": 499}, "hq-499"),
    case("DAT002", False, {"data.high_quality": 500}, "hq-500"),
    case("DAT002", True, {"data.examples": 499}, "examples-499-default"),
    case("DAT002", False, {"data": DROP}, "no-data"),
    case("DAT002", True, {"proposal.approach": "distill", "data.examples": 300}, "distill"),
    # DAT003 (any): a checklist step scored and evaluation.examples < 100 or unknown
    case("DAT003", True, {"evaluation.examples": 99}, "99"),
    case("DAT003", False, {"evaluation.examples": 100}, "100"),
    case("DAT003", True, {"evaluation.examples": 0}, "0"),
    case("DAT003", True, {"evaluation.examples": DROP}, "unknown"),
    case("DAT003", False, {"evaluation.examples": 50, "evaluation.prompting": {"domain_prompt": 0.72}}, "domain-prompt-only"),
    case("DAT003", False, {"evaluation.examples": DROP, "evaluation.prompting": {"domain_prompt": 0.72}}, "domain-prompt-only-unknown"),
    case("DAT003", True, {"evaluation.examples": 50, "evaluation.prompting": {"chain_of_thought": 0.5}}, "cot-only"),
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
    result = check({**steps(format_constraints=best), "evaluation.examples": n})
    assert ("DAT004" in rules(result)) is fires
    if fires:
        finding = only(result, "DAT004")
        assert (finding.severity, finding.key, finding.recommends) == ("warning", "evaluation.prompting", None)
        shown = [float(x) for x in re.findall(r"runs from ([0-9.]+) to ([0-9.]+)", finding.message)[0]]
        assert shown == pytest.approx([low, high], abs=1e-5)
        assert f"best score {best:g} " in finding.message
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
        pytest.param({"evaluation.examples": 5, "evaluation.prompting": {"domain_prompt": 0.85}}, id="no-checklist-score"),
    ],
)
def test_dat004_needs_an_interval(overrides: dict[str, Any]) -> None:
    assert "DAT004" not in rules(check(overrides))


# --------------------------------------------------------------------------------- FT vs advisory

#: Trips every advisory rule and, for a fine-tuning proposal, every FT rule but PRM002, DOM003
#: and DAT001 (which cannot fire together with PRM001's excusing reasons, DOM001 and DAT002).
TRIGGER_ALL = {
    "task.kind": "reasoning",  # PRM004 (and PRM001 for FT)
    "task.narrow": False,  # DST002
    "task.domain": "general",  # DOM004
    **steps(few_shot_examples=3, format_constraints=0.80, few_shot_variants=1, domain_prompt=DROP),  # PRM003, BEH001, DOM001
    "downstream.retry_logic": False,  # FMT004
    "downstream.failure_impact": "retried",  # FMT002
    "evaluation.examples": 50,  # DAT003, and DAT004 (0.80 over 50)
    "proposal.reasons": ALL4 + ["knowledge", "general-quality"],  # RAG001
    "evaluation.failures.mode": "hallucination",  # RAG002
    "evaluation.failures.malformed_rate": 0.0001,  # FMT003
    "evaluation.failures.reproducible": False,  # BEH002
    "proposal.model_tier": "frontier",  # DST006, FTF001
    "data": {"examples": 300, "domain_examples": 10},  # DAT002, DST005, DOM002
    "volume": DROP,  # FMT001, DST001
    "distillation": {"teacher_quality": 0.84, "student_quality": 0.5},  # DST003, DST004
}
FT_TRIGGERED = sorted(set(SPEC) - {"PRM002", "DOM003", "DAT001"})


@pytest.mark.parametrize("approach", NON_FT_APPROACHES)
def test_non_fine_tuning_proposals_get_only_advisory_rules(approach: str) -> None:
    result = check({**TRIGGER_ALL, "proposal.approach": approach})
    assert sorted(rules(result)) == ADVISORY
    assert all(f.severity == "warning" for f in result.findings)
    assert (result.decision.proposal, result.decision.recommendation, result.decision.verdict) == (approach, approach, "pass")


@pytest.mark.parametrize("approach", ["fine-tune", "distill"])
def test_fine_tuning_proposals_get_both_families(approach: str) -> None:
    result = check({**TRIGGER_ALL, "proposal.approach": approach})
    assert sorted(rules(result)) == FT_TRIGGERED
    assert (result.decision.recommendation, result.decision.verdict) == ("rag", "fail")


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


# --------------------------------------------------------------------------------- the decision

#: One change that makes exactly one error rule fire (with warnings at most).
ERROR_ALONE = [
    ("RAG001", {"proposal.reasons": ALL4 + ["knowledge"]}),
    ("RAG002", {"proposal.reasons": ALL4 + ["hallucination"]}),
    ("PRM001", steps(role=DROP)),
    ("PRM002", {"proposal.reasons": GQ, **steps(role=0.9)}),
    ("FMT001", volume(requests_per_day=100_000)),
    ("FMT002", {"downstream.failure_impact": "retried"}),
    ("DOM001", steps(domain_prompt=DROP)),
    ("DOM002", {"data.domain_examples": 500}),
    ("DOM003", steps(domain_prompt=0.85)),
    ("DST001", {"proposal.reasons": ["cost-latency"], **volume(requests_per_month=1_000_000)}),
    ("DST002", {"task.narrow": False}),
    ("DST003", {"distillation.teacher_quality": 0.84, "distillation.student_quality": 0.83}),
    ("DST004", {"distillation.student_quality": 0.869}),
    ("BEH001", steps(few_shot_variants=2)),
    ("BEH002", {"evaluation.failures.reproducible": False}),
    ("DAT001", {"data.high_quality": 199}),
    ("DAT002", {"data.high_quality": 499}),
]


def test_error_alone_covers_every_error_rule() -> None:
    assert sorted(r for r, _ in ERROR_ALONE) == sorted(r for r, spec in SPEC.items() if spec[0] == "error")


@pytest.mark.parametrize(("rule", "overrides"), [pytest.param(r, o, id=r) for r, o in ERROR_ALONE])
def test_a_lone_error_sets_recommendation_and_fails(rule: str, overrides: dict[str, Any]) -> None:
    result = check(overrides)
    assert [f.rule for f in result.findings if f.severity == "error"] == [rule]
    assert result.decision.recommendation == SPEC[rule][2]
    assert result.decision.verdict == "fail"


#: One change that makes exactly one warning rule fire.
WARNING_ALONE = [
    ("PRM003", steps(few_shot_examples=4)),
    ("FMT003", {"evaluation.failures.malformed_rate": 0.0005}),
    ("FMT004", {"downstream.retry_logic": False}),
    ("DOM004", {"task.conventions": "none"}),
    ("DST005", {"data.examples": 999}),
    ("DST006", {"proposal.model_tier": "frontier"}),
    ("DAT003", {"evaluation.examples": 99}),
    ("DAT004", {**steps(format_constraints=0.80), "evaluation.examples": 195}),
    ("FTF001", {"proposal.reasons": GQ, "proposal.model_tier": "frontier"}),
]


@pytest.mark.parametrize(("rule", "overrides"), [pytest.param(r, o, id=r) for r, o in WARNING_ALONE])
@pytest.mark.parametrize("approach", ["fine-tune", "distill"])
def test_warnings_never_fail_nor_redirect(rule: str, overrides: dict[str, Any], approach: str) -> None:
    result = check({**overrides, "proposal.approach": approach})
    if approach == "distill" and rule == "FTF001":
        assert rules(result) == {"FTF001", "DST006"}  # distill implies cost-latency
    else:
        assert [f.rule for f in result.findings] == [rule]
    assert all(f.severity == "warning" for f in result.findings)
    assert (result.decision.recommendation, result.decision.verdict) == (approach, "pass")


def test_all_warnings_together_still_pass() -> None:
    overrides: dict[str, Any] = {}
    for rule, change in WARNING_ALONE:
        if rule not in ("FTF001", "DAT003"):
            overrides.update(change)
    overrides["proposal.reasons"] = ALL4 + GQ  # FTF001 with the frontier tier above
    result = check(overrides)
    fired = rules(result)
    assert {"PRM003", "FMT003", "FMT004", "DOM004", "DST005", "DST006", "DAT004", "FTF001"} <= fired
    assert all(f.severity == "warning" for f in result.findings)
    assert (result.decision.recommendation, result.decision.verdict) == ("fine-tune", "pass")


ORDER_CASES = [
    pytest.param({"proposal.reasons": ALL4 + ["knowledge"], **steps(role=DROP)}, "rag", {"RAG001", "PRM001"}, id="RAG001-beats-PRM001"),
    pytest.param({"proposal.reasons": GQ + ["hallucination"], **steps(role=0.9)}, "rag", {"RAG002", "PRM002"}, id="RAG002-beats-PRM002"),
    pytest.param({**steps(zero_shot=DROP), **volume(requests_per_day=10)}, "prompting", {"PRM001", "FMT001"}, id="PRM001-beats-FMT001"),
    pytest.param(
        {"proposal.reasons": ["domain-conventions", "format-consistency"], **steps(domain_prompt=DROP), **volume(requests_per_day=10)},
        "error-handling", {"FMT001", "DOM001"}, id="FMT001-beats-DOM001-domain-listed-first",
    ),
    pytest.param(
        {"proposal.reasons": ["format-consistency", "domain-conventions"], **steps(domain_prompt=DROP), **volume(requests_per_day=10)},
        "error-handling", {"FMT001", "DOM001"}, id="FMT001-beats-DOM001-format-listed-first",
    ),
    pytest.param(
        {"proposal.reasons": ["cost-latency", "domain-conventions"], "data.domain_examples": 10, **volume(requests_per_month=10)},
        "collect-data", {"DOM002", "DST001"}, id="DOM002-beats-DST001-cost-listed-first",
    ),
    pytest.param(
        {"proposal.reasons": ["cost-latency"], **volume(requests_per_month=10), "distillation.teacher_quality": DROP},
        "frontier-api", {"DST001", "DST003"}, id="DST001-beats-DST003",
    ),
    pytest.param(
        {"distillation.teacher_quality": 0.84, "distillation.student_quality": 0.5},
        "prompting", {"DST003", "DST004"}, id="DST003-beats-DST004",
    ),
    pytest.param(
        {"distillation.student_quality": 0.5, **steps(few_shot_variants=1)},
        "frontier-api", {"DST004", "BEH001"}, id="DST004-beats-BEH001",
    ),
    pytest.param({"evaluation.failures.reproducible": False, "data.high_quality": 150}, "prompting", {"BEH002", "DAT001"}, id="BEH002-beats-DAT001"),
    pytest.param({"data": DROP}, "collect-data", {"DOM002", "DAT001"}, id="DOM002-and-DAT001-agree"),
    pytest.param({"downstream.failure_impact": "none", "data.high_quality": 300}, "error-handling", {"FMT002", "DAT002"}, id="FMT002-beats-DAT002"),
    pytest.param({"data": DROP, "proposal.model_tier": "frontier"}, "collect-data", {"DAT001", "DST006"}, id="DAT001-when-nothing-earlier"),
    pytest.param({"data": DROP, "proposal.reasons": GQ}, "collect-data", {"DAT001"}, id="DAT001-alone-general-quality"),
    pytest.param({"data": DROP, "proposal.reasons": GQ, **steps(role=0.9)}, "prompting", {"PRM002", "DAT001"}, id="PRM002-beats-DAT001"),
]


@pytest.mark.parametrize(("overrides", "recommendation", "expected_rules"), ORDER_CASES)
def test_first_firing_rule_in_decision_order_recommends(
    overrides: dict[str, Any], recommendation: str, expected_rules: set[str]
) -> None:
    result = check(overrides)
    assert expected_rules <= rules(result)
    assert result.decision.recommendation == recommendation
    assert result.decision.verdict == "fail"


@pytest.mark.parametrize("reasons", [pytest.param(DROP, id="absent"), pytest.param([], id="empty")])
def test_fine_tune_without_reasons_is_a_manifest_error(reasons: Any) -> None:
    # spec/manifest.md: reasons is "required and non-empty when approach is fine-tune".
    result = engine().check("m.toml", manifest({"proposal.reasons": reasons}).encode())
    assert rules(result) == {"MAN002"}  # a manifest with MAN findings gets no policy evaluation
    assert (result.decision.recommendation, result.decision.verdict) == (None, "fail")


def test_distill_without_reasons_is_valid() -> None:
    result = check({"proposal.approach": "distill", "proposal.reasons": DROP})
    assert result.findings == ()
    assert result.decision.recommendation == "distill"


def test_waivers_do_not_change_the_recommendation() -> None:
    text = manifest(volume(requests_per_day=50_000)) + (
        '\n[[waivers]]\nrule = "FMT001"\nreason = "launch traffic ramps up in Q1"\n'
        'owner = "platform"\nexpires = 2027-01-15\n'
    )
    result = check_text(text)
    finding = only(result, "FMT001")
    assert finding.waived is True
    assert (result.decision.recommendation, result.decision.verdict) == ("error-handling", "pass")


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
    pytest.param({"harmful_examples": 300}, {"data.high_quality": 299}, "DAT001", True, id="harmful-299"),
    pytest.param({"harmful_examples": 300}, {"data.high_quality": 300}, "DAT001", False, id="harmful-300-DAT001"),
    pytest.param({"harmful_examples": 300}, {"data.high_quality": 300}, "DAT002", True, id="harmful-300-DAT002"),
    pytest.param({"harmful_examples": 300}, {"data.high_quality": 299}, "DAT002", False, id="harmful-299-DAT002"),
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
    pytest.param({"min_eval_examples": 1_000}, {}, "DAT003", True, id="eval-1000-base-600"),
    pytest.param({"min_eval_examples": 1_000}, {"evaluation.examples": 1_000}, "DAT003", False, id="eval-1000-1000"),
    pytest.param({"min_few_shot_variants": 4}, {}, "BEH001", True, id="variants-4-base-3"),
    pytest.param({"min_few_shot_variants": 2}, steps(few_shot_variants=2), "BEH001", False, id="variants-2-2"),
    pytest.param({"max_quality_delta": 0.01}, {}, "DST004", True, id="delta-0.01-base-0.02"),
    pytest.param({"max_quality_delta": 0.01}, {"distillation.max_quality_delta": 0.05}, "DST004", False, id="manifest-delta-wins"),
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
        pytest.param({"min_eval_examples": 1_000}, {}, "DAT003", id="DAT003"),
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
        ("DST006", 14, 3),  # proposal.model_tier, indented two spaces
        ("PRM003", 22, 5),  # few_shot_examples, indented four spaces
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
    assert ("DAT003", 9, 1) in got


# --------------------------------------------------------------------------------- messages

MESSAGE_CASES = [
    pytest.param({"proposal.reasons": ["knowledge"], "evaluation.failures.mode": DROP}, "RAG001",
                 ["reasons: knowledge;", "dominant failure: none)"], id="RAG001"),
    pytest.param({"proposal.approach": "distill", "proposal.reasons": ["hallucination"]}, "RAG002",
                 ["reasons: hallucination, cost-latency;", "dominant failure: format)"], id="RAG002-distill-implies-cost"),
    pytest.param({"task.reasoning": True, **steps(few_shot=DROP, role=DROP)}, "PRM001",
                 ["no score yet: few_shot, chain_of_thought, role;"], id="PRM001-checklist-order"),
    pytest.param({"proposal.reasons": GQ, **steps(role=0.85)}, "PRM002",
                 ["best prompting score 0.85 already meets the 0.85 bar"], id="PRM002"),
    pytest.param(steps(few_shot_examples=4), "PRM003", ["holds 4 examples", "recommended 5 to 10"], id="PRM003"),
    pytest.param({"task.kind": "reasoning"}, "PRM004", ["chain_of_thought"], id="PRM004"),
    pytest.param(volume(requests_per_day=20_000), "FMT001", ["20,000 requests/day", "the 100,000 needed"], id="FMT001-day"),
    pytest.param(volume(requests_per_month=600_000), "FMT001", ["20,000 requests/day", "the 100,000 needed"], id="FMT001-month"),
    pytest.param({"volume": DROP}, "FMT001", ["unknown requests/day", "100,000"], id="FMT001-unknown"),
    pytest.param({"downstream": DROP}, "FMT002", ["machine_parsed is false", "impact is none"], id="FMT002-defaults"),
    pytest.param({"evaluation.failures.malformed_rate": 0.0009}, "FMT003", ["rate 0.0009 is already below 0.001"], id="FMT003"),
    pytest.param({"downstream.retry_logic": False}, "FMT004", ["retry_logic = true"], id="FMT004"),
    pytest.param(steps(domain_prompt=DROP), "DOM001", ["domain_prompt"], id="DOM001"),
    pytest.param({"data.domain_examples": 500}, "DOM002", ["500 reviewed in-domain examples", "than the 500 "], id="DOM002"),
    pytest.param({"data.domain_examples": DROP}, "DOM002", ["unknown reviewed in-domain examples"], id="DOM002-unknown"),
    pytest.param(steps(domain_prompt=0.9), "DOM003", ["scores 0.9, at or above the 0.85 bar"], id="DOM003"),
    pytest.param({"task.domain": DROP}, "DOM004", ["domain is general with conventions strict"], id="DOM004"),
    pytest.param(volume(requests_per_day=33_333), "DST001", ["999,990 requests/month", "the 1,000,000 that"], id="DST001"),
    pytest.param({"task.narrow": DROP}, "DST002", ["task.narrow is false"], id="DST002"),
    pytest.param({"distillation.teacher_quality": DROP}, "DST003", ["score is unknown", "the 0.85 bar"], id="DST003"),
    pytest.param({"distillation.student_quality": 0.869}, "DST004",
                 ["student scores 0.869 against the teacher's 0.9,", "default 0.03"], id="DST004"),
    pytest.param({"data.examples": 999}, "DST005", ["999 training examples", "usual 1,000 to 5,000"], id="DST005"),
    pytest.param({"proposal.model_tier": "frontier"}, "DST006", ["is frontier-tier"], id="DST006"),
    pytest.param({"proposal.reasons": GQ, "proposal.model_tier": "frontier"}, "FTF001", ["for a frontier-tier model"], id="FTF001"),
    pytest.param(steps(few_shot_variants=2), "BEH001", ["2 distinct few-shot example set(s) tried, fewer than 3"], id="BEH001"),
    pytest.param(steps(few_shot_variants=DROP), "BEH001", ["1 distinct few-shot example set(s) tried"], id="BEH001-default-1"),
    pytest.param({"evaluation.failures.reproducible": False}, "BEH002", ["reproducible is false)"], id="BEH002"),
    pytest.param({"evaluation.failures.reproducible": DROP}, "BEH002", ["reproducible is unknown)"], id="BEH002-unknown"),
    pytest.param({"data.high_quality": 150}, "DAT001", ["150 high-quality training examples, fewer than 200"], id="DAT001"),
    pytest.param({"data": DROP}, "DAT001", ["unknown high-quality training examples"], id="DAT001-unknown"),
    pytest.param({"data.examples": 350}, "DAT002", ["350 high-quality training examples is below the 500"], id="DAT002-default"),
    pytest.param({"evaluation.examples": 99}, "DAT003", ["measured on 99 examples, fewer than 100"], id="DAT003"),
    pytest.param({"evaluation.examples": DROP}, "DAT003", ["measured on unknown examples"], id="DAT003-unknown"),
]


@pytest.mark.parametrize(("overrides", "rule", "expected"), MESSAGE_CASES)
def test_message_interpolates_input_and_params(overrides: dict[str, Any], rule: str, expected: list[str]) -> None:
    message = only(check(overrides), rule).message
    for part in expected:
        assert part in message, (part, message)
    assert "{" not in message and "}" not in message
