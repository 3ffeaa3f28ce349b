"""The JSON report of ``spec/policies.md``: fixed fields, sorted, byte-identical across runs."""

from __future__ import annotations

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
        waiver = finding.waiver
        data["waiver"] = {"reason": waiver.reason, "owner": waiver.owner, "expires": waiver.expires}
    if finding.preview:  # only when true: reports without preview rules stay byte-identical
        data["preview"] = True
    if finding.baselined:  # only when true, likewise for runs without a baseline
        data["baselined"] = True
    return data


def manifest_dict(result: ManifestResult) -> dict[str, Any]:
    decision = result.decision
    return {
        "path": result.path,
        "decision": {
            "proposal": decision.proposal,
            "recommendation": decision.recommendation,
            "verdict": decision.verdict,
            "decided_by": decision.decided_by,
        },
        "findings": [finding_dict(f) for f in result.findings],
    }


def _dump(value: Any) -> str:
    # No indent: only then does json use its C encoder, several times faster on large runs.
    # Imported here, like every format's own needs: a run pays only for the format it writes.
    import json

    return json.dumps(value, ensure_ascii=False)


def render_json(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    """Streams the report, one manifest object per line, so memory does not grow with the run."""
    tally = Tally()
    tool = {"name": "policylint", "version": context.tool_version}
    out.write('{"version": %d, "tool": %s, "manifests": [' % (REPORT_VERSION, _dump(tool)))
    separator = "\n"
    settings = context.settings
    for result in results:
        tally.add(result)
        data = manifest_dict(result)
        own = settings.of(result.path) if settings is not None else None
        if own:  # present only when this manifest's settings differ from the built-in defaults
            data["settings"] = own
        out.write(separator + _dump(data))
        separator = ",\n"
    summary = tally.summary()
    out.write("\n]")
    if context.ignored:  # present only when configuration turned rules off
        ignored = [{"rule": r, "waivable": context.rules[r].waivable} for r in context.ignored]
        out.write(', "ignored": %s' % _dump(ignored))
    shared = settings.top_level() if settings is not None else None
    if shared:  # present only when something differs from the built-in defaults
        out.write(', "settings": %s' % _dump(shared))
    if context.baseline:  # present only when a baseline was applied: its file, stale entries
        baseline = [o.as_dict() for o in context.baseline]
        out.write(', "baseline": %s' % _dump(baseline[0] if len(baseline) == 1 else baseline))
    if context.waivers_ignored:  # check --no-waivers
        out.write(', "waivers_ignored": true')
    out.write(', "summary": %s}\n' % _dump(summary._asdict()))
    return summary


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"json": render_json}
