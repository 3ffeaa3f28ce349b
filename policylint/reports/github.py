"""GitHub Actions workflow commands: an annotation per finding on the manifest's line.

``::error`` for an unwaived error, ``::warning`` for a warning, ``::notice`` for a waived
finding (its reason and owner appended). Then each manifest's decision and the summary as plain
log lines, as the text report words them. Values are escaped as the runner expects: ``%``,
CR and LF in the message; also ``:`` and ``,`` in properties. The plain lines hold no command
the runner would read (:func:`policylint.reports.text.log_line`). GitHub shows only the first
few annotations of each kind per step; the log keeps every line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TextIO

import pluggy

from policylint.errors import printable
from policylint.findings import Finding, ManifestResult, Summary
from policylint.reports import ReportContext, Reporter, Tally, waiver_note
from policylint.reports.text import closing_lines, format_decision, format_finding, log_line
from policylint.wording import plural

hookimpl = pluggy.HookimplMarker("policylint")


def escape_data(text: str) -> str:
    """The message of a workflow command: one line, no terminal escapes (ESC, BEL, bidi)."""
    return printable(text, keep_newlines=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value of a workflow command (``file=``, ``title=``...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_annotation(path: str, finding: Finding) -> str:
    """``::error file=...,line=...,col=...,title=RULE name::message``."""
    if finding.waived:
        command = "notice"
        message = f"{finding.message} ({waiver_note(finding)})"
    elif finding.baselined:
        command = "notice"
        message = f"{finding.message} (baselined: in the baseline)"
    else:
        command = "error" if finding.severity == "error" else "warning"
        message = finding.message
    properties = {
        "file": path,
        "line": str(finding.line),
        "col": str(finding.column),
        "title": f"{finding.rule} {finding.name}" + (" (preview)" if finding.preview else ""),
    }
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{command} {props}::{escape_data(message)}"


def _plain(line: str) -> str:
    """A log line that the runner must not read as a command (a path could start with ``::``,
    after white space the runner trims, and any text could hold ``##[``)."""
    return log_line(line.replace("\r", " ").replace("\n", " "))


#: Annotations GitHub shows per step and kind (it drops the rest silently); the job-wide limit
#: of 50 leaves room for other steps and for the closing notice.
ANNOTATIONS_PER_KIND = 10


def render_github(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    """Annotations up to GitHub's limits; every finding past them is still a plain log line, and
    one closing notice says how many were not annotated and where they are."""
    tally = Tally()
    budget = {"error": ANNOTATIONS_PER_KIND, "warning": ANNOTATIONS_PER_KIND, "notice": ANNOTATIONS_PER_KIND}
    left_out = 0
    for result in results:
        tally.add(result)
        for finding in result.findings:
            kind = "notice" if finding.waived or finding.baselined else finding.severity
            if budget[kind]:
                budget[kind] -= 1
                out.write(format_annotation(result.path, finding) + "\n")
            else:
                left_out += 1
                out.write(_plain(format_finding(result.path, finding)) + "\n")
        out.write(_plain(format_decision(result)) + "\n")
    summary = tally.summary()
    out.writelines(_plain(line) + "\n" for line in closing_lines(summary, context))
    if left_out:
        note = (
            f"{plural(left_out, 'finding')} not annotated: GitHub shows at most {ANNOTATIONS_PER_KIND} error, "
            f"{ANNOTATIONS_PER_KIND} warning and {ANNOTATIONS_PER_KIND} notice annotations per step; every finding "
            "is in this step's log, and --format sarif uploads them all to code scanning"
        )
        out.write(f"::notice title=policylint::{escape_data(note)}\n")
    return summary


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"github": render_github}
