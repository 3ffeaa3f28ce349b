"""`policylint waivers`: every waiver with its status, read off check's own WVR findings.

Manifests are scenarios/14-waived.toml without its waiver (FMT001 fires, DAT004 warns) plus the
waivers each test writes; the date is pinned with --today.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SCENARIOS, heavy_modules_after

TODAY = datetime.date(2026, 12, 1)
WAIVED = (SCENARIOS / "14-waived.toml").read_text("utf-8")
HEAD = WAIVED[: WAIVED.index("[[waivers]]")]
INVALID = (SCENARIOS / "13-invalid.toml").read_text("utf-8")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "policylint", *args], capture_output=True, text=True, cwd=cwd,
                          check=False, env={**os.environ, "NO_COLOR": "1", **(env or {})})


def waiver(rule: str, days: int, owner: str = "payments-ml", reason: str = "launch ramps volume") -> str:
    expires = (TODAY + datetime.timedelta(days=days)).isoformat()
    return f'\n[[waivers]]\nrule = "{rule}"\nreason = "{reason}"\nowner = "{owner}"\nexpires = {expires}\n'


def manifest(folder: Path, *waivers: str, name: str = "mlproject.toml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEAD + "".join(waivers), "utf-8")
    return path


def audit(folder: Path, *args: str) -> tuple[int, dict]:
    proc = run("waivers", "--today", TODAY.isoformat(), "--format", "json", *args, cwd=folder)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def statuses(document: dict) -> list[tuple[str, str, list[str]]]:
    return [(w["rule"], w["status"], [f["rule"] for f in w["findings"]]) for w in document["waivers"]]


# --- each status --------------------------------------------------------------------------------

def test_active_waiver(tmp_path: Path) -> None:
    manifest(tmp_path, waiver("FMT001", 15))
    status, doc = audit(tmp_path)
    assert status == 0
    (entry,) = doc["waivers"]
    assert entry == {
        "path": "mlproject.toml", "line": HEAD.count("\n") + 3, "index": 0, "rule": "FMT001", "owner": "payments-ml",
        "reason": "launch ramps volume", "expires": "2026-12-16", "days_left": 15, "status": "active",
        "warn_days": 14, "findings": [],
    }


@pytest.mark.parametrize(("days", "expected"), [(15, "active"), (14, "expiring soon"), (1, "expiring soon"),
                                                (0, "expiring soon"), (-1, "expired")])
def test_expiring_soon_at_the_fourteen_day_boundary(tmp_path: Path, days: int, expected: str) -> None:
    manifest(tmp_path, waiver("FMT001", days))
    status, doc = audit(tmp_path)
    assert [(w["status"], w["days_left"]) for w in doc["waivers"]] == [(expected, days)]
    assert status == (1 if expected == "expired" else 0)  # expiring soon is a warning: exit 0


def test_waiver_warn_days_of_the_configuration_in_force(tmp_path: Path) -> None:
    (tmp_path / "policylint.toml").write_text("waiver-warn-days = 30\n", "utf-8")
    manifest(tmp_path, waiver("FMT001", 20))
    _, doc = audit(tmp_path)
    assert [(w["status"], w["warn_days"]) for w in doc["waivers"]] == [("expiring soon", 30)]


def test_expired_waiver_exits_1(tmp_path: Path) -> None:
    manifest(tmp_path, waiver("FMT001", -10))
    status, doc = audit(tmp_path)
    assert status == 1
    assert statuses(doc) == [("FMT001", "expired", ["WVR001"])]
    assert doc["waivers"][0]["days_left"] == -10


@pytest.mark.parametrize(("rule", "days", "wvr", "said"), [
    ("FMT999", 30, "WVR002", "unknown rule"),
    ("RAG001", 30, "WVR003", "not waivable"),
    ("FMT001", 181, "WVR004", "too long"),
])
def test_invalid_waiver_says_which_problem(tmp_path: Path, rule: str, days: int, wvr: str, said: str) -> None:
    manifest(tmp_path, waiver(rule, days))
    status, doc = audit(tmp_path)
    assert status == 1
    assert statuses(doc) == [(rule, "invalid", [wvr])]
    text = run("waivers", "--today", TODAY.isoformat(), cwd=tmp_path)
    assert text.returncode == 1
    assert f"invalid ({wvr} {said})" in text.stdout


def test_expired_waiver_of_an_unknown_rule_is_invalid_and_names_both(tmp_path: Path) -> None:
    manifest(tmp_path, waiver("FMT999", -1))
    _, doc = audit(tmp_path)
    assert statuses(doc) == [("FMT999", "invalid", ["WVR001", "WVR002"])]


def test_stale_waivers(tmp_path: Path) -> None:
    # PRM003 does not fire here; the second FMT001 waiver finds the first one already accepting it.
    manifest(tmp_path, waiver("FMT001", 60), waiver("PRM003", 60), waiver("FMT001", 90))
    status, doc = audit(tmp_path)
    assert status == 0  # WVR005 is a warning
    assert statuses(doc) == [("FMT001", "active", []), ("PRM003", "stale", ["WVR005"]), ("FMT001", "stale", ["WVR005"])]


def test_lines_point_at_each_waivers_rule_key(tmp_path: Path) -> None:
    path = manifest(tmp_path, waiver("FMT001", 60), waiver("PRM003", 60))
    lines = path.read_text("utf-8").splitlines()
    _, doc = audit(tmp_path)
    for entry in doc["waivers"]:
        assert lines[entry["line"] - 1] == f'rule = "{entry["rule"]}"'


# --- manifests that cannot be audited, none at all, tool errors ----------------------------------

def test_invalid_manifest_is_listed_with_its_problem(tmp_path: Path) -> None:
    manifest(tmp_path / "a", waiver("FMT001", 60))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "mlproject.toml").write_text(INVALID, "utf-8")
    status, doc = audit(tmp_path)
    assert status == 1
    assert [w["path"] for w in doc["waivers"]] == ["a/mlproject.toml"]
    (broken,) = doc["invalid_manifests"]
    assert broken["path"] == "b/mlproject.toml"
    assert broken["findings"] and all(f["rule"].startswith("MAN") for f in broken["findings"])
    assert doc["summary"]["invalid_manifests"] == 1
    text = run("waivers", "--today", TODAY.isoformat(), cwd=tmp_path).stdout
    assert re.search(r"^b/mlproject\.toml:\d+:\d+: invalid manifest, waivers not audited: MAN00\d ", text, re.MULTILINE), text


def test_no_waivers_and_no_manifests_exit_0(tmp_path: Path) -> None:
    proc = run("waivers", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stderr == "policylint: warning: no manifests found in . (looked for mlproject.toml)\n"
    manifest(tmp_path)
    proc = run("waivers", "--today", TODAY.isoformat(), cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == "0 waivers in 1 manifest (as of 2026-12-01): 0 active, 0 expiring soon, 0 stale, 0 expired, 0 invalid\n"


@pytest.mark.parametrize("args", [["missing"], ["--today", "tomorrow"], ["--format", "sarif"]])
def test_tool_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    manifest(tmp_path, waiver("FMT001", 60))
    assert run("waivers", *args, cwd=tmp_path).returncode == 2


def test_refused_configuration_exits_2(tmp_path: Path) -> None:
    (tmp_path / "policylint.toml").write_text("max-waiver-days = 400\n", "utf-8")  # loosens: repository layer
    manifest(tmp_path, waiver("FMT001", 60))
    proc = run("waivers", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("policylint: error: ")


def test_org_config_may_allow_longer_waivers(tmp_path: Path) -> None:
    org = tmp_path / "org.toml"
    org.write_text("max-waiver-days = 400\n", "utf-8")
    manifest(tmp_path / "repo", waiver("FMT001", 300))
    assert statuses(audit(tmp_path / "repo")[1]) == [("FMT001", "invalid", ["WVR004"])]
    assert statuses(audit(tmp_path / "repo", "--org-config", str(org))[1]) == [("FMT001", "active", [])]


# --- formats and order --------------------------------------------------------------------------

def corpus(folder: Path) -> None:
    manifest(folder / "z", waiver("FMT001", 30, owner="zeta"))
    manifest(folder / "a", waiver("FMT001", 5, owner="ml | platform", reason="pipes | *stars* <b>tags</b>"),
             waiver("FMT999", 30))
    manifest(folder / "m", waiver("FMT001", -3))


def test_sorted_by_path_then_waiver_order_and_byte_identical(tmp_path: Path) -> None:
    corpus(tmp_path)
    _, doc = audit(tmp_path)
    assert [(w["path"], w["index"]) for w in doc["waivers"]] == [
        ("a/mlproject.toml", 0), ("a/mlproject.toml", 1), ("m/mlproject.toml", 0), ("z/mlproject.toml", 0)]
    assert list(doc) == ["today", "waivers", "invalid_manifests", "excluded", "summary"]
    assert doc["summary"] == {"manifests": 3, "waivers": 4, "active": 1, "expiring_soon": 1, "stale": 0, "expired": 1,
                              "invalid": 1, "invalid_manifests": 0}
    for fmt in ("text", "json", "markdown"):
        first = run("waivers", "--today", TODAY.isoformat(), "--format", fmt, cwd=tmp_path)
        again = run("waivers", "z", "m", "a", "--today", TODAY.isoformat(), "--format", fmt, cwd=tmp_path)
        assert first.returncode == again.returncode == 1
        assert first.stdout == again.stdout


def test_text_is_an_aligned_table(tmp_path: Path) -> None:
    corpus(tmp_path)
    lines = run("waivers", "--today", TODAY.isoformat(), cwd=tmp_path).stdout.splitlines()
    header, *rows, summary = lines
    assert header.split() == ["MANIFEST", "RULE", "OWNER", "EXPIRES", "DAYS", "LEFT", "STATUS", "REASON"]
    for column in ("RULE", "OWNER", "EXPIRES", "DAYS LEFT", "STATUS", "REASON"):
        at = header.index(column)
        assert all(row[at - 2: at] == "  " and row[at] != " " for row in rows), (column, lines)
    assert rows[0].startswith("a/mlproject.toml:") and "expiring soon (WVR006)" in rows[0]
    assert "invalid (WVR002 unknown rule)" in rows[1]
    assert "expired (WVR001)" in rows[2]
    assert summary == "4 waivers in 3 manifests (as of 2026-12-01): 1 active, 1 expiring soon, 0 stale, 1 expired, 1 invalid"


def test_markdown_is_an_escaped_table(tmp_path: Path) -> None:
    corpus(tmp_path)
    proc = run("waivers", "--today", TODAY.isoformat(), "--format", "markdown", cwd=tmp_path)
    assert proc.returncode == 1
    rows = [line for line in proc.stdout.splitlines() if line.startswith("|")]
    assert rows[0] == "| Manifest | Line | Rule | Owner | Reason | Expires | Days left | Status |"
    assert re.fullmatch(r"\|(\s*:?-{3,}:?\s*\|)+", rows[1])
    assert len(rows) == 2 + 4
    for row in rows[2:]:  # escaped pipes do not add cells
        assert len(re.split(r"(?<!\\)\|", row)) == 10, row
    assert "<b>" not in proc.stdout and "&lt;b&gt;" in proc.stdout
    assert "ml \\| platform" in rows[2]


def test_json_keys_are_documented() -> None:
    from policylint.commands import waivers

    doc = waivers.__doc__ or ""
    for key in ("today", "waivers", "path", "line", "index", "rule", "owner", "reason", "expires", "days_left",
                "status", "warn_days", "findings", "invalid_manifests", "excluded", "summary", "expiring_soon"):
        assert f"``{key}``" in doc, key


def test_excluded_manifests_are_named_not_audited(tmp_path: Path) -> None:
    (tmp_path / "policylint.toml").write_text('exclude = ["experiments"]\n', "utf-8")
    manifest(tmp_path / "experiments", waiver("FMT001", -3))
    manifest(tmp_path / "svc", waiver("FMT001", 60))
    status, doc = audit(tmp_path)
    assert status == 0
    assert [w["path"] for w in doc["waivers"]] == ["svc/mlproject.toml"]
    assert [e["path"] for e in doc["excluded"]] == ["experiments/mlproject.toml"]


# --- agreement with check ---------------------------------------------------------------------------

def check_wvr(folder: Path, *paths: str) -> dict[tuple[str, int], list[str]]:
    """check's WVR findings, by manifest and waiver index."""
    proc = run("check", "--today", TODAY.isoformat(), "--format", "json", *paths, cwd=folder)
    assert proc.returncode in (0, 1), proc.stderr
    found: dict[tuple[str, int], list[str]] = {}
    for result in json.loads(proc.stdout)["manifests"]:
        for finding in result["findings"]:
            match = re.fullmatch(r"waivers\[(\d+)\]\.rule", finding["key"])
            if finding["rule"].startswith("WVR") and match:
                found.setdefault((result["path"], int(match.group(1))), []).append(finding["rule"])
    return {key: sorted(rules) for key, rules in found.items()}


def audited_wvr(document: dict) -> dict[tuple[str, int], list[str]]:
    return {(w["path"], w["index"]): [f["rule"] for f in w["findings"]] for w in document["waivers"] if w["findings"]}


@pytest.mark.parametrize("today", ["2026-12-01", "2027-03-20", "2027-04-01"])
def test_agrees_with_check_on_the_waived_scenario(today: str) -> None:
    path = str(SCENARIOS / "14-waived.toml")
    proc = run("waivers", "--today", today, "--format", "json", path, cwd=SCENARIOS)
    checked = run("check", "--today", today, "--format", "json", path, cwd=SCENARIOS)
    document = json.loads(proc.stdout)
    (entry,) = document["waivers"]
    wvr = sorted(f["rule"] for f in json.loads(checked.stdout)["manifests"][0]["findings"] if f["rule"].startswith("WVR"))
    assert [f["rule"] for f in entry["findings"]] == wvr
    assert entry["status"] == {"2026-12-01": "active", "2027-03-20": "expiring soon", "2027-04-01": "expired"}[today]
    assert proc.returncode == checked.returncode == (1 if today == "2027-04-01" else 0)


def test_agrees_with_check_on_a_built_manifest(tmp_path: Path) -> None:
    manifest(tmp_path / "svc", waiver("FMT001", 14), waiver("FMT001", 20), waiver("FMT999", 30), waiver("RAG001", 30),
             waiver("DAT004", 200), waiver("PRM003", 60), waiver("DAT004", -1), waiver("PRM001", -5))
    status, doc = audit(tmp_path)
    assert audited_wvr(doc) == check_wvr(tmp_path)
    assert statuses(doc) == [
        ("FMT001", "expiring soon", ["WVR006"]),
        ("FMT001", "stale", ["WVR005"]),
        ("FMT999", "invalid", ["WVR002"]),
        ("RAG001", "invalid", ["WVR003"]),
        ("DAT004", "invalid", ["WVR004"]),
        ("PRM003", "stale", ["WVR005"]),
        ("DAT004", "expired", ["WVR001"]),
        ("PRM001", "invalid", ["WVR001", "WVR003"]),
    ]
    assert status == 1


def test_help_does_not_import_the_heavy_modules() -> None:
    assert heavy_modules_after("waivers", "--help") == []


def test_waiver_of_a_rule_turned_off_agrees_with_check(tmp_path: Path) -> None:
    """A waiver of a rule that did not run is neither used nor stale (no WVR005), as check says."""
    (tmp_path / "policylint.toml").write_text('ignore = ["DAT004"]\n', "utf-8")  # a warning: a repository may
    manifest(tmp_path, waiver("DAT004", 60), waiver("DAT004", -2))
    status, doc = audit(tmp_path)
    assert statuses(doc) == [("DAT004", "active", []), ("DAT004", "expired", ["WVR001"])]  # WVR001 always runs
    assert audited_wvr(doc) == check_wvr(tmp_path)
    assert status == 1


def test_standard_input(tmp_path: Path) -> None:
    text = HEAD + waiver("FMT001", 3)
    proc = subprocess.run([sys.executable, "-m", "policylint", "waivers", "-", "--today", TODAY.isoformat(), "--format",
                           "json"], input=text, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert statuses(json.loads(proc.stdout)) == [("FMT001", "expiring soon", ["WVR006"])]
    assert json.loads(proc.stdout)["waivers"][0]["path"] == "-"
