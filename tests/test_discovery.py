"""Discovery: the walk gives the run's order by itself, and paths are kept compactly."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from policylint.discovery import STDIN, PathList, _walk, discover, position


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
