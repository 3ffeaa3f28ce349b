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


def _value(value: Any) -> str:
    """One scalar as :func:`_dump` writes it: strings through json's own (C) escaper."""
    if type(value) is str:
        return _escape(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return int.__repr__(value)
    return _dump(value)  # anything a plugin's finding may carry: json decides


def _finding_json(finding: Finding) -> str:
    """:func:`finding_dict` as :func:`_dump` would write it, without the dict: this runs for
    every finding of the run, and the JSON report is the CI format."""
    text = '{"rule": %s, "name": %s, "severity": %s, "message": %s, "recommends": %s, "key": %s, "line": %s, "column": %s, "waived": %s' % (
        _value(finding.rule), _value(finding.name), _value(finding.severity), _value(finding.message),
        _value(finding.recommends), _value(finding.key), _value(finding.line), _value(finding.column),
        _value(finding.waived),
    )
    if finding.waiver is not None:
        waiver = finding.waiver
        text += ', "waiver": {"reason": %s, "owner": %s, "expires": %s}' % (
            _value(waiver.reason), _value(waiver.owner), _value(waiver.expires)
        )
    if finding.preview:
        text += ', "preview": true'
    if finding.baselined:
        text += ', "baselined": true'
    return text + "}"


def manifest_json(result: ManifestResult, settings: Any = None) -> str:
    """``_dump(manifest_dict(result))``, with ``settings`` last when given (the same bytes,
    tested against it)."""
    decision = result.decision
    text = '{"path": %s, "decision": {"proposal": %s, "recommendation": %s, "verdict": %s, "decided_by": %s}, "findings": [%s]' % (
        _value(result.path), _value(decision.proposal), _value(decision.recommendation), _value(decision.verdict),
        _value(decision.decided_by), ", ".join(map(_finding_json, result.findings)),
    )
    if settings:
        text += ', "settings": ' + _dump(settings)
    return text + "}"


def _escaper() -> Any:
    from json.encoder import encode_basestring  # the C escaper json.dumps(ensure_ascii=False) uses

    return encode_basestring


_escape = _escaper()


def render_json(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    """Streams the report, one manifest object per line, so memory does not grow with the run."""
    tally = Tally()
    tool = {"name": "policylint", "version": context.tool_version}
    out.write('{"version": %d, "tool": %s, "manifests": [' % (REPORT_VERSION, _dump(tool)))
    separator = "\n"
    settings = context.settings
    for result in results:
        tally.add(result)
        # "settings" only when this manifest's settings differ from the built-in defaults.
        out.write(separator + manifest_json(result, settings.of(result.path) if settings is not None else None))
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
