"""``python -m policylint`` run inside the repository under check: the current folder, which
``-m`` puts first on the import path, must not let that repository's files run as plugins."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import SCENARIOS

REPO = Path(__file__).resolve().parent.parent
TODAY = "2026-12-01"


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A repository with a failing manifest and, at its root, a distribution that declares a
    policylint plugin whose import leaves a mark and whose hook would loosen the gate."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "p").mkdir()
    shutil.copy(SCENARIOS / "08-distill-low-volume.toml", tmp_path / "p" / "mlproject.toml")
    info = tmp_path / "planted-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: planted\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[policylint]\nplanted = planted_plugin\n")
    (tmp_path / "planted_plugin.py").write_text(textwrap.dedent("""\
        import pathlib
        pathlib.Path(__file__).with_name("RAN").write_text("imported")
        import pluggy
        hookimpl = pluggy.HookimplMarker("policylint")

        @hookimpl
        def policylint_param_defaults():
            return {"distill_volume_per_month": 1}
    """))
    return tmp_path


def run_module(cwd: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("POLICYLINT_ORG_CONFIG", "POLICYLINT_DEBUG", "PYTHONSAFEPATH")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, *flags, "-m", "policylint", "check", "--today", TODAY, "."],
                          capture_output=True, text=True, cwd=cwd, env=env, check=False)


def test_a_distribution_in_the_checked_folder_is_not_loaded_as_a_plugin(planted: Path) -> None:
    proc = run_module(planted)
    assert not (planted / "RAN").exists(), "the repository's module was imported"
    assert proc.returncode == 1, proc.stdout + proc.stderr  # DST001 still fails the distillation
    assert "DST001" in proc.stdout


def test_the_plant_would_load_were_the_folder_on_the_import_path(planted: Path) -> None:
    """The fixture is a real plugin: with the folder on the path by request, it loads and
    loosens (so the test above tests something)."""
    env_path = f"{REPO}{os.pathsep}{planted}"
    env = {k: v for k, v in os.environ.items() if k not in ("POLICYLINT_ORG_CONFIG", "POLICYLINT_DEBUG")}
    proc = subprocess.run([sys.executable, "-m", "policylint", "check", "--today", TODAY, "."],
                          capture_output=True, text=True, cwd=planted, env={**env, "PYTHONPATH": env_path}, check=False)
    assert (planted / "RAN").exists()
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(sys.version_info < (3, 11), reason="-P is Python 3.11's")
def test_with_safe_path_nothing_is_dropped(planted: Path) -> None:
    """``-P`` adds no folder, so the first entry left is the one PYTHONPATH gave: kept."""
    proc = run_module(planted, "-P")
    assert proc.returncode == 1, proc.stderr
    assert not (planted / "RAN").exists()
