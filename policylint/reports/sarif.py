"""The SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers.

One run; one rule descriptor per known rule, sorted by id; one result per finding. A waived
finding is a result with an accepted external suppression (the waiver's reason and owner), so
viewers show it as dismissed rather than dropping it; a baselined finding likewise, justified
"in the baseline FILE". ``--sarif-suppressed omit`` leaves both out of ``results`` (GitHub code
scanning lists suppressed results as open alerts), keeping every decision in the properties.
Each result carries a partial fingerprint built by :func:`policylint.baseline.fingerprint` from
path, rule, key and an occurrence index, never from the line or the message, so a finding keeps
its identity when lines move or numbers in the message change.
Each manifest's decision is in ``run.properties.policylint.manifests``.

The report streams: results are written as manifests arrive; the per-manifest decisions, which
come after them, are spooled meanwhile (in memory while small, in a temporary file beyond). Keys are sorted and nothing depends on the clock or the machine (a rule's source file is
left out: it is an absolute path).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import pluggy

from policylint.findings import Finding, ManifestResult, RuleInfo, Summary
from policylint.reports import ReportContext, Reporter, Tally, waiver_note

if TYPE_CHECKING:
    from policylint.spool import Writable

hookimpl = pluggy.HookimplMarker("policylint")

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#: The partialFingerprints key; bump the suffix if the recipe ever changes.
FINGERPRINT_KEY = "policylint/v1"
SRCROOT = "%SRCROOT%"

_DRIVE = re.compile(r"^[A-Za-z]:/")


def fingerprints(path: str, findings: Sequence[Finding]) -> list[str]:
    """A stable id per finding: sha256 of path, rule, key and occurrence index, 32 hex digits.

    Lines and messages are left out (lines move, messages quote numbers that change). When one
    rule fires twice at the same key, the occurrence index in report order tells them apart.
    """
    from policylint.baseline import fingerprint  # the one recipe, shared with the baseline

    seen: dict[tuple[str, str], int] = {}
    result = []
    for finding in findings:
        occurrence = seen.get((finding.rule, finding.key), 0)
        seen[(finding.rule, finding.key)] = occurrence + 1
        # A report does not hold the manifest's data: the occurrence stands in for the value.
        result.append(fingerprint(finding.rule, path, finding.key, f"#{occurrence}"))
    return result


def unwrap(text: str) -> str:
    """Hard-wrapped paragraphs as one line each, paragraphs separated by a blank line."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def artifact_location(path: str) -> dict[str, str]:
    """A relative path is relative to ``%SRCROOT%``; an absolute one becomes a ``file`` URI.

    A file name that is not UTF-8 (held as lone surrogates) is percent-encoded as its own bytes.
    """
    from urllib.parse import quote as _quote  # imported here: most runs never write this format

    def quote(text: str) -> str:
        try:
            return _quote(text, errors="surrogateescape")
        except UnicodeEncodeError:  # a surrogate no file system byte stands for
            return _quote(text, errors="backslashreplace")

    if path.startswith("/"):
        return {"uri": "file://" + quote(path)}
    if _DRIVE.match(path):
        return {"uri": "file:///" + quote(path)}
    while path.startswith("./"):
        path = path[2:]
    return {"uri": quote(path), "uriBaseId": SRCROOT}


def _level(severity: str) -> str:
    return "error" if severity == "error" else "warning"


def rule_descriptor(rule: RuleInfo) -> dict[str, Any]:
    rationale = unwrap(rule.rationale)
    advice = "Advisory: no alternative is recommended."
    if rule.recommends:
        advice = f"Recommended instead: {rule.recommends}."
    waivable = "It may be waived." if rule.waivable else "It may not be waived."
    properties: dict[str, Any] = {
        "pack": rule.pack,
        "recommends": rule.recommends,
        "tags": sorted({rule.id.rstrip("0123456789") or rule.id, "policylint"}),
        "waivable": rule.waivable,
    }
    if rule.framework:
        properties["framework"] = rule.framework
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rationale},
        "help": {
            "text": f"{rationale}\n\n{advice} {waivable}",
            "markdown": f"**{rule.title}**\n\n{rationale}\n\n{advice} {waivable}",
        },
        "defaultConfiguration": {"level": _level(rule.severity)},
        "properties": properties,
    }


def result_dict(path: str, finding: Finding, fingerprint: str, index: Mapping[str, int], baseline: str = "") -> dict[str, Any]:
    location = {
        "physicalLocation": {
            "artifactLocation": artifact_location(path),
            "region": {"startLine": max(finding.line, 1), "startColumn": max(finding.column, 1)},
        },
    }
    data: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _level(finding.severity),
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {"key": finding.key, "recommends": finding.recommends},
    }
    if finding.rule in index:
        data["ruleIndex"] = index[finding.rule]
    if finding.preview:
        data["properties"]["preview"] = True
    if finding.waived:
        justification = waiver_note(finding)
        data["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
    elif finding.baselined:
        justification = f"in the baseline {baseline}" if baseline else "in the baseline"
        data["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
    return data


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _write_object(out: Writable, members: Mapping[str, Any]) -> None:
    """``json.dumps(members, sort_keys=True)`` (as :func:`_dump`), byte for byte, except that a
    member may be a callable that writes its own value: a list too long to hold."""
    out.write("{")
    for i, key in enumerate(sorted(members)):
        value = members[key]
        out.write(("%s: " if not i else ", %s: ") % _dump(key))
        if callable(value):
            value(out)
        else:
            out.write(_dump(value))
    out.write("}")


def _manifest_settings(per_manifest: Mapping[str, Any]) -> Callable[[Writable], None]:
    """Writes ``{path: settings}`` for each manifest with settings of its own, sorted by path."""

    def write(out: Writable) -> None:
        out.write("{")
        separator = ""
        for path in sorted(per_manifest):
            if per_manifest[path]:
                out.write("%s%s: %s" % (separator, _dump(path), _dump(per_manifest[path])))
                separator = ", "
        out.write("}")

    return write


def render_sarif(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    """Streams: each finding's result is written as its manifest arrives; each manifest's
    decision is spooled (in memory while small, in a temporary file beyond) for the run's
    properties, which follow the results."""
    from policylint.spool import Spool  # imported here: most runs never write this format

    tally = Tally()
    rule_ids = sorted(context.rules)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    driver = {
        "name": "policylint",
        "version": context.tool_version,
        "rules": [rule_descriptor(context.rules[r]) for r in rule_ids],
    }
    out.write('{"$schema": %s, "version": %s, "runs": [\n' % (_dump(SARIF_SCHEMA), _dump(SARIF_VERSION)))
    out.write('{"tool": {"driver": %s}, "columnKind": "unicodeCodePoints", "results": [' % _dump(driver))
    separator = "\n"
    omit = context.sarif_suppressed == "omit"
    baseline = ", ".join(o.file for o in context.baseline)
    with Spool() as manifests:
        listed = ""
        for result in results:
            tally.add(result)
            decision = result.decision
            manifests.write(listed + _dump({
                "path": result.path,
                "proposal": decision.proposal,
                "recommendation": decision.recommendation,
                "verdict": decision.verdict,
                "decided_by": decision.decided_by,
            }))
            listed = ", "
            for finding, fingerprint in zip(result.findings, fingerprints(result.path, result.findings)):
                if omit and (finding.waived or finding.baselined):
                    continue  # --sarif-suppressed omit: code scanning would list it as an open alert
                out.write(separator + _dump(result_dict(result.path, finding, fingerprint, index, baseline)))
                separator = ",\n"
        summary = tally.summary()

        def write_manifests(out: Writable) -> None:
            out.write("[")
            manifests.copy_to(out)
            out.write("]")

        policylint: dict[str, Any] = {"manifests": write_manifests, "summary": summary._asdict()}
        if omit:
            policylint["suppressed"] = "omit"  # waived and baselined results left out of results
        if context.baseline:
            baselines = [o.as_dict() for o in context.baseline]
            policylint["baseline"] = baselines[0] if len(baselines) == 1 else baselines
        if context.waivers_ignored:
            policylint["waivers_ignored"] = True
        if context.ignored:
            policylint["ignored"] = [{"rule": r, "waivable": context.rules[r].waivable} for r in context.ignored]
        if context.settings is not None:
            settings: dict[str, Any] = dict(context.settings.top_level() or {})
            if context.settings.per_manifest:
                settings["manifests"] = _manifest_settings(context.settings.per_manifest)
            if settings:
                policylint["settings"] = functools.partial(_write_object, members=settings)
        out.write("\n], %s: {%s: " % (_dump("properties"), _dump("policylint")))
        _write_object(out, policylint)
        out.write("}}\n]}\n")
    return summary


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"sarif": render_sarif}
