"""The JUnit XML report, as Jenkins and GitLab read test results.

A ``<testsuite>`` per manifest (named by its path) and a ``<testcase>`` per evaluated rule
(``RULE name``): an unwaived error is a ``<failure>``, a waived finding is ``<skipped>``, a
warning passes with its text in ``<system-out>``. Findings of rules that were not evaluated
(MAN for an invalid manifest, WVR for waivers) get a testcase each; a repeated name gets
`` #2``, `` #3`` so every testcase name is unique in its suite. ``errors`` is always 0: a
policy finding is a failure, not a crash.

Suites are written as manifests arrive, so ``<testsuites>`` carries no totals; each
``<testsuite>`` has its own counts. Characters XML 1.0 forbids are replaced by U+FFFD.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TextIO

import pluggy

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

from policylint.findings import Finding, ManifestResult, Summary
from policylint.reports import ReportContext, Reporter, Tally, waiver_note

hookimpl = pluggy.HookimplMarker("policylint")

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _ILLEGAL_XML.sub("\ufffd", text)


def _location(path: str, finding: Finding) -> str:
    return f"{path}:{finding.line}:{finding.column}: {finding.message}"


def _waiver_text(finding: Finding) -> str:
    return "baselined: in the baseline" if finding.baselined and not finding.waived else waiver_note(finding)


def _testcase(suite: ET.Element, path: str, name: str, findings: list[Finding]) -> str:
    """Add one testcase for ``findings`` (all of one rule, possibly none); return its outcome."""
    import xml.etree.ElementTree as ET  # imported here: most runs never write this format
    case = ET.SubElement(suite, "testcase", {"classname": _clean(path), "name": _clean(name)})
    errors = [f for f in findings if not f.waived and not f.baselined and f.severity == "error"]
    waived = [f for f in findings if f.waived or f.baselined]  # accepted: a waiver or the baseline
    warnings = [f for f in findings if not f.waived and not f.baselined and f.severity != "error"]
    if errors:
        failure = ET.SubElement(case, "failure", {"message": _clean(errors[0].message), "type": errors[0].rule})
        failure.text = _clean("\n".join(_location(path, f) for f in errors))
        outcome = "failure"
    elif waived:
        ET.SubElement(case, "skipped", {"message": _clean(_waiver_text(waived[0]))})
        outcome = "skipped"
    else:
        outcome = "pass"
    notes = [f"{_location(path, f)} [warning{', preview' if f.preview else ''}]" for f in warnings]
    if errors or not waived:
        notes += [f"{_location(path, f)} [{_waiver_text(f)}]" for f in waived]
    if notes:
        ET.SubElement(case, "system-out").text = _clean("\n".join(notes))
    return outcome


def testsuite(result: ManifestResult, context: ReportContext) -> ET.Element:
    """One manifest's suite: its decision as properties, then a testcase per rule or finding."""
    import xml.etree.ElementTree as ET  # imported here: most runs never write this format
    path = result.path
    suite = ET.Element("testsuite", {"name": _clean(path)})
    properties = ET.SubElement(suite, "properties")
    decision = result.decision
    for key, value in (("proposal", decision.proposal), ("recommendation", decision.recommendation),
                       ("verdict", decision.verdict), ("decided_by", decision.decided_by)):
        ET.SubElement(properties, "property", {"name": key, "value": _clean(value or "")})
    evaluated = set(result.evaluated)
    by_rule: dict[str, list[Finding]] = {rule: [] for rule in result.evaluated}
    cases: list[tuple[str, list[Finding]]] = []
    for finding in result.findings:
        if finding.rule in evaluated:
            by_rule[finding.rule].append(finding)
        else:
            cases.append((f"{finding.rule} {finding.name}", [finding]))
    for rule in result.evaluated:
        info = context.rules.get(rule)
        name = info.name if info is not None else (by_rule[rule][0].name if by_rule[rule] else "")
        cases.append((f"{rule} {name}".strip(), by_rule[rule]))
    counts = {"failure": 0, "skipped": 0, "pass": 0}
    used: dict[str, int] = {}
    for name, findings in sorted(cases, key=lambda case: case[0]):
        used[name] = used.get(name, 0) + 1
        unique = name if used[name] == 1 else f"{name} #{used[name]}"
        counts[_testcase(suite, path, unique, findings)] += 1
    suite.attrib.update({
        "tests": str(len(cases)),
        "failures": str(counts["failure"]),
        "errors": "0",
        "skipped": str(counts["skipped"]),
    })
    return suite


def render_junit(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    import xml.etree.ElementTree as ET  # imported here: most runs never write this format
    tally = Tally()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="policylint">\n')
    for result in results:
        tally.add(result)
        suite = testsuite(result, context)
        ET.indent(suite, space="  ", level=1)
        out.write("  " + ET.tostring(suite, encoding="unicode") + "\n")
    out.write("</testsuites>\n")
    return tally.summary()


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"junit": render_junit}
