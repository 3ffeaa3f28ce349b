"""Virtualenvs for the virtualenv benchmark: a slim one and one with 300 more distributions.

    python benchmarks/venvs.py DIR [--fake 300]   # build one, print its policylint script

Both are plain virtualenvs (no ``--system-site-packages``, no ``.pth`` into this interpreter's
site-packages, which holds the test tools too): the slim one has exactly policylint and its
dependencies, as ``pip install policylint`` would leave it; the large one has the same plus
``--fake`` fake but valid distributions, as a data-science project's environment has pandas
and friends. No network:

- policylint is built into a wheel from a copy of this checkout (``pip wheel --no-deps
  --no-build-isolation``, hatchling from the test extras; the copy keeps build output out of
  the checkout) and installed with ``pip --python VENV install --no-deps``: not editable, so
  the virtualenv's ``sys.path`` has no extra folder;
- each dependency (the closure of policylint's requirements, without extras) is copied from
  this interpreter's environment file by file, as its ``RECORD`` lists them, dist-info
  included: the files a ``pip install`` of the same wheels leaves (files outside
  site-packages, such as console scripts, are left out: none of them is on the check path);
- a fake distribution is ``fake_pkg_NNN-1.0.dist-info/`` (METADATA, WHEEL, INSTALLER, RECORD,
  and for every third one an ``entry_points.txt`` with ``console_scripts`` and other groups,
  never ``policylint``) beside its package ``fake_pkg_NNN/__init__.py``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Never copied into the build: caches, environments and build output of the checkout.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", "__pycache__", "*.egg-info", ".venv", "build", "dist", ".pytest_cache", ".hypothesis", ".ruff_cache",
    "out", ".mypy_cache",
)


def build_wheel(workdir: Path) -> Path:
    """policylint's wheel, built offline from a copy of the checkout."""
    source = workdir / "src"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(workdir), str(source)],
        check=True, capture_output=True,
    )
    shutil.rmtree(source)
    (wheel,) = workdir.glob("policylint-*.whl")
    return wheel


def requirements_closure(name: str) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``name`` needs (not itself), extras left out."""
    from packaging.requirements import Requirement

    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [name]
    while pending:
        for text in importlib.metadata.requires(pending.pop()) or []:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            key = requirement.name.lower().replace("_", "-")
            if key not in found:
                found[key] = importlib.metadata.distribution(requirement.name)
                pending.append(requirement.name)
    return list(found.values())


def copy_distribution(dist: importlib.metadata.Distribution, site: Path) -> int:
    """Copy an installed distribution's files (its RECORD) into ``site``; how many were copied."""
    copied = 0
    for file in dist.files or []:
        if file.parts[0] == "..":
            continue  # console scripts and data outside site-packages
        source = Path(dist.locate_file(file))
        if not source.is_file():
            continue
        target = site / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)  # keeps mtimes, so copied bytecode stays valid
        copied += 1
    return copied


def fake_distributions(site: Path, count: int) -> None:
    """``count`` small, valid distributions; every third declares entry points (never policylint's)."""
    for index in range(count):
        name = f"fake_pkg_{index:03d}"
        package = site / name
        package.mkdir()
        (package / "__init__.py").write_text(f'"""{name}: a fake distribution for the virtualenv benchmark."""\n')
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        files = {
            "METADATA": f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 1.0\n"
                        f"Summary: Fake distribution number {index}\nRequires-Python: >=3.8\n\nA fake.\n",
            "WHEEL": "Wheel-Version: 1.0\nGenerator: policylint-benchmarks\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            "INSTALLER": "pip\n",
        }
        if index % 3 == 0:
            files["entry_points.txt"] = (
                f"[console_scripts]\n{name.replace('_', '-')} = {name}:main\n\n"
                f"[pytest11]\n{name} = {name}.plugin\n\n"
                f"[{name}.extensions]\ndefault = {name}:Extension [extra]\n"
            )
        for file_name, text in files.items():
            (info / file_name).write_text(text)
        record = [f"{name}/__init__.py,,", *(f"{info.name}/{file_name},," for file_name in files), f"{info.name}/RECORD,,"]
        (info / "RECORD").write_text("\n".join(record) + "\n")


def make_venv(env_dir: Path, wheel: Path, fake: int = 0) -> Path:
    """A virtualenv with policylint (from ``wheel``), its dependencies and ``fake`` fake distributions.

    Returns its ``policylint`` script.
    """
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for dist in requirements_closure("policylint"):
        copy_distribution(dist, site)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True)
    fake_distributions(site, fake)
    script = env_dir / "bin" / "policylint"
    subprocess.run([str(script), "--version"], check=True, capture_output=True)  # it runs
    return script


def count_distributions(script: Path) -> int:
    """How many distributions the virtualenv's interpreter sees (importlib.metadata's count)."""
    code = "import importlib.metadata as m; print(len(list(m.distributions())))"
    out = subprocess.run([str(script.parent / "python"), "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--fake", type=int, default=0, help="how many fake distributions to add")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = make_venv(args.dir, build_wheel(Path(tmp)), args.fake)
    print(script)


if __name__ == "__main__":
    main()
