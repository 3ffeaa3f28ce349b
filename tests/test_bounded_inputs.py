"""Configuration and baseline files are read with bounds, as manifests and policy files are:
the repository a gate checks names them, so none may hang the gate, fill its memory or turn
into an internal error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SCENARIOS
from test_layers import run  # the real command, without the caller's org config or debug
from policylint.baseline import MAX_BASELINE_BYTES
from policylint.config.files import MAX_CONFIG_FILE_BYTES

TODAY = "2026-12-01"
PASSING = "10-prompting-only"  # a scenario that passes with the built-in pack


def check(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run("check", "--today", TODAY, *args, cwd=cwd)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A work tree (a ``.git`` folder) with one manifest that passes."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "p").mkdir()
    shutil.copy(SCENARIOS / f"{PASSING}.toml", tmp_path / "p" / "mlproject.toml")
    return tmp_path


def over_limit(limit: int, first: str) -> bytes:
    """A valid TOML text starting with ``first`` and padded with a comment to one byte past ``limit``."""
    head = first.encode() + b"#"
    return head + b"x" * (limit + 1 - len(head))


def test_the_repository_under_check_passes_as_given(repo: Path) -> None:
    """The baseline for the tests below: what changes there is the file they add."""
    proc = check(repo, ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_configuration_file_over_the_limit_stops_the_run(repo: Path) -> None:
    (repo / "policylint.toml").write_bytes(over_limit(MAX_CONFIG_FILE_BYTES, 'fail-on = "warning"\n'))
    proc = check(repo, ".")
    assert proc.returncode == 2
    assert "policylint.toml: cannot read the configuration: larger than 1,048,576 bytes" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_configuration_file_at_the_limit_is_read(repo: Path) -> None:
    text = over_limit(MAX_CONFIG_FILE_BYTES, 'fail-on = "warning"\n')[:-1]
    assert len(text) == MAX_CONFIG_FILE_BYTES
    (repo / "policylint.toml").write_bytes(text)
    proc = check(repo, ".")
    assert proc.returncode in (0, 1), proc.stderr


def test_a_pyproject_over_the_limit_that_may_configure_policylint_stops_the_run(repo: Path) -> None:
    """Not skipped as if it said nothing about policylint: the gate fails closed."""
    (repo / "pyproject.toml").write_bytes(over_limit(MAX_CONFIG_FILE_BYTES, '[tool.policylint]\nfail-on = "warning"\n'))
    proc = check(repo, ".")
    assert proc.returncode == 2
    assert "pyproject.toml: cannot read the configuration: larger than 1,048,576 bytes" in proc.stderr


def test_a_pyproject_over_the_limit_that_never_names_policylint_is_not_its_configuration(repo: Path) -> None:
    (repo / "pyproject.toml").write_bytes(over_limit(MAX_CONFIG_FILE_BYTES, '[project]\nname = "big"\n'))
    proc = check(repo, ".")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_configuration_given_as_a_fifo_is_refused_without_waiting(repo: Path) -> None:
    """Said to be what it is, not "no such file"."""
    os.mkfifo(repo / "fifo.toml")
    proc = check(repo, "--config", "fifo.toml", ".")
    assert proc.returncode == 2
    assert proc.stderr == "policylint: error: --config: not a regular file (a FIFO): fifo.toml\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_baseline_the_configuration_names_that_is_a_fifo_is_refused_without_waiting(repo: Path) -> None:
    """Reading it whole would wait for a writer for ever (the run's timeout, not an answer)."""
    os.mkfifo(repo / "baseline.toml")
    (repo / "policylint.toml").write_text('baseline = "baseline.toml"\n')
    proc = check(repo, ".")
    assert proc.returncode == 2
    assert proc.stderr == f"policylint: error: baseline: cannot read {repo / 'baseline.toml'}: not a regular file (a FIFO)\n"


def test_a_baseline_over_the_limit_stops_the_run(repo: Path) -> None:
    (repo / "baseline.toml").write_bytes(over_limit(MAX_BASELINE_BYTES, ""))
    proc = check(repo, "--baseline", "baseline.toml", ".")
    assert proc.returncode == 2
    assert "baseline: cannot read baseline.toml: larger than 67,108,864 bytes, the limit for this kind of file\n" in proc.stderr


def test_a_baseline_that_is_not_utf8_is_named_not_an_internal_error(repo: Path) -> None:
    (repo / "baseline.toml").write_bytes(b'# \xff\n')
    proc = check(repo, "--baseline", "baseline.toml", ".")
    assert proc.returncode == 2
    assert "baseline: cannot read baseline.toml: not UTF-8 text (invalid start byte at byte 2)" in proc.stderr
    assert "internal error" not in proc.stderr


def test_explain_reads_a_manifest_over_the_limit_as_check_does(repo: Path) -> None:
    """One byte over the limit reaches the loader, which reports the file as too large."""
    from policylint.manifest import MAX_MANIFEST_BYTES

    big = repo / "big" / "mlproject.toml"
    big.parent.mkdir()
    big.write_bytes(over_limit(MAX_MANIFEST_BYTES, "schema_version = 1\n"))
    checked = check(repo, "big")
    explained = run("explain", "--today", TODAY, "big/mlproject.toml", cwd=repo)
    assert checked.returncode == explained.returncode == 1, explained.stderr
    assert "MAN001" in checked.stdout and "MAN001" in explained.stdout
    assert sys.getsizeof(explained.stdout) < MAX_MANIFEST_BYTES  # the text is not echoed back


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_an_organisation_configuration_that_is_a_fifo_is_refused_without_waiting(repo: Path) -> None:
    os.mkfifo(repo / "org.toml")
    proc = run("check", "--today", TODAY, ".", cwd=repo, env={"POLICYLINT_ORG_CONFIG": str(repo / "org.toml")})
    assert proc.returncode == 2
    assert proc.stderr == f"policylint: error: POLICYLINT_ORG_CONFIG: not a regular file (a FIFO): {repo / 'org.toml'}\n"
