"""Policy packs: the built-in pack's shape, and load-time errors that point into the file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import tomli

from policylint.builtin import builtin_pack_path
from conftest import SCENARIOS
from policylint.engine import Engine
from policylint.errors import ConfigError, PackError
from policylint.packs import Pack, load_pack

SPEC_RULES = {
    # id: (name, severity, waivable, applies_to, recommends, points_at) from spec/policies.md
    "RAG001": ("fine-tuning-for-knowledge", "error", False, "fine-tuning", "rag", "proposal.reasons"),
    "RAG002": ("fine-tuning-for-hallucination", "error", False, "fine-tuning", "rag", "proposal.reasons"),
    "PRM001": ("prompting-checklist-incomplete", "error", False, "fine-tuning", "prompting", "evaluation.prompting"),
    "PRM002": ("prompting-meets-bar", "error", True, "fine-tuning", "prompting", "evaluation.prompting"),
    "PRM003": ("few-shot-count", "warning", True, "any", None, "evaluation.prompting.few_shot_examples"),
    "PRM004": ("reasoning-without-chain-of-thought", "warning", True, "any", None, "evaluation.prompting"),
    "PRM005": ("failure-mode-undiagnosed", "error", True, "fine-tuning", "prompting", "evaluation.failures"),
    "FMT001": ("format-volume-too-low", "error", True, "fine-tuning", "error-handling", "volume"),
    "FMT002": ("format-failures-harmless", "error", True, "fine-tuning", "error-handling", "downstream.failure_impact"),
    "FMT003": ("format-already-reliable", "warning", True, "fine-tuning", None, "evaluation.failures.malformed_rate"),
    "FMT004": ("no-retry-logic", "warning", True, "any", None, "downstream.retry_logic"),
    "FMT005": ("format-rate-unmeasured", "error", True, "fine-tuning", "error-handling", "evaluation.failures"),
    "DOM001": ("domain-prompt-untested", "error", True, "fine-tuning", "prompting", "evaluation.prompting"),
    "DOM002": ("domain-data-too-thin", "error", True, "fine-tuning", "collect-data", "data.domain_examples"),
    "DOM003": ("domain-prompt-sufficient", "error", True, "fine-tuning", "prompting", "evaluation.prompting.domain_prompt"),
    "DOM004": ("domain-not-specialized", "error", True, "fine-tuning", "prompting", "task.domain"),
    "DST001": ("distill-volume-too-low", "error", True, "fine-tuning", "frontier-api", "volume"),
    "DST002": ("distill-task-not-narrow", "error", True, "fine-tuning", "frontier-api", "task.narrow"),
    "DST003": ("distill-no-frontier-baseline", "error", True, "fine-tuning", "prompting", "distillation"),
    "DST004": ("distill-quality-gap", "error", True, "fine-tuning", "frontier-api", "distillation.student_quality"),
    "DST005": ("distill-dataset-size", "warning", True, "fine-tuning", None, "data.examples"),
    "DST006": ("distill-into-frontier", "error", True, "fine-tuning", "frontier-api", "proposal.model_tier"),
    "BEH001": ("behavior-few-shot-not-exhausted", "error", True, "fine-tuning", "prompting", "evaluation.prompting"),
    "BEH002": ("behavior-not-reproducible", "error", True, "fine-tuning", "prompting", "evaluation.failures"),
    "BEH003": ("behavior-transfers-with-few-shot", "error", True, "fine-tuning", "prompting", "evaluation.prompting.few_shot"),
    "DAT001": ("dataset-harmful", "error", False, "fine-tuning", "collect-data", "data"),
    "DAT002": ("dataset-unreliable", "error", True, "fine-tuning", "collect-data", "data.high_quality"),
    "DAT003": ("eval-set-too-small", "warning", True, "other", None, "evaluation.examples"),
    "DAT004": ("score-inconclusive", "warning", True, "any", None, "evaluation.prompting"),
    "DAT005": ("eval-set-too-small-to-decide", "error", True, "fine-tuning", "collect-data", "evaluation.examples"),
    "FTF001": ("frontier-general-tuning", "warning", True, "fine-tuning", None, "proposal.model_tier"),
}
DECISION_ORDER = ["RAG001", "RAG002", "PRM001", "PRM002", "PRM005", "FMT001", "FMT002", "FMT005", "DOM001", "DOM002",
                  "DOM003", "DOM004", "DST001", "DST002", "DST003", "DST004", "DST006", "BEH001", "BEH002", "BEH003",
                  "DAT001", "DAT002", "DAT005"]
SPEC_PARAMS = {
    "quality_bar": 0.85, "format_volume_per_day": 100_000, "distill_volume_per_month": 1_000_000,
    "min_examples": 500, "harmful_examples": 200, "min_domain_examples": 500, "few_shot_min": 5,
    "few_shot_max": 10, "format_floor": 0.001, "distill_min_examples": 1_000, "distill_max_examples": 5_000,
    "min_eval_examples": 100, "min_few_shot_variants": 3, "max_quality_delta": 0.03,
}
SPEC_STRICTER = {  # the "stricter" column of the spec's parameter table
    "quality_bar": "higher", "format_volume_per_day": "higher", "distill_volume_per_month": "higher",
    "min_examples": "higher", "harmful_examples": "higher", "min_domain_examples": "higher", "few_shot_min": "either",
    "few_shot_max": "either", "format_floor": "higher", "distill_min_examples": "either",
    "distill_max_examples": "either", "min_eval_examples": "higher", "min_few_shot_variants": "higher",
    "max_quality_delta": "lower",
}


def test_builtin_pack_matches_the_spec(builtin_pack: Pack) -> None:
    got = {p.id: (p.name, p.severity, p.waivable, p.applies_to, p.recommends, p.points_at) for p in builtin_pack.policies}
    assert got == SPEC_RULES


def test_builtin_decision_order(builtin_pack: Pack) -> None:
    deciding = sorted((p for p in builtin_pack.policies if p.order is not None), key=lambda p: p.order)
    assert [p.id for p in deciding] == DECISION_ORDER


def test_builtin_params_match_the_spec(builtin_pack: Pack) -> None:
    assert {name: p.default for name, p in builtin_pack.params.items()} == SPEC_PARAMS
    assert {name: p.stricter for name, p in builtin_pack.params.items()} == SPEC_STRICTER
    assert builtin_pack.version == "2"
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


def test_a_param_without_stricter_is_a_load_error_that_says_what_to_declare(pack_copy: Path) -> None:
    pack = pack_copy / "pack.toml"
    edit(pack, 'stricter = "lower"\n', "")
    assert load_error(pack_copy) == (
        f"{pack}:{line_of(pack, '[params.max_quality_delta]')}:1: params.max_quality_delta.stricter: required key is missing"
    )


def test_a_param_with_an_unknown_direction(pack_copy: Path) -> None:
    pack = pack_copy / "pack.toml"
    edit(pack, 'stricter = "lower"', 'stricter = "lowr"')
    assert load_error(pack_copy) == (
        f"{pack}:{line_of(pack, 'lowr')}:1: params.max_quality_delta.stricter: expected one of 'higher', 'lower', "
        """'either', got "lowr" (did you mean 'lower'?)"""
    )


def test_a_message_variant_with_an_unknown_field_points_into_it(pack_copy: Path) -> None:
    policy = pack_copy / "FMT001.toml"
    edit(policy, 'when = "missing(volume.per_day) and downstream.retry_logic"', 'when = "missing(volume.per_dya)"')
    line = line_of(policy, "per_dya")
    column = policy.read_text("utf-8").splitlines()[line - 1].index("volume.per_dya") + 1
    assert compile_error(pack_copy) == (
        f"{policy}:{line}:{column}: messages[1].when: unknown field 'volume.per_dya' (did you mean 'volume.per_day'?)"
    )


def test_a_message_variant_needs_both_keys(pack_copy: Path) -> None:
    policy = pack_copy / "FMT001.toml"
    policy.write_text(policy.read_text("utf-8") + '\n[[messages]]\nwhen = "true"\nmesage = "x"\n', "utf-8")
    assert load_error(pack_copy) == (
        f"{policy}:{line_of(policy, 'mesage = ')}:1: messages[4].mesage: unknown key (did you mean 'message'?)"
    )


def test_the_first_variant_that_holds_gives_the_message(pack_copy: Path) -> None:
    policy = pack_copy / "PRM005.toml"
    variants = [("proposal.approach == 'distill'", "not this one"), ("true", "first"), ("true", "second")]
    policy.write_text(
        policy.read_text("utf-8") + "".join(f'\n[[messages]]\nwhen = "{w}"\nmessage = "{m}"\n' for w, m in variants),
        "utf-8",
    )
    engine = Engine([load_pack(pack_copy)])
    manifest = (SCENARIOS / "15-failures-undiagnosed.toml").read_bytes()
    assert b'approach = "fine-tune"' in manifest
    (finding,) = [f for f in engine.check("m.toml", manifest).findings if f.rule == "PRM005"]
    assert finding.message == "first"


def test_rationales_name_the_framework_not_an_unnamed_article(builtin_pack: Pack) -> None:
    for policy in builtin_pack.policies:
        assert "the article" not in policy.rationale.lower(), policy.id
        assert "the article" not in policy.message.lower(), policy.id


def test_a_policy_file_that_is_a_device_or_fifo_is_refused_not_read(pack_copy: Path) -> None:
    import os

    (pack_copy / "ZZZ001.toml").symlink_to("/dev/zero")
    assert load_error(pack_copy) == f"{pack_copy / 'ZZZ001.toml'}: cannot read the policy file: not a regular file (a device or socket)"
    (pack_copy / "ZZZ001.toml").unlink()
    os.mkfifo(pack_copy / "ZZZ002.toml")  # opening it would wait for a writer forever
    assert load_error(pack_copy) == f"{pack_copy / 'ZZZ002.toml'}: cannot read the policy file: not a regular file (a FIFO)"


def test_a_policy_file_over_the_size_limit_is_refused(pack_copy: Path) -> None:
    from policylint.packs import MAX_POLICY_FILE_BYTES

    policy = pack_copy / "FMT001.toml"
    policy.write_text(policy.read_text("utf-8") + "#" * MAX_POLICY_FILE_BYTES, "utf-8")
    assert load_error(pack_copy) == (
        f"{policy}: cannot read the policy file: larger than 262,144 bytes, the limit for this kind of file"
    )
