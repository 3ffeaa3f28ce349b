"""The GitHub Action (action.yml): its metadata, and its run scripts executed with bash on a
sample repository shaped like a pull request.

GitHub itself is not here, so the test plays the runner: it fills in the ``${{ ... }}``
expressions (a small evaluator below: dotted names, string literals, ``||``, ``&&``, ``==``,
``!=``), sets ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY`` and ``GITHUB_WORKSPACE``, and runs each
``run:`` step as ``shell: bash`` does. The install step is replaced by the policylint under test
(a wrapper around this interpreter), so that these tests check this tree and need no network;
one test runs the install step for real.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, SCENARIOS

PASSING = (SCENARIOS / "01-format-at-scale.toml").read_text("utf-8")
FAILING = (SCENARIOS / "02-knowledge-via-fine-tuning.toml").read_text("utf-8")
ACTION = yaml.safe_load((REPO / "action.yml").read_text("utf-8"))
TIMEOUT = 600
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
#: Not copied for the real install: caches, build output and virtualenvs.
LEFT_OUT = {".git", ".venv", "venv", ".pytest_cache", ".hypothesis", ".ruff_cache", ".mypy_cache",
            ".benchmarks", "__pycache__", "build", "dist", "node_modules"}


# --- the runner's part: expressions ---------------------------------------------------------

def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """The subset of GitHub's expression language that action.yml uses."""
    for operator in ("||", "&&"):
        if operator in expression:
            values = [evaluate(part, context) for part in expression.split(operator)]
            return next((v for v in values if truthy(v) == (operator == "||")), values[-1])
    for operator in ("!=", "=="):
        if operator in expression:
            left, right = (evaluate(part, context) for part in expression.split(operator))
            return (str(left or "") == str(right or "")) == (operator == "==")
    term = expression.strip()
    if term.startswith("'") and term.endswith("'"):
        return term[1:-1]
    if term in ("true", "false"):
        return term == "true"
    value: Any = context
    for name in term.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def truthy(value: Any) -> bool:
    return value not in (None, "", False, 0)


def substitute(text: str, context: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        value = evaluate(match.group(1), context)
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    return EXPRESSION.sub(one, str(text))


# --- the runner's part: steps -----------------------------------------------------------------

@dataclass
class Run:
    status: int  # the failing step's exit status, or 0
    log: str
    outputs: dict[str, str]
    summary: str


def read_outputs(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text("utf-8").splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def run_action(workspace: Path, tmp: Path, event: dict[str, Any], policylint: Path, event_name: str | None = None,
               **given: str) -> Run:
    """Run the action's steps in ``workspace`` as a runner would, with ``given`` inputs.

    ``event_name`` is ``github.event_name``: by default ``pull_request`` for a pull request's
    event, ``push`` for one with ``before``, else none."""
    if event_name is None:
        event_name = "pull_request" if "pull_request" in event else "push" if "before" in event else ""
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    summary = tmp / "step-summary.md"
    summary.write_text("", "utf-8")
    context: dict[str, Any] = {
        "github": {"action_path": str(REPO), "workspace": str(workspace), "event": event, "event_name": event_name},
        "runner": {"temp": str(runner_temp)},
        "steps": {},
    }
    unknown = set(given) - {name.replace("-", "_") for name in ACTION["inputs"]}
    assert not unknown, f"action.yml has no inputs {unknown}"
    context["inputs"] = {
        name: given.get(name.replace("-", "_"), substitute(spec.get("default", ""), context))
        for name, spec in ACTION["inputs"].items()
    }
    log = []
    status = 0
    for number, step in enumerate(ACTION["runs"]["steps"]):
        if "if" in step and not truthy(evaluate(step["if"], context)):
            continue
        assert "uses" not in step, f"step {step['name']!r} would run another action with these inputs"
        if step.get("id") == "install":
            # Skipped: it would pip-install a copy of this tree (test_install_step_for_real does).
            context["steps"]["install"] = {"outputs": {"policylint": str(policylint)}}
            continue
        script = tmp / f"step-{number}.sh"
        script.write_text(step["run"], "utf-8")
        output = tmp / f"step-{number}.output"
        output.write_text("", "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_", "INPUT_"))}
        env.update({name: substitute(value, context) for name, value in step.get("env", {}).items()})
        env.update(GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary), GITHUB_WORKSPACE=str(workspace),
                   RUNNER_TEMP=str(runner_temp), GITHUB_ACTIONS="true", NO_COLOR="1")
        assert step["shell"] == "bash"
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT, check=False)
        log.append(proc.stdout + proc.stderr)
        context["steps"][step.get("id", str(number))] = {"outputs": read_outputs(output)}
        if proc.returncode != 0:
            status = proc.returncode
            break
    outputs = {name: substitute(spec["value"], context) for name, spec in ACTION["outputs"].items()}
    return Run(status, "".join(log), outputs, summary.read_text("utf-8"))


# --- the sample repository --------------------------------------------------------------------

def git(*args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    identity = ("-c", "user.name=policylint tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false")
    proc = subprocess.run(["git", *identity, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def pull_request(root: Path, changes: dict[str, str]) -> tuple[Path, dict[str, Any]]:
    """A repository whose main holds a failing manifest, and a branch that adds ``changes``.

    Returns the work tree, checked out on the branch, and the pull_request event.
    """
    repo = root / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    write(repo / "README.md", "# projects\n")
    write(repo / "old" / "mlproject.toml", FAILING)  # already on main: not the pull request's business
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "base", cwd=repo)
    base = git("rev-parse", "HEAD", cwd=repo)
    git("checkout", "-q", "-b", "proposal", cwd=repo)
    for name, text in changes.items():
        write(repo / name, text)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "proposal", cwd=repo)
    return repo, {"pull_request": {"base": {"sha": base}}}


@pytest.fixture
def policylint(tmp_path: Path) -> Path:
    """The policylint under test: this interpreter running this tree's package."""
    path = tmp_path / "bin" / "policylint"
    write(path, f'#!/bin/sh\nexec "{sys.executable}" -m policylint "$@"\n')
    path.chmod(0o755)
    return path


# --- metadata -----------------------------------------------------------------------------------

def test_action_is_composite_with_documented_inputs_and_outputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["name"] and ACTION["description"]
    assert set(ACTION["inputs"]) >= {"paths", "base-ref", "mode", "fail-on", "args", "sarif-file", "summary", "version",
                                     "plugins"}
    assert ACTION["inputs"]["plugins"]["default"] == ""
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), name
        assert spec.get("required") is False, name  # every input has a working default
    assert ACTION["inputs"]["paths"]["default"] == "."
    assert ACTION["inputs"]["sarif-file"]["default"] == "policylint.sarif"
    assert "github.event.pull_request.base.sha" in ACTION["inputs"]["base-ref"]["default"]
    assert set(ACTION["outputs"]) >= {"sarif-file", "exit-code"}
    assert ACTION["outputs"]["sarif-file"]["value"] == "${{ steps.check.outputs.sarif-file }}"


def test_scripts_take_inputs_from_the_environment_only() -> None:
    """No expression inside a script: a crafted input cannot inject shell code."""
    steps = ACTION["runs"]["steps"]
    assert [s.get("id") for s in steps if "run" in s] == ["install", "check"]
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], step["name"]


def test_base_ref_defaults_to_the_pull_request_base_then_the_push_before() -> None:
    default = ACTION["inputs"]["base-ref"]["default"]
    assert substitute(default, {"github": {"event": {"pull_request": {"base": {"sha": "abc"}}, "before": "x"}}}) == "abc"
    assert substitute(default, {"github": {"event": {"merge_group": {"base_sha": "def"}}}}) == "def"
    assert substitute(default, {"github": {"event": {"before": "123"}}}) == "123"
    assert substitute(default, {"github": {"event": {}}}) == ""


# --- the check step, text reports only (no file formats) ----------------------------------------

PLAIN = {"sarif_file": "", "summary": "false", "annotations": "false"}


def test_failing_manifest_in_the_change_fails_the_step(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"b/mlproject.toml": FAILING, "a/mlproject.toml": PASSING})
    run = run_action(repo, tmp_path, event, policylint, **PLAIN)
    assert run.status == 1, run.log
    assert run.outputs["exit-code"] == "1"
    assert run.outputs["sarif-file"] == ""
    assert re.search(r"^b/mlproject\.toml:\d+:\d+: RAG001 \[error\] ", run.log, re.MULTILINE), run.log
    assert "old/mlproject.toml" not in run.log  # on main already: not in the change
    assert "2 manifests checked: 1 passed, 1 failed" in run.log


def test_passing_change_passes(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"a/mlproject.toml": PASSING, "notes.txt": "x\n"})
    run = run_action(repo, tmp_path, event, policylint, **PLAIN)
    assert run.status == 0, run.log
    assert run.outputs["exit-code"] == "0"
    assert "1 manifest checked: 1 passed, 0 failed" in run.log


def test_change_without_manifests_checks_none(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"notes.txt": "x\n"})
    run = run_action(repo, tmp_path, event, policylint, **PLAIN)
    assert run.status == 0, run.log
    assert "0 manifests checked" in run.log


def test_empty_or_zero_base_checks_every_manifest(tmp_path: Path, policylint: Path) -> None:
    repo, _ = pull_request(tmp_path, {"a/mlproject.toml": PASSING})
    run = run_action(repo, tmp_path, {}, policylint, **PLAIN)  # no pull request, no push: base-ref is empty
    assert run.status == 1, run.log
    assert "2 manifests checked: 1 passed, 1 failed" in run.log
    run = run_action(repo, tmp_path, {"before": "0" * 40}, policylint, **PLAIN)  # the push of a new branch
    assert run.status == 1, run.log
    assert "::notice title=policylint::no base revision" in run.log


def test_push_event_checks_the_pushed_commits(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"a/mlproject.toml": PASSING})
    run = run_action(repo, tmp_path, {"before": event["pull_request"]["base"]["sha"]}, policylint, **PLAIN)
    assert run.status == 0, run.log
    assert "1 manifest checked" in run.log


def test_paths_fail_on_and_args_reach_policylint(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"b/mlproject.toml": FAILING, "c/mlproject.toml": PASSING})
    run = run_action(repo, tmp_path, event, policylint, **PLAIN, paths="c")
    assert run.status == 0, run.log
    assert "1 manifest checked" in run.log
    run = run_action(repo, tmp_path, event, policylint, **PLAIN, args="--exit-zero --quiet")
    assert run.status == 0, run.log
    assert "b/mlproject.toml: proposal fine-tune -> recommend rag (decided by RAG001): fail (errors: RAG001)" in run.log
    assert "c/mlproject.toml" not in run.log  # --quiet: only failing manifests
    run = run_action(repo, tmp_path, event, policylint, **PLAIN, fail_on="bogus")
    assert run.status == 2, run.log  # the value reached policylint, which refused it


def test_unknown_base_is_a_tool_error(tmp_path: Path, policylint: Path) -> None:
    repo, _ = pull_request(tmp_path, {"a/mlproject.toml": PASSING})
    run = run_action(repo, tmp_path, {"pull_request": {"base": {"sha": "f" * 40}}}, policylint, **PLAIN)
    assert run.status == 2, run.log
    assert "unknown git revision" in run.log


def test_shallow_clone_is_deepened_to_find_the_merge_base(tmp_path: Path, policylint: Path) -> None:
    origin, event = pull_request(tmp_path, {"b/mlproject.toml": FAILING})
    clone = tmp_path / "clone"
    git("clone", "-q", "--depth", "1", "--branch", "proposal", origin.resolve().as_uri(), str(clone), cwd=tmp_path)
    assert git("rev-parse", "--is-shallow-repository", cwd=clone) == "true"
    run = run_action(clone, tmp_path, event, policylint, **PLAIN)
    assert run.status == 1, run.log
    assert "1 manifest checked: 0 passed, 1 failed" in run.log
    assert git("rev-parse", "--is-shallow-repository", cwd=clone) == "false"


# --- mode: changed (pull requests) or full (a schedule) -------------------------------------------

def expiring(days: int, rule: str = "RAG001") -> str:
    """A waiver block that runs out ``days`` from the real today (the action has no --today)."""
    expires = (datetime.date.today() + datetime.timedelta(days=days)).isoformat()
    return f'\n[[waivers]]\nrule = "{rule}"\nreason = "launch"\nowner = "search-ml"\nexpires = {expires}\n'


#: Passes, with a waiver of FMT001 (it fires) appended by the tests; the scenario's own waiver removed.
WAIVED = (SCENARIOS / "14-waived.toml").read_text("utf-8").split("[[waivers]]")[0]


def test_mode_defaults_to_full_on_a_schedule_only() -> None:
    default = ACTION["inputs"]["mode"]["default"]
    assert substitute(default, {"github": {"event_name": "schedule"}}) == "full"
    for name in ("pull_request", "push", "merge_group", "workflow_dispatch", None):
        assert substitute(default, {"github": {"event_name": name}}) == "changed", name


def test_mode_changed_checks_only_the_change(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"a/mlproject.toml": PASSING})
    run = run_action(repo, tmp_path, event, policylint, **PLAIN, mode="changed")
    assert run.status == 0, run.log
    assert "1 manifest checked: 1 passed, 0 failed" in run.log
    assert "old/mlproject.toml" not in run.log
    assert "waivers in" not in run.log  # no waiver listing on a pull request


def test_mode_full_checks_every_manifest_and_lists_the_waivers(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"a/mlproject.toml": PASSING, "w/mlproject.toml": WAIVED + expiring(5, "FMT001")})
    run = run_action(repo, tmp_path, event, policylint, mode="full", sarif_file="", annotations="false")
    assert run.status == 1, run.log  # old/ fails, though the pull request did not touch it
    assert run.outputs["exit-code"] == "1"
    assert "policylint: mode full: checking every manifest under ." in run.log
    assert "3 manifests checked: 2 passed, 1 failed" in run.log
    assert re.search(r"^old/mlproject\.toml:\d+:\d+: RAG001 \[error\] ", run.log, re.MULTILINE), run.log
    assert re.search(r"^w/mlproject\.toml:\d+ +FMT001 +search-ml .* expiring soon \(WVR006\) +launch$", run.log, re.MULTILINE), run.log
    assert "1 waiver in 3 manifests" in run.log
    assert "## policylint waivers" in run.summary and "| w/mlproject.toml |" in run.summary
    assert "old/mlproject.toml" in run.summary  # the check's own Markdown report, every manifest


def test_scheduled_run_surfaces_an_expired_waiver_nobody_touched(tmp_path: Path, policylint: Path) -> None:
    """main holds a manifest whose waiver has run out; a pull request elsewhere passes, the nightly run fails."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    write(repo / "lapsed" / "mlproject.toml", WAIVED + expiring(-1, "FMT001"))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "base", cwd=repo)
    base = git("rev-parse", "HEAD", cwd=repo)
    write(repo / "a" / "mlproject.toml", PASSING)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "proposal", cwd=repo)
    run = run_action(repo, tmp_path, {"pull_request": {"base": {"sha": base}}}, policylint, **PLAIN)
    assert run.status == 0, run.log
    assert "lapsed/" not in run.log
    nightly = run_action(repo, tmp_path, {}, policylint, event_name="schedule", **PLAIN)  # mode: its default
    assert nightly.status == 1, nightly.log
    assert re.search(r"^lapsed/mlproject\.toml:\d+:\d+: WVR001 \[error\] ", nightly.log, re.MULTILINE), nightly.log
    assert re.search(r"^lapsed/mlproject\.toml:\d+ .* expired \(WVR001\) ", nightly.log, re.MULTILINE), nightly.log
    # base-ref given (a schedule has none, but a caller may pass one): full ignores it
    pinned = run_action(repo, tmp_path, {}, policylint, event_name="schedule", base_ref=base, **PLAIN)
    assert pinned.status == 1 and "2 manifests checked" in pinned.log, pinned.log


def test_unknown_mode_is_a_tool_error(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"a/mlproject.toml": PASSING})
    run = run_action(repo, tmp_path, event, policylint, **PLAIN, mode="nightly")
    assert run.status == 2, run.log
    assert run.outputs["exit-code"] == "2"
    assert "::error title=policylint::the mode input is changed or full, not 'nightly'" in run.log


# --- the reports: SARIF file, job summary, annotations ------------------------------------------

def test_failing_change_writes_sarif_summary_and_annotations(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"b/mlproject.toml": FAILING, "a/mlproject.toml": PASSING})
    run = run_action(repo, tmp_path, event, policylint)  # every input at its default
    assert run.status == 1, run.log
    assert run.outputs == {"sarif-file": "policylint.sarif", "exit-code": "1"}
    sarif = json.loads((repo / "policylint.sarif").read_text("utf-8"))
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert "RAG001" in {r["ruleId"] for r in results}
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in results for loc in r.get("locations", [])}
    assert "b/mlproject.toml" in uris and not any("old/" in uri for uri in uris)
    lines = run.summary.splitlines()
    assert any(re.match(r"^\|(\s*:?-{3,}:?\s*\|)+\s*$", line) for line in lines), run.summary  # a table
    assert "b/mlproject.toml" in run.summary and "RAG001" in run.summary
    assert "old/mlproject.toml" not in run.summary
    assert re.search(r"^::error file=b/mlproject\.toml[,:]", run.log, re.MULTILINE), run.log


def test_passing_change_writes_reports_and_passes(tmp_path: Path, policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"a/mlproject.toml": PASSING})
    run = run_action(repo, tmp_path, event, policylint, sarif_file="reports/out.sarif")
    assert run.status == 0, run.log
    assert run.outputs == {"sarif-file": "reports/out.sarif", "exit-code": "0"}
    sarif = json.loads((repo / "reports" / "out.sarif").read_text("utf-8"))
    assert sarif["version"] == "2.1.0"
    assert not [r for r in sarif["runs"][0]["results"] if r.get("level") == "error"]
    assert any(line.startswith("|") for line in run.summary.splitlines()), run.summary
    assert "a/mlproject.toml" in run.summary
    assert "::error" not in run.log


# --- the install step, for real -------------------------------------------------------------------

def _left_out(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in LEFT_OUT or n.endswith(".egg-info") or Path(folder, n, "pyvenv.cfg").exists()}


def test_install_step_for_real(tmp_path: Path) -> None:
    """pip-installs a copy of this tree into a virtualenv, with the governance plugin from a folder
    of the workspace (the ``plugins`` input); needs the package index, like pre-commit's tests."""
    (step,) = [s for s in ACTION["runs"]["steps"] if s.get("id") == "install"]
    action_path = tmp_path / "action"
    shutil.copytree(REPO, action_path, ignore=_left_out)
    shutil.copytree(REPO / "plugins" / "policylint-governance", tmp_path / "tools" / "governance", ignore=_left_out)
    python_dir = tmp_path / "python-bin"  # python3 is the interpreter running the tests
    write(python_dir / "python3", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n').chmod(0o755)
    context = {"inputs": {"version": "", "plugins": "./tools/governance"}, "github": {"action_path": str(action_path)},
               "runner": {"temp": str(tmp_path)}}
    output = write(tmp_path / "output", "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "VIRTUAL_ENV"))}
    env.update({name: substitute(value, context) for name, value in step["env"].items()})
    env.update(GITHUB_OUTPUT=str(output), PATH=f"{python_dir}{os.pathsep}{env['PATH']}")
    script = write(tmp_path / "install.sh", step["run"])
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = Path(read_outputs(output)["policylint"])
    assert installed == tmp_path / "policylint-venv" / "bin" / "policylint"
    version = subprocess.run([str(installed), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("policylint ")
    assert proc.stdout.strip().endswith(version.strip())
    assert "governance (policylint-governance 0.1.0)" in proc.stdout  # the step lists what it installed
    # ... and the installed policylint claims [ext.governance]: no unclaimed-table error.
    manifest = write(tmp_path / "governed" / "mlproject.toml", PASSING + '\n[ext.governance]\nrisk_tier = "low"\nbudget_owner = "ml"\n')
    checked = subprocess.run([str(installed), "check", "--today", "2026-12-01", str(manifest)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- docs/ci.md -------------------------------------------------------------------------------------

DOC = (REPO / "docs" / "ci.md").read_text("utf-8")


def test_documented_snippets_use_the_action_as_it_is() -> None:
    """Every YAML snippet parses; the workflow that uses the action passes only its inputs and reads only its outputs."""
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL)]
    uses = [step for block in blocks for job in (block.get("jobs") or {}).values() for step in job["steps"]
            if step.get("uses", "").startswith("OWNER/policylint@")]
    assert uses, "no workflow in docs/ci.md uses the action"
    for step in uses:
        assert set(step.get("with", {})) <= set(ACTION["inputs"])
        assert set(re.findall(rf"steps\.{step['id']}\.outputs\.([\w-]+)", DOC)) <= set(ACTION["outputs"])
    for name in ACTION["inputs"]:
        assert f"| `{name}` |" in DOC, f"input {name} is not documented"


def documented_checks() -> list[str]:
    """The `policylint check ...` commands of docs/ci.md's CI snippets and examples."""
    commands = re.findall(r"(?:run: |- |^)(policylint check [^\n#]*)", DOC, re.MULTILINE)
    return [command.strip() for command in commands]


def _id(number: int, command: str) -> str:
    wanted = re.search(r"--format (\w+)", command)
    return f"{number}-{wanted.group(1) if wanted else 'text'}"


@pytest.mark.parametrize("command", [pytest.param(c, id=_id(n, c)) for n, c in enumerate(documented_checks())])
def test_documented_check_command_runs(command: str, tmp_path: Path, policylint: Path) -> None:
    """Run with bash in a pull request's checkout, the command checks the change (exit 1, not 2)."""
    repo, event = pull_request(tmp_path, {"b/mlproject.toml": FAILING})
    git("update-ref", "refs/remotes/origin/main", "main", cwd=repo)  # as a clone would have it
    base = event["pull_request"]["base"]["sha"]
    summary = write(tmp_path / "summary.md", "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    env.update(BASE=base, CI_MERGE_REQUEST_DIFF_BASE_SHA=base, GITHUB_STEP_SUMMARY=str(summary),
               PATH=f"{policylint.parent}{os.pathsep}{env['PATH']}")
    proc = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    nothing_changed = "--changed-since HEAD" in command  # a clean checkout: no manifest to check
    full = "--changed-since" not in command  # a scheduled run: every manifest, old/ on main too
    assert proc.returncode == (0 if "--exit-zero" in command or nothing_changed else 1), proc.stdout + proc.stderr
    report = re.search(r"-o (\S+)", command)
    if report:
        written = (repo / report.group(1)).read_text("utf-8")
        assert "b/mlproject.toml" in written and ("old/mlproject.toml" in written) == full
    shown = summary.read_text("utf-8") if "GITHUB_STEP_SUMMARY" in command else proc.stdout
    if not nothing_changed:
        assert "b/mlproject.toml" in shown and ("old/" in shown) == full, shown


def test_docs_have_full_runs() -> None:
    """The nightly snippets check every manifest: at least one documented check has no --changed-since."""
    assert [c for c in documented_checks() if "--changed-since" not in c]
    assert "cron:" in DOC and '$CI_PIPELINE_SOURCE == "schedule"' in DOC


def documented_waivers() -> list[str]:
    """The `policylint waivers ...` commands of docs/ci.md's snippets."""
    return [c.strip() for c in re.findall(r"(?:run: |- |^)(policylint waivers\b[^\n#]*)", DOC, re.MULTILINE)]


@pytest.mark.parametrize("command", documented_waivers())
def test_documented_waivers_command_runs(command: str, tmp_path: Path, policylint: Path) -> None:
    """In a checkout whose untouched manifest holds a lapsed waiver, the command lists it: exit 1,
    unless the command lets exit 1 through to the check that follows it."""
    repo, _ = pull_request(tmp_path, {"lapsed/mlproject.toml": WAIVED + expiring(-1, "FMT001"),
                                      "soon/mlproject.toml": WAIVED + expiring(3, "FMT001")})
    summary = write(tmp_path / "summary.md", "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    env.update(GITHUB_STEP_SUMMARY=str(summary), PATH=f"{policylint.parent}{os.pathsep}{env['PATH']}")
    proc = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert proc.returncode == (0 if '[ "$?" -eq 1 ]' in command else 1), proc.stdout + proc.stderr
    shown = summary.read_text("utf-8") if "GITHUB_STEP_SUMMARY" in command else proc.stdout
    assert "lapsed/mlproject.toml" in shown and "expired (WVR001)" in shown, shown
    assert "soon/mlproject.toml" in shown and "expiring soon (WVR006)" in shown, shown
    broken = subprocess.run(["bash", "-c", command], cwd=tmp_path, env={**env, "POLICYLINT_ORG_CONFIG": "/nonexistent"},
                            capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert broken.returncode != 0, broken.stdout + broken.stderr  # a tool error (exit 2) is never let through
    assert broken.stderr.startswith("policylint: error: POLICYLINT_ORG_CONFIG"), broken.stderr


def test_docs_run_every_ci_format() -> None:
    formats = {m.group(1) for c in documented_checks() for m in [re.search(r"--format (\w+)", c)] if m}
    assert formats == {"github", "sarif", "markdown", "junit", "gitlab", "json"}, documented_checks()


def test_docs_embed_the_real_help() -> None:
    embedded = DOC.split("`policylint check --help`:\n\n```\n", 1)[1].split("```", 1)[0]
    env = {**os.environ, "COLUMNS": "80"}
    real = subprocess.run([sys.executable, "-m", "policylint", "check", "--help"], capture_output=True, text=True,
                          env=env, check=True).stdout
    assert embedded == real.replace("python -m policylint", "policylint")


# --- docs/adopting.md -------------------------------------------------------------------------------

ADOPTING = (REPO / "docs" / "adopting.md").read_text("utf-8")
#: The date the adoption guide's commands are run on, unless one gives --today itself.
ADOPTION_DAY = "2026-12-01"


def shell_commands(markdown: str) -> list[tuple[str, int]]:
    """Every command of the ```sh blocks, in order, with the exit status its ``# exit N`` comment
    promises (0 without one). A here-document belongs to the command that opens it."""
    commands: list[tuple[str, int]] = []
    for block in re.findall(r"```sh\n(.*?)```", markdown, re.DOTALL):
        lines = block.splitlines()
        while lines:
            line = lines.pop(0)
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            heredoc = re.search(r"<<-?'?(\w+)'?", line)
            text = line
            if heredoc:
                while lines:
                    body = lines.pop(0)
                    text += "\n" + body
                    if body == heredoc.group(1):
                        break
                else:
                    raise AssertionError(f"unterminated here-document: {line}")
            expected = re.search(r"#\s*exit (\d)\b", line)
            commands.append((text, int(expected.group(1)) if expected else 0))
    return commands


def test_adopting_guide_commands_run_in_order(tmp_path: Path) -> None:
    """The guide's commands, run one after another in a git repository made of examples/, exit as
    their comments say; policylint's date is pinned (check and waivers get --today unless given)."""
    commands = shell_commands(ADOPTING)
    run_names = {m.group(1) for c, _ in commands for m in re.finditer(r"\bpolicylint (\w+)", c)}
    assert {"check", "waivers", "rule", "rules"} <= run_names, commands
    assert any("--changed-since" in c for c, _ in commands) and any(" --format markdown" in c for c, _ in commands)
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples", repo)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "manifests as they were before policylint", cwd=repo)
    git("update-ref", "refs/remotes/origin/main", "main", cwd=repo)  # as a clone would have it
    wrapper = write(tmp_path / "bin" / "policylint", (
        "#!/bin/sh\n"
        'command="$1"\n'
        'case "$command" in check|waivers)\n'
        '  case " $* " in *" --today "*) ;; *) shift; set -- "$command" --today ' + ADOPTION_DAY + ' "$@" ;; esac ;;\n'
        "esac\n"
        f'exec "{sys.executable}" -m policylint "$@"\n'
    ))
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_", "POLICYLINT_"))}
    env.update(PATH=f"{wrapper.parent}{os.pathsep}{env['PATH']}", NO_COLOR="1")
    for command, expected in commands:
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", command], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=TIMEOUT, check=False)
        assert proc.returncode == expected, f"{command}\n-> exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    # what the steps promise, beyond their exit statuses
    listed = subprocess.run(["bash", "-c", "policylint waivers --format json"], cwd=repo, env=env, capture_output=True,
                            text=True, check=True).stdout
    assert [(w["path"], w["rule"], w["status"]) for w in json.loads(listed)["waivers"]] == [
        ("distill-low-volume/mlproject.toml", "DST001", "active"), ("waived/mlproject.toml", "FMT001", "active")]
    assert "| distill-low-volume/mlproject.toml |" in (repo / "waivers.md").read_text("utf-8")
    assert json.loads((repo / "policylint-report.json").read_text("utf-8"))["summary"]["failed"] == 2


def test_adopting_guide_extracts_here_documents_whole() -> None:
    assert shell_commands("```sh\ncat > x <<'EOF'\na # exit 3\nEOF\nfalse  # exit 1\n```\n") == [
        ("cat > x <<'EOF'\na # exit 3\nEOF", 0), ("false  # exit 1", 1)]
