"""A non-editable install in a fresh virtualenv, run from an unrelated directory, finds the pack.

The virtualenv is conftest's ``installed`` fixture (shared with the plugin tests).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

pytest.importorskip("hatchling", reason="the wheel is built offline with hatchling (in the test extras)")


def test_wheel_install_lints_the_bundled_examples(installed: Path, tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(REPO / "examples", examples)
    proc = subprocess.run(
        [str(installed / "bin" / "policylint"), "check", "--format", "json", "--today", "2026-12-01", str(examples)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert proc.stderr == ""
    report = json.loads(proc.stdout)
    assert report["summary"]["manifests"] == len(list((REPO / "examples").glob("*/mlproject.toml")))
    assert {m["decision"]["recommendation"] for m in report["manifests"]} >= {"rag", "fine-tune"}
    assert proc.returncode == 1


def test_wheel_ships_the_pack_inside_the_package(installed: Path, tmp_path: Path) -> None:
    code = "from policylint.builtin import builtin_pack_path; print(builtin_pack_path())"
    out = subprocess.run([str(installed / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    pack = Path(out.stdout.strip())
    assert pack.name == "_builtin_policies"
    assert str(installed) in str(pack)
    shipped = sorted(p.name for p in pack.glob("*.toml"))
    assert shipped == sorted(p.name for p in (REPO / "policies").glob("*.toml"))  # every policy and pack.toml
