"""Security review of the gate: what a repository controls must never quietly loosen it.

Each test is one way a team that owns the repository (its manifests, configuration files,
baseline, waivers and CI flags, but not the organisation's configuration nor the installed
plugins) tried to get a failing proposal through; each failed before its fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_config import scenario, write
from test_layers import check


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git work tree with scenario 15 in svc/: PRM005 (an error since pack version 2)."""
    root = tmp_path.resolve() / "repo"
    (root / ".git").mkdir(parents=True)
    write(root / "svc" / "mlproject.toml", scenario("15"))
    return root


def test_a_repository_pack_named_like_a_loaded_pack_cannot_unlock_an_older_pin(repo: Path) -> None:
    """A policy-paths pack named ``builtin`` at version 1 made the built-in pack's current
    version read as 1, so the repository could pin ``builtin = "1"`` and turn PRM005 (and the
    other version 2 rules) into preview warnings: the proposal passed."""
    write(repo / "pk" / "pack.toml", '[pack]\nname = "builtin"\nversion = "1"\ndescription = "mine"\n')
    write(repo / "policylint.toml", 'policy-paths = ["pk"]\npack-versions = { builtin = "1" }\n')
    proc = check(repo)
    assert proc.returncode == 2, proc.stdout
    assert proc.stdout == ""
    assert "pack 'builtin'" in proc.stderr and "pk" in proc.stderr
    assert f"{repo / 'policylint.toml'}:1" in proc.stderr  # the setting that added it, as other policy-paths errors


def test_a_repository_pack_may_not_share_a_name_even_without_a_pin(repo: Path) -> None:
    """Two packs of one name make ``pack-versions`` ambiguous for every layer: refused."""
    write(repo / "pk" / "pack.toml", '[pack]\nname = "builtin"\nversion = "9"\ndescription = "mine"\n')
    write(repo / "policylint.toml", 'policy-paths = ["pk"]\n')
    proc = check(repo)
    assert proc.returncode == 2, proc.stdout


def test_a_repository_pack_with_a_name_of_its_own_still_loads(repo: Path) -> None:
    write(repo / "pk" / "pack.toml", '[pack]\nname = "mine"\nversion = "1"\ndescription = "mine"\n')
    write(repo / "policylint.toml", 'policy-paths = ["pk"]\n')
    proc = check(repo)
    assert proc.returncode == 1, proc.stderr
    (result,) = json.loads(proc.stdout)["manifests"]
    assert [(f["rule"], f["severity"]) for f in result["findings"]] == [("PRM005", "error")]


def test_one_pack_folder_named_by_two_files_is_one_pack(repo: Path) -> None:
    """The root's and a team's file may both name the same folder (spelled from each)."""
    write(repo / "pk" / "pack.toml", '[pack]\nname = "mine"\nversion = "1"\ndescription = "mine"\n')
    write(repo / "policylint.toml", 'policy-paths = ["pk"]\n')
    write(repo / "svc" / "policylint.toml", 'policy-paths = ["../pk"]\n')
    proc = check(repo)
    assert proc.returncode == 1, proc.stderr
