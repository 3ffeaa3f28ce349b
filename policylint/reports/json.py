"""The JSON report of ``spec/policies.md``: fixed fields, sorted, byte-identical across runs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import pluggy

from policylint.findings import Finding, ManifestResult, Summary
from policylint.reports import ReportContext, Reporter, Tally

hookimpl = pluggy.HookimplMarker("policylint")
REPORT_VERSION = 1


def finding_dict(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rule": finding.rule,
        "name": finding.name,
        "severity": finding.severity,
        "message": finding.message,
        "recommends": finding.recommends,
        "key": finding.key,
        "line": finding.line,
        "column": finding.column,
        "waived": finding.waived,
    }
    if finding.waiver is not None:
        data["waiver"] = {"reason": finding.waiver[0], "owner": finding.waiver[1]}
    return data


def manifest_dict(result: ManifestResult) -> dict[str, Any]:
    decision = result.decision
    return {
        "path": result.path,
        "decision": {
            "proposal": decision.proposal,
            "recommendation": decision.recommendation,
            "verdict": decision.verdict,
        },
        "findings": [finding_dict(f) for f in result.findings],
    }


def _dump(value: Any, indent: int) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + " " * indent)


def render_json(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    """Streams one manifest object at a time; the layout equals ``json.dumps(report, indent=2)``."""
    tally = Tally()
    tool = {"name": "policylint", "version": context.tool_version}
    out.write('{\n  "version": %d,\n  "tool": %s,\n  "manifests": [' % (REPORT_VERSION, _dump(tool, 2)))
    first = True
    for result in results:
        tally.add(result)
        out.write(("\n    " if first else ",\n    ") + _dump(manifest_dict(result), 4))
        first = False
    summary = tally.summary()
    out.write(("]" if first else "\n  ]") + ',\n  "summary": ' + _dump(summary.__dict__, 2) + "\n}\n")
    return summary


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"json": render_json}
