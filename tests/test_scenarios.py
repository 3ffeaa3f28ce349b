"""The shared scenarios decide as ``expected.toml`` says, through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomli

from conftest import REPO, SCENARIOS

EXPECTED = tomli.loads((SCENARIOS / "expected.toml").read_text("utf-8"))
SHARED = REPO.parent / "shared" / "scenarios"


def run_json(*args: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "policylint", "check", "--format", "json", "--today", "2026-12-01", *args],
        capture_output=True, text=True, check=False,
    )
    assert proc.stderr == ""
    return proc.returncode, proc.stdout


@pytest.fixture(scope="module")
def report() -> dict:
    files = sorted(str(p) for p in SCENARIOS.glob("[0-9]*.toml"))
    code, out = run_json(*files)
    assert code == 1  # some scenarios fail
    return {Path(m["path"]).name: m for m in json.loads(out)["manifests"]}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_decides_as_expected(report: dict, name: str) -> None:
    expected, got = EXPECTED[name], report[name]
    assert got["decision"]["recommendation"] == expected.get("recommendation")
    assert got["decision"]["verdict"] == expected["verdict"]
    assert sorted(f["rule"] for f in got["findings"]) == sorted(expected["rules"])
    assert sorted(f["rule"] for f in got["findings"] if f["waived"]) == sorted(expected.get("waived", []))


def test_every_scenario_file_is_expected() -> None:
    assert sorted(p.name for p in SCENARIOS.glob("[0-9]*.toml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_alone_exits_by_its_verdict(name: str) -> None:
    code, out = run_json(str(SCENARIOS / name))
    assert code == (0 if EXPECTED[name]["verdict"] == "pass" else 1)
    assert json.loads(out)["summary"]["manifests"] == 1


def test_json_report_is_byte_identical_across_runs() -> None:
    files = sorted(str(p) for p in SCENARIOS.glob("[0-9]*.toml"))
    first = run_json(*files)
    assert run_json(*reversed(files)) == first  # order on the command line does not matter either


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not beside the repository (outside CI)")
def test_copies_are_in_sync_with_shared() -> None:
    for path in SHARED.glob("*.toml"):
        assert (SCENARIOS / path.name).read_bytes() == path.read_bytes(), path.name
