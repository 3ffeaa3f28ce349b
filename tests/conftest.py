"""Shared fixtures: the built-in engine pinned to the date the scenarios are written for, and
wheels installed in throwaway virtualenvs (the install and plugin tests)."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from policylint.builtin import builtin_pack_path
from policylint.engine import Engine, EngineOptions
from policylint.packs import Pack, load_pack

TODAY = datetime.date(2026, 12, 1)
SCENARIOS = Path(__file__).parent / "scenarios"
REPO = Path(__file__).resolve().parent.parent
#: What ``--help`` and ``--version`` must not import: they answer at the cost of importing click.
HEAVY_MODULES = ("pydantic", "pluggy", "tomli", "importlib.metadata")


def heavy_modules_after(*args: str) -> list[str]:
    """Which :data:`HEAVY_MODULES` a fresh ``policylint ARGS`` process has imported when it ends."""
    code = (
        "import os, sys\n"
        "os._exit = sys.exit  # main() ends the process; stay to look at sys.modules\n"
        "from policylint.cli import main\n"
        f"sys.argv = ['policylint', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(' '.join(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[-1].split() if out.strip() else []


@pytest.fixture(scope="session")
def builtin_pack() -> Pack:
    return load_pack(builtin_pack_path())


@pytest.fixture(scope="session")
def engine(builtin_pack: Pack) -> Engine:
    return Engine([builtin_pack], options=EngineOptions(today=TODAY))


# -- wheels in throwaway virtualenvs ---------------------------------------------------------

#: Never copied into a build: caches, environments and build output of the checkout.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", "__pycache__", "*.egg-info", ".venv", "build", "dist", ".pytest_cache", ".hypothesis", ".ruff_cache",
    ".benchmarks",
)


def build_wheel(project: Path, workdir: Path) -> Path:
    """Build ``project``'s wheel offline (no build isolation: hatchling comes from the test extras).

    The build runs on a copy, deleted afterwards, so nothing installed from the wheel can be
    read from a source tree and the checkout gets no build output.
    """
    source = workdir / "src"
    shutil.copytree(project, source, ignore=_NOT_SOURCE)
    wheels = workdir / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)],
        check=True, capture_output=True,
    )
    shutil.rmtree(source)
    (wheel,) = wheels.glob("*.whl")
    return wheel


def make_venv(env_dir: Path, *wheels: Path) -> Path:
    """A virtualenv with ``wheels`` installed, not editable; dependencies shared, no network.

    Dependencies come from the running environment: its site-packages goes on the new
    environment's path by a ``.pth`` file, after the environment's own, where the wheels are
    installed. Nothing is installed into the running environment.
    """
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    inner = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    Path(inner, "outer-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", "utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--force-reinstall", "-q",
         *map(str, wheels)],
        check=True, capture_output=True,
    )
    return env_dir


@pytest.fixture(scope="session")
def policylint_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """policylint's wheel, built once per session from a copy of the checkout."""
    pytest.importorskip("hatchling", reason="the wheel is built offline with hatchling (in the test extras)")
    return build_wheel(REPO, tmp_path_factory.mktemp("policylint-wheel"))


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, policylint_wheel: Path) -> Path:
    """A virtualenv with policylint installed from a freshly built wheel (dependencies shared)."""
    return make_venv(tmp_path_factory.mktemp("install") / "venv", policylint_wheel)
