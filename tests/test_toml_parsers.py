"""rtoml reads manifests exactly as tomli does, or does not read them (issue 14).

:func:`policylint.toml.loads` lets rtoml (the ``fast`` extra) read a document only where its
result is provably tomli's; tomli decides everything else, every refusal included. This module
is the proof: the same documents through ``loads`` with rtoml on and with tomli alone give the
same result (types, key order, float bits, tzinfo classes) or the same error (message, line,
column), on every TOML file of the repository, a benchmark corpus, mutations at every offset,
every short document of table headers and dotted keys, Hypothesis documents and a list of
tricky strings; the checks of a whole corpus are byte-identical; and each kind of text routed
to tomli is shown to be one where rtoml 0.14 really differs.

The equivalence tests need rtoml 0.14 (in the ``test`` extra, on Python 3.11+) and are skipped
without it, saying why; the gate's own tests run everywhere.
"""

from __future__ import annotations

import datetime
import itertools
import math
import os
import pickle
import random
import struct
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz import fuzz, keys, seeds, toml_values, write_toml

from policylint import toml

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"  # ../shared beside the repository, as CI has it
sys.path.insert(0, str(REPO / "benchmarks"))
import corpus  # noqa: E402  (benchmarks/corpus.py: the benchmark's manifests)

try:
    from rtoml import _rtoml
except ImportError:
    _rtoml = None

FAST = toml._find_fast()
needs_rtoml = pytest.mark.skipif(
    FAST is None,
    reason="rtoml 0.14 is not installed (pip install '.[test]' on Python 3.11+), or POLICYLINT_TOML=tomli: "
    "policylint reads every document with tomli, and there is nothing to compare",
)


# ------------------------------------------------------------------------------ the comparison


def same(a: Any, b: Any) -> bool:
    """The same value to every reader: exact types, key order, float bits (nan's sign, -0.0),
    tzinfo classes and ``repr``. Without recursion: tomli reads arrays 400 deep."""
    pairs = [(a, b)]
    while pairs:
        a, b = pairs.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            if list(a) != list(b):
                return False
            pairs.extend((a[k], b[k]) for k in a)
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            pairs.extend(zip(a, b))
        elif isinstance(a, float):
            if struct.pack("<d", a) != struct.pack("<d", b):
                return False
        elif isinstance(a, (datetime.datetime, datetime.time)):
            if not (a == b and type(a.tzinfo) is type(b.tzinfo) and a.fold == b.fold and repr(a) == repr(b)):
                return False
        elif isinstance(a, int):  # repr() of one past 4,300 digits raises
            if a != b:
                return False
        elif not (a == b and repr(a) == repr(b)):
            return False
    return True


def outcome(text: str) -> tuple[Any, ...]:
    """What ``toml.loads`` gives: the data, or the error with its position."""
    try:
        return ("data", toml.loads(text))
    except toml.TOMLError as exc:
        return ("error", exc.message, exc.line, exc.column)


class Parsers:
    """``toml.loads`` with rtoml on or off, counting the documents rtoml read."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.read_by_rtoml = 0
        self.compared = 0
        monkeypatch.setattr(toml, "_calls", toml.FAST_AFTER)

    def _counted(self, text: str) -> Any:
        assert FAST is not None
        data = FAST(text)
        self.read_by_rtoml += 1
        return data

    def compare(self, text: str) -> None:
        self.monkeypatch.setattr(toml, "_fast", None)
        expected = outcome(text)
        self.monkeypatch.setattr(toml, "_fast", self._counted)
        got = outcome(text)
        self.compared += 1
        assert got[0] == expected[0], f"rtoml {'accepted' if got[0] == 'data' else 'refused'} {text!r}"
        if got[0] == "data":
            assert same(got[1], expected[1]), f"different data from {text!r}: {got[1]!r} != {expected[1]!r}"
        else:
            assert got == expected, text


@pytest.fixture
def parsers(monkeypatch: pytest.MonkeyPatch) -> Parsers:
    return Parsers(monkeypatch)


# ------------------------------------------------------------------------------ documents


def repository_texts() -> Iterator[tuple[str, str]]:
    """Every TOML file of the repository (and of /work/shared where it exists), as ``decode`` hands it over."""
    roots = [REPO / "tests", REPO / "policies", REPO / "examples", REPO / "benchmarks", REPO / "docs", SHARED]
    files = sorted({p for root in roots if root.is_dir() for p in root.rglob("*.toml")} | {REPO / "pyproject.toml"})
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        yield str(path), text.removeprefix("\ufeff")


#: Inserted at every offset of a few manifests: TOML's syntax, what rtoml or tomli refuse, what
#: TOML 1.1 added, and the four kinds of text that go to tomli.
INSERTS = [
    *"\"'[]{}=,.#\n\t\\ 0123-:Ze+_xuUT", "\x00", "\x7f", "\x0c", "\x08", "\r", "\r\n", "\ufeff", "\u00e9", "\u2028",
    '"""', "'''", "\\\n", "a=1\n", "[a]\n", "[[a]]\n", "\\e", "\\x4", "\\x41", "1e400", "nan", "-nan", "inf", "true",
    "0x", "0o", "0b", "07:32", "07:32:00", "1979-05-27", "T07:32Z", "+01:00", ".5", "9" * 40, "{a.b = 1}", "[{}]",
]


def mutations(text: str) -> Iterator[str]:
    """Each character deleted, doubled and swapped with the next, and each insert at every offset."""
    for i in range(len(text) + 1):
        yield text[:i] + text[i + 1:]
        yield text[:i] + text[i:i + 1] * 2 + text[i + 1:]
        yield text[:i] + text[i:i + 2][::-1] + text[i + 2:]
        for insert in INSERTS:
            yield text[:i] + insert + text[i:]


#: Lines from which every short document is made: headers over each other's paths, dotted keys
#: and inline tables into the same tables, arrays of tables (where rtoml's bugs are).
LINES = [
    "[a]", "[b]", "[a.b]", "[a.b.c]", "[b.a]", "[[a]]", "[[a.b]]", "[[a.b.c]]", "[[b]]",
    "a = 1", "a.b = 1", "a.b.c = 1", "b = 1", "b.c = 1", "a = {}", "a = {b = 1}", "a = [{}]", "a.b = {}",
    "b.a = [{b = 1}]", "c = 1", "b = {a.b = 1}",
]

#: Known-tricky documents, each with why (see the module docs and docs/performance.md).
TRICKY = [
    # types: dates, times, offsets, special floats, integers past 64 (and 128) bits
    "a = 1979-05-27", "a = 07:32:00.123456789", "a = 1979-05-27T07:32:00", "a = 1979-05-27 07:32:00.999999",
    "a = 1979-05-27T07:32:00Z", "a = 1979-05-27T07:32:00-07:00", "a = 1979-05-27t07:32:00z", "a = 0001-01-01T00:00:00+23:59",
    "a = 1980-02-29", "a = 1979-02-29", "a = 23:59:60", "a = 1979-05-27T07:32:00.Z", "a = 0000-01-01",
    "a = inf", "a = -inf", "a = +inf", "a = nan", "a = -nan", "a = +nan", "a = -0.0", "a = -0e0", "a = 1e-400", "a = 1e400",
    "a = -1e400", "a = 1.7976931348623157e308", "a = 5e-324", "a = 0.1e01", "a = 1_000.0_1",
    f"a = {2**63 - 1}", f"a = {2**63}", f"a = {-(2**63)}", f"a = {2**127 - 1}", f"a = {2**128}", f"a = {-(2**127) - 1}",
    "a = 0xffffffffffffffff", "a = 0x" + "f" * 33, "a = 0o" + "7" * 50, "a = 0b1" + "0" * 130, "a = " + "9" * 4301,
    # TOML 1.1 (tomli 2.5): newlines and trailing commas in inline tables, \e and \xHH, times without seconds
    "a = {b = 1,}", "a = {\nb = 1\n}", "a = {\n  b = 1, # c\n  c = [\n1,\n],\n}", 'a = "\\e"', 'a = "\\x41\\xff"',
    "a = 1979-05-27T07:32Z", "a = 07:32", "a = 1979-05-27 07:32", "a = {b=1\n,c=2}", "a = {,}", "a = {b=1,,}",
    # what tomli refuses
    "a = 1\na = 2", "[a]\n[a]", "[a]\nb = 1\n[a.b]", "a.b = 1\n[a]\nc = 1", "a = {b = 1, b = 2}", "a = {b.c = 1}\na.b.d = 2",
    "[[a]]\n[a]", "[a]\n[[a]]", "a = []\n[[a]]", "a.b = 1\na.b.c = 2", '"a" = 1\na = 2', '"\\u0061" = 1\na = 2',
    'a = "\\q"', 'a = "\\E"', 'a = "\\x"', 'a = "\\x4"', 'a = "\\uD800"', 'a = "\\U00110000"', 'a = "\x01"', "a = '\x7f'",
    "# \x00", "a = 1 # \x7f", "a = 1\r", 'a = """a\rb"""', "a = 01", "a = 00", "a = 0_1", "a = 1__0", "a = 1_", "a = 1.",
    "a = .1", "a = 1.e1", "a = 0X1", "a = 0x_1", "a = True", "a = 1979-13-01", "a = 24:00:00", "ñ = 1", "a = 1979-5-27",
    "a = 1979-05-27T07:32:00+24:00", "a = 1979-05-27T07:32:00+0100", "a=1\x0cb=2", "[\na]", "a = [,]", "[ [a]]", "[[a] ]",
    "\ufeffa = 1", "\ufeff\ufeffa = 1", "a = 1\n\ufeff", "\u00a0a = 1", "a\u3000= 1",
    # line ends, strings
    'a = """a\r\nb"""', "a = '''x\r\ny'''", 'a = """a\\\r\n  b"""', "a = 1\r\nb = 2\r\n", 'a = """\n\\   x"""',
    'a = """\\\n\n  x"""', "a = '''\n'''", 'a = """"""""', "a = ''''''''", 'a = "\\u0000"', 'a = "a\tb"', "a = '\u2028'",
    '"\ud800" = 1', 'a = "\ud800"', "a = '\udfff'",
    # key order: rtoml moves a table declared after one of its sub-tables, and accepts dotted keys into arrays of tables
    "z = 1\nb = 2\na = 3\n[y]\nq = 1\n[c]\nr = 1\n[y.p]\nx = 1\n[[arr]]\nk = 1\n[[arr]]\nj = 2\n[c.d]\n",
    "[a.b]\n[c]\n[a]", "[a.b]\nx = 1\n[c]\n[a]\ny = 1", "[[a.b]]\n[c]\n[a]", "[ a . b ]\n[c]\n\t[ a ]", '[a.b]\n[c]\n["a"]',
    "[[b.a]]\n[b]\na.x.y = 1", "[[b.a]]\n[b]\na.b = 1", "[b.c]\n[[b.a]]\n[b]", "[a.b.c]\n[a]\nb.d = 1", "[a.b.d]\n[a]\nb.c = 1",
    "[[a]]\n[a.b]\nx = 1\n[[a]]\n[a.b]", "a.b.c = 1\nd = 2\na.b.a = 3\na.x = 4", "[a]\nb.c = 1\n[a.b.d]",
    "a = '''\n[a.b]\n[a]\n'''", "[x]\n[[x.a]]\n[x]",
    # nesting: rtoml stops at 80 levels, tomli at 400
    "a = " + "[" * 80 + "]" * 80, "a = " + "[" * 81 + "]" * 81, "a = " + "[" * 400 + "]" * 400, "a = " + "[" * 401 + "]" * 401,
    "a = " + "{b=" * 120 + "1" + "}" * 120, "[" + ".".join("a" * 1 for _ in range(300)) + "]", ".".join(["a"] * 300) + " = 1",
]


# ------------------------------------------------------------------------------ equivalence


@needs_rtoml
def test_every_repository_file(parsers: Parsers) -> None:
    names = []
    for name, text in repository_texts():
        parsers.compare(text)
        names.append(name)
    assert len(names) > 60 and parsers.read_by_rtoml > 50


@needs_rtoml
def test_a_benchmark_corpus(parsers: Parsers, tmp_path: Path) -> None:
    for path in corpus.build(tmp_path, 2_000):
        parsers.compare(path.read_text("utf-8"))
    assert parsers.read_by_rtoml == 2_000  # none of them needs tomli


@needs_rtoml
@pytest.mark.parametrize("name", ["01-format-at-scale", "07-legal-domain", "13-invalid"])
def test_mutations_at_every_offset(parsers: Parsers, name: str) -> None:
    text = (REPO / "tests" / "scenarios" / f"{name}.toml").read_text("utf-8")
    for mutant in mutations(text):
        parsers.compare(mutant)
    lines = text.splitlines(keepends=True)
    for i, j in itertools.product(range(len(lines)), repeat=2):  # every line again, anywhere
        parsers.compare("".join(lines[:j] + [lines[i]] + lines[j:]))
    assert parsers.read_by_rtoml > parsers.compared // 3


@needs_rtoml
def test_every_short_document_of_headers_and_dotted_keys(parsers: Parsers) -> None:
    for count in (1, 2, 3):
        for lines in itertools.product(LINES, repeat=count):
            parsers.compare("\n".join(lines))
    assert parsers.read_by_rtoml > 1_000


@needs_rtoml
def test_random_documents_of_headers_and_dotted_keys(parsers: Parsers) -> None:
    rng = random.Random(14)
    names = ["a", "b", "c", "1", "a-b", "_", '"a"', "'b'", '"\\u0061"', '""']
    values = ["1", "{x = 1}", "{a.b = 1}", "{}", "[1]", "[{a = 1}]", "[]", "[[]]", '"s"', "{a = {b = 1}}",
              "{b = 1, c.d = 2}", "{\n a = 1,\n}", "1979-05-27", "07:32", "-0.0", "nan", "[{}, {a = [{}]}]", "'''\n[a]\n'''"]

    def path() -> str:
        separator = rng.choice([".", ".", " . "])
        return separator.join(rng.choice(names) for _ in range(rng.randint(1, 3)))

    def line() -> str:
        roll = rng.random()
        if roll < 0.22:
            return f"{rng.choice(['', ' '])}[{path()}]"
        if roll < 0.35:
            return f"[[{path()}]]"
        return f"{path()} = {rng.choice(values)}"

    for _ in range(int(15_000 * float(os.environ.get("POLICYLINT_FUZZ_SCALE", "1")))):
        parsers.compare("\n".join(line() for _ in range(rng.randint(1, 8))) + rng.choice(["", "\n"]))
    assert parsers.read_by_rtoml > 2_000


@needs_rtoml
def test_tricky_documents(parsers: Parsers) -> None:
    for text in TRICKY:
        parsers.compare(text)
        parsers.compare(f"x = 0\n[t]\n{text}\n")


@needs_rtoml
@fuzz(300)
@given(st.dictionaries(keys, toml_values, max_size=6), seeds)
def test_generated_documents(doc: dict[str, Any], seed: int | None) -> None:
    """Values of every TOML type, written as people write TOML (tests/test_fuzz.py's writer)."""
    with pytest.MonkeyPatch.context() as patch:
        Parsers(patch).compare(write_toml(doc, seed)[0])


TOKENS = ["a", "b", "1", "=", " = ", ".", "[", "]", "[[", "]]", "{", "}", ",", "\n", " ", '"', "'", '"""', "'''",
          "\\", "#", "07:32", "1979-05-27", "T", "Z", "+01:00", "nan", "inf", "-", "_", "e", "0x", "\t", "\r\n", "\\u0061"]


@needs_rtoml
@fuzz(1_000)
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join) | st.text(max_size=40))
def test_token_soup(text: str) -> None:
    """Text made of TOML's pieces, mostly not TOML: rtoml never accepts what tomli refuses."""
    with pytest.MonkeyPatch.context() as patch:
        Parsers(patch).compare(text)


@needs_rtoml
def test_nesting_rtoml_reads_is_far_below_tomli_s_limits() -> None:
    """rtoml reads 80 levels at most; tomli reads 400 even from a deep call stack (its
    refusal is a RecursionError, which depends on the stack), so rtoml never accepts what
    tomli would refuse for depth."""
    assert FAST is not None
    with pytest.raises(Exception):
        FAST("a = " + "[" * 81 + "]" * 81)
    deep = "a = " + "[" * 80 + "]" * 80

    def at_depth(levels: int) -> Any:
        return tomli.loads(deep) if levels == 0 else at_depth(levels - 1)

    assert same(at_depth(sys.getrecursionlimit() - 200), FAST(deep))


# ------------------------------------------------------------------------------ what goes to tomli, and why


#: Each kind of text routed to tomli, with a document where rtoml 0.14 would differ.
ROUTED = {
    "CRLF kept inside a multi-line string": 'a = """x\r\ny"""',
    "a byte-order mark accepted": "\ufeffa = 1",
    "its own tzinfo class": "a = 1979-05-27T07:32:00Z",
    "a table moved after a sibling": "[a.b]\n[c]\n[a]",
    "a dotted key accepted into an array of tables": "[[b.a]]\n[b]\na.x.y = 1",
}


@pytest.mark.parametrize("text", ROUTED.values(), ids=ROUTED.keys())
def test_text_rtoml_reads_differently_goes_to_tomli(text: str) -> None:
    assert toml._tomli_only(text)
    if _rtoml is None:
        return
    try:
        tomli_data: Any = tomli.loads(text)
    except tomli.TOMLDecodeError:
        tomli_data = None
    rtoml_data = _rtoml.deserialize(text)
    assert tomli_data is None or not same(rtoml_data, tomli_data)


@pytest.mark.skipif(_rtoml is None, reason="rtoml is not installed: nothing to show")
def test_rtoml_s_tzinfo_cannot_cross_to_a_worker() -> None:
    """Why offset datetimes go to tomli: ``--jobs`` pickles results, and rtoml's tzinfo cannot be."""
    value = _rtoml.deserialize("a = 1979-05-27T07:32:00+01:00")["a"]
    assert value == tomli.loads("a = 1979-05-27T07:32:00+01:00")["a"]
    with pytest.raises(Exception):
        pickle.dumps(value)


@pytest.mark.parametrize("text", [
    "a = 1979-05-27T07:32:00+01:00", "a = 07:32Z", "a = 1979-05-27T07:32:00.5-00:30", "a = 1979-05-27 07:32z",
    "a = 1\r\n", "x = 1\n\ufeff", "[a.b.c]\n[a.b]", "[a.b]\n[[a]]", ' [ a . b ]\n\t[a]', '["a".b]', "[a]\n'b'.c = 1\n['x']",
])
def test_the_gate_catches(text: str) -> None:
    assert toml._tomli_only(text)


@pytest.mark.parametrize("text", [
    "a = 1979-05-27", "a = 1979-05-27T07:32:00", "a = 07:32:00", "[a]\n[a.b]\n[c]\n[a.d]", "[[a]]\n[[a]]\n[b]",
    'a = "x"\n[a.b]\nc = "d"', "[evaluation]\nexamples = 1\n[evaluation.prompting]\nzero_shot = 0.5",
])
def test_the_gate_lets_ordinary_manifests_through(text: str) -> None:
    assert not toml._tomli_only(text)


# ------------------------------------------------------------------------------ when rtoml is used


def _fake_rtoml(monkeypatch: pytest.MonkeyPatch, version: str) -> Callable[[str], Any]:
    def deserialize(text: str, none_value: str | None = None) -> Any:
        raise AssertionError("not to be called")

    extension = types.SimpleNamespace(__version__=version, deserialize=deserialize)
    monkeypatch.setitem(sys.modules, "rtoml", types.SimpleNamespace(_rtoml=extension))
    monkeypatch.setitem(sys.modules, "rtoml._rtoml", extension)
    monkeypatch.setattr(sys, "version_info", (3, 11, 0))  # rtoml's Pythons, whichever runs the suite
    return deserialize


def test_only_a_verified_release_on_python_3_11(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLICYLINT_TOML", raising=False)
    deserialize = _fake_rtoml(monkeypatch, "0.14.2")
    assert toml._find_fast() is deserialize
    monkeypatch.setenv("POLICYLINT_TOML", "tomli")
    assert toml._find_fast() is None
    monkeypatch.delenv("POLICYLINT_TOML")
    monkeypatch.setattr(sys, "version_info", (3, 10, 14))
    assert toml._find_fast() is None
    monkeypatch.undo()
    _fake_rtoml(monkeypatch, "0.15.0")
    assert toml._find_fast() is None and toml.fast_parser() is None
    monkeypatch.setitem(sys.modules, "rtoml", None)  # not installed
    assert toml._find_fast() is None


def test_rtoml_is_looked_for_only_after_many_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLICYLINT_TOML", raising=False)
    deserialize = _fake_rtoml(monkeypatch, "0.14.0")
    monkeypatch.setattr(toml, "_calls", 0)
    monkeypatch.setattr(toml, "_fast", None)
    for _ in range(toml.FAST_AFTER - 1):
        toml.loads("a = 1")
    assert toml._fast is None
    toml.loads("a = 1")
    assert toml._fast is deserialize


def test_a_one_manifest_check_does_not_import_rtoml(tmp_path: Path) -> None:
    manifest = REPO / "examples" / "format-at-scale" / "mlproject.toml"
    code = (
        "import os, sys\n"
        "os._exit = sys.exit\n"
        "from policylint import toml\n"
        "from policylint.cli import main\n"
        f"sys.argv = ['policylint', 'check', '--today', '2026-12-01', {str(manifest)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(toml._calls, 'rtoml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    calls, imported = out.splitlines()[-1].split()
    assert imported == "False" and int(calls) < toml.FAST_AFTER // 2  # room for a larger pack


# ------------------------------------------------------------------------------ whole runs


@needs_rtoml
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_check_of_many_manifests_is_byte_identical(tmp_path: Path, jobs: str) -> None:
    root = tmp_path / "corpus"
    corpus.build(root, 400)
    odd = root / "odd"  # read by tomli even with rtoml on
    for name, text in [("crlf", 'schema_version = 1\r\n[project]\r\nname = """a\r\nb"""\r\n'),
                       ("offset", "schema_version = 1\n[project]\nname = 1979-05-27T07:32:00Z\n"),
                       ("late", "schema_version = 1\n[project.x]\n[task]\n[project]\nname = 'p'\n"),
                       ("deep", "schema_version = 1\nx = " + "[" * 100 + "]" * 100 + "\n"),
                       ("dup", "schema_version = 1\nschema_version = 1\n")]:
        (odd / name).mkdir(parents=True)
        (odd / name / "mlproject.toml").write_text(text, "utf-8", newline="")
    command = [sys.executable, "-m", "policylint", "check", str(root), "--format", "json", "-j", jobs, "--today", "2026-12-01"]

    def run(parser: str) -> bytes:
        env = {**os.environ, "POLICYLINT_TOML": parser}
        done = subprocess.run(command, capture_output=True, env=env, cwd=tmp_path)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout

    assert run("tomli") == run("")


def test_floats_compare_by_their_bits() -> None:
    assert not same(0.0, -0.0) and same(math.nan, float("nan")) and not same(math.nan, -math.nan)
    assert not same(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc), datetime.datetime(2020, 1, 1, tzinfo=_Utc()))
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1}) and not same(1, True) and not same(1, 1.0)


class _Utc(datetime.tzinfo):
    def utcoffset(self, dt: datetime.datetime | None) -> datetime.timedelta:
        return datetime.timedelta(0)
