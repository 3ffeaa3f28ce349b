"""Configuration: discovery, every key end to end, the flags over it, and every kind of bad value.

The command is run for real, as a process, in temporary folders (as in test_cli.py); the
loaders are also tested directly. Line and column numbers of expected errors are counted by
hand from the TOML each test writes.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SCENARIOS, TODAY

from policylint.config import (
    Settings,
    find_config,
    flag_settings,
    load_config,
    parse_param,
)
from policylint.errors import ConfigError

TODAY_ARG = ("--today", TODAY.isoformat())
#: The organisation's configuration, the one layer that may loosen the gate (run from ``tmp``).
ORG = "org.toml"
ORG_ARGS = ("--org-config", ORG)


def run(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policylint", *args],
        capture_output=True, cwd=cwd, input=stdin, check=False, env={**os.environ},
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def scenario(name: str) -> str:
    return next(SCENARIOS.glob(f"{name}-*.toml")).read_text("utf-8")


def manifest(folder: Path, name: str) -> Path:
    """Scenario ``name`` (``"02"``) as ``folder/mlproject.toml``."""
    return write(folder / "mlproject.toml", scenario(name))


def report(proc: subprocess.CompletedProcess) -> dict:
    assert proc.stderr == b"", proc.stderr.decode()
    return json.loads(proc.stdout)


def rules_of(proc: subprocess.CompletedProcess) -> dict[str, list[str]]:
    """Path -> sorted rule ids of its findings, from a JSON report."""
    return {m["path"]: sorted(f["rule"] for f in m["findings"]) for m in report(proc)["manifests"]}


def check_json(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return run("check", "--format", "json", *TODAY_ARG, *args, cwd=cwd)


@pytest.fixture()
def tmp(tmp_path: Path) -> Path:
    """tmp_path as the process sees it (a discovered configuration is named by its real path)."""
    return tmp_path.resolve()


# ------------------------------------------------------------------------------- discovery


def test_find_config_policylint_toml_in_start(tmp: Path) -> None:
    config = write(tmp / "policylint.toml", "")
    assert find_config(tmp) == config


def test_find_config_searches_upward_for_pyproject_with_tool_table(tmp: Path) -> None:
    config = write(tmp / "pyproject.toml", '[project]\nname = "x"\n\n[tool.policylint]\nfail-on = "warning"\n')
    (tmp / "a" / "b").mkdir(parents=True)
    assert find_config(tmp / "a" / "b") == config


def test_find_config_skips_pyproject_without_tool_table(tmp: Path) -> None:
    higher = write(tmp / "pyproject.toml", '[tool.policylint]\nignore = ["DST"]\n')
    # Mentions policylint, but only in a comment and another tool's table: not a configuration.
    write(tmp / "a" / "pyproject.toml", '[project]\nname = "a"  # linted by policylint\n\n[tool.ruff]\nline-length = 100\n')
    assert find_config(tmp / "a") == higher


def test_find_config_policylint_toml_wins_over_pyproject_in_one_folder(tmp: Path) -> None:
    write(tmp / "pyproject.toml", '[tool.policylint]\nfail-on = "warning"\n')
    config = write(tmp / "policylint.toml", "")
    assert find_config(tmp) == config


def test_find_config_nearest_folder_wins(tmp: Path) -> None:
    write(tmp / "policylint.toml", "")
    nearer = write(tmp / "a" / "pyproject.toml", '[tool.policylint]\nfail-on = "warning"\n')
    assert find_config(tmp / "a") == nearer


def test_discovered_policylint_toml_is_applied(tmp: Path) -> None:
    manifest(tmp, "10")  # a prompting proposal with one warning, PRM004
    assert run("check", cwd=tmp).returncode == 0
    write(tmp / "policylint.toml", 'severity = { PRM004 = "error" }\n')
    proc = check_json(tmp)
    assert rules_of(proc) == {"mlproject.toml": ["PRM004"]}
    assert proc.returncode == 1


def test_pyproject_found_from_a_subdirectory_is_applied(tmp: Path) -> None:
    write(tmp / "pyproject.toml", '[project]\nname = "x"\n\n[tool.policylint]\nfail-on = "warning"\n')
    manifest(tmp / "sub" / "deeper", "10")  # only a warning (PRM004)
    proc = check_json(tmp / "sub")
    assert rules_of(proc) == {"deeper/mlproject.toml": ["PRM004"]}
    assert report(proc)["manifests"][0]["decision"]["verdict"] == "fail"
    assert proc.returncode == 1


def test_pyproject_without_tool_table_is_skipped_for_one_higher_up(tmp: Path) -> None:
    write(tmp / "pyproject.toml", '[tool.policylint]\nfail-on = "warning"\n')
    write(tmp / "proj" / "pyproject.toml", '[project]\nname = "proj"\n')
    manifest(tmp / "proj", "10")
    assert run("check", cwd=tmp / "proj").returncode == 1


def test_policylint_toml_wins_over_pyproject_end_to_end(tmp: Path) -> None:
    write(tmp / "pyproject.toml", '[tool.policylint]\nfail-on = "warning"\n')
    write(tmp / "policylint.toml", "# defaults: fail on errors only\n")
    manifest(tmp, "10")
    assert run("check", cwd=tmp).returncode == 0


def test_config_names_a_policylint_style_file_of_any_name(tmp: Path) -> None:
    write(tmp / "policylint.toml", "")  # discovered, but --config wins
    write(tmp / "ci" / "strict.toml", 'fail-on = "warning"\n')
    manifest(tmp, "10")
    assert run("check", cwd=tmp).returncode == 0
    assert run("check", "--config", "ci/strict.toml", cwd=tmp).returncode == 1


def test_config_names_a_pyproject(tmp: Path) -> None:
    write(tmp / "elsewhere" / "pyproject.toml", '[project]\nname = "x"\n\n[tool.policylint]\nfail-on = "warning"\n')
    manifest(tmp, "10")  # one warning
    assert check_json(tmp).returncode == 0
    proc = check_json(tmp, "--config", "elsewhere/pyproject.toml")
    assert rules_of(proc) == {"mlproject.toml": ["PRM004"]}
    assert proc.returncode == 1


def test_config_to_a_missing_file_exits_2(tmp: Path) -> None:
    manifest(tmp, "01")
    proc = run("check", "--config", "missing.toml", cwd=tmp)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "policylint: error: --config: no such file: missing.toml\n"
    assert proc.stdout == b""


def test_an_empty_layer_changes_nothing() -> None:
    settings = Settings()
    assert (settings.select, settings.ignore, settings.fail_on, settings.max_waiver_days) == (None, None, None, None)
    assert load_config  # an empty file is such a layer too (below)


# ------------------------------------------------------------------------- load_config


def test_load_config_reads_every_key(tmp: Path) -> None:
    path = write(tmp / "cfg" / "policylint.toml", """\
select = ["RAG", "FMT001"]
extend-select = ["DST"]
ignore = ["DAT004"]
fail-on = "warning"
severity = { PRM003 = "error" }
params = { quality_bar = 0.9, min_examples = 600 }
policy-paths = ["packs/org"]
exclude = ["legacy/*"]
max-waiver-days = 365
disable-plugins = ["some-plugin"]
""")
    settings = load_config(path)
    assert settings.path == path and settings.root == tmp / "cfg"
    assert settings.select and settings.extend_select and settings.ignore and settings.fail_on
    assert (settings.select.value, settings.extend_select.value) == (("RAG", "FMT001"), ("DST",))
    assert settings.ignore.value == ("DAT004",)
    assert settings.fail_on.value == "warning"
    assert {rule: s.value for rule, s in settings.severity} == {"PRM003": "error"}
    params = dict(settings.params)
    assert {name: s.value for name, s in params.items()} == {"quality_bar": 0.9, "min_examples": 600}
    assert [s.value for s in settings.policy_paths] == [tmp / "cfg" / "packs" / "org"]  # relative to the file
    assert [s.value for s in settings.exclude] == [(tmp / "cfg", "legacy/*")]
    assert settings.max_waiver_days and settings.max_waiver_days.value == 365
    assert [s.value for s in settings.disable_plugins] == ["some-plugin"]
    # Each value carries where it was written: for errors (locate) and for reports (label).
    assert params["min_examples"].origin.locate == f"{path}:6:31: params.min_examples"
    assert params["min_examples"].origin.label == f"{path}:6"
    assert params["min_examples"].origin.layer == "repo"
    assert dict(settings.severity)["PRM003"].origin.locate == f"{path}:5:14: severity.PRM003"
    assert settings.ignore.origin.locate == f"{path}:3:1: ignore"
    org = load_config(path, "org")
    assert dict(org.params)["min_examples"].origin.label == f"org config {path}:6"
    assert dict(org.params)["min_examples"].origin.trusted


def test_load_config_pyproject_reads_only_its_tool_table(tmp: Path) -> None:
    path = write(tmp / "pyproject.toml", '[project]\nname = "x"\nselect = 1\n\n[tool.policylint]\nselect = ["DST"]\n')
    settings = load_config(path)
    assert settings.select is not None and settings.select.value == ("DST",)
    assert settings.select.origin.locate == f"{path}:6:1: tool.policylint.select"


def test_extend_select_without_select_narrows_nothing(tmp: Path) -> None:
    settings = load_config(write(tmp / "policylint.toml", 'extend-select = ["DST"]\n'))
    assert settings.select is None and settings.fail_on is None and settings.max_waiver_days is None


def test_flags_are_one_layer_each_value_from_its_flag() -> None:
    flags = flag_settings(select=("RAG001,PRM", "FMT001"), extend_select=("DAT",), ignore=("DOM, BEH",),
                          fail_on="warning", params=("quality_bar=0.95", "min_examples=700"), disable_plugins=("x",))
    assert flags.select and flags.extend_select and flags.ignore and flags.fail_on
    assert (flags.select.value, flags.extend_select.value) == (("RAG001", "PRM", "FMT001"), ("DAT",))
    assert flags.ignore.value == ("DOM", "BEH")
    assert flags.fail_on.value == "warning" and flags.fail_on.origin.label == "flag --fail-on"
    params = dict(flags.params)
    assert {n: s.value for n, s in params.items()} == {"quality_bar": 0.95, "min_examples": 700}
    assert params["quality_bar"].origin.locate == "--param quality_bar=0.95"
    assert params["quality_bar"].origin.layer == "flag" and not params["quality_bar"].origin.trusted
    assert flags.select.origin.locate == "--select"
    assert [s.value for s in flags.disable_plugins] == ["x"]
    untouched = flag_settings()
    assert (untouched.select, untouched.ignore, untouched.fail_on, untouched.params) == (None, None, None, ())


# ---------------------------------------------------------------------------- parse_param


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quality_bar=0.9", ("quality_bar", 0.9)),
        (" format_volume_per_day = 150_000 ", ("format_volume_per_day", 150_000)),
        ("min_examples=1e3", ("min_examples", 1000.0)),
        ("x=true", ("x", True)),  # a TOML value; the parameter's type check rejects it later
        ('x="0.9"', ("x", "0.9")),
    ],
)
def test_parse_param(text: str, expected: tuple) -> None:
    name, value = parse_param(text)
    assert (name, value) == expected
    assert type(value) is type(expected[1])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("noequals", "--param: expected NAME=VALUE, got 'noequals'"),
        ("=0.9", "--param: expected NAME=VALUE, got '=0.9'"),
        ("  =1", "--param: expected NAME=VALUE, got '  =1'"),
        ("quality_bar=abc", "--param quality_bar: 'abc' is not a number"),
        ("quality_bar=", "--param quality_bar: '' is not a number"),
        ("quality_bar=0.9=1", "--param quality_bar: '0.9=1' is not a number"),
    ],
)
def test_parse_param_rejects(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_param(text)
    assert str(caught.value) == message


# ------------------------------------------------------------------- every key, end to end


def test_select_ids_and_prefixes(tmp: Path) -> None:
    manifest(tmp / "knowledge", "02")  # RAG001
    manifest(tmp / "distill", "08")  # DST001
    manifest(tmp / "format", "05")  # DAT004, FMT001, FMT004
    write(tmp / ORG, 'select = ["RAG001", "DST"]\n')
    proc = check_json(tmp, *ORG_ARGS)
    assert rules_of(proc) == {
        "distill/mlproject.toml": ["DST001"],
        "format/mlproject.toml": [],
        "knowledge/mlproject.toml": ["RAG001"],
    }
    ignored = {entry["rule"] for entry in report(proc)["ignored"]}
    assert {"FMT001", "DAT004", "RAG002", "PRM002"} <= ignored
    assert not ignored & {"RAG001", "DST001", "DST006"}
    assert proc.returncode == 1


def test_extend_select_adds_to_select(tmp: Path) -> None:
    manifest(tmp, "05")
    write(tmp / ORG, 'select = ["RAG"]\nextend-select = ["FMT001"]\n')
    assert rules_of(check_json(tmp, *ORG_ARGS)) == {"mlproject.toml": ["FMT001"]}


def test_extend_select_alone_keeps_every_rule(tmp: Path) -> None:
    manifest(tmp, "05")
    write(tmp / "policylint.toml", 'extend-select = ["FMT001"]\n')
    assert rules_of(check_json(tmp)) == {"mlproject.toml": ["DAT004", "FMT001", "FMT004"]}


def test_ignore_prefix(tmp: Path) -> None:
    manifest(tmp, "05")
    write(tmp / ORG, 'ignore = ["FMT"]\n')
    proc = check_json(tmp, *ORG_ARGS)
    assert rules_of(proc) == {"mlproject.toml": ["DAT004"]}
    assert proc.returncode == 0  # the only error was FMT001
    assert [entry["rule"] for entry in report(proc)["ignored"]] == ["FMT001", "FMT002", "FMT003", "FMT004", "FMT005"]


def test_fail_on_warning(tmp: Path) -> None:
    manifest(tmp, "10")  # a prompting proposal with one warning, PRM004
    assert run("check", cwd=tmp).returncode == 0
    write(tmp / "policylint.toml", 'fail-on = "warning"\n')
    proc = check_json(tmp)
    assert rules_of(proc) == {"mlproject.toml": ["PRM004"]}
    assert report(proc)["manifests"][0]["decision"]["verdict"] == "fail"
    assert proc.returncode == 1


def test_fail_on_warning_does_not_count_waived_findings(tmp: Path) -> None:
    manifest(tmp, "14")  # DAT004 warning, FMT001 waived
    write(tmp / "policylint.toml", 'fail-on = "warning"\nignore = ["DAT004"]\n')
    proc = check_json(tmp)
    assert rules_of(proc) == {"mlproject.toml": ["FMT001"]}
    assert proc.returncode == 0


def test_severity_override_turns_a_warning_into_a_failing_error(tmp: Path) -> None:
    manifest(tmp, "14")  # passes: FMT001 waived, DAT004 only a warning
    assert run("check", *TODAY_ARG, cwd=tmp).returncode == 0
    write(tmp / "policylint.toml", 'severity = { DAT004 = "error" }\n')
    proc = check_json(tmp)
    findings = {f["rule"]: f for f in report(proc)["manifests"][0]["findings"]}
    assert findings["DAT004"]["severity"] == "error" and not findings["DAT004"]["waived"]
    assert report(proc)["summary"]["errors"] == 1
    assert proc.returncode == 1


def test_severity_override_turns_an_error_into_a_warning(tmp: Path) -> None:
    manifest(tmp, "08")  # DST001 error
    write(tmp / ORG, '[severity]\nDST001 = "warning"\n')
    proc = check_json(tmp, *ORG_ARGS)
    assert [(f["rule"], f["severity"]) for f in report(proc)["manifests"][0]["findings"]] == [("DST001", "warning")]
    assert proc.returncode == 0


@pytest.mark.parametrize(("bar", "fires"), [(None, True), ("0.9", True), ("0.91", False), ("0.95", False)])
def test_param_quality_bar_decides_prm002(tmp: Path, bar: str | None, fires: bool) -> None:
    manifest(tmp, "04")  # best prompting score 0.90; the bar is met at >=
    if bar is not None:
        write(tmp / "policylint.toml", f"[params]\nquality_bar = {bar}\n")
    proc = check_json(tmp)
    assert ("PRM002" in rules_of(proc)["mlproject.toml"]) is fires
    assert proc.returncode == (1 if fires else 0)


@pytest.mark.parametrize(("volume", "fires"), [("20_000", True), ("19_999", False)])
def test_param_format_volume_decides_fmt001(tmp: Path, volume: str, fires: bool) -> None:
    manifest(tmp, "05")  # 20,000 requests a day; FMT001 fires at or below the parameter
    write(tmp / ORG, f"params.format_volume_per_day = {volume}\n")
    proc = check_json(tmp, *ORG_ARGS)
    expected = ["DAT004", "FMT001", "FMT004"] if fires else ["DAT004", "FMT004"]
    assert rules_of(proc) == {"mlproject.toml": expected}
    assert proc.returncode == (1 if fires else 0)


def org_pack(folder: Path, rule_id: str = "ORG001") -> Path:
    """An organisation's pack: one policy copied from the built-in RAG001 under a new id."""
    write(folder / "pack.toml", '[pack]\nname = "org"\nversion = "1"\ndescription = "Our own rules."\n')
    text = (REPO / "policies" / "RAG001.toml").read_text("utf-8")
    text = text.replace('id = "RAG001"', f'id = "{rule_id}"')
    text = text.replace('name = "fine-tuning-for-knowledge"', 'name = "org-no-knowledge-tuning"')
    write(folder / f"{rule_id}.toml", text)
    return folder


def test_policy_paths_relative_to_the_config_file(tmp: Path) -> None:
    org_pack(tmp / "org-policies")
    write(tmp / "policylint.toml", 'policy-paths = ["org-policies"]\n')
    manifest(tmp / "proj", "02")
    manifest(tmp / "proj" / "fine", "01")
    proc = check_json(tmp / "proj")  # run from below the configuration: the path is the file's
    assert rules_of(proc) == {"fine/mlproject.toml": [], "mlproject.toml": ["ORG001", "RAG001"]}
    assert proc.returncode == 1


def test_policy_paths_rules_can_be_selected_and_ignored(tmp: Path) -> None:
    org_pack(tmp / "org")
    manifest(tmp, "02")
    write(tmp / ORG, 'policy-paths = ["org"]\nselect = ["ORG"]\n')
    assert rules_of(check_json(tmp, *ORG_ARGS)) == {"mlproject.toml": ["ORG001"]}
    write(tmp / ORG, 'policy-paths = ["org"]\nignore = ["ORG001"]\n')
    assert rules_of(check_json(tmp, *ORG_ARGS)) == {"mlproject.toml": ["RAG001"]}


def test_policy_paths_rule_id_clash_exits_2(tmp: Path) -> None:
    org_pack(tmp / "org", "RAG001")
    manifest(tmp, "02")
    write(tmp / "policylint.toml", 'policy-paths = ["org"]\n')
    proc = run("check", cwd=tmp)
    assert proc.returncode == 2
    assert "rule id RAG001 is defined twice" in proc.stderr.decode()


def test_exclude_drops_discovered_and_explicit_manifests(tmp: Path) -> None:
    manifest(tmp / "services" / "keep", "02")
    manifest(tmp / "services" / "legacy" / "old", "02")
    write(tmp / "policylint.toml", 'exclude = ["services/legacy/*"]\n')
    proc = check_json(tmp)
    assert [m["path"] for m in report(proc)["manifests"]] == ["services/keep/mlproject.toml"]
    explicit = check_json(tmp, "services/legacy/old/mlproject.toml")
    assert json.loads(explicit.stdout)["manifests"] == []
    assert explicit.stderr.decode() == (
        "policylint: warning: no manifests found in services/legacy/old/mlproject.toml "
        "(looked for mlproject.toml; 1 excluded by configuration)\n"
    )
    assert explicit.returncode == 0
    # Every excluded manifest is counted and named, with the glob's origin.
    config = tmp / "policylint.toml"
    assert json.loads(explicit.stdout)["settings"] == {
        "excluded": [{"path": "services/legacy/old/mlproject.toml", "origin": f"{config}:1"}]
    }


def test_exclude_globs_are_relative_to_the_config_file(tmp: Path) -> None:
    manifest(tmp / "services" / "keep", "02")
    manifest(tmp / "services" / "legacy", "02")
    write(tmp / "policylint.toml", 'exclude = ["services/legacy/*"]\n')
    proc = check_json(tmp / "services")  # paths are reported from here, globs read from the file's folder
    assert [m["path"] for m in report(proc)["manifests"]] == ["keep/mlproject.toml"]


def test_exclude_glob_matches_a_folder_name_anywhere(tmp: Path) -> None:
    manifest(tmp / "a" / "vendored", "02")
    manifest(tmp / "b" / "vendored" / "x", "02")
    manifest(tmp / "c", "01")
    write(tmp / "policylint.toml", 'exclude = ["vendored"]\n')
    proc = check_json(tmp)
    assert [m["path"] for m in report(proc)["manifests"]] == ["c/mlproject.toml"]
    assert proc.returncode == 0


def waived_ahead(days: int) -> str:
    """Scenario 14 with its FMT001 waiver expiring ``days`` after TODAY."""
    expires = TODAY + datetime.timedelta(days=days)
    text = scenario("14")
    assert "expires = 2027-03-31" in text
    return text.replace("expires = 2027-03-31", f"expires = {expires.isoformat()}")


@pytest.mark.parametrize(
    ("config", "days", "passes"),
    [
        ("", 200, False),  # the default allows 180 days
        ("", 180, True),
        ("max-waiver-days = 365\n", 200, True),
        ("max-waiver-days = 200\n", 200, True),
        ("max-waiver-days = 199\n", 200, False),
        ("max-waiver-days = 0\n", 1, False),
    ],
)
def test_max_waiver_days(tmp: Path, config: str, days: int, passes: bool) -> None:
    write(tmp / "mlproject.toml", waived_ahead(days))
    write(tmp / ORG, config)
    proc = check_json(tmp, *ORG_ARGS)
    findings = report(proc)["manifests"][0]["findings"]
    fmt001 = next(f for f in findings if f["rule"] == "FMT001")
    assert fmt001["waived"] is passes
    assert ("WVR004" in [f["rule"] for f in findings]) is not passes
    assert proc.returncode == (0 if passes else 1)


def test_max_waiver_days_named_in_the_finding(tmp: Path) -> None:
    write(tmp / "mlproject.toml", waived_ahead(200))
    write(tmp / ORG, "max-waiver-days = 90\n")
    wvr = [f for f in report(check_json(tmp, *ORG_ARGS))["manifests"][0]["findings"] if f["rule"] == "WVR004"]
    assert len(wvr) == 1 and "at most 90 days" in wvr[0]["message"] and "200 days" in wvr[0]["message"]


def test_disable_builtin_plugin_leaves_no_policies(tmp: Path) -> None:
    # Without the built-in pack nothing is checked but the manifest's own validity: a proposal
    # that every default run fails then passes. Documented here as the behaviour a user gets.
    manifest(tmp, "02")
    write(tmp / ORG, 'disable-plugins = ["policylint.builtin"]\n')
    proc = check_json(tmp, *ORG_ARGS)
    result = report(proc)["manifests"][0]
    assert result["findings"] == []
    assert result["decision"] == {
        "proposal": "fine-tune", "recommendation": "fine-tune", "verdict": "pass", "decided_by": None
    }
    assert proc.returncode == 0


def test_disable_builtin_plugin_still_rejects_an_invalid_manifest(tmp: Path) -> None:
    write(tmp / "mlproject.toml", scenario("13"))
    write(tmp / ORG, 'disable-plugins = ["policylint.builtin"]\n')
    proc = check_json(tmp, *ORG_ARGS)
    assert rules_of(proc) == {"mlproject.toml": ["MAN002", "MAN002"]}
    assert proc.returncode == 1


def test_disable_builtin_plugin_with_an_organisation_pack(tmp: Path) -> None:
    org_pack(tmp / "org")
    manifest(tmp, "02")
    write(tmp / ORG, 'disable-plugins = ["policylint.builtin"]\npolicy-paths = ["org"]\n')
    assert rules_of(check_json(tmp, *ORG_ARGS)) == {"mlproject.toml": ["ORG001"]}


def test_disable_unknown_plugin_exits_2(tmp: Path) -> None:
    manifest(tmp, "01")
    write(tmp / ORG, 'disable-plugins = ["no-such-plugin"]\n')
    proc = run("check", *ORG_ARGS, cwd=tmp)
    assert proc.returncode == 2
    assert "cannot disable unknown plugin 'no-such-plugin'" in proc.stderr.decode()
    assert proc.stdout == b""


def test_disable_unknown_plugin_names_the_config_location(tmp: Path) -> None:
    manifest(tmp, "01")
    write(tmp / "policylint.toml", '# plugins\ndisable-plugins = ["no-such-plugin"]\n')
    proc = run("check", cwd=tmp)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith(f"policylint: error: {tmp / 'policylint.toml'}:2:1: disable-plugins: ")


def test_disable_essential_plugin_from_config_exits_2(tmp: Path) -> None:
    manifest(tmp, "01")
    write(tmp / "policylint.toml", 'disable-plugins = ["policylint.reports.json"]\n')
    proc = run("check", cwd=tmp)
    assert proc.returncode == 2
    assert "'policylint.reports.json' is essential" in proc.stderr.decode()


# ---------------------------------------------------------------- flags override the file


def test_select_flag_over_the_organisation_select(tmp: Path) -> None:
    manifest(tmp / "knowledge", "02")
    manifest(tmp / "distill", "08")
    write(tmp / ORG, 'select = ["DST"]\n')
    assert rules_of(check_json(tmp, *ORG_ARGS)) == {"distill/mlproject.toml": ["DST001"], "knowledge/mlproject.toml": []}
    # Selecting only RAG would turn DST001, an error, off: a flag may not.
    assert_config_error(check_json(tmp, *ORG_ARGS, "--select", "RAG"), "--select: turning off DST001 would loosen the gate")
    proc = check_json(tmp, *ORG_ARGS, "--select", "RAG001,DST")  # turns RAG001 back on: tighter
    assert rules_of(proc) == {"distill/mlproject.toml": ["DST001"], "knowledge/mlproject.toml": ["RAG001"]}


def test_extend_select_flag_adds_to_configured_select(tmp: Path) -> None:
    manifest(tmp, "05")
    write(tmp / ORG, 'select = ["FMT001"]\n')
    assert rules_of(check_json(tmp, *ORG_ARGS, "--extend-select", "DAT")) == {"mlproject.toml": ["DAT004", "FMT001"]}


def test_ignore_flag_adds_to_configured_ignore(tmp: Path) -> None:
    manifest(tmp, "05")
    write(tmp / ORG, 'ignore = ["FMT"]\n')
    assert rules_of(check_json(tmp, *ORG_ARGS, "--ignore", "DAT004")) == {"mlproject.toml": []}


def test_ignore_wins_over_select(tmp: Path) -> None:
    manifest(tmp, "05")
    write(tmp / ORG, 'select = ["FMT", "DAT"]\nignore = ["FMT004"]\n')
    assert rules_of(check_json(tmp, *ORG_ARGS)) == {"mlproject.toml": ["DAT004", "FMT001"]}


def test_fail_on_flag_tightens_but_never_loosens_the_file(tmp: Path) -> None:
    manifest(tmp, "10")  # one warning
    config = write(tmp / "policylint.toml", 'fail-on = "warning"\n')
    assert run("check", cwd=tmp).returncode == 1
    assert_config_error(
        run("check", "--fail-on", "error", cwd=tmp),
        f"--fail-on: error would loosen warning (set by {config}:1); only the organisation configuration may loosen it",
    )
    write(tmp / "policylint.toml", "")
    assert run("check", "--fail-on", "warning", cwd=tmp).returncode == 1


def test_param_flag_tightens_but_never_loosens_a_configured_param(tmp: Path) -> None:
    manifest(tmp, "04")  # best score 0.90
    write(tmp / ORG, "params = { quality_bar = 0.80 }\n")  # the organisation lowers the bar
    assert rules_of(check_json(tmp, *ORG_ARGS)) == {"mlproject.toml": ["PRM002"]}
    proc = check_json(tmp, *ORG_ARGS, "--param", "quality_bar=0.95")
    assert rules_of(proc) == {"mlproject.toml": []}
    assert proc.returncode == 0
    assert_config_error(
        check_json(tmp, *ORG_ARGS, "--param", "quality_bar=0.75"),
        f"--param quality_bar=0.75: 0.75 would loosen 0.8 (set by org config {ORG}:1); "
        "only the organisation configuration may loosen it",
    )


def test_param_flag_is_checked_like_the_file(tmp: Path) -> None:
    manifest(tmp, "04")
    proc = run("check", "--param", "quality_bar=85", cwd=tmp)
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        "policylint: error: --param quality_bar=85: parameter 'quality_bar' (fraction): "
        "score 85 is not a fraction; did you mean 0.85?\n"
    )
    proc = run("check", "--param", "min_examples=500.5", cwd=tmp)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("policylint: error: --param min_examples=500.5: parameter 'min_examples' (integer): ")


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("quality_bar=abc", "policylint: error: --param quality_bar: 'abc' is not a number\n"),
        ("noequals", "policylint: error: --param: expected NAME=VALUE, got 'noequals'\n"),
        ("qualitybar=0.9", "policylint: error: --param qualitybar=0.9: unknown parameter 'qualitybar' (did you mean 'quality_bar'?)\n"),
    ],
)
def test_bad_param_flag_exits_2(tmp: Path, param: str, message: str) -> None:
    manifest(tmp, "01")
    proc = run("check", "--param", param, cwd=tmp)
    assert proc.returncode == 2
    assert proc.stderr.decode() == message
    assert proc.stdout == b""


def test_exit_zero_with_failing_manifests(tmp: Path) -> None:
    manifest(tmp, "02")
    write(tmp / "policylint.toml", 'fail-on = "warning"\n')
    proc = run("check", "--exit-zero", cwd=tmp)
    assert proc.returncode == 0
    assert ": fail (" in proc.stdout.decode()


def test_exit_zero_never_hides_a_broken_configuration(tmp: Path) -> None:
    manifest(tmp, "02")
    write(tmp / "policylint.toml", 'fail_on = "warning"\n')
    proc = run("check", "--exit-zero", cwd=tmp)
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode().startswith(f"policylint: error: {tmp / 'policylint.toml'}:1:1: fail_on: ")


def test_select_flag_matching_no_rule_exits_2(tmp: Path) -> None:
    manifest(tmp, "01")
    proc = run("check", "--select", "XYZ", cwd=tmp)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("policylint: error: --select: 'XYZ' matches no rule")


# ------------------------------------------------------------------- non-waivable rules


def test_ignoring_a_non_waivable_rule_is_reported_in_text(tmp: Path) -> None:
    manifest(tmp, "02")
    write(tmp / ORG, 'ignore = ["RAG001"]\n')
    proc = run("check", *ORG_ARGS, cwd=tmp)
    lines = proc.stdout.decode().splitlines()
    assert not any(": RAG001 [" in line for line in lines)
    assert "mlproject.toml: proposal fine-tune -> recommend fine-tune: pass" in lines
    assert "note: rules ignored by configuration: RAG001 (not waivable)" in lines
    assert lines.index("note: rules ignored by configuration: RAG001 (not waivable)") == len(lines) - 2
    assert proc.returncode == 0


def test_ignoring_a_non_waivable_rule_is_reported_in_json(tmp: Path) -> None:
    manifest(tmp, "02")
    write(tmp / ORG, 'ignore = ["RAG001", "FMT001"]\n')
    proc = check_json(tmp, *ORG_ARGS)
    data = report(proc)
    assert data["ignored"] == [{"rule": "FMT001", "waivable": True}, {"rule": "RAG001", "waivable": False}]
    assert data["manifests"][0]["findings"] == []


def test_ignoring_a_waivable_rule_is_noted_without_the_warning(tmp: Path) -> None:
    manifest(tmp, "05")
    write(tmp / ORG, 'ignore = ["FMT001"]\n')
    lines = run("check", *ORG_ARGS, cwd=tmp).stdout.decode().splitlines()
    assert "note: rules ignored by configuration: FMT001" in lines


def test_no_ignored_note_without_configuration(tmp: Path) -> None:
    manifest(tmp, "02")
    assert "ignored" not in report(check_json(tmp))
    assert not any(line.startswith("note:") for line in run("check", cwd=tmp).stdout.decode().splitlines())


def rag_waiver() -> str:
    """Scenario 02 with a waiver for its non-waivable RAG001, well within every expiry limit."""
    return scenario("02") + (
        '\n[[waivers]]\nrule = "RAG001"\nreason = "We know."\nowner = "ml-team"\n'
        f"expires = {(TODAY + datetime.timedelta(days=30)).isoformat()}\n"
    )


@pytest.mark.parametrize(
    "config",
    [
        "",
        'ignore = ["RAG001"]\n',
        'select = ["DST"]\n',
        'ignore = ["WVR"]\n',
        'ignore = ["WVR003"]\n',
        'select = ["RAG"]\nmax-waiver-days = 3650\n',
        'severity = { RAG001 = "warning" }\n',
    ],
)
def test_waiver_for_a_non_waivable_rule_is_always_wvr003(tmp: Path, config: str) -> None:
    write(tmp / "mlproject.toml", rag_waiver())
    write(tmp / ORG, config)
    proc = check_json(tmp, *ORG_ARGS)
    findings = report(proc)["manifests"][0]["findings"]
    wvr = [f for f in findings if f["rule"] == "WVR003"]
    assert len(wvr) == 1 and wvr[0]["severity"] == "error"
    assert not any(f["waived"] for f in findings)
    assert report(proc)["manifests"][0]["decision"]["verdict"] == "fail"
    assert proc.returncode == 1


def test_always_on_rules_stay_on_when_selecting_other_rules(tmp: Path) -> None:
    write(tmp / "mlproject.toml", scenario("13"))  # invalid: MAN002 twice
    write(tmp / ORG, 'select = ["DST"]\nignore = ["MAN"]\n')
    proc = check_json(tmp, *ORG_ARGS)
    assert rules_of(proc) == {"mlproject.toml": ["MAN002", "MAN002"]}
    assert not any(e["rule"].startswith("MAN") for e in report(proc)["ignored"])
    assert proc.returncode == 1


# ----------------------------------------------------------------------------- bad values


def assert_config_error(proc: subprocess.CompletedProcess, prefix: str, *fragments: str) -> str:
    """Exit 2, nothing on stdout, one ``policylint: error: <prefix>...`` line on stderr."""
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert proc.stdout == b""
    assert err.startswith(f"policylint: error: {prefix}"), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "internal error" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


BAD_VALUES = [
    # (file, text, "line:col: dotted key: ", fragments of the message)
    pytest.param("policylint.toml", '# org settings\nignore = ["DST"]\n   fail_on = "warning"\n',
                 "3:4: fail_on: ", ["unknown key", "(did you mean 'fail-on'?)"], id="unknown-key"),
    pytest.param("pyproject.toml", '[project]\nname = "x"\n\n[tool.policylint]\nfail_on = "warning"\n',
                 "5:1: tool.policylint.fail_on: ", ["unknown key", "(did you mean 'fail-on'?)"], id="unknown-key-pyproject"),
    pytest.param("policylint.toml", 'colour = true\n', "1:1: colour: ",
                 ["unknown key", "fail-on", "max-waiver-days"], id="unknown-key-lists-known"),
    pytest.param("policylint.toml", '\nselect = "DST"\n', "2:1: select: ", ['"DST"', "list"], id="wrong-type"),
    pytest.param("policylint.toml", 'ignore = ["DST", 1]\n', "1:1: ignore: ", ["item 2", "integer 1"], id="wrong-item-type"),
    pytest.param("policylint.toml", 'fail-on = "fatal"\n', "1:1: fail-on: ", ["'error'", "'warning'", '"fatal"'],
                 id="fail-on-choice"),
    pytest.param("policylint.toml", 'fail-on = ["warning"]\n', "1:1: fail-on: ", [], id="fail-on-type"),
    pytest.param("policylint.toml", 'max-waiver-days = 1.5\n', "1:1: max-waiver-days: ", ["1.5"], id="max-waiver-days-float"),
    pytest.param("policylint.toml", 'exclude = "legacy/*"\n', "1:1: exclude: ", ['"legacy/*"'], id="exclude-type"),
    pytest.param("policylint.toml", '[params]\nformat_volume_per_day = 150_000\nquality_bar = 85\n',
                 "3:1: params.quality_bar: ", ["parameter 'quality_bar' (fraction)", "did you mean 0.85?"],
                 id="param-fraction"),
    pytest.param("pyproject.toml", '[tool.policylint]\nparams.quality_bar = 85\n',
                 "2:1: tool.policylint.params.quality_bar: ", ["did you mean 0.85?"], id="param-fraction-pyproject"),
    pytest.param("policylint.toml", 'params = { min_examples = 500.0 }\n', "1:12: params.min_examples: ",
                 ["(integer)", "without a decimal point"], id="param-integer-float"),
    pytest.param("policylint.toml", 'params = { min_examples = -5 }\n', "1:12: params.min_examples: ",
                 ["(integer)", "-5"], id="param-negative"),
    pytest.param("policylint.toml", 'params = { quality_bar = 0.9, qualitybar = 0.8 }\n', "1:31: params.qualitybar: ",
                 ["unknown parameter 'qualitybar'", "(did you mean 'quality_bar'?)"], id="param-unknown"),
    pytest.param("policylint.toml", 'severity = { NOPE001 = "error" }\n', "1:14: severity.NOPE001: ",
                 ["unknown rule 'NOPE001'"], id="severity-unknown-rule"),
    pytest.param("policylint.toml", '[severity]\nDAT004 = "error"\nMAN002 = "warning"\n', "3:1: severity.MAN002: ",
                 ["(MAN002) is fixed"], id="severity-fixed"),
    pytest.param("policylint.toml", 'severity = { WVR004 = "warning" }\n', "1:14: severity.WVR004: ",
                 ["is fixed"], id="severity-fixed-waiver"),
    pytest.param("policylint.toml", 'severity = { DAT004 = "fatal" }\n', "1:14: severity.DAT004: ",
                 ['"fatal"', "'warning'"], id="severity-bad-level"),
    pytest.param("policylint.toml", '# narrow it\nselect = ["DST", "XYZ"]\n', "2:1: select: ",
                 ["'XYZ' matches no rule"], id="select-matches-nothing"),
    pytest.param("policylint.toml", 'ignore = ["RAG009"]\n', "1:1: ignore: ", ["'RAG009' matches no rule"],
                 id="ignore-matches-nothing"),
    pytest.param("policylint.toml", '# settings\nfail-on error\n', "2:9: ",
                 ["invalid TOML", "Expected '='"], id="invalid-toml"),
    pytest.param("policylint.toml", 'select = ["DST"]\nselect = ["RAG"]\n', "2:", ["invalid TOML"],
                 id="invalid-toml-duplicate-key"),
]


@pytest.mark.parametrize(("name", "text", "where", "fragments"), BAD_VALUES)
def test_bad_configuration_exits_2_naming_file_line_and_key(
    tmp: Path, name: str, text: str, where: str, fragments: list[str]
) -> None:
    manifest(tmp, "01")
    config = write(tmp / name, text)
    assert_config_error(run("check", cwd=tmp), f"{config}:{where}", *fragments)


def test_bad_configuration_named_by_config_is_named_as_given(tmp: Path) -> None:
    manifest(tmp, "01")
    write(tmp / "ci" / "lint.toml", 'ignore = ["DST"]\nfail_on = "warning"\n')
    assert_config_error(run("check", "--config", "ci/lint.toml", cwd=tmp), "ci/lint.toml:2:1: fail_on: unknown key")


def test_bad_rule_pattern_says_rule_id(tmp: Path) -> None:
    manifest(tmp, "01")
    config = write(tmp / "policylint.toml", 'select = ["DST", "dst"]\n')
    err = assert_config_error(run("check", cwd=tmp), f"{config}:1:1: select: ", '"dst"')
    assert "rule id" in err


@pytest.mark.parametrize("key", ["select", "ignore", "extend-select"])
def test_bad_rule_pattern_exits_2_at_the_key(tmp: Path, key: str) -> None:
    manifest(tmp, "01")
    config = write(tmp / "policylint.toml", f'\n{key} = ["DST", "dst"]\n')
    assert_config_error(run("check", cwd=tmp), f"{config}:2:1: {key}: ", "item 2", '"dst"')


@pytest.mark.parametrize("value", ["-1", "40000"])
def test_max_waiver_days_out_of_range_says_so(tmp: Path, value: str) -> None:
    manifest(tmp, "01")
    config = write(tmp / "policylint.toml", f"max-waiver-days = {value}\n")
    err = assert_config_error(run("check", cwd=tmp), f"{config}:1:1: max-waiver-days: ", value)
    assert "expected an integer, got the integer" not in err
    assert any(s in err for s in ("range", ">=", "from 0", "at least"))


@pytest.mark.parametrize("value", ["-1", "40000"])
def test_max_waiver_days_out_of_range_exits_2(tmp: Path, value: str) -> None:
    manifest(tmp, "01")
    config = write(tmp / "policylint.toml", f"max-waiver-days = {value}\n")
    assert_config_error(run("check", cwd=tmp), f"{config}:1:1: max-waiver-days: ", value)


@pytest.mark.parametrize("value", ['"0.9"', "true"])
def test_param_of_wrong_type_names_the_param(tmp: Path, value: str) -> None:
    manifest(tmp, "01")
    config = write(tmp / "policylint.toml", f"params.quality_bar = {value}\n")
    assert_config_error(run("check", cwd=tmp), f"{config}:1:1: params.quality_bar: ")


def test_extend_select_matching_no_rule_without_select_exits_2(tmp: Path) -> None:
    manifest(tmp, "01")
    config = write(tmp / "policylint.toml", 'extend-select = ["XYZ"]\n')
    assert_config_error(run("check", cwd=tmp), f"{config}:1:1: extend-select: ", "'XYZ' matches no rule")


def test_extend_select_matching_no_rule_names_extend_select(tmp: Path) -> None:
    manifest(tmp, "01")
    config = write(tmp / "policylint.toml", 'select = ["RAG"]\nextend-select = ["XYZ"]\n')
    assert_config_error(run("check", cwd=tmp), f"{config}:2:1: extend-select: ", "'XYZ' matches no rule")


def test_extend_select_matching_no_rule_with_select_exits_2(tmp: Path) -> None:
    manifest(tmp, "01")
    config = write(tmp / "policylint.toml", 'select = ["RAG"]\nextend-select = ["XYZ"]\n')
    assert_config_error(run("check", cwd=tmp), f"{config}:", "'XYZ' matches no rule")


def test_policy_path_that_is_not_a_pack_exits_2(tmp: Path) -> None:
    manifest(tmp, "01")
    (tmp / "notapack").mkdir()
    write(tmp / "policylint.toml", 'policy-paths = ["notapack"]\n')
    proc = run("check", cwd=tmp)
    assert proc.returncode == 2 and proc.stdout == b""
    assert "notapack" in proc.stderr.decode() and "not a policy pack" in proc.stderr.decode()


@pytest.mark.parametrize("folder", ["notapack", "missing"])
def test_policy_path_that_is_not_a_pack_names_the_config_location(tmp: Path, folder: str) -> None:
    manifest(tmp, "01")
    (tmp / "notapack").mkdir()
    config = write(tmp / "policylint.toml", f'# our packs\npolicy-paths = ["{folder}"]\n')
    assert_config_error(run("check", cwd=tmp), f"{config}:2:1: policy-paths", folder)


def test_tool_policylint_not_a_table_exits_2(tmp: Path) -> None:
    manifest(tmp, "01")
    config = write(tmp / "pyproject.toml", "[tool]\npolicylint = 1\n")
    proc = run("check", cwd=tmp)
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode().startswith(f"policylint: error: {config}")
    assert "tool.policylint: expected a table ([tool.policylint])" in proc.stderr.decode()


def test_pyproject_tool_not_a_table_is_a_config_error(tmp: Path) -> None:
    manifest(tmp, "01")
    write(tmp / "pyproject.toml", "tool = 1\n")
    assert_config_error(run("check", "--config", "pyproject.toml", cwd=tmp), "pyproject.toml")


def test_invalid_toml_in_pyproject_mentioning_policylint_is_not_skipped(tmp: Path) -> None:
    # The gate fails closed: a broken pyproject that may configure policylint is reported.
    manifest(tmp, "02")
    config = write(tmp / "pyproject.toml", "[tool.policylint]\nignore = [\"RAG\"\n")
    proc = run("check", cwd=tmp)
    assert_config_error(proc, f"{config}:", "invalid TOML")


def test_config_not_utf8_exits_2(tmp: Path) -> None:
    manifest(tmp, "01")
    config = tmp / "policylint.toml"
    config.write_bytes(b'# caf\xe9\nfail-on = "warning"\n')
    proc = run("check", cwd=tmp)
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode().startswith(f"policylint: error: {config}: cannot read the configuration")


def test_load_config_error_is_located(tmp: Path) -> None:
    path = write(tmp / "policylint.toml", '\n\n  max-waiver-days = "180"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:3:3: max-waiver-days: ")
