"""The gate's trust boundary (configuration.md): layers, tighten-only, per-manifest discovery.

Every row of the spec's tighten/loosen table is tried from a repository file, a nested team
file and a flag (each refused at its key, saying what is in force and who set it), and from
the organisation's file (allowed, and then in the JSON report with its origin). The command
runs for real, with this checkout's package first on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, TODAY
from test_config import scenario, write

BUILT_IN = "(set by the built-in pack); only the organisation configuration may loosen it"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("POLICYLINT_ORG_CONFIG", "POLICYLINT_DEBUG")}
    environ["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "policylint", *args], capture_output=True, text=True, cwd=cwd,
                          env={**environ, **(env or {})}, check=False)


def check(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run("check", "--format", "json", "--today", TODAY.isoformat(), *args, cwd=cwd, env=env)


def refused(proc: subprocess.CompletedProcess[str], where: str, message: str) -> None:
    """Exit 2, nothing on stdout, and exactly ``where: message`` on stderr."""
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert proc.stderr == f"policylint: error: {where}: {message}\n"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git work tree (discovery looks for the ``.git`` folder) with a distill manifest in svc/."""
    root = tmp_path.resolve() / "repo"
    (root / ".git").mkdir(parents=True)
    write(root / "svc" / "mlproject.toml", scenario("08"))  # DST001 (error)
    return root


# ------------------------------------------------------------------ the table, row by row
#
# (id, file text, (line, column, key) in that text, flag arguments or None, what the flag error
#  is located at, the refusal after the location, the JSON settings entry once the organisation
#  sets the same text: (section, name or None, expected entry without its origin), origin line)

ROWS = [
    pytest.param("[params]\nquality_bar = 0.8\n", (2, 1, "params.quality_bar"),
                 ["--param", "quality_bar=0.8"], "--param quality_bar=0.8", f"0.8 would loosen 0.85 {BUILT_IN}",
                 ("params", "quality_bar", {"value": 0.8}), 2, id="param-stricter-higher"),
    pytest.param("params = { max_quality_delta = 0.05 }\n", (1, 12, "params.max_quality_delta"),
                 ["--param", "max_quality_delta=0.05"], "--param max_quality_delta=0.05", f"0.05 would loosen 0.03 {BUILT_IN}",
                 ("params", "max_quality_delta", {"value": 0.05}), 1, id="param-stricter-lower"),
    pytest.param('severity = { DST001 = "warning" }\n', (1, 14, "severity.DST001"), None, None,
                 f"warning would loosen error {BUILT_IN}", ("severity", "DST001", {"value": "warning"}), 1, id="severity"),
    pytest.param('ignore = ["DST001"]\n', (1, 1, "ignore"), ["--ignore", "DST001"], "--ignore",
                 "turning off DST001 would loosen the gate: its severity is error (set by the built-in pack); "
                 "only the organisation configuration may turn off an error", ("ignored", "DST001", {}), 1, id="ignore"),
    pytest.param('select = ["RAG", "DST"]\n', (1, 1, "select"), ["--select", "RAG,DST"], "--select",
                 "turning off BEH001 would loosen the gate: its severity is error (set by the built-in pack); "
                 "only the organisation configuration may turn off an error", ("ignored", "BEH001", {}), 1, id="select"),
    pytest.param('ignore = ["RAG001"]\n', (1, 1, "ignore"), ["--ignore", "RAG001"], "--ignore",
                 "turning off RAG001 would loosen the gate: it is not waivable (set by the built-in pack); "
                 "no repository configuration or flag may turn it off or downgrade it", ("ignored", "RAG001", {}), 1,
                 id="non-waivable-rule"),
    pytest.param("max-waiver-days = 365\n", (1, 1, "max-waiver-days"), None, None, f"365 would loosen 180 {BUILT_IN}",
                 ("max-waiver-days", None, {"value": 365}), 1, id="max-waiver-days"),
    pytest.param('disable-plugins = ["policylint.reports.sarif"]\n', (1, 1, "disable-plugins"),
                 ["--disable-plugin", "policylint.reports.sarif"], "--disable-plugin",
                 "disabling plugin 'policylint.reports.sarif' would loosen the gate; "
                 "only the organisation configuration may disable a plugin",
                 ("disabled-plugins", "policylint.reports.sarif", {}), 1, id="disable-plugins"),
]


@pytest.mark.parametrize(("text", "at", "flag", "flag_at", "message", "entry", "origin_line"), ROWS)
def test_a_repository_file_may_not_loosen(repo: Path, text: str, at: tuple, flag: list | None, flag_at: str | None,
                                          message: str, entry: tuple, origin_line: int) -> None:
    config = write(repo / "policylint.toml", text)
    line, column, key = at
    refused(check(repo), f"{config}:{line}:{column}: {key}", message)


@pytest.mark.parametrize(("text", "at", "flag", "flag_at", "message", "entry", "origin_line"), ROWS)
def test_a_nested_team_file_may_not_loosen(repo: Path, text: str, at: tuple, flag: list | None, flag_at: str | None,
                                           message: str, entry: tuple, origin_line: int) -> None:
    # The root tightens something else: the team file is a second step, refused on its own.
    tighter = "max-waiver-days = 90" if "max-waiver" not in text else 'fail-on = "warning"'
    write(repo / "pyproject.toml", f'[project]\nname = "x"\n\n[tool.policylint]\n{tighter}\n')
    team = write(repo / "svc" / "policylint.toml", text)
    line, column, key = at
    refused(check(repo), f"{team}:{line}:{column}: {key}", message)
    refused(check(repo / "svc"), f"{team}:{line}:{column}: {key}", message)


@pytest.mark.parametrize(("text", "at", "flag", "flag_at", "message", "entry", "origin_line"),
                         [row for row in ROWS if row.values[2] is not None])  # severity, max-waiver-days: no flag
def test_a_flag_may_not_loosen(repo: Path, text: str, at: tuple, flag: list, flag_at: str,
                               message: str, entry: tuple, origin_line: int) -> None:
    refused(check(repo, *flag), flag_at, message)


@pytest.mark.parametrize(("text", "at", "flag", "flag_at", "message", "entry", "origin_line"), ROWS)
def test_the_organisation_may_loosen_and_the_report_says_so(
    repo: Path, tmp_path: Path, text: str, at: tuple, flag: list | None, flag_at: str | None, message: str,
    entry: tuple, origin_line: int,
) -> None:
    org = write(tmp_path / "platform" / "org.toml", text)
    for how in ({"env": {"POLICYLINT_ORG_CONFIG": str(org)}}, {"args": ("--org-config", str(org))}):
        proc = check(repo, *how.get("args", ()), env=how.get("env"))
        assert proc.returncode in (0, 1), proc.stderr
        settings = json.loads(proc.stdout)["settings"]
        section, name, expected = entry
        got = settings[section] if name is None else settings[section][name]
        assert got == {**expected, "origin": f"org config {org}:{origin_line}"}


def test_fail_on_back_to_error_is_refused_everywhere_but_the_organisation(repo: Path, tmp_path: Path) -> None:
    write(repo / "svc" / "mlproject.toml", scenario("10"))  # one warning, PRM004
    org = write(tmp_path / "org.toml", 'fail-on = "warning"\n')
    env = {"POLICYLINT_ORG_CONFIG": str(org)}
    allowed = check(repo, env=env)
    assert allowed.returncode == 1
    assert json.loads(allowed.stdout)["settings"] == {"fail-on": {"value": "warning", "origin": f"org config {org}:1"}}
    message = f"error would loosen warning (set by org config {org}:1); only the organisation configuration may loosen it"
    config = write(repo / "policylint.toml", 'fail-on = "error"\n')
    refused(check(repo, env=env), f"{config}:1:1: fail-on", message)
    config.unlink()
    team = write(repo / "svc" / "policylint.toml", '# team\nfail-on = "error"\n')
    refused(check(repo, env=env), f"{team}:2:1: fail-on", message)
    team.unlink()
    refused(check(repo, "--fail-on", "error", env=env), "--fail-on", message)


def test_non_waivable_ids_only_add_and_bind_every_later_layer(repo: Path, tmp_path: Path) -> None:
    org = write(tmp_path / "org.toml", 'non-waivable = ["DAT004"]\n')
    write(repo / "svc" / "mlproject.toml", scenario("14"))  # DAT004 warning, FMT001 waived
    from_org = json.loads(check(repo, env={"POLICYLINT_ORG_CONFIG": str(org)}).stdout)
    assert from_org["settings"] == {"non-waivable": {"DAT004": {"origin": f"org config {org}:1"}}}
    config = write(repo / "policylint.toml", 'ignore = ["DAT004"]\n')  # a warning, but not waivable now
    refused(check(repo, env={"POLICYLINT_ORG_CONFIG": str(org)}), f"{config}:1:1: ignore",
            f"turning off DAT004 would loosen the gate: it is not waivable (set by org config {org}:1); "
            "no repository configuration or flag may turn it off or downgrade it")
    # A repository may add ids: its FMT001 waiver then accepts nothing (WVR003) and the verdict fails.
    write(repo / "policylint.toml", 'non-waivable = ["FMT001"]\n')
    proc = check(repo)
    data = json.loads(proc.stdout)
    rules = [f["rule"] for f in data["manifests"][0]["findings"]]
    assert "WVR003" in rules and proc.returncode == 1
    assert data["settings"]["non-waivable"] == {"FMT001": {"origin": f"{repo / 'policylint.toml'}:1"}}


def test_man_and_wvr001_to_004_stay_on_even_for_the_organisation(repo: Path, tmp_path: Path) -> None:
    write(repo / "svc" / "mlproject.toml", scenario("13"))  # invalid: MAN002
    org = write(tmp_path / "org.toml", 'ignore = ["MAN", "WVR"]\n')
    proc = check(repo, "--org-config", str(org))
    data = json.loads(proc.stdout)
    assert {f["rule"] for f in data["manifests"][0]["findings"]} == {"MAN002"}
    assert set(data["settings"]["ignored"]) == {"WVR005", "WVR006"}  # the waiver warnings only
    assert proc.returncode == 1


def test_repository_files_and_flags_may_tighten(repo: Path) -> None:
    write(repo / "svc" / "mlproject.toml", scenario("14"))  # passes: DAT004 warning, FMT001 waived (120 days)
    assert check(repo).returncode == 0
    write(repo / "policylint.toml", 'severity = { DAT004 = "error" }\n')
    assert check(repo).returncode == 1
    write(repo / "policylint.toml", "max-waiver-days = 30\n")
    proc = check(repo)
    assert "WVR004" in [f["rule"] for f in json.loads(proc.stdout)["manifests"][0]["findings"]]
    write(repo / "policylint.toml", 'ignore = ["WVR"]\n')  # WVR005 and WVR006 (warnings) go; WVR001-WVR004 stay
    origin = {"origin": f"{repo / 'policylint.toml'}:1"}
    assert json.loads(check(repo).stdout)["settings"]["ignored"] == {"WVR005": origin, "WVR006": origin}
    write(repo / "policylint.toml", 'ignore = ["DAT004"]\n')  # a waivable warning
    proc = check(repo, "--fail-on", "warning", "--param", "quality_bar=0.9", "--extend-select", "DAT")
    data = json.loads(proc.stdout)
    assert data["manifests"][0]["findings"] and proc.returncode == 0  # DAT004 back on by the flag: a warning
    assert data["settings"]["fail-on"] == {"value": "warning", "origin": "flag --fail-on"}
    assert data["settings"]["params"] == {"quality_bar": {"value": 0.9, "origin": "flag --param"}}


def test_exclude_is_allowed_and_every_excluded_manifest_is_named(repo: Path) -> None:
    write(repo / "legacy" / "mlproject.toml", scenario("02"))
    config = write(repo / "policylint.toml", '# old\nexclude = ["legacy"]\n')
    proc = check(repo)
    data = json.loads(proc.stdout)
    assert [m["path"] for m in data["manifests"]] == ["svc/mlproject.toml"]
    assert data["settings"]["excluded"] == [{"path": "legacy/mlproject.toml", "origin": f"{config}:2"}]
    text = run("check", "--today", TODAY.isoformat(), cwd=repo).stdout.splitlines()
    assert text[-2] == f"note: settings: 1 manifest excluded: legacy/mlproject.toml ({config}:2)"


def test_org_config_flag_and_variable_naming_different_files_exit_2(repo: Path, tmp_path: Path) -> None:
    one, two = write(tmp_path / "one.toml", ""), write(tmp_path / "two.toml", "")
    proc = check(repo, "--org-config", str(two), env={"POLICYLINT_ORG_CONFIG": str(one)})
    assert (proc.returncode, proc.stdout) == (2, "")
    assert "different file" in proc.stderr and "POLICYLINT_ORG_CONFIG" in proc.stderr
    assert check(repo, "--org-config", str(one), env={"POLICYLINT_ORG_CONFIG": str(one)}).returncode == 1


# ------------------------------------------------------------------------ file discovery


@pytest.mark.parametrize("name", ["policylnt", "policy-lint", "Policylint"])
def test_near_miss_tool_table_is_an_error(repo: Path, name: str) -> None:
    config = write(repo / "pyproject.toml", f'[project]\nname = "x"\n\n[tool.{name}]\nignore = ["RAG"]\n')
    proc = check(repo)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"policylint: error: {config}:4:1: tool.{name}: ")
    assert "(did you mean 'tool.policylint'?)" in proc.stderr


def test_other_tools_tables_are_not_near_misses(repo: Path) -> None:
    write(repo / "pyproject.toml", '[tool.pylint]\nx = 1\n[tool.poetry]\nname = "x"\n')
    assert check(repo).returncode == 1


def test_tool_policylint_header_inside_policylint_toml_is_an_error(repo: Path) -> None:
    config = write(repo / "policylint.toml", '[tool.policylint]\nfail-on = "warning"\n')
    proc = check(repo)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"policylint: error: {config}:1:1: tool.policylint: ")
    assert "drop the [tool.policylint] header" in proc.stderr


def test_outside_a_git_work_tree_only_the_nearest_file_applies(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    write(root / "policylint.toml", 'fail-on = "warning"\n')
    write(root / "a" / "policylint.toml", "# nothing\n")
    write(root / "a" / "mlproject.toml", scenario("10"))  # one warning
    assert check(root).returncode == 0  # the nearer, empty file alone applies
    (root / ".git").mkdir()
    assert check(root).returncode == 1  # in a work tree both apply, outermost first


def test_config_flag_replaces_the_search(repo: Path) -> None:
    write(repo / "policylint.toml", 'fail-on = "warning"\n')
    write(repo / "svc" / "mlproject.toml", scenario("10"))
    other = write(repo / "ci" / "lint.toml", "")
    assert check(repo).returncode == 1
    assert check(repo, "--config", str(other)).returncode == 0


def test_no_manifest_names_the_paths_searched_and_the_file_name(repo: Path) -> None:
    (repo / "empty").mkdir()
    proc = run("check", "empty", cwd=repo)
    assert proc.stderr == "policylint: warning: no manifests found in empty (looked for mlproject.toml)\n"


# ---------------------------------------------------------------------------- monorepo


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


def outcome(proc: subprocess.CompletedProcess[str], suffix: str) -> tuple:
    """Decision, findings and settings of the one manifest whose path ends with ``suffix``."""
    data = json.loads(proc.stdout)
    (manifest,) = [m for m in data["manifests"] if m["path"].endswith(suffix)]
    shared = {k: v for k, v in data.get("settings", {}).items() if k != "excluded"}
    return manifest["decision"], manifest["findings"], manifest.get("settings", shared)


def test_monorepo_same_manifest_same_outcome_from_anywhere(tmp_path: Path) -> None:
    root = tmp_path.resolve() / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root / "pyproject.toml", '[project]\nname = "mono"\n\n[tool.policylint]\nparams = { quality_bar = 0.9 }\n')
    search = write(root / "teams" / "search" / "policylint.toml", 'fail-on = "warning"\n')
    write(root / "teams" / "search" / "ranker" / "mlproject.toml", scenario("10"))  # a warning: fails here
    write(root / "teams" / "ads" / "bidder" / "mlproject.toml", scenario("10"))  # the same, in another team
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "change")
    write(root / "teams" / "search" / "ranker" / "mlproject.toml", scenario("10") + "\n# touched\n")

    from_root = check(root)
    from_folder = check(root / "teams" / "search" / "ranker")
    changed = check(root, "--changed-since", "main")
    ranker = [outcome(p, "ranker/mlproject.toml") if "ranker" in p.stdout else None for p in (from_root, changed)]
    ranker.append(outcome(from_folder, "mlproject.toml"))
    assert ranker[0] == ranker[1] == ranker[2]
    decision, findings, settings = ranker[0]
    assert decision["verdict"] == "fail" and [f["rule"] for f in findings] == ["PRM004"]
    assert settings == {
        "params": {"quality_bar": {"value": 0.9, "origin": f"{root / 'pyproject.toml'}:5"}},
        "fail-on": {"value": "warning", "origin": f"{search}:1"},
    }
    # The search team's file never reaches the ads team's manifest, from wherever it runs.
    for proc in (from_root, check(root / "teams" / "search"), check(root / "teams" / "ads")):
        if "bidder" in proc.stdout:
            decision, _, settings = outcome(proc, "bidder/mlproject.toml")
            assert decision["verdict"] == "pass" and "fail-on" not in settings
    assert from_root.returncode == 1
    assert check(root, "--jobs", "2").stdout == from_root.stdout  # each manifest's own engine in the workers too


def test_every_report_records_the_settings_and_none_when_nothing_changed(repo: Path, tmp_path: Path) -> None:
    plain = check(repo)
    assert "settings" not in json.loads(plain.stdout)
    assert not any("settings" in m for m in json.loads(plain.stdout)["manifests"])
    org = write(tmp_path / "org.toml", "params = { quality_bar = 0.8 }\n")
    note = f"settings: params.quality_bar = 0.8 (org config {org}:1)"
    args = ("--today", TODAY.isoformat(), "--org-config", str(org))
    sarif = json.loads(run("check", "--format", "sarif", *args, cwd=repo).stdout)
    assert sarif["runs"][0]["properties"]["policylint"]["settings"] == {
        "params": {"quality_bar": {"value": 0.8, "origin": f"org config {org}:1"}}
    }
    from policylint.reports.markdown import escape

    assert f"> **Note:** {escape(note)}" in run("check", "--format", "markdown", *args, cwd=repo).stdout.splitlines()
    assert run("check", "--format", "github", *args, cwd=repo).stdout.splitlines()[-2] == f"note: {note}"
    assert run("check", *args, cwd=repo).stdout.splitlines()[-2] == f"note: {note}"


# ------------------------------------------------------------------ policylint config


def config_json(cwd: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    proc = run("config", "--format", "json", *args, cwd=cwd, env=env)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    return json.loads(proc.stdout)


def test_config_shows_each_kind_of_origin(repo: Path, tmp_path: Path) -> None:
    org = write(tmp_path / "org.toml", "# platform\nparams = { min_examples = 400 }\n")
    root = write(repo / "policylint.toml", 'severity = { DAT004 = "error" }\n')
    team = write(repo / "svc" / "policylint.toml", "\nmax-waiver-days = 60\n")
    data = config_json(repo, "svc/mlproject.toml", "--org-config", str(org))
    assert data["files"] == [str(org), str(root), str(team)]
    assert data["params"]["quality_bar"] == {"value": 0.85, "origin": "built-in pack"}
    assert data["params"]["min_examples"] == {"value": 400, "origin": f"org config {org}:2"}
    assert data["severity"]["DAT004"] == {"value": "error", "origin": f"{root}:1"}
    assert data["max-waiver-days"] == {"value": 60, "origin": f"{team}:2"}
    assert data["fail-on"] == {"value": "error", "origin": "built-in pack"}
    assert data["non-waivable"]["RAG001"] == {"origin": "built-in pack"}
    flagged = run("config", "svc", "--org-config", str(org), cwd=repo)
    assert flagged.returncode == 0
    lines = flagged.stdout.splitlines()
    assert lines[0] == f"settings in force for svc (configuration files: {org}, {root}, {team})"
    squeezed = [" ".join(line.split()) for line in lines]
    assert f"params.min_examples = 400 (org config {org}:2)" in squeezed
    assert f"max-waiver-days = 60 ({team}:2)" in squeezed
    assert "params.quality_bar = 0.85 (built-in pack)" in squeezed


def test_config_of_a_folder_outside_any_repository_is_the_built_in_pack(tmp_path: Path) -> None:
    data = config_json(tmp_path)
    assert data["files"] == []
    assert {entry["origin"] for entry in data["params"].values()} == {"built-in pack"}


# ------------------------------------------------------------- the documented examples

README = (REPO / "README.md").read_text("utf-8")
CI_DOC = (REPO / "docs" / "ci.md").read_text("utf-8")


def section(text: str, heading: str) -> str:
    """From ``heading`` to the next heading of the same or a higher level (outside code blocks)."""
    lines = text[text.index(heading):].splitlines(keepends=True)
    level = len(heading.split(" ", 1)[0])
    fenced = False
    for number, line in enumerate(lines[1:], 1):
        fenced ^= line.startswith("```")
        hashes = len(line) - len(line.lstrip("#"))
        if not fenced and 0 < hashes <= level and line[hashes:hashes + 1] == " ":
            return "".join(lines[:number])
    return "".join(lines)


def documented_files(text: str) -> dict[str, str]:
    """The ```toml blocks whose first line is ``# PATH ...``, keyed by PATH."""
    import re

    files = {}
    for block in re.findall(r"```toml\n(.*?)```", text, re.DOTALL):
        first = block.splitlines()[0]
        name = first.split()[1].rstrip(":") if first.startswith("# ") else ""
        if name.endswith(".toml"):
            files[name] = block
    return files


def documented_repo(tmp_path: Path, text: str) -> Path:
    """A git work tree laid out as the documentation describes, with a manifest per team."""
    root = tmp_path.resolve() / "mono"
    (root / ".git").mkdir(parents=True)
    for path, block in documented_files(text).items():
        write(root / path, block)
    write(root / "services" / "search" / "ranker" / "mlproject.toml", scenario("10"))
    write(root / "services" / "ads" / "bidder" / "mlproject.toml", scenario("10"))
    return root


def test_readme_configuration_commands_run_as_documented(tmp_path: Path) -> None:
    text = section(README, "### Configuration: a repository can only tighten the gate")
    root = documented_repo(tmp_path, text)
    commands = [line[2:].split("  #")[0].strip() for line in text.splitlines() if line.startswith("$ policylint")
                or line.startswith("$ POLICYLINT_ORG_CONFIG")]
    assert len(commands) == 4
    env = {k: v for k, v in os.environ.items() if k != "POLICYLINT_ORG_CONFIG"}
    env["PYTHONPATH"] = str(REPO)
    outputs = []
    for command in commands:
        command = command.replace("policylint ", f"{sys.executable} -m policylint ", 1)
        proc = subprocess.run(["bash", "-c", command], cwd=root, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode in (0, 1) and proc.stderr == "", (command, proc.stderr)
        outputs.append(proc.stdout)
    search = root / "services" / "search" / "policylint.toml"
    described = json.loads(outputs[1])
    assert described["params"]["quality_bar"] == {"value": 0.9, "origin": f"{search}:5"}
    assert described["params"]["min_examples"] == {"value": 400, "origin": "org config org.toml:5"}
    assert described["fail-on"] == {"value": "warning", "origin": f"{root / 'pyproject.toml'}:3"}
    report = json.loads(outputs[3])
    by_path = {m["path"]: m for m in report["manifests"]}
    assert by_path["services/search/ranker/mlproject.toml"]["settings"]["non-waivable"] == {"DST004": {"origin": f"{search}:2"}}
    assert "non-waivable" not in by_path["services/ads/bidder/mlproject.toml"]["settings"]


def test_ci_doc_monorepo_example_is_what_it_says(tmp_path: Path) -> None:
    root = documented_repo(tmp_path, section(CI_DOC, "## Who may change the gate"))
    ranker = config_json(root, "services/search/ranker")
    assert (ranker["params"]["quality_bar"]["value"], ranker["fail-on"]["value"], ranker["max-waiver-days"]["value"]) == (
        0.9, "warning", 90)
    bidder = config_json(root, "services/ads/bidder")
    assert (bidder["params"]["quality_bar"]["value"], bidder["fail-on"]["value"]) == (0.85, "warning")
    org = tmp_path / "org.toml"
    write(org, documented_files(section(CI_DOC, "## Who may change the gate"))["policylint-org.toml"])
    with_org = config_json(root, "services/search/ranker", "--org-config", str(org))
    assert (with_org["params"]["quality_bar"]["value"], with_org["max-waiver-days"]["value"]) == (0.9, 90)
    assert config_json(root, "services/ads/bidder", "--org-config", str(org))["params"]["quality_bar"]["value"] == 0.8


def test_waiver_warn_days_may_be_changed_by_any_layer_and_is_reported(repo: Path) -> None:
    # Scenario 14's waiver runs until 2027-03-31: 120 days after the pinned date.
    write(repo / "svc" / "mlproject.toml", scenario("14"))
    assert "WVR006" not in [f["rule"] for f in json.loads(check(repo).stdout)["manifests"][0]["findings"]]
    write(repo / "policylint.toml", "waiver-warn-days = 120\n")  # a warning only: a repository may widen it
    proc = check(repo)
    data = json.loads(proc.stdout)
    assert [f["rule"] for f in data["manifests"][0]["findings"] if f["rule"].startswith("WVR")] == ["WVR006"]
    assert data["settings"]["waiver-warn-days"] == {"value": 120, "origin": f"{repo / 'policylint.toml'}:1"}
    assert proc.returncode == 0  # WVR006 is a warning
    write(repo / "policylint.toml", "waiver-warn-days = 119\n")
    assert "WVR006" not in [f["rule"] for f in json.loads(check(repo).stdout)["manifests"][0]["findings"]]
