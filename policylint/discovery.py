"""Which manifests a run checks: the paths given, and the manifests found in folders."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from policylint.errors import UsageError

MANIFEST_NAME = "mlproject.toml"
STDIN = "-"
#: Folders discovery never enters, besides hidden ones and virtualenvs (any folder with pyvenv.cfg).
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env"})


def discover(paths: Sequence[str], only: set[str] | None = None, listing: Listing | None = None) -> PathList:
    """Manifest paths to check, in the run's order and without duplicates (``-`` stands for stdin).

    A file is taken as given, whatever its name; a directory is searched for ``mlproject.toml``.
    ``only`` (absolute paths) keeps the manifests a change touched. ``exclude`` is applied per
    manifest, by :func:`plan`, since each manifest has its own configuration. ``listing``, when
    given, keeps what the walk saw of each folder, for finding configuration files (:class:`Listing`).
    """
    found = PathList()
    for given in paths or ["."]:
        if given == STDIN:
            found.append(STDIN)
            continue
        if not os.path.exists(given):
            raise UsageError(f"path does not exist: {given}")
        if not os.path.isdir(given):
            found.append(_display(given))
            continue
        found.extend(_displayed(given, _manifests_under(given, listing)))
    if only is not None:  # real paths on both sides: a path given through a symlink still matches
        real_cwd = os.path.realpath(os.getcwd())
        found = PathList(p for p in found if p == STDIN or _changed(p, only, real_cwd))
    if in_order(found) and _unique_in_order(found):  # one folder walked: already so, nothing to sort
        return found
    ordered = sorted(found, key=position)
    return PathList(path for i, path in enumerate(ordered) if i == 0 or path != ordered[i - 1])


def _changed(path: str, changed: set[str], real_cwd: str) -> bool:
    """Whether ``path`` is among the ``changed`` entries (``changes.changed_manifests``): its
    real path, or a symlink it resolves through (a folder repointed at other files changes the
    manifest below it, though only the symlink is in the diff). Only a path whose real path
    differs from its lexical one is resolved link by link."""
    real = os.path.realpath(path)
    if real in changed:
        return True
    if os.sep != "/":
        return False
    start = "/" if path.startswith("/") else real_cwd
    if real == os.path.normpath(os.path.join(start, path)):
        return False  # no symlink on the way
    return any(link in changed for link in _links_on_the_way(start, path))


def _links_on_the_way(start: str, path: str) -> Iterator[str]:
    """Each symlink that resolving ``path`` from the real folder ``start`` goes through, as its
    real folder joined with its own name (POSIX; at most 40, as the kernel allows)."""
    resolved = start
    rest = path.split("/")[::-1]  # the next part last
    hops = 0
    while rest:
        name = rest.pop()
        if name in ("", "."):
            continue
        if name == "..":
            resolved = os.path.dirname(resolved)
            continue
        here = os.path.join(resolved, name)
        if not os.path.islink(here):
            resolved = here
            continue
        yield here
        hops += 1
        try:
            target = os.readlink(here)
        except OSError:
            return
        if hops > 40:
            return
        if target.startswith("/"):
            resolved = "/"
        rest.extend(target.split("/")[::-1])


def _unique_in_order(paths: Iterable[str]) -> bool:
    previous = None
    for path in paths:
        if path == previous:
            return False
        previous = path
    return True


class PathList(Sequence[str]):
    """Paths in order, kept as blocks: the block's common prefix once (a monorepo's folders,
    an absolute path's temporary folder), then the rest of each path NUL-joined. Each Python
    string costs 49 bytes besides its text, so 50,000 manifest paths take a fraction of the
    memory of a list of strings. Iterating gives new strings a block at a time; indexing and
    ``in`` are for the odd question, not for loops."""

    BLOCK = 512

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._blocks: list[tuple[str, str]] = []  # (common prefix, the rest of each path NUL-joined)
        self._tail: list[str] = []
        self._count = 0
        self.extend(paths)

    def append(self, path: str) -> None:
        self._tail.append(path)
        self._count += 1
        if len(self._tail) == self.BLOCK:
            prefix = os.path.commonprefix(self._tail)
            self._blocks.append((prefix, "\0".join(p[len(prefix) :] for p in self._tail)))  # a path holds no NUL
            self._tail = []

    def extend(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.append(path)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        for prefix, rest in self._blocks:
            for end in rest.split("\0"):
                yield prefix + end
        yield from list(self._tail)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        block, offset = divmod(index, self.BLOCK)
        if block == len(self._blocks):
            return self._tail[offset]
        prefix, rest = self._blocks[block]
        return prefix + rest.split("\0")[offset]

    def __contains__(self, path: object) -> bool:
        return any(p == path for p in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (PathList, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"PathList({list(self)!r})"


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


def _manifests_under(top: str, listing: Listing | None = None) -> Iterator[str]:
    """Every ``mlproject.toml`` below ``top``, in no particular order (callers sort).

    Inside a git work tree, git's own view decides (:func:`_git_manifests`): the repository a
    gate checks must not be able to hide a manifest by what it puts beside it. Elsewhere the
    folders are walked (:func:`_walk`).
    """
    if not _inside_git_work_tree(top):
        return _walk(top, listing)
    listed = _git_manifests(top)
    # git could not answer (not installed, a repository it refuses, such as one another user
    # owns, a broken one): without its view no folder name may hide a manifest either, so
    # every folder but .git is searched; stricter than git's view, never looser.
    return iter(listed) if listed is not None else _walk(top, listing, everywhere=True)


def _git_manifests(top: str) -> list[str] | None:
    """Manifests git tracks below ``top`` (inside a git work tree), plus untracked ones it does
    not ignore; None when git cannot answer.

    So a virtualenv or build folder that the repository's ``.gitignore`` names is skipped, but a
    tracked manifest is checked wherever it sits: beside a ``pyvenv.cfg``, in a folder named
    ``env`` or ``.ml``. A tracked manifest that is a symlink is checked by what it points to.
    """
    command = ["git", "-C", top, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", _ANY_MANIFEST]
    try:
        proc = subprocess.run(command, capture_output=True, check=False)
    except OSError:  # git is not installed
        return None
    if proc.returncode != 0:
        return None  # a repository git refuses (another user's), a bare .git file, a broken one
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
    """Whether ``folder`` or one above it holds ``.git``: a folder with a ``HEAD`` (a folder
    without one is no repository, as git sees it), or a file (worktrees, submodules)."""
    current = os.path.abspath(folder)
    while True:
        marker = os.path.join(current, ".git")
        if os.path.lexists(marker) and (not os.path.isdir(marker) or os.path.lexists(os.path.join(marker, "HEAD"))):
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def _walk(top: str, listing: Listing | None = None, everywhere: bool = False) -> Iterator[str]:
    """Every ``mlproject.toml`` below ``top`` outside git, in the run's order (each folder's
    entries by name, depth first: a run over one folder needs no sort); hidden folders,
    virtualenvs and vendored folders are not entered, unless ``everywhere`` (a git work tree
    git cannot list), which skips only ``.git``. Any entry of that name but a folder is a
    manifest (a symlink to a device, a FIFO: refused when read, never skipped in silence); a
    folder of that name is searched like any other.

    One ``scandir`` per folder and no other system call: a folder is recognised as a
    virtualenv by the ``pyvenv.cfg`` among its own entries, when it is listed. A folder that
    cannot be read stops the run (exit 2): a manifest in it could not be checked.
    """
    skipped = _only_git if everywhere else _skipped
    pending: list[tuple[bool, str]] = [(True, top)]  # (a folder?, path), the next one last
    while pending:
        is_folder, path = pending.pop()
        if not is_folder:
            yield path
            continue
        try:
            with os.scandir(path) as scan:
                entries = list(scan)
        except FileNotFoundError:
            if listing is not None:
                listing.not_listed(path)
            continue  # vanished while the run looked: nothing left to check there
        except OSError as exc:
            raise UsageError(f"cannot read the folder {_display(path)}: {exc.strerror or exc}") from None
        if path != top and not everywhere and any(entry.name == "pyvenv.cfg" for entry in entries):
            if listing is not None:
                listing.not_listed(path)
            continue
        found: list[tuple[str, bool, str]] = []
        for entry in entries:
            name = entry.name
            if name == MANIFEST_NAME and not entry.is_dir(follow_symlinks=False):
                found.append((name, False, entry.path))
                continue
            if entry.is_dir(follow_symlinks=False) and not skipped(name):
                found.append((name, True, entry.path))
                continue
            if listing is not None:
                if name in Listing.NAMES:
                    listing.saw(path, entry)
                elif name.casefold() in Listing.NAMES:
                    listing.unsure(path)
                if entry.is_symlink() or entry.is_dir(follow_symlinks=False):  # a folder not entered
                    listing.not_listed(entry.path)
        found.sort(reverse=True)  # names are unique in a folder: popped in name order
        pending.extend((folder, entry_path) for _, folder, entry_path in found)
    if listing is not None:
        listing.walked(top)


class Listing:
    """What a walk saw of the folders it listed: which hold ``.git`` or a configuration file.

    Finding each manifest's configuration asked the file system three questions per folder
    (``.git``? ``policylint.toml``? ``pyproject.toml``?), a tenth of a run over a large tree;
    the walk's own listing already answers them. Only folders holding one of those names are
    kept, so memory does not grow with the tree. A folder the walk did not list (outside the
    folders given, hidden, a virtualenv, a symlink, one that vanished) gets ``None``: ask the
    file system. So does every folder below a walk that has not ended (a folder not listed yet
    is not one that holds nothing), and a folder holding a name that differs from one of
    :data:`NAMES` only by case (``PolicyLint.toml``), which a case-insensitive file system
    would take for it.
    """

    #: The entries configuration lookups ask about (``config.files.Chains``).
    NAMES = frozenset({".git", "policylint.toml", "pyproject.toml"})

    def __init__(self) -> None:
        self._tops: list[str] = []  # folders whose walk has ended
        self._holding: dict[str, set[str]] = {}
        self._not_listed: set[str] = set()
        self._unsure: set[str] = set()

    def walked(self, top: str) -> None:
        """The walk of ``top`` has ended: its folders are answered for from now on."""
        self._tops.append(os.path.abspath(top))

    def unsure(self, folder: str) -> None:
        """``folder`` holds a name that differs from one of :data:`NAMES` only by case."""
        self._unsure.add(os.path.abspath(folder))

    def saw(self, folder: str, entry: os.DirEntry[str]) -> None:
        """Keep ``entry`` as the file system would answer for it: ``.git`` when it exists
        (a folder, or a file for worktrees), a configuration name when it is a file."""
        name = entry.name
        present = (not entry.is_symlink() or os.path.exists(entry.path)) if name == ".git" else entry.is_file()
        if present:
            self._holding.setdefault(os.path.abspath(folder), set()).add(name)

    def not_listed(self, folder: str) -> None:
        self._not_listed.add(os.path.abspath(folder))

    def names(self, folder: str) -> frozenset[str] | set[str] | None:
        """Which of :data:`NAMES` the absolute ``folder`` holds, or None when it was not listed."""
        if folder in self._unsure:
            return None
        held = self._holding.get(folder)
        if held is not None:
            return held
        for top in self._tops:
            if folder == top or folder.startswith(top if top.endswith(os.sep) else top + os.sep):
                break
        else:
            return None
        if self._not_listed:
            current = folder
            while current != top:
                if current in self._not_listed:
                    return None
                current = os.path.dirname(current)
        return _NOTHING


_NOTHING: frozenset[str] = frozenset()


def absolute(path: str, cwd: str | None = None) -> str:
    """``os.path.abspath(path)`` (``cwd``: the current folder, when the caller has it), without
    ``normpath``'s work for a path already normal, as discovery's are: planning asks this of
    every manifest of a run, and ``abspath`` took a fifth of planning's time.

    Normal means ``/``-separated (POSIX), with no empty, ``.`` or ``..`` part and no trailing
    ``/``; any other path, a hidden folder's included, goes to ``abspath``.
    """
    if os.sep != "/":  # Windows: the system's answer (D:x is below drive D's own current folder)
        return os.path.abspath(path)
    normal = not (not path or "/." in path or "//" in path or path[0] == "." or path[-1] == "/")
    if normal and path[0] == "/":
        return path
    if cwd is None:
        cwd = os.getcwd()
    if not normal or "/." in cwd or "//" in cwd or cwd[-1:] == "/" or cwd[:1] != "/":  # "/" itself, or odd
        return os.path.normpath(os.path.join(cwd, path))
    return cwd + "/" + path


def parent(path: str) -> str:
    """``os.path.dirname(path)``, without its work for the usual path (no ``//`` before the last part)."""
    cut = path.rfind("/")
    return path[:cut] if cut > 0 and path[cut - 1] != "/" and os.sep == "/" else os.path.dirname(path)


def _skipped(folder: str) -> bool:
    return folder.startswith(".") or folder in SKIPPED_FOLDERS


def _only_git(folder: str) -> bool:
    return folder == ".git"


def _displayed(top: str, paths: Iterable[str]) -> Iterator[str]:
    """:func:`_display` of each path found below ``top``: the part below ``top`` is names the
    file system or git gave (never ``.``, ``..`` or empty), so only ``top`` is normalised, once,
    instead of every path (a microsecond and a half of every manifest of a large run)."""
    if os.sep != "/":
        yield from map(_display, paths)
        return
    shown = _display(top)
    base = "" if shown == "." else shown if shown.endswith("/") else shown + "/"
    below = top if top.endswith("/") else top + "/"
    cut = len(below)
    for path in paths:
        yield base + path[cut:] if path.startswith(below) else _display(path)


def _display(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


