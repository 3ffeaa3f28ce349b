"""GitLab Code Quality JSON: a list of issues for the merge-request widget.

Each issue has ``description`` (``RULE: message``), ``check_name`` (the rule id), ``severity``,
``location`` (path and begin line) and a ``fingerprint`` made as the SARIF report makes it
(path, rule, key, occurrence index; never line or message), so GitLab tracks an issue across
commits and no two issues share one.

Severity: ``critical`` for MAN findings (the manifest could not be evaluated at all),
``major`` for any other error, ``minor`` for a warning.

Waived findings are left out: Code Quality has no way to mark an issue accepted, and an
accepted finding listed as new would nag every merge request. The SARIF, JSON and JUnit reports
keep them. A baselined finding is listed, its description ending ``[baselined]``. The list streams as manifests arrive, indented two spaces with sorted keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import pluggy

from policylint.findings import Finding, ManifestResult, Summary
from policylint.reports import ReportContext, Reporter, Tally
from policylint.reports.sarif import fingerprints

hookimpl = pluggy.HookimplMarker("policylint")


def severity(finding: Finding) -> str:
    if finding.severity != "error":
        return "minor"
    return "critical" if finding.rule.startswith("MAN") else "major"


def issue_dict(path: str, finding: Finding, fingerprint: str) -> dict[str, Any]:
    marker = " [baselined]" if finding.baselined else ""  # listed, and marked accepted by the baseline
    marker += " [preview]" if finding.preview else ""  # a rule newer than the pack version adopted
    return {
        "description": f"{finding.rule}: {finding.message}{marker}",
        "check_name": finding.rule,
        "fingerprint": fingerprint,
        "severity": severity(finding),
        "location": {"path": path, "lines": {"begin": finding.line}},
    }


def render_gitlab(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    import json  # imported here: most runs never write this format
    tally = Tally()
    separator = "[\n"
    for result in results:
        tally.add(result)
        for finding, fingerprint in zip(result.findings, fingerprints(result.path, result.findings)):
            if finding.waived:
                continue
            issue = issue_dict(result.path, finding, fingerprint)
            text = json.dumps(issue, indent=2, sort_keys=True, ensure_ascii=False)
            # Indented at json's own line breaks only: textwrap.indent also breaks lines at U+2028,
            # U+2029 and U+0085, which json leaves as they are inside a string, and would add to it.
            out.write(separator + "  " + text.replace("\n", "\n  "))
            separator = ",\n"
    out.write("[]\n" if separator == "[\n" else "\n]\n")
    return tally.summary()


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"gitlab": render_gitlab}
