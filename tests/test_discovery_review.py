"""Review of discovery from the side of a team that owns the repository under check and wants a
failing manifest through the gate: each test is a way a manifest that should be checked was
left out without a word, or checked as something else (found in review)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SCENARIOS
from test_changes import Repo, env, repo  # noqa: F401 - the fixtures, shared

from policylint import discovery
from policylint.discovery import discover

FAILING = (SCENARIOS / "02-knowledge-via-fine-tuning.toml").read_text("utf-8")  # RAG001
PASSING = (SCENARIOS / "01-format-at-scale.toml").read_text("utf-8")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "policylint", "check", "--today", "2026-12-01", "--format", "json", *args],
        cwd=cwd, env=env, capture_output=True, check=False,
    )
    report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, report, proc.stderr.decode()


def verdicts(report: dict) -> dict[str, list[str]]:
    return {m["path"]: [f["rule"] for f in m["findings"]] for m in report["manifests"]}


# ------------------------------------------------- a git work tree that git cannot list


def _hiding_places(root: Path) -> None:
    """Where a walk outside git does not look, but git's view of a work tree does."""
    for folder in (".ml", "env", "venv", "node_modules/pkg", "svc"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "mlproject.toml").write_text(FAILING, "utf-8")
    (root / "svc" / "pyvenv.cfg").write_text("home = /usr\n", "utf-8")
    (root / "ok").mkdir()
    (root / "ok" / "mlproject.toml").write_text(PASSING, "utf-8")


def test_a_work_tree_git_cannot_list_hides_nothing_by_folder_names(repo: Repo, env: dict[str, str],
                                                                   tmp_path: Path) -> None:
    """Without git on PATH (a slim CI image), the walk stood in for git's view and skipped
    ``.ml/``, ``env/`` and a folder beside a ``pyvenv.cfg``: the failing manifests there passed
    the gate in silence."""
    _hiding_places(repo.root)
    repo.commit("base")
    no_git = tmp_path / "no-git"
    no_git.mkdir()
    code, report, _ = run(cwd=repo.root, env={**env, "PATH": str(no_git)})
    assert sorted(verdicts(report)) == [
        ".ml/mlproject.toml", "env/mlproject.toml", "node_modules/pkg/mlproject.toml", "ok/mlproject.toml",
        "svc/mlproject.toml", "venv/mlproject.toml",
    ]
    assert code == 1


@pytest.mark.parametrize("failure", ["not installed", "dubious ownership"])
def test_discovery_falls_back_to_every_folder_when_git_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             failure: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n", "utf-8")
    _hiding_places(tmp_path)

    def fails(command: list[str], **_: object) -> subprocess.CompletedProcess:
        if failure == "not installed":
            raise FileNotFoundError(2, "No such file or directory", "git")
        return subprocess.CompletedProcess(command, 128, b"", b"fatal: detected dubious ownership in repository\n")

    monkeypatch.setattr(discovery.subprocess, "run", fails)
    monkeypatch.chdir(tmp_path)
    assert list(discover(["."])) == [
        ".ml/mlproject.toml", "env/mlproject.toml", "node_modules/pkg/mlproject.toml", "ok/mlproject.toml",
        "svc/mlproject.toml", "venv/mlproject.toml",
    ]


def test_outside_git_the_documented_folders_are_still_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()  # a folder of that name without HEAD is no repository: still outside git
    _hiding_places(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert list(discover(["."])) == ["ok/mlproject.toml"]


# ------------------------------------------------- outside git: what a file named mlproject.toml is


def test_a_folder_named_like_the_manifest_is_searched_outside_git(tmp_path: Path) -> None:
    """The walk neither took a folder called ``mlproject.toml`` as a manifest nor entered it, so
    a manifest inside it was never found (git's view finds it)."""
    (tmp_path / "svc" / "mlproject.toml").mkdir(parents=True)
    (tmp_path / "svc" / "mlproject.toml" / "mlproject.toml").write_text(FAILING, "utf-8")
    code, report, _ = run(cwd=tmp_path)
    assert verdicts(report) == {"svc/mlproject.toml/mlproject.toml": ["RAG001"]}
    assert code == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_a_manifest_that_is_not_a_regular_file_is_reported_outside_git(tmp_path: Path) -> None:
    """A symlink to /dev/null, a dangling symlink or a FIFO named ``mlproject.toml`` was skipped
    by the walk in silence; in a git work tree the same tracked symlinks are MAN001, and a
    manifest that cannot be read fails closed."""
    for folder in ("null", "dangling", "fifo"):
        (tmp_path / folder).mkdir()
    (tmp_path / "null" / "mlproject.toml").symlink_to(os.devnull)
    (tmp_path / "dangling" / "mlproject.toml").symlink_to(tmp_path / "nowhere.toml")
    os.mkfifo(tmp_path / "fifo" / "mlproject.toml")
    code, report, _ = run(cwd=tmp_path)
    assert verdicts(report) == {
        "dangling/mlproject.toml": ["MAN001"], "fifo/mlproject.toml": ["MAN001"], "null/mlproject.toml": ["MAN001"],
    }
    assert code == 1


# ------------------------------------------------- --changed-since through symlinks


def _versions(repo: Repo) -> None:
    """``v1/m.toml`` passes, ``v2/m.toml`` fails, and ``current -> v1``."""
    repo.write("v1/m.toml", PASSING)
    repo.write("v2/m.toml", FAILING)
    (repo.root / "current").symlink_to("v1")


def _repoint_current_on_a_branch(repo: Repo) -> None:
    """Commit the tree on main, then a branch ``feature`` whose only change is ``current -> v2``."""
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    (repo.root / "current").unlink()
    (repo.root / "current").symlink_to("v2")
    repo.commit("repoint")


def test_a_manifest_whose_symlinked_folder_was_repointed_is_a_change(repo: Repo) -> None:
    """``svc/mlproject.toml -> ../current/m.toml`` and ``current -> v1``: a branch that only
    repoints ``current`` at ``v2`` (a failing file committed earlier under another name) changes
    what the manifest says, but only ``current`` is in the diff."""
    _versions(repo)
    (repo.root / "svc").mkdir()
    (repo.root / "svc" / "mlproject.toml").symlink_to("../current/m.toml")
    _repoint_current_on_a_branch(repo)
    assert repo.git("diff", "--name-only", "main").split() == ["current"]
    proc = repo.check("--changed-since", "main", "--format", "json")
    assert [m["path"] for m in json.loads(proc.stdout)["manifests"]] == ["svc/mlproject.toml"]
    assert proc.returncode == 1


def test_a_repointed_symlink_in_the_middle_of_a_chain_is_a_change(repo: Repo) -> None:
    """The manifest's own symlink and its final target are unchanged; a link between them is not."""
    _versions(repo)
    (repo.root / "links").mkdir()
    (repo.root / "links" / "m.toml").symlink_to("../current/m.toml")
    (repo.root / "svc").mkdir()
    (repo.root / "svc" / "mlproject.toml").symlink_to("../links/m.toml")
    _repoint_current_on_a_branch(repo)
    assert repo.checked("--changed-since", "main") == ["svc/mlproject.toml"]


def test_a_symlinked_manifest_whose_chain_did_not_change_is_not_checked(repo: Repo) -> None:
    repo.write("v1/m.toml", FAILING)
    repo.write("other/x.toml", PASSING)
    (repo.root / "current").symlink_to("v1")
    (repo.root / "svc").mkdir()
    (repo.root / "svc" / "mlproject.toml").symlink_to("../current/m.toml")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("other/x.toml", FAILING)
    repo.commit("unrelated")
    assert repo.checked("--changed-since", "main") == []


# ------------------------------------------------- file names the pre-commit hook passes


@pytest.mark.parametrize("folder", ["--output=X", "-oX", "--write-baseline=X"])
def test_a_manifest_path_that_reads_as_an_option_is_refused_not_dropped(tmp_path: Path, folder: str) -> None:
    """pre-commit passes each staged manifest's path as an argument. One in a folder named
    ``--output=X`` was parsed as ``--output X/mlproject.toml``: the failing manifest was never
    checked, the run passed on the others, and the report was written over ``X/mlproject.toml``."""
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "mlproject.toml").write_text(PASSING, "utf-8")
    (tmp_path / "X").mkdir()
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "mlproject.toml").write_text(FAILING, "utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "policylint", "check", "--today", "2026-12-01", "ok/mlproject.toml", f"{folder}/mlproject.toml"],
        cwd=tmp_path, capture_output=True, check=False,
    )
    assert proc.returncode == 2, proc.stdout.decode()
    assert f"'{folder}/mlproject.toml' names a file or folder" in proc.stderr.decode()
    assert not (tmp_path / "X" / "mlproject.toml").exists()


def test_a_path_after_a_double_dash_or_with_dot_slash_is_checked(tmp_path: Path) -> None:
    (tmp_path / "--output=X").mkdir()
    (tmp_path / "--output=X" / "mlproject.toml").write_text(FAILING, "utf-8")
    for given in (["--", "--output=X/mlproject.toml"], ["./--output=X/mlproject.toml"]):
        code, report, _ = run(*given, cwd=tmp_path)
        assert verdicts(report) == {"--output=X/mlproject.toml": ["RAG001"]} and code == 1
