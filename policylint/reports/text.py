"""The text report: one ``path:line:col: RULE message`` line per finding, as editors parse.

Then each manifest's decision in one line and a summary line. Written as results arrive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TextIO

import pluggy

from policylint.errors import printable
from policylint.findings import Finding, ManifestResult, Summary
from policylint.reports import ReportContext, Reporter, Tally, verdict_reason
from policylint.wording import plural

hookimpl = pluggy.HookimplMarker("policylint")

_COLORS = {"error": "31", "warning": "33", "pass": "32", "fail": "31", "waived": "2", "bold": "1"}


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_COLORS[style]}m{text}\x1b[0m" if color else text


def log_line(line: str) -> str:
    """``line`` as a CI log shows it without reading a command in it.

    GitHub's runner takes any line of a step's output (the action prints this report to the log)
    that starts with ``::`` once leading white space is trimmed, or holds ``##[`` anywhere, as a
    workflow command: an annotation, a mask, ``stop-commands``. A path that would start one gets
    ``./`` before it (the same file), and ``##[`` is written ``##\\x5b``, as controls are escaped.
    """
    line = without_command_marker(line)
    return "./" + line if line.lstrip().startswith("::") else line


def without_command_marker(text: str) -> str:
    """``text`` with ``##[`` (which opens a GitHub runner command anywhere in a line) written
    ``##\\x5b``: for a table cell, escaped before the columns are padded."""
    return text.replace("##[", "##\\x5b") if "##[" in text else text


def format_finding(path: str, finding: Finding, color: bool = False) -> str:
    """``path:line:col: RULE [severity] message``; waived findings say who accepted them."""
    accepted = finding.waived or finding.baselined
    label = "waived" if finding.waived else "baselined" if finding.baselined else finding.severity
    text = f"{printable(path)}:{finding.line}:{finding.column}: {_paint(finding.rule, 'bold', color)} "
    preview = ", preview" if finding.preview else ""  # a rule newer than the pack version adopted
    text += f"[{_paint(label, 'waived' if accepted else finding.severity, color)}{preview}] {printable(finding.message)}"
    if finding.waiver is not None:
        text += f" (waived by {printable(finding.waiver.owner)} until {finding.waiver.expires})"
    return text


def format_decision(result: ManifestResult, color: bool = False) -> str:
    """``path: proposal fine-tune -> recommend rag (decided by RAG001): fail (errors: RAG001)``.

    The verdict says why: the unwaived findings that fail it, or the waivers that let it pass.
    """
    decision = result.decision
    verdict = _paint(decision.verdict, decision.verdict, color)
    path = printable(result.path)
    if decision.recommendation is None:
        return f"{path}: invalid manifest, not evaluated: {verdict} ({verdict_reason(result)})"
    decided = f" (decided by {decision.decided_by})" if decision.decided_by else ""
    reason = verdict_reason(result)
    return (
        f"{path}: proposal {decision.proposal} -> recommend {decision.recommendation}{decided}: {verdict}"
        + (f" ({printable(reason)})" if reason else "")
    )


def format_summary(summary: Summary) -> str:
    return (
        f"{plural(summary.manifests, 'manifest')} checked: {summary.passed:,} passed, {summary.failed:,} failed "
        f"({plural(summary.errors, 'error')}, {plural(summary.warnings, 'warning')}, {summary.waived:,} waived)"
    )


def closing_lines(summary: Summary, context: ReportContext, *, note: bool = True) -> list[str]:
    """What ends a log-style report: the notes on settings and on rules turned off, then the summary line."""
    notes = [context.settings_note(), context.ignored_note(), *context.run_notes()] if note else []
    return [printable(n) if n.startswith("warning: ") else f"note: {printable(n)}" for n in notes if n] + [format_summary(summary)]


def render_text(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    tally = Tally()
    for result in results:
        tally.add(result)
        if context.quiet and result.passed:
            continue
        # Quiet shows what fails the manifest: its unwaived errors, or, when only warnings do
        # (--fail-on warning), those warnings.
        failing = "error" if any(f.severity == "error" and not f.waived and not f.baselined for f in result.findings) else "warning"
        for finding in result.findings:
            if not (context.quiet and (finding.waived or finding.baselined or finding.severity != failing)):
                out.write(log_line(format_finding(result.path, finding, context.color)) + "\n")
        out.write(log_line(format_decision(result, context.color)) + "\n")
    summary = tally.summary()
    if not context.quiet or summary.failed:
        out.writelines(log_line(line) + "\n" for line in closing_lines(summary, context, note=not context.quiet))
    return summary


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"text": render_text}
