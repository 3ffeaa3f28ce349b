"""No built-in report format keeps what it has rendered: its memory does not grow with the run.

Each format renders a generator of synthetic results (the scenarios checked by the real
engine, so failing, passing, waived, invalid and preview findings, some of them marked
baselined; each copy unpickled afresh, as ``--jobs`` delivers them, under its own path) onto a
sink that only hashes what it is given. ``tracemalloc`` measures the peak of traced memory
while N=500 and N=5,000 results stream past, after a warm-up run (first-use imports, compiled
patterns, caches); the difference is what the reporter keeps per manifest.

Formats whose document needs at its start what is known only at its end (Markdown's summary
and table; SARIF's run properties, which list every manifest's decision) write the part that
grows to a :class:`policylint.spool.Spool`. A spool holds at most its limit in memory and the
rest in an unnamed temporary file; the test lowers that limit so that both runs spill, leaving
only what a reporter holds outside its spools to show. ``test_the_spool_moves_to_disk_past_its_limit``
checks the spool itself with its real limit.
"""

from __future__ import annotations

import gc
import hashlib
import io
import pickle
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import REPO, SCENARIOS
from policylint import spool
from policylint.engine import Engine
from policylint.findings import ManifestResult
from policylint.reports import ReportContext, Reporter
from test_report_output import FORMATS

SMALL, LARGE = 500, 5_000
#: Growth of the peak allowed between SMALL and LARGE results, and why 1 MiB:
#: - a result a reporter kept costs about 2.8 KiB here (named tuples, strings, the findings and
#:   the evaluated rule ids, all unpickled afresh; the hoarding reporter below measures it, and
#:   fails the test if it drops under KEPT_AT_LEAST) and about 1.5 KiB in the benchmark's
#:   corpus: keeping the 4,500 more results would add 6 to 12 MiB;
#: - keeping anything per manifest, even one 240-byte string or small dict (a table row, a
#:   decision), adds over 1 MiB for 4,500 manifests;
#: - what legitimately differs between the two runs measured 100-170 KiB for every format: the
#:   interpreter's free lists (up to 2,000 tuples of each size, filled further by the longer
#:   run and emptied only by a full collection), allocator slack, a temporary file's buffers.
GROWTH_LIMIT = 1 << 20
KEPT_AT_LEAST = 2 * GROWTH_LIMIT // (LARGE - SMALL)


class HashSink(io.TextIOBase):
    """A text stream that keeps nothing: a hash and a count of what was written."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.digest.update(text.encode("utf-8", "surrogatepass"))
        self.chars += len(text)
        return len(text)


@pytest.fixture(scope="module")
def pickled(engine: Engine) -> list[bytes]:
    """The scenarios' results, every other failing one with a finding baselined, pickled."""
    results = []
    for i, path in enumerate(sorted(SCENARIOS.glob("[0-9]*.toml"))):
        result = engine.check(path.relative_to(REPO).as_posix(), path.read_bytes())
        findings = tuple(f._replace(baselined=True) if i % 2 and f.severity == "error" and not f.waived else f
                         for f in result.findings)
        results.append(result._replace(findings=findings))
    findings = [f for r in results for f in r.findings]
    assert any(f.baselined for f in findings) and any(f.waived for f in findings)
    assert any(r.passed for r in results) and any(r.decision.recommendation is None for r in results)
    return [pickle.dumps(r) for r in results]


def synthetic(pickled: list[bytes], n: int) -> Iterator[ManifestResult]:
    """``n`` results, sorted by path, each unpickled afresh (no two share an object)."""
    for i in range(n):
        result: ManifestResult = pickle.loads(pickled[i % len(pickled)])
        yield result._replace(path=f"team-{i // 1000:02d}/project-{i:05d}/mlproject.toml")


def peak(reporter: Reporter, results: Iterator[ManifestResult], context: ReportContext) -> tuple[int, HashSink]:
    """Peak traced memory above the start while ``reporter`` renders ``results``."""
    sink = HashSink()
    gc.collect()
    start = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    reporter(results, context, sink)
    return tracemalloc.get_traced_memory()[1] - start, sink


def growth(reporter: Reporter, pickled: list[bytes], context: ReportContext) -> tuple[int, int, int]:
    tracemalloc.start()
    try:
        peak(reporter, synthetic(pickled, SMALL), context)  # warm-up: imports, caches, patterns
        small, _ = peak(reporter, synthetic(pickled, SMALL), context)
        large, sink = peak(reporter, synthetic(pickled, LARGE), context)
    finally:
        tracemalloc.stop()
    return small, large, sink.chars


@pytest.fixture
def small_spools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool, "MEMORY_LIMIT", 64 << 10)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_memory_does_not_grow_with_the_results(fmt: str, pickled: list[bytes], engine: Engine,
                                               small_spools: None) -> None:
    context = ReportContext("0.1.0", engine.rules)
    small, large, written = growth(FORMATS[fmt], pickled, context)
    print(f"{fmt}: peak {small / 1024:.0f} KiB at {SMALL}, {large / 1024:.0f} KiB at {LARGE}, "
          f"{written / (1 << 20):.1f} M characters written")
    assert large - small < GROWTH_LIMIT, f"{fmt} keeps {(large - small) / (LARGE - SMALL):.0f} bytes per manifest"


def test_a_reporter_that_keeps_its_results_fails(pickled: list[bytes], engine: Engine) -> None:
    """The negative control: the measurement sees a reporter that holds the results."""
    json_reporter = FORMATS["json"]

    def hoarding(results: Iterator[ManifestResult], context: ReportContext, out: Any) -> Any:
        return json_reporter(list(results), context, out)

    small, large, _ = growth(hoarding, pickled, ReportContext("0.1.0", engine.rules))
    per_manifest = (large - small) / (LARGE - SMALL)
    print(f"a reporter that keeps its results: {per_manifest:.0f} bytes per manifest")
    assert large - small > GROWTH_LIMIT and per_manifest > KEPT_AT_LEAST, per_manifest


# --- the spool itself ---------------------------------------------------------------------------


def test_the_spool_moves_to_disk_past_its_limit() -> None:
    """With its real limit: what it holds in memory stays near the limit however much is written."""
    limit = spool.MEMORY_LIMIT
    count = 16 * limit // 1024
    expected = hashlib.sha256()
    tracemalloc.start()
    try:
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        with spool.Spool() as spooled:
            for i in range(count):
                line = f"{i:07d}" + "✅" * 1016 + "\n"  # a new string each time, two bytes a character
                spooled.write(line)
                expected.update(line.encode())
            assert spooled.on_disk
            sink = HashSink()
            spooled.copy_to(sink)
        held = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert sink.digest.hexdigest() == expected.hexdigest() and sink.chars == 1024 * count
    # The limit, a list of pointers to its strings and, while moving to disk, a file buffer;
    # copying out reads 64 Ki characters at a time (two bytes each here, three in the file's
    # UTF-8, and the reader's buffer): about 1 MiB whatever the limit, nowhere near the
    # 8 MiB written.
    assert held < limit * 1.1 + (1 << 20), held


@pytest.mark.parametrize("limit", [0, 5, 1 << 20])
def test_the_spool_gives_back_exactly_what_was_written(limit: int) -> None:
    parts = ["a\r\nb\rc\n", "", "é✅\U0001f600", "\udcff lone surrogate", "x" * 7]
    out = io.StringIO(newline="")
    with spool.Spool(limit) as spooled:
        for part in parts:
            spooled.write(part)
        assert spooled.on_disk == (limit < 20)
        spooled.copy_to(out)
        spooled.write("again")  # empty after a copy, and still usable
        again = io.StringIO()
        spooled.copy_to(again)
    assert out.getvalue() == "".join(parts) and again.getvalue() == "again"


def test_the_spool_closes_its_file_when_a_report_fails() -> None:
    with pytest.raises(RuntimeError), spool.Spool(0) as spooled:
        spooled.write("text")
        file = spooled._file
        assert file is not None and not file.closed
        raise RuntimeError("a reporter failed")
    assert file.closed and not spooled.on_disk


@pytest.mark.parametrize("fmt", ["markdown", "sarif"])
def test_formats_that_need_their_end_first_spool_it(fmt: str, pickled: list[bytes], engine: Engine,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    spilled: list[Any] = []
    real = spool.Spool._spill

    def spill(self: Any) -> None:
        real(self)
        spilled.append(self)

    monkeypatch.setattr(spool.Spool, "_spill", spill)
    monkeypatch.setattr(spool, "MEMORY_LIMIT", 1 << 10)
    FORMATS[fmt](synthetic(pickled, 50), ReportContext("0.1.0", engine.rules), HashSink())
    assert spilled and not any(s.on_disk for s in spilled)  # moved to disk, and closed at the end


def test_a_spool_is_a_text_stream_a_reporter_can_write_to(pickled: list[bytes], engine: Engine) -> None:
    """What ``cli`` needs to render a whole report before writing it (a reporter's ``out``)."""
    context = ReportContext("0.1.0", engine.rules)
    for limit in (0, 1 << 20):
        direct = io.StringIO(newline="")
        FORMATS["text"](synthetic(pickled, 20), context, direct)
        with spool.Spool(limit) as spooled:
            FORMATS["text"](synthetic(pickled, 20), context, spooled)
            print("a last line", file=spooled)
            spooled.flush()
            copied = io.StringIO(newline="")
            spooled.copy_to(copied)
        assert copied.getvalue() == direct.getvalue() + "a last line\n"
