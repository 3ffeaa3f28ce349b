"""Where policylint writes a file, the checked repository (which controls every file and symlink
in its checkout, the names policylint writes to included) can neither redirect the write
elsewhere nor hang the run: a symlink at the destination is never written through, a FIFO
never blocks, a device is never read as a configuration file to edit. Each refusal exits 2
with one line naming the file; ordinary files behave as before."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SCENARIOS
from test_action import pull_request, run_action, write

PASSING = SCENARIOS / "01-format-at-scale.toml"
FAILING = SCENARIOS / "02-knowledge-via-fine-tuning.toml"
TIMEOUT = 30  # a run that blocks on a FIFO would wait forever: the test fails at this bound instead

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="POSIX symlinks")
needs_fifos = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("POLICYLINT_ORG_CONFIG", "POLICYLINT_DEBUG")}
    try:
        return subprocess.run([sys.executable, "-m", "policylint", *args], capture_output=True, text=True, cwd=cwd,
                              env=env, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"policylint {' '.join(args)} did not return within {TIMEOUT}s (blocked on a FIFO?)")


def one_error_line(proc: subprocess.CompletedProcess, *words: str) -> str:
    """The run's single error line, which names every one of ``words``; no traceback."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("policylint: error:")]
    assert len(errors) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git work tree with one passing manifest, and a folder outside it holding a victim file."""
    root = tmp_path.resolve() / "repo"
    (root / ".git").mkdir(parents=True)
    shutil.copy(PASSING, root / "mlproject.toml")
    outside = tmp_path.resolve() / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("precious\n", "utf-8")
    return root


def victim(repo: Path) -> Path:
    return repo.parent / "outside" / "victim.txt"


# --- check -o / --output, schema -o, docs -o -----------------------------------------------------

@needs_symlinks
@pytest.mark.parametrize("command", [("check", ".", "--format", "json"), ("schema",), ("docs",)])
def test_output_is_never_written_through_a_symlink(repo: Path, command: tuple[str, ...]) -> None:
    (repo / "report.json").symlink_to(victim(repo))
    proc = run(*command, "-o", "report.json", cwd=repo)
    one_error_line(proc, "--output", "report.json", "symlink")
    assert victim(repo).read_text("utf-8") == "precious\n"
    assert (repo / "report.json").is_symlink()


@needs_symlinks
def test_output_is_never_created_through_a_dangling_symlink(repo: Path) -> None:
    created = repo.parent / "outside" / "new.json"
    (repo / "report.json").symlink_to(created)
    proc = run("check", ".", "--format", "json", "-o", "report.json", cwd=repo)
    one_error_line(proc, "report.json", "symlink")
    assert not created.exists()


@needs_fifos
def test_output_to_a_fifo_nothing_reads_is_refused_not_waited_on(repo: Path) -> None:
    os.mkfifo(repo / "report.json")
    proc = run("check", ".", "--format", "json", "-o", "report.json", cwd=repo)
    one_error_line(proc, "report.json", "FIFO")


def test_output_to_an_ordinary_file_overwrites_it_as_before(repo: Path) -> None:
    (repo / "report.json").write_text("x" * 100_000, "utf-8")  # longer than the report: truncated first
    proc = run("check", ".", "--format", "json", "-o", "report.json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "report.json").read_text("utf-8").startswith('{"version": 1')
    assert "x" not in (repo / "report.json").read_text("utf-8")[-10:]
    if os.path.exists(os.devnull) and sys.platform != "win32":
        assert run("check", ".", "--format", "json", "-o", os.devnull, cwd=repo).returncode == 0


@pytest.mark.skipif(not os.path.exists("/dev/stdout") or sys.platform == "win32", reason="no /dev/stdout here")
def test_output_to_this_process_s_own_stream_given_as_such_is_written(repo: Path) -> None:
    proc = run("schema", "-o", "/dev/stdout", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("{")


# --- check --write-baseline ------------------------------------------------------------------------

@needs_symlinks
def test_write_baseline_is_never_written_through_a_symlink(repo: Path) -> None:
    shutil.copy(FAILING, repo / "mlproject.toml")
    (repo / "policylint-baseline.toml").symlink_to(victim(repo))
    proc = run("check", ".", "--write-baseline", "policylint-baseline.toml", cwd=repo)
    one_error_line(proc, "--write-baseline", "policylint-baseline.toml", "symlink")
    assert victim(repo).read_text("utf-8") == "precious\n"


def test_write_baseline_to_an_ordinary_file_as_before(repo: Path) -> None:
    shutil.copy(FAILING, repo / "mlproject.toml")
    proc = run("check", ".", "--write-baseline", "policylint-baseline.toml", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    assert "RAG001" in proc.stderr  # not waivable: left out, and said so
    assert (repo / "policylint-baseline.toml").read_text("utf-8").startswith("#")


# --- init ------------------------------------------------------------------------------------------

@needs_symlinks
def test_init_never_creates_a_file_through_a_dangling_symlink(repo: Path) -> None:
    created = repo.parent / "outside" / "mlproject.toml"
    (repo / "sub").mkdir()
    (repo / "sub" / "mlproject.toml").symlink_to(created)
    proc = run("init", "sub", "--no-input", "--no-pack-versions", cwd=repo)
    assert proc.returncode == 2, proc.stderr
    assert "sub/mlproject.toml" in proc.stderr or "sub\\mlproject.toml" in proc.stderr
    assert not created.exists()
    proc = run("init", "sub", "--no-input", "--no-pack-versions", "--force", cwd=repo)
    one_error_line(proc, "mlproject.toml", "symlink")
    assert not created.exists()


@needs_symlinks
def test_init_force_never_overwrites_through_a_symlink(repo: Path) -> None:
    (repo / "mlproject.toml").unlink()
    (repo / "mlproject.toml").symlink_to(victim(repo))
    proc = run("init", "--no-input", "--no-pack-versions", "--force", cwd=repo)
    one_error_line(proc, "mlproject.toml", "symlink")
    assert victim(repo).read_text("utf-8") == "precious\n"


@needs_symlinks
def test_init_default_name_linked_to_a_folder_outside_writes_nothing_there(repo: Path) -> None:
    (repo / "mlproject.toml").unlink()
    (repo / "mlproject.toml").symlink_to(repo.parent / "outside", target_is_directory=True)
    for extra in ((), ("--force",)):
        proc = run("init", "--no-input", "--no-pack-versions", *extra, cwd=repo)
        assert proc.returncode == 2, proc.stderr
        assert not (repo.parent / "outside" / "mlproject.toml").exists()


@needs_fifos
def test_init_force_on_a_fifo_is_refused_not_waited_on(repo: Path) -> None:
    (repo / "mlproject.toml").unlink()
    os.mkfifo(repo / "mlproject.toml")
    proc = run("init", "--no-input", "--no-pack-versions", "--force", cwd=repo)
    one_error_line(proc, "mlproject.toml", "FIFO")


# --- upgrade --write, and init pinning pack versions: the configuration file they edit ------------

ORG = 'pack-versions = { builtin = "1" }\n'


@needs_fifos
def test_upgrade_write_on_a_fifo_configuration_is_refused_not_waited_on(repo: Path) -> None:
    os.mkfifo(repo / "policylint.toml")
    (repo.parent / "org.toml").write_text(ORG, "utf-8")
    proc = run("upgrade", "--write", "--org-config", str(repo.parent / "org.toml"), cwd=repo)
    one_error_line(proc, "policylint.toml", "FIFO", "nothing was written")


@needs_symlinks
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_upgrade_write_never_reads_a_device_as_the_configuration(repo: Path) -> None:
    (repo / "policylint.toml").symlink_to("/dev/zero")
    (repo.parent / "org.toml").write_text(ORG, "utf-8")
    proc = run("upgrade", "--write", "--org-config", str(repo.parent / "org.toml"), cwd=repo)
    one_error_line(proc, "policylint.toml", "not a regular file", "nothing was written")
    assert (repo / "policylint.toml").is_symlink()


@needs_fifos
def test_init_with_a_fifo_configuration_leaves_it_alone(repo: Path) -> None:
    os.mkfifo(repo / "policylint.toml")
    (repo / "sub").mkdir()
    proc = run("init", "sub", "--no-input", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "policylint.toml was left alone" in proc.stderr
    assert (repo / "sub" / "mlproject.toml").is_file()


@needs_symlinks
def test_upgrade_write_replaces_a_symlinked_configuration_never_writes_its_target(repo: Path) -> None:
    """Documented as it is: the edit is a new file put in the link's place (os.replace)."""
    shared = repo.parent / "outside" / "shared.toml"
    shared.write_text('fail-on = "error"\n', "utf-8")
    (repo / "policylint.toml").symlink_to(shared)
    (repo.parent / "org.toml").write_text(ORG, "utf-8")
    proc = run("upgrade", "--write", "--to", "2", "--org-config", str(repo.parent / "org.toml"), cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert shared.read_text("utf-8") == 'fail-on = "error"\n'


# --- the GitHub Action: its SARIF file inside the checked-out repository ---------------------------

@pytest.fixture()
def action_policylint(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "policylint"
    write(path, f'#!/bin/sh\nexec "{sys.executable}" -m policylint "$@"\n')
    path.chmod(0o755)
    return path


QUIET = {"summary": "false", "annotations": "false"}


@needs_symlinks
def test_action_sarif_replaces_a_planted_symlink(tmp_path: Path, action_policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"a/mlproject.toml": PASSING.read_text("utf-8")})
    target = tmp_path / "victim.txt"
    target.write_text("precious\n", "utf-8")
    (repo / "policylint.sarif").symlink_to(target)
    result = run_action(repo, tmp_path, event, action_policylint, **QUIET)
    assert result.status == 0, result.log
    assert target.read_text("utf-8") == "precious\n"
    assert not (repo / "policylint.sarif").is_symlink()
    assert result.outputs["sarif-file"] == "policylint.sarif"


def test_action_sarif_path_taken_by_a_folder_is_a_tool_error(tmp_path: Path, action_policylint: Path) -> None:
    repo, event = pull_request(tmp_path, {"a/mlproject.toml": PASSING.read_text("utf-8")})
    (repo / "policylint.sarif").mkdir()
    result = run_action(repo, tmp_path, event, action_policylint, **QUIET)
    assert result.status == 2, result.log
    assert result.outputs == {"sarif-file": "", "exit-code": "2"}
    errors = [line for line in result.log.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "policylint.sarif" in errors[0], result.log
