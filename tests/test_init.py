"""``policylint init``: the starter it writes checks cleanly except for the evidence it lacks."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import heavy_modules_after

from policylint import manifest
from policylint.cli import cli
from policylint.commands import init as init_module


def check(path: Path) -> tuple[int, set[str], dict]:
    """``policylint check --format json`` on ``path``, as a user runs it."""
    run = subprocess.run([sys.executable, "-m", "policylint", "check", "--format", "json", "--today", "2026-12-01", str(path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode in (0, 1), run.stderr
    (result,) = json.loads(run.stdout)["manifests"]
    return run.returncode, {f["rule"] for f in result["findings"]}, result


def init(*args: str, input: str | None = None) -> object:
    return CliRunner().invoke(cli, ["init", *args], input=input, catch_exceptions=False)


def test_fine_tune_starter_fires_only_the_evidence_rules(tmp_path: Path) -> None:
    result = init(str(tmp_path), "--approach", "fine-tune", "--kind", "classification", "--reasons", "general-quality")
    assert result.exit_code == 0, result.output
    code, rules, data = check(tmp_path / "mlproject.toml")
    assert code == 1
    # The spec: a fine-tune must have tried the checklist (PRM001), diagnosed the failure
    # (PRM005), sized its evaluation set (DAT005) and declared its training data (DAT001).
    assert rules == {"PRM001", "PRM005", "DAT005", "DAT001"}
    assert not any(r.startswith("MAN") for r in rules)
    messages = {f["rule"]: f["message"] for f in data["findings"]}
    for rule, key in [("PRM001", "[evaluation.prompting]"), ("PRM005", "evaluation.failures.mode"),
                      ("DAT005", "evaluation.examples"), ("DAT001", "data.examples")]:
        assert key in messages[rule], (rule, messages[rule])


def test_prompting_starter_passes_with_no_findings(tmp_path: Path) -> None:
    target = tmp_path / "service" / "manifest.toml"
    result = init(str(target), "--approach", "prompting", "--name", "search-ranker")
    assert result.exit_code == 0, result.output
    code, rules, data = check(target)
    assert (code, rules) == (0, set())
    assert data["decision"]["recommendation"] == "prompting"
    assert 'name = "search-ranker"' in target.read_text()


def test_reasoning_fine_tune_also_owes_chain_of_thought(tmp_path: Path) -> None:
    init(str(tmp_path), "--approach", "fine-tune", "--kind", "reasoning")
    code, rules, _ = check(tmp_path / "mlproject.toml")
    assert code == 1
    assert rules == {"PRM001", "PRM004", "PRM005", "DAT005", "DAT001"}  # PRM004: no chain_of_thought score


def test_defaults_without_a_terminal_never_block(tmp_path: Path) -> None:
    result = init(str(tmp_path))  # CliRunner's stdin is no TTY: no prompt, no input needed
    assert result.exit_code == 0
    text = (tmp_path / "mlproject.toml").read_text()
    assert 'approach = "prompting"' in text and 'kind = "other"' in text
    assert f'name = "{tmp_path.name}"' in text
    assert check(tmp_path / "mlproject.toml")[:2] == (0, set())


def test_every_key_is_commented_with_its_meaning(tmp_path: Path) -> None:
    init(str(tmp_path), "--approach", "fine-tune")
    assignments = [line for line in (tmp_path / "mlproject.toml").read_text().splitlines()
                   if " = " in line.split("  # ")[0]]
    assert len(assignments) > 40
    for line in assignments:
        assert "  # " in line and line.split("  # ", 1)[1].strip(), line


def test_every_table_and_key_of_the_format_appears(tmp_path: Path) -> None:
    init(str(tmp_path))
    text = (tmp_path / "mlproject.toml").read_text()
    for table, model in [("project", manifest.Project), ("task", manifest.Task), ("proposal", manifest.Proposal),
                         ("evaluation", manifest.Evaluation), ("evaluation.prompting", manifest.Prompting),
                         ("evaluation.failures", manifest.Failures), ("volume", manifest.VolumeTable),
                         ("downstream", manifest.Downstream), ("data", manifest.Data),
                         ("distillation", manifest.Distillation), ("[waivers]", manifest.Waiver)]:
        assert f"[{table}]" in text, table
        for key, field in model.model_fields.items():
            if f"{table}.{key}" in ("evaluation.prompting", "evaluation.failures"):
                continue  # a nested table, written as its own header
            assert f"{key} = " in text, f"{table}.{key}"


@pytest.mark.parametrize(("ours", "annotation"), [
    (init_module.KINDS, manifest.Task.model_fields["kind"].annotation),
    (init_module.APPROACHES, manifest.Approach),
    (init_module.REASONS, manifest.Reason),
    (init_module.DOMAINS, manifest.Task.model_fields["domain"].annotation),
    (init_module.CONVENTIONS, manifest.Task.model_fields["conventions"].annotation),
    (init_module.FAILURE_IMPACTS, manifest.Downstream.model_fields["failure_impact"].annotation),
])
def test_choices_match_the_models(ours: tuple[str, ...], annotation: object) -> None:
    """init spells the allowed values out (``--help`` must not import pydantic); they cannot drift."""
    assert ours == typing.get_args(annotation)


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "mlproject.toml"
    target.write_text("keep me\n")
    result = init(str(tmp_path), "--approach", "fine-tune")
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert target.read_text() == "keep me\n"


def test_force_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "custom.toml"
    target.write_text("keep me\n")
    result = init(str(target), "--force", "--approach", "fine-tune")
    assert result.exit_code == 0
    assert 'approach = "fine-tune"' in target.read_text()


def test_prompts_for_the_essentials(tmp_path: Path) -> None:
    target = tmp_path / "mlproject.toml"
    result = init(str(target), "--interactive", input="invoice-extractor\nextraction\nfine-tune\nformat-consistency, behavior\n")
    assert result.exit_code == 0, result.output
    assert "Project name" in result.output and "Reasons to fine-tune" in result.output
    text = target.read_text()
    assert 'name = "invoice-extractor"' in text and 'kind = "extraction"' in text
    assert 'reasons = ["format-consistency", "behavior"]' in text


def test_prompts_take_defaults_and_skip_reasons_unless_fine_tuning(tmp_path: Path) -> None:
    result = init(str(tmp_path), "--interactive", input="\n\n\n")
    assert result.exit_code == 0, result.output
    assert "Reasons" not in result.output
    assert 'approach = "prompting"' in (tmp_path / "mlproject.toml").read_text()


def test_prompt_rejects_an_unknown_reason_and_asks_again(tmp_path: Path) -> None:
    result = init(str(tmp_path), "--interactive", input="x\nother\nfine-tune\nspeed\ncost-latency\n")
    assert result.exit_code == 0, result.output
    assert "unknown reason 'speed'" in result.output
    assert 'reasons = ["cost-latency"]' in (tmp_path / "mlproject.toml").read_text()


def test_unknown_reason_flag_is_a_usage_error(tmp_path: Path) -> None:
    result = init(str(tmp_path), "--reasons", "speed")
    assert result.exit_code == 2 and "unknown reason 'speed'" in result.output


def test_name_is_written_as_a_toml_string(tmp_path: Path) -> None:
    init(str(tmp_path), "--name", 'say "hi" \\ now')
    assert check(tmp_path / "mlproject.toml")[:2] == (0, set())


def test_help_does_not_import_pydantic() -> None:
    assert heavy_modules_after("--help") == []


def test_init_pins_the_pack_versions_once_and_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the repository root: its configuration file goes here
    result = init(str(tmp_path / "svc"), "--no-input")  # a folder that does not exist yet
    assert result.exit_code == 0, result.output
    assert (tmp_path / "svc" / "mlproject.toml").is_file()
    config = (tmp_path / "policylint.toml").read_text("utf-8")
    assert 'pack-versions = { builtin = "2" }' in config  # the built-in pack's current version
    assert (tmp_path / "policylint.toml").stat().st_mode & 0o044  # readable like any new file
    again = init(str(tmp_path / "other"), "--no-input")
    assert "pack-versions" not in again.output  # pinned already: left alone
    assert (tmp_path / "policylint.toml").read_text("utf-8") == config
    (tmp_path / "policylint.toml").unlink()
    assert init(str(tmp_path / "third"), "--no-input", "--no-pack-versions").exit_code == 0
    assert not (tmp_path / "policylint.toml").exists()
