"""The SARIF, JUnit, GitHub, GitLab and Markdown reports, on the real results of the scenarios."""

from __future__ import annotations

import dataclasses
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pluggy
import pytest
import tomli

from conftest import REPO, SCENARIOS
from policylint import hookspecs
from policylint.engine import Engine
from policylint.findings import Decision, Finding, ManifestResult, Summary, Waiver
from policylint.reports import ReportContext, Tally, github, gitlab, junit, markdown, sarif
from policylint.reports.github import render_github
from policylint.reports.gitlab import render_gitlab
from policylint.reports.junit import render_junit
from policylint.reports.markdown import render_markdown
from policylint.reports.sarif import render_sarif

SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "shared/schemas/sarif-schema-2.1.0.json"
SCENARIO_FILES = sorted(SCENARIOS.glob("[0-9]*.toml"))
FORMATS = {
    "sarif": render_sarif,
    "junit": render_junit,
    "github": render_github,
    "gitlab": render_gitlab,
    "markdown": render_markdown,
}


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.fixture(scope="module")
def results(engine: Engine) -> dict[str, ManifestResult]:
    """Scenario file name -> its result, checked under the repository-relative path."""
    return {p.name: engine.check(relative(p), p.read_bytes()) for p in SCENARIO_FILES}


@pytest.fixture(scope="module")
def context(engine: Engine) -> ReportContext:
    return ReportContext("0.1.0", engine.rules)


def render(reporter: Callable[..., Summary], results: Iterable[ManifestResult], context: ReportContext) -> str:
    out = io.StringIO()
    summary = reporter(iter(list(results)), context, out)
    tally = Tally()
    for result in results:
        tally.add(result)
    assert summary == tally.summary()
    return out.getvalue()


def finding(rule: str = "FMT001", message: str = "a message", key: str = "volume", line: int = 3, column: int = 1,
            severity: Any = "error", waiver: Waiver | None = None,
            name: str = "format-volume-too-low") -> Finding:
    """A finding built by hand, for what the scenarios do not contain."""
    return Finding(rule, name, severity, message, key, line, column, waived=waiver is not None, waiver=waiver)


def manifest(path: str, *findings: Finding, evaluated: tuple[str, ...] = ("FMT001",)) -> ManifestResult:
    failed = any(f.severity == "error" and not f.waived for f in findings)
    decision = Decision("fine-tune", "error-handling", "fail" if failed else "pass")
    return ManifestResult(path, decision, findings, evaluated)


# --- every format -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_output_is_byte_identical_across_runs(name: str, engine: Engine, context: ReportContext) -> None:
    def run() -> str:
        fresh = [engine.check(relative(p), p.read_bytes()) for p in SCENARIO_FILES]
        return render(FORMATS[name], fresh, context)

    assert run() == run()


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_empty_run_renders_validly(name: str, context: ReportContext) -> None:
    text = render(FORMATS[name], [], context)
    assert text.endswith("\n")
    if name == "sarif":
        assert json.loads(text)["runs"][0]["results"] == []
    elif name == "junit":
        assert ET.fromstring(text).findall("testsuite") == []
    elif name == "gitlab":
        assert json.loads(text) == []
    elif name == "github":
        assert text == "0 manifests checked: 0 passed, 0 failed (0 errors, 0 warnings, 0 waived)\n"
    else:
        assert text.startswith("## policylint report\n")
        assert "No manifests were checked." in text


@pytest.mark.parametrize("module, name", [(sarif, "sarif"), (junit, "junit"), (github, "github"),
                                          (gitlab, "gitlab"), (markdown, "markdown")])
def test_each_module_registers_its_format(module: Any, name: str) -> None:
    manager = pluggy.PluginManager("policylint")
    manager.add_hookspecs(hookspecs)
    manager.register(module)
    manager.check_pending()
    assert manager.hook.policylint_report_formats() == [{name: FORMATS[name]}]


def test_reporters_consume_a_single_pass_iterator(results: dict[str, ManifestResult], context: ReportContext) -> None:
    for reporter in FORMATS.values():
        consumed = []
        reporter((consumed.append(r) or r for r in results.values()), context, io.StringIO())
        assert consumed == list(results.values())


# --- SARIF --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the official SARIF schema is not at {SARIF_SCHEMA}")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sarif_of(results: Iterable[ManifestResult], context: ReportContext) -> dict[str, Any]:
    return json.loads(render(render_sarif, results, context))


@pytest.mark.parametrize("name", [p.name for p in SCENARIO_FILES] + ["all", "none"])
def test_sarif_is_valid_against_the_official_schema(name: str, results: dict[str, ManifestResult],
                                                    context: ReportContext, sarif_validator: Any) -> None:
    chosen = list(results.values()) if name == "all" else [] if name == "none" else [results[name]]
    report = sarif_of(chosen, context)
    errors = sorted(sarif_validator.iter_errors(report), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    assert report["version"] == "2.1.0"
    assert len(report["runs"]) == 1


def test_sarif_edge_cases_are_schema_valid(context: ReportContext, sarif_validator: Any) -> None:
    odd = [
        manifest("/abs/dir with space/m.toml", finding(message="50% <b>&</b>\nnext")),
        manifest("./rel/m.toml", finding(waiver=Waiver("why", "who", "2027-01-31"))),
        manifest("C:/win/m.toml", finding(rule="ACME001", name="plugin-rule"), evaluated=()),
    ]
    report = sarif_of(odd, context)
    assert not list(sarif_validator.iter_errors(report))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in report["runs"][0]["results"]]
    assert uris == [
        {"uri": "file:///abs/dir%20with%20space/m.toml"},
        {"uri": "rel/m.toml", "uriBaseId": "%SRCROOT%"},
        {"uri": "file:///C%3A/win/m.toml"},
    ]
    assert "ruleIndex" not in report["runs"][0]["results"][2]  # a rule the context does not know


def test_sarif_describes_every_rule(context: ReportContext) -> None:
    run = sarif_of([], context)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "policylint"
    assert driver["version"] == "0.1.0"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(context.rules)
    for descriptor in rules:
        info = context.rules[descriptor["id"]]
        assert descriptor["name"] == info.name
        assert descriptor["shortDescription"]["text"] == info.title
        assert descriptor["fullDescription"]["text"] == " ".join(info.rationale.split())
        assert descriptor["fullDescription"]["text"] in descriptor["help"]["text"]
        assert info.title in descriptor["help"]["markdown"]
        assert descriptor["defaultConfiguration"]["level"] == info.severity
        properties = descriptor["properties"]
        assert properties["waivable"] == info.waivable
        assert properties["recommends"] == info.recommends
        assert info.id[:3] in properties["tags"]
        if info.recommends:
            assert info.recommends in descriptor["help"]["text"]


def test_sarif_results_point_at_the_findings(results: dict[str, ManifestResult], context: ReportContext) -> None:
    run = sarif_of(results.values(), context)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    expected = [(r.path, f) for r in results.values() for f in r.findings]
    assert len(run["results"]) == len(expected) > 0
    for item, (path, f) in zip(run["results"], expected):
        assert item["ruleId"] == f.rule
        assert rules[item["ruleIndex"]]["id"] == f.rule
        assert item["level"] == f.severity
        assert item["message"]["text"] == f.message
        location = item["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": path, "uriBaseId": "%SRCROOT%"}
        assert location["region"] == {"startLine": f.line, "startColumn": f.column}
        assert ("suppressions" in item) == f.waived


def test_sarif_carries_each_decision(results: dict[str, ManifestResult], context: ReportContext) -> None:
    properties = sarif_of(results.values(), context)["runs"][0]["properties"]["policylint"]
    assert properties["manifests"] == [
        {"path": r.path, "proposal": r.decision.proposal, "recommendation": r.decision.recommendation,
         "verdict": r.decision.verdict, "decided_by": r.decision.decided_by}
        for r in results.values()
    ]
    expected = tomli.loads((SCENARIOS / "expected.toml").read_text("utf-8"))
    # The rule that set each recommendation: the proposal's own recommendation has none.
    for entry in properties["manifests"]:
        recommendation = expected[Path(entry["path"]).name].get("recommendation")
        assert (entry["decided_by"] is None) == (recommendation in (None, entry["proposal"])), entry
    assert properties["summary"]["waived"] == 1


def test_sarif_waived_finding_is_an_accepted_suppression(results: dict[str, ManifestResult],
                                                         context: ReportContext) -> None:
    result = results["14-waived.toml"]
    (waived,) = [f for f in result.findings if f.waived]
    assert waived.rule == "FMT001" and waived.waiver is not None
    items = sarif_of([result], context)["runs"][0]["results"]
    (item,) = [i for i in items if i["ruleId"] == "FMT001"]
    reason, owner, expires = waived.waiver
    assert item["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": f"waived by {owner} until {expires}: {reason}"}
    ]
    assert all("suppressions" not in i for i in items if i["ruleId"] != "FMT001")


def _fingerprints(report: dict[str, Any]) -> list[str]:
    return [r["partialFingerprints"]["policylint/v1"] for r in report["runs"][0]["results"]]


def test_sarif_fingerprints_survive_moved_lines(engine: Engine, context: ReportContext) -> None:
    source = (SCENARIOS / "05-format-low-volume.toml").read_bytes()
    before = engine.check("svc/mlproject.toml", source)
    after = engine.check("svc/mlproject.toml", b"\n\n" + source)
    assert len(before.findings) == 3
    assert [f.line + 2 for f in before.findings] == [f.line for f in after.findings]
    old, new = sarif_of([before], context), sarif_of([after], context)
    assert _fingerprints(old) == _fingerprints(new)
    lines = [[r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in rep["runs"][0]["results"]]
             for rep in (old, new)]
    assert lines[0] != lines[1]


def test_sarif_fingerprints_are_distinct(results: dict[str, ManifestResult], context: ReportContext) -> None:
    prints = _fingerprints(sarif_of(results.values(), context))
    assert len(prints) == len(set(prints)) == sum(len(r.findings) for r in results.values())
    twice = manifest("m.toml", finding(rule="MAN002", line=3), finding(rule="MAN002", line=3, column=9), evaluated=())
    first, second = _fingerprints(sarif_of([twice], context))
    assert first != second
    other_file = manifest("n.toml", finding(rule="MAN002", line=3), evaluated=())
    assert _fingerprints(sarif_of([other_file], context))[0] not in (first, second)


def test_sarif_fingerprint_ignores_the_message(context: ReportContext) -> None:
    one = sarif_of([manifest("m.toml", finding(message="20,000 requests/day"))], context)
    two = sarif_of([manifest("m.toml", finding(message="30,000 requests/day"))], context)
    assert _fingerprints(one) == _fingerprints(two)


# --- JUnit --------------------------------------------------------------------------------------


def junit_of(results: Iterable[ManifestResult], context: ReportContext) -> ET.Element:
    return ET.fromstring(render(render_junit, results, context))


def test_junit_counts_match_the_findings(results: dict[str, ManifestResult], context: ReportContext) -> None:
    root = junit_of(results.values(), context)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [r.path for r in results.values()]
    for suite, result in zip(suites, results.values()):
        cases = suite.findall("testcase")
        extra = [f for f in result.findings if f.rule not in result.evaluated]
        errored = {f.rule for f in result.findings if f.severity == "error" and not f.waived}
        assert int(suite.get("tests", -1)) == len(cases) == len(result.evaluated) + len(extra)
        assert int(suite.get("failures", -1)) == len(suite.findall("testcase/failure"))
        assert int(suite.get("skipped", -1)) == len(suite.findall("testcase/skipped"))
        assert suite.get("errors") == "0"
        if result.evaluated:
            assert int(suite.get("failures", -1)) == len(errored)
            assert int(suite.get("skipped", -1)) == sum(f.waived for f in result.findings)
        assert all(c.get("classname") == result.path for c in cases)
        assert len({c.get("name") for c in cases}) == len(cases)
        verdict = suite.find("properties/property[@name='verdict']")
        assert verdict is not None and verdict.get("value") == result.decision.verdict


def test_junit_failure_text(results: dict[str, ManifestResult], context: ReportContext) -> None:
    result = results["02-knowledge-via-fine-tuning.toml"]
    (f,) = result.findings
    suite = junit_of([result], context).find("testsuite")
    assert suite is not None
    case = suite.find(f"testcase[@name='{f.rule} {f.name}']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == f.rule
    assert failure.get("message") == f.message
    assert failure.text == f"{result.path}:{f.line}:{f.column}: {f.message}"
    passing = suite.find("testcase[@name='RAG002 fine-tuning-for-hallucination']")
    assert passing is not None and list(passing) == []


def test_junit_invalid_manifest_has_a_failure_per_problem(results: dict[str, ManifestResult],
                                                          context: ReportContext) -> None:
    suite = junit_of([results["13-invalid.toml"]], context).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "2")
    names = [c.get("name") for c in suite.findall("testcase")]
    assert names == ["MAN002 invalid-manifest", "MAN002 invalid-manifest #2"]


def test_junit_and_markdown_name_the_deciding_rule(results: dict[str, ManifestResult], context: ReportContext) -> None:
    result = results["05-format-low-volume.toml"]
    assert result.decision.decided_by == "FMT001"  # the only firing rule that recommends (spec order)
    suite = junit_of([result], context).find("testsuite")
    assert suite is not None
    prop = suite.find("properties/property[@name='decided_by']")
    assert prop is not None and prop.get("value") == "FMT001"
    text = render(render_markdown, [result], context)
    assert "recommendation error-handling, decided by FMT001. Verdict fail: errors: FMT001." in text


def test_junit_waived_is_skipped_and_warning_passes(results: dict[str, ManifestResult],
                                                    context: ReportContext) -> None:
    result = results["14-waived.toml"]
    suite = junit_of([result], context).find("testsuite")
    assert suite is not None
    (waived,) = [f for f in result.findings if f.waived]
    assert waived.waiver is not None
    skipped = suite.find("testcase[@name='FMT001 format-volume-too-low']/skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        f"waived by {waived.waiver.owner} until {waived.waiver.expires}: {waived.waiver.reason}"
    )
    warning = suite.find("testcase[@name='DAT004 score-inconclusive']")
    assert warning is not None
    assert warning.find("failure") is None and warning.find("skipped") is None
    out = warning.find("system-out")
    assert out is not None and out.text is not None and "the 95% interval" in out.text
    assert (suite.get("failures"), suite.get("skipped")) == ("0", "1")


def test_junit_waiver_findings_get_testcases(context: ReportContext) -> None:
    result = manifest(
        "m.toml",
        finding(rule="WVR001", name="waiver-expired", key="waivers.0.rule"),
        finding(rule="WVR005", name="waiver-unused", key="waivers.1.rule", severity="warning"),
    )
    suite = junit_of([result], context).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    assert suite.find("testcase[@name='WVR001 waiver-expired']/failure") is not None
    assert suite.find("testcase[@name='WVR005 waiver-unused']/system-out") is not None


def test_junit_escapes_markup_and_control_characters(context: ReportContext) -> None:
    text = "a <b> & \"c\"\x01 ]]>"
    root = junit_of([manifest("x<&>.toml", finding(message=text))], context)
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == "a <b> & \"c\"\ufffd ]]>"
    assert root.find("testsuite").get("name") == "x<&>.toml"  # type: ignore[union-attr]


# --- GitHub -------------------------------------------------------------------------------------


def test_github_lines_for_a_failing_manifest(results: dict[str, ManifestResult], context: ReportContext) -> None:
    result = results["02-knowledge-via-fine-tuning.toml"]
    (f,) = result.findings
    message = f.message.replace("%", "%25")
    expected = [
        f"::error file={result.path},line={f.line},col={f.column},title={f.rule} {f.name}::{message}",
        f"{result.path}: proposal fine-tune -> recommend rag (decided by RAG001): fail (errors: RAG001)",
        "1 manifest checked: 0 passed, 1 failed (1 error, 0 warnings, 0 waived)",
    ]
    assert render(render_github, [result], context) == "\n".join(expected) + "\n"


def test_github_commands_per_severity(results: dict[str, ManifestResult], context: ReportContext) -> None:
    lines = render(render_github, [results["14-waived.toml"]], context).splitlines()
    assert lines[0].startswith("::warning file=tests/scenarios/14-waived.toml,line=20,col=1,title=DAT004 ")
    assert lines[1].startswith("::notice file=tests/scenarios/14-waived.toml,line=31,col=1,title=FMT001 ")
    assert lines[1].endswith("::80,000 requests/day is not above the 100,000 at which format fine-tuning pays off; "
                             "the validation with retries already in place is the cheaper fix, so keep it and drop "
                             "the fine-tune (waived by payments-ml until 2027-03-31: Launch in February ramps "
                             "volume to 300k/day; retry logic covers the gap until then.)")
    assert not lines[2].startswith("::")


def test_github_escaping(context: ReportContext) -> None:
    f = finding(rule="ACME001", name="odd,name: x", message="100% sure, key: a\nb\r", line=7, column=2)
    lines = render(render_github, [manifest("dir,a/b:c.toml", f, evaluated=())], context).splitlines()
    assert lines[0] == (
        "::error file=dir%2Ca/b%3Ac.toml,line=7,col=2,title=ACME001 odd%2Cname%3A x"
        "::100%25 sure, key: a%0Ab%0D"
    )
    assert github.escape_data("%\r\n:,") == "%25%0D%0A:,"
    assert github.escape_property("%\r\n:,") == "%25%0D%0A%3A%2C"


@pytest.mark.parametrize("raw", ["\x1b[2J", "\x07", "\u202e", "\u2028", "\u2066"])
def test_terminal_escapes_and_bidi_controls_never_reach_github_or_markdown(context: ReportContext, raw: str) -> None:
    f = finding(message=f"key a{raw}b: unknown", line=3, column=1)
    for renderer in (render_github, render_markdown):
        text = render(renderer, [manifest("m.toml", f, evaluated=())], context)
        assert raw not in text, renderer
        assert "key a\\" in text or "key a\\\\" in text, renderer  # shown escaped, not dropped


def test_github_annotates_up_to_its_limits_and_says_how_many_were_left_out(context: ReportContext) -> None:
    errors = tuple(finding(rule="FMT001", message=f"e{i}", line=i + 1) for i in range(12))
    warnings = tuple(finding(rule="PRM003", severity="warning", message=f"w{i}", line=i + 20) for i in range(3))
    lines = render(render_github, [manifest("m.toml", *errors, *warnings, evaluated=())], context).splitlines()
    annotated = [line for line in lines if line.startswith("::error ")]
    assert len(annotated) == 10 and annotated[-1].endswith("::e9")
    assert len([line for line in lines if line.startswith("::warning ")]) == 3  # warnings have their own budget
    assert "m.toml:11:1: FMT001 [error] e10" in lines and "m.toml:12:1: FMT001 [error] e11" in lines
    assert lines[-1] == (
        "::notice title=policylint::2 findings not annotated: GitHub shows at most 10 error, 10 warning and 10 "
        "notice annotations per step; every finding is in this step's log, and --format sarif uploads them all to "
        "code scanning"
    )


def test_preview_findings_are_marked_in_github_gitlab_and_junit(context: ReportContext) -> None:
    f = finding(rule="PRM005", severity="warning", message="evaluation.failures.mode is not declared")._replace(preview=True)
    result = manifest("m.toml", f, evaluated=("PRM005",))
    assert ",title=PRM005 format-volume-too-low (preview)::" in render(render_github, [result], context)
    (issue,) = json.loads(render(render_gitlab, [result], context))
    assert issue["description"].endswith(" [preview]")
    assert "[warning, preview]" in render(render_junit, [result], context)


def test_github_plain_lines_cannot_become_commands(context: ReportContext) -> None:
    lines = render(render_github, [manifest("::error::boom", evaluated=())], context).splitlines()
    assert not any(line.startswith("::") for line in lines)


# --- GitLab -------------------------------------------------------------------------------------


def gitlab_of(results: Iterable[ManifestResult], context: ReportContext) -> list[dict[str, Any]]:
    report = json.loads(render(render_gitlab, results, context))
    assert isinstance(report, list)
    return report


def test_gitlab_issues(results: dict[str, ManifestResult], context: ReportContext) -> None:
    issues = gitlab_of(results.values(), context)
    expected = [(r.path, f) for r in results.values() for f in r.findings if not f.waived]
    assert len(issues) == len(expected) > 0
    for issue, (path, f) in zip(issues, expected):
        assert issue["check_name"] == f.rule
        assert issue["description"] == f"{f.rule}: {f.message}"
        assert issue["location"] == {"path": path, "lines": {"begin": f.line}}
        if f.rule.startswith("MAN"):
            assert issue["severity"] == "critical"
        else:
            assert issue["severity"] == ("major" if f.severity == "error" else "minor")
    assert {i["check_name"]: i["severity"] for i in issues if i["check_name"] in ("MAN002", "RAG001", "FMT004")} == {
        "MAN002": "critical", "RAG001": "major", "FMT004": "minor"}
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)


def test_gitlab_leaves_out_waived_findings(results: dict[str, ManifestResult], context: ReportContext) -> None:
    issues = gitlab_of([results["14-waived.toml"]], context)
    assert [i["check_name"] for i in issues] == ["DAT004"]


def test_gitlab_fingerprints_match_sarif_and_stay_unique(context: ReportContext) -> None:
    twice = manifest("m.toml", finding(rule="MAN002"), finding(rule="MAN002", column=5), evaluated=())
    issues = gitlab_of([twice], context)
    assert len({i["fingerprint"] for i in issues}) == 2
    assert [i["fingerprint"] for i in issues] == _fingerprints(sarif_of([twice], context))


def test_gitlab_output_is_indented_json(results: dict[str, ManifestResult], context: ReportContext) -> None:
    text = render(render_gitlab, results.values(), context)
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_table_has_a_row_per_manifest(results: dict[str, ManifestResult], context: ReportContext) -> None:
    text = render(render_markdown, results.values(), context)
    expected = tomli.loads((SCENARIOS / "expected.toml").read_text("utf-8"))
    passed = sum(e["verdict"] == "pass" for e in expected.values())
    assert text.startswith(f"## policylint report\n\n{len(expected)} manifests checked: {passed} passed, "
                           f"{len(expected) - passed} failed")
    rows = [line for line in text.splitlines() if line.startswith("| tests/")]
    assert len(rows) == len(results)
    for row, result in zip(rows, results.values()):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[0] == result.path
        assert cells[1] == result.decision.proposal
        assert cells[3] == ("✅ pass" if result.passed else "❌ fail")
        if result.decision.recommendation:
            assert cells[2] == result.decision.recommendation


def test_markdown_sections_only_for_manifests_with_findings(results: dict[str, ManifestResult],
                                                            context: ReportContext) -> None:
    text = render(render_markdown, results.values(), context)
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert [h.split(" ", 3)[-1] for h in headings] == [r.path for r in results.values() if r.findings]
    assert "### ✅ pass tests/scenarios/01-format-at-scale.toml" not in text


def test_markdown_finding_with_rationale(results: dict[str, ManifestResult], context: ReportContext) -> None:
    result = results["02-knowledge-via-fine-tuning.toml"]
    text = render(render_markdown, [result], context)
    (f,) = result.findings
    rule = context.rules[f.rule]
    assert f"**{f.rule} {f.name}** (error) at {result.path}:{f.line}:{f.column}" in text
    assert f"<details><summary>Why {f.rule}: {rule.title}</summary>" in text
    assert rule.rationale.splitlines()[0] in text
    assert text.count("<details><summary>Why ") == 1  # the rationale, once (the other block is the decision path)
    assert text.count("<details>") == text.count("</details>") == 2


def test_markdown_escapes_pipes_newlines_and_html(context: ReportContext) -> None:
    hostile = finding(message="a | b\n<script>alert(1)</script> & *bold*")
    text = render(render_markdown, [manifest("dir|x/m.toml", hostile)], context)
    assert "| dir\\|x/m.toml |" in text
    assert "a \\| b<br>&lt;script&gt;alert(1)&lt;/script&gt; &amp; \\*bold\\*" in text
    assert "<script>" not in text
    table = [line for line in text.splitlines() if line.startswith("| dir")]
    assert len(table) == 1 and table[0].count(" | ") == 4


def test_markdown_escape_of_line_starts() -> None:
    assert markdown.escape("# not a heading") == "\\# not a heading"
    assert markdown.escape("- not a list") == "\\- not a list"
    assert markdown.escape("1. not a list") == "1\\. not a list"
    assert markdown.escape("0.85 stays") == "0.85 stays"


def test_rules_ignored_by_configuration_are_noted(context: ReportContext, sarif_validator: Any) -> None:
    ignoring = dataclasses.replace(context, ignored=("DAT004", "RAG001"))
    report = sarif_of([], ignoring)
    assert not list(sarif_validator.iter_errors(report))
    assert report["runs"][0]["properties"]["policylint"]["ignored"] == [
        {"rule": "DAT004", "waivable": True}, {"rule": "RAG001", "waivable": False}]
    note = "rules ignored by configuration: DAT004, RAG001 (not waivable)"
    assert f"note: {note}\n" in render(render_github, [], ignoring)
    assert f"> **Note:** {note}\n" in render(render_markdown, [], ignoring)


def test_markdown_embeds_the_decision_path_as_explain_draws_it(results: dict[str, ManifestResult],
                                                               context: ReportContext) -> None:
    from policylint.trail import mermaid_of_result

    result = results["05-format-low-volume.toml"]  # FMT001 decides in the claimed-case stage
    text = render(render_markdown, [result], context)
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == mermaid_of_result(result, context.rules)
    assert 'case["case: FMT001 fired"]' in block and "class case decided" in block
    assert "-->|decided by FMT001| verdict" in block
    assert 'retrieval["retrieval: passed"]' in block


def test_the_decision_path_leaves_out_rules_the_report_does_not_know(results: dict[str, ManifestResult],
                                                                      context: ReportContext) -> None:
    """A result may list rules a report's context does not describe (a plugin's check, a context
    made for some rules only): the drawing leaves them out instead of failing."""
    from policylint.trail import mermaid_of_result

    result = results["05-format-low-volume.toml"]
    partial = {rule: info for rule, info in context.rules.items() if rule != "RAG001"}
    block = mermaid_of_result(result, partial)
    assert "RAG001" not in block and "FMT001" in block
