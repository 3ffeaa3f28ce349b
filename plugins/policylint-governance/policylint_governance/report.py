"""``--format governance-csv``: one row per finding, for the governance board's spreadsheet.

A manifest without findings still gets a row, so the sheet lists every project. Cells that a
spreadsheet would read as a formula (starting with ``= + - @``) are prefixed with a quote.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from policylint.api import ManifestResult, ReportContext, Summary, Tally

COLUMNS = ("path", "proposal", "recommendation", "verdict", "rule", "severity", "line", "column", "waived", "message")


def render_csv(results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary:
    """Writes as the results arrive; returns the totals like every policylint reporter."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    tally = Tally()
    for result in results:
        tally.add(result)
        decision = result.decision
        manifest = [result.path, decision.proposal or "", decision.recommendation or "", decision.verdict]
        if not result.findings:
            writer.writerow([_cell(v) for v in manifest] + [""] * 6)
        for f in result.findings:
            row = [*manifest, f.rule, f.severity, f.line, f.column, "yes" if f.waived else "no", f.message]
            writer.writerow([_cell(v) for v in row])
    return tally.summary()


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and value != "-":  # "-" is standard input
        return "'" + value
    return value
