"""Every built-in report format, byte for byte, against golden files.

The golden files under ``tests/golden/reports/`` were written by the reporters as they were
before they streamed (Markdown held its whole report, SARIF a dict per manifest): rendering the
same results today must give the same bytes, for every format, from a list as from a one-pass
iterator, with spools (:mod:`policylint.spool`) in memory and on disk. The cases cover what
changes a report's shape: notes (settings, rules turned off, baselines, ``--no-waivers``),
baselined, waived and preview findings, SARIF's ``omit``, the text report's ``--quiet`` and
colours, hostile text, and the empty run.

``POLICYLINT_WRITE_GOLDEN=1 pytest tests/test_report_output.py`` writes them again; only do so
for a change of output that is meant, and say so in the commit.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, SCENARIOS
from policylint import spool
from policylint.baseline import Outcome
from policylint.config.provenance import RunSettings
from policylint.engine import Engine
from policylint.findings import Decision, Finding, ManifestResult, Summary, Waiver
from policylint.plugins import BUILTIN_PLUGINS
from policylint.reports import ReportContext, Reporter

GOLDEN = Path(__file__).parent / "golden" / "reports"
WRITE = os.environ.get("POLICYLINT_WRITE_GOLDEN") == "1"


def builtin_formats() -> dict[str, Reporter]:
    """Every format the built-in plugins register, by name."""
    formats: dict[str, Reporter] = {}
    for name in BUILTIN_PLUGINS:
        module = importlib.import_module(name)
        hook = getattr(module, "policylint_report_formats", None)
        if hook is not None:
            formats.update(hook())
    return formats


FORMATS = builtin_formats()


def scenario_results(engine: Engine) -> list[ManifestResult]:
    files = sorted(SCENARIOS.glob("[0-9]*.toml"))
    return [engine.check(p.relative_to(REPO).as_posix(), p.read_bytes()) for p in files]


def baselined(results: list[ManifestResult]) -> list[ManifestResult]:
    """The scenarios with the first unwaived error of every other failing manifest accepted by
    a baseline (as ``baseline.apply`` marks them; the verdict is left as it was)."""
    out = []
    for i, result in enumerate(results):
        findings = list(result.findings)
        for j, f in enumerate(findings):
            if i % 2 and f.severity == "error" and not f.waived:
                findings[j] = f._replace(baselined=True)
                break
        out.append(result._replace(findings=tuple(findings)))
    return out


def _finding(rule: str = "FMT001", message: str = "a message", key: str = "volume", line: int = 3,
             severity: str = "error", **extra: object) -> Finding:
    return Finding(rule, "format-volume-too-low", severity, message, key, line, 1, **extra)  # type: ignore[arg-type]


def edge_results() -> list[ManifestResult]:
    """What the scenarios lack: hostile text, odd paths, empty messages, repeats, previews."""
    waiver = Waiver("accepted | *for now*\nreally", "team <a>", "2027-01-31")
    fail = Decision("fine-tune", "error-handling", "fail", "FMT001")
    return [
        ManifestResult("/abs/dir with space/m.toml", fail, (_finding(message="50% <b>&</b>\nnext\x1b[31m"),), ("FMT001",)),
        ManifestResult("./rel/# m|x.toml", Decision("fine-tune", "error-handling", "pass"),
                       (_finding(waived=True, waiver=waiver), _finding(rule="DAT004", severity="warning", preview=True)),
                       ("DAT004", "FMT001")),
        ManifestResult("C:/win/m.toml", fail, (_finding(rule="ACME001", key="x"), _finding(rule="ACME001", key="x"),
                                               _finding(line=0, message="- 1. list")), ()),
        ManifestResult("bad.toml", Decision(None, None, "fail"), (_finding(rule="MAN001", message="", key="", line=1),), ()),
        # Last, with nothing after its empty message (no rationale, no decision path): the
        # Markdown report ends on its finding's first line.
        ManifestResult("z/empty-message.toml", fail, (_finding(message="", rule="ACME002"),), ()),
    ]


def contexts(engine: Engine, results: list[ManifestResult]) -> dict[str, ReportContext]:
    """The plain context knows every rule; the others only those evaluated, fired or turned off
    (SARIF describes every rule it knows: once is enough for the golden files)."""
    full = ReportContext("0.1.0", engine.rules)
    used = {f.rule for r in results for f in r.findings} | {e for r in results for e in r.evaluated} | {"DAT004", "RAG001"}
    plain = dataclasses.replace(full, rules={k: v for k, v in engine.rules.items() if k in used})
    outcome = Outcome("baseline.toml", stale=["gone.toml: FMT001 at volume = 3"],
                      not_applied=["x.toml: RAG001 at data = null (not waivable)"], baselined=4)
    per_manifest = RunSettings(None, {
        "tests/scenarios/01-format-at-scale.toml": {"fail_on": {"value": "warning", "origin": "a/policylint.toml:1"}},
        "tests/scenarios/05-format-low-volume.toml": {
            "params": {"quality_bar": {"value": 0.9, "origin": "org.toml:2"}}},
    }, [{"path": "vendor/m.toml", "origin": "policylint.toml:3"}])
    rich = dataclasses.replace(plain, ignored=("DAT004", "RAG001"), settings=per_manifest, baseline=(outcome,),
                               waivers_ignored=True)
    shared = RunSettings({"fail_on": {"value": "warning", "origin": "policylint.toml:1"}})
    return {
        "full": full,
        "plain": plain,
        "rich": rich,
        "two-baselines": dataclasses.replace(plain, baseline=(outcome, Outcome("other.toml")), settings=shared),
        "omit": dataclasses.replace(rich, sarif_suppressed="omit"),
        "quiet": dataclasses.replace(rich, quiet=True),
        "color": dataclasses.replace(plain, color=True),
    }


def cases(engine: Engine) -> dict[str, tuple[list[ManifestResult], ReportContext]]:
    scenarios = scenario_results(engine)
    accepted = baselined(scenarios)
    ctx = contexts(engine, scenarios)
    return {
        "scenarios": (scenarios, ctx["full"]),
        "scenarios-rich": (accepted, ctx["rich"]),
        "edge-two-baselines": (edge_results(), ctx["two-baselines"]),
        "scenarios-omit": (accepted, ctx["omit"]),
        "scenarios-quiet": (accepted, ctx["quiet"]),
        "scenarios-color": (scenarios, ctx["color"]),
        "edge": (edge_results(), ctx["full"]),
        "edge-rich": (edge_results(), ctx["rich"]),
        "empty": ([], ctx["plain"]),
        "empty-rich": ([], ctx["rich"]),
        "passing-only": ([r for r in scenarios if r.passed and not r.findings], ctx["plain"]),
    }


CASES = ["scenarios", "scenarios-rich", "edge-two-baselines", "scenarios-omit", "scenarios-quiet",
         "scenarios-color", "edge", "edge-rich", "empty", "empty-rich", "passing-only"]
#: Cases that change only some formats' output are rendered in those alone.
ONLY = {"scenarios-omit": ("sarif",), "scenarios-quiet": ("text",), "scenarios-color": ("text",)}
PAIRS = [(fmt, case) for case in CASES for fmt in ONLY.get(case, sorted(FORMATS))]


def render(reporter: Callable[..., Summary], results: Iterator[ManifestResult] | list[ManifestResult],
           context: ReportContext) -> tuple[str, Summary]:
    out = io.StringIO(newline="")  # no newline translation: the reporter's exact characters
    summary = reporter(results, context, out)
    return out.getvalue(), summary


@pytest.fixture(scope="module")
def all_cases(engine: Engine) -> dict[str, tuple[list[ManifestResult], ReportContext]]:
    built = cases(engine)
    assert sorted(built) == sorted(CASES)
    return built


@pytest.mark.parametrize("spooled", ["in memory", "on disk"])
@pytest.mark.parametrize("fmt, case", PAIRS)
def test_output_matches_the_golden_file(fmt: str, case: str, spooled: str, monkeypatch: pytest.MonkeyPatch,
                                        all_cases: dict[str, tuple[list[ManifestResult], ReportContext]]) -> None:
    """Byte for byte, whether the formats that spool (Markdown, SARIF) keep it in memory or
    move it to a temporary file at once."""
    if spooled == "on disk":
        monkeypatch.setattr(spool, "MEMORY_LIMIT", 0)
    results, context = all_cases[case]
    from_list, summary = render(FORMATS[fmt], results, context)
    from_iterator, again = render(FORMATS[fmt], iter(list(results)), context)
    assert from_iterator == from_list and again == summary
    golden = GOLDEN / f"{case}.{fmt}"
    if WRITE and spooled == "in memory":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(from_list.encode("utf-8", "surrogatepass"))
    assert from_list.encode("utf-8", "surrogatepass") == golden.read_bytes()


def test_every_builtin_format_is_covered() -> None:
    assert sorted(FORMATS) == ["github", "gitlab", "json", "junit", "markdown", "sarif", "text"]
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(f"{case}.{fmt}" for fmt, case in PAIRS)


_ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["", "\ud800", "a\udcff b", '"\\\n\t\x00\x7f', "\u2028é✓"]
)
_SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | _ANY_TEXT


@st.composite
def _results(draw: st.DrawFn) -> ManifestResult:
    """Results with every field a finding may carry, including what only a plugin would put there."""
    def finding() -> Finding:
        waiver = draw(st.none() | st.builds(Waiver, _ANY_TEXT, _ANY_TEXT, _ANY_TEXT))
        return Finding(
            draw(_ANY_TEXT), draw(_ANY_TEXT), draw(st.sampled_from(["error", "warning"])), draw(_ANY_TEXT), draw(_ANY_TEXT),
            draw(st.integers() | _SCALAR), draw(st.integers()), draw(st.none() | _ANY_TEXT), draw(st.booleans()), waiver,
            draw(st.booleans()), draw(st.booleans()),
        )

    findings = tuple(finding() for _ in range(draw(st.integers(0, 3))))
    decision = Decision(draw(st.none() | _ANY_TEXT), draw(st.none() | _ANY_TEXT), draw(st.sampled_from(["pass", "fail"])),
                        draw(st.none() | _ANY_TEXT))
    return ManifestResult(draw(_ANY_TEXT), decision, findings)


@settings(max_examples=400, deadline=None)
@given(_results(), st.none() | st.dictionaries(_ANY_TEXT, st.dictionaries(_ANY_TEXT, _SCALAR, max_size=2), max_size=2))
def test_a_manifest_line_is_what_json_dumps_writes(result: ManifestResult, own: dict | None) -> None:
    """The JSON report writes each manifest without building its dict; the text must be the
    one ``json.dumps`` makes of the dict, whatever a finding holds (a plugin may put anything)."""
    from policylint.reports.json import _dump, manifest_dict, manifest_json

    expected = manifest_dict(result)
    if own:
        expected["settings"] = own
    assert manifest_json(result, own) == _dump(expected)
