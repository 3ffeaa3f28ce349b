"""Report formats: each module renders results in one format and registers it as a plugin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TextIO

from policylint.findings import Finding, ManifestResult, RuleInfo, Summary, Waiver

if TYPE_CHECKING:
    from policylint.baseline import Outcome
    from policylint.config.provenance import RunSettings


@dataclass(frozen=True)
class ReportContext:
    """What every reporter may need besides the results."""

    tool_version: str
    rules: Mapping[str, RuleInfo]
    color: bool = False
    quiet: bool = False
    #: Rules the configuration turned off; reports say so, non-waivable ones above all.
    ignored: tuple[str, ...] = ()
    #: What differs from the built-in defaults, with origins, and the manifests excluded.
    settings: RunSettings | None = None
    #: What each baseline applied found (``--baseline``): its file, stale entries, ignored ones.
    baseline: tuple[Outcome, ...] = ()
    #: ``check --no-waivers``: every waiver was ignored for this (audit) run.
    waivers_ignored: bool = False
    #: SARIF: ``include`` waived and baselined results as suppressed ones, or ``omit`` them.
    sarif_suppressed: str = "include"

    def baseline_files(self) -> str:
        """The baseline file(s) applied, for ``in the baseline FILE``."""
        return ", ".join(o.file for o in self.baseline) or "baseline"

    def run_notes(self) -> list[str]:
        """Notes on the run itself: waivers ignored, what the baseline accepted, stale entries."""
        notes = ["waivers ignored (--no-waivers)"] if self.waivers_ignored else []
        for outcome in self.baseline:
            notes += outcome.notes()
        return notes

    def settings_note(self) -> str | None:
        """``settings: params.quality_bar = 0.9 (org config ...)``, or None when nothing changed."""
        return self.settings.note() if self.settings is not None else None

    def ignored_note(self) -> str | None:
        """``rules ignored by configuration: RAG001 (not waivable), DAT004``, or None."""
        if not self.ignored:
            return None
        names = [f"{r} (not waivable)" if not self.rules[r].waivable else r for r in self.ignored]
        return "rules ignored by configuration: " + ", ".join(names)


def waiver_note(finding: Finding) -> str:
    """``waived by OWNER until DATE: REASON``: who accepted a finding, until when, and why."""
    waiver = finding.waiver
    if waiver is None:
        return "waived"
    return f"waived by {waiver.owner} until {waiver.expires}: {waiver.reason}"


def verdict_reason(result: ManifestResult) -> str:
    """Why the verdict is what it is, in a few words; empty for a pass that needed no waiver."""
    if not result.passed:
        errors = _rule_ids(f for f in result.findings if f.severity == "error" and not f.waived and not f.baselined)
        if errors:
            return f"errors: {errors}"
        unaccepted = (f for f in result.findings if not f.waived and not f.baselined and not f.preview)
        return f"warnings: {_rule_ids(unaccepted)} (fail-on warning)"
    accepted: dict[str, Waiver] = {}
    for finding in result.findings:
        if finding.waived and finding.severity == "error" and finding.waiver is not None:
            accepted.setdefault(finding.rule, finding.waiver)
    reasons = [f"{rule} waived by {w.owner} until {w.expires}" for rule, w in accepted.items()]
    baselined = _rule_ids(f for f in result.findings if f.baselined and f.severity == "error")
    if baselined:
        reasons.append(f"{baselined} in the baseline")
    return "; ".join(reasons)


def _rule_ids(findings: Iterable[Finding]) -> str:
    return ", ".join(dict.fromkeys(f.rule for f in findings))


class Reporter(Protocol):
    """Renders results, consumed one manifest at a time, onto ``out``; returns the totals.

    Results arrive sorted by path. A reporter should write as it goes and keep nothing per
    manifest (a :class:`Tally`, counters), so a run over thousands of manifests does not hold
    them in memory. When the document needs first what is known only at the end (Markdown's
    summary above its table; SARIF's decisions, which close the run after its results), the
    part that grows is written to a :class:`policylint.spool.Spool` as results arrive and copied
    to ``out`` in its place.
    """

    def __call__(self, results: Iterable[ManifestResult], context: ReportContext, out: TextIO) -> Summary: ...


class Tally:
    """Counts results as they stream past, so reporters need not keep them."""

    def __init__(self) -> None:
        self.manifests = self.passed = self.errors = self.warnings = self.waived = 0

    def add(self, result: ManifestResult) -> ManifestResult:
        self.manifests += 1
        self.passed += result.passed
        for finding in result.findings:
            if finding.waived:
                self.waived += 1
            elif finding.severity == "error":
                self.errors += 1
            else:
                self.warnings += 1
        return result

    def summary(self) -> Summary:
        return Summary(self.manifests, self.passed, self.manifests - self.passed, self.errors, self.warnings, self.waived)
