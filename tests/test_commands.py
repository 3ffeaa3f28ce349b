"""The describing commands, through the real command line: ``rules``/``rule``, ``schema``,
``test`` and ``docs`` (policylint/commands/).

A plugin is the example governance plugin, made importable without building it: its source
folder on ``PYTHONPATH`` and a ``*.dist-info`` with its entry point, as an installed wheel
would leave them (tests/test_plugins.py installs the real wheels).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, heavy_modules_after

from policylint.schema_export import manifest_json_schema_text

PLUGIN = REPO / "plugins" / "policylint-governance"
POLICIES = REPO / "policies"
GOVERNANCE = "plugin 'governance' (policylint-governance 0.1.0)"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("POLICYLINT_DEBUG", "POLICYLINT_ORG_CONFIG")}
    return subprocess.run([sys.executable, "-m", "policylint", *args], capture_output=True, text=True, cwd=cwd,
                          env={**base, **(env or {})}, check=False)


@pytest.fixture(scope="module")
def governance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a run with the governance plugin installed."""
    site = tmp_path_factory.mktemp("site")
    info = site / "policylint_governance-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: policylint-governance\nVersion: 0.1.0\n", "utf-8")
    (info / "entry_points.txt").write_text("[policylint]\ngovernance = policylint_governance.plugin\n", "utf-8")
    paths = [str(site), str(PLUGIN), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths)}


# =============================================================================================
# rules and rule
# =============================================================================================


def test_rules_lists_every_rule_with_its_origin(tmp_path: Path) -> None:
    proc = run("rules", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "severity", "waivable", "recommends", "since", "pack", "or", "plugin"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert len(rows) == 31 + 3 + 6  # the built-in pack, MAN001-MAN003, WVR001-WVR006
    assert rows["PRM001"] == ["PRM001", "prompting-checklist-incomplete", "error", "no", "prompting", "1", "pack", "builtin"]
    assert rows["PRM003"][3:] == ["yes", "-", "1", "pack", "builtin"]
    assert rows["PRM005"][3:] == ["yes", "prompting", "2", "pack", "builtin"]
    assert rows["MAN001"][2:] == ["error", "no", "-", "-", "built", "into", "policylint"]
    assert rows["WVR005"][2:] == ["warning", "no", "-", "-", "built", "into", "policylint"]
    assert list(rows) == sorted(rows)


def test_rules_json(tmp_path: Path) -> None:
    proc = run("rules", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0
    records = {r["id"]: r for r in json.loads(proc.stdout)}
    assert records["RAG001"] == {
        "id": "RAG001", "name": "fine-tuning-for-knowledge", "title": "Fine-tuning proposed to supply missing knowledge",
        "severity": "error", "waivable": False, "recommends": "rag", "applies_to": "fine-tuning", "ignored": False,
        "since": "1", "preview": False, "built_in": False, "pack": "builtin", "plugin": records["RAG001"]["plugin"],
    }
    assert records["RAG001"]["plugin"].startswith("plugin 'policylint.builtin' (policylint ")
    assert records["WVR001"]["built_in"] and records["WVR001"]["pack"] is None


@pytest.mark.parametrize("query", ["PRM002", "prm002", "Prm002", " prm002", "prompting-meets-bar", "PROMPTING-MEETS-BAR"])
def test_rule_is_found_by_id_in_any_case_and_by_name(query: str, tmp_path: Path) -> None:
    proc = run("rule", query, cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == run("rule", "PRM002", cwd=tmp_path).stdout
    assert proc.stdout.startswith("PRM002 (prompting-meets-bar): Prompting already meets the quality bar\n")


@pytest.mark.parametrize("query", ["PRM", "prm"])
def test_rule_with_a_family_prefix_lists_the_family(query: str, tmp_path: Path) -> None:
    proc = run("rule", query, cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    every = [line.split() for line in run("rules", cwd=tmp_path).stdout.splitlines()]
    assert [line.split() for line in proc.stdout.splitlines()] == [every[0], *(row for row in every if row[0].startswith("PRM"))]
    assert len(proc.stdout.splitlines()) == 1 + 5
    data = json.loads(run("rule", query, "--format", "json", cwd=tmp_path).stdout)
    assert [r["id"] for r in data] == ["PRM001", "PRM002", "PRM003", "PRM004", "PRM005"]


@pytest.mark.parametrize(("query", "message"), [
    ("FMT01", "unknown rule 'FMT01' (did you mean 'FMT001'?)"),
    ("prm01", "unknown rule 'prm01' (did you mean 'PRM001'?)"),
    ("prompting-meets", "unknown rule 'prompting-meets' (did you mean 'prompting-meets-bar'?)"),
    ("XYZ", "unknown rule 'XYZ'"),
    ("PR", "unknown rule 'PR'"),  # a prefix must be a whole family
])
def test_unknown_rule_exits_2_with_a_suggestion(query: str, message: str, tmp_path: Path) -> None:
    proc = run("rule", query, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", f"policylint: error: {message}\n")


def test_rule_shows_where_a_built_in_rule_comes_from(tmp_path: Path) -> None:
    text = run("rule", "man001", cwd=tmp_path).stdout
    assert "\n  origin      built into policylint\n" in text
    data = json.loads(run("rule", "WVR001", "--format", "json", cwd=tmp_path).stdout)
    assert (data[0]["built_in"], data[0]["plugin"]) == (True, None)


def test_rule_finds_an_alias_of_a_policy_paths_pack(tmp_path: Path) -> None:
    pack = tmp_path / "acme"
    pack.mkdir()
    (pack / "pack.toml").write_text('[pack]\nname = "acme"\nversion = "1"\ndescription = "Acme."\n', "utf-8")
    policy = (POLICIES / "FTF001.toml").read_text("utf-8").replace('id = "FTF001"', 'id = "ACM001"\naliases = ["old-name"]')
    (pack / "ACM001.toml").write_text(policy.replace('name = "frontier-general-tuning"', 'name = "acme-general"'), "utf-8")
    (tmp_path / "policylint.toml").write_text('policy-paths = ["acme"]\n', "utf-8")
    for query in ("acm001", "old-name", "OLD-NAME", "acme-general", "ACM"):
        proc = run("rule", query, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "ACM001" in proc.stdout
    assert "pack acme" in run("rules", cwd=tmp_path).stdout


def test_rule_and_rules_show_the_plugin_of_a_python_check(governance: dict[str, str], tmp_path: Path) -> None:
    text = run("rule", "gov100", cwd=tmp_path, env=governance).stdout
    assert text.startswith("GOV100 (serving-cost-over-budget): ")
    assert f"\n  origin      {GOVERNANCE} (a Python check)\n" in text
    data = json.loads(run("rule", "GOV100", "--format", "json", cwd=tmp_path, env=governance).stdout)
    assert data[0]["plugin"] == GOVERNANCE
    rows = {line.split()[0]: line for line in run("rules", cwd=tmp_path, env=governance).stdout.splitlines()}
    assert rows["GOV100"].endswith(f"  {GOVERNANCE}")
    assert rows["GOV001"].endswith("  pack governance")
    family = run("rule", "gov", cwd=tmp_path, env=governance).stdout.splitlines()
    assert [line.split()[0] for line in family[1:]] == ["GOV001", "GOV002", "GOV003", "GOV100"]


# =============================================================================================
# schema
# =============================================================================================


def test_schema_is_the_generated_json_schema(tmp_path: Path) -> None:
    proc = run("schema", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == manifest_json_schema_text()
    schema = json.loads(proc.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "governance" not in schema["properties"]["ext"]["properties"]


def test_schema_output_file(tmp_path: Path) -> None:
    proc = run("schema", "--output", "mlproject.schema.json", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert (tmp_path / "mlproject.schema.json").read_bytes() == manifest_json_schema_text().encode("utf-8")


def test_schema_output_that_cannot_be_written_exits_2(tmp_path: Path) -> None:
    proc = run("schema", "--output", str(tmp_path / "missing" / "schema.json"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("policylint: error: --output: cannot write ")


def test_schema_includes_the_tables_of_loaded_plugins(governance: dict[str, str], tmp_path: Path) -> None:
    sys.path.insert(0, str(PLUGIN))
    try:
        from policylint_governance.table import GovernanceTable
    finally:
        sys.path.remove(str(PLUGIN))
    proc = run("schema", cwd=tmp_path, env=governance)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == manifest_json_schema_text({"governance": GovernanceTable})
    table = json.loads(proc.stdout)["properties"]["ext"]["properties"]["governance"]
    assert "budget_owner" in table["properties"]
    without = run("schema", "--disable-plugin", "governance", cwd=tmp_path, env=governance)
    assert without.stdout == manifest_json_schema_text()


# =============================================================================================
# test
# =============================================================================================


def test_the_built_in_pack_passes_with_full_coverage(tmp_path: Path) -> None:
    proc = run("test", str(POLICIES), "--fail-under", "100", "-q", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"pack 'builtin' \(.*policies\): [0-9]+ cases, coverage 62/62 \(100\.0%\)", lines[0])
    assert re.fullmatch(r"([0-9]+) cases: \1 passed, 0 failed; coverage 100\.0% \(62 of 62: each policy firing and silent\)",
                        lines[-1])


def test_without_pack_dirs_every_offered_pack_and_policy_paths_pack_is_tested(governance: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "pack.toml").write_text('[pack]\nname = "mine"\nversion = "1"\ndescription = "Ours."\n', "utf-8")
    (tmp_path / "policylint.toml").write_text('policy-paths = ["mine"]\n', "utf-8")
    proc = run("test", "--format", "json", cwd=tmp_path, env=governance)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert sorted(p["name"] for p in data["packs"]) == ["builtin", "governance", "mine"]
    assert data["summary"]["failed"] == 0 and data["summary"]["coverage_percent"] == 100.0


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    return copy


def test_a_broken_case_is_reported_and_exits_1(pack_copy: Path, tmp_path: Path) -> None:
    cases = pack_copy / "tests" / "advisory.toml"
    text = cases.read_text("utf-8")
    cases.write_text(text.replace('manifest = { downstream = { retry_logic = false } }\nfires = ["FMT004"]',
                                  'manifest = { downstream = { retry_logic = false } }\nfires = []', 1), "utf-8")
    proc = run("test", "policies", "-q", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"policies/tests/advisory\.toml:[0-9]+:1: FAIL FMT004 fires for machine-parsed output without retry logic",
                        lines[0].replace(os.sep, "/"))
    assert lines[1] == "    fires: expected [], got [FMT004]"
    assert lines[2].startswith("      unexpected FMT004: outputs are parsed by programs")
    assert re.search(r" [0-9]+ passed, 1 failed; coverage ", lines[-1])


def test_an_uncovered_policy_is_reported_and_fails_under(pack_copy: Path, tmp_path: Path) -> None:
    policy = (pack_copy / "FTF001.toml").read_text("utf-8")
    policy = policy.replace('id = "FTF001"', 'id = "FTF002"').replace('name = "frontier-general-tuning"', 'name = "frontier-tuning-2"')
    policy = policy.replace("proposal.model_tier == 'frontier'", "proposal.model_tier == 'frontier' and project.name == 'never'")
    (pack_copy / "FTF002.toml").write_text(policy, "utf-8")
    proc = run("test", "policies", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # a gap alone does not fail the run
    assert "    FTF002: no case makes it fire\n" in proc.stdout
    assert "coverage 63/64 (98.4%)" in proc.stdout
    proc = run("test", "policies", "-q", "--fail-under", "100", cwd=tmp_path)
    assert proc.returncode == 1
    assert "    FTF002: no case makes it fire\n" in proc.stdout
    assert proc.stderr == "policylint: coverage 98.4% is under --fail-under 100%\n"
    assert run("test", "policies", "-q", "--fail-under", "98", cwd=tmp_path).returncode == 0


def test_a_case_file_error_exits_2_with_its_location(pack_copy: Path, tmp_path: Path) -> None:
    cases = pack_copy / "tests" / "advisory.toml"
    cases.write_text(cases.read_text("utf-8").replace('recommendation = "prompting"', 'recomendation = "prompting"', 1), "utf-8")
    proc = run("test", "policies", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert re.fullmatch(r"policylint: error: policies/tests/advisory\.toml:[0-9]+:1: case\[1\]\.recomendation: "
                        r"unknown key \(did you mean 'recommendation'\?\)\n", proc.stderr.replace(os.sep, "/"))
    assert "Traceback" not in proc.stderr


def test_a_missing_pack_folder_exits_2(tmp_path: Path) -> None:
    proc = run("test", "nowhere", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith("policylint: error: ") and "nowhere" in proc.stderr


# =============================================================================================
# docs
# =============================================================================================

START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def _block(text: str) -> str:
    return text[text.index(START): text.index(END) + len(END)]


def test_readme_rule_table_is_the_generated_one(tmp_path: Path) -> None:
    proc = run("docs", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    readme = (REPO / "README.md").read_text("utf-8")
    assert _block(readme) == _block(proc.stdout), (
        "README.md's rule table differs from `policylint docs`; regenerate it from the repository root with "
        "`python -m policylint.commands.docs README.md`"
    )


def test_docs_reference(tmp_path: Path) -> None:
    text = run("docs", cwd=tmp_path).stdout
    table = _block(text).splitlines()
    assert table[2:4] == ["| id | name | applies | severity | waivable | recommends | fires when |", "|---|---|---|---|---|---|---|"]
    assert table[4] == "| RAG001 | fine-tuning-for-knowledge | FT | error | no | rag | Fine-tuning proposed to supply missing knowledge |"
    assert len([row for row in table if row.startswith("| ") and row[2:5].isupper()]) == 31
    assert "| MAN001 | invalid-toml | error | The file is not valid TOML or not UTF-8 text. |" in text
    row = next(line for line in text.splitlines() if line.startswith("| `quality_bar` |"))
    assert row.startswith("| `quality_bar` | 0.85 | article | higher | Best prompting score ")


def test_docs_shows_configured_values_and_plugin_rules(governance: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "policylint.toml").write_text("params = { format_volume_per_day = 150_000 }\n", "utf-8")
    proc = run("docs", "-o", "reference.md", cwd=tmp_path, env=governance)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    text = (tmp_path / "reference.md").read_text("utf-8")
    assert "| `format_volume_per_day` | 150,000 | article | higher |" in text
    assert "| `quality_bar` | 0.88 |" in text  # the plugin's default
    assert "| GOV100 | serving-cost-over-budget | any | warning | yes | - |" in text
    assert f"| {GOVERNANCE} | GOV100 |" in text


# =============================================================================================
# start-up cost
# =============================================================================================


@pytest.mark.parametrize("args", [["--help"], ["rules", "--help"], ["rule", "--help"], ["schema", "--help"],
                                  ["test", "--help"], ["docs", "--help"]])
def test_help_imports_neither_pydantic_nor_pluggy(args: list[str]) -> None:
    assert heavy_modules_after(*args) == []
