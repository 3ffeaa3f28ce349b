"""The lazy source index answers as a whole scan does, whatever is asked and in what order.

``SourceIndex`` reads a document only as far as each lookup needs, and searches regions of
plain lines for the names asked for instead of recording every key. These tests hold its
answers to those of the whole scan, ``positions._run`` (every path recorded, as the index
did before it was lazy), which is itself held to the per-character reference scanner of
test_positions: for every TOML file of the repository and the shared scenarios, and for
many written and mutated documents.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import tomli
from conftest import REPO
from test_positions import _PIECES, AWKWARD_DOCS, GARBAGE, _ReferenceScanner, absent_near, walk, write_toml

from policylint import positions
from policylint.positions import KeyPath, Position, SourceIndex

SHARED_SCENARIOS = REPO.parent / "shared" / "scenarios"
TOML_FILES = sorted(
    path
    for folder in (REPO / "tests", REPO / "policies", SHARED_SCENARIOS)
    for path in folder.rglob("*.toml")
)


def whole_scan(text: str) -> dict[KeyPath, Position]:
    """(line, column) of every path the whole scan records."""
    body = text.removeprefix("\ufeff")
    offsets: dict[KeyPath, int] = {}
    positions._run(body, offsets)
    return {path: (body.count("\n", 0, at) + 1, at - body.rfind("\n", 0, at)) for path, at in offsets.items()}


def located(whole: dict[KeyPath, Position], path: KeyPath) -> Position:
    """What ``locate`` must answer: the nearest enclosing path present, else (1, 1)."""
    for end in range(len(path), 0, -1):
        if path[:end] in whole:
            return whole[path[:end]]
    return (1, 1)


def paths_to_ask(text: str, whole: Iterable[KeyPath]) -> list[KeyPath]:
    """Every path recorded or parsed, and paths next to them that are likely absent."""
    asked = list(whole)
    try:
        asked += walk(tomli.loads(text.removeprefix("\ufeff")))
    except tomli.TOMLDecodeError:
        pass
    asked += absent_near(asked)
    return list(dict.fromkeys(asked))


def assert_lazy_as_whole(text: str, rng: random.Random, extra: Iterable[KeyPath] = ()) -> None:
    """Lookups in several orders (absent paths first reads it all at once) give the whole scan's answers."""
    whole = whole_scan(text)
    asked = paths_to_ask(text, [*whole, *extra])
    shuffled = rng.sample(asked, len(asked))
    absent_first = sorted(asked, key=lambda path: path in whole)
    for order in (asked, asked[::-1], shuffled, absent_first):
        index = SourceIndex.from_text(text)
        for path in order:
            assert index.position(path) == whole.get(path), (path, text)
            assert index.locate(path) == located(whole, path), (path, text)


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda path: str(path.relative_to(REPO.parent)))
def test_every_toml_file_of_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert whole_scan(text) == _ReferenceScanner(text).run()
    assert_lazy_as_whole(text, random.Random(str(path)))


def test_there_are_toml_files_to_check() -> None:
    assert len([path for path in TOML_FILES if path.is_relative_to(REPO / "tests")]) >= 10
    assert any(path.is_relative_to(REPO / "policies") for path in TOML_FILES)


# ---------------------------------------------------------------- written and mutated documents

# Lines that regions take, lines that end them, and lines that look like either. Few names,
# so that keys and headers collide, one name starts another, a table comes back, and so on.
_NAMES = ["a", "ab", "b", "data", "examples", "few_shot_examples", "x-1"]
_LINE_SHAPES = [
    "{k} = 1", "{k}=2", "{k} \t= 'v'", '{k} = "s # not a comment"', "{k} = []", "{k} = [1, 'x', \"y\"]",
    "{k} = [1979-05-27 07:32:00]", "{k} = [{{{k} = 1}}]", "{k} = [[1], 2]", "{k} = {{ {k} = 1 }}", "{k} = [\n1,\n]",
    '{k} = """\n[{k}]\n{k} = 1\n"""', "{k} = '''x'''", "{k} = \"\"\"x\"\"\"", "{k} =", "  {k} = 1", "{k}.{k} = 1",
    '"{k}" = 1', "{k} = 1 # [{k}]", "[{k}]", "[{k}.{k}]", "[ {k} ]", "  [{k}]", "[{k}] # c", "[[{k}]]",
    "[[{k}.{k}]]", '["{k}"]', "[{k}", "# [{k}]", "  # {k} = 1", "", "   ", "\t", "= 1", "] x", "{k}",
]


def _manifest_like(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randrange(1, 25)):
        shape = rng.choice(_LINE_SHAPES)
        lines.append(shape.format(k=rng.choice(_NAMES)))
    end = rng.choice(["\n", "\r\n"])
    text = end.join(lines)
    return text + end if rng.random() < 0.8 else text


def _mutated(text: str, rng: random.Random) -> str:
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(text) + 1)
        if rng.random() < 0.5 and text:
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + rng.choice([*_PIECES, *_NAMES, "\n[", "\n"]) + text[at:]
    return text


def _names_asked(rng: random.Random) -> list[KeyPath]:
    """Paths of the names the documents use, most of them absent from any one document."""
    paths: list[KeyPath] = []
    for _ in range(30):
        path: KeyPath = tuple(rng.choice([*_NAMES, 0, 1]) for _ in range(rng.randrange(1, 4)))
        paths.append(path)
    return paths


def test_manifest_like_documents_and_their_mutations() -> None:
    rng = random.Random(14)
    for _ in range(600):
        text = _manifest_like(rng)
        extra = _names_asked(rng)
        assert_lazy_as_whole(text, rng, extra)
        assert_lazy_as_whole(_mutated(text, rng), rng, extra)


def test_the_awkward_documents_and_their_mutations() -> None:
    rng = random.Random(15)
    for doc in [*AWKWARD_DOCS, *GARBAGE[:-3]]:  # the last ones are deep: slow, and not about regions
        assert_lazy_as_whole(doc, rng)
        for _ in range(40):
            assert_lazy_as_whole(_mutated(doc, rng), rng)


def test_hypothesis_written_and_mutated_documents() -> None:
    hypothesis = pytest.importorskip("hypothesis", reason="property test needs hypothesis")
    st = pytest.importorskip("hypothesis.strategies", reason="property test needs hypothesis")

    keys = st.sampled_from([*_NAMES, "q.t", "é", ""])
    scalars = st.one_of(st.integers(-5, 5), st.booleans(), st.text(alphabet="xy\"'#[]{}=\\\n ", max_size=6))
    documents = st.recursive(
        st.dictionaries(keys, scalars, max_size=3),
        lambda children: st.dictionaries(
            keys, st.one_of(scalars, children, st.lists(children, min_size=1, max_size=3)), max_size=4
        ),
        max_leaves=14,
    )

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(documents, st.integers(0, 2**32))
    def check(data: dict[str, Any], seed: int) -> None:
        rng = random.Random(seed)
        text = write_toml(data, seed)
        assert_lazy_as_whole(text, rng)
        assert_lazy_as_whole(_mutated(text, rng), rng)

    check()


def test_the_whole_scan_is_the_reference_scanners_on_written_documents() -> None:
    """``whole_scan`` is the oracle above: it reads as the per-character scanner does."""
    rng = random.Random(16)
    for _ in range(1500):
        text = _manifest_like(rng)
        for doc in (text, _mutated(text, rng)):
            assert whole_scan(doc) == _ReferenceScanner(doc).run(), doc
