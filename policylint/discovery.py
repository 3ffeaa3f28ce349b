"""Which manifests a run checks: the paths given, and the manifests found in folders."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from policylint.errors import UsageError

MANIFEST_NAME = "mlproject.toml"
STDIN = "-"
#: Folders discovery never enters, besides hidden ones and virtualenvs (any folder with pyvenv.cfg).
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env"})


def discover(paths: Sequence[str], only: set[str] | None = None) -> list[str]:
    """Manifest paths to check, sorted and without duplicates (``-`` stands for stdin).

    A file is taken as given, whatever its name; a directory is searched for ``mlproject.toml``.
    ``only`` (absolute paths) keeps the manifests a change touched. ``exclude`` is applied per
    manifest, by :func:`plan`, since each manifest has its own configuration.
    """
    found: set[str] = set()
    for given in paths or ["."]:
        if given == STDIN:
            found.add(STDIN)
            continue
        if not os.path.exists(given):
            raise UsageError(f"path does not exist: {given}")
        if not os.path.isdir(given):
            found.add(_display(given))
            continue
        found.update(_display(path) for path in _manifests_under(given))
    if only is not None:  # real paths on both sides: a path given through a symlink still matches
        found = {p for p in found if p == STDIN or os.path.realpath(p) in only}
    return sorted(found)


def _manifests_under(top: str) -> Iterator[str]:
    """Every ``mlproject.toml`` below ``top``, in no particular order (callers sort).

    One ``scandir`` per folder and no other system call: a folder is recognised as a
    virtualenv by the ``pyvenv.cfg`` among its own entries, when it is listed.
    """
    pending = [top]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue  # unreadable or vanished: nothing to check there
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


