"""``check --changed-since REF`` in real temporary git repositories.

Each test builds a repository: commits on ``main``, branches to ``feature``, then commits,
stages, edits and adds files, and runs the real command as a process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SCENARIOS

FAILING = (SCENARIOS / "02-knowledge-via-fine-tuning.toml").read_text("utf-8")  # RAG001
PASSING = (SCENARIOS / "01-format-at-scale.toml").read_text("utf-8")
#: A second failing manifest, different bytes from FAILING (so switching between them is a change).
FAILING_TOO = (SCENARIOS / "08-distill-low-volume.toml").read_text("utf-8")  # DST001


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """No user or system git configuration, and no repository above tmp_path is ever found."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update({
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CEILING_DIRECTORIES": str(tmp_path),
    })
    return env


class Repo:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "tests@example.com")
        self.git("config", "user.name", "Policylint Tests")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=self.root, env=self.env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        return path

    def commit(self, message: str, *paths: str) -> None:
        """Commit everything, or only ``paths`` (what else is staged stays staged)."""
        self.git("add", "-A", *paths)
        self.git("commit", "-q", "-m", message, *(("--", *paths) if paths else ()))

    def check(self, *args: str, cwd: Path | None = None, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "policylint", "check", *args],
            cwd=cwd or self.root, env=self.env, input=stdin, capture_output=True, check=False,
        )

    def checked(self, *args: str, cwd: Path | None = None) -> list[str]:
        """Paths of the manifests a JSON run reports."""
        proc = self.check("--format", "json", *args, cwd=cwd)
        assert proc.returncode in (0, 1), proc.stderr.decode()
        return [m["path"] for m in json.loads(proc.stdout)["manifests"]]


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path)


@pytest.fixture()
def repo(tmp_path: Path, env: dict[str, str]) -> Repo:
    return Repo(tmp_path.resolve() / "repo", env)


@pytest.fixture()
def busy(repo: Repo) -> Repo:
    """A feature branch with every kind of change since its merge base with main."""
    for name in ("unchanged", "modified-committed", "staged-modified", "unstaged", "deleted", "deleted-unstaged",
                 "base-only", "reverted", "renamed-from"):
        repo.write(f"{name}/mlproject.toml", FAILING)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("added-committed/mlproject.toml", FAILING)
    repo.write("modified-committed/mlproject.toml", FAILING_TOO)
    repo.write("reverted/mlproject.toml", FAILING_TOO)
    repo.git("rm", "-q", "deleted/mlproject.toml")
    repo.git("mv", "renamed-from", "renamed-to")
    repo.commit("feature work")
    # main moves on after the branch point: a change feature does not have.
    repo.git("checkout", "-q", "main")
    repo.write("base-only/mlproject.toml", FAILING_TOO)
    repo.commit("main moves on")
    repo.git("checkout", "-q", "feature")
    repo.write("reverted/mlproject.toml", FAILING)  # back to the merge base's content, uncommitted
    repo.write("staged-added/mlproject.toml", FAILING)
    repo.write("staged-modified/mlproject.toml", FAILING_TOO)
    repo.git("add", "staged-added/mlproject.toml", "staged-modified/mlproject.toml")
    repo.write("unstaged/mlproject.toml", FAILING_TOO)
    (repo.root / "deleted-unstaged" / "mlproject.toml").unlink()
    repo.write("untracked/mlproject.toml", FAILING)
    repo.write(".gitignore", "ignored/\n")
    repo.write("ignored/mlproject.toml", FAILING)
    return repo


CHANGED = [
    "added-committed/mlproject.toml",
    "modified-committed/mlproject.toml",
    "renamed-to/mlproject.toml",
    "staged-added/mlproject.toml",
    "staged-modified/mlproject.toml",
    "unstaged/mlproject.toml",
    "untracked/mlproject.toml",
]


def test_every_kind_of_change_is_checked_and_nothing_else(busy: Repo) -> None:
    everything = busy.checked()
    # Without --changed-since every manifest git tracks, or sees untracked, is checked; one in a
    # folder the repository's .gitignore names is not (git's own view decides, as for a venv).
    assert set(CHANGED) < set(everything)
    assert {"unchanged/mlproject.toml", "base-only/mlproject.toml", "reverted/mlproject.toml"} <= set(everything)
    assert "ignored/mlproject.toml" not in everything
    assert busy.checked("--changed-since", "main") == CHANGED


def test_merge_base_not_the_tip_of_ref(busy: Repo) -> None:
    # base-only differs between main's tip and feature, but not from the merge base.
    assert "base-only/mlproject.toml" not in busy.checked("--changed-since", "main")
    diff_to_tip = busy.git("diff", "--name-only", "main").split()
    assert "base-only/mlproject.toml" in diff_to_tip  # so a plain diff against main would wrongly take it


def test_ref_may_be_any_revision(busy: Repo) -> None:
    base = busy.git("merge-base", "main", "HEAD").strip()
    assert busy.checked("--changed-since", base) == CHANGED
    assert busy.checked("--changed-since", "HEAD~1") == CHANGED
    busy.git("tag", "v1", "main")
    assert busy.checked("--changed-since", "v1") == CHANGED


def test_changed_since_head_is_the_uncommitted_work(busy: Repo) -> None:
    assert busy.checked("--changed-since", "HEAD") == [
        "reverted/mlproject.toml",  # differs from HEAD (where feature changed it), not from the merge base
        "staged-added/mlproject.toml",
        "staged-modified/mlproject.toml",
        "unstaged/mlproject.toml",
        "untracked/mlproject.toml",
    ]


def test_paths_still_filter(busy: Repo) -> None:
    busy.write("sub/a/mlproject.toml", FAILING)  # untracked, under sub
    busy.write("sub/b/mlproject.toml", FAILING)
    busy.commit("sub/b", "sub/b")
    assert "?? sub/" in busy.git("status", "--porcelain")
    assert busy.checked("sub", "--changed-since", "main") == ["sub/a/mlproject.toml", "sub/b/mlproject.toml"]
    assert busy.checked("sub/a", "untracked", "unchanged", "--changed-since", "main") == [
        "sub/a/mlproject.toml", "untracked/mlproject.toml",
    ]


def test_explicit_files_are_kept_only_when_changed(busy: Repo) -> None:
    busy.write("custom-name.toml", FAILING)  # untracked, any name
    assert busy.checked("custom-name.toml", "unchanged/mlproject.toml", "staged-added/mlproject.toml",
                        "--changed-since", "main") == ["custom-name.toml", "staged-added/mlproject.toml"]


def test_only_manifest_names_are_discovered(busy: Repo) -> None:
    busy.write("notes/other.toml", FAILING)  # changed, but not a manifest's name
    assert "notes/other.toml" not in busy.checked("--changed-since", "main")


def test_paths_are_relative_to_the_working_directory(repo: Repo) -> None:
    repo.write("team/y/mlproject.toml", FAILING)
    repo.write("other/mlproject.toml", FAILING)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "team-work")
    repo.write("team/x/mlproject.toml", FAILING)  # untracked
    repo.write("other/mlproject.toml", FAILING_TOO)  # changed, but outside the working directory
    proc = repo.check("--changed-since", "main", cwd=repo.root / "team")
    lines = proc.stdout.decode().splitlines()
    assert lines[0].startswith("x/mlproject.toml:12:1: RAG001 [error] ")
    assert lines[1] == "x/mlproject.toml: proposal fine-tune -> recommend rag (decided by RAG001): fail (errors: RAG001)"
    assert lines[2].startswith("1 manifest checked: 0 passed, 1 failed")
    assert proc.returncode == 1


def test_text_and_json_agree(busy: Repo) -> None:
    proc = busy.check("--changed-since", "main", "--format", "json")
    report = json.loads(proc.stdout)
    assert proc.stderr == b""
    assert [m["path"] for m in report["manifests"]] == CHANGED
    assert report["summary"] == {"manifests": 7, "passed": 0, "failed": 7, "errors": 7, "warnings": 0, "waived": 0}
    assert proc.returncode == 1
    text = busy.check("--changed-since", "main").stdout.decode().splitlines()
    assert [line.split(": proposal")[0] for line in text if ": proposal " in line] == CHANGED


def test_exit_code_follows_the_changed_manifests_only(repo: Repo) -> None:
    repo.write("old/mlproject.toml", FAILING)  # fails, but nobody touches it
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("new/mlproject.toml", PASSING)
    proc = repo.check("--changed-since", "main", "--format", "json")
    assert [m["path"] for m in json.loads(proc.stdout)["manifests"]] == ["new/mlproject.toml"]
    assert proc.returncode == 0
    assert repo.check().returncode == 1


def test_nothing_changed_warns_and_passes(repo: Repo) -> None:
    repo.write("a/mlproject.toml", FAILING)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("README.md", "docs only\n")
    proc = repo.check("--changed-since", "main")
    assert proc.returncode == 0
    assert proc.stderr.decode() == "policylint: warning: no manifests changed since main in . (looked for mlproject.toml)\n"
    assert proc.stdout.decode().splitlines() == ["0 manifests checked: 0 passed, 0 failed (0 errors, 0 warnings, 0 waived)"]


def test_unusual_file_names(repo: Repo) -> None:
    repo.write("a/mlproject.toml", PASSING)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("with space/mlproject.toml", FAILING)
    repo.write("données/mlproject.toml", FAILING)
    repo.commit("unusual", "with space")
    assert repo.checked("--changed-since", "main") == ["données/mlproject.toml", "with space/mlproject.toml"]


def test_configured_exclude_still_applies(repo: Repo) -> None:
    repo.write("policylint.toml", 'exclude = ["legacy"]\n')
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("legacy/mlproject.toml", FAILING)
    repo.write("current/mlproject.toml", FAILING)
    assert repo.checked("--changed-since", "main") == ["current/mlproject.toml"]


def test_stdin_is_checked_whatever_changed(repo: Repo) -> None:
    repo.write("a/mlproject.toml", PASSING)
    repo.commit("base")
    proc = repo.check("-", "--changed-since", "main", "--format", "json", stdin=FAILING.encode())
    assert [m["path"] for m in json.loads(proc.stdout)["manifests"]] == ["-"]
    assert proc.returncode == 1


def test_not_in_a_git_repository_exits_2(tmp_path: Path, env: dict[str, str]) -> None:
    folder = tmp_path.resolve() / "plain"
    folder.mkdir()
    (folder / "mlproject.toml").write_text(FAILING, "utf-8")
    proc = subprocess.run([sys.executable, "-m", "policylint", "check", "--changed-since", "main"],
                          cwd=folder, env=env, capture_output=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"policylint: error: --changed-since: {folder} is not inside a git repository\n"
    assert proc.stdout == b""


@pytest.mark.parametrize("ref", ["nope", "origin/main", "main~5", "0123456789abcdef0123456789abcdef01234567"])
def test_unknown_ref_exits_2_naming_it(repo: Repo, ref: str) -> None:
    repo.write("a/mlproject.toml", FAILING)
    repo.commit("base")
    proc = repo.check("--changed-since", ref, "--format", "json")
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"policylint: error: --changed-since: unknown git revision {ref!r}\n"
    assert proc.stdout == b""


def test_ref_that_looks_like_an_option_is_not_passed_to_git_as_one(repo: Repo) -> None:
    repo.write("a/mlproject.toml", FAILING)
    repo.commit("base")
    proc = repo.check("--changed-since=--all")
    assert proc.returncode == 2
    assert "'--all'" in proc.stderr.decode()


def test_ref_without_common_history_exits_2(repo: Repo) -> None:
    repo.write("a/mlproject.toml", FAILING)
    repo.commit("base")
    repo.git("checkout", "-q", "--orphan", "unrelated")
    repo.commit("unrelated root")
    repo.git("checkout", "-q", "main")
    proc = repo.check("--changed-since", "unrelated")
    assert proc.returncode == 2
    assert "'unrelated'" in proc.stderr.decode()
    assert proc.stdout == b""


def test_ref_without_common_history_is_not_called_unknown(repo: Repo) -> None:
    repo.write("a/mlproject.toml", FAILING)
    repo.commit("base")
    repo.git("checkout", "-q", "--orphan", "unrelated")
    repo.commit("unrelated root")
    repo.git("checkout", "-q", "main")
    err = repo.check("--changed-since", "unrelated").stderr.decode()
    assert "unknown git revision" not in err and "merge base" in err


def test_changed_manifests_found_through_a_symlinked_path(busy: Repo, tmp_path: Path) -> None:
    link = tmp_path / "link-to-repo"
    link.symlink_to(busy.root, target_is_directory=True)
    proc = busy.check(str(link), "--changed-since", "main", "--format", "json")
    assert [m["path"] for m in json.loads(proc.stdout)["manifests"]] == [f"{link}/{p}" for p in CHANGED]
    assert proc.returncode == 1


# ------------------------------------------- discovery the checked repository cannot steer


def test_a_tracked_manifest_is_checked_whatever_sits_beside_it(repo: Repo) -> None:
    for folder in ("svc", "env", "venv", ".ml", "node_modules/pkg"):
        repo.write(f"{folder}/mlproject.toml", FAILING)
    repo.write(".gitignore", ".venv/\n")
    repo.write(".venv/lib/mlproject.toml", FAILING)  # ignored by the repository: a real virtualenv
    repo.commit("base")
    repo.write("svc/pyvenv.cfg", "home = /usr\n")  # the trick: make svc/ look like a virtualenv
    repo.write("new/mlproject.toml", FAILING)  # untracked, not ignored: checked too
    assert repo.checked() == [
        ".ml/mlproject.toml", "env/mlproject.toml", "new/mlproject.toml", "node_modules/pkg/mlproject.toml",
        "svc/mlproject.toml", "venv/mlproject.toml",
    ]
    proc = repo.check("--format", "json")
    assert proc.returncode == 1


def test_manifests_git_ignores_are_named_not_silently_dropped(repo: Repo) -> None:
    repo.write("svc/mlproject.toml", PASSING)
    repo.write(".gitignore", ".venv/\nbuild/\n")
    repo.write(".venv/lib/mlproject.toml", FAILING)
    repo.write("build/mlproject.toml", FAILING)
    repo.commit("base")
    proc = repo.check()
    assert proc.returncode == 0  # only svc/ is checked
    assert proc.stderr.decode() == (
        "policylint: note: 2 manifests not checked: git ignores them: .venv/lib/mlproject.toml, build/mlproject.toml\n"
    )
    assert repo.check("--changed-since", "HEAD").stderr.decode().count("not checked") == 0  # only changes


def test_a_tracked_manifest_deleted_from_the_work_tree_is_not_looked_for(repo: Repo) -> None:
    repo.write("a/mlproject.toml", FAILING)
    repo.write("b/mlproject.toml", PASSING)
    repo.commit("base")
    (repo.root / "a" / "mlproject.toml").unlink()
    assert repo.checked() == ["b/mlproject.toml"]


def test_a_manifest_swapped_for_a_symlink_is_a_change_and_checked_by_its_target(repo: Repo) -> None:
    repo.write("svc/mlproject.toml", PASSING)
    repo.write("elsewhere/failing.toml", FAILING)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    (repo.root / "svc" / "mlproject.toml").unlink()
    (repo.root / "svc" / "mlproject.toml").symlink_to("../elsewhere/failing.toml")
    repo.commit("a type change (T)")
    assert "T\tsvc/mlproject.toml" in repo.git("diff", "--name-status", "--no-renames", "main")
    proc = repo.check("--changed-since", "main", "--format", "json")
    report = json.loads(proc.stdout)
    assert [m["path"] for m in report["manifests"]] == ["svc/mlproject.toml"]
    assert [f["rule"] for f in report["manifests"][0]["findings"]] == ["RAG001"]  # the target's content
    assert proc.returncode == 1


def test_a_copied_manifest_is_a_change(repo: Repo) -> None:
    repo.write("a/mlproject.toml", FAILING)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("b/mlproject.toml", FAILING)
    repo.commit("a copy")
    assert repo.checked("--changed-since", "main") == ["b/mlproject.toml"]


def test_an_unreadable_folder_stops_the_walk_outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policylint import discovery
    from policylint.errors import UsageError

    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: str):  # root reads every folder, so the refusal is simulated
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)
    with pytest.raises(UsageError) as caught:
        list(discovery._walk(str(tmp_path)))
    assert str(caught.value) == f"cannot read the folder {tmp_path.as_posix()}/locked: Permission denied"
