"""The baseline (check --write-baseline / --baseline / the ``baseline`` key), check --no-waivers,
and SARIF's --sarif-suppressed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import SCENARIOS
from test_layers import run  # the real command, without the caller's org config or debug
from policylint import baseline
from policylint.findings import Decision, Finding, ManifestResult, RuleInfo

TODAY = "2026-12-01"
#: Scenarios that fail on a waivable rule (baselined) and on a non-waivable one (never).
WAIVABLE = {"04-already-good-enough": "PRM002", "05-format-low-volume": "FMT001", "08-distill-low-volume": "DST001"}
NON_WAIVABLE = {"02-knowledge-via-fine-tuning": "RAG001", "03-checklist-skipped": "PRM001", "06-small-dataset": "DAT001"}


def check(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run("check", "--today", TODAY, *args, cwd=cwd, env=env)


def report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git work tree with manifests that fail on waivable rules only."""
    (tmp_path / ".git").mkdir()
    for name in WAIVABLE:
        (tmp_path / name).mkdir()
        shutil.copy(SCENARIOS / f"{name}.toml", tmp_path / name / "mlproject.toml")
    return tmp_path


def findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for m in data["manifests"] for f in m["findings"]]


def test_a_baseline_makes_the_next_run_pass_and_marks_its_findings(repo: Path) -> None:
    assert check(repo, ".").returncode == 1
    written = check(repo, ".", "--write-baseline", "policylint-baseline.toml")
    assert "wrote 3 findings to the baseline policylint-baseline.toml" in written.stderr
    proc = check(repo, ".", "--baseline", "policylint-baseline.toml", "--format", "json")
    assert proc.returncode == 0, proc.stdout
    data = report(proc)
    accepted = {(f["rule"], f.get("baselined")) for f in findings(data) if f["severity"] == "error"}
    assert accepted == {(rule, True) for rule in WAIVABLE.values()}
    assert all("baselined" not in f for f in findings(data) if f["severity"] == "warning")  # only when true
    assert data["baseline"] == {"file": "policylint-baseline.toml", "stale": []}
    text = check(repo, ".", "--baseline", "policylint-baseline.toml").stdout
    assert "FMT001 [baselined]" in text and "note: 3 findings accepted by the baseline policylint-baseline.toml" in text


def test_an_unrelated_edit_keeps_the_baseline_a_changed_value_breaks_it(repo: Path) -> None:
    check(repo, ".", "--write-baseline", "base.toml")
    manifest = repo / "05-format-low-volume" / "mlproject.toml"
    text = manifest.read_text("utf-8")
    manifest.write_text("# a comment moves every line\n\n" + text.replace('name = "', 'name = "renamed-'), "utf-8")
    assert check(repo, ".", "--baseline", "base.toml").returncode == 0
    manifest.write_text(text.replace("requests_per_day = 20_000", "requests_per_day = 30_000"), "utf-8")
    assert "requests_per_day = 30_000" in manifest.read_text("utf-8")
    proc = check(repo, ".", "--baseline", "base.toml", "--format", "json")
    assert proc.returncode == 1
    data = report(proc)
    (fmt,) = [f for f in findings(data) if f["rule"] == "FMT001"]
    assert "baselined" not in fmt
    assert [s.split(": ")[0] for s in data["baseline"]["stale"]] == ["05-format-low-volume/mlproject.toml"]


def test_a_new_failing_manifest_fails(repo: Path) -> None:
    check(repo, ".", "--write-baseline", "base.toml")
    (repo / "new").mkdir()
    shutil.copy(SCENARIOS / "11-behavior.toml", repo / "new" / "mlproject.toml")
    proc = check(repo, ".", "--baseline", "base.toml")
    assert proc.returncode == 1
    assert "new/mlproject.toml: proposal fine-tune -> recommend prompting (decided by BEH001): fail (errors: BEH001)" in proc.stdout


def test_non_waivable_findings_are_never_baselined(repo: Path) -> None:
    for name in NON_WAIVABLE:
        (repo / name).mkdir()
        shutil.copy(SCENARIOS / f"{name}.toml", repo / name / "mlproject.toml")
    written = check(repo, ".", "--write-baseline", "base.toml")
    for name, rule in NON_WAIVABLE.items():
        assert f"{rule} in {name}/mlproject.toml (not waivable)" in written.stderr
    text = (repo / "base.toml").read_text("utf-8")
    assert not any(f'rule = "{rule}"' in text for rule in NON_WAIVABLE.values())
    assert check(repo, ".", "--baseline", "base.toml").returncode == 1
    # An entry of a non-waivable rule added by hand is ignored, and reported.
    entry = baseline.Entry("RAG001", "02-knowledge-via-fine-tuning/mlproject.toml", "proposal.reasons", '["knowledge"]', "")
    (repo / "base.toml").write_text(text + f'\n[[finding]]\nrule = "{entry.rule}"\npath = "{entry.path}"\n'
                                    f"key = \"{entry.key}\"\nvalue = '{entry.value}'\nfingerprint = \"\"\n", "utf-8")
    proc = check(repo, ".", "--baseline", "base.toml", "--format", "json")
    data = report(proc)
    assert proc.returncode == 1
    (rag,) = [f for f in findings(data) if f["rule"] == "RAG001"]
    assert "baselined" not in rag
    assert data["baseline"]["not_applied"] == [entry.describe() + " (not waivable)"]


def test_stale_entries_are_reported_never_an_error(repo: Path) -> None:
    check(repo, ".", "--write-baseline", "base.toml")
    shutil.rmtree(repo / "08-distill-low-volume")
    proc = check(repo, ".", "--baseline", "base.toml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.splitlines()[-2]
    assert last.startswith("warning: 1 stale entry in the baseline base.toml"), proc.stdout
    assert "08-distill-low-volume/mlproject.toml: DST001 at volume" in last


def test_the_file_is_sorted_deterministic_and_records_versions(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    check(repo, ".", "--write-baseline", "one.toml")
    check(repo, ".", "--write-baseline", "two.toml", "-j", "2")
    one = (repo / "one.toml").read_text("utf-8")
    assert one == (repo / "two.toml").read_text("utf-8")
    from policylint import toml
    from policylint._version import __version__

    data = toml.loads(one)
    assert data["baseline"] == {"policylint": __version__, "packs": {"builtin": "2"}}
    assert 'packs = { builtin = "2" }' in one
    entries = data["finding"]
    assert [(e["path"], e["rule"]) for e in entries] == sorted((e["path"], e["rule"]) for e in entries)
    for e in entries:
        assert e["fingerprint"] == baseline.fingerprint(e["rule"], e["path"], e["key"], e["value"])
    # The path is relative to the repository root, wherever the file is written or the run starts.
    (repo / "sub").mkdir()
    check(repo / "05-format-low-volume", ".", "--write-baseline", str(repo / "sub" / "b.toml"))
    assert 'path = "05-format-low-volume/mlproject.toml"' in (repo / "sub" / "b.toml").read_text("utf-8")


def test_fingerprint_is_value_based() -> None:
    data = {"volume": {"requests_per_day": 20_000}, "waivers": [{"rule": "FMT001"}]}
    assert baseline.value_at(data, "volume") == {"requests_per_day": 20_000}
    assert baseline.value_at(data, "waivers[0].rule") == "FMT001"
    assert baseline.value_at(data, "missing.key") is None
    assert baseline.canonical({"b": 1, "a": [2]}) == '{"a":[2],"b":1}'
    one = baseline.fingerprint("FMT001", "a/mlproject.toml", "volume", baseline.canonical(data["volume"]))
    assert one != baseline.fingerprint("FMT001", "a/mlproject.toml", "volume", baseline.canonical({"requests_per_day": 1}))
    assert len(one) == 32


def test_apply_recomputes_the_verdict_in_process(tmp_path: Path) -> None:
    manifest = tmp_path / "m.toml"
    manifest.write_text("[volume]\nrequests_per_day = 5\n", "utf-8")
    finding = Finding("FMT001", "format-at-low-volume", "error", "low", "volume", 1, 1)
    result = ManifestResult(str(manifest), Decision("fine-tune", "error-handling", "fail"), (finding,))
    rules = {"FMT001": RuleInfo("FMT001", "format-at-low-volume", "", "error", True, "")}
    entries, left_out = baseline.entries_of(result, rules, tmp_path / "b.toml")
    assert left_out == [] and len(entries) == 1
    (tmp_path / "b.toml").write_text(baseline.render(entries, {"builtin": "2"}, "0"), "utf-8")
    (out,), (outcome,) = baseline.apply([result], {result.path: tmp_path / "b.toml"}, {result.path: rules}, {result.path: "error"})
    assert out.passed and out.findings[0].baselined and outcome.stale == []


# --- configuration -------------------------------------------------------------------------------


def test_the_baseline_key_applies_and_shows_in_config(repo: Path) -> None:
    check(repo, ".", "--write-baseline", "base.toml")
    (repo / "policylint.toml").write_text('baseline = "base.toml"\n', "utf-8")
    proc = check(repo, ".", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = report(proc)
    assert data["settings"]["baseline"] == {"value": str(repo / "base.toml"), "origin": f"{repo / 'policylint.toml'}:1"}
    shown = run("config", ".", cwd=repo).stdout
    assert f'baseline = {repo / "base.toml"}' in shown and "policylint.toml:1" in shown
    # --baseline naming the same file is fine; another one is refused
    assert check(repo, ".", "--baseline", "base.toml").returncode == 0
    other = check(repo, ".", "--baseline", "other.toml")
    assert other.returncode == 2 and "only the organisation configuration may point it elsewhere" in other.stderr


def test_a_repository_file_may_not_point_the_baseline_elsewhere_the_org_may(repo: Path) -> None:
    check(repo, ".", "--write-baseline", "base.toml")
    (repo / "policylint.toml").write_text('baseline = "base.toml"\n', "utf-8")
    team = repo / "05-format-low-volume"
    (team / "policylint.toml").write_text('# team\nbaseline = "mine.toml"\n', "utf-8")
    proc = check(repo, ".")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (
        f"policylint: error: {team / 'policylint.toml'}:2:1: baseline: pointing it to {team / 'mine.toml'} would loosen "
        f"the gate: the baseline in force is {repo / 'base.toml'} (set by {repo / 'policylint.toml'}:1); only the "
        "organisation configuration may point it elsewhere or remove it"
    )
    (team / "policylint.toml").write_text('baseline = ""\n', "utf-8")
    assert "removing it would loosen the gate" in check(repo, ".").stderr
    (team / "policylint.toml").unlink()
    org = repo.parent / "org.toml"
    org.write_text('baseline = ""\n', "utf-8")  # the organisation may remove it; the repository sets it again below it
    assert check(repo, ".", "--org-config", str(org)).returncode == 0
    org.write_text('baseline = "elsewhere.toml"\n', "utf-8")
    (repo / "policylint.toml").write_text("fail-on = \"error\"\n", "utf-8")
    proc = check(repo, ".", "--org-config", str(org))
    assert proc.returncode == 2 and "baseline: cannot read" in proc.stderr  # the org's file is applied, and missing


# --- --no-waivers --------------------------------------------------------------------------------


def test_no_waivers_fails_a_waived_manifest_and_says_so(tmp_path: Path) -> None:
    shutil.copy(SCENARIOS / "14-waived.toml", tmp_path / "mlproject.toml")
    assert check(tmp_path, ".").returncode == 0
    proc = check(tmp_path, ".", "--no-waivers")
    assert proc.returncode == 1
    assert "FMT001 [error]" in proc.stdout and "[waived]" not in proc.stdout
    assert "note: waivers ignored (--no-waivers)" in proc.stdout
    data = report(check(tmp_path, ".", "--no-waivers", "--format", "json"))
    assert data["waivers_ignored"] is True
    (fmt,) = [f for f in findings(data) if f["rule"] == "FMT001"]
    assert fmt["waived"] is False and "waiver" not in fmt
    assert not any(f["rule"].startswith("WVR") for f in findings(data))
    assert "waivers_ignored" not in report(check(tmp_path, ".", "--format", "json"))


# --- SARIF ---------------------------------------------------------------------------------------


def test_sarif_marks_baselined_results_and_omit_drops_suppressed_ones(repo: Path) -> None:
    check(repo, ".", "--write-baseline", "base.toml")
    (repo / "14").mkdir()
    shutil.copy(SCENARIOS / "14-waived.toml", repo / "14" / "mlproject.toml")
    included = report(check(repo, ".", "--baseline", "base.toml", "--format", "sarif"))["runs"][0]
    suppressed = [r for r in included["results"] if "suppressions" in r]
    assert {r["ruleId"] for r in suppressed} == {*WAIVABLE.values(), "FMT001"}
    assert {"kind": "external", "status": "accepted", "justification": "in the baseline base.toml"} in [
        r["suppressions"][0] for r in suppressed
    ]
    omitted = report(check(repo, ".", "--baseline", "base.toml", "--format", "sarif", "--sarif-suppressed", "omit"))["runs"][0]
    assert all("suppressions" not in r for r in omitted["results"])
    assert len(omitted["results"]) == len(included["results"]) - len(suppressed)
    props = omitted["properties"]["policylint"]
    assert props["manifests"] == included["properties"]["policylint"]["manifests"]  # the decisions stay
    assert props["suppressed"] == "omit"


def test_every_format_marks_a_baselined_finding(repo: Path) -> None:
    check(repo, ".", "--write-baseline", "base.toml")
    out = {fmt: check(repo, ".", "--baseline", "base.toml", "--format", fmt) for fmt in ("markdown", "junit", "github", "gitlab")}
    assert all(proc.returncode == 0 for proc in out.values()), {k: p.stderr for k, p in out.items()}
    assert "☑️ **FMT001 format-volume-too-low** (baselined)" in out["markdown"].stdout
    assert "Accepted: in the baseline." in out["markdown"].stdout
    assert "3 findings accepted by the baseline base.toml" in out["markdown"].stdout
    assert '<skipped message="baselined: in the baseline"' in out["junit"].stdout
    assert "::notice file=05-format-low-volume/mlproject.toml" in out["github"].stdout
    assert "(baselined: in the baseline)" in out["github"].stdout
    issues = json.loads(out["gitlab"].stdout)
    assert {i["check_name"] for i in issues if i["description"].endswith(" [baselined]")} == set(WAIVABLE.values())
