"""Which manifests a run checks: the paths given, and the manifests found in folders."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence

from policylint.errors import UsageError

MANIFEST_NAME = "mlproject.toml"
STDIN = "-"
#: Folders discovery never enters, besides hidden ones and virtualenvs (any folder with pyvenv.cfg).
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env"})


def discover(paths: Sequence[str], only: set[str] | None = None) -> list[str]:
    """Manifest paths to check, in the run's order and without duplicates (``-`` stands for stdin).

    A file is taken as given, whatever its name; a directory is searched for ``mlproject.toml``.
    ``only`` (absolute paths) keeps the manifests a change touched. ``exclude`` is applied per
    manifest, by :func:`plan`, since each manifest has its own configuration.
    """
    found: list[str] = []  # a list, sorted then made unique: a set of 50,000 paths weighs more
    for given in paths or ["."]:
        if given == STDIN:
            found.append(STDIN)
            continue
        if not os.path.exists(given):
            raise UsageError(f"path does not exist: {given}")
        if not os.path.isdir(given):
            found.append(_display(given))
            continue
        found.extend(_display(path) for path in _manifests_under(given))
    if only is not None:  # real paths on both sides: a path given through a symlink still matches
        found = [p for p in found if p == STDIN or os.path.realpath(p) in only]
    found.sort()  # no key: usually already the run's order, and no key made per path if so
    if not in_order(found):
        found.sort(key=position)
    return [path for i, path in enumerate(found) if i == 0 or path != found[i - 1]]


def position(path: str) -> str:
    """The one order of a run, serial or parallel: standard input first, then paths by their
    ``/``-separated parts (a folder's manifests together, ``a/`` before ``a b/``), so no
    character a folder name starts with (``+a``, ``-b``) moves a manifest before ``-``.

    As one string, ``/`` made the lowest character (a path holds no NUL), which orders as the
    parts would, at a fraction of the memory of a list of parts per manifest.
    """
    return "" if path == STDIN else path.replace("/", "\0")


def in_order(paths: Sequence[str]) -> bool:
    """Whether ``paths`` are in :func:`position` order, looked at two by two: sorting with a
    key would make every key at once."""
    previous = ""
    for path in paths:
        key = position(path)
        if key < previous:
            return False
        previous = key
    return True


def _manifests_under(top: str) -> Iterator[str]:
    """Every ``mlproject.toml`` below ``top``, in no particular order (callers sort).

    Inside a git work tree, git's own view decides (:func:`_git_manifests`): the repository a
    gate checks must not be able to hide a manifest by what it puts beside it. Elsewhere the
    folders are walked (:func:`_walk`).
    """
    listed = _git_manifests(top)
    return iter(listed) if listed is not None else _walk(top)


def _git_manifests(top: str) -> list[str] | None:
    """Manifests git tracks below ``top``, plus untracked ones it does not ignore; None outside
    a git work tree (or without git), where the folders are walked instead.

    So a virtualenv or build folder that the repository's ``.gitignore`` names is skipped, but a
    tracked manifest is checked wherever it sits: beside a ``pyvenv.cfg``, in a folder named
    ``env`` or ``.ml``. A tracked manifest that is a symlink is checked by what it points to.
    """
    if not _inside_git_work_tree(top):
        return None
    command = ["git", "-C", top, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", _ANY_MANIFEST]
    try:
        proc = subprocess.run(command, capture_output=True, check=False)
    except OSError:  # git is not installed: walk the folders
        return None
    if proc.returncode != 0:
        return None  # not a work tree after all (a bare .git file, a broken repository): walk
    names = dict.fromkeys(os.fsdecode(n) for n in proc.stdout.split(b"\0") if n)
    # --cached lists tracked files deleted from the working tree: nothing to check there.
    return [path for path in (os.path.join(top, name) for name in names) if os.path.lexists(path)]


def ignored_manifests(paths: Sequence[str]) -> list[str]:
    """Manifests below the folders in ``paths`` that a run leaves out because git ignores them
    (``.gitignore``, ``.git/info/exclude``), so a report can say so rather than stay silent."""
    ignored: set[str] = set()
    for given in paths or ["."]:
        if given == STDIN or not os.path.isdir(given) or not _inside_git_work_tree(given):
            continue
        command = ["git", "-C", given, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--", _ANY_MANIFEST]
        try:
            proc = subprocess.run(command, capture_output=True, check=False)
        except OSError:
            continue
        if proc.returncode == 0:
            ignored.update(_display(os.path.join(given, os.fsdecode(n))) for n in proc.stdout.split(b"\0") if n)
    return sorted(ignored)


#: A pathspec for ``mlproject.toml`` at any depth below the folder git runs in.
_ANY_MANIFEST = f":(glob)**/{MANIFEST_NAME}"


def _inside_git_work_tree(folder: str) -> bool:
    """Whether ``folder`` or one above it holds ``.git`` (a folder, or a file for worktrees)."""
    current = os.path.abspath(folder)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def _walk(top: str) -> Iterator[str]:
    """Every ``mlproject.toml`` below ``top`` outside git: hidden folders, virtualenvs and
    vendored folders are not entered.

    One ``scandir`` per folder and no other system call: a folder is recognised as a
    virtualenv by the ``pyvenv.cfg`` among its own entries, when it is listed. A folder that
    cannot be read stops the run (exit 2): a manifest in it could not be checked.
    """
    pending = [top]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except FileNotFoundError:
            continue  # vanished while the run looked: nothing left to check there
        except OSError as exc:
            raise UsageError(f"cannot read the folder {_display(folder)}: {exc.strerror or exc}") from None
        if folder != top and any(entry.name == "pyvenv.cfg" for entry in entries):
            continue
        for entry in entries:
            if entry.name == MANIFEST_NAME:
                if entry.is_file():
                    yield entry.path
            elif entry.is_dir(follow_symlinks=False) and not _skipped(entry.name):
                pending.append(entry.path)


def _skipped(folder: str) -> bool:
    return folder.startswith(".") or folder in SKIPPED_FOLDERS


def _display(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


