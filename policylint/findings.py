"""Values that cross module boundaries: a finding, a decision, a manifest's result.

Named tuples rather than frozen dataclasses: as immutable, but several times cheaper to define
(every start-up pays for it), to create (thousands per run) and to pickle (``--jobs``).
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

Severity = Literal["error", "warning"]

#: Rules no configuration can turn off: without them a broken manifest or waiver would pass.
ALWAYS_ON = ("MAN", "WVR001", "WVR002", "WVR003", "WVR004")

#: Everything a decision may recommend.
RECOMMENDATIONS = (
    "prompting",
    "rag",
    "collect-data",
    "error-handling",
    "frontier-api",
    "fine-tune",
    "distill",
)


def _natural(text: str) -> tuple[str | int, ...]:
    """``"item 10: x"`` -> ``("item ", 10, ": x")``: digits compare as numbers."""
    parts = _DIGITS.split(text)
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


_DIGITS = re.compile(r"(\d+)")


class Waiver(NamedTuple):
    """The waiver that accepted a finding, as reports show it."""

    reason: str
    owner: str
    expires: str  # ISO date, the last day it holds


class Finding(NamedTuple):
    """One rule's verdict on one manifest, located at the key it points at."""

    rule: str
    name: str
    severity: Severity
    message: str
    key: str
    line: int = 1
    column: int = 1
    recommends: str | None = None
    waived: bool = False
    #: The waiver that accepted it, for reports.
    waiver: Waiver | None = None
    #: Its rule is newer than the adopted version of its pack (``pack-versions``): a warning
    #: that never fails the verdict nor sets the recommendation.
    preview: bool = False
    #: Accepted by the baseline (``--baseline``): it does not fail the verdict, reports mark it.
    baselined: bool = False

    def sort_key(self) -> tuple[int, str, int, tuple[str | int, ...]]:
        """Findings are sorted by line, then rule id (the spec); column and text break ties,
        numbers in the text by value (``item 2`` before ``item 10``)."""
        return (self.line, self.rule, self.column, _natural(self.message))


class Decision(NamedTuple):
    """What the proposal was, what the analysis recommends, and whether the gate passes."""

    proposal: str | None
    recommendation: str | None
    verdict: Literal["pass", "fail"]
    #: The first firing rule in decision order (waived or not), which set the recommendation.
    decided_by: str | None = None


class ManifestResult(NamedTuple):
    """The outcome for one manifest file."""

    path: str
    decision: Decision
    findings: tuple[Finding, ...] = ()
    #: Ids of the policies that were evaluated (none for an invalid manifest), sorted.
    evaluated: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.decision.verdict == "pass"


class Summary(NamedTuple):
    """Totals over a run, as the JSON report's ``summary`` object."""

    manifests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    warnings: int = 0
    waived: int = 0


class RuleInfo(NamedTuple):
    """What reports and ``policylint rule`` show of a rule, whichever pack defines it."""

    id: str
    name: str
    title: str
    severity: Severity
    waivable: bool
    rationale: str
    recommends: str | None = None
    applies_to: str = "any"
    framework: str | None = None
    pack: str = "policylint"
    source: str | None = None  # the policy file, when the rule is declarative
    #: Its place in the decision order (None: it never sets the recommendation).
    order: int | None = None
