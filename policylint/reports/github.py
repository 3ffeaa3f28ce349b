"""GitHub Actions workflow commands: an annotation per finding on the manifest's line.

``::error`` for an unwaived error, ``::warning`` for a warning, ``::notice`` for a waived
finding (its reason and owner appended). Then each manifest's decision and the summary as plain
log lines, as the text report words them. Values are escaped as the runner expects: ``%``,
CR and LF in the message; also ``:`` and ``,`` in properties. GitHub shows only the first few
annotations of each kind per step; the log keeps every line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TextIO

import pluggy

from policylint.errors import printable
from policylint.findings import Finding, ManifestResult, Summary
from policylint.reports import ReportContext, Reporter, Tally, waiver_note
from policylint.reports.text import closing_lines, format_decision

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
    else:
        command = "error" if finding.severity == "error" else "warning"
        message = finding.message
    properties = {
        "file": path,
        "line": str(finding.line),
        "col": str(finding.column),
        "title": f"{finding.rule} {finding.name}",
    }
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{command} {props}::{escape_data(message)}"


def _plain(line: str) -> str:
    """A log line that the runner must not read as a command (a path could start with ``::``)."""
    line = line.replace("\r", " ").replace("\n", " ")
    return " " + line if line.startswith("::") else line


def render_github(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    tally = Tally()
    for result in results:
        tally.add(result)
        out.writelines(format_annotation(result.path, finding) + "\n" for finding in result.findings)
        out.write(_plain(format_decision(result)) + "\n")
    summary = tally.summary()
    out.writelines(line + "\n" for line in closing_lines(summary, context))
    return summary


@hookimpl
def policylint_report_formats() -> Mapping[str, Reporter]:
    return {"github": render_github}
