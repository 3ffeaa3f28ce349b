"""Regions read with possessive repetitions read as they did with backtracking ones.

``_REGION_RE`` (a run of plain lines, most of a manifest, read in one match) repeats
possessively, which the engine reads faster. These tests hold it, and ``_STEP`` that holds
it, to the backtracking pattern it replaced, at every position of many documents and with
end positions; and they hold the index to the whole scan for documents made of region
lines with a trap -- a line that ends a region, hides lines, or names a path another way --
before, at or after the lines asked for.
"""

from __future__ import annotations

import random
import re

import pytest
from test_positions import _PIECES, AWKWARD_DOCS, GARBAGE
from test_positions_lazy import _manifest_like, _mutated, assert_lazy_as_whole

from policylint import positions
from policylint.positions import KeyPath

# The region as it was written before its repetitions were made possessive: the reference.
_BACKTRACKING_REGION_RE = (
    r"""(?<![^\n])(?:\n|[A-Za-z0-9_-]+[ \t\r]*=[ \t\r]*(?:[^\[{ \t\r"'\n]|"(?!"")|'(?!'')|(?=\n)|"""
    r"""\[(?:[ \t\r,]+(?![ \t\r,])|"(?!"")[^"\\\n]*"|'(?!'')[^'\n]*'|[A-Za-z0-9_+\-.:]+(?![A-Za-z0-9_+\-.:]))*\])"""
    r"""[^\n]*\n|\[[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\][^\n]*\n|[ \t\r]*(?:#[^\n]*)?\n)+"""
)

_BACKTRACKING_REGION = re.compile(_BACKTRACKING_REGION_RE)
_BACKTRACKING_STEP = re.compile(rf"({_BACKTRACKING_REGION_RE})|{positions._STATEMENT_RE}")

_TABLES = ["a", "b", "a.b", "b.a"]
_KEYS = ["a", "b", "c", "ab"]
# Lines a region takes.
_PLAIN_LINES = ["{k} = 1", "{k}=2", "{k} = 'v'", '{k} = "s"', "{k} = [1, 'x']", "[{t}]", "[{t}.{k}]", "# [{t}]", "", "  "]
# Lines that end a region: they hide lines, name a path another way, or are no statement.
_TRAPS = [
    '{k} = """\n[{t}]\n{k} = 1\n"""', "{k} = '''\n[{t}.{k}]\n'''", '{k} = """x"""', "[[{t}]]", "[[{t}.{k}]]",
    "{t}.{k} = 1", '"{k}" = 1', "'{k}' = 1", "  {k} = 1", "{k} = {{ {k} = 1 }}", "{k} = [\n  1,\n]",
    "{k} = [{{ {k} = 1 }}]", "[ {t} ]", '["{t}"]', "[{t}", "{k}", "{k} x", "= 1", "] x", "{k} = [1,",
]


def _trapped(rng: random.Random) -> str:
    """Region lines, with one or two traps anywhere among them (the last line may lack its end)."""
    lines = [rng.choice(_PLAIN_LINES) for _ in range(rng.randrange(0, 14))]
    for _ in range(rng.randrange(1, 3)):
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(_TRAPS))
    end = rng.choice(["\n", "\r\n"])
    text = end.join(line.format(k=rng.choice(_KEYS), t=rng.choice(_TABLES)) for line in lines)
    return text + end if rng.random() < 0.8 else text


def _paths_asked(rng: random.Random) -> list[KeyPath]:
    """Paths of the names the documents use: many present, some named only inside a trap."""
    paths: list[KeyPath] = []
    for table in ["", *_TABLES]:
        for key in _KEYS:
            paths.append(tuple(f"{table}.{key}".strip(".").split(".")))
    rng.shuffle(paths)
    return paths


def test_traps_before_at_and_after_the_lines_asked_for() -> None:
    rng = random.Random(21)
    for _ in range(700):
        text = _trapped(rng)
        assert_lazy_as_whole(text, rng, _paths_asked(rng))
        assert_lazy_as_whole(_mutated(text, rng), rng, _paths_asked(rng))


def test_hypothesis_trapped_documents() -> None:
    hypothesis = pytest.importorskip("hypothesis", reason="property test needs hypothesis")
    st = pytest.importorskip("hypothesis.strategies", reason="property test needs hypothesis")

    lines = st.lists(
        st.tuples(st.sampled_from(_PLAIN_LINES + _TRAPS), st.sampled_from(_KEYS), st.sampled_from(_TABLES)),
        max_size=16,
    )

    @hypothesis.settings(max_examples=400, deadline=None, database=None)
    @hypothesis.given(lines, st.sampled_from(["\n", "\r\n"]), st.booleans(), st.integers(0, 2**32))
    def check(chosen: list[tuple[str, str, str]], end: str, closed: bool, seed: int) -> None:
        rng = random.Random(seed)
        text = end.join(line.format(k=key, t=table) for line, key, table in chosen) + (end if closed else "")
        assert_lazy_as_whole(text, rng, _paths_asked(rng))

    check()


def _texts() -> list[str]:
    rng = random.Random(22)
    texts = [*AWKWARD_DOCS, *GARBAGE[:-3]]
    for _ in range(400):
        texts += [_trapped(rng), _manifest_like(rng), _mutated(_manifest_like(rng), rng)]
        texts.append("".join(rng.choice([*_PIECES, "a = ", "[a]\n", "\n"]) for _ in range(rng.randrange(30))))
    return texts


def test_the_possessive_region_reads_as_the_backtracking_one() -> None:
    possessive = re.compile(positions._REGION_RE)
    for text in _texts():
        for pos in range(len(text) + 1):
            for endpos in (len(text), pos + 3, pos + 11):
                mine, reference = possessive.match(text, pos, endpos), _BACKTRACKING_REGION.match(text, pos, endpos)
                assert (mine and mine.span()) == (reference and reference.span()), (text, pos, endpos)


def test_a_step_reads_as_with_the_backtracking_region() -> None:
    for text in _texts():
        for pos in range(len(text) + 1):
            mine, reference = positions._STEP.match(text, pos), _BACKTRACKING_STEP.match(text, pos)
            assert (mine.span(), mine.lastindex) == (reference.span(), reference.lastindex), (text, pos)
