"""A non-editable install in a fresh virtualenv, run from an unrelated directory, finds the pack."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from conftest import REPO

pytest.importorskip("hatchling", reason="the wheel is built offline with hatchling (in the test extras)")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with policylint installed from a freshly built wheel (dependencies shared)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", ".venv", "build", "dist"))
    wheels = root / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)],
        check=True, capture_output=True,
    )
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # Dependencies come from the running environment (no network): its site-packages goes on
    # the new environment's path, after the environment's own, where the wheel is installed.
    inner = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    Path(inner, "outer-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", "utf-8")
    (wheel,) = wheels.glob("policylint-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--force-reinstall", "-q", str(wheel)],
        check=True, capture_output=True,
    )
    shutil.rmtree(source)  # nothing may be read from the source tree
    return env_dir


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
    assert len(list(pack.glob("[A-Z]*.toml"))) == 27
