"""The gate of :func:`policylint.toml.loads` decides as it did before its answers were remembered.

``_tomli_only`` sends to tomli every text where rtoml 0.14 could read differently
(tests/test_toml_parsers.py shows the differences). ``_late_super_table`` now remembers its
answer for each list of header paths; these tests compare the gate with a verbatim copy of the
gate as it was before (below, the reference) on generated TOML-like text, every short document
of headers, mutations of a manifest, a benchmark corpus and the repository's TOML files: the
same decision for every text, with the memo empty, full, or already holding the text's answer.
None of this needs rtoml.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import find, given
from hypothesis import strategies as st
from test_fuzz import fuzz
from test_toml_parsers import INSERTS, LINES, REPO, TRICKY, corpus, mutations, repository_texts

from policylint import toml

# ------------------------------------------------------------------------------ the reference: the gate of bb92336, its code verbatim

_OFFSET_TIME = r":[0-9][0-9](?:\.[0-9]+)?[Zz+-]"
_HEADER = r"\n[ \t]*\[\[?([^\]\n]*)"
_FIRST_HEADER = r"[ \t]*\[\[?([^\]\n]*)"
_gate: tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]] | None = None


def _tomli_only(text: str) -> bool:
    """Whether ``text`` must be read by tomli because rtoml could read it differently."""
    global _gate
    if "\r" in text or "\ufeff" in text:
        return True
    if _gate is None:
        _gate = re.compile(_OFFSET_TIME), re.compile(_HEADER), re.compile(_FIRST_HEADER)
    offset_time, header, first_header = _gate
    if offset_time.search(text) is not None:
        return True
    headers = header.findall(text)
    first = first_header.match(text)
    if first is not None:
        headers.insert(0, first.group(1))
    return _late_super_table(headers)


def _late_super_table(headers: list[str]) -> bool:
    joined = "\n".join(headers)
    if '"' in joined or "'" in joined or " " in joined or "\t" in joined:
        return True
    if "." not in joined:
        return False
    implicit: set[str] = set()
    for path in headers:
        if path in implicit:
            return True
        parent, dot, _ = path.rpartition(".")
        while dot:
            implicit.add(parent)
            parent, dot, _ = parent.rpartition(".")
    return False


reference = _tomli_only

# ------------------------------------------------------------------------------ the comparison


def decides_as_before(text: str) -> bool:
    """The gate's decision on ``text`` is the reference's: with the memo as earlier texts left it
    (emptied when full, so that each text can meet earlier ones), then emptied, once it holds the
    answer, and full (nothing more remembered)."""
    expected = reference(text)
    memo = toml._LATE_BY_HEADERS
    if len(memo) >= toml._LATE_REMEMBERED:
        memo.clear()
    decisions = [toml._tomli_only(text)]  # maybe an earlier text's answer
    saved = dict(memo)
    try:
        memo.clear()
        decisions += [toml._tomli_only(text), toml._tomli_only(text)]  # worked out, then remembered
        memo.clear()
        remembered = toml._LATE_REMEMBERED
        toml._LATE_REMEMBERED = 0
        try:
            decisions.append(toml._tomli_only(text))
            assert not memo
        finally:
            toml._LATE_REMEMBERED = remembered
    finally:
        memo.clear()
        memo.update(saved)
    assert decisions == [expected] * 4, (text, decisions, expected)
    return expected


# ------------------------------------------------------------------------------ generated text

#: Names as headers and keys spell them: bare, quoted (one spelling a dotted path), empty, non-ASCII.
NAMES = ["a", "b", "c", "a-b", "_1", "1", '"a"', "'b'", '"a.b"', '""', "\u00e9"]
paths = st.builds(
    lambda names, separator: separator.join(names),
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=3),
    st.sampled_from([".", ".", ".", " . ", ".\t", ". "]),
)
headers = st.builds(
    lambda indent, opening, path, closing: f"{indent}{opening}{path}{closing}",
    st.sampled_from(["", "", "", " ", "\t", "  \t"]),
    st.sampled_from(["[", "[", "[[", "[ ", "[\t"]),
    paths,
    st.sampled_from(["]", "]", "]]", " ]", "", "] # [x.y]", "]\u00e9"]),
)
#: Values with what the gate looks for: offset datetimes (and near misses), brackets, quotes,
#: strings over several lines whose lines look like headers.
VALUES = [
    "1", '"x"', "'[a.b]'", '"[a]"', "[1, 2]", "[\n[1],\n]", "[\n  [\n1]]", '"""\n[a.b]\n[a]\n"""', "'''\n [b]\n'''",
    "1979-05-27", "07:32:00", "07:32", "1979-05-27T07:32:00", "1979-05-27T07:32:00Z", "1979-05-27 07:32z",
    "07:32:00.5+01:00", "1979-05-27T07:32:00.999-07:00", "'http://h:80-x'", "'a:1'", "{a.b = 1}", "{}",
    "[{a = 1}]", "1e5", "-0.0", "nan",
]
keys = st.builds(lambda path, value: f"{path} = {value}", paths, st.sampled_from(VALUES))
lines = st.one_of(
    headers, headers, keys,
    st.sampled_from(["", "# [a]", "\ufeff", "[", "]", "[[", "\t", "x = [", "]]"]),
    st.text(max_size=8),
)
documents = st.builds(
    lambda start, body, end_of_line: start + end_of_line.join(body),
    st.sampled_from(["", "", "", "\ufeff", " ", "\n"]),
    st.lists(lines, max_size=12),
    st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"]),
)


@fuzz(1_000)
@given(documents)
def test_generated_documents(text: str) -> None:
    decides_as_before(text)


@fuzz(1_000)
@given(st.lists(st.sampled_from(["[", "]", "[[", "]]", "a", "b", ".", " ", "\t", "\n", '"', "'", "=", "1",
                                 ":", "07", "Z", "+", "-", "\r", "\ufeff", "#"]), max_size=40).map("".join))
def test_token_soup(text: str) -> None:
    decides_as_before(text)


def test_the_generated_documents_reach_every_decision() -> None:
    """The strategy is worth something: past CR, BOM and offset times, it makes documents with
    and without a late super table (bare paths only), and with paths that go to tomli."""
    def past_the_first_tests(text: str) -> bool:
        return "\r" not in text and "\ufeff" not in text and re.search(_OFFSET_TIME, text) is None

    def bare_paths(text: str) -> bool:
        paths = re.findall(_HEADER, "\n" + text)
        return len(paths) > 1 and not re.search(r"[\"' \t]", "".join(paths))

    find(documents, lambda text: past_the_first_tests(text) and bare_paths(text) and reference(text))
    find(documents, lambda text: past_the_first_tests(text) and bare_paths(text) and "." in text and not reference(text))
    find(documents, lambda text: past_the_first_tests(text) and not bare_paths(text) and reference(text))


# ------------------------------------------------------------------------------ documents of the test suite


def test_every_short_document_of_headers_and_dotted_keys() -> None:
    """Every document of up to three lines of tests/test_toml_parsers.py's LINES, each indented or not."""
    decisions = set()
    for count in (1, 2, 3):
        for chosen in itertools.product(LINES, repeat=count):
            decisions.add(decides_as_before("\n".join(chosen)))
            decisions.add(decides_as_before(" " + "\n\t".join(chosen)))
    assert decisions == {True, False}


def test_tricky_documents_and_their_mutations() -> None:
    for text in TRICKY:
        decides_as_before(text)
        decides_as_before(f"x = 0\n[t]\n{text}\n")
    manifest = (REPO / "tests" / "scenarios" / "07-legal-domain.toml").read_text("utf-8")
    decisions = [decides_as_before(mutant) for mutant in mutations(manifest)]
    assert len(decisions) > len(manifest) * len(INSERTS) and decisions.count(False) > len(decisions) // 3


def test_the_repository_s_toml_files() -> None:
    decisions = [decides_as_before(text) for _, text in repository_texts()]
    assert len(decisions) > 60 and decisions.count(False) > 50


def test_a_benchmark_corpus(tmp_path: Path) -> None:
    """The benchmark's manifests all go to rtoml, as before, and share a few header lists."""
    texts = [path.read_text("utf-8") for path in corpus.build(tmp_path, 2_000)]
    assert not any(decides_as_before(text) for text in texts)
    assert [toml._tomli_only(text) for text in texts] == [False] * len(texts)  # the memo in use


# ------------------------------------------------------------------------------ the memo's bounds


def _header_lists(count: int) -> Iterator[list[str]]:
    for number in range(count):
        yield [f"t{number}", f"t{number}.a"]


def test_the_memo_holds_a_bounded_number_of_short_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toml, "_LATE_BY_HEADERS", {})
    for headers in _header_lists(toml._LATE_REMEMBERED + 50):
        assert toml._late_super_table(headers) is False
    assert len(toml._LATE_BY_HEADERS) == toml._LATE_REMEMBERED
    long_path = "a" * toml._LATE_KEY_CHARS
    assert toml._late_super_table([long_path + ".b", long_path]) is True
    assert long_path + ".b\n" + long_path not in toml._LATE_BY_HEADERS
    assert toml._late_super_table([f"{long_path}.b", long_path]) is True  # worked out again


def test_the_memo_tells_lists_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths never hold a newline, so joined with newlines each list is its own key; ``[]`` and
    ``[""]`` share ``""``, and the answer (neither has a late table)."""
    monkeypatch.setattr(toml, "_LATE_BY_HEADERS", {})
    lists = [["a.b", "a"], ["a.ba"], ["a", "b.a"], ["ab.a"], ["a", "a.b"], ["a.b", "a", ""], [], [""], ["", ""]]
    for ordered in (lists, lists[::-1]):
        toml._LATE_BY_HEADERS.clear()
        assert [toml._late_super_table(headers) for headers in ordered] == [_late_super_table(h) for h in ordered]
    assert toml._late_super_table(["a.b", "a"]) is True and toml._late_super_table([]) is False
