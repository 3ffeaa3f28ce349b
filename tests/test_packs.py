"""Policy packs: the built-in pack's shape, and load-time errors that point into the file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import tomli

from policylint.builtin import builtin_pack_path
from policylint.engine import Engine
from policylint.errors import ConfigError, PackError
from policylint.packs import Pack, load_pack

SPEC_RULES = {
    # id: (name, severity, waivable, applies_to, recommends, points_at) from spec/policies.md
    "RAG001": ("fine-tuning-for-knowledge", "error", False, "fine-tuning", "rag", "proposal.reasons"),
    "RAG002": ("fine-tuning-for-hallucination", "error", False, "fine-tuning", "rag", "proposal.reasons"),
    "PRM001": ("prompting-checklist-incomplete", "error", True, "fine-tuning", "prompting", "evaluation.prompting"),
    "PRM002": ("prompting-meets-bar", "error", True, "fine-tuning", "prompting", "evaluation.prompting"),
    "PRM003": ("few-shot-count", "warning", True, "any", None, "evaluation.prompting.few_shot_examples"),
    "PRM004": ("reasoning-without-chain-of-thought", "warning", True, "any", None, "evaluation.prompting"),
    "FMT001": ("format-volume-too-low", "error", True, "fine-tuning", "error-handling", "volume"),
    "FMT002": ("format-failures-harmless", "error", True, "fine-tuning", "error-handling", "downstream.failure_impact"),
    "FMT003": ("format-already-reliable", "warning", True, "fine-tuning", None, "evaluation.failures.malformed_rate"),
    "FMT004": ("no-retry-logic", "warning", True, "any", None, "downstream.retry_logic"),
    "DOM001": ("domain-prompt-untested", "error", True, "fine-tuning", "prompting", "evaluation.prompting"),
    "DOM002": ("domain-data-too-thin", "error", True, "fine-tuning", "collect-data", "data.domain_examples"),
    "DOM003": ("domain-prompt-sufficient", "error", True, "fine-tuning", "prompting", "evaluation.prompting.domain_prompt"),
    "DOM004": ("domain-not-specialized", "warning", True, "fine-tuning", None, "task.domain"),
    "DST001": ("distill-volume-too-low", "error", True, "fine-tuning", "frontier-api", "volume"),
    "DST002": ("distill-task-not-narrow", "error", True, "fine-tuning", "frontier-api", "task.narrow"),
    "DST003": ("distill-no-frontier-baseline", "error", True, "fine-tuning", "prompting", "distillation"),
    "DST004": ("distill-quality-gap", "error", True, "fine-tuning", "frontier-api", "distillation.student_quality"),
    "DST005": ("distill-dataset-size", "warning", True, "fine-tuning", None, "data.examples"),
    "DST006": ("distill-into-frontier", "warning", True, "fine-tuning", None, "proposal.model_tier"),
    "BEH001": ("behavior-few-shot-not-exhausted", "error", True, "fine-tuning", "prompting", "evaluation.prompting"),
    "BEH002": ("behavior-not-reproducible", "error", True, "fine-tuning", "prompting", "evaluation.failures"),
    "DAT001": ("dataset-harmful", "error", False, "fine-tuning", "collect-data", "data"),
    "DAT002": ("dataset-unreliable", "error", True, "fine-tuning", "collect-data", "data.high_quality"),
    "DAT003": ("eval-set-too-small", "warning", True, "any", None, "evaluation.examples"),
    "DAT004": ("score-inconclusive", "warning", True, "any", None, "evaluation.prompting"),
    "FTF001": ("frontier-general-tuning", "warning", True, "fine-tuning", None, "proposal.model_tier"),
}
DECISION_ORDER = ["RAG001", "RAG002", "PRM001", "PRM002", "FMT001", "FMT002", "DOM001", "DOM002", "DOM003",
                  "DST001", "DST002", "DST003", "DST004", "BEH001", "BEH002", "DAT001", "DAT002"]
SPEC_PARAMS = {
    "quality_bar": 0.85, "format_volume_per_day": 100_000, "distill_volume_per_month": 1_000_000,
    "min_examples": 500, "harmful_examples": 200, "min_domain_examples": 500, "few_shot_min": 5,
    "few_shot_max": 10, "format_floor": 0.001, "distill_min_examples": 1_000, "distill_max_examples": 5_000,
    "min_eval_examples": 100, "min_few_shot_variants": 3, "max_quality_delta": 0.03,
}


def test_builtin_pack_matches_the_spec(builtin_pack: Pack) -> None:
    got = {p.id: (p.name, p.severity, p.waivable, p.applies_to, p.recommends, p.points_at) for p in builtin_pack.policies}
    assert got == SPEC_RULES


def test_builtin_decision_order(builtin_pack: Pack) -> None:
    deciding = sorted((p for p in builtin_pack.policies if p.order is not None), key=lambda p: p.order)
    assert [p.id for p in deciding] == DECISION_ORDER


def test_builtin_params_match_the_spec(builtin_pack: Pack) -> None:
    assert {name: p.default for name, p in builtin_pack.params.items()} == SPEC_PARAMS
    project_defaults = {n for n, p in builtin_pack.params.items() if p.source == "project"}
    assert project_defaults == {"min_eval_examples", "min_few_shot_variants", "max_quality_delta"}


def test_every_policy_documents_itself(builtin_pack: Pack) -> None:
    for policy in builtin_pack.policies:
        assert len(policy.rationale.split()) >= 20, policy.id
        assert policy.framework, policy.id
        assert policy.title[0].isupper(), policy.id


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(builtin_pack_path(), folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line)


def compile_error(folder: Path) -> str:
    with pytest.raises(PackError) as caught:
        Engine([load_pack(folder)])
    return str(caught.value)


def load_error(folder: Path) -> str:
    with pytest.raises(PackError) as caught:
        load_pack(folder)
    return str(caught.value)


def test_unknown_field_in_condition_points_at_it(pack_copy: Path) -> None:
    policy = pack_copy / "RAG001.toml"
    edit(policy, "'knowledge' in reasons", "'knowledge' in proposal.reason")
    line = line_of(policy, "in proposal.reason")
    text = policy.read_text("utf-8").splitlines()[line - 1]
    column = text.index("in proposal.reason") + 4
    assert compile_error(pack_copy) == (
        f"{policy}:{line}:{column}: when: unknown field 'proposal.reason' (did you mean 'proposal.reasons'?)"
    )


def test_unknown_function_in_condition(pack_copy: Path) -> None:
    policy = pack_copy / "PRM001.toml"
    when = tomli.loads(policy.read_text("utf-8"))["when"]
    edit(policy, when, "lenn(checklist.missing) > 0")
    line = line_of(policy, "lenn(")
    column = policy.read_text("utf-8").splitlines()[line - 1].index("lenn(") + 1
    assert compile_error(pack_copy) == f"{policy}:{line}:{column}: when: unknown function 'lenn' (did you mean 'len'?)"


def test_unknown_field_in_message(pack_copy: Path) -> None:
    policy = pack_copy / "FMT001.toml"
    edit(policy, "{volume.per_day}", "{volume.per_dya}")
    message = compile_error(pack_copy)
    assert re.fullmatch(
        rf"{re.escape(str(policy))}:{line_of(policy, 'per_dya')}:\d+: message: unknown field 'volume.per_dya' "
        r"\(did you mean 'volume.per_day'\?\)",
        message,
    )


def test_unknown_points_at(pack_copy: Path) -> None:
    policy = pack_copy / "FMT001.toml"
    edit(policy, 'points_at = "volume"', 'points_at = "volumes"')
    assert compile_error(pack_copy) == (
        f"{policy}:{line_of(policy, 'points_at')}:1: points_at: unknown manifest key 'volumes' (did you mean 'volume'?)"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('severity = "error"', 'severity = "fatal"', """severity: expected one of 'error', 'warning', got "fatal\"""" ),
        ('severity = "error"', 'severty = "error"', "severty: unknown key (did you mean 'severity'?)"),
        ('name = "format-volume-too-low"', 'name = "Format Volume"', "name: expected a kebab-case name"),
        ('id = "FMT001"', 'id = "FMT009"', "id: 'FMT009' must match the file name 'FMT001.toml'"),
        ('recommends = "error-handling"', 'recommends = "retry"', """recommends: expected one of 'prompting', 'rag',"""),
        ("order = 310\n", "", "order: a policy that recommends must set its decision order"),
    ],
)
def test_bad_policy_structure(pack_copy: Path, old: str, new: str, message: str) -> None:
    policy = pack_copy / "FMT001.toml"
    edit(policy, old, new)
    error = load_error(pack_copy)
    assert error.startswith(f"{policy}:")
    assert message in error


def test_missing_key_names_it(pack_copy: Path) -> None:
    policy = pack_copy / "FMT001.toml"
    text = "\n".join(line for line in policy.read_text("utf-8").splitlines() if not line.startswith("when ="))
    policy.write_text(text, "utf-8")
    assert load_error(pack_copy) == f"{policy}:1:1: when: required key is missing"


def test_invalid_toml_in_policy(pack_copy: Path) -> None:
    policy = pack_copy / "DAT001.toml"
    policy.write_text('id = "DAT001"\nname = \n', "utf-8")
    assert load_error(pack_copy) == f"{policy}:2:8: invalid TOML: Invalid value"


def test_bad_param_default(pack_copy: Path) -> None:
    pack = pack_copy / "pack.toml"
    edit(pack, "default = 0.85", "default = 85")
    assert load_error(pack_copy).startswith(f"{pack}:{line_of(pack, 'default = 85')}:")
    assert "did you mean 0.85?" in load_error(pack_copy)


def test_unknown_param_in_condition(pack_copy: Path) -> None:
    (pack_copy / "pack.toml").write_text(
        (pack_copy / "pack.toml").read_text("utf-8").replace("[params.harmful_examples]", "[params.harmless_examples]"),
        "utf-8",
    )
    assert "unknown parameter 'harmful_examples' (did you mean 'harmless_examples'?)" in compile_error(pack_copy)


def test_folder_without_pack_toml(tmp_path: Path) -> None:
    assert load_error(tmp_path) == f"{tmp_path}: not a policy pack (no pack.toml)"


def test_two_packs_with_one_rule_id(pack_copy: Path, builtin_pack: Pack) -> None:
    edit(pack_copy / "pack.toml", 'name = "builtin"', 'name = "copy"')
    (pack_copy / "pack.toml").write_text(re.sub(r"\[params\.[\s\S]*", "", (pack_copy / "pack.toml").read_text("utf-8")))
    with pytest.raises(PackError) as caught:
        Engine([builtin_pack, load_pack(pack_copy)])
    assert "is defined twice" in str(caught.value)


def test_params_must_fit_their_type(builtin_pack: Pack) -> None:
    from policylint.engine import EngineOptions

    for bad, fragment in [({"quality_bar": 85}, "did you mean 0.85?"), ({"min_examples": 1.5}, "whole number"),
                          ({"min_examples": True}, "whole number"), ({"qualty_bar": 0.9}, "did you mean 'quality_bar'?")]:
        with pytest.raises(ConfigError) as caught:
            Engine([builtin_pack], options=EngineOptions(params=bad))
        assert fragment in str(caught.value)
