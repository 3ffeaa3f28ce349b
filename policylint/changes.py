"""Which manifests a change touched: ``check --changed-since REF``.

Every change but a deletion since the merge base of REF and HEAD: added, modified, renamed
(its new path), copied, or changed in type (a file swapped for a symlink); committed, staged,
unstaged, or untracked (and not ignored). Deleted files are left out: there is nothing to check.
"""

from __future__ import annotations

import os
import subprocess

from policylint.errors import UsageError


def _git(*args: str, cwd: str | None = None) -> str:
    try:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, cwd=cwd, check=False)
    except FileNotFoundError:
        raise UsageError("--changed-since needs git, which is not installed") from None
    if proc.returncode != 0:
        raise _GitFailed(proc.stderr.strip())
    return proc.stdout


class _GitFailed(Exception):
    pass


def changed_manifests(ref: str) -> set[str]:
    """Real paths of files changed in any way but deletion since the merge base of ``ref`` and
    HEAD, and the changed entries' own paths below the real top folder (a changed symlink)."""
    try:
        top = _git("rev-parse", "--show-toplevel").strip()
    except _GitFailed:
        raise UsageError(f"--changed-since: {os.getcwd()} is not inside a git repository") from None
    try:
        _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=top)
    except _GitFailed:
        raise UsageError(f"--changed-since: unknown git revision {ref!r}") from None
    try:
        base = _git("merge-base", ref, "HEAD", cwd=top).strip()
    except _GitFailed:
        raise UsageError(f"--changed-since: {ref!r} and HEAD have no merge base (no common history)") from None
    # Against the working tree: commits since the base, staged and unstaged edits alike.
    # --no-renames shows a rename as its new path added; "d" keeps every status but deletion
    # (A, M, T for a type change, and C, R, U, X should git report them).
    changed = _git("diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", base, cwd=top)
    untracked = _git("ls-files", "-z", "--others", "--exclude-standard", cwd=top)
    names = [n for n in (changed + untracked).split("\0") if n]
    found = {os.path.realpath(os.path.join(top, name)) for name in names}
    # Each changed entry itself too, under the real top folder: a symlink among them (a folder
    # repointed at other files) changes every manifest that resolves through it, which
    # discovery finds by each symlinked manifest's links (``discovery._changed``).
    real_top = os.path.realpath(top)
    found.update(os.path.join(real_top, name) for name in names)
    return found
