"""Discovery: the walk gives the run's order by itself, and paths are kept compactly."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from hypothesis import given
from hypothesis import strategies as st

from policylint.discovery import STDIN, PathList, _display, _displayed, _walk, absolute, discover, parent, position


@pytest.mark.parametrize("count", [0, 1, PathList.BLOCK - 1, PathList.BLOCK, PathList.BLOCK + 1, 3 * PathList.BLOCK + 7])
def test_a_path_list_gives_back_what_was_put_in(count: int) -> None:
    paths = [f"team {i % 7}/p{i:05}/mlproject.toml" for i in range(count)]
    listed = PathList(paths)
    assert len(listed) == count and list(listed) == paths and listed == paths
    for index in {0, count // 2, count - 1} if count else set():
        assert listed[index] == paths[index] and listed[index - count] == paths[index]
        assert paths[index] in listed
    assert "elsewhere/mlproject.toml" not in listed
    assert listed[1:4] == paths[1:4]
    with pytest.raises(IndexError):
        listed[count]


def test_the_walk_gives_the_runs_order_without_a_sort(tmp_path: Path) -> None:
    """Names that sort differently as parts and as whole strings (``a`` and ``a b``, ``-x``,
    ``x.y``), a manifest beside subfolders, at several depths: the walk's order is the order
    of sorting by :func:`position`."""
    rng = random.Random(14)
    names = ["a", "a b", "a-b", "a.b", "-x", "+y", "Z", "é", "mlproject", "b"]
    made = []
    for _ in range(120):
        parts = [rng.choice(names) for _ in range(rng.randint(1, 4))]
        folder = tmp_path.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "mlproject.toml").write_text("", "utf-8")
        made.append(folder / "mlproject.toml")
    walked = [os.path.relpath(p, tmp_path) for p in _walk(str(tmp_path))]
    assert len(walked) == len(set(made))
    assert walked == sorted(walked, key=position)


def test_discover_sorts_what_several_arguments_give(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("b", "a", "a b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "mlproject.toml").write_text("", "utf-8")
    monkeypatch.chdir(tmp_path)
    found = discover(["b", "a b/mlproject.toml", "-", "a", "b/mlproject.toml"])
    assert isinstance(found, PathList)
    assert list(found) == [STDIN, "a/mlproject.toml", "a b/mlproject.toml", "b/mlproject.toml"]


def _awkward_tree(root: Path) -> list[Path]:
    """Every kind of entry a configuration lookup can meet, in walked and unwalked folders;
    returns every folder of the tree (symlinked ones included)."""
    config = '[tool.policylint]\nfail-on = "warning"\n'
    layout = {
        "repo/.git/HEAD": "", "repo/policylint.toml": "", "repo/a/pyproject.toml": config,
        "repo/a/b/pyproject.toml": "[project]\nname = 'x'\n", "repo/a/b/c/policylint.toml": "",
        "plain/x/y/policylint.toml": "", "plain/.hidden/policylint.toml": "", "plain/.hidden/deep/pyproject.toml": config,
        "plain/venv-like/pyvenv.cfg": "", "plain/venv-like/policylint.toml": "", "plain/venv-like/in/policylint.toml": "",
        "plain/node_modules/pkg/policylint.toml": "", "plain/mlproject.toml/inside/policylint.toml": "",
        "worktree/.git": "gitdir: elsewhere\n", "target/policylint.toml": "",
    }
    for name, text in layout.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")
    (root / "plain/policylint.toml").mkdir()  # a folder of that name is no configuration file
    (root / "plain/x/.git").symlink_to(root / "nowhere")  # dangling: not a repository
    (root / "plain/x/pyproject.toml").symlink_to(root / "repo/a/pyproject.toml")
    (root / "plain/linked").symlink_to(root / "target", target_is_directory=True)
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    for folder in folders:
        if not (folder / "mlproject.toml").exists():
            (folder / "mlproject.toml").write_text("", "utf-8")
    return folders


def test_the_listing_answers_as_the_file_system_would(tmp_path: Path) -> None:
    """Each folder the walk listed has the names the file system has (``.git`` that exists,
    configuration names that are files); every other folder gets None (ask the file system)."""
    from policylint.discovery import Listing

    folders = _awkward_tree(tmp_path)
    listing = Listing()
    walked = {os.path.dirname(os.path.abspath(p)) for p in _walk(str(tmp_path), listing)}
    assert len(walked) < len(folders)  # some folders were not entered: hidden, venv, symlinked
    for folder in map(str, folders):
        names = listing.names(folder)
        expected = {n for n in Listing.NAMES if (os.path.exists if n == ".git" else os.path.isfile)(os.path.join(folder, n))}
        assert names is None or set(names) == expected, folder
        assert names is not None or folder not in walked, folder
    for unlisted in ("plain/.hidden", "plain/.hidden/deep", "plain/venv-like", "plain/venv-like/in", "plain/node_modules/pkg",
                     "plain/linked", "repo/.git"):
        assert listing.names(str(tmp_path / unlisted)) is None, unlisted
    # a folder named like the manifest is searched like any other (found in review: it hid the manifests in it)
    assert listing.names(str(tmp_path / "plain/mlproject.toml/inside")) == {"policylint.toml"}
    assert listing.names(str(tmp_path.parent)) is None  # above the folder walked


def test_configuration_chains_are_the_same_with_the_listing(tmp_path: Path) -> None:
    """For every folder, walked or not (a manifest given by path may sit anywhere), the chain
    of configuration files is the one found by asking the file system."""
    from policylint.config.files import Chains
    from policylint.discovery import Listing

    folders = _awkward_tree(tmp_path)
    listing = Listing()
    list(_walk(str(tmp_path), listing))
    listed = Chains()
    listed.listed = listing.names
    for folder in folders:
        assert listed.of(folder) == Chains().of(folder), folder


def test_a_manifest_given_in_a_hidden_folder_keeps_its_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk does not enter ``.hidden``, so its listing cannot answer for it: the file
    system does, and the folder's own configuration applies."""
    from click.testing import CliRunner

    from policylint.cli import cli

    _awkward_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    given = "plain/.hidden/deep/mlproject.toml"
    checked = CliRunner().invoke(cli, ["check", "--format", "json", "plain", given])
    assert checked.exit_code in (0, 1), checked.output
    settings = {m["path"]: m.get("settings") for m in json.loads(checked.output)["manifests"]}
    assert settings[given] == {"fail-on": {"value": "warning", "origin": f"{tmp_path}/plain/.hidden/deep/pyproject.toml:2"}}
    assert settings["plain/x/mlproject.toml"] == {"fail-on": {"value": "warning", "origin": f"{tmp_path}/plain/x/pyproject.toml:2"}}


def test_the_listing_answers_only_once_the_walk_has_ended(tmp_path: Path) -> None:
    """A folder not listed yet is not a folder that holds nothing: until the walk ends, only
    the folders it has listed that hold one of the names are answered for."""
    from policylint.discovery import Listing

    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mlproject.toml").write_text("", "utf-8")
    (tmp_path / "c" / "policylint.toml").write_text("", "utf-8")
    listing = Listing()
    walk = _walk(str(tmp_path), listing)
    assert next(walk).endswith("a/mlproject.toml")
    for folder in ("a", "b", "c"):
        assert listing.names(str(tmp_path / folder)) is None, folder
    list(walk)
    assert listing.names(str(tmp_path / "b")) == set()
    assert set(listing.names(str(tmp_path / "c")) or ()) == {"policylint.toml"}


def test_a_name_that_differs_only_by_case_is_left_to_the_file_system(tmp_path: Path) -> None:
    """``PolicyLint.toml`` is ``policylint.toml`` on a case-insensitive file system (macOS,
    Windows) and not on this one: the listing does not decide, the file system does."""
    from policylint.config.files import Chains
    from policylint.discovery import Listing

    for folder, name in (("a", "PolicyLint.toml"), ("b", "PYPROJECT.TOML"), ("c", ".Git")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text('[tool.policylint]\nfail-on = "warning"\n', "utf-8")
        (tmp_path / folder / "mlproject.toml").write_text("", "utf-8")
    listing = Listing()
    list(_walk(str(tmp_path), listing))
    listed = Chains()
    listed.listed = listing.names
    for folder in ("a", "b", "c"):
        assert listing.names(str(tmp_path / folder)) is None, folder
        assert listed.of(tmp_path / folder) == Chains().of(tmp_path / folder)


#: Path parts as a user or a file system could spell them: odd ones included.
_PARTS = st.sampled_from(["a", "b c", ".", "..", "", ".hidden", "x.toml", "-", "é", "a\\b"])
_PATHS = st.lists(_PARTS, max_size=6).map("/".join)


@pytest.mark.skipif(os.sep != "/", reason="the fast paths are POSIX's; elsewhere os.path answers")
@given(path=_PATHS, cwd=st.sampled_from(["/", "/work", "/work/x y", "/a/.b", "//n", "/t/"]), leading=st.booleans())
def test_absolute_and_parent_answer_as_os_path_does(path: str, cwd: str, leading: bool) -> None:
    """Planning's shortcuts for ``abspath`` and ``dirname`` (discovery.absolute, parent) give
    what ``os.path`` gives, for normal paths (their fast way) and odd ones (handed on)."""
    path = "/" + path if leading else path
    if not path:
        return
    expected = os.path.normpath(os.path.join(cwd, path))
    full = absolute(path, cwd)
    assert full == expected
    assert parent(full) == os.path.dirname(full)


@pytest.mark.parametrize("path", ["D:x\\mlproject.toml", "x.\\mlproject.toml", "C:\\a\\b", "a/b", "con"])
def test_absolute_is_abspath_where_the_separator_is_another(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """On Windows ``abspath`` is the system's (``D:x`` is below drive D's own current folder,
    trailing dots go), which joining onto the current folder does not give: it answers."""
    import ntpath
    import types

    from policylint import discovery

    windows_path = types.SimpleNamespace(abspath=lambda p: f"<abspath of {p}>", normpath=ntpath.normpath, join=ntpath.join)
    monkeypatch.setattr(discovery, "os", types.SimpleNamespace(sep="\\", path=windows_path, getcwd=lambda: "C:\\work"))
    assert absolute(path, "C:\\work") == absolute(path) == f"<abspath of {path}>"


@pytest.mark.skipif(os.sep != "/", reason="the fast path is POSIX's; elsewhere every path is normalised")
@given(top=_PATHS, below=st.lists(st.sampled_from(["a", "b c", ".x", "mlproject.toml", "é"]), min_size=1, max_size=4))
def test_paths_found_below_a_folder_are_shown_as_display_shows_them(top: str, below: list[str]) -> None:
    """Only the folder given is normalised: the names below it come from the file system."""
    top = top or "."
    found = os.path.join(top, *below)
    assert list(_displayed(top, [found])) == [_display(found)]
