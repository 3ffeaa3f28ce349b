"""The pre-commit hook, run for real: pre-commit builds the hook from a git repository holding
this working tree and runs it on commits in a temporary project.

pre-commit installs the hook into its own virtualenv with pip, which fetches the build backend
and the dependencies from the package index: the first run takes a while, and without network
access these tests fail (they must not skip: CI relies on them). The environment is built once
per module, in a pre-commit home shared by the tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SCENARIOS

PASSING = (SCENARIOS / "01-format-at-scale.toml").read_text("utf-8")
FAILING = (SCENARIOS / "02-knowledge-via-fine-tuning.toml").read_text("utf-8")
TIMEOUT = 600  # seconds; building the hook environment downloads packages
#: Not copied into the hook repository: caches, build output and virtualenvs.
LEFT_OUT = {".git", ".venv", "venv", ".pytest_cache", ".hypothesis", ".ruff_cache", ".mypy_cache",
            ".benchmarks", "__pycache__", "build", "dist", "node_modules"}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything an outer git or pre-commit run could leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT")) and k != "SKIP"}
    return {**env, "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1", **extra}


def git(*args: str, cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    identity = ("-c", "user.name=policylint tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false")
    proc = subprocess.run(["git", *identity, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    if check:
        assert proc.returncode == 0, f"git {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"
    return proc


def pre_commit(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def _left_out(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in LEFT_OUT or n.endswith(".egg-info") or Path(folder, n, "pyvenv.cfg").exists()}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One pre-commit home for the module, so the hook environment is built once; no global git config."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    gitconfig = home / "gitconfig"
    gitconfig.write_text("[init]\n\tdefaultBranch = main\n", "utf-8")
    return clean_env(PRE_COMMIT_HOME=str(home / "cache"), GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """This working tree committed to a fresh repository (path, sha): uncommitted edits count.

    pre-commit clones a hook repository at a revision, so the hook under test must be committed
    somewhere; a copy works the same in a developer's tree and in CI's fresh clone.
    """
    repo = tmp_path_factory.mktemp("hook") / "policylint"
    shutil.copytree(REPO, repo, ignore=_left_out)
    git("init", "-q", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-q", "--no-verify", "-m", "policylint under test", cwd=repo, env=env)
    return repo, git("rev-parse", "HEAD", cwd=repo, env=env).stdout.strip()


@pytest.fixture
def project(tmp_path: Path, hook_repo: tuple[Path, str], env: dict[str, str]) -> Path:
    """A git repository whose .pre-commit-config.yaml refers to the hook repository, hook installed."""
    repo, sha = hook_repo
    write(tmp_path / ".pre-commit-config.yaml",
          f"repos:\n  - repo: {repo.as_posix()}\n    rev: {sha}\n    hooks:\n      - id: policylint\n")
    write(tmp_path / "README.md", "# a project\n")
    git("init", "-q", cwd=tmp_path, env=env)
    proc = pre_commit("install", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    git("add", "-A", cwd=tmp_path, env=env)
    commit(tmp_path, env, "initial commit")
    return tmp_path


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess:
    """``git commit``, which runs the installed pre-commit hook; fails the test on a hook that could not run."""
    proc = git("commit", "-m", message, cwd=repo, env=env, check=False)
    assert "An unexpected error has occurred" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


def head(repo: Path, env: dict[str, str]) -> str:
    return git("rev-parse", "HEAD", cwd=repo, env=env).stdout.strip()


def hook_line(output: str) -> str:
    """pre-commit's one status line for the hook, such as ``policylint....Failed``."""
    (line,) = [line for line in output.splitlines() if line.startswith("policylint.")]
    return line


def test_hook_definition_is_valid_and_matches_manifests_only() -> None:
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(REPO / ".pre-commit-hooks.yaml"))  # pre-commit's own schema check
    assert hook["id"] == "policylint"
    assert hook["entry"] == "policylint check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    for name in ("mlproject.toml", "a/mlproject.toml", "deep/er/mlproject.toml"):
        assert files.search(name), name
    for name in ("other.toml", "xmlproject.toml", "mlproject.toml.bak", "a/mlproject.toml/x", "pyproject.toml"):
        assert not files.search(name), name


def test_commit_with_a_failing_manifest_is_refused(project: Path, env: dict[str, str]) -> None:
    before = head(project, env)
    write(project / "b" / "mlproject.toml", FAILING)
    git("add", "-A", cwd=project, env=env)
    proc = commit(project, env, "propose fine-tuning for knowledge")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert hook_line(out).endswith("Failed")
    assert "- exit code: 1" in out
    assert re.search(r"^b/mlproject\.toml:\d+:\d+: RAG001 \[error\] ", out, re.MULTILINE), out
    assert "b/mlproject.toml: proposal fine-tune -> recommend rag (decided by RAG001): fail (errors: RAG001)" in out
    assert head(project, env) == before  # nothing was committed


def test_a_manifest_swapped_for_a_symlink_is_checked_not_skipped(project: Path, env: dict[str, str]) -> None:
    write(project / "a" / "mlproject.toml", PASSING)
    git("add", "-A", cwd=project, env=env)
    assert commit(project, env, "a passing manifest").returncode == 0
    write(project / "elsewhere" / "failing.toml", FAILING)
    (project / "a" / "mlproject.toml").unlink()
    (project / "a" / "mlproject.toml").symlink_to("../elsewhere/failing.toml")
    git("add", "-A", cwd=project, env=env)
    before = head(project, env)
    proc = commit(project, env, "swap the manifest for a symlink")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert hook_line(out).endswith("Failed")  # pre-commit's default types: [file] would say Skipped
    assert "a/mlproject.toml: proposal fine-tune -> recommend rag (decided by RAG001): fail (errors: RAG001)" in out
    assert head(project, env) == before


def test_commit_with_a_passing_manifest_goes_through(project: Path, env: dict[str, str]) -> None:
    before = head(project, env)
    write(project / "a" / "mlproject.toml", PASSING)
    git("add", "-A", cwd=project, env=env)
    proc = commit(project, env, "format fine-tuning at scale")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert hook_line(out).endswith("Passed")
    assert head(project, env) != before


def test_only_the_manifests_in_the_change_are_checked(project: Path, env: dict[str, str]) -> None:
    write(project / "b" / "mlproject.toml", FAILING)
    git("add", "-A", cwd=project, env=env)
    git("commit", "-q", "--no-verify", "-m", "a failing manifest already in the history", cwd=project, env=env)
    write(project / "a" / "mlproject.toml", PASSING)
    git("add", "a/mlproject.toml", cwd=project, env=env)
    proc = commit(project, env, "add a passing manifest")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert hook_line(out).endswith("Passed")
    proc = pre_commit("run", "policylint", "--from-ref", "HEAD~1", "--to-ref", "HEAD", cwd=project, env=env)  # as in CI
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The whole tree still fails: pre-commit run --all-files passes every manifest to the hook.
    proc = pre_commit("run", "--all-files", cwd=project, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 manifests checked: 1 passed, 1 failed" in proc.stdout


def test_a_change_without_manifests_skips_the_hook(project: Path, env: dict[str, str]) -> None:
    write(project / "b" / "other.toml", FAILING)  # a TOML file, but not a manifest
    write(project / "README.md", "# a project\n\nMore words.\n")
    git("add", "-A", cwd=project, env=env)
    proc = commit(project, env, "docs")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert hook_line(out).endswith("(no files to check)Skipped")


def test_the_hook_reads_the_project_configuration(project: Path, env: dict[str, str]) -> None:
    write(project / "policylint.toml", 'exclude = ["experiments"]\n')
    write(project / "experiments" / "mlproject.toml", FAILING)
    git("add", "-A", cwd=project, env=env)
    proc = commit(project, env, "an excluded experiment")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert hook_line(out).endswith("Passed")  # it ran on the manifest, which the configuration excludes


def test_try_repo(project: Path, hook_repo: tuple[Path, str], env: dict[str, str]) -> None:
    """What a hook author runs; try-repo builds the environment again in a store of its own."""
    write(project / "a" / "mlproject.toml", PASSING)
    write(project / "b" / "mlproject.toml", FAILING)
    git("add", "-A", cwd=project, env=env)
    repo, sha = hook_repo
    proc = pre_commit("try-repo", str(repo), "policylint", "--ref", sha, "--files", "a/mlproject.toml", "b/mlproject.toml",
                      cwd=project, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert hook_line(proc.stdout).endswith("Failed")
    assert "RAG001" in proc.stdout
    assert "2 manifests checked: 1 passed, 1 failed" in proc.stdout


def test_the_documented_configuration_works(project: Path, hook_repo: tuple[Path, str], env: dict[str, str]) -> None:
    """docs/ci.md's .pre-commit-config.yaml, pointed at the hook repository, catches a failing manifest."""
    (snippet,) = [block for block in re.findall(r"```yaml\n(.*?)```", (REPO / "docs" / "ci.md").read_text("utf-8"), re.DOTALL)
                  if block.startswith("repos:")]
    repo, sha = hook_repo
    assert "https://github.com/OWNER/policylint" in snippet and "rev: v0.1.0" in snippet
    write(project / ".pre-commit-config.yaml",
          snippet.replace("https://github.com/OWNER/policylint", repo.as_posix()).replace("rev: v0.1.0", f"rev: {sha}"))
    write(project / "b" / "mlproject.toml", FAILING)
    git("add", "-A", cwd=project, env=env)
    proc = commit(project, env, "the documented configuration")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "RAG001" in out


def test_an_organisation_plugin_from_additional_dependencies(project: Path, hook_repo: tuple[Path, str], env: dict[str, str]) -> None:
    """docs/plugins.md: the hook with the plugin in ``additional_dependencies`` claims its table.

    Without it, a manifest with ``[ext.governance]`` fails as unclaimed; with the example
    plugin's source folder as an additional dependency (pip installs it into the hook's
    environment), the same commit goes through.
    """
    governance = PASSING + '\n[ext.governance]\nrisk_tier = "low"\nbudget_owner = "ml-platform"\n'
    write(project / "a" / "mlproject.toml", governance)
    git("add", "-A", cwd=project, env=env)
    refused = commit(project, env, "governed, plugin missing")
    said = refused.stdout + refused.stderr  # git prints the hook's output on standard error
    assert refused.returncode == 1, said
    assert "MAN002" in said and "ext.governance" in said

    repo, sha = hook_repo
    plugin = (repo / "plugins" / "policylint-governance").as_posix()  # the hook repository's copy of this tree
    write(project / ".pre-commit-config.yaml",
          f"repos:\n  - repo: {repo.as_posix()}\n    rev: {sha}\n    hooks:\n      - id: policylint\n"
          f"        additional_dependencies: ['{plugin}']\n")
    git("add", "-A", cwd=project, env=env)
    proc = commit(project, env, "governed, plugin installed")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert hook_line(out).endswith("Passed")
