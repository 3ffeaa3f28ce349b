"""--jobs: worker processes give byte-identical output to one process, in every format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from corpus import build  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Passing, failing, waived and invalid manifests (the benchmark corpus, small)."""
    root = tmp_path_factory.mktemp("corpus")
    build(root, 600)
    (root / "team-00" / "broken" ).mkdir()
    (root / "team-00" / "broken" / "mlproject.toml").write_bytes(b"schema_version = 1\n[project\n")
    return root


def run(corpus: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policylint", "check", "--today", "2026-12-01", ".", *args],
        capture_output=True, cwd=corpus, check=False,
    )


@pytest.mark.parametrize("output_format", ["json", "text"])
def test_two_workers_match_one(corpus: Path, output_format: str) -> None:
    one = run(corpus, "--format", output_format, "--jobs", "1")
    two = run(corpus, "--format", output_format, "--jobs", "2")
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout
    text = one.stdout.decode()
    for rule in ("MAN001", "MAN002", "FMT001", "RAG001"):  # the corpus really mixes outcomes
        assert rule in text
    assert ("waived" in text) and ("pass" in text)


def test_default_jobs_is_one_for_a_handful() -> None:
    from policylint.runner import PARALLEL_THRESHOLD, default_jobs

    assert default_jobs(1) == 1
    assert default_jobs(PARALLEL_THRESHOLD - 1) == 1
    assert default_jobs(PARALLEL_THRESHOLD) >= 1


def test_stdin_with_workers(corpus: Path) -> None:
    manifest = next(corpus.rglob("mlproject.toml")).read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "policylint", "check", "--format", "json", "--today", "2026-12-01", "-j", "2", "-", "."],
        input=manifest, capture_output=True, cwd=corpus, check=False,
    )
    single = subprocess.run(
        [sys.executable, "-m", "policylint", "check", "--format", "json", "--today", "2026-12-01", "-j", "1", "-", "."],
        input=manifest, capture_output=True, cwd=corpus, check=False,
    )
    assert proc.stdout == single.stdout
    assert b'"path": "-"' in proc.stdout
